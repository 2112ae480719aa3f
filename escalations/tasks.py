import logging

from celery import shared_task

from .engine import sla_sweep

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def run_sla_sweep() -> dict:
    """Beat runs this every few seconds; safe to run twice or concurrently."""
    result = sla_sweep()
    if result.get("fired"):
        log.info("SLA sweep: %s", result)
    return result
