"""A delivery worker killed mid-send: nothing it marked sent is sent again, and what it
had claimed but not sent (urgent pages first) goes out within seconds (PostgreSQL)."""

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


def worker_env(**extra) -> dict:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "portal.settings", **extra}


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
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


def test_killed_worker_leaves_nothing_sent_twice(httpserver, settings):
    settings.NOTIFICATION_SEND_LEASE = 200
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

    worker = start_worker(worker_env(NOTIFICATION_TIMEOUT="60", NOTIFICATION_SEND_LEASE="200"))
    try:
        wait_until(lambda: "/hang" in seen, what="the worker to reach the hanging call")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        release.set()

    rows = {row.payload["n"]: row for row in Notification.objects.all()}
    assert [rows[n].status for n in range(3)] == [Status.SENT] * 3
    assert rows[3].status == Status.SENDING  # in flight when the worker died

    later = timezone.now() + timezone.timedelta(seconds=settings.NOTIFICATION_SEND_LEASE + 1)
    result = services.deliver_due(now=later)
    assert result == {"sent": 1, "retrying": 0, "failed": 0, "released": 1, "lost_claims": 0}
    assert Notification.objects.filter(status=Status.SENT).count() == 4
    # Each one marked sent went exactly once; only the in-flight one was tried twice.
    assert sorted(seen) == ["/hang", "/hang", "/ok/1", "/ok/2", "/ok/3"]


def test_a_page_claimed_by_a_killed_worker_goes_out_within_seconds(httpserver, settings):
    settings.NOTIFICATION_CLAIM_LEASE = 2
    settings.NOTIFICATION_SEND_LEASE = 200
    settings.PAGERDUTY_EVENTS_URL = httpserver.url_for("/v2/enqueue")
    release = threading.Event()
    seen: list[str] = []

    def hang(request):
        seen.append(request.path)
        if seen.count("/hang") == 1:
            release.wait(timeout=60)  # the first call hangs until the worker is dead
        return Response("ok", status=200)

    def page(request):
        seen.append(request.get_json()["payload"]["summary"])
        return Response('{"status":"success"}', status=202, content_type="application/json")

    httpserver.expect_request("/hang").respond_with_handler(hang)
    httpserver.expect_request("/v2/enqueue").respond_with_handler(page)
    now = timezone.now()
    Notification.objects.create(
        kind="test",
        channel="webhook",
        recipient=httpserver.url_for("/hang"),
        dedup_key="hang",
        urgent=True,
        next_attempt_at=now - timezone.timedelta(seconds=1),  # goes first, and hangs
    )
    Notification.objects.create(
        kind="trigger",
        channel="pagerduty",
        recipient="routing-key",
        dedup_key="p0-page",
        payload={"summary": "P0 checkout down", "severity": "critical"},
        urgent=True,
        next_attempt_at=now,
    )

    worker = start_worker(
        worker_env(
            NOTIFICATION_TIMEOUT="60",
            NOTIFICATION_SEND_LEASE="200",
            NOTIFICATION_CLAIM_LEASE="2",
            PAGERDUTY_EVENTS_URL=settings.PAGERDUTY_EVENTS_URL,
        )
    )
    try:
        wait_until(lambda: "/hang" in seen, what="the worker to reach the hanging call")
        page_row = Notification.objects.get(dedup_key="p0-page")
        assert page_row.status == Status.SENDING  # claimed by the worker about to die
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        killed = time.monotonic()
        release.set()  # the fake server answers one request at a time

        def page_sent() -> bool:
            services.deliver_due()  # another worker's drain, on the real clock
            return Notification.objects.filter(dedup_key="p0-page", status=Status.SENT).exists()

        wait_until(page_sent, what="another worker to send the page", timeout=60)
        took = time.monotonic() - killed
    finally:
        release.set()

    assert took < settings.NOTIFICATION_CLAIM_LEASE + 10, f"page went {took:.1f}s after the kill"
    assert seen.count("P0 checkout down") == 1
    # The message in flight when the worker died keeps its send lease: not sent twice.
    assert Notification.objects.get(dedup_key="hang").status == Status.SENDING
    assert seen.count("/hang") == 1
