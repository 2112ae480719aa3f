"""The demo's follow-up work: a Sev 1 that ran its whole life, a live war room, reviews in
several states and overdue action items, the same for the same seed and time."""

from datetime import UTC, datetime

import pytest

from escalations.models import (
    ActionItem,
    PostIncidentReview,
    VendorCase,
    WarRoom,
)
from incidents.models import EventKind, Incident
from notifications.models import Notification
from portal.demo import LIVE_TITLE, SEV1_TITLE, load_demo

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
FOLLOW_UP_KINDS = [
    EventKind.WAR_ROOM_ACTIVATED,
    EventKind.WAR_ROOM_CLOSED,
    EventKind.COMMANDER_DECISION,
    EventKind.VENDOR_CASE,
    EventKind.REVIEW,
    EventKind.REVIEW_PUBLISHED,
    EventKind.ACTION_ITEM,
    EventKind.PUBLIC_UPDATE,
]


def summary():
    """The newest Sev 1 showcase, as plain values."""
    sev1 = Incident.objects.filter(title=SEV1_TITLE).latest("pk")
    review = sev1.review
    return {
        "sev1": (sev1.status, sev1.severity, sev1.opened_at, sev1.resolved_at),
        "review": (review.status, review.published_at, review.due_at, review.customers_impacted),
        "items": sorted(
            ActionItem.objects.filter(review=review).values_list(
                "title", "status", "due_date", "closed_at"
            )
        ),
        # Follow-up events only: pattern triggers count what an earlier load left behind.
        "events": list(
            sev1.events.filter(kind__in=FOLLOW_UP_KINDS)
            .order_by("at", "id")
            .values_list("kind", "at")
        ),
    }


def test_the_demo_runs_a_sev1_through_its_whole_life(roles):
    load_demo(count=40, seed=11, now=NOW)
    sev1 = Incident.objects.get(title=SEV1_TITLE)
    assert sev1.status == "resolved" and sev1.severity == "P0"
    room = WarRoom.objects.get(incident=sev1)
    assert room.closed_at == sev1.resolved_at
    kinds = set(sev1.events.values_list("kind", flat=True))
    assert {
        EventKind.WAR_ROOM_ACTIVATED,
        EventKind.COMMANDER_DECISION,
        EventKind.VENDOR_CASE,
        EventKind.REVIEW_PUBLISHED,
    } <= kinds
    # The cadence reminders of its war room were sent (as demo history, not mailed).
    reminders = Notification.objects.filter(incident=sev1, kind="war_room_update_due")
    assert reminders.count() >= 2
    assert set(reminders.values_list("status", flat=True)) == {"suppressed"}
    review = sev1.review
    assert review.status == "published" and review.published_at <= review.due_at
    assert review.action_items.count() == 5
    assert review.action_items.filter(closed_at__isnull=False).count() == 2
    # A live war room with an update due soon and a vendor who is late.
    live = Incident.objects.get(title=LIVE_TITLE)
    room = WarRoom.objects.get(incident=live, closed_at__isnull=True)
    assert room.update_due_at > NOW
    assert VendorCase.objects.get(incident=live).next_update_expected_at < NOW
    # ...published on the public status page (seed 002) under a public title.
    assert (live.status_page_title, live.status_page_state) == (
        "Slow search in Europe",
        "identified",
    )
    # Reviews in other states, and overdue action items for the queues.
    states = set(PostIncidentReview.objects.values_list("status", flat=True))
    assert states == {"draft", "in_review", "published"}
    assert ActionItem.objects.filter(status__in=["open", "in_progress"], due_at__lt=NOW).exists()


def test_the_follow_up_demo_is_deterministic(roles):
    load_demo(count=40, seed=11, now=NOW)
    first = summary()
    load_demo(count=40, seed=11, now=NOW)  # the same seed and time: the same life again
    assert summary() == first
