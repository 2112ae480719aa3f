"""A task for tests that run a real worker: it takes a while and leaves marks on disk.

Loaded into the worker with `celery worker --include tests.portal.outage_tasks`.
"""

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.hold")
def hold(*, seconds: float, started: str, finished: str) -> None:
    Path(started).touch()
    time.sleep(seconds)  # stands for a slow send: the broker can die meanwhile
    Path(finished).touch()
