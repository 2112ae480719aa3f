"""The SLA clock rules (escalations/clocks.py), without a database."""

import dataclasses
import inspect
from datetime import UTC, datetime, timedelta

import pytest

from escalations.rules.clocks import (
    ClockReading,
    IncidentFacts,
    ThresholdInstant,
    compute_clocks,
    due_thresholds,
    next_check_at,
    pending_thresholds,
)
from escalations.rules.spec import LevelSpec, TargetSpec, WorkflowSpec

H = timedelta(hours=1)
MON = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
BUSINESS = {
    "timezone": "UTC",
    "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
}


def policy(**changes) -> WorkflowSpec:
    base = {
        "levels": (
            LevelSpec(1, "Front line", sla=TargetSpec(first_response=H, resolution=8 * H)),
            LevelSpec(2, "Specialists", sla=TargetSpec(first_response=2 * H, resolution=4 * H)),
        ),
        "matrix": ((("P1", 1), TargetSpec(resolution=4 * H, update_interval=H)),),
    }
    return WorkflowSpec(**{**base, **changes})


def facts(
    *statuses,
    severity="P2",
    level=1,
    entered=None,
    first_response=None,
    last_update=None,
    handoff=None,
    opened=MON,
) -> IncidentFacts:
    return IncidentFacts(
        opened_at=opened,
        severity=severity,
        level=level,
        level_entered_at=entered or opened,
        statuses=((opened, "new"), *statuses),
        first_response_at=first_response,
        last_public_update_at=last_update,
        handoff=handoff,
    )


def clock(readings, name):
    return next(r for r in readings if r.clock == name)


def test_round_the_clock_running_clock_and_its_thresholds():
    readings = compute_clocks(facts(), policy(), now=MON + 4 * H)
    resolution = clock(readings, "resolution")
    assert resolution.due_at == MON + 8 * H
    assert resolution.state == "running"
    assert resolution.percent == 50
    assert [(t.percent, t.at) for t in resolution.thresholds] == [
        (50, MON + 4 * H),
        (75, MON + 6 * H),
        (100, MON + 8 * H),
    ]


def test_matrix_overrides_the_level_field_by_field():
    readings = compute_clocks(facts(severity="P1"), policy(), now=MON)
    assert clock(readings, "resolution").due_at == MON + 4 * H  # from the matrix
    assert clock(readings, "first_response").due_at == MON + H  # from the level
    assert clock(readings, "update").due_at == MON + H
    assert {r.clock for r in compute_clocks(facts(), policy(), now=MON)} == {
        "first_response",
        "resolution",
    }  # P2 has no update cadence here


def test_business_hours_move_the_deadline_and_say_why():
    friday_4pm = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    spec = policy(calendars=(("office", BUSINESS),), default_calendar="office")
    readings = compute_clocks(facts(opened=friday_4pm), spec, now=friday_4pm)
    first = clock(readings, "first_response")
    # A deadline landing on a closing time is that closing time.
    assert first.due_at == datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
    resolution = clock(readings, "resolution")
    assert resolution.due_at == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)  # 1h Fri + 7h Mon
    assert "business time (office)" in resolution.explanation
    assert "closed hours add 2d 16h" in resolution.explanation


def test_what_moved_the_deadline_is_worked_out_when_read_and_compares_as_a_dict():
    """moved_by is worked out on first read (sweeps never read it); a reading holding it
    equals one holding the plain dict, and differs from one with other amounts."""
    friday_4pm = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    monday_9am = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    spec = policy(calendars=(("office", BUSINESS),), default_calendar="office")
    history = ((monday_9am, "waiting_on_customer"), (monday_9am + 3 * H, "investigating"))
    readings = compute_clocks(facts(*history, opened=friday_4pm), spec, now=monday_9am + 4 * H)
    resolution = clock(readings, "resolution")
    # 1h on Friday, Monday 09-12 paused, 5h on Monday afternoon, 2h on Tuesday.
    assert resolution.due_at == datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    expected = {"closed": 64 * H + 16 * H, "holiday": timedelta(0), "paused": 3 * H}
    assert dict(resolution.moved_by) == expected
    assert resolution.moved_by == expected and expected == resolution.moved_by
    assert resolution == dataclasses.replace(resolution, moved_by=expected)
    assert resolution != dataclasses.replace(resolution, moved_by={**expected, "paused": H})
    assert compute_clocks(facts(*history, opened=friday_4pm), spec, now=monday_9am + 4 * H) == (
        readings
    )
    assert "closed hours add 3d 8h, paused time add 3h" in resolution.explanation


def test_readings_and_threshold_instants_stay_frozen_values():
    """Both write their own __init__ (speed); they still compare, hash, repr and refuse
    assignment as the frozen dataclasses they are."""
    readings = compute_clocks(facts(), policy(), now=MON + 4 * H)
    resolution = clock(readings, "resolution")
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolution.due_at = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolution.thresholds[0].at = None
    instant = ThresholdInstant(50, "warn_assignee", MON + 4 * H)
    assert instant == resolution.thresholds[0] and instant.to_level is None
    assert hash(instant) == hash(dataclasses.replace(resolution.thresholds[0]))
    assert repr(instant).startswith("ThresholdInstant(percent=50, action='warn_assignee'")
    plain = ClockReading("resolution", 8 * H, "24/7", MON, MON + 8 * H, 4 * H, "running")
    assert plain.moved_by == {} and plain.thresholds == () and plain.met_at is None
    assert plain.moved_by is not ClockReading(*dataclasses.astuple(plain)[:7]).moved_by
    assert dataclasses.replace(resolution, state="paused").state == "paused"
    assert dataclasses.replace(resolution) == resolution


@pytest.mark.parametrize("cls", [IncidentFacts, ThresholdInstant, ClockReading])
def test_hand_written_inits_take_the_fields_in_order_with_their_defaults(cls):
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [p.name for p in parameters] == [f.name for f in dataclasses.fields(cls)]
    for parameter, field in zip(parameters, dataclasses.fields(cls), strict=True):
        if field.default_factory is not dataclasses.MISSING:
            assert parameter.default is None  # stands for a new default_factory()
        else:
            default = inspect.Parameter.empty
            assert parameter.default == (
                default if field.default is dataclasses.MISSING else field.default
            )


def test_waiting_on_customer_pauses_every_clock():
    history = (
        (MON + H, "investigating"),
        (MON + 2 * H, "waiting_on_customer"),
        (MON + 5 * H, "investigating"),
    )
    readings = compute_clocks(facts(*history, first_response=MON + H), policy(), now=MON + 6 * H)
    resolution = clock(readings, "resolution")
    assert resolution.due_at == MON + 11 * H  # 8h target + 3h waiting
    assert resolution.elapsed == 3 * H
    assert "paused time add 3h" in resolution.explanation


def test_a_clock_paused_now_has_no_deadline():
    history = ((MON + H, "waiting_on_vendor"),)
    readings = compute_clocks(facts(*history, first_response=MON + H), policy(), now=MON + 20 * H)
    resolution = clock(readings, "resolution")
    assert resolution.state == "paused"
    assert resolution.due_at is None
    assert resolution.elapsed == H
    assert all(t.at is None for t in resolution.thresholds if t.percent > 12)


def test_custom_pause_statuses():
    history = ((MON + H, "waiting_on_vendor"),)
    spec = policy(pause_statuses=("waiting_on_customer",))  # vendors do not pause here
    readings = compute_clocks(facts(*history), spec, now=MON + 3 * H)
    assert clock(readings, "resolution").state == "running"
    assert clock(readings, "resolution").elapsed == 3 * H


def test_first_response_met_on_time_and_late():
    on_time = compute_clocks(
        facts(first_response=MON + 30 * 60 * timedelta(seconds=1)), policy(), now=MON + 5 * H
    )
    assert clock(on_time, "first_response").state == "met"
    late = compute_clocks(facts(first_response=MON + 2 * H), policy(), now=MON + 5 * H)
    reading = clock(late, "first_response")
    assert reading.state == "breached"
    assert reading.breached_at == MON + H and reading.met_at == MON + 2 * H


def test_unanswered_past_due_is_breached():
    reading = clock(
        compute_clocks(facts(), policy(), now=MON + 90 * timedelta(minutes=1)), "first_response"
    )
    assert reading.state == "breached" and reading.breached_at == MON + H
    assert reading.percent == 150


def test_resolution_is_met_at_resolve_and_closing_does_not_move_it():
    history = ((MON + H, "investigating"), (MON + 3 * H, "resolved"), (MON + 9 * H, "closed"))
    reading = clock(compute_clocks(facts(*history), policy(), now=MON + 30 * H), "resolution")
    assert reading.state == "met" and reading.met_at == MON + 3 * H
    assert reading.elapsed == 3 * H


def test_reopening_resumes_the_same_clock_and_never_resets_it():
    history = (
        (MON + H, "investigating"),
        (MON + 6 * H, "resolved"),
        (MON + 30 * H, "closed"),
        (MON + 40 * H, "investigating"),
    )
    reading = clock(compute_clocks(facts(*history), policy(), now=MON + 41 * H), "resolution")
    assert reading.start == MON  # still the original opening
    assert reading.elapsed == 7 * H  # 6h before resolving + 1h since reopening
    assert reading.due_at == MON + 42 * H  # the 34h resolved and closed do not count
    assert reading.state == "running"


def test_reopened_after_breach_stays_breached():
    history = ((MON + 9 * H, "resolved"), (MON + 10 * H, "investigating"))
    reading = clock(compute_clocks(facts(*history), policy(), now=MON + 11 * H), "resolution")
    assert reading.state == "breached" and reading.breached_at == MON + 8 * H


def test_update_cadence_restarts_at_each_public_update_and_stops_when_resolved():
    readings = compute_clocks(
        facts(severity="P1", last_update=MON + 3 * H), policy(), now=MON + 3 * H
    )
    assert clock(readings, "update").due_at == MON + 4 * H
    resolved = compute_clocks(
        facts((MON + 2 * H, "resolved"), severity="P1"), policy(), now=MON + 3 * H
    )
    assert "update" not in {r.clock for r in resolved}


def test_level_start_counts_from_when_the_level_took_over():
    spec = policy(clock_start="level")
    readings = compute_clocks(
        facts(level=2, entered=MON + 5 * H, first_response=MON + H), spec, now=MON + 6 * H
    )
    resolution = clock(readings, "resolution")
    assert resolution.start == MON + 5 * H and resolution.due_at == MON + 9 * H
    # answered before this level took over: nothing left to answer at this level
    assert clock(readings, "first_response").state == "met"


def test_incident_start_keeps_counting_from_the_opening_at_a_new_level():
    readings = compute_clocks(facts(level=2, entered=MON + 5 * H), policy(), now=MON + 6 * H)
    resolution = clock(readings, "resolution")
    assert resolution.start == MON and resolution.due_at == MON + 4 * H  # L2 target, breached
    assert resolution.state == "breached"


def test_a_clock_breached_on_arrival_gives_the_new_level_its_target_again():
    # Arrived at L2 at 5h; L2's 4h resolution target (from the opening) ran out
    # at 4h. Nothing fires at arrival (no cascade to the top), but L2 is not left
    # alone forever either: its thresholds count its 4h again from arrival.
    readings = compute_clocks(
        facts(level=2, entered=MON + 5 * H, first_response=MON + H), policy(), now=MON + 6 * H
    )
    resolution = clock(readings, "resolution")
    assert resolution.state == "breached" and resolution.due_at == MON + 4 * H
    pending = pending_thresholds(readings, level=2, level_entered_at=MON + 5 * H, fired=set())
    assert [(c, i.percent, i.at) for c, i in pending] == [
        ("resolution", 50, MON + 7 * H),
        ("resolution", 75, MON + 8 * H),
        ("resolution", 100, MON + 9 * H),
    ]
    assert not due_thresholds(
        readings, level=2, level_entered_at=MON + 5 * H, fired=set(), now=MON + 5 * H
    )


def test_thresholds_passed_before_arriving_at_a_level_do_not_fire_there():
    # Arrived at L2 at 3h with L2's 4h resolution target running (75 % at 3h,
    # 50 % at 2h): the passed ones never fire at L2; 100 % keeps its instant.
    readings = compute_clocks(
        facts(level=2, entered=MON + 3 * H, first_response=MON + H), policy(), now=MON + 3 * H
    )
    pending = pending_thresholds(readings, level=2, level_entered_at=MON + 3 * H, fired=set())
    assert [(c, i.percent, i.at) for c, i in pending] == [("resolution", 100, MON + 4 * H)]


def test_fired_thresholds_are_not_due_again_and_next_check_is_the_earliest():
    readings = compute_clocks(facts(), policy(), now=MON + 5 * H)
    due = due_thresholds(readings, level=1, level_entered_at=MON, fired=set(), now=MON + 5 * H)
    assert [(c, i.percent) for c, i in due] == [
        ("first_response", 50),
        ("first_response", 75),
        ("first_response", 100),
        ("resolution", 50),
    ]
    fired = {(c, 1, i.percent) for c, i in due}
    assert (
        due_thresholds(readings, level=1, level_entered_at=MON, fired=fired, now=MON + 5 * H) == []
    )
    assert next_check_at(readings, level=1, level_entered_at=MON, fired=fired) == MON + 6 * H
    # the same thresholds are new at another level
    assert due_thresholds(readings, level=2, level_entered_at=MON, fired=fired, now=MON + 5 * H)


def test_met_clocks_have_nothing_pending():
    readings = compute_clocks(
        facts((MON + H, "resolved"), first_response=MON + H), policy(), now=MON + 2 * H
    )
    assert next_check_at(readings, level=1, level_entered_at=MON, fired=set()) is None


def test_handoff_acknowledgement_clock_uses_the_new_levels_first_response():
    readings = compute_clocks(
        facts(level=2, entered=MON + 5 * H, first_response=MON + H, handoff=(MON + 5 * H, None)),
        policy(),
        now=MON + 6 * H,
    )
    ack = clock(readings, "handoff_ack")
    assert ack.due_at == MON + 7 * H and ack.state == "running"


@pytest.mark.parametrize("severity", ["P0", "P3"])
def test_severity_without_matrix_entry_uses_the_level(severity):
    readings = compute_clocks(facts(severity=severity), policy(), now=MON)
    assert clock(readings, "resolution").target == 8 * H


def test_a_pause_that_starts_after_the_deadline_is_not_part_of_its_explanation():
    history = ((MON + 10 * H, "waiting_on_customer"),)
    readings = compute_clocks(facts(*history), policy(), now=MON + 11 * H)
    resolution = clock(readings, "resolution")
    assert resolution.due_at == MON + 8 * H and resolution.state == "breached"
    assert "paused" not in resolution.explanation


def test_a_met_clock_keeps_its_due_time_whatever_pauses_come_later():
    answered = MON + H / 2
    later_pause = (MON + 2 * H, "waiting_on_customer")
    before = clock(
        compute_clocks(facts(first_response=answered), policy(), now=MON + H), "first_response"
    )
    after = clock(
        compute_clocks(
            facts(later_pause, (MON + 20 * H, "investigating"), first_response=answered),
            policy(),
            now=MON + 30 * H,
        ),
        "first_response",
    )
    assert after.state == "met" and after.due_at == before.due_at == MON + H
    assert "paused" not in after.explanation


def test_a_per_level_clock_counts_from_the_first_arrival_at_that_level():
    spec = policy(clock_start="level")
    back_at_l1 = IncidentFacts(
        opened_at=MON,
        severity="P2",
        level=1,
        level_entered_at=MON + 5 * H,  # returned to L1 after a spell at L2
        level_clock_started_at=MON,  # ...but L1 first took it at the opening
        statuses=((MON, "new"),),
    )
    resolution = clock(compute_clocks(back_at_l1, spec, now=MON + 6 * H), "resolution")
    assert resolution.start == MON and resolution.elapsed == 6 * H
