"""The outbox's state changes that need a person's permission."""

from __future__ import annotations

from incidents.permissions import require
from notifications.models import Notification
from notifications.services import notification_requeue


def notification_retry(*, notification: Notification, actor=None) -> Notification:
    """A manager sends a failed notification again (admin action)."""
    require(actor, "notification.retry")
    return notification_requeue(
        notification=notification, note=f"retried by {actor}" if actor else "retried"
    )
