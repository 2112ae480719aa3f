"""Seed 000 (QIW escalation workflow) under its own preset, engineering-5-level (issue 19):
the ladder as the seed states it, the L4 routes, the escalation notice's fields, and the
decision and de-escalation messages."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from escalations.engine import services as engine
from escalations.engine.services import sla_sweep
from escalations.policies.workflow_yaml import load_workflow_text
from escalations.rules.spec import TriggerSettings
from escalations.rules.triggers import TriggerFacts, evaluate
from incidents import services
from notifications import rendering
from notifications.models import Notification
from tests.escalations.conftest import H, simple_spec
from tests.factories import AccountFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db
M = timedelta(minutes=1)


@pytest.fixture
def people(roles):
    return {
        role: UserFactory(username=role.split()[0].lower(), role=role)
        for role in (
            "Support Agent",
            "Team Lead",
            "Engineering Manager",
            "Director",
            "Executive",
            "Legal",
        )
    }


@pytest.fixture
def engineering(people, engineering_preset):
    """The shipped engineering-5-level workflow (seed 000) as the default policy."""
    return people


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(days=3)


def level_of(incident) -> int:
    incident.refresh_from_db()
    return incident.current_level


def take_handoff(incident, person, at):
    engine.handoff_acknowledge(incident=incident, actor=person, now=at)


def climb_to_l2(incidents, people, t0, set_based):
    """P1s (24h resolution) acknowledged at L0, then the ladder's 50 % and 75 % moves,
    each handoff taken by the receiving level."""
    for incident in incidents:
        services.incident_acknowledge(incident=incident, actor=people["Support Agent"], now=t0)
    sla_sweep(now=t0 + 12 * H, set_based=set_based)
    for incident in incidents:
        take_handoff(incident, people["Team Lead"], t0 + 12 * H + M)
    sla_sweep(now=t0 + 18 * H, set_based=set_based)
    for incident in incidents:
        take_handoff(incident, people["Engineering Manager"], t0 + 18 * H + M)


# --- the ladder ------------------------------------------------------------------------------


@pytest.mark.parametrize("set_based", [False, True])
def test_seed_000_ladder_50_percent_to_l1_75_percent_to_l2_100_percent_to_l3(
    engineering, t0, set_based
):
    """Seed 000 Escalation Levels: "Level 0 ... (SLA: 50% elapsed) Level 1: Team Lead ...
    (SLA: 75% elapsed) Level 2: Engineering Manager ... (SLA: 100% elapsed) Level 3":
    a P1 (24h) reaches the Team Lead at 12h, not 24h; on the one-by-one path and the
    set-based storm path alike."""
    people = engineering
    incident = make_incident(severity="P1", opened_at=t0, now=t0)
    services.incident_acknowledge(incident=incident, actor=people["Support Agent"], now=t0 + M)
    sla_sweep(now=t0 + 12 * H - M, set_based=set_based)
    assert level_of(incident) == 0
    sla_sweep(now=t0 + 12 * H, set_based=set_based)
    assert level_of(incident) == 1
    take_handoff(incident, people["Team Lead"], t0 + 12 * H + M)
    sla_sweep(now=t0 + 18 * H - M, set_based=set_based)
    assert level_of(incident) == 1
    sla_sweep(now=t0 + 18 * H, set_based=set_based)
    assert level_of(incident) == 2
    take_handoff(incident, people["Engineering Manager"], t0 + 18 * H + M)
    sla_sweep(now=t0 + 24 * H, set_based=set_based)
    assert level_of(incident) == 3
    moves = list(incident.escalations.order_by("at").values_list("from_level", "to_level", "at"))
    assert moves == [(0, 1, t0 + 12 * H), (1, 2, t0 + 18 * H), (2, 3, t0 + 24 * H)]


def test_a_ladder_level_already_reached_warns_the_assignee_instead(engineering, t0):
    """Seed 000 Time-Based: "50% of SLA elapsed -> Warning to assignee" when the incident
    is at L1 already (escalated by a trigger), rather than a move or a top-level alarm."""
    incident = make_incident(severity="P1", opened_at=t0, now=t0, users_affected=2)
    assert level_of(incident) == 1  # "Multiple users affected -> Escalation"
    take_handoff(incident, engineering["Team Lead"], t0 + M)
    sla_sweep(now=t0 + 12 * H)
    assert level_of(incident) == 1
    warning = Notification.objects.get(kind="sla_warning")
    assert warning.recipient == engineering["Team Lead"].email
    assert not Notification.objects.filter(kind="top_level_breach").exists()


def test_a_threshold_names_a_level_only_when_it_escalates():
    base = "escalation:\n  tiers:\n    - {level: 1, name: A}\n    - {level: 2, name: B}\n"
    spec = load_workflow_text(
        base + "  thresholds:\n    - {at: 50%, action: escalate, to: 2}\n", "ladder.yaml"
    )
    assert [(t.percent, t.action, t.to_level) for t in spec.thresholds] == [(50, "escalate", 2)]
    with pytest.raises(ValueError, match="only an escalate threshold names a level"):
        load_workflow_text(
            base + "  thresholds:\n    - {at: 50%, action: warn_assignee, to: 2}\n", "bad.yaml"
        )
    with pytest.raises(ValueError, match="there is no level 3"):
        load_workflow_text(
            base + "  thresholds:\n    - {at: 50%, action: escalate, to: 3}\n", "bad.yaml"
        )


# --- L4 routes and Legal -------------------------------------------------------------------


def test_legal_exposure_and_pr_crisis_are_impact_triggers_and_legal_hears():
    assert TriggerSettings().route_for("legal_exposure") is not None
    assert dict(TriggerSettings().notify_groups)["legal_exposure"] == ("Legal",)
    hits = evaluate(
        simple_spec(matrix=()),
        TriggerFacts(severity="P2", level=1, is_legal_exposure=True, is_pr_crisis=True),
    )
    assert [(hit.key, hit.target, hit.notify_groups) for hit in hits] == [
        ("legal_exposure", 2, ("Legal",)),
        ("pr_crisis", 2, ()),
    ]


def test_seed_000_l4_legal_regulatory_implications_go_to_executives_and_legal_hears(
    engineering,
):
    """Seed 000 Level 4: "Only for incidents with: ... Legal/regulatory implications";
    seed 000 Compliance Violation: "Legal may be involved"."""
    incident = make_incident(severity="P2", is_legal_exposure=True)
    assert level_of(incident) == 4
    escalation = incident.escalations.get()
    assert (escalation.from_level, escalation.to_level, escalation.trigger) == (0, 4, "impact")
    told = set(Notification.objects.filter(kind="escalation").values_list("recipient", flat=True))
    assert {engineering["Legal"].email, engineering["Executive"].email} <= told
    assert escalation.note["facts"]["impact"] == ["legal exposure"]
    (line,) = incident.events.filter(kind="trigger").values_list("body", flat=True)
    assert "no route" not in line


def test_a_legal_exposure_the_policy_does_not_route_says_so_on_the_timeline(support_preset):
    """Seed 000 Level 4 "Legal/regulatory implications" under a policy that has no route for
    it (support-3-tier, seed 001): the timeline's trigger line tells the manager reading it
    that the incident stayed where it was and who, if anyone, was told."""
    from escalations.policies.services import policy_spec

    incident = make_incident(severity="P3", is_legal_exposure=True)
    spec = policy_spec(incident.policy)
    assert level_of(incident) == spec.first_level.number
    event = incident.events.get(kind="trigger")
    groups = dict(spec.triggers.notify_groups).get("legal_exposure", ())
    told = f"{', '.join(groups)} told" if groups else "nobody told"
    assert event.body == (
        "Legal exposure: legal or regulatory implications. This policy has no route for it: "
        f"the incident stays where it is ({told})."
    )
    assert event.data["no_route"] is True and not incident.escalations.exists()


def test_an_unrouted_impact_firing_with_a_routed_one_does_not_say_the_incident_stays(
    support_preset,
):
    """Under support-3-tier a legal exposure has no route, a production outage has one: the
    incident moves, so the legal line must not say it stays where it is. A security data
    breach's notify-only trigger is no policy gap at all (no policy can route it)."""
    incident = make_incident(
        severity="P3",
        is_legal_exposure=True,
        is_production_outage=True,
        is_security=True,
        is_data_loss=True,
    )
    assert incident.escalations.exists()
    lines = {event.data["key"]: event.body for event in incident.events.filter(kind="trigger")}
    assert "it moves nothing itself" in lines["legal_exposure"]
    assert "stays where it is" not in " ".join(lines.values())
    assert "no route" not in lines.get("data_breach", "")
    assert "no route" not in lines["production_outage"]


def test_seed_000_l4_public_relations_crisis_goes_to_executives(engineering):
    """Seed 000 Level 4: "Public relations crisis"; seed 004 Sev 1: "Public-facing outage
    or PR crisis". Legal is not told of a PR crisis alone."""
    incident = make_incident(severity="P2", is_pr_crisis=True)
    assert level_of(incident) == 4
    told = set(Notification.objects.filter(kind="escalation").values_list("recipient", flat=True))
    assert engineering["Legal"].email not in told


@pytest.mark.parametrize("set_based", [False, True])
def test_seed_000_l4_sla_violations_for_key_accounts_go_to_executives(engineering, t0, set_based):
    """Seed 000 Level 4: "Major customer impact (e.g., SLA violations for key accounts)":
    an enterprise account's breach goes to L4 where another's goes to L3."""
    key = make_incident(
        severity="P1", opened_at=t0, now=t0, account=AccountFactory(tier="enterprise")
    )
    other = make_incident(
        severity="P1", opened_at=t0, now=t0, account=AccountFactory(tier="premium")
    )
    climb_to_l2([key, other], engineering, t0, set_based)
    assert (level_of(key), level_of(other)) == (2, 2)
    sla_sweep(now=t0 + 24 * H, set_based=set_based)
    assert (level_of(key), level_of(other)) == (4, 3)


# --- "Multiple users affected" ---------------------------------------------------------------


def test_seed_000_multiple_users_affected_means_more_than_one(engineering):
    """Seed 000 Impact-Based: "Multiple users affected -> Escalation" (the default's 50
    is not the seed's)."""
    assert level_of(make_incident(severity="P3", users_affected=1)) == 0
    assert level_of(make_incident(severity="P3", users_affected=2)) == 1


# --- the escalation notice -----------------------------------------------------------------


def test_seed_000_escalation_template_has_channel_and_time_elapsed(engineering, t0):
    """Seed 000 Escalation Template: "**Channel**: Test", "**Time Elapsed**: 8 hours (50%
    of SLA)", as they were when the move was decided."""
    incident = make_incident(severity="P1", opened_at=t0, now=t0)
    services.incident_acknowledge(incident=incident, actor=engineering["Support Agent"], now=t0)
    sla_sweep(now=t0 + 12 * H)
    row = Notification.objects.get(kind="escalation", recipient=engineering["Team Lead"].email)
    assert row.context["incident_channel"] == "Runtime"
    elapsed = "12h 00m (50% of the resolution SLA of 1d)"
    assert row.context["elapsed"] == elapsed
    bodies = rendering.render_bodies(row)
    assert f"Channel: Runtime\nTime elapsed: {elapsed}" in bodies["body_text"]
    assert f"<strong>Time elapsed:</strong> {elapsed}" in bodies["body_html"]


# --- decisions and de-escalation --------------------------------------------------------------


def test_seed_000_step_5_communicate_decision_to_team_once(engineering, t0):
    """Seed 000 Step 5, Execute Decision: "Communicate decision to team": the level that
    escalated hears the decision once."""
    incident = make_incident(severity="P1", opened_at=t0, now=t0)
    services.incident_acknowledge(incident=incident, actor=engineering["Support Agent"], now=t0)
    sla_sweep(now=t0 + 12 * H)
    take_handoff(incident, engineering["Team Lead"], t0 + 12 * H + M)
    escalation = incident.escalations.get()
    engine.escalation_record_decision(
        escalation=escalation,
        actor=engineering["Team Lead"],
        decision="Revert the auth library change",
        now=t0 + 13 * H,
    )
    with pytest.raises(ValidationError):
        engine.escalation_record_decision(
            escalation=escalation, actor=engineering["Team Lead"], decision="Again"
        )
    rows = Notification.objects.filter(kind="decision", channel="email")
    told = list(rows.values_list("recipient", flat=True))
    assert engineering["Support Agent"].email in told  # L0, the team that escalated
    assert engineering["Team Lead"].email not in told
    assert len(told) == len(set(told))  # once each
    row = rows.get(recipient=engineering["Support Agent"].email)
    assert "Revert the auth library change" in rendering.render_bodies(row)["body_text"]
    assert row.subject.startswith("[DECISION]")


def test_seed_000_de_escalation_notifies_and_thanks_the_escalated_party_once(engineering, t0):
    """Seed 000 De-Escalation: "1. Notify escalated party of resolution 2. Thank them for
    their involvement 3. Summarize outcome"."""
    incident = make_incident(severity="P1", opened_at=t0, now=t0)
    climb_to_l2([incident], engineering, t0, set_based=False)
    engine.incident_de_escalate(
        incident=incident,
        to_level=0,
        actor=engineering["Engineering Manager"],
        reason="Critical phase over",
        resolution_summary="Reverted the change; all teams unblocked.",
        now=t0 + 20 * H,
    )
    rows = Notification.objects.filter(kind="de_escalation_thanks")
    assert sorted(rows.values_list("recipient", flat=True)) == sorted(
        [engineering["Team Lead"].email, engineering["Engineering Manager"].email]
    )
    body = rendering.render_bodies(rows.first())["body_text"]
    assert "Thank you for your involvement" in body
    assert "Reverted the change; all teams unblocked." in body
    # The lower level still hears that it is back with them (the move's own notice).
    assert Notification.objects.filter(
        kind="de_escalation", recipient=engineering["Support Agent"].email
    ).exists()


def test_a_ladder_breach_at_its_level_or_above_still_escalates_and_at_the_top_alarms():
    """Seed 000 "L2 -> L3 (SLA: 100% elapsed)": at L3 already, the breach goes on up by the
    breach route (L4), and at the top management hears of it; below 100 % a step whose
    level is reached only warns."""
    from escalations.rules.clocks import ThresholdInstant
    from escalations.rules.triggers import crossing_target

    spec = load_workflow_text(
        "escalation:\n  tiers:\n"
        + "".join(f"    - {{level: {n}, name: L{n}}}\n" for n in range(5))
        + "  thresholds:\n"
        "    - {at: 50%, action: escalate, to: 1}\n"
        "    - {at: 100%, action: escalate, to: 3}\n",
        "ladder.yaml",
    )
    reading = type("Reading", (), {"clock": "resolution", "to_level": None})()
    now = timezone.now()
    breach = ThresholdInstant(100, "escalate", now, 3)
    step = ThresholdInstant(50, "escalate", now, 1)
    assert crossing_target(spec, 2, reading, breach) == 3
    assert crossing_target(spec, 3, reading, breach) == 4
    assert crossing_target(spec, 4, reading, breach) is None  # the top: management alarm
    assert crossing_target(spec, 2, reading, step) is None  # reached: a warning
