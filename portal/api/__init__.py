"""What every app's API (`<app>/api/`) shares: permissions as the web has them
(permissions.py), service errors as 400s (errors.py), cursor pagination
(pagination.py) and the OpenAPI error responses (schema.py).

Each app mounts its own router under /api/ in portal/urls.py: adding an app's API
is its `api/` package plus one `path("api/", include(...))` line.

Nothing is imported here: DRF imports the pagination class while it loads its
own views, so this package must stay light.
"""
