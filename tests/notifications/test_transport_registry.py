"""Transports are a registry of kinds: one class per channel, `send` dispatches through it."""

import pytest

from notifications import transports
from notifications.models import Channel
from notifications.transports import (
    CHANNELS,
    TRANSPORTS,
    Message,
    PermanentError,
    Sent,
    Transport,
    register_transport,
    send,
)


def test_every_channel_a_notification_can_have_has_its_transport():
    assert CHANNELS == ("email", "slack", "pagerduty", "webhook")
    assert set(TRANSPORTS) == set(Channel.values)
    for kind, transport in TRANSPORTS.items():
        assert isinstance(transport, Transport)
        assert transport.kind == kind


def test_send_hands_the_message_to_its_channels_transport(monkeypatch):
    seen = []

    class Fax(Transport):
        kind = "fax"

        def send(self, message, timeout):
            seen.append((message.recipient, timeout))
            return Sent("fax-1")

    monkeypatch.setitem(TRANSPORTS, "fax", Fax())
    assert send(Message(channel="fax", recipient="+15550100"), timeout=3) == Sent("fax-1")
    assert seen == [("+15550100", 3)]


def test_an_unknown_channel_names_the_registered_ones():
    with pytest.raises(PermanentError) as refused:
        send(Message(channel="sms", recipient="+15550100"))
    assert str(refused.value) == (
        "unknown channel 'sms' (expected one of email, slack, pagerduty, webhook)"
    )
    assert refused.value.transient is False


def test_registering_a_transport_adds_its_kind(monkeypatch):
    monkeypatch.setattr(transports, "TRANSPORTS", dict(TRANSPORTS))

    @register_transport
    class Pigeon(Transport):
        kind = "pigeon"

    assert isinstance(transports.TRANSPORTS["pigeon"], Pigeon)
    assert "pigeon" not in TRANSPORTS  # the real registry is untouched

    with pytest.raises(ValueError, match="names no kind"):
        register_transport(type("Nameless", (Transport,), {}))
