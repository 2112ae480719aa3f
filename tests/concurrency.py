"""Run the same work in several threads at once, each on its own database
connection, as separate workers or requests would."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def run_together(work: Callable[[], object], *, threads: int, timeout: float = 120) -> list:
    """Start `threads` copies of `work` at the same instant (a barrier); return their
    results. Any error in a thread fails the caller; a thread that does not finish
    within `timeout` seconds does too."""
    start = threading.Barrier(threads)
    results, errors = [], []

    def run():
        try:
            start.wait(timeout=30)
            results.append(work())
        except BaseException as error:  # re-raised below, in the test's thread
            errors.append(error)
        finally:
            connection.close()  # each thread opened its own

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=timeout)
    assert not any(worker.is_alive() for worker in workers), f"still running after {timeout}s"
    assert not errors, errors
    return results
