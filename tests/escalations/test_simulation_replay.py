"""The pure replay behind the policy simulation (no database)."""

from datetime import UTC, datetime, timedelta

from escalations.rules.simulation import HistoryEvent, IncidentHistory, replay
from escalations.rules.spec import (
    LevelSpec,
    OverrideSpec,
    TargetSpec,
    TriggerSettings,
    WorkflowSpec,
)
from escalations.rules.triggers import TriggerFacts

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def ladder(first_response=H, resolution=8 * H, **changes):
    return WorkflowSpec(
        levels=(
            LevelSpec(1, "Front line", sla=TargetSpec(first_response, resolution)),
            LevelSpec(2, "Specialists", sla=TargetSpec(2 * H, 8 * H)),
            LevelSpec(3, "Engineering", sla=TargetSpec(H, 4 * H)),
        ),
        **changes,
    )


def history(*events, severity="P2", flags=None):
    return IncidentHistory(
        opened_at=T0, severity=severity, events=tuple(events), flags=flags, key="INC-1"
    )


RESOLVED_AT_5H = (
    HistoryEvent(T0 + 10 * M, "status", "acknowledged"),
    HistoryEvent(T0 + 5 * H, "status", "resolved"),
)


def test_within_targets_nothing_happens_but_the_warnings():
    outcome = replay(history(*RESOLVED_AT_5H), ladder(), until=T0 + 10 * H)
    assert outcome.escalations == []
    assert outcome.breached == {"first_response": False, "resolution": False}
    # 50 % of the 8h resolution clock passed at 4h: the assignee is warned once.
    assert [n.kind for n in outcome.notices] == ["sla_warning"]
    assert outcome.notices[0].at == T0 + 4 * H


def test_a_stricter_draft_escalates_and_breaches():
    outcome = replay(history(*RESOLVED_AT_5H), ladder(resolution=2 * H), until=T0 + 10 * H)
    assert [(m.from_level, m.to_level, m.trigger, m.at) for m in outcome.escalations] == [
        (1, 2, "sla", T0 + 2 * H)
    ]
    assert outcome.peak_level == 2
    # At L2 (clocks count from the opening) the 8h resolution target is met at 5h.
    assert outcome.breached["resolution"] is False
    kinds = [n.kind for n in outcome.notices]
    assert kinds.count("sla_warning") >= 1 and "pre_escalation" in kinds
    assert kinds.count("escalation") == 1


def test_unanswered_first_response_escalates_up_the_ladder_and_breaches():
    outcome = replay(history(), ladder(), until=T0 + 3 * H)
    # L1 first response 1h -> L2 (2h, from the opening). L3's 1h had run out when
    # it arrived there, so L3 gets its 1h again from its arrival (the engine's rule):
    # warned at 2.5h, and at 3h there is no level left to move to.
    assert [(m.to_level, m.at) for m in outcome.escalations] == [(2, T0 + H), (3, T0 + 2 * H)]
    assert outcome.breached["first_response"] is True
    assert [(n.kind, n.at) for n in outcome.notices] == [
        ("sla_warning", T0 + 30 * M),  # 50 % at L1
        ("pre_escalation", T0 + 45 * M),  # 75 % at L1, to L2
        ("escalation", T0 + H),  # 100 %: to L2
        ("pre_escalation", T0 + 90 * M),  # 75 % of L2's 2h, to L3 (50 % passed on arrival)
        ("escalation", T0 + 2 * H),  # to L3
        ("sla_warning", T0 + 150 * M),  # 50 % of L3's 1h from its arrival
        ("top_level_breach", T0 + 3 * H),  # 100 %: nowhere higher to go
    ]


def test_time_waiting_on_the_customer_does_not_count():
    waiting = history(
        HistoryEvent(T0 + 10 * M, "status", "acknowledged"),
        HistoryEvent(T0 + 30 * M, "status", "waiting_on_customer"),
        HistoryEvent(T0 + 6 * H, "status", "investigating"),
        HistoryEvent(T0 + 7 * H, "status", "resolved"),
    )
    outcome = replay(waiting, ladder(resolution=2 * H), until=T0 + 10 * H)
    # 30 min before the pause + 1h after it: 1.5h of a 2h target.
    assert outcome.escalations == []
    assert outcome.breached["resolution"] is False


def test_severity_override_routes_at_the_opening_and_on_a_raise():
    spec = ladder(overrides=(OverrideSpec("P0", 3, "pagerduty"),))
    outcome = replay(history(*RESOLVED_AT_5H, severity="P0"), spec, until=T0 + 6 * H)
    first = outcome.escalations[0]
    assert (first.to_level, first.trigger, first.at) == (3, "severity", T0)
    raised = history(
        HistoryEvent(T0 + 10 * M, "status", "acknowledged"),
        HistoryEvent(T0 + 20 * M, "severity", "P0"),
    )
    outcome = replay(raised, spec, until=T0 + 30 * M)
    assert [(m.to_level, m.at) for m in outcome.escalations] == [(3, T0 + 20 * M)]


def test_impact_triggers_come_from_the_incidents_own_facts():
    flags = TriggerFacts(severity="P2", level=1, is_security=True)
    outcome = replay(history(*RESOLVED_AT_5H, flags=flags), ladder(), until=T0 + 6 * H)
    first = outcome.escalations[0]
    assert (first.to_level, first.trigger, first.at) == (2, "impact", T0)
    assert "Security" in outcome.notices[0].groups


def test_people_keep_their_escalations_and_de_escalations():
    worked = history(
        HistoryEvent(T0 + 10 * M, "status", "acknowledged"),
        HistoryEvent(T0 + 20 * M, "escalate", 3),
        HistoryEvent(T0 + 30 * M, "handoff_ack"),
        HistoryEvent(T0 + 2 * H, "de_escalate", 1),
        HistoryEvent(T0 + 3 * H, "status", "resolved"),
    )
    outcome = replay(worked, ladder(), until=T0 + 4 * H)
    assert [(m.from_level, m.to_level, m.trigger) for m in outcome.moves] == [
        (1, 3, "manual"),
        (3, 1, "de_escalation"),
    ]
    # A level the draft lacks: the move goes one level up instead.
    two_levels = WorkflowSpec(levels=ladder().levels[:2])
    outcome = replay(worked, two_levels, until=T0 + 4 * H)
    assert [(m.from_level, m.to_level) for m in outcome.moves] == [(1, 2), (2, 1)]


def test_events_after_the_end_are_not_replayed():
    outcome = replay(history(*RESOLVED_AT_5H), ladder(), until=T0 + 30 * M)
    assert outcome.breached == {"first_response": False, "resolution": None}


def four_levels(**changes):
    return WorkflowSpec(
        levels=tuple(
            LevelSpec(n, f"Level {n}", sla=TargetSpec(resolution=8 * n * H)) for n in (1, 2, 3, 4)
        ),
        **changes,
    )


def test_breaches_follow_the_sla_violation_route_as_the_engine_does():
    """The engine's rule (tests/escalations/test_sla_violation_route.py): the notice
    warns the routed level, and a breach at or above it still climbs one level."""
    spec = four_levels(triggers=TriggerSettings(impact_routes=(("sla_violation", 3),)))
    outcome = replay(history(), spec, until=T0 + 30 * H)
    assert [(m.from_level, m.to_level, m.trigger, m.at) for m in outcome.moves] == [
        (1, 3, "sla", T0 + 8 * H),  # L1's 8h: straight to L3, past L2
        (3, 4, "sla", T0 + 24 * H),  # L3's 24h: one level up, not "top level"
    ]
    assert [(n.kind, n.at, n.level) for n in outcome.notices] == [
        ("sla_warning", T0 + 4 * H, 1),
        ("pre_escalation", T0 + 6 * H, 3),  # to the routed level, not L2
        ("escalation", T0 + 8 * H, 3),
        ("sla_warning", T0 + 12 * H, 3),
        ("pre_escalation", T0 + 18 * H, 4),
        ("escalation", T0 + 24 * H, 4),
    ]


def test_bouncing_away_and_back_keeps_the_levels_first_clock():
    """clock_start: level counts from the first arrival at a level, as the engine
    (tests/escalations/test_engine_handoffs.py): coming back buys no fresh clock."""
    spec = WorkflowSpec(
        levels=(
            LevelSpec(1, "Front line", sla=TargetSpec(H, 8 * H)),
            LevelSpec(2, "Specialists", sla=TargetSpec(H, 4 * H)),
        ),
        clock_start="level",
    )
    bounced = history(
        HistoryEvent(T0 + 10 * M, "status", "acknowledged"),
        HistoryEvent(T0 + 3 * H, "escalate", 2),
        HistoryEvent(T0 + 3 * H + 10 * M, "handoff_ack"),
        HistoryEvent(T0 + 4 * H, "de_escalate", 1),
    )
    outcome = replay(bounced, spec, until=T0 + 9 * H)
    # L1's 8h count from the opening, not from the return at 4h: breached at 8h.
    assert [(m.from_level, m.to_level, m.trigger, m.at) for m in outcome.moves] == [
        (1, 2, "manual", T0 + 3 * H),
        (2, 1, "de_escalation", T0 + 4 * H),
        (1, 2, "sla", T0 + 8 * H),
    ]
    # Back at L2, its 4h count from its first arrival at 3h: past due at 7h.
    assert outcome.breached["resolution"] is True
