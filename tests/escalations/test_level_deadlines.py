"""Level deadlines (issue 19): seed 002's "P1: Escalation: Level 3 within 1 hour",
"P2: Level 2 within 2 hours", "P3: Level 1 within 4 hours" as policy data, replayed on
the shipped P0-P3 preset with the sweep's fake clock."""

from datetime import timedelta
from pathlib import Path

import pytest

from escalations.engine.services import sla_sweep
from escalations.models import Escalation, ThresholdFiring
from escalations.policies.services import spec_problems
from escalations.policies.workflow_yaml import WorkflowError, dump_workflow, load_workflow_text
from escalations.rules.clocks import compute_clocks, due_thresholds
from escalations.rules.spec import LevelDeadline
from incidents import services
from notifications.models import Notification
from tests.escalations.conftest import MONDAY, H, facts, simple_spec
from tests.factories import UserFactory, make_incident

M = timedelta(minutes=1)
PRESET = Path(__file__).resolve().parents[2] / "escalations/workflows/p0-p3-matrix.yaml"
T0 = MONDAY  # what facts() counts from


def three_levels(**changes):
    from escalations.rules.spec import LevelSpec, TargetSpec

    return simple_spec(
        levels=tuple(
            LevelSpec(n, f"L{n}", sla=TargetSpec(first_response=8 * H, resolution=24 * H))
            for n in (1, 2, 3)
        ),
        matrix=(),
        **changes,
    )


def deadline_reading(spec, now, **fact_changes):
    return next(
        (
            r
            for r in compute_clocks(facts(**fact_changes), spec, now)
            if r.clock == "level_deadline"
        ),
        None,
    )


def test_the_deadline_counts_from_the_opening_and_sends_the_incident_straight_to_its_level():
    spec = three_levels(deadlines=(LevelDeadline("P1", 3, H),))
    reading = deadline_reading(spec, T0 + 10 * M)
    assert (reading.to_level, reading.due_at, reading.label) == (3, T0 + H, "Level deadline (L3)")
    assert [(i.percent, i.action, i.at) for i in reading.thresholds] == [
        (50, "warn_assignee", T0 + 30 * M),
        (75, "pre_escalation_notice", T0 + 45 * M),
        (100, "escalate", T0 + H),
    ]
    # Other severities have no deadline; a P1 that has been at L3 has met it.
    assert deadline_reading(spec, T0, severity="P2") is None
    assert deadline_reading(spec, T0, level=2, peak_level=3) is None
    assert deadline_reading(spec, T0, statuses=((T0, "new"), (T0 + M, "resolved"))) is None


def test_a_deadline_missed_before_the_incident_reached_its_current_level_still_escalates():
    """Moved L1 -> L2 at 70 minutes by another clock: the 1 h deadline to L3 passed on
    the way, and the incident still goes to L3 now (the 50 and 75 % notices do not)."""
    spec = three_levels(deadlines=(LevelDeadline("P1", 3, H),))
    arrived = T0 + 70 * M
    readings = compute_clocks(facts(level=2, level_entered_at=arrived), spec, arrived)
    due = due_thresholds(readings, level=2, level_entered_at=arrived, fired=set(), now=arrived)
    assert [(clock, i.percent) for clock, i in due] == [("level_deadline", 100)]


def test_deadlines_load_dump_back_and_name_levels_the_policy_has():
    base = """
escalation:
  tiers:
    - {level: 1, name: One}
    - {level: 2, name: Two}
"""
    spec = load_workflow_text(base + "  deadlines:\n    high: {level: 2, within: 90m}\n")
    assert spec.deadlines == (LevelDeadline("P1", 2, timedelta(minutes=90)),)
    assert load_workflow_text(dump_workflow(spec)) == spec
    with pytest.raises(WorkflowError) as error:
        load_workflow_text(base + "  deadlines:\n    P1: {level: 5, within: 1h}\n")
    assert "deadlines.P1.level" in str(error.value) and "there is no level 5" in str(error.value)
    with pytest.raises(WorkflowError) as error:
        load_workflow_text(base + "  deadlines:\n    P1: {level: 2}\n")
    assert "within" in str(error.value)
    broken = three_levels(deadlines=(LevelDeadline("P1", 7, H),))
    assert "P1 must be at L7 by its deadline, which the policy does not have." in spec_problems(
        broken
    )


@pytest.fixture
def matrix_preset(roles):
    """The shipped P0-P3 preset without its tiers' own times ("not resolved in 30 minutes"
    at L1 would move every incident here at 30 minutes): these tests follow the deadlines
    alone. test_time_at_level replays the preset as it ships, both together."""

    from escalations.policies.services import policy_create_from_spec
    from escalations.policies.workflow_yaml import load_workflow_file
    from incidents.models import Channel

    Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})
    spec = load_workflow_file(PRESET)
    assert [level.escalate_after for level in spec.levels] == [30 * M, 2 * H, 8 * H, None]
    spec = spec.without_time_limits()
    policy_create_from_spec(spec=spec, name="p0-p3-matrix", make_default=True)
    return UserFactory(username="first-line", role="Support Agent")


def opened_and_acknowledged(severity, agent):
    """Opened at T0 and acknowledged five minutes later: no response target is missed,
    so only the level deadline can move it."""
    incident = make_incident(severity=severity, actor=agent, opened_at=T0, now=T0)
    services.incident_acknowledge(incident=incident, actor=agent, now=T0 + 5 * M)
    incident.refresh_from_db()
    return incident


def sweep_every_minute(until):
    at = T0
    while at <= until:
        sla_sweep(now=at)
        at += M


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("severity", "level", "within"),
    [("P1", 3, H), ("P2", 2, 2 * H)],
    ids=["seed 002 P1: Level 3 within 1 hour", "seed 002 P2: Level 2 within 2 hours"],
)
def test_the_p0_p3_preset_replays_seed_002s_escalation_timeline(
    matrix_preset, severity, level, within
):
    incident = opened_and_acknowledged(severity, matrix_preset)
    assert incident.current_level == 1
    sweep_every_minute(T0 + within - M)
    incident.refresh_from_db()
    assert incident.current_level == 1  # not yet
    # Its 50 % warned the owner and its 75 % told the level it is heading for.
    fired = set(
        ThresholdFiring.objects.filter(incident=incident, clock="level_deadline").values_list(
            "percent", "action"
        )
    )
    assert fired == {(50, "warn_assignee"), (75, "pre_escalation_notice")}
    assert Notification.objects.filter(incident=incident, kind="pre_escalation").exists()
    sla_sweep(now=T0 + within)
    incident.refresh_from_db()
    assert incident.current_level == level  # straight there, not one rung at a time
    move = Escalation.objects.get(incident=incident)
    assert (move.from_level, move.to_level, move.clock) == (1, level, "level_deadline")
    assert move.reason.startswith(f"Level deadline: to be at L{level} within ")


@pytest.mark.django_db
def test_a_p3_opens_at_level_1_so_its_deadline_is_met_at_once(matrix_preset):
    incident = opened_and_acknowledged("P3", matrix_preset)
    sweep_every_minute(T0 + 4 * H + M)  # hourly would do; a minute proves nothing fires
    incident.refresh_from_db()
    assert incident.current_level == 1
    assert not ThresholdFiring.objects.filter(incident=incident, clock="level_deadline").exists()
