import logging

from celery import shared_task

from escalations.analytics.weekly_mail import weekly_reports_send
from escalations.engine.services import sla_sweep
from escalations.followup.reminders import reminder_sweep

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def run_sla_sweep() -> dict:
    """Beat runs this every few seconds; safe to run twice or concurrently."""
    result = sla_sweep()
    if result.get("fired"):
        log.info("SLA sweep: %s", result)
    return result


@shared_task(ignore_result=True)
def run_reminder_sweep() -> dict:
    """Reviews, action items, war-room updates and vendor cases whose reminder is due.
    Reads only the next_reminder_at indexes; safe to run twice or concurrently."""

    result = reminder_sweep()
    if len(result) > 1:  # more than the visit count: something was sent
        log.info("Reminder sweep: %s", result)
    return result


# Registered under the name it had in notifications: django_celery_beat's row (migration
# notifications 0006) and any message still queued call it by that name.
@shared_task(name="notifications.tasks.send_weekly_reports", ignore_result=True)
def send_weekly_reports() -> int:
    """Beat, every 15 minutes: last week's report to each subscriber whose Monday
    morning has come, once per subscriber and week (dedup key in the outbox)."""
    queued = weekly_reports_send()
    if queued:
        log.info("weekly report queued for %s subscriber(s)", queued)
    return queued
