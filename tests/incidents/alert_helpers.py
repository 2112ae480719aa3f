"""Shared by the alert ingestion tests: integrations made through the service and
documented payload samples."""

from __future__ import annotations

import json
from pathlib import Path

from django.urls import reverse

from incidents.alerts import integration_create

DATA = Path(__file__).parent / "data" / "alerts"


def sample(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def make_integration(kind="alertmanager", name=None, **options):
    from incidents.models import Channel

    # Seeded by a migration, but transactional tests flush it away.
    Channel.objects.get_or_create(code="MONITORING", defaults={"name": "Monitoring"})
    created = integration_create(kind=kind, name=name or f"{kind} test", **options)
    return created.integration, created.token


def make_token(kind="alertmanager", name=None, **options) -> str:
    return make_integration(kind, name, **options)[1]


def webhook_url(token: str) -> str:
    return reverse("alerts-webhook", args=[token])


def post_json(client, url, data, **extra):
    body = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(url, data=body, content_type="application/json", **extra)


def events_v2(client, token: str, name_or_body, **changes):
    body = sample(name_or_body) if isinstance(name_or_body, str) else dict(name_or_body)
    body["routing_key"] = token
    body.update(changes)
    return post_json(client, reverse("alerts-events-v2"), body)
