"""The incident page puts the actions that fit this state and role up front, the rest
one click away, and has one "Acknowledge" per meaning."""

import re

import pytest
from django.urls import reverse

from escalations.engine import services as engine
from escalations.rules.handoff import CHECKLIST
from tests.factories import PASSWORD, UserFactory, make_incident

pytestmark = pytest.mark.django_db

SUPPORT_NOTE = (
    "customer_context",
    "symptoms",
    "customer_impact",
    "business_impact",
    "steps_taken",
    "suggested_next_step",
)


def page(client, user, incident) -> str:
    client.login(username=user.username, password=PASSWORD)
    return client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()


def sections(html: str) -> tuple[str, str]:
    up_front = html[
        html.index('aria-label="What to do now"') : html.index('aria-label="More actions"')
    ]
    more = html[
        html.index('aria-label="More actions"') : html.index('class="columns detail-columns"')
    ]
    return up_front, more


def test_an_agent_on_a_new_incident_acknowledges_logs_and_updates(client, default_policy, agent):
    incident = make_incident(actor=agent)
    up_front, more = sections(page(client, agent, incident))
    assert re.findall(r'data-action="([a-z_-]+)"', up_front) == ["acknowledge", "comment", "update"]
    assert ">Acknowledge incident</button>" in up_front
    assert 'id="do-escalate" data-action="escalate">' in more  # closed, one click away
    assert 'id="do-severity" data-action="severity">' in more


def test_a_lead_gets_the_handoff_and_the_decision_up_front(client, default_policy, agent):
    lead = UserFactory(username="lead1", role="Team Lead")
    incident = make_incident(actor=agent)
    engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=agent,
        reason="Need specialists",
        category="expertise",
        note=dict.fromkeys(
            (
                "customer_context",
                "symptoms",
                "customer_impact",
                "business_impact",
                "steps_taken",
                "suggested_next_step",
            ),
            "filled",
        ),
        checklist=list(CHECKLIST),
        decision_sought="Roll back?",
    )
    html = page(client, lead, incident)
    up_front, _ = sections(html)
    actions = re.findall(r'data-action="([a-z_-]+)"', up_front)
    assert actions == ["acknowledge", "take-handoff", "decide"]
    # Two acknowledgements, two meanings, two labels.
    assert re.findall(r">(Acknowledge[^<]*|Take the handoff[^<]*)</button>", html) == [
        "Acknowledge incident",
        "Take the handoff (L2)",
    ]
    head = html[
        html.index('class="card incident-head"') : html.index('aria-label="What to do now"')
    ]
    assert "waiting for L2 to take the handoff" in head
    assert "Decision sought: Roll back?" in head
