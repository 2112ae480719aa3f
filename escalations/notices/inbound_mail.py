"""Customer replies by email reach their incident.

notifications keeps the mail and matches it by Message-ID (notifications.inbound);
here a matched reply, or one a person attaches in triage, is appended to its
incident as a customer reply. anymail's inbound signal is connected to
`customer_mail_received` in EscalationsConfig.ready().
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.html import strip_tags

from incidents.models import Incident
from incidents.permissions import require
from incidents.services import incident_customer_reply
from notifications.inbound import inbound_mark_attached, inbound_store
from notifications.models import InboundMessage


@transaction.atomic
def inbound_receive(
    *,
    from_email: str,
    subject: str,
    text: str,
    message_id: str,
    in_reply_to: str = "",
    references: str = "",
    esp: str = "",
    now: datetime | None = None,
) -> InboundMessage:
    """Keep one inbound mail; if it answers a customer email, append it to that incident."""
    now = now or timezone.now()
    row, created = inbound_store(
        from_email=from_email,
        subject=subject,
        text=text,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        esp=esp,
        now=now,
    )
    if created and row.incident_id is not None:
        incident_customer_reply(
            incident=Incident.objects.get(pk=row.incident_id),
            body=text or "(empty message)",
            from_email=from_email,
            via="email",
            subject=subject,
            now=now,
        )
    return row


@transaction.atomic
def inbound_attach(*, message: InboundMessage, incident, actor, now=None) -> InboundMessage:
    """Triage: a person attaches unmatched mail to the incident it belongs to."""
    require(actor, "inbound.attach", incident=incident)
    now = now or timezone.now()
    message = inbound_mark_attached(message=message, incident=incident)
    incident_customer_reply(
        incident=incident,
        body=message.text or "(empty message)",
        from_email=message.from_email,
        via=f"email, attached by {actor}",
        subject=message.subject,
        now=now,
    )
    return message


def customer_mail_received(sender, event, esp_name, **kwargs) -> None:
    """anymail's inbound signal, handed to the inbound service (like a view would)."""
    message = event.message
    text = message.stripped_text or message.text or strip_tags(message.html or "")
    inbound_receive(
        from_email=message.from_email.addr_spec if message.from_email else "",
        subject=message.subject or "",
        text=(text or "").strip(),
        message_id=str(message.get("Message-ID", "") or ""),
        in_reply_to=str(message.get("In-Reply-To", "") or ""),
        references=str(message.get("References", "") or ""),
        esp=esp_name,
    )
