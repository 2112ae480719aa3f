"""Severity, impact, pattern and executive triggers: each once, to the right level."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from escalations.engine import services as engine
from escalations.models import Escalation, TriggerFiring
from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import NEXT_LEVEL, LevelSpec, OverrideSpec, TargetSpec, TriggerSettings
from incidents import services
from incidents.models import EventKind
from notifications.models import Notification
from tests.escalations.conftest import H, simple_spec
from tests.factories import AccountFactory, ComponentFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db

LEVELS = tuple(
    LevelSpec(
        n,
        name,
        contacts=(("email", f"l{n}@example.com"),),
        sla=TargetSpec(first_response=H, resolution=8 * H),
    )
    for n, name in ((1, "Support"), (2, "Team lead"), (3, "Engineering manager"), (4, "Director"))
)


@pytest.fixture
def policy(roles):
    triggers = TriggerSettings(
        impact_routes=(
            ("production_outage", NEXT_LEVEL),
            ("security", 3),
            ("compliance", 3),
            ("users_affected", NEXT_LEVEL),
            ("sla_violation", NEXT_LEVEL),
        ),
        executive_route=4,
    )
    spec = simple_spec(
        levels=LEVELS,
        matrix=(),
        triggers=triggers,
        overrides=(
            OverrideSpec("P0", 4, "pagerduty", "all customers down"),
            OverrideSpec("P1", 3, "slack_oncall"),
        ),
    )
    return policy_create_from_spec(spec=spec, name="ladder", make_default=True)


def escalations(incident):
    return list(
        Escalation.objects.filter(incident=incident)
        .order_by("at", "id")
        .values_list("from_level", "to_level", "trigger")
    )


def test_severity_override_routes_at_creation_bypassing_lower_levels(policy, agent, settings):
    settings.PAGERDUTY_ROUTING_KEY = "R0UTING"
    incident = make_incident(actor=agent, severity="P0")
    assert incident.current_level == 4
    assert escalations(incident) == [(1, 4, "severity")]
    assert Notification.objects.filter(channel="pagerduty", incident=incident).exists()
    assert TriggerFiring.objects.get(incident=incident).key == "P0"


def test_raising_severity_later_routes_once(policy, agent):
    incident = make_incident(actor=agent, severity="P3")
    assert incident.current_level == 1
    incident = services.incident_change_severity(
        incident=incident, severity="P1", actor=agent, reason="wider impact"
    )
    assert incident.current_level == 3
    services.incident_change_severity(
        incident=incident, severity="P2", actor=agent, reason="mitigated"
    )
    services.incident_change_severity(incident=incident, severity="P1", actor=agent, reason="again")
    assert escalations(incident) == [(1, 3, "severity")]  # once per incident


def test_production_outage_escalates_one_level(policy, agent):
    incident = make_incident(actor=agent, is_production_outage=True)
    assert escalations(incident) == [(1, 2, "impact")]


def test_security_goes_to_its_level_with_limited_distribution(policy, agent, roles):
    UserFactory(username="sec", email="sec@example.com", role="Security")
    UserFactory(username="em", email="em@example.com", role="Engineering Manager")
    UserFactory(username="lead", email="lead@example.com", role="Team Lead")
    incident = make_incident(actor=agent, is_security=True, title="Credential stuffing on login")
    escalation = Escalation.objects.get(incident=incident)
    assert (escalation.to_level, escalation.limited_distribution) == (3, True)
    assert set(escalation.notify_groups) == {
        "Engineering Manager",
        "Security",
        "Governance Liaison",
    }
    sent_to = set(
        Notification.objects.filter(incident=incident).values_list("recipient", flat=True)
    )
    assert {"sec@example.com", "em@example.com"} <= sent_to
    assert "lead@example.com" not in sent_to
    from notifications.services import deliver_due

    assert deliver_due()["sent"] >= 2  # bodies are rendered at delivery
    for note in Notification.objects.filter(incident=incident):
        assert note.status == "sent" and note.body_text
        assert "Credential stuffing" not in note.subject + note.body_text + note.body_html


def test_compliance_and_customer_facing_tell_their_groups(policy, agent, roles):
    UserFactory(username="gov", email="gov@example.com", role="Governance Liaison")
    compliance = make_incident(actor=agent, is_compliance=True)
    assert escalations(compliance) == [(1, 3, "impact")]
    assert Notification.objects.filter(incident=compliance, recipient="gov@example.com").exists()
    customer_facing = make_incident(actor=agent, is_customer_facing=True)
    assert escalations(customer_facing) == []  # no route for it here: notify only
    assert customer_facing.events.filter(kind=EventKind.TRIGGER).exists()


def test_many_users_affected(policy, agent):
    assert escalations(make_incident(actor=agent, users_affected=50)) == []
    assert escalations(make_incident(actor=agent, users_affected=51)) == [(1, 2, "impact")]


def test_impact_set_later_through_the_details_form(policy, agent):
    incident = make_incident(actor=agent)
    services.incident_update_details(
        incident=incident, actor=agent, changes={"is_production_outage": True}
    )
    assert escalations(incident) == [(1, 2, "impact")]


def test_several_triggers_make_one_move_to_the_highest_level(policy, agent):
    incident = make_incident(actor=agent, severity="P1", is_production_outage=True)
    assert escalations(incident) == [(1, 3, "severity")]
    assert TriggerFiring.objects.filter(incident=incident).count() == 2


def test_repeat_root_cause_three_in_thirty_days(policy, agent):
    now = timezone.now()
    for days in (40, 20):
        make_incident(
            actor=agent,
            root_cause_key="auth-token",
            opened_at=now - timedelta(days=days),
            now=now - timedelta(days=days),
        )
    second = make_incident(actor=agent, root_cause_key="auth-token")
    assert escalations(second) == []  # 2 within 30 days (the 40-day-old one is outside)
    third = make_incident(actor=agent, root_cause_key="auth-token")
    assert escalations(third) == [(1, 2, "repeat")]
    assert "auth-token" in Escalation.objects.get(incident=third).reason


def test_repeat_for_the_same_account(policy, agent):
    account = AccountFactory()
    make_incident(actor=agent, account=account)
    make_incident(actor=agent, account=account)
    assert escalations(make_incident(actor=agent, account=account)) == [(1, 2, "repeat")]


def test_burst_of_high_severity_in_one_component(policy, agent):
    component = ComponentFactory()
    # P1 goes to L3 by override; a P2 burst does not count (not high severity).
    for _ in range(3):
        make_incident(actor=agent, component=component, severity="P2")
    assert not TriggerFiring.objects.filter(trigger="burst").exists()
    incidents = [make_incident(actor=agent, component=component, severity="P1") for _ in range(3)]
    assert TriggerFiring.objects.filter(trigger="burst").count() == 1
    assert TriggerFiring.objects.get(trigger="burst").incident == incidents[-1]


def test_revenue_over_the_threshold_is_executive(policy, agent):
    assert escalations(make_incident(actor=agent, revenue_impact=Decimal("10000"))) == []
    assert escalations(make_incident(actor=agent, revenue_impact=Decimal("10001"))) == [
        (1, 4, "executive")
    ]


def test_low_csat_is_executive_once(policy, agent):
    incident = make_incident(actor=agent)
    engine.executive_escalate(incident=incident, key="csat", reason="CSAT 2/5")
    engine.executive_escalate(incident=incident, key="csat", reason="CSAT 1/5")
    assert escalations(incident) == [(1, 4, "executive")]


def test_enterprise_customer_asking_for_a_manager(policy, agent):
    enterprise = make_incident(actor=agent, account=AccountFactory(tier="enterprise"))
    engine.customer_requests_manager(incident=enterprise, actor=agent, note="Wants the VP")
    assert escalations(enterprise) == [(1, 4, "executive")]
    standard = make_incident(actor=agent, account=AccountFactory(tier="standard"))
    with pytest.raises(ValidationError, match="enterprise"):
        engine.customer_requests_manager(incident=standard, actor=agent)


def test_seed003_a_low_rating_after_resolution_tells_management_up_to_the_vp(policy, agent):
    """Seed 003's executive path ends at the VP: a resolved incident has no level left to
    move to, so the Director, the Executive and the VP hear of the rating."""
    people = {
        role: UserFactory(username=role.lower(), role=role)
        for role in ("Director", "Executive", "VP")
    }
    incident = make_incident(actor=agent)
    services.incident_change_status(incident=incident, status="resolved", actor=agent, note="done")
    engine.executive_escalate(incident=incident, key="csat", reason="CSAT 1/5")
    told = set(
        Notification.objects.filter(incident=incident, kind="trigger").values_list(
            "recipient", flat=True
        )
    )
    assert {user.email for user in people.values()} <= told


def test_triggers_do_not_fire_on_closed_incidents(policy, agent):
    incident = make_incident(actor=agent)
    services.incident_change_status(incident=incident, status="resolved", actor=agent, note="done")
    assert engine.evaluate_incident_triggers(incident=incident) is None
