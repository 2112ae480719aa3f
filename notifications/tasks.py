import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def deliver_due() -> dict:
    """Deliver what the outbox holds: kicked after each commit and run by beat, so a
    lost broker message delays a notification and never loses it."""
    result = services.deliver_due()
    if any(result.values()):
        log.info("outbox: %s", result)
    return result


@shared_task(ignore_result=True)
def send_weekly_reports() -> int:
    """Beat, every 15 minutes: last week's report to each subscriber whose Monday
    morning has come, once per subscriber and week (dedup key in the outbox)."""
    from .reports import weekly_reports_send

    queued = weekly_reports_send()
    if queued:
        log.info("weekly report queued for %s subscriber(s)", queued)
    return queued
