"""Who hears about cover requests and taken shifts: the other person, by email, through
the outbox (rows written in the caller's transaction, sent after it commits).

One kind, `oncall_cover`, with the event (requested, accepted, declined, cancelled, taken)
in its snapshot; the bodies are rendered at delivery from it (notifications.rendering).
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from notifications.models import Channel, Notification
from notifications.rendering import render_subject
from notifications.services import notifications_enqueue_many, with_message_id

KIND = "oncall_cover"
EVENTS = ("requested", "accepted", "declined", "cancelled", "taken")


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(str(name or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def _when(value: datetime, zone) -> str:
    local = timezone.localtime(value, zone)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or str(zone))


def requests_url() -> str:
    return settings.SITE_URL + reverse("oncall_requests")


def tell(
    *,
    event: str,
    key: str,
    recipient,
    actor,
    schedule,
    start: datetime,
    end: datetime,
    reason: str = "",
    swap: tuple[datetime, datetime] | None = None,
    now: datetime | None = None,
) -> int:
    """Queue one email to `recipient` (a user) about `event`; `key` makes deciding twice
    harmless (the outbox's unique dedup key). Nobody to write to (no address, inactive):
    nothing. Returns how many rows were offered."""
    assert event in EVENTS, event
    if recipient is None or not recipient.is_active or not recipient.email:
        return 0
    now = timezone.now() if now is None else now
    zone = _zone(getattr(recipient, "time_zone", "UTC"))
    context = {
        "event": event,
        "actor": str(actor),
        "schedule": schedule.name,
        "start": _when(start, zone),
        "end": _when(end, zone),
        "reason": reason,
        # A swap: the person asking covers this interval of the other's in return.
        "swap": {"start": _when(swap[0], zone), "end": _when(swap[1], zone)} if swap else None,
        "url": requests_url(),
        "subject_line": "",
    }
    headers = with_message_id(Channel.EMAIL, {})
    row = Notification.unsaved(
        kind=KIND,
        channel=Channel.EMAIL,
        recipient=recipient.email,
        recipient_user_id=recipient.pk,
        subject=render_subject(KIND, context)[:255],
        context=context,
        dedup_key=f"{KIND}:{key}:{event}:email:{recipient.email.lower()}"[:255],
        headers=headers,
        message_id=headers.get("Message-ID", ""),
        urgent=event == "taken",  # they are off call at once: no fold, no quiet hours
        next_attempt_at=now,
    )
    return notifications_enqueue_many([row])
