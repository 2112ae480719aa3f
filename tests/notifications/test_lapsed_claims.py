"""A send whose claim has lapsed is not sent: a slow batch and a rival drain send each row once."""

from datetime import timedelta

import pytest
from django.utils import timezone

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


def test_a_send_is_bounded_well_inside_its_lease(settings):
    # The lease taken before each send outlasts the slowest send the timeout allows.
    assert settings.NOTIFICATION_SEND_LEASE >= 3 * settings.NOTIFICATION_TIMEOUT
    assert settings.ANYMAIL["REQUESTS_TIMEOUT"] <= settings.NOTIFICATION_TIMEOUT
