"""Real SMTP: notifications.transports through Django's SMTP backend to a local aiosmtpd
server, and what the bytes that arrive look like to Python's email parser."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller

from notifications.transports import Message, PermanentError, TransientError, send

SUBJECT = "[INC-7] Escalade « critique » — Zürich ☃"
TEXT = "Bonjour,\n\nl'incident INC-7 a été escaladé au niveau 2. Ça presse ☃.\n"
HTML = "<p>L'incident <b>INC-7</b> a été escaladé. Ça presse ☃.</p>"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


class Collector:
    """aiosmtpd handler: keeps what it accepts; `rcpt_reply`/`data_reply` refuse instead."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smtp_mailer(port: int) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


@pytest.fixture
def smtp(settings):
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()  # returns once the server answers
    settings.MAILERS = smtp_mailer(controller.port)
    settings.DEFAULT_FROM_EMAIL = "Escalation Portal <escalations@portal.example>"
    try:
        yield handler
    finally:
        controller.stop()


def message(**kwargs) -> Message:
    fields = {
        "channel": "email",
        "recipient": "Équipe d'astreinte <oncall@example.com>",
        "subject": SUBJECT,
        "text": TEXT,
        "html": HTML,
    } | kwargs
    return Message(**fields)


def crlf_to_lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def parse(data: bytes) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    for part in parsed.walk():
        assert part.defects == [], (part.get_content_type(), part.defects)
    return parsed


def test_delivers_a_well_formed_multipart_message(smtp):
    sent = send(
        message(
            reply_to="support@portal.example",
            headers={
                "In-Reply-To": "<inc-7.1@portal.example>",
                "References": "<inc-7.0@portal.example> <inc-7.1@portal.example>",
            },
        )
    )

    [received] = smtp.received
    assert received.mail_from == "escalations@portal.example"
    assert received.rcpt_tos == ["oncall@example.com"]
    head = received.data.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")  # non-ASCII headers went out RFC 2047-encoded

    msg = parse(received.data)
    assert msg.defects == []
    assert msg["Subject"] == SUBJECT
    assert msg["From"].addresses[0].addr_spec == "escalations@portal.example"
    assert msg["From"].addresses[0].display_name == "Escalation Portal"
    assert msg["To"].addresses[0].addr_spec == "oncall@example.com"
    assert msg["To"].addresses[0].display_name == "Équipe d'astreinte"
    assert msg["Reply-To"] == "support@portal.example"
    assert msg["Message-ID"] == sent.message_id == sent.provider_message_id
    assert sent.message_id.endswith("@portal.example>")
    assert msg["In-Reply-To"] == "<inc-7.1@portal.example>"
    assert msg["References"] == "<inc-7.0@portal.example> <inc-7.1@portal.example>"
    assert msg["Date"].datetime is not None

    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content_charset() == "utf-8"
    assert plain["Content-Transfer-Encoding"] in ("7bit", "8bit", "quoted-printable", "base64")
    assert crlf_to_lf(plain.get_content()) == TEXT  # text travels with CRLF line ends
    assert html.get_content_type() == "text/html"
    assert html.get_content_charset() == "utf-8"
    assert crlf_to_lf(html.get_content()).rstrip("\n") == HTML


def test_plain_text_only_keeps_callers_message_id(smtp):
    sent = send(message(html="", headers={"Message-ID": "<inc-9.1@portal.example>"}))

    [received] = smtp.received
    msg = parse(received.data)
    assert msg.defects == []
    assert msg.get_content_type() == "text/plain"
    assert crlf_to_lf(msg.get_content()) == TEXT
    assert msg["Message-ID"] == "<inc-9.1@portal.example>" == sent.provider_message_id
    assert "Reply-To" not in msg


def test_recipient_refused_with_550_is_permanent(smtp):
    smtp.rcpt_reply = "550 5.1.1 <oncall@example.com>: user unknown"

    with pytest.raises(PermanentError) as caught:
        send(message())

    assert caught.value.status == 550
    assert "550" in str(caught.value) and "user unknown" in str(caught.value)
    assert smtp.received == []


def test_recipient_deferred_with_451_is_transient(smtp):
    smtp.rcpt_reply = "451 4.7.1 Greylisted, try again later"

    with pytest.raises(TransientError) as caught:
        send(message())

    assert caught.value.status == 451
    assert "451" in str(caught.value)
    assert smtp.received == []


def test_data_deferred_with_451_is_transient(smtp):
    smtp.data_reply = "451 4.3.0 Local problem, try later"
    with pytest.raises(TransientError) as caught:
        send(message())
    assert caught.value.status == 451


def test_data_rejected_with_554_is_permanent(smtp):
    smtp.data_reply = "554 5.7.1 Message refused"
    with pytest.raises(PermanentError) as caught:
        send(message())
    assert caught.value.status == 554


def test_closed_port_is_transient(settings):
    settings.MAILERS = smtp_mailer(free_port())  # nothing listens there

    with pytest.raises(TransientError, match=r"email: network error \(ConnectionRefusedError\)"):
        send(message())


def test_server_that_never_greets_times_out(settings):
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        settings.MAILERS = smtp_mailer(silent.getsockname()[1])

        started = time.monotonic()
        with pytest.raises(TransientError, match="email: timed out"):
            send(message(), timeout=0.2)  # overrides the mailer's 5 s
        assert time.monotonic() - started < 3
