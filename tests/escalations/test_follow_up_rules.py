"""The pure follow-up rules: when a review is required, reminder schedules, war-room
reasons, the review's duration and completeness, action-item metrics, timeline text.
No database."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from escalations.rules.followup import (
    ItemFacts,
    action_item_metrics,
    cadence_reminders,
    check_war_room_reason,
    deadline_reminders,
    missing_for_publication,
    next_reminder_at,
    next_visit,
    outage_duration,
    parse_timeline,
    reminder_to_send,
    review_due_at,
    review_required_reasons,
    spoken_duration,
    text_items,
    timeline_lines,
    timeline_text,
    war_room_reasons,
)
from escalations.rules.spec import ReviewSettings, WarRoomSettings

T0 = datetime(2026, 1, 14, 14, 23, tzinfo=UTC)
H = timedelta(hours=1)


# --- required reviews -------------------------------------------------------------------------


def test_p0_requires_a_review_by_default():
    reasons = review_required_reasons(
        severity="P0", highest_level=1, flags=(), settings=ReviewSettings()
    )
    assert reasons == ["P0 incident"]


@pytest.mark.parametrize(("level", "required"), [(2, False), (3, True), (4, True)])
def test_reaching_level_three_requires_a_review(level, required):
    reasons = review_required_reasons(
        severity="P2", highest_level=level, flags=(), settings=ReviewSettings()
    )
    assert bool(reasons) is required
    if required:
        assert f"L{level}" in reasons[0]


def test_policy_adds_incident_facts_and_can_switch_levels_off():
    settings = ReviewSettings(
        required_severities=("P0", "P1"),
        required_from_level=None,
        required_when=("security", "war_room"),
    )
    assert review_required_reasons(
        severity="P3", highest_level=9, flags={"security"}, settings=settings
    ) == ["security incident"]
    assert (
        review_required_reasons(
            severity="P3", highest_level=9, flags={"compliance"}, settings=settings
        )
        == []
    )
    assert review_required_reasons(
        severity="P1", highest_level=1, flags={"war_room"}, settings=settings
    ) == ["P1 incident", "a war room was activated"]


def test_review_is_due_48_hours_after_resolution_unless_the_policy_says_otherwise():
    assert review_due_at(T0, ReviewSettings()) == T0 + 48 * H
    assert review_due_at(T0, ReviewSettings(due_after=24 * H)) == T0 + 24 * H


# --- reminder schedules -----------------------------------------------------------------------


def test_deadline_reminders_before_and_at_the_deadline():
    points = deadline_reminders(T0, 12 * H)
    assert [(p.type, p.at) for p in points] == [("due_soon", T0 - 12 * H), ("overdue", T0)]
    assert all(p.due == T0 for p in points)
    assert [p.type for p in deadline_reminders(T0, None)] == ["overdue"]


def test_the_latest_reached_reminder_is_sent_and_earlier_missed_ones_are_skipped():
    points = deadline_reminders(T0, 12 * H)
    assert reminder_to_send(points, T0 - 13 * H) is None
    assert reminder_to_send(points, T0 - 1 * H).type == "due_soon"
    # A sweep that did not run until after the deadline sends only "overdue".
    assert reminder_to_send(points, T0 + 5 * H).type == "overdue"
    assert next_reminder_at(points, T0 - 13 * H) == T0 - 12 * H
    assert next_reminder_at(points, T0 - 1 * H) == T0
    assert next_reminder_at(points, T0) is None


def test_next_visit_keeps_a_reached_reminder_for_the_sweep():
    points = deadline_reminders(T0, 12 * H)
    assert next_visit(points, T0 - 20 * H) == T0 - 12 * H
    assert next_visit(points, T0 - 1 * H) == T0 - 12 * H  # reached, maybe not sent yet
    assert next_visit(points, T0 + H) == T0
    assert next_visit([], T0) is None


def test_cadence_reminders_repeat_every_cadence_while_no_update_comes():
    every = 30 * timedelta(minutes=1)
    points = cadence_reminders(T0, every, until=T0 + 95 * timedelta(minutes=1))
    assert [p.type for p in points] == [
        "update_due",
        "update_overdue",
        "update_overdue",
        "update_overdue",
    ]
    assert [p.at - T0 for p in points] == [timedelta(0), every, 2 * every, 3 * every]
    assert {p.due for p in points} == {T0}


# --- war rooms --------------------------------------------------------------------------------


def test_war_room_reasons_follow_seed_004():
    assert war_room_reasons(
        severity="P0",
        is_security=True,
        is_compliance=True,
        is_production_outage=False,
        users_affected=10,
        many_users=50,
    ) == ["sev1", "security", "regulatory"]
    assert war_room_reasons(
        severity="P2",
        is_security=False,
        is_compliance=False,
        is_production_outage=False,
        users_affected=80,
        many_users=50,
    ) == ["multi_customer"]


def test_facts_must_back_the_reason_but_judgement_calls_are_free():
    assert check_war_room_reason("sev1", ["sev1"]) is None
    assert "not Severity 1" in check_war_room_reason("sev1", [])
    assert "security" in check_war_room_reason("security", ["sev1"])
    assert check_war_room_reason("unclear_scope", []) is None
    assert check_war_room_reason("public", []) is None
    assert check_war_room_reason("bogus", ["sev1"]) == "Pick why the war room is needed."


def test_war_room_cadence_by_severity_with_a_fallback():
    settings = WarRoomSettings()
    assert settings.cadence("P0") == 30 * timedelta(minutes=1)
    assert settings.cadence("P1") == H
    partial = WarRoomSettings(update_every=(("P0", 15 * timedelta(minutes=1)), ("P1", 2 * H)))
    assert partial.cadence("P3") == 2 * H  # the slowest given


# --- the review document ----------------------------------------------------------------------


def test_duration_runs_from_opening_to_resolution_without_resolved_stretches():
    statuses = [
        (T0, "new"),
        (T0 + 10 * timedelta(minutes=1), "investigating"),
        (T0 + 2 * H, "resolved"),
        (T0 + 5 * H, "investigating"),  # reopened three hours later
        (T0 + 6 * H, "resolved"),
        (T0 + 9 * H, "closed"),
    ]
    assert outage_duration(statuses, now=T0 + 20 * H) == 3 * H
    assert outage_duration([(T0, "new")], now=T0 + 90 * timedelta(minutes=1)) == 1.5 * H


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (timedelta(hours=3, minutes=42), "3 hours 42 minutes"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(days=2, hours=1, minutes=5), "2 days 1 hour"),
        (timedelta(seconds=20), "less than a minute"),
    ],
)
def test_spoken_duration_reads_like_the_seed(value, words):
    assert spoken_duration(value) == words


def test_every_empty_paragraph_is_named_for_publication():
    complete = {
        "customers_impacted": 0,
        "business_impact": "Checkout down",
        "timeline": [{"at": T0.isoformat(), "text": "x"}],
        "root_cause_what": "a",
        "root_cause_why": "b",
        "root_cause_not_caught": "c",
        "contributing_factors": ["d"],
        "went_well": ["e"],
        "went_poorly": ["f"],
        "prevention_confidence": "high",
        "action_items": [1],
    }
    assert missing_for_publication(complete) == {}  # zero customers is an answer
    missing = missing_for_publication(
        {**complete, "root_cause_why": "  ", "went_well": [], "customers_impacted": None}
    )
    assert set(missing) == {"root_cause_why", "went_well", "customers_impacted"}
    assert missing["root_cause_why"] == "Say why it happened."


# --- action-item metrics ----------------------------------------------------------------------


def test_closure_within_target_counts_done_on_time_over_done_or_past_due():
    now = T0 + 30 * 24 * H
    opened = T0
    items = [
        ItemFacts(T0 + 5 * 24 * H, T0 + 4 * 24 * H, True, True, opened),  # on time, the fix
        ItemFacts(T0 + 5 * 24 * H, T0 + 6 * 24 * H, True, False, opened),  # late
        ItemFacts(T0 + 5 * 24 * H, None, False, False, opened),  # open and overdue
        ItemFacts(now + 24 * H, None, False, False, opened),  # open, not yet due: not judged
        ItemFacts(T0 + 5 * 24 * H, T0 + 1 * 24 * H, False, False, opened),  # dropped
    ]
    metrics = action_item_metrics(items, now)
    assert (metrics.total, metrics.closed, metrics.closed_on_time) == (5, 3, 1)
    assert metrics.overdue_open == 1
    assert metrics.on_time_percent == pytest.approx(100 / 3)
    assert metrics.median_time_to_permanent_fix == 4 * 24 * H


def test_metrics_of_nothing_are_unknown_not_zero():
    metrics = action_item_metrics([], T0)
    assert metrics.on_time_percent is None and metrics.median_time_to_permanent_fix is None


# --- the timeline -----------------------------------------------------------------------------


def test_timeline_lines_round_trip_in_the_readers_zone():
    berlin = ZoneInfo("Europe/Berlin")
    entries = [
        {"at": T0.isoformat(), "text": "First customer report received"},
        {"at": (T0 + 29 * timedelta(minutes=1)).isoformat(), "text": "War room activated"},
    ]
    text = timeline_lines(entries, berlin)
    assert text.splitlines()[0] == "2026-01-14 15:23 - First customer report received"
    parsed, problems = parse_timeline(text, berlin, date(2026, 1, 1))
    assert problems == []
    assert [datetime.fromisoformat(e["at"]) for e in parsed] == [T0, T0 + 29 * timedelta(minutes=1)]


def test_time_only_lines_take_the_previous_date_and_bad_lines_are_named():
    zone = ZoneInfo("UTC")
    text = "\n".join(
        [
            "14:23 - report",
            "2026-01-15 09:00 \u2013 next day",  # an en dash works too
            "09:30 - same day",
            "",
            "nonsense",
            "25:99 - x",
        ]
    )
    parsed, problems = parse_timeline(text, zone, date(2026, 1, 14))
    assert [e["at"][:16] for e in parsed] == [
        "2026-01-14T14:23",
        "2026-01-15T09:00",
        "2026-01-15T09:30",
    ]
    assert len(problems) == 2
    assert problems[0].startswith("Line 5: start with a time")
    assert problems[1].startswith("Line 6:")


def test_text_items_one_per_line_without_bullets():
    assert text_items("- Monitoring threshold too high\n\n* No circuit breaker\n  ") == [
        "Monitoring threshold too high",
        "No circuit breaker",
    ]


def test_timeline_text_in_plain_words():
    assert (
        timeline_text(
            "status_changed",
            actor="Sam",
            body="Fix deployed\nmore",
            data={"from": "investigating", "to": "resolved"},
        )
        == "Resolved by Sam: Fix deployed"
    )
    assert (
        timeline_text(
            "escalated", actor="", body="Outage", data={"from": "L1 · Ops", "to": "L3 · Eng"}
        )
        == "Escalated L1 · Ops -> L3 · Eng: Outage"
    )
    assert timeline_text("public_update", actor="Sam", body="We are on it", data={}) == (
        "Customer update: We are on it"
    )


def test_reviews_and_items_are_overdue_from_their_due_instant_while_unfinished():
    from escalations.models import ActionItem, PostIncidentReview

    second = timedelta(seconds=1)
    review = PostIncidentReview(status="in_review", due_at=T0)
    assert (review.is_overdue(T0 - second), review.is_overdue(T0)) == (False, True)
    assert not PostIncidentReview(status="published", due_at=T0).is_overdue(T0 + H)
    assert not PostIncidentReview(status="draft", due_at=None).is_overdue(T0 + H)
    item = ActionItem(status="in_progress", due_at=T0)
    assert (item.is_overdue(T0 - second), item.is_overdue(T0)) == (False, True)
    assert not ActionItem(status="done", due_at=T0).is_overdue(T0 + H)
    assert not ActionItem(status="wont_do", due_at=T0).is_overdue(T0 + H)
