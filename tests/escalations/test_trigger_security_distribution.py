"""Seed 000 security incidents: "limited distribution of details". The receiving level's
team and directory contacts are emailed only if they may see security incidents."""

import pytest
from django.contrib.auth.models import Group

from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, TargetSpec, TriggerSettings
from notifications.models import Contact, Notification
from tests.escalations.conftest import H, simple_spec
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(roles):
    # Security and production outages both go to L3, whose team is the team leads.
    levels = (
        LevelSpec(1, "Support", sla=TargetSpec(resolution=8 * H)),
        LevelSpec(2, "Team lead", sla=TargetSpec(resolution=8 * H)),
        LevelSpec(3, "Incident response", team="Team Lead", sla=TargetSpec(resolution=8 * H)),
    )
    triggers = TriggerSettings(impact_routes=(("security", 3), ("production_outage", 3)))
    spec = simple_spec(levels=levels, matrix=(), triggers=triggers)
    return policy_create_from_spec(spec=spec, name="ladder", make_default=True)


@pytest.fixture
def team(roles):
    lead = UserFactory(username="lead", role="Team Lead")  # may not see security incidents
    director = UserFactory(username="director-lead", role="Director")  # may
    director.groups.add(Group.objects.get(name="Team Lead"))
    outsider = UserFactory(username="oncall", role="Support Agent")
    Contact.objects.create(
        name="Team lead on call",
        team=Group.objects.get(name="Team Lead"),
        user=outsider,
        email="oncall-lead@example.com",
    )
    return {"lead": lead, "director": director, "contact": outsider}


def emailed(incident):
    rows = Notification.objects.filter(incident=incident, kind="escalation", channel="email")
    return set(rows.values_list("recipient", flat=True))


def test_the_level_team_hears_of_an_ordinary_escalation(policy, team, agent):
    # The control: without limited distribution, all three are told.
    incident = make_incident(actor=agent, is_production_outage=True)
    assert incident.current_level == 3
    assert {"lead@example.com", "director-lead@example.com", "oncall-lead@example.com"} <= (
        emailed(incident)
    )


def test_security_incident_emails_only_people_allowed_to_see_it(policy, team, agent):
    incident = make_incident(actor=agent, is_security=True, title="Leaked API keys")
    assert incident.current_level == 3
    sent = emailed(incident)
    assert "director-lead@example.com" in sent
    assert "lead@example.com" not in sent
    assert "oncall-lead@example.com" not in sent
    for user in (team["lead"], team["contact"]):
        assert not Notification.objects.filter(incident=incident, recipient_user=user).exists()
