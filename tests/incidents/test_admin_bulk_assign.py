"""The admin's Assign action assigns every picked incident, each through the service."""

import pytest
from django.urls import reverse

from incidents.models import EventKind
from tests.factories import PASSWORD, make_incident

pytestmark = pytest.mark.django_db


def test_assign_three_incidents_at_once(default_policy, manager, agent, client):
    incidents = [make_incident(actor=manager, title=f"Outage {n}") for n in range(3)]
    ids = [i.pk for i in incidents]
    client.login(username=manager.username, password=PASSWORD)
    url = reverse("admin:incidents_incident_changelist")

    form_page = client.post(url, {"action": "assign", "_selected_action": ids})
    html = form_page.content.decode()
    assert "Pick exactly one incident." not in html
    assert "Assign 3 incidents" in html
    for incident in incidents:
        assert incident.reference in html
        assert f'name="_selected_action" value="{incident.pk}"' in html

    done = client.post(
        url,
        {"action": "assign", "_selected_action": ids, "apply": "1", "assignee": agent.pk},
        follow=True,
    )
    assert f"Assigned 3 incident(s) to {agent}." in done.content.decode()
    for incident in incidents:
        incident.refresh_from_db()
        assert incident.assignee == agent
        assert incident.events.filter(kind=EventKind.ASSIGNED, actor=manager).exists()


def test_assign_with_a_bad_choice_keeps_the_rows_and_says_why(default_policy, manager, client):
    incidents = [make_incident(actor=manager) for _ in range(2)]
    client.login(username=manager.username, password=PASSWORD)
    response = client.post(
        reverse("admin:incidents_incident_changelist"),
        {
            "action": "assign",
            "_selected_action": [i.pk for i in incidents],
            "apply": "1",
            "assignee": 999999,
        },
    )
    html = response.content.decode()
    assert "Select a valid choice" in html
    assert all(f'value="{i.pk}"' in html for i in incidents)
