"""Replays seed 000's stated timelines on the shipped engineering-5-level preset (issue
19: "a test per preset replays the seed's stated timelines"): incidents opened through
the service at a fixed instant, the sweep run on a fake clock, and the ladder's
thresholds, targets and triggers read off what the engine did.

Only what main implements is asserted as passing; the seed's ladder "50 % -> L1,
75 % -> L2, 100 % -> L3" included."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from escalations.engine.services import handoff_acknowledge, sla_sweep
from escalations.models import Escalation, ThresholdFiring
from escalations.sla.services import incident_clocks
from incidents import services
from tests.factories import ComponentFactory, UserFactory, make_incident

M = timedelta(minutes=1)
H = timedelta(hours=1)
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def engineer(roles):
    """The shipped engineering-5-level workflow (seed 000) as the default policy."""
    from incidents.models import Channel

    Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})
    call_command("load_workflow", "engineering-5-level", "--default", verbosity=0)
    return UserFactory(username="assigned-engineer", role="Support Agent")


def opened(severity, at=T0, **facts):
    incident = make_incident(severity=severity, opened_at=at, now=at, **facts)
    incident.refresh_from_db()
    return incident


def acknowledged(severity, engineer, **facts):
    """Answered five minutes after opening: no response target is missed."""
    incident = opened(severity, **facts)
    services.incident_acknowledge(incident=incident, actor=engineer, now=T0 + 5 * M)
    incident.refresh_from_db()
    return incident


def reading(incident, clock, now):
    return next(r for r in incident_clocks(incident, now) if r.clock == clock)


def sweep(until, step=5 * M, start=T0):
    at = start
    while at <= until:
        sla_sweep(now=at)
        at += step


def moves(incident):
    return list(
        Escalation.objects.filter(incident=incident)
        .order_by("at", "pk")
        .values_list("from_level", "to_level", "trigger")
    )


def firings(incident, clock):
    return dict(
        ThresholdFiring.objects.filter(incident=incident, clock=clock).values_list(
            "percent", "action"
        )
    )


@pytest.mark.django_db
def test_seed_000_time_based_50_warns_75_notifies_100_escalates(engineer):
    """Seed 000, Automatic Triggers, Time-Based: "50% of SLA elapsed -> Warning to
    assignee", "75% ... -> Pre-escalation notification", "100% of SLA reached ->
    Automatic escalation". A P1 nobody answers: L0's 1 h first response."""
    incident = opened("P1")
    assert incident.current_level == 0
    sweep(T0 + H - M)
    incident.refresh_from_db()
    assert incident.current_level == 0
    assert firings(incident, "first_response") == {
        50: "warn_assignee",
        75: "pre_escalation_notice",
    }
    fired_at = dict(
        ThresholdFiring.objects.filter(incident=incident).values_list("percent", "fired_at")
    )
    assert fired_at == {50: T0 + 30 * M, 75: T0 + 45 * M}
    sla_sweep(now=T0 + H)
    incident.refresh_from_db()
    assert incident.current_level == 1
    assert moves(incident) == [(0, 1, "sla")]


@pytest.mark.django_db
def test_seed_000_high_template_18_hours_is_75_percent_of_sla(engineer):
    """Seed 000, L1 escalation template: "Time Elapsed: 18 hours (75% of SLA)" for a High
    incident: a P1's 24 h resolution clock, counted from the opening, has its 75 % at 18 h,
    where seed 000's ladder ("L1 -> L2 (SLA: 75% elapsed)") takes it up; each step of the
    ladder is an escalation."""
    incident = acknowledged("P1", engineer)
    clock = reading(incident, "resolution", T0 + 10 * M)
    assert (clock.start, clock.due_at) == (T0, T0 + 24 * H)
    instants = {i.percent: i.at for i in clock.thresholds}
    assert instants == {50: T0 + 12 * H, 75: T0 + 18 * H, 100: T0 + 24 * H}
    sweep(T0 + 24 * H, step=H)
    incident.refresh_from_db()
    assert firings(incident, "resolution") == {50: "escalate", 75: "escalate", 100: "escalate"}
    assert [move for move in moves(incident) if move[2] == "sla"][:1] == [(0, 1, "sla")]


@pytest.mark.django_db
def test_seed_000_ladder_50_percent_to_l1_75_to_l2_100_to_l3(engineer):
    """Seed 000, Escalation Levels: "Level 0 ... (SLA: 50% elapsed ...) Level 1 ...
    (SLA: 75% elapsed ...) Level 2 ... (SLA: 100% elapsed ...) Level 3". An answered
    P1 (24 h resolution) at the Team Lead by 12 h, the Manager by 18 h, L3 by 24 h."""
    incident = acknowledged("P1", engineer)
    taker = UserFactory(username="director", role="Director")
    levels = {}
    for hours in (12, 18, 24):
        sweep(T0 + hours * H, step=H, start=T0 + (hours - 6) * H)
        incident.refresh_from_db()
        levels[hours] = incident.current_level
        # Each level takes its handoff at once, so only the ladder moves it.
        handoff_acknowledge(incident=incident, actor=taker, now=T0 + hours * H + M)
    assert levels == {12: 1, 18: 2, 24: 3}


@pytest.mark.django_db
def test_seed_000_critical_incident_detected_immediate_escalation(engineer):
    """Seed 000, Severity-Based: "Critical incident detected -> Immediate escalation":
    a P0 opens at the Team Lead (L1), not with the assigned engineer."""
    incident = opened("P0")
    assert incident.current_level == 1
    assert moves(incident) == [(0, 1, "severity")]


@pytest.mark.django_db
def test_seed_000_critical_sla_4h_violated_escalates(engineer):
    """Seed 000, L2 template: "Critical incident SLA violated (4h target exceeded)". A P0
    whose handoffs are answered at once still moves up when its 4 h resolution clock
    (from the opening) runs out."""
    incident = opened("P0")
    manager = UserFactory(username="team-lead", role="Team Lead")
    services.incident_acknowledge(incident=incident, actor=engineer, now=T0 + M)
    handoff_acknowledge(incident=incident, actor=manager, now=T0 + 2 * M)
    incident.refresh_from_db()
    assert reading(incident, "resolution", T0 + 5 * M).due_at == T0 + 4 * H
    # Seed 000's ladder: already at L1 at 50 % (a warning), L2 at 75 % (3 h), L3 at 100 %.
    sweep(T0 + 3 * H - M, step=15 * M)
    incident.refresh_from_db()
    assert incident.current_level == 1
    sla_sweep(now=T0 + 3 * H)
    incident.refresh_from_db()
    assert incident.current_level == 2
    assert moves(incident)[-1] == (1, 2, "sla")
    handoff_acknowledge(incident=incident, actor=manager, now=T0 + 3 * H + M)
    sweep(T0 + 4 * H - M, step=15 * M, start=T0 + 3 * H + M)
    incident.refresh_from_db()
    assert incident.current_level == 2
    sla_sweep(now=T0 + 4 * H)
    incident.refresh_from_db()
    assert incident.current_level == 3
    assert moves(incident)[-1] == (2, 3, "sla")


@pytest.mark.django_db
def test_seed_000_critical_under_30_minutes_to_escalation_decision(engineer):
    """Seed 000 Escalation Metrics: "<30 minutes to escalation decision (Critical)": a
    P0 handoff the Team Lead does not take within 30 minutes goes to the Manager."""
    incident = opened("P0")
    assert reading(incident, "handoff_ack", T0).due_at == T0 + 30 * M
    sweep(T0 + 30 * M)
    incident.refresh_from_db()
    assert incident.current_level == 2
    assert moves(incident) == [(0, 1, "severity"), (1, 2, "sla")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("facts", "level"),
    [
        ({"is_production_outage": True}, 1),
        ({"users_affected": 51}, 1),
        ({"is_security": True}, 2),
        ({"is_compliance": True}, 2),
    ],
    ids=[
        "seed 000 Production outage -> Immediate escalation",
        "seed 000 Multiple users affected -> Escalation",
        "seed 000 Security Incident: Immediate Escalation: Engineering Manager",
        "seed 000 Compliance Violation: Immediate Escalation: Engineering Manager",
    ],
)
def test_seed_000_impact_based_triggers_escalate_at_opening(engineer, facts, level):
    """Seed 000, Impact-Based triggers and Special Escalation Scenarios: a P2 with the
    impact moves at opening, one rung up or straight to the Engineering Manager (L2)."""
    incident = opened("P2", **facts)
    assert incident.current_level == level
    assert moves(incident) == [(0, level, "impact")]


@pytest.mark.django_db
def test_seed_000_security_incident_limited_distribution_and_groups(engineer):
    """Seed 000 Security Incident: "Engineering Manager + Security Team + Governance
    Liaison", "Limited distribution of details"."""
    incident = opened("P2", is_security=True)
    move = Escalation.objects.get(incident=incident)
    assert move.limited_distribution is True
    assert move.notify_groups == ["Engineering Manager", "Security", "Governance Liaison"]


@pytest.mark.django_db
def test_seed_000_repeat_incident_same_root_cause_escalation(engineer):
    """Seed 000, Severity-Based: "Repeat incident (same root cause) -> Escalation"; the
    preset counts three with one root cause in 30 days."""
    first = opened("P3", root_cause_key="auth-token")
    second = opened("P3", at=T0 + 10 * 24 * H, root_cause_key="auth-token")
    third = opened("P3", at=T0 + 20 * 24 * H, root_cause_key="auth-token")
    assert [first.current_level, second.current_level, third.current_level] == [0, 0, 1]
    assert moves(third) == [(0, 1, "repeat")]
    # Outside the window the count starts again.
    late = opened("P3", at=T0 + 45 * 24 * H, root_cause_key="auth-token")
    assert late.current_level == 0


@pytest.mark.django_db
def test_seed_000_multiple_high_severity_incidents_in_same_component(engineer):
    """Seed 000, Severity-Based: "Multiple high-severity incidents in same component ->
    Escalation"; the preset counts three P0/P1 in one component within 24 h."""
    component = ComponentFactory()
    levels = [
        opened("P1", at=T0 + hours * H, component=component).current_level for hours in (0, 2, 4)
    ]
    assert levels == [0, 0, 1]
    other = opened("P2", at=T0 + 5 * H, component=component)
    assert other.current_level == 0  # not high severity


@pytest.mark.django_db
def test_seed_000_level_4_financial_impact_exceeding_threshold(engineer):
    """Seed 000, Level 4: "Rarely Escalated: Only for incidents with ... Financial impact
    exceeding threshold": the preset's executive route goes straight to L4."""
    incident = opened("P2", revenue_impact=Decimal("25000"))
    assert incident.current_level == 4
    assert moves(incident) == [(0, 4, "executive")]
    assert opened("P2", revenue_impact=Decimal("5000")).current_level == 0


@pytest.mark.django_db
def test_seed_000_high_under_2_hours_to_escalation_decision(engineer):
    """Seed 000 Escalation Metrics: "<2 hours to escalation decision (High)": a P1 outage
    goes to the Team Lead at opening; the engineer answers, the Team Lead does not take
    the handoff, and 2 hours later it goes on to the Manager."""
    incident = acknowledged("P1", engineer, is_production_outage=True)
    assert incident.current_level == 1
    assert reading(incident, "handoff_ack", T0 + 5 * M).due_at == T0 + 2 * H
    sweep(T0 + 2 * H - M, step=15 * M)
    incident.refresh_from_db()
    assert incident.current_level == 1
    sla_sweep(now=T0 + 2 * H)
    incident.refresh_from_db()
    assert incident.current_level == 2
    assert moves(incident) == [(0, 1, "impact"), (1, 2, "sla")]
