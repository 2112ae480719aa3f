"""The incident page is composed from parts other apps register (incidents.panels):
a registered panel's context and template appear on the page; without escalations'
panels the page still shows the incident and its own actions."""

import copy
import re

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from incidents.panels import (
    DetailPanel,
    detail_panels,
    register_detail_panel,
    unregister_detail_panel,
)
from tests.factories import PASSWORD, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered():
    """Panels registered in a test are gone after it; escalations' come back in order."""
    before = detail_panels()
    yield
    for panel in detail_panels():
        unregister_detail_panel(panel.name)
    for panel in before:
        register_detail_panel(panel)


def page(client, user, incident):
    client.login(username=user.username, password=PASSWORD)
    return client.get(reverse("incidents:detail", args=[incident.reference]))


def test_escalations_registers_its_parts_of_the_page_in_order():
    assert [p.name for p in detail_panels()] == ["sla_clocks", "escalations", "follow_up"]


def test_a_registered_panel_adds_its_context_and_template(
    client, default_policy, agent, registered, settings, tmp_path
):
    (tmp_path / "runbook_panel.html").write_text(
        '<section id="runbook">Runbook for {{ runbook_for }}</section>'
    )
    templates = copy.deepcopy(django_settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], tmp_path]
    settings.TEMPLATES = templates
    seen = []

    def runbook(incident, user, bound):
        seen.append((incident.pk, user.pk, dict(bound)))
        return {"runbook_for": incident.reference}

    register_detail_panel(DetailPanel("runbook", runbook, template="runbook_panel.html"))
    incident = make_incident(actor=agent)

    html = page(client, agent, incident).content.decode()

    assert f'<section id="runbook">Runbook for {incident.reference}</section>' in html
    assert html.index('id="escalations"') < html.index('id="runbook"')  # after earlier panels
    assert seen == [(incident.pk, agent.pk, {})]


def test_a_failed_form_reaches_the_panels_under_its_action_key(
    client, default_policy, agent, registered
):
    seen = []
    register_detail_panel(DetailPanel("spy", lambda i, u, bound: seen.append(set(bound)) or {}))
    incident = make_incident(actor=agent)
    client.login(username=agent.username, password=PASSWORD)

    response = client.post(reverse("incidents:action", args=[incident.reference, "comment"]), {})

    assert response.status_code == 400
    assert seen == [{"comment"}]


def test_without_escalations_panels_the_page_shows_the_incident_alone(
    client, default_policy, agent, registered
):
    for panel in detail_panels():
        unregister_detail_panel(panel.name)
    incident = make_incident(actor=agent)

    response = page(client, agent, incident)

    html = response.content.decode()
    assert response.status_code == 200
    assert incident.title in html
    assert "No SLA policy applies to this incident." in html  # no clocks known
    assert 'id="escalations"' not in html
    assert "war-room-card" not in html
    actions = re.findall(r'data-action="([a-z_-]+)"', html)
    assert actions[:3] == ["acknowledge", "comment", "update"]
    assert not {"escalate", "de_escalate", "war_room", "vendor", "review_start"} & set(actions)
