"""A worker outlives a Redis outage that starts while a task runs.

With late acknowledgement (celery/kombu 5.7, redis-py 8) the worker exited for good:
`Unrecoverable error: AttributeError("'NoneType' object has no attribute 'hostname'")`
while restoring the unacknowledged message through a connection already cleared.
Runs the portal's real worker (its settings) against a private redis-server that the
test SIGKILLs mid-task and starts again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery

from tests.redis_server import RedisServer, wait_until

pytestmark = pytest.mark.redis_server

BASE_DIR = Path(__file__).resolve().parents[2]
STEP = 90.0  # seconds each step of the worker may take on a busy machine


@pytest.fixture
def redis():
    server = RedisServer()
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()


def test_worker_survives_redis_dying_mid_task_and_takes_new_work_after(
    redis, tmp_path, monkeypatch
):
    url = redis.url
    # Celery's CELERY_BROKER_URL variable (set under CI) wins over Celery(broker=...):
    # without this the test's client would publish to the CI Redis, not to this one.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "CELERY_BROKER_URL": url,
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("w") as out:
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "portal", "worker"),
                *("--include", "tests.portal.outage_tasks", "--concurrency", "2"),
                *("--loglevel", "INFO", "--without-gossip", "--without-mingle"),
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    client = Celery(broker=url)
    client.conf.broker_connection_timeout = 2
    try:
        wait_until(
            lambda: " ready." in log.read_text(), what="the worker ready", timeout=STEP, log=log
        )

        first = tmp_path / "first"
        client.send_task(
            "tests.hold",
            kwargs={"seconds": 8, "started": f"{first}.started", "finished": f"{first}.done"},
        )
        wait_until(
            Path(f"{first}.started").exists, what="the long task running", timeout=STEP, log=log
        )

        redis.kill()  # mid-task
        wait_until(
            lambda: (
                "Connection to broker lost" in log.read_text()
                or "Cannot connect to redis" in log.read_text()
            ),
            what="the worker noticing the outage",
            timeout=STEP,
            log=log,
        )
        redis.start()

        second = tmp_path / "second"
        client.send_task(
            "tests.hold",
            kwargs={"seconds": 0, "started": f"{second}.started", "finished": f"{second}.done"},
        )
        wait_until(
            lambda: Path(f"{second}.done").exists() or worker.poll() is not None,
            what="a new task processed after the outage",
            timeout=120,
            log=log,
        )
        assert worker.poll() is None, f"the worker exited:\n{log.read_text()[-3000:]}"
        assert Path(f"{second}.done").exists()
        assert "Unrecoverable error" not in log.read_text()
    finally:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        client.close()
