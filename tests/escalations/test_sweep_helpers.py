"""A storm's sweep asks workers for help: once, when its first claim comes back full, on
PostgreSQL, never failing for a broker that is down."""

import time

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from escalations import tasks
from escalations.engine.services import sla_sweep
from escalations.models import Escalation
from tests.escalations.test_sweep_concurrency import due_incidents
from tests.portal.test_scheduler import dead_broker_url


@pytest.mark.django_db
@pytest.mark.parametrize(("due", "calls"), [(5, 1), (3, 0)])
def test_a_full_first_batch_calls_for_help_once(due, calls):
    now = timezone.now()
    due_incidents(now, count=due)
    asked = []
    result = sla_sweep(
        now=now, batch_size=4, on_backlog=lambda: asked.append(Escalation.objects.count())
    )
    assert result["escalated"] == due
    # Once, as soon as the first claim came back full: before it escalated anything,
    # so helpers start sweeping with it.
    assert asked == [0] * calls


@pytest.fixture
def sent(monkeypatch):
    requests = []
    monkeypatch.setattr(
        tasks.run_sla_sweep, "apply_async", lambda **options: requests.append(options)
    )
    return requests


@pytest.mark.django_db
@override_settings(SLA_SWEEP_HELPERS=3)
def test_the_scheduler_asks_for_helpers_that_ask_for_no_more(sent):
    asked = tasks.call_sweep_helpers()
    if connection.vendor != "postgresql":
        assert (asked, sent) == (0, [])  # SQLite takes one writer at a time: helpers would wait
        return
    assert asked == 3
    assert [request["kwargs"] for request in sent] == [{"helping": True}] * 3
    assert all(request["retry"] is False and request["expires"] for request in sent)


@pytest.mark.django_db
@override_settings(SLA_SWEEP_BATCH=2, SLA_SWEEP_HELPERS=2)
@pytest.mark.parametrize("helping", [False, True])
def test_only_the_schedulers_sweep_asks_for_help(sent, helping):
    due_incidents(timezone.now(), count=5)
    tasks.run_sla_sweep(helping=helping)
    assert Escalation.objects.count() == 5
    asks = not helping and connection.vendor == "postgresql"
    assert len(sent) == (2 if asks else 0)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_dead_broker_leaves_the_scheduler_sweeping_alone(caplog, monkeypatch):
    from portal.celery import app

    dead = dead_broker_url()
    # Celery takes CELERY_BROKER_URL from the environment over its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", dead)
    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    app.conf.broker_url = dead
    app.conf.broker_transport_options = {}
    app._after_fork()
    try:
        started = time.monotonic()
        assert tasks.call_sweep_helpers() == 0
        assert time.monotonic() - started < 10  # one failed connection, no retries
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = saved
        app._after_fork()
    assert "no more helpers asked for" in caplog.text
