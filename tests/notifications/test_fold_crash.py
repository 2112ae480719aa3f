"""Folded notices survive a worker that dies between the fold and its leader's send."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from notifications import services, transports
from notifications.models import DeliverySettings, Notification, Status

pytestmark = pytest.mark.django_db
NIGHT = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)


class WorkerDied(BaseException):
    """What a SIGKILL looks like from inside: nothing after this line runs."""


@pytest.fixture(autouse=True)
def locmem(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def queue(n: int) -> Notification:
    return Notification.objects.create(
        kind="test",
        channel="email",
        recipient="lead@example.com",
        dedup_key=f"fold-{n}",
        subject=f"Notice {n}",
        body_text=f"Body {n}",
        next_attempt_at=NIGHT,
    )


def test_folded_notices_are_sent_after_a_crash_before_their_leader(monkeypatch, settings):
    DeliverySettings.objects.create(pk=1, fold_window_minutes=10, respect_working_hours=False)
    rows = [queue(n) for n in range(3)]
    real_send = transports.send

    def crash(message, *, timeout=None):
        raise WorkerDied

    monkeypatch.setattr(transports, "send", crash)
    with pytest.raises(WorkerDied):
        services.deliver_due(now=NIGHT)

    # The fold is stored before the leader goes; nothing is closed yet.
    leader = rows[0]
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENDING}
    assert {r.folded_into_id for r in Notification.objects.exclude(pk=leader.pk)} == {leader.pk}

    monkeypatch.setattr(transports, "send", real_send)
    after_lease = NIGHT + timedelta(seconds=settings.NOTIFICATION_SEND_LEASE + 1)
    result = services.deliver_due(now=after_lease)

    assert result["sent"] == 1 and result["released"] == 3
    assert len(mail.outbox) == 1
    assert "Also for you in the same minutes (2)" in mail.outbox[0].body
    assert "- Notice 1" in mail.outbox[0].body and "- Notice 2" in mail.outbox[0].body
    statuses = dict(Notification.objects.values_list("dedup_key", "status"))
    assert statuses == {
        "fold-0": Status.SENT,
        "fold-1": Status.SUPPRESSED,
        "fold-2": Status.SUPPRESSED,
    }
    assert set(
        Notification.objects.filter(status=Status.SUPPRESSED).values_list(
            "suppressed_reason", flat=True
        )
    ) == {f"folded into notification {leader.pk}"}


def test_folded_notices_go_back_with_their_leader_when_it_must_retry(monkeypatch):
    DeliverySettings.objects.create(pk=1, fold_window_minutes=10, respect_working_hours=False)
    for n in range(3):
        queue(n)

    def refuse(message, *, timeout=None):
        raise transports.TransientError("email: ESP answered 503", channel="email", status=503)

    monkeypatch.setattr(transports, "send", refuse)
    assert services.deliver_due(now=NIGHT)["retrying"] == 1
    rows = Notification.objects.all()
    assert {r.status for r in rows} == {Status.PENDING}
    assert {r.folded_into_id for r in rows} == {None}
    assert len({r.next_attempt_at for r in rows}) == 1  # they retry together
