"""One delivery kick per committed transaction that queued rows, none on rollback:
asked for with on_commit's public API only (no peeking at Django's callback list)."""

import pytest
from django.db import transaction

from notifications import services, tasks
from notifications.models import Notification
from portal.celery import app


def queue(key: str):
    return services.notification_enqueue(
        kind="test", channel="email", recipient="lead@example.com", dedup_key=key, text="Body"
    )


@pytest.fixture
def kicks(monkeypatch):
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, *a, **kw: sent.append(name))
    return sent


@pytest.mark.django_db(transaction=True)
def test_each_committed_transaction_kicks_once_and_a_rolled_back_one_not(kicks):
    with transaction.atomic():
        queue("a")
        queue("b")
        assert kicks == []  # nothing before the commit
    assert len(kicks) == 1

    with pytest.raises(RuntimeError), transaction.atomic():
        queue("c")
        raise RuntimeError("the change failed")
    assert len(kicks) == 1

    with transaction.atomic():  # the rolled-back one does not silence the next
        queue("d")
        queue("e")
    assert len(kicks) == 2

    queue("f")  # autocommit: the row is committed, the kick goes at once
    assert len(kicks) == 3
    assert sorted(Notification.objects.values_list("dedup_key", flat=True)) == [
        "a",
        "b",
        "d",
        "e",
        "f",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_savepoint_rolled_back_does_not_take_the_transactions_kick_with_it(kicks):
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            queue("inner")  # the kick registered here is dropped with the savepoint
            raise RuntimeError("this part failed")
        queue("outer")
    assert len(kicks) == 1
    assert list(Notification.objects.values_list("dedup_key", flat=True)) == ["outer"]

    with transaction.atomic():
        queue("first")
        with pytest.raises(RuntimeError), transaction.atomic():
            queue("inner-2")
            raise RuntimeError("this part failed")
    assert len(kicks) == 2  # the outer kick survived the savepoint's rollback


@pytest.mark.django_db
def test_one_kick_per_transaction_each_time(django_capture_on_commit_callbacks, kicks):
    for key in ("x", "y"):
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            transaction.atomic(),
        ):
            queue(f"{key}1")
            queue(f"{key}2")
        assert [cb.__name__ for cb in callbacks] == ["_kick"]
    assert len(kicks) == 2


def test_the_kick_names_the_delivery_task():
    assert tasks.deliver_due.name == services.DELIVERY_TASK
