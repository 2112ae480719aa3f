"""Fast appends (COPY on PostgreSQL) write what save() would have written."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from incidents.models import IncidentEvent
from notifications.models import Notification
from portal import bulk
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


HOSTILE = "tab\there, new\nline, cr\rhere, back\\slash \\N \\t, 'quote\" Zahlung \u2013 \U0001f525"


@pytest.mark.postgres
def test_copy_stores_hostile_text_instants_and_json_as_save_does(agent):
    """COPY's text format escapes backslash, tab, newline and CR; None is NULL; an
    instant is the same instant whatever its zone; JSON keeps its escapes. What COPY
    stores reads back exactly as what save() stores."""
    from zoneinfo import ZoneInfo

    incident = make_incident(actor=agent)
    utc = timezone.now()
    berlin = utc.astimezone(ZoneInfo("Europe/Berlin"))
    snapshot = {"title": HOSTILE, "lines": [HOSTILE, None, 1.5, True], HOSTILE: {"k": ""}}

    def row(key, **values):
        values = {"next_attempt_at": utc, **values}
        return Notification.unsaved(
            incident=incident,
            kind="test",
            channel="email",
            recipient=HOSTILE,
            dedup_key=key,
            **values,
        )

    copied = [
        row("copied-a", subject=HOSTILE, body_text=HOSTILE, context=snapshot),
        row("copied-b", context=snapshot, claimed_at=berlin, lease_until=None, last_error="\\"),
        row("copied-c", headers={"Message-ID": HOSTILE}, next_attempt_at=berlin),
    ]
    append_rows_ignoring_duplicates(Notification, copied)
    saved = [
        row("saved-a", subject=HOSTILE, body_text=HOSTILE, context=snapshot),
        row("saved-b", context=snapshot, claimed_at=berlin, lease_until=None, last_error="\\"),
        row("saved-c", headers={"Message-ID": HOSTILE}, next_attempt_at=berlin),
    ]
    for one in saved:
        one.save()

    columns = [
        f.attname
        for f in Notification._meta.concrete_fields
        if f.attname not in ("id", "dedup_key", "created_at")
    ]

    def stored(prefix):
        rows = Notification.objects.filter(dedup_key__startswith=prefix).order_by("dedup_key")
        return list(rows.values_list(*columns))

    assert stored("copied-") == stored("saved-")
    a = Notification.objects.get(dedup_key="copied-a")
    assert a.subject == a.body_text == a.recipient == HOSTILE and a.context == snapshot
    assert Notification.objects.get(dedup_key="copied-b").claimed_at == utc
    assert Notification.objects.get(dedup_key="copied-c").next_attempt_at == utc


@pytest.mark.postgres
def test_nul_in_text_is_refused_and_nothing_is_stored():
    """PostgreSQL text cannot hold NUL: the COPY fails (psycopg refuses the value) and
    no row of the batch is kept."""
    rows = [outbox_row("fine"), outbox_row("nul", subject="a\x00b")]
    with pytest.raises(Exception, match=r"NUL|0x00"):
        append_rows_ignoring_duplicates(Notification, rows)
    assert not Notification.objects.exists()


def test_one_snapshot_and_instant_shared_by_many_rows_is_stored_for_each():
    """Rows sharing one snapshot dict and one instant object (a notice's recipients)
    each store the value, and a row with another dict stores its own."""
    now = timezone.now()
    shared = {"a": 1}
    rows = [outbox_row(f"r{i}", context=shared) for i in range(3)]
    for one in rows:
        one.next_attempt_at = now
    rows.append(outbox_row("other", context={"b": 2}))
    append_rows_ignoring_duplicates(Notification, rows)
    stored = dict(Notification.objects.values_list("dedup_key", "context"))
    assert stored == {"r0": {"a": 1}, "r1": {"a": 1}, "r2": {"a": 1}, "other": {"b": 2}}
    assert set(
        Notification.objects.filter(dedup_key__startswith="r").values_list(
            "next_attempt_at", flat=True
        )
    ) == {now}


def test_two_instants_of_one_wall_time_in_a_dst_fold_are_stored_apart():
    """01:30 in New York on 2026-11-01 happens twice (fold 0 at 05:30 UTC, fold 1 at
    06:30 UTC). The two compare equal in Python; each row keeps its own instant."""
    from zoneinfo import ZoneInfo

    new_york = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york)
    second = first.replace(fold=1)
    rows = [outbox_row("first"), outbox_row("second")]
    rows[0].next_attempt_at, rows[1].next_attempt_at = first, second
    append_rows_ignoring_duplicates(Notification, rows)
    stored = dict(Notification.objects.values_list("dedup_key", "next_attempt_at"))
    assert stored == {
        "first": datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        "second": datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    }


def test_a_foreign_key_given_as_an_instance_is_not_replaced_by_its_default(agent, monkeypatch):
    incident = make_incident(actor=agent)
    field = Notification._meta.get_field("incident")
    monkeypatch.setattr(field, "default", lambda: 10**9)
    monkeypatch.setitem(field.__dict__, "_get_default", field.default)  # Django caches it
    monkeypatch.setattr(bulk, "_UNSAVED", {})  # the plan is made again, with that default
    row = Notification.unsaved(incident=incident, kind="test", channel="email", recipient="x")
    assert row.incident_id == incident.pk and row.incident is incident
