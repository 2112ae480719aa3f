import logging

from celery import shared_task
from celery.signals import worker_init
from django.conf import settings
from django.db import connection

from escalations.analytics.weekly_mail import weekly_reports_send
from escalations.engine.paging import page_sweep
from escalations.engine.services import sla_sweep, sweep_warm_up
from escalations.followup.oncall_notices import coverage_gap_sweep, shift_start_sweep
from escalations.followup.reminders import reminder_sweep
from escalations.schedules.services import ical_schedules_refresh

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def run_sla_sweep(helping: bool = False) -> dict:
    """The scheduler runs this every few seconds, and at the next incident's deadline;
    safe to run twice or concurrently. `helping`: a worker sweeping beside the
    scheduler in a storm (it asks for no further help)."""
    result = sla_sweep(on_backlog=None if helping else call_sweep_helpers)
    if result.get("fired"):
        log.info("SLA sweep%s: %s", " (helping)" if helping else "", result)
    return result


@worker_init.connect
def warm_up_for_sweeps(sender=None, **kwargs) -> None:
    """A worker may be asked to sweep beside the scheduler in a storm: load what a
    first sweep needs when it starts, not while incidents wait. In the main process,
    before the pool forks (its children inherit it), and not in worker_process_init,
    whose handlers a busy machine could push past the pool's 4 s start-up limit."""
    try:
        sweep_warm_up()
    except Exception:  # a head start only: never keep a worker from starting
        log.exception("warming up for sweeps failed")


def call_sweep_helpers() -> int:
    """More is due than one batch (a storm): ask SLA_SWEEP_HELPERS workers to sweep
    too, so every core escalates; row locks that skip locked rows split the batches.

    PostgreSQL only: SQLite takes one writer at a time, so a helper would only wait.
    The help is a speed-up, not a duty: a broker that is down fails the request at
    once (no retries), and the scheduler sweeps on alone. An unused request expires.
    Returns how many helpers were asked for.
    """
    if connection.vendor != "postgresql":
        return 0
    for asked in range(settings.SLA_SWEEP_HELPERS):
        try:
            run_sla_sweep.apply_async(kwargs={"helping": True}, expires=60, retry=False)
        except Exception as error:  # the broker is down or refuses: sweep on alone
            log.warning("SLA sweep: no more helpers asked for (%s)", error)
            return asked
    return settings.SLA_SWEEP_HELPERS


@shared_task(ignore_result=True)
def refresh_ical_schedules() -> dict:
    """Beat, every ICAL_REFRESH_INTERVAL: imported schedules read their feeds again. Safe
    to run twice; a failing feed is logged, kept on its schedule and tried next time."""
    result = ical_schedules_refresh()
    if result["refreshed"] or result["failed"]:
        log.info("iCal refresh: %s", result)
    return result


@shared_task(ignore_result=True)
def run_page_sweep() -> int:
    """Handoffs to on-call levels still unacknowledged: page the next person, then the
    escalation contact. The scheduler runs it every few seconds and when the next page
    is due; safe to run twice or concurrently."""
    paged = page_sweep()
    if paged:
        log.info("Page sweep: %s page(s)", paged)
    return paged


@shared_task(ignore_result=True)
def run_reminder_sweep() -> dict:
    """Reviews, action items, war-room updates and vendor cases whose reminder is due.
    Reads only the next_reminder_at indexes; safe to run twice or concurrently."""

    result = reminder_sweep()
    if len(result) > 1:  # more than the visit count: something was sent
        log.info("Reminder sweep: %s", result)
    return result


@shared_task(ignore_result=True)
def run_coverage_gap_sweep() -> dict:
    """Coverage gaps of the schedules a P0/P1 route reaches, mailed to the team lead once
    per gap a week before; safe to run twice or concurrently (dedup keys)."""
    result = coverage_gap_sweep()
    if result.get("gaps"):
        log.info("On-call coverage sweep: %s", result)
    return result


@shared_task(ignore_result=True)
def run_shift_start_sweep() -> dict:
    """Shifts starting now, announced to their person once; safe to run twice."""
    result = shift_start_sweep()
    if result.get("shifts"):
        log.info("On-call shift sweep: %s", result)
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
