"""Concurrent first alerts for one key open one incident; the rest count on it
(PostgreSQL: the partial unique constraint on the open key decides)."""

import threading

import pytest
from django.test import Client

from incidents import alerts
from incidents.models import AlertDedup, Incident
from tests.concurrency import run_together
from tests.incidents.alert_helpers import (
    make_token,
    post_json,
    sample,
    webhook_url,
)

THREADS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_triggers_open_one_incident(monkeypatch):
    token = make_token("alertmanager")
    payload = sample("alertmanager_probe_failure.json")
    # Every request has looked for an open key and found none before any claims it:
    # the race is certain, not left to chance.
    everyone_looked = threading.Barrier(THREADS)
    real_claim = alerts._claim

    def claim_together(*args, **kwargs):
        everyone_looked.wait(timeout=60)
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(alerts, "_claim", claim_together)
    answers = run_together(
        lambda: post_json(Client(), webhook_url(token), payload), threads=THREADS
    )
    assert [a.status_code for a in answers] == [200] * THREADS
    actions = sorted(a.json()["incidents"][0]["action"] for a in answers)
    assert actions == ["opened"] + ["updated"] * (THREADS - 1)
    assert Incident.objects.count() == 1
    dedup = AlertDedup.objects.get()
    assert dedup.triggers == THREADS
    assert dedup.incident == Incident.objects.get()
    assert {a.json()["incidents"][0]["incident"] for a in answers} == {dedup.incident.reference}
