"""The sweep timer: runs the SLA sweep, the on-call page sweep and the reminder sweep
against the database.

The database decides what is due; this loop only asks it, on a clock of its own, so
a broker outage never delays an escalation (Celery beat's message used to be the
only trigger, and it waited in a dead Redis). Celery still carries deliveries: a
sweep queues its notifications in the outbox and kicks a worker after commit, and a
broker that is down costs nothing here (the outbox drain sends them later).

Each job runs every `interval` seconds (SLA_SWEEP_INTERVAL, REMINDER_SWEEP_INTERVAL,
ONCALL_SHIFT_SWEEP_INTERVAL, ONCALL_COVERAGE_SWEEP_INTERVAL),
and the SLA sweep also at the next instant an incident is due (its smallest
next_check_at, read after each sweep), so an escalation is recorded when its clock
crosses, not up to a tick later. A job that raises is logged and tried again next
tick, with a fresh database connection. Sweeps are safe to run twice or
concurrently, so two schedulers (or a scheduler and an old beat entry) never fire
anything twice.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections, connections

log = logging.getLogger(__name__)


# The shortest wait between two runs of a job that says work is due already (another
# process holds those rows, or the sweep stopped at its batch limit): no busy loop.
MIN_GAP = 0.1


@dataclass
class Job:
    name: str
    interval: float
    run: Callable[[], object]
    # Seconds until the job's next known deadline (None: none known). The job then
    # runs at that instant, not up to `interval` later: the interval still bounds
    # how late work the job could not know about (an incident opened since) is seen.
    next_due: Callable[[], float | None] | None = None
    # Loads what the job's first real run needs, once, when the scheduler starts.
    warm_up: Callable[[], None] | None = None
    next_at: float = 0.0
    failures: int = 0


def default_jobs() -> list[Job]:
    from escalations.engine.paging import seconds_to_next_page
    from escalations.engine.services import seconds_to_next_check, sweep_warm_up
    from escalations.tasks import (
        run_coverage_gap_sweep,
        run_page_sweep,
        run_reminder_sweep,
        run_shift_start_sweep,
        run_sla_sweep,
    )

    # Called in this process, not sent to a worker: the broker is not involved.
    return [
        Job(
            "SLA sweep",
            settings.SLA_SWEEP_INTERVAL,
            run_sla_sweep,
            next_due=seconds_to_next_check,
            warm_up=sweep_warm_up,
        ),
        Job(
            "On-call pages",
            settings.SLA_SWEEP_INTERVAL,
            run_page_sweep,
            next_due=seconds_to_next_page,
        ),
        Job("Follow-up reminders", settings.REMINDER_SWEEP_INTERVAL, run_reminder_sweep),
        Job("On-call shift starts", settings.ONCALL_SHIFT_SWEEP_INTERVAL, run_shift_start_sweep),
        Job(
            "On-call coverage gaps",
            settings.ONCALL_COVERAGE_SWEEP_INTERVAL,
            run_coverage_gap_sweep,
        ),
    ]


def _close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        connection.close()


class Scheduler:
    def __init__(self, jobs: list[Job] | None = None, *, clock=time.monotonic):
        self.jobs = default_jobs() if jobs is None else jobs
        self.clock = clock
        self.stopping = threading.Event()

    def run_due(self) -> list[str]:
        """Run every job whose time has come; return their names."""
        ran = []
        for job in self.jobs:
            now = self.clock()
            if now < job.next_at or self.stopping.is_set():
                continue
            # the next run counts from this one's start: a slow sweep never piles up runs
            job.next_at = now + job.interval
            if self._run(job) and job.next_due is not None:
                self._wake_for_deadline(job)
            ran.append(job.name)
        return ran

    def _wake_for_deadline(self, job: Job) -> None:
        try:
            wait = job.next_due()
        except Exception:
            log.exception("%s: could not read its next deadline; waiting its interval", job.name)
            _close_connections()
            return
        if wait is not None:
            job.next_at = min(job.next_at, self.clock() + max(wait, MIN_GAP))

    def _run(self, job: Job) -> bool:
        close_old_connections()
        try:
            job.run()
        except Exception:
            job.failures += 1
            log.exception("%s failed (%s in a row); trying again next tick", job.name, job.failures)
            # whatever state the connection is in, the next tick starts afresh
            _close_connections()
            return False
        if job.failures:
            log.warning("%s works again after %s failures", job.name, job.failures)
        job.failures = 0
        return True

    def seconds_to_next(self) -> float:
        return max(0.0, min(job.next_at for job in self.jobs) - self.clock())

    def run(self, *, install_signal_handlers: bool = True) -> None:
        if install_signal_handlers:
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        for job in self.jobs:
            if job.warm_up is not None:
                try:
                    job.warm_up()
                except Exception:  # only a head start: the job itself still runs
                    log.exception("%s: warming up failed", job.name)
        log.warning(
            "scheduler started: %s",
            ", ".join(f"{job.name} every {job.interval:g}s" for job in self.jobs),
        )
        while not self.stopping.is_set():
            self.run_due()
            self.stopping.wait(self.seconds_to_next())
        _close_connections()
        log.warning("scheduler stopped")

    def _on_signal(self, signum, frame) -> None:
        self.stopping.set()  # the sweep in progress finishes, its transaction commits

    def stop(self) -> None:
        self.stopping.set()
