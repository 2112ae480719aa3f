"""Beat's schedules come from migrations and the admin; an interval given in the
environment is applied when beat starts."""

import pytest
from django_celery_beat.models import PeriodicTask

from portal.schedules import sync_intervals

pytestmark = pytest.mark.django_db


def interval(name):
    task = PeriodicTask.objects.get(name=name)
    return task.interval.every, task.interval.period, task.expire_seconds


def test_migrations_schedule_the_drain_and_leave_the_sweeps_to_the_scheduler():
    assert PeriodicTask.objects.get(name="Outbox drain").task == "notifications.tasks.deliver_due"
    assert interval("Outbox drain")[:2] == (10, "seconds")
    # `manage.py scheduler` runs these against the database, whatever the broker does
    assert not PeriodicTask.objects.filter(
        task__in=["escalations.tasks.run_sla_sweep", "escalations.tasks.run_reminder_sweep"]
    ).exists()


def test_an_interval_set_in_the_environment_wins_when_beat_starts(settings):
    settings.OUTBOX_DRAIN_INTERVAL = 2.0
    assert sync_intervals(environ={"OUTBOX_DRAIN_INTERVAL": "2"}) == ["Outbox drain"]
    assert interval("Outbox drain") == (2, "seconds", 4)
    assert sync_intervals(environ={"OUTBOX_DRAIN_INTERVAL": "2"}) == []  # already so


def test_intervals_nobody_set_keep_what_the_admin_chose(settings):
    task = PeriodicTask.objects.get(name="Outbox drain")
    task.interval.every = 30
    task.interval.save()
    settings.OUTBOX_DRAIN_INTERVAL = 10.0
    assert sync_intervals(environ={}) == []
    assert interval("Outbox drain")[0] == 30


def test_every_interval_setting_names_a_scheduled_task():
    from portal.schedules import INTERVAL_SETTINGS

    assert set(INTERVAL_SETTINGS) <= set(PeriodicTask.objects.values_list("name", flat=True))
