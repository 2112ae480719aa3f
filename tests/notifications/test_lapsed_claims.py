"""A send whose claim has lapsed is not sent: a slow batch and a rival drain send each row once."""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Response

from notifications import services, transports
from notifications.models import Notification, Status

pytestmark = pytest.mark.django_db


def queue(n: int, *, now, urgent=False):
    return Notification.objects.create(
        kind="test",
        channel="webhook",
        recipient=f"https://hooks.example.com/{n}",
        dedup_key=f"lapse-{n}",
        payload={"n": n},
        urgent=urgent,
        next_attempt_at=now,
    )


def test_a_batch_outliving_its_lease_beside_a_rival_drain_sends_each_row_once(
    settings, monkeypatch
):
    settings.NOTIFICATION_CLAIM_LEASE = 30
    settings.NOTIFICATION_SEND_LEASE = 60
    start = timezone.now()
    for n in range(3):
        queue(n, now=start)
    sent: list[str] = []

    def send(message, *, timeout=None):
        sent.append(message.dedup_key)
        if len(sent) == 1:
            # The first send hangs past the claim lease of the rows waiting behind
            # it; meanwhile another worker's drain releases and sends what lapsed.
            later = start + timedelta(seconds=settings.NOTIFICATION_CLAIM_LEASE + 1)
            services.deliver_due(now=later)
        return transports.Sent("accepted")

    monkeypatch.setattr(transports, "send", send)
    services.deliver_due(now=start)

    assert sorted(sent) == ["lapse-0", "lapse-1", "lapse-2"]
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}


@pytest.fixture
def hanging_esp():
    """A Postmark API on 127.0.0.1 that answers only after anymail's own 30 s timeout."""
    release = threading.Event()
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.expect_request("/email").respond_with_handler(
        lambda request: release.wait(40) and Response("{}", status=200)
    )
    server.start()
    try:
        yield server.url_for("/")
    finally:
        release.set()
        server.clear()
        server.stop()


def test_an_email_send_gives_up_after_notification_timeout(settings, hanging_esp):
    settings.ANYMAIL = {}  # anymail's own default: 30 s
    settings.MAILERS = {
        "default": {
            "BACKEND": "anymail.backends.postmark.EmailBackend",
            "OPTIONS": {"server_token": "token", "api_url": hanging_esp},
        }
    }
    settings.NOTIFICATION_TIMEOUT = 0.5
    start = timezone.now()
    Notification.objects.create(
        kind="test",
        channel="email",
        recipient="lead@example.com",
        dedup_key="slow-esp",
        subject="Hello",
        body_text="Body",
        next_attempt_at=start,
    )
    began = time.monotonic()
    assert services.deliver_due(now=start)["retrying"] == 1
    # Well inside the send lease; anymail alone would have waited 30 s.
    assert time.monotonic() - began < 15
    assert "ReadTimeout" in Notification.objects.get().last_error
