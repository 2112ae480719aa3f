"""Counters (the rate window, plain repeats) commit without waiting for the disk;
incidents, resolutions and timeline entries always wait, and the setting never
outlives the request (PostgreSQL, real transactions)."""

import pytest
from django.db import connection
from django.test import Client

from incidents import alerts
from incidents.models import AlertDedup, Incident
from tests.incidents.alert_helpers import make_token, post_json, sample, webhook_url


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_only_counters_skip_the_disk_flush(monkeypatch):
    seen = {}
    real_count, real_create = alerts._count_repeat, alerts.services.incident_create

    def count_spy(*args, **kwargs):
        seen.setdefault("count", []).append(synchronous_commit())
        return real_count(*args, **kwargs)

    def create_spy(**kwargs):
        seen.setdefault("create", []).append(synchronous_commit())
        return real_create(**kwargs)

    monkeypatch.setattr(alerts, "_count_repeat", count_spy)
    monkeypatch.setattr(alerts.services, "incident_create", create_spy)
    token = make_token("alertmanager")
    client = Client()
    payload = sample("alertmanager_probe_failure.json")
    assert post_json(client, webhook_url(token), payload).status_code == 200  # opens
    assert post_json(client, webhook_url(token), payload).status_code == 200  # repeat
    assert seen["create"] == ["on"]
    assert seen["count"][-1] == "off"  # the plain repeat
    assert synchronous_commit() == "on"  # nothing leaks into the next request
    assert Incident.objects.count() == 1
    assert AlertDedup.objects.get().triggers == 2
