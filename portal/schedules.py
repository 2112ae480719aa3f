"""Beat's periodic tasks live in the database (django-celery-beat), editable in
the admin. Migrations create them; an interval set in the environment wins when
beat starts, so changing SLA_SWEEP_INTERVAL and restarting beat is enough.
"""

from __future__ import annotations

import logging
import os

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)

# periodic task name -> the setting (and environment variable) holding its interval.
# The SLA and reminder sweeps are not beat's: `manage.py scheduler` runs them
# (portal/scheduler.py) and reads SLA_SWEEP_INTERVAL and REMINDER_SWEEP_INTERVAL.
INTERVAL_SETTINGS = {
    "Outbox drain": "OUTBOX_DRAIN_INTERVAL",
    "iCal schedule refresh": "ICAL_REFRESH_INTERVAL",
}


@transaction.atomic
def sync_intervals(*, environ=None) -> list[str]:
    """Apply intervals given in the environment to their periodic tasks.

    Intervals nobody set explicitly are left as the admin has them. Returns the
    names of the tasks changed.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    environ = os.environ if environ is None else environ
    changed = []
    for name, setting in INTERVAL_SETTINGS.items():
        if setting not in environ:
            continue
        seconds = max(1, round(getattr(settings, setting)))
        task = PeriodicTask.objects.select_for_update().filter(name=name).first()
        if task is None:
            log.warning("no periodic task %r to apply %s to (migrate first)", name, setting)
            continue
        if task.interval and task.interval.every == seconds and task.interval.period == "seconds":
            continue
        every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        task.interval = every
        task.expire_seconds = seconds * 2
        task.save()  # save() tells beat's scheduler that the schedule changed
        changed.append(name)
        log.warning("%s now runs every %ss (%s)", name, seconds, setting)
    return changed
