"""The outbox: written with the change, sent after commit, claimed once, retried, never lost."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from escalations.notices import outbox
from notifications import services
from notifications.models import Notification, Status
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def test_mailer(settings):
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    settings.NOTIFICATION_MAX_ATTEMPTS = 3


def queue(key="k1", channel="email", recipient="lead@example.com", **extra):
    return services.notification_enqueue(
        kind="test",
        channel=channel,
        recipient=recipient,
        dedup_key=key,
        subject="Hello",
        text="Body",
        **extra,
    )


def test_delivery_is_asked_for_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        queue("a")
        queue("b")
    # one kick per transaction, however many rows it queued
    assert [cb.__name__ for cb in callbacks] == ["_kick"]


def test_a_rolled_back_change_leaves_nothing_to_send(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue("a")
        raise RuntimeError("the change failed")
    assert callbacks == []
    assert not Notification.objects.exists()


def test_the_same_decision_twice_queues_one_message():
    assert queue("same") is not None
    assert queue("same") is None
    assert Notification.objects.count() == 1


def test_email_is_sent_with_a_stable_message_id():
    from django.core import mail

    row = queue()
    message_id = row.headers["Message-ID"]
    assert services.deliver_due()["sent"] == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 1 and row.sent_at
    assert row.provider_message_id
    assert mail.outbox[0].extra_headers["Message-ID"] == message_id
    assert services.deliver_due() == {
        "sent": 0,
        "retrying": 0,
        "failed": 0,
        "released": 0,
        "lost_claims": 0,
    }


def test_transient_errors_retry_with_backoff_then_fail(httpserver):
    httpserver.expect_request("/hook").respond_with_data("boom", status=503)
    row = queue(channel="webhook", recipient=httpserver.url_for("/hook"))
    now = timezone.now()
    services.deliver_due(now=now)
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 1
    assert "503" in row.last_error
    assert row.next_attempt_at > now  # backoff, not a hot loop
    assert services.deliver_due(now=now)["sent"] == 0  # not due yet
    services.deliver_due(now=row.next_attempt_at)
    row.refresh_from_db()
    services.deliver_due(now=row.next_attempt_at)
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.attempts == 3


def test_retry_succeeds_when_the_service_recovers(httpserver):
    httpserver.expect_oneshot_request("/hook").respond_with_data("busy", status=429)
    httpserver.expect_oneshot_request("/hook").respond_with_data("ok", status=200)
    row = queue(channel="webhook", recipient=httpserver.url_for("/hook"))
    services.deliver_due()
    row.refresh_from_db()
    services.deliver_due(now=row.next_attempt_at)
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 2
    assert len(httpserver.log) == 2  # exactly one delivery that worked, nothing doubled


def test_permanent_errors_fail_at_once(httpserver):
    httpserver.expect_request("/hook").respond_with_data("bad", status=400)
    row = queue(channel="webhook", recipient=httpserver.url_for("/hook"))
    assert services.deliver_due()["failed"] == 1
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.attempts == 1 and "400" in row.last_error


def test_a_failed_row_can_be_retried(httpserver):
    httpserver.expect_request("/hook").respond_with_data("bad", status=400)
    row = queue(channel="webhook", recipient=httpserver.url_for("/hook"))
    services.deliver_due()
    outbox.notification_retry(notification=row, actor=None)
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 0


def test_not_before_holds_a_message_back():
    later = timezone.now() + timedelta(hours=2)
    row = queue(not_before=later)
    assert services.deliver_due()["sent"] == 0
    assert services.deliver_due(now=later)["sent"] == 1
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_a_claimed_row_is_not_claimed_again():
    row = queue()
    now = timezone.now()
    first = services.claim_due(now=now, limit=10)
    assert [r.pk for r in first] == [row.pk]
    assert services.claim_due(now=now, limit=10) == []
    # A late second delivery of the same claim changes nothing once it is sent.
    services.deliver(first[0])
    services.deliver(first[0])
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 1


def test_rows_of_a_dead_worker_go_back_to_pending_but_sent_ones_never(settings):
    settings.NOTIFICATION_CLAIM_LEASE = 60
    lost, done = queue("lost"), queue("done")
    claimed_at = timezone.now()
    assert len(services.claim_due(now=claimed_at, limit=10)) == 2
    Notification.objects.filter(pk=done.pk).update(status=Status.SENT)
    assert services.release_stale_claims(now=claimed_at + timedelta(seconds=30)) == 0
    assert services.release_stale_claims(now=claimed_at + timedelta(minutes=10)) == 1
    lost.refresh_from_db()
    done.refresh_from_db()
    assert lost.status == Status.PENDING and "worker lost" in lost.last_error
    assert done.status == Status.SENT


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_drains_send_each_row_once():
    from django.core import mail

    for n in range(60):
        queue(f"row-{n}", recipient=f"person{n}@example.com")
    run_together(lambda: services.deliver_due(batch=5), threads=3)
    assert Notification.objects.filter(status=Status.SENT, attempts=1).count() == 60
    recipients = [message.to[0] for message in mail.outbox]
    assert len(recipients) == 60 == len(set(recipients))


def test_claimed_rows_are_delivered_oldest_first():
    from django.core import mail

    now = timezone.now()
    queue("later", recipient="second@example.com", not_before=now + timedelta(seconds=1))
    queue("sooner", recipient="first@example.com")
    services.deliver_due(now=now + timedelta(seconds=2))
    assert [m.to[0] for m in mail.outbox] == ["first@example.com", "second@example.com"]


@pytest.mark.parametrize(
    ("site_url", "domain"),
    [
        ("https://portal.example.com/escalations/", "portal.example.com"),
        ("http://127.0.0.1:8000", "127.0.0.1"),
        ("http://[::1]:8000", "[::1]"),
    ],
)
def test_the_message_id_names_the_sites_host(settings, site_url, domain):
    """A Message-ID's right side is SITE_URL's host alone: no port, no path, an IPv6
    address as a domain literal (it was "[" for http://[::1]:8000)."""
    settings.SITE_URL = site_url
    message_id = queue().headers["Message-ID"]
    assert message_id.endswith(f"@{domain}>"), message_id


# The forked child only makes ids and writes them to a pipe before os._exit: none of
# the locks another thread might hold at the fork is taken.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_message_ids_have_make_msgids_shape_and_never_repeat():
    """<time.pid.random@domain>, as email.utils.make_msgid; unique in a process by its
    count, across processes (a forked worker too) by the random part drawn in each."""
    import os
    import re

    ids = [services.new_message_id("portal.example") for _ in range(1000)]
    assert all(re.fullmatch(r"<\d+\.\d+\.\d+@portal\.example>", i) for i in ids), ids[:3]
    assert len(set(ids)) == len(ids)

    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # a forked worker: its own pid and random part
        try:
            os.write(write, "\n".join(services.new_message_id("x") for _ in range(3)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        forked = pipe.read().split("\n")
    os.waitpid(child, 0)
    mine = [services.new_message_id("x") for _ in range(3)]
    assert len(forked) == 3 and not set(forked) & set(mine)
    assert {i.split(".")[1] for i in forked} == {str(child)}
    assert {i.split(".")[2][:20] for i in forked}.isdisjoint(i.split(".")[2][:20] for i in mine)
