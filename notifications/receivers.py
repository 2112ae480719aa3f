"""anymail's inbound signal, handed to the inbound service (like a view would)."""

from __future__ import annotations

from anymail.signals import inbound
from django.dispatch import receiver
from django.utils.html import strip_tags

from .inbound import inbound_receive


@receiver(inbound, dispatch_uid="notifications.customer_reply")
def customer_mail_received(sender, event, esp_name, **kwargs) -> None:
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
