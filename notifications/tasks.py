import logging

from celery import shared_task

from notifications import services

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def deliver_due() -> dict:
    """Deliver what the outbox holds: kicked after each commit and run by beat, so a
    lost broker message delays a notification and never loses it."""
    result = services.deliver_due()
    if any(result.values()):
        log.info("outbox: %s", result)
    return result
