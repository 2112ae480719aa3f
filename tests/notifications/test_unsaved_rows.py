"""Notification.unsaved builds the same row as Notification(...), only faster."""

from datetime import UTC, datetime

import pytest
from django.db.models import signals

from incidents.models import Incident
from notifications.models import Notification
from tests.factories import make_incident

VALUES = {
    "kind": "escalation",
    "channel": "email",
    "recipient": "lead@example.com",
    "subject": "[ESCALATION] Checkout down",
    "context": {"incident": {"reference": "X-1"}},
    "headers": {"Message-ID": "<1@example.com>"},
    "message_id": "<1@example.com>",
    "dedup_key": "escalation:1:email:lead@example.com",
    "urgent": True,
    "next_attempt_at": datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
}


def fields(row: Notification) -> dict:
    return {f.attname: getattr(row, f.attname) for f in Notification._meta.concrete_fields}


@pytest.mark.django_db
def test_unsaved_is_the_row_the_constructor_builds():
    incident = make_incident()
    fast = Notification.unsaved(incident=incident, **VALUES)
    slow = Notification(incident=incident, **VALUES)
    assert fields(fast) == {**fields(slow), "created_at": None}
    assert fast._state.adding and fast.pk is None
    assert fast.incident is incident  # no query: the incident is cached on the row
    fast.payload["added"] = 1
    assert Notification.unsaved(incident=incident, **VALUES).payload == {}  # fresh defaults
    fast.save()
    stored = Notification.objects.get(pk=fast.pk)
    assert stored.incident_id == incident.pk and stored.context == VALUES["context"]
    assert stored.status == "pending" and stored.created_at is not None


def test_unknown_fields_are_refused():
    with pytest.raises(TypeError, match="recipient_usr"):
        Notification.unsaved(recipient_usr=1, **VALUES)


def test_a_post_init_receiver_gets_the_constructor():
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    signals.post_init.connect(receiver, sender=Notification)
    try:
        row = Notification.unsaved(incident=Incident(pk=7, reference="X-7"), **VALUES)
    finally:
        signals.post_init.disconnect(receiver, sender=Notification)
    assert seen == [row]
