"""Reminders for reviews and action items: before the due time and when overdue, once
per (object, reminder type, due instant), found by a sweep that reads only the indexed
next_reminder_at column."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from escalations.followup.reminders import reminder_sweep
from escalations.followup.reviews import (
    action_item_add,
    action_item_close,
    action_item_update,
    review_create,
)
from escalations.models import ActionItem, ActionItemStatus, PostIncidentReview
from incidents import services
from notifications.models import Notification
from tests.factories import make_incident

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(days=20)


@pytest.fixture
def resolved_p0(agent, t0):
    incident = make_incident(actor=agent, severity="P0", assignee=agent, opened_at=t0, now=t0)
    services.incident_change_status(
        incident=incident, status="resolved", actor=agent, note="Fixed", now=t0 + 2 * H
    )
    return incident


def reminders(kind, **filters):
    return list(
        Notification.objects.filter(kind=kind, **filters)
        .order_by("created_at", "id")
        .values_list("recipient", "subject")
    )


def test_review_reminded_before_due_and_when_overdue_once_each(resolved_p0, agent, manager, t0):
    review = PostIncidentReview.objects.get()
    due = t0 + 2 * H + 48 * H
    assert review.due_at == due
    assert review.next_reminder_at == due - 12 * H
    assert reminder_sweep(now=due - 12 * H - timedelta(seconds=1)) == {}
    assert reminder_sweep(now=due - 12 * H)["review_due_soon"] == 1
    review.refresh_from_db()
    assert review.next_reminder_at == due
    assert reminders("pir_reminder", subject__startswith="[PIR DUE SOON]") == [
        (agent.email, f"[PIR DUE SOON] {resolved_p0.reference} - {resolved_p0.title}")
    ]
    overdue = reminder_sweep(now=due + H)
    assert overdue["review_overdue"] == 1
    # Overdue goes up to the managers as well as the owner.
    assert {r for r, _ in reminders("pir_reminder", subject__startswith="[PIR OVERDUE]")} == {
        agent.email,
        manager.email,
    }
    review.refresh_from_db()
    assert review.next_reminder_at is None
    assert reminder_sweep(now=due + 2 * D) == {}  # nothing repeats


def test_a_sweep_that_missed_the_early_reminder_sends_only_the_overdue_one(resolved_p0, t0):
    due = t0 + 50 * H
    result = reminder_sweep(now=due + 5 * H)
    assert result == {"review_overdue": 1, "visited": 1}
    assert Notification.objects.filter(subject__startswith="[PIR DUE SOON]").count() == 0


def test_running_the_same_reminder_twice_sends_it_once(resolved_p0, t0):
    review = PostIncidentReview.objects.get()
    due = t0 + 50 * H
    reminder_sweep(now=due - 12 * H)
    # Simulate a second sweep that claimed the row before the first stored its next instant.
    PostIncidentReview.objects.filter(pk=review.pk).update(next_reminder_at=due - 12 * H)
    reminder_sweep(now=due - 11 * H)
    assert Notification.objects.filter(subject__startswith="[PIR DUE SOON]").count() == 1


def test_action_item_owner_is_told_then_reminded_two_days_before_and_when_overdue(
    resolved_p0, agent, other_agent, t0
):
    review = PostIncidentReview.objects.get()
    item = action_item_add(
        review=review,
        actor=agent,
        title="Add connection pool monitoring",
        owner=other_agent,
        due_date=(t0 + 10 * D).date(),
        now=t0 + 3 * H,
    )
    # The end of the due date where the owner lives (UTC here).
    end_of_day = datetime.combine((t0 + 11 * D).date(), time(0), tzinfo=UTC)
    assert item.due_at == end_of_day
    assert item.next_reminder_at == end_of_day - 2 * D
    assert reminders("action_item_reminder") == [
        (
            other_agent.email,
            f"[ACTION ITEM] Add connection pool monitoring ({resolved_p0.reference})",
        )
    ]
    reminder_sweep(now=end_of_day - 2 * D)
    reminder_sweep(now=end_of_day + H)
    subjects = [s for _, s in reminders("action_item_reminder")]
    assert subjects[1].startswith("[ACTION ITEM DUE ")
    assert subjects[2].startswith("[ACTION ITEM OVERDUE]")
    # Overdue also reaches the review's owner.
    assert {r for r, s in reminders("action_item_reminder") if "OVERDUE" in s} == {
        other_agent.email,
        agent.email,
    }


def test_moving_the_due_date_brings_new_reminders_and_closing_stops_them(resolved_p0, agent, t0):
    review = PostIncidentReview.objects.get()
    item = action_item_add(
        review=review,
        actor=agent,
        title="Fix leak",
        owner=agent,
        due_date=(t0 + 5 * D).date(),
        now=t0 + 3 * H,
    )
    first_due = item.due_at
    reminder_sweep(now=first_due + H)  # overdue
    moved = action_item_update(
        item=item, actor=agent, due_date=(t0 + 9 * D).date(), now=first_due + 2 * H
    )
    assert moved.due_at == first_due + 4 * D
    assert moved.next_reminder_at == moved.due_at - 2 * D
    reminder_sweep(now=moved.due_at - 2 * D)
    assert Notification.objects.filter(subject__startswith="[ACTION ITEM DUE").count() == 1
    closed = action_item_close(
        item=moved, actor=agent, status=ActionItemStatus.DONE, now=moved.due_at - D
    )
    assert closed.closed_by == agent and closed.closed_at == moved.due_at - D
    assert closed.next_reminder_at is None
    assert reminder_sweep(now=moved.due_at + D) == {}


def test_action_items_are_checked_before_anything_is_saved(resolved_p0, agent, t0):
    review = PostIncidentReview.objects.get()
    with pytest.raises(ValidationError) as caught:
        action_item_add(
            review=review,
            actor=agent,
            title=" ",
            owner=None,
            due_date=date(2000, 1, 1),
            now=t0 + 3 * H,
        )
    assert set(caught.value.message_dict) == {"title", "owner", "due_date"}
    assert not ActionItem.objects.exists()
    item = action_item_add(
        review=review,
        actor=agent,
        title="x",
        owner=agent,
        due_date=(t0 + D).date(),
        now=t0 + 3 * H,
    )
    with pytest.raises(ValidationError) as caught:
        action_item_close(item=item, actor=agent, status=ActionItemStatus.WONT_DO, note="")
    assert "note" in caught.value.message_dict


def test_nothing_due_costs_one_query_per_kind_of_object(resolved_p0, agent, t0):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    review = PostIncidentReview.objects.get()
    for n in range(5):
        action_item_add(
            review=review,
            actor=agent,
            title=f"Item {n}",
            owner=agent,
            due_date=(t0 + 10 * D).date(),
            now=t0 + 3 * H,
        )
    with CaptureQueriesContext(connection) as captured:
        assert reminder_sweep(now=t0 + 4 * H) == {}
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    # Reviews, action items, war rooms, vendor cases, regulatory reports: one indexed
    # claim each.
    assert len(reads) == 5
    assert all('"next_reminder_at" <=' in sql for sql in reads)


def test_hand_made_reviews_of_open_incidents_wait_for_resolution(agent, t0):
    incident = make_incident(actor=agent, severity="P2", opened_at=t0, now=t0)
    review = review_create(incident=incident, actor=agent, now=t0 + H)
    assert review.next_reminder_at is None
    assert not Notification.objects.filter(kind="pir_reminder").exists()


def test_a_new_owner_is_told_and_then_gets_the_reminders(resolved_p0, agent, other_agent, t0):
    review = PostIncidentReview.objects.get()
    item = action_item_add(
        review=review,
        actor=agent,
        title="Tune alerts",
        owner=agent,
        due_date=(t0 + 5 * D).date(),
        now=t0 + 3 * H,
    )
    item = action_item_update(item=item, actor=agent, owner=other_agent, now=t0 + 4 * H)
    assert reminders("action_item_reminder")[-1] == (
        other_agent.email,
        f"[ACTION ITEM] Tune alerts ({resolved_p0.reference})",
    )
    reminder_sweep(now=item.due_at - 2 * D)
    assert reminders("action_item_reminder")[-1][0] == other_agent.email
