"""A delivery worker killed mid-send: nothing it marked sent is sent again (PostgreSQL)."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from werkzeug import Response

from notifications import services
from notifications.models import Notification, Status

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wait_until(condition, *, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # polling a condition, with a deadline


def test_killed_worker_leaves_nothing_sent_twice(httpserver, settings):
    release = threading.Event()
    seen: list[str] = []

    def handler(request):
        seen.append(request.path)
        if request.path == "/hang" and seen.count("/hang") == 1:
            release.wait(timeout=60)  # the first call hangs until the worker is dead
        return Response("ok", status=200)

    httpserver.expect_request("/ok/1").respond_with_handler(handler)
    httpserver.expect_request("/ok/2").respond_with_handler(handler)
    httpserver.expect_request("/ok/3").respond_with_handler(handler)
    httpserver.expect_request("/hang").respond_with_handler(handler)
    now = timezone.now()
    for n, path in enumerate(["/ok/1", "/ok/2", "/ok/3", "/hang"]):
        Notification.objects.create(
            kind="test",
            channel="webhook",
            recipient=httpserver.url_for(path),
            dedup_key=f"kill-{n}",
            payload={"n": n},
            next_attempt_at=now,
        )

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "NOTIFICATION_TIMEOUT": "60",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from notifications.services import deliver_due; deliver_due()",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        wait_until(lambda: "/hang" in seen, what="the worker to reach the hanging call")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        release.set()

    rows = {row.payload["n"]: row for row in Notification.objects.all()}
    assert [rows[n].status for n in range(3)] == [Status.SENT] * 3
    assert rows[3].status == Status.SENDING  # in flight when the worker died

    later = timezone.now() + timezone.timedelta(seconds=settings.NOTIFICATION_CLAIM_LEASE + 1)
    result = services.deliver_due(now=later)
    assert result == {"sent": 1, "retrying": 0, "failed": 0, "released": 1}
    assert Notification.objects.filter(status=Status.SENT).count() == 4
    # Each one marked sent went exactly once; only the in-flight one was tried twice.
    assert sorted(seen) == ["/hang", "/hang", "/ok/1", "/ok/2", "/ok/3"]
