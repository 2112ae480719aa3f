"""Choosing an assignee on an incident a trigger escalates at once: the page says why
the incident is not theirs instead of silently showing it unassigned."""

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse

from incidents.models import Channel, Incident
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_the_success_message_says_the_trigger_let_the_assignee_go(client, agent, roles):
    customer = Channel.objects.get_or_create(code="CUSTOMER", defaults={"name": "Customer"})[0]
    call_command("load_workflow", "support-3-tier", "--default", verbosity=0)
    chosen = UserFactory(username="chosen", role="Support Agent", first_name="Casey")
    client.login(username=agent.username, password=PASSWORD)

    response = client.post(
        reverse("incidents:create"),
        {"title": "Payments down", "severity": "P1", "channel": customer.pk, "assignee": chosen.pk},
    )

    incident = Incident.objects.get()
    assert response.status_code == 302
    assert incident.current_level > 1 and incident.assignee is None  # escalated at opening
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert f"Incident {incident.reference} opened." in message
    assert f"escalated it at once to L{incident.current_level}" in message
    assert "Casey" in message and "acknowledges the handoff" in message


def test_no_extra_words_when_the_assignee_stays(client, agent, channel, default_policy):
    client.login(username=agent.username, password=PASSWORD)
    response = client.post(
        reverse("incidents:create"),
        {"title": "Slow search", "severity": "P3", "channel": channel.pk, "assignee": agent.pk},
    )
    incident = Incident.objects.get()
    assert incident.assignee == agent
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Incident {incident.reference} opened."
    ]
