"""The sweep timer does not wait for the broker: with the broker dead, a due escalation
is still recorded within one tick of `manage.py scheduler`."""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from escalations.models import Escalation
from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, TargetSpec
from incidents.models import Channel, EventKind, Incident, IncidentEvent
from notifications.models import Notification
from portal.scheduler import Job, Scheduler
from tests.escalations.conftest import H, simple_spec

BASE_DIR = Path(__file__).resolve().parents[2]
ALL_JOBS = [
    "SLA sweep",
    "On-call pages",
    "Follow-up reminders",
    "On-call shift starts",
    "On-call coverage gaps",
]


def dead_broker_url() -> str:
    """A Redis URL where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def incident_due_at(due: object) -> Incident:
    """Opened 9 h ago on an 8 h resolution target: escalates to L2 when swept at `due`."""
    spec = simple_spec(
        levels=(
            LevelSpec(
                1, "One", contacts=(("email", "one@example.com"),), sla=TargetSpec(resolution=8 * H)
            ),
            LevelSpec(
                2,
                "Two",
                contacts=(("email", "two@example.com"),),
                sla=TargetSpec(resolution=16 * H),
            ),
        ),
        matrix=(),
    )
    policy = policy_create_from_spec(spec=spec, name="timer", make_default=True)
    channel = Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})[0]
    opened = timezone.now() - 9 * H
    incident = Incident.objects.create(
        reference="TIMER-00001",
        title="Due soon",
        severity="P2",
        channel=channel,
        policy=policy,
        current_level=1,
        opened_at=opened,
        level_entered_at=opened,
        next_check_at=due,
    )
    IncidentEvent.objects.create(incident=incident, kind=EventKind.CREATED, at=opened)
    return incident


@pytest.fixture
def broker_down(monkeypatch):
    from portal.celery import app

    dead = dead_broker_url()
    # Celery takes CELERY_BROKER_URL from the environment over its configuration: without
    # this, CI's live Redis would stand in for the dead broker.
    monkeypatch.setenv("CELERY_BROKER_URL", dead)
    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    app.conf.broker_url = dead
    app.conf.broker_transport_options = {}
    app._after_fork()  # drop pooled connections to the previous broker
    yield
    app.conf.broker_url, app.conf.broker_transport_options = saved
    app._after_fork()


@pytest.mark.django_db(transaction=True)
def test_the_sweep_records_a_due_escalation_with_the_broker_down(broker_down):
    incident = incident_due_at(timezone.now())
    scheduler = Scheduler()

    started = time.monotonic()
    assert scheduler.run_due() == ALL_JOBS
    assert time.monotonic() - started < 15  # the dead broker costs a failed publish, no more

    assert Escalation.objects.filter(incident=incident, to_level=2).count() == 1
    incident.refresh_from_db()
    assert incident.current_level == 2
    assert Notification.objects.filter(incident=incident).exists()  # in the outbox, for later
    assert scheduler.run_due() == []  # not due again before its interval


@pytest.mark.django_db(transaction=True)  # the failure closes the connection
def test_a_failing_sweep_is_logged_and_tried_again_next_tick(caplog):
    now = [0.0]
    calls = []

    def flaky():
        calls.append(now[0])
        if len(calls) == 1:
            raise RuntimeError("database went away")

    scheduler = Scheduler([Job("Flaky", 5.0, flaky)], clock=lambda: now[0])
    assert scheduler.run_due() == ["Flaky"]
    assert "Flaky failed (1 in a row)" in caplog.text
    now[0] = 4.9
    assert scheduler.run_due() == []
    assert scheduler.seconds_to_next() == pytest.approx(0.1)
    now[0] = 5.0
    assert scheduler.run_due() == ["Flaky"]
    assert calls == [0.0, 5.0]
    assert "Flaky works again after 1 failures" in caplog.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_manage_py_scheduler_escalates_within_a_tick_while_the_broker_is_dead(tmp_path):
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_VAR_DIR": str(tmp_path),
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CELERY_BROKER_URL": dead_broker_url(),
        "SLA_SWEEP_INTERVAL": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "scheduler.log"
    with log.open("w") as out:
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "django", "scheduler"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while "scheduler started" not in log.read_text():
            assert scheduler.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)  # polling another process, with a deadline

        due_in = 2.0
        incident = incident_due_at(timezone.now() + timedelta(seconds=due_in))
        due = time.monotonic() + due_in
        while not Escalation.objects.filter(incident=incident).exists():
            assert time.monotonic() < due + 30, f"no escalation\n{log.read_text()}"
            time.sleep(0.05)  # polling the database, with a deadline
        late = time.monotonic() - due
        # one tick (1 s) plus the sweep's own work on a busy machine
        assert late < 1 + 3, f"escalated {late:.1f}s after it was due"

        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(timeout=60) == 0
        assert "scheduler stopped" in log.read_text()
        assert "failed (" not in log.read_text()  # no sweep failed
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
            scheduler.wait()


@pytest.mark.django_db(transaction=True)  # the failing read closes the connection
def test_a_job_with_a_known_deadline_runs_at_it_not_a_whole_interval_later(caplog):
    now = [0.0]
    deadlines = [2.5, None, RuntimeError("database went away"), 0.0]
    runs = []

    def next_due():
        deadline = deadlines.pop(0)
        if isinstance(deadline, Exception):
            raise deadline
        return deadline

    job = Job("Sweep", 10.0, lambda: runs.append(now[0]), next_due=next_due)
    scheduler = Scheduler([job], clock=lambda: now[0])
    assert scheduler.run_due() == ["Sweep"]
    assert scheduler.seconds_to_next() == pytest.approx(2.5)  # the deadline, not 10 s
    now[0] = 2.5
    assert scheduler.run_due() == ["Sweep"]
    assert scheduler.seconds_to_next() == pytest.approx(10.0)  # nothing known: the interval
    now[0] = 12.5
    assert scheduler.run_due() == ["Sweep"]
    assert "could not read its next deadline" in caplog.text
    assert scheduler.seconds_to_next() == pytest.approx(10.0)
    now[0] = 22.5
    assert scheduler.run_due() == ["Sweep"]
    # Due already (rows another sweep holds): again soon, but not in a busy loop.
    assert scheduler.seconds_to_next() == pytest.approx(0.1)
    assert runs == [0.0, 2.5, 12.5, 22.5]


@pytest.mark.django_db(transaction=True)  # the scheduler checks its connection as in production
def test_the_scheduler_wakes_for_the_next_incident_due(settings):
    settings.SLA_SWEEP_INTERVAL = 300
    settings.REMINDER_SWEEP_INTERVAL = 300
    settings.ONCALL_SHIFT_SWEEP_INTERVAL = 300
    incident_due_at(timezone.now() + timedelta(seconds=60))
    scheduler = Scheduler()
    assert scheduler.run_due() == ALL_JOBS
    # The sweep read the incident's next check: it runs then, not after 300 s.
    assert 50 < scheduler.seconds_to_next() <= 60


def test_jobs_warm_up_once_when_the_scheduler_starts(caplog):
    warmed = []

    def broken():
        raise RuntimeError("template missing")

    scheduler = Scheduler(
        [
            Job("Sweep", 5.0, lambda: None, warm_up=lambda: warmed.append("sweep")),
            Job("Other", 5.0, lambda: None, warm_up=broken),
        ]
    )
    scheduler.stop()  # run() warms up, then finds itself stopped
    scheduler.run(install_signal_handlers=False)
    assert warmed == ["sweep"]
    assert "Other: warming up failed" in caplog.text  # logged, the scheduler still ran


def test_the_sla_sweep_job_warms_up_its_templates_and_wakes_at_deadlines():
    from escalations.engine.services import seconds_to_next_check, sweep_warm_up
    from notifications.rendering import template, template_kinds
    from portal.scheduler import default_jobs

    job = {job.name: job for job in default_jobs()}["SLA sweep"]
    assert (job.warm_up, job.next_due) == (sweep_warm_up, seconds_to_next_check)
    template.cache_clear()
    gc.unfreeze()
    try:
        sweep_warm_up()
        # What is loaded is out of the collector's sight: full collections in a
        # storm's batch no longer walk every module and template.
        assert gc.get_freeze_count() > 100_000
    finally:
        gc.unfreeze()
    assert template.cache_info().currsize == len(template_kinds())
