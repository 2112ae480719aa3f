"""Seed 000 Special Escalation Scenarios and Legal (issue 19):

- Security Incident: "Limited distribution of details" ... "Coordinate with legal if data
  breach" (000-50): a security incident with data loss is a data breach; Legal is cleared
  to read it (the visibility rule every read and every `require` asks) and told of it,
  while a security incident without data loss keeps Legal out.
- Compliance Violation: "Legal may be involved" (000-52): compliance's notify groups name
  Legal, in the defaults and in the engineering preset.
"""

import pytest

from escalations.rules.spec import TriggerSettings
from escalations.rules.triggers import TriggerFacts, evaluate
from incidents import services
from incidents.models import Incident
from incidents.permissions import NotVisible, allowed, require
from incidents.selectors import incident_for_user, incidents_visible_to
from notifications.models import Notification
from tests.escalations.conftest import simple_spec
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(roles):
    return {
        role: UserFactory(username=role.split()[0].lower(), role=role)
        for role in (
            "Support Agent",
            "Team Lead",
            "Engineering Manager",
            "Security",
            "Governance Liaison",
            "Director",
            "Executive",
            "Legal",
        )
    }


@pytest.fixture
def engineering(people, engineering_preset):
    """The shipped engineering-5-level workflow (seed 000) as the default policy."""
    return people


def told(incident) -> set[str]:
    rows = Notification.objects.filter(incident=incident, channel="email")
    return set(rows.values_list("recipient", flat=True))


# --- the rules, without a database -------------------------------------------------------


@pytest.mark.django_db(False)
def test_seed000_coordinate_with_legal_if_data_breach_is_a_notify_only_hit():
    """Seed 000 Security Incident: "Coordinate with legal if data breach"."""
    assert dict(TriggerSettings().notify_groups)["data_breach"] == ("Legal",)
    hits = evaluate(
        simple_spec(matrix=()),
        TriggerFacts(severity="P2", level=1, is_security=True, is_data_loss=True),
    )
    breach = next(hit for hit in hits if hit.key == "data_breach")
    assert (breach.target, breach.notify_groups, breach.limited_distribution) == (
        None,
        ("Legal",),
        True,
    )
    # Data loss alone is not a breach, nor is a security incident without data loss.
    for facts in (
        TriggerFacts(severity="P2", level=1, is_data_loss=True),
        TriggerFacts(severity="P2", level=1, is_security=True),
    ):
        assert "data_breach" not in {hit.key for hit in evaluate(simple_spec(matrix=()), facts)}


@pytest.mark.django_db(False)
def test_seed000_compliance_legal_may_be_involved_in_the_default_notify_groups():
    """Seed 000 Compliance Violation: "Legal may be involved"."""
    assert "Legal" in dict(TriggerSettings().notify_groups)["compliance"]


# --- who may see a data breach ---------------------------------------------------------------


def test_seed000_legal_sees_a_data_breach_but_not_other_security_incidents(people):
    """Seed 000 Security Incident: "Limited distribution of details", "Coordinate with
    legal if data breach": every read and every action's visibility check agree."""
    agent, legal = people["Support Agent"], people["Legal"]
    breach = make_incident(actor=agent, is_security=True, is_data_loss=True, title="Dump leaked")
    security = make_incident(actor=agent, is_security=True, title="Port scan")
    plain_loss = make_incident(actor=agent, is_data_loss=True, title="Disk corrupted")
    assert breach.is_data_breach and not security.is_data_breach

    visible = set(incidents_visible_to(legal).values_list("reference", flat=True))
    assert breach.reference in visible and plain_loss.reference in visible
    assert security.reference not in visible
    assert incident_for_user(legal, breach.reference) == breach
    with pytest.raises(NotVisible):
        require(legal, "regulatory_report.file", incident=security)
    # An agent (no clearance) sees neither security incident.
    for_agent = set(incidents_visible_to(agent).values_list("reference", flat=True))
    assert breach.reference not in for_agent and security.reference not in for_agent


def test_security_incident_that_turns_out_to_lose_data_admits_legal(people):
    """Seed 000: Legal is brought in when the security incident becomes a data breach."""
    agent, legal = people["Support Agent"], people["Legal"]
    incident = make_incident(actor=agent, is_security=True)
    assert not incidents_visible_to(legal).filter(pk=incident.pk).exists()
    services.incident_update_details(
        incident=incident, actor=people["Security"], changes={"is_data_loss": True}
    )
    assert incidents_visible_to(legal).filter(pk=incident.pk).exists()
    assert allowed(legal, "regulatory_report.file", incident=Incident.objects.get(pk=incident.pk))


# --- who is told, under the engineering preset (seed 000) ------------------------------------


def test_seed000_data_breach_tells_legal_and_the_security_readers(engineering):
    """Seed 000 Security Incident: "Immediate Escalation: Engineering Manager + Security
    Team + Governance Liaison" ... "Coordinate with legal if data breach"."""
    breach = make_incident(severity="P2", is_security=True, is_data_loss=True)
    sent = told(breach)
    assert engineering["Legal"].email in sent
    assert {engineering[r].email for r in ("Engineering Manager", "Security")} <= sent
    assert engineering["Team Lead"].email not in sent  # still limited distribution


def test_seed000_security_incident_without_data_loss_keeps_legal_out(engineering):
    """Seed 000 Security Incident: "Limited distribution of details": no breach, no Legal."""
    incident = make_incident(severity="P2", is_security=True)
    sent = told(incident)
    assert engineering["Security"].email in sent
    assert engineering["Legal"].email not in sent


def test_seed000_compliance_violation_tells_legal(engineering):
    """Seed 000 Compliance Violation: "Immediate Escalation: Governance Liaison +
    Engineering Manager", "Legal may be involved"."""
    incident = make_incident(severity="P3", is_compliance=True)
    sent = told(incident)
    assert {engineering[r].email for r in ("Governance Liaison", "Legal")} <= sent
