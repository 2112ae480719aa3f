"""Customer replies by email: kept, and matched to their incident by headers.

Mail comes in through anymail's inbound webhook (any ESP; see webhooks.py).
A reply is matched by the Message-IDs it answers (In-Reply-To, References)
against the customer emails the outbox sent, never by its subject. Unmatched
mail is kept for triage in the admin, never dropped. The ESP may post the same
message twice: its Message-ID makes the second time a no-op. Appending a reply
to its case is the domain's part (its inbound_mail module).
"""

from __future__ import annotations

import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.models import CUSTOMER_KINDS, InboundMessage, InboundStatus, Notification

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def message_ids(in_reply_to: str, references: str) -> list[str]:
    """The Message-IDs a mail answers, nearest first: its parent (In-Reply-To),
    then its thread from newest to oldest (References lists oldest first)."""
    found: list[str] = []
    for mid in [
        *_MESSAGE_ID.findall(in_reply_to or ""),
        *_MESSAGE_ID.findall(references or "")[::-1],
    ]:
        if mid not in found:
            found.append(mid)
    return found


def matching_incident_id(candidates: list[str]) -> int | None:
    """The incident of the nearest customer email (or earlier matched reply) answered."""
    if not candidates:
        return None
    known = dict(
        Notification.objects.filter(
            message_id__in=candidates, kind__in=CUSTOMER_KINDS, incident__isnull=False
        ).values_list("message_id", "incident_id")
    )
    known.update(
        InboundMessage.objects.filter(message_id__in=candidates, incident__isnull=False)
        .exclude(message_id="")
        .values_list("message_id", "incident_id")
    )
    return next((known[mid] for mid in candidates if mid in known), None)


@transaction.atomic
def inbound_store(
    *,
    from_email: str,
    subject: str,
    text: str,
    message_id: str,
    in_reply_to: str = "",
    references: str = "",
    esp: str = "",
    now: datetime | None = None,
) -> tuple[InboundMessage, bool]:
    """Keep one inbound mail, matched to the incident of the customer email it answers.

    Returns the row and whether it is new: False when the ESP posted this message
    before (or twice at once), so its reply is appended once."""
    now = now or timezone.now()
    message_id = message_id.strip()[:500]
    if message_id:
        existing = InboundMessage.objects.filter(message_id=message_id).first()
        if existing is not None:
            return existing, False  # posted again by the ESP: once is enough
    incident_id = matching_incident_id(message_ids(in_reply_to, references))
    row = InboundMessage(
        received_at=now,
        from_email=from_email[:320],
        subject=subject[:500],
        text=text,
        message_id=message_id,
        in_reply_to=in_reply_to[:500],
        references=references,
        incident_id=incident_id,
        status=InboundStatus.MATCHED if incident_id else InboundStatus.UNMATCHED,
        esp=esp[:40],
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        # The same message, posted twice at once: the other request keeps it.
        return InboundMessage.objects.get(message_id=message_id), False
    return row, True


def inbound_mark_attached(*, message: InboundMessage, incident) -> InboundMessage:
    """Triage: unmatched mail now belongs to `incident` (the caller checked who may)."""
    updated = InboundMessage.objects.filter(pk=message.pk, status=InboundStatus.UNMATCHED).update(
        status=InboundStatus.ATTACHED, incident=incident
    )
    if not updated:
        raise ValidationError("This message is attached to an incident already.")
    message.refresh_from_db()
    return message
