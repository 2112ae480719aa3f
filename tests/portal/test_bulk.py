"""Fast appends (COPY on PostgreSQL) write what save() would have written."""

import pytest
from django.utils import timezone

from incidents.models import IncidentEvent
from notifications.models import Notification
from portal.bulk import append_dicts, append_rows_ignoring_duplicates
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


def test_append_dicts_fills_defaults_and_json(agent):
    incident = make_incident(actor=agent)
    now = timezone.now()
    append_dicts(
        IncidentEvent,
        [
            {
                "incident_id": incident.pk,
                "kind": "sla_threshold",
                "at": now,
                "data": {"percent": 50, "nested": {"a": [1, 2]}},
            },
        ],
    )
    event = incident.events.get(kind="sla_threshold")
    assert event.data == {"percent": 50, "nested": {"a": [1, 2]}}
    assert event.visibility == "internal" and event.body == ""  # defaults
    assert event.recorded_at is not None  # auto_now_add
    assert event.actor is None


def outbox_row(key: str, **json) -> Notification:
    return Notification(
        kind="test",
        channel="email",
        recipient="a@example.com",
        dedup_key=key,
        next_attempt_at=timezone.now(),
        **json,
    )


def test_duplicates_are_skipped_and_the_rest_kept(agent):
    def row(key):
        return outbox_row(key, payload={"k": key})

    append_rows_ignoring_duplicates(Notification, [row("one")])
    append_rows_ignoring_duplicates(Notification, [row("one"), row("two")])
    assert sorted(Notification.objects.values_list("dedup_key", flat=True)) == ["one", "two"]
    assert Notification.objects.get(dedup_key="two").payload == {"k": "two"}


def test_json_columns_are_stored_as_save_stores_them():
    """Shared snapshots are serialised once per COPY, empty ones from a constant:
    every row still reads back its own value, as save() would have stored it."""
    shared = {"title": 'Zahlung schlägt fehl \u2013 "quoted"\ttab\\slash', "n": [1, 2.5, None]}

    row = outbox_row
    rows = [
        row("a", context=shared, payload={}, headers={}),
        row("b", context=shared, payload={"list": []}, headers={"Message-ID": "<b@x>"}),
        row("c", context={}, payload={1: "int key"}, headers={}),
    ]
    append_rows_ignoring_duplicates(Notification, rows)
    stored = {
        key: (context, payload, headers)
        for key, context, payload, headers in Notification.objects.values_list(
            "dedup_key", "context", "payload", "headers"
        )
    }
    assert stored == {
        "a": (shared, {}, {}),
        "b": (shared, {"list": []}, {"Message-ID": "<b@x>"}),
        "c": ({}, {"1": "int key"}, {}),  # JSON keys are strings, as json.dumps makes them
    }
