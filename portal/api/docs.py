"""The OpenAPI schema and its Swagger UI: for signed-in users unless API_DOCS_PUBLIC.

The docs page is drf-spectacular's "split" view: its start-up script is a separate
same-origin URL (`?script`), so the page runs under a CSP with no inline script.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, permissions


class DocsAudience(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)


class SchemaView(SpectacularAPIView):
    permission_classes = [DocsAudience]


class DocsView(SpectacularSwaggerSplitView):
    permission_classes = [DocsAudience]

    def handle_exception(self, exc):
        # A person opening the page is sent to sign in and back; its script answers 401.
        if isinstance(exc, exceptions.NotAuthenticated) and "script" not in self.request.GET:
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
