"""Beat's schedules come from migrations and the admin; an interval given in the
environment is applied when beat starts."""

import pytest
from django_celery_beat.models import PeriodicTask

from portal.schedules import sync_intervals

pytestmark = pytest.mark.django_db


def interval(name):
    task = PeriodicTask.objects.get(name=name)
    return task.interval.every, task.interval.period, task.expire_seconds


def test_migrations_schedule_the_sweep_and_the_drain():
    assert PeriodicTask.objects.get(name="SLA sweep").task == "escalations.tasks.run_sla_sweep"
    assert interval("SLA sweep") == (5, "seconds", 10)
    assert interval("Outbox drain")[:2] == (10, "seconds")


def test_an_interval_set_in_the_environment_wins_when_beat_starts(settings):
    settings.SLA_SWEEP_INTERVAL = 2.0
    assert sync_intervals(environ={"SLA_SWEEP_INTERVAL": "2"}) == ["SLA sweep"]
    assert interval("SLA sweep") == (2, "seconds", 4)
    assert sync_intervals(environ={"SLA_SWEEP_INTERVAL": "2"}) == []  # already so


def test_intervals_nobody_set_keep_what_the_admin_chose(settings):
    task = PeriodicTask.objects.get(name="Outbox drain")
    task.interval.every = 30
    task.interval.save()
    settings.OUTBOX_DRAIN_INTERVAL = 10.0
    assert sync_intervals(environ={}) == []
    assert interval("Outbox drain")[0] == 30


def test_every_interval_setting_names_a_scheduled_task(settings):
    from portal.schedules import INTERVAL_SETTINGS

    settings.REMINDER_SWEEP_INTERVAL = 45.0
    assert set(INTERVAL_SETTINGS) <= set(PeriodicTask.objects.values_list("name", flat=True))
    assert sync_intervals(environ={"REMINDER_SWEEP_INTERVAL": "45"}) == ["Follow-up reminders"]
    assert interval("Follow-up reminders") == (45, "seconds", 90)
