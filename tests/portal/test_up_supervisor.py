"""`manage.py up` keeps the portal up: a process that dies is restarted, the web keeps
answering meanwhile, and one Ctrl-C stops everything cleanly.

Runs the real command (web, worker, beat, scheduler) on a throw-away SQLite file and
broker folder, so it is slow-ish (migrations); every wait has a deadline.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from portal.supervisor import backoff_seconds

BASE_DIR = Path(__file__).resolve().parents[2]
PORT = 8012


def test_backoff_grows_and_is_capped():
    assert [backoff_seconds(n) for n in range(7)] == [0, 1, 2, 4, 8, 16, 30]
    assert backoff_seconds(50, cap=30) == 30


class Up:
    """`manage.py up` in a child process, its output collected line by line."""

    def __init__(self, var_dir: Path):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "PORTAL_VAR_DIR": str(var_dir),
            "DATABASE_URL": f"sqlite:///{var_dir / 'portal.sqlite3'}",
            "CELERY_BROKER_URL": "filesystem://",
            "PORT": str(PORT),
            "PYTHONUNBUFFERED": "1",
        }
        # `python -m django up`: the command itself, without manage.py's .venv bootstrap
        self.process = subprocess.Popen(
            [sys.executable, "-m", "django", "up", "--no-demo", "--workers", "1"],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, condition, *, seconds: float, what: str):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            if self.process.poll() is not None:
                break
            time.sleep(0.2)  # polling other processes' progress, bounded by the deadline
        raise AssertionError(f"{what} not seen within {seconds}s; output:\n{self.output}")

    def started(self, name: str) -> list[int]:
        return [
            int(match.group(1))
            for line in self.lines
            if (match := re.search(rf"\| started {name} \(pid (\d+)\)", line))
        ]

    def stop_all(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def web_answers() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_a_killed_worker_is_restarted_while_the_web_keeps_serving_and_ctrl_c_stops_all(
    tmp_path,
):
    up = Up(tmp_path)
    try:
        up.wait_for(web_answers, seconds=300, what="the web answering")
        (worker,) = up.wait_for(lambda: up.started("worker"), seconds=30, what="worker")
        up.wait_for(
            lambda: "celery@" in up.output and " ready." in up.output,
            seconds=120,
            what="worker ready",
        )

        os.kill(worker, signal.SIGKILL)
        web_checks = []

        def restarted():
            web_checks.append(web_answers())
            pids = up.started("worker")
            return len(pids) == 2 and pids[1]

        new_worker = up.wait_for(restarted, seconds=60, what="the worker restarted")
        assert new_worker != worker
        assert f"worker (pid {worker}) exited with signal SIGKILL" in up.output
        assert all(web_checks), "the web stopped answering while the worker was down"
        up.wait_for(
            lambda: up.output.count(" ready.") >= 2, seconds=120, what="the new worker ready"
        )
        assert web_answers()
        assert len(up.started("web")) == 1  # never restarted, never stopped
        assert len(up.started("scheduler")) == 1
        up.wait_for(lambda: "scheduler started" in up.output, seconds=60, what="the scheduler")

        os.kill(up.process.pid, signal.SIGINT)  # Ctrl-C
        assert up.process.wait(timeout=60) == 0
        up._reader.join(timeout=10)
    finally:
        up.stop_all()
    tail = up.output.split("| stopping", 1)[1]
    assert "| stopped" in tail
    assert "did not stop" not in tail and "SIGKILL" not in tail and "Traceback" not in tail
    assert "exited with 'signal" not in tail  # no pool process reported lost
    assert not web_answers()
    for name in ("worker", "web", "beat", "scheduler"):
        pid = up.started(name)[-1]
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
