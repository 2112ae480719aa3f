"""OpenAPI 3 schema at /api/schema/ without generation warnings (check --deploy fails on
them), and interactive docs at /api/docs/ whose scripts and styles are all local; both
for signed-in users only unless API_DOCS_PUBLIC is on."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/incidents/",
        "/api/incidents/{reference}/",
        "/api/incidents/{reference}/escalate/",
        "/api/escalations/{id}/decide/",
        "/api/policies/",
        "/api/reviews/{reference}/publish/",
        "/api/reviews/{reference}/markdown/",
        "/api/action-items/{id}/close/",
        "/api/metrics/",
        "/api/alerts/{token}/",
        "/api/alerts/v2/enqueue",
    ):
        assert path in paths, path
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    assert {"tokenAuth": []} in paths["/api/incidents/"]["get"]["security"]
    # The alert endpoints take no token: their secret is in the URL or the body.
    assert "security" not in paths["/api/alerts/v2/enqueue"]["post"]
    assert "security" not in schema
    # No raw status write: PATCH takes only the editable details.
    patch = schema["components"]["schemas"]["PatchedIncidentUpdateRequest"]["properties"]
    assert "status" not in patch and "severity" not in patch
    review_patch = schema["components"]["schemas"]["PatchedReviewUpdateRequest"]["properties"]
    assert "status" not in review_patch and "published_at" not in review_patch
    # The exports are documented in their own media types; the metrics as one object.
    markdown = paths["/api/reviews/{reference}/markdown/"]["get"]["responses"]["200"]
    assert list(markdown["content"]) == ["text/markdown"]
    metrics = paths["/api/metrics/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert metrics["schema"] == {"$ref": "#/components/schemas/Metrics"}
    # An incident's public status page state is the PublicStateEnum (seed 002-29), not a string.
    state = schema["components"]["schemas"]["Incident"]["properties"]["status_page_state"]
    assert {"$ref": "#/components/schemas/PublicStateEnum"} in state["oneOf"]


def test_schema_is_served_to_signed_in_users(client, agent):
    client.force_login(agent)
    answer = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert answer.status_code == 200
    assert answer.json()["info"]["title"] == "Escalation portal API"


def test_schema_is_served_to_token_clients(agent):
    from tests.api_client import token_client

    answer = token_client(agent).get("/api/schema/")
    assert answer.status_code == 200
    assert b"Escalation portal API" in answer.content


def test_schema_and_docs_need_a_sign_in_by_default(client):
    answer = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert answer.status_code == 401
    assert b"Escalation portal API" not in answer.content
    # A person opening the docs is sent to sign in, and back afterwards.
    answer = client.get("/api/docs/")
    assert answer.status_code == 302
    assert answer.url == "/login/?next=/api/docs/"
    answer = client.get("/api/docs/?script=")
    assert answer.status_code == 401
    assert b"SwaggerUIBundle" not in answer.content


def test_api_docs_public_opens_schema_and_docs(client, settings):
    settings.API_DOCS_PUBLIC = True
    answer = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert answer.status_code == 200
    assert answer.json()["info"]["title"] == "Escalation portal API"
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/docs/?script=").status_code == 200


def test_docs_page_loads_everything_from_our_own_static_files(client, agent):
    client.force_login(agent)
    answer = client.get("/api/docs/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "swagger" in html.lower()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assets = [s for s in sources if s.endswith((".js", ".css", ".png"))]
    assert assets, html
    for asset in assets:
        assert asset.startswith("/static/"), asset  # no CDN
        assert finders.find(asset.removeprefix("/static/")), asset
    assert "cdn" not in html.lower()
    # No inline script (the Content-Security-Policy would block it): Swagger UI's
    # start-up script is its own same-origin URL.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), html
    (start_script,) = [s for s in sources if "script=" in s]
    script = client.get(start_script.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content
    assert client.get("/api/").url == "/api/docs/"
