"""Agent forms: bad input is refused beside its field and saves nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import EventKind, Incident
from incidents.rules import Status
from tests.factories import PASSWORD, AccountFactory, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, agent):
    assert client.login(username=agent.username, password=PASSWORD)
    return client


def valid_form(runtime, **overrides):
    return {
        "title": "Refunds stuck in pending",
        "severity": "P2",
        "channel": runtime.pk,
        "description": "Since 09:00",
        **overrides,
    }


def field_errors(response, field):
    return response.context["form"].errors.get(field)


def test_create_opens_an_incident_and_shows_it(web, agent, channel):
    account = AccountFactory()
    response = web.post(reverse("incidents:create"), valid_form(channel, account=account.pk))
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:detail", args=[incident.reference])
    assert incident.account == account and incident.created_by == agent
    page = web.get(response["Location"])
    assert incident.reference.encode() in page.content
    assert b"Refunds stuck in pending" in page.content


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"severity": "P7"}, "severity"),
        ({"channel": ""}, "channel"),
        ({"users_affected": "-3"}, "users_affected"),
        ({"users_affected": "many"}, "users_affected"),
        ({"revenue_impact": "-10"}, "revenue_impact"),
        ({"opened_at": "not a date"}, "opened_at"),
    ],
)
def test_bad_create_input_is_shown_beside_the_field(web, channel, overrides, field):
    response = web.post(reverse("incidents:create"), valid_form(channel, **overrides))
    assert response.status_code == 400
    assert field_errors(response, field), response.context["form"].errors
    assert b'class="errorlist' in response.content
    assert not Incident.objects.exists()


def test_future_opening_time_is_refused(web, channel):
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = web.post(reverse("incidents:create"), valid_form(channel, opened_at=future))
    assert response.status_code == 400
    assert "future" in str(field_errors(response, "opened_at"))
    assert not Incident.objects.exists()


def test_past_opening_time_is_kept_for_imports(web, channel):
    past = timezone.localtime() - timedelta(days=2)
    response = web.post(
        reverse("incidents:create"), valid_form(channel, opened_at=past.strftime("%Y-%m-%dT%H:%M"))
    )
    assert response.status_code == 302
    opened = Incident.objects.get().opened_at
    assert abs(opened - past) < timedelta(minutes=1)


def action(web, incident, name, data=None):
    return web.post(reverse("incidents:action", args=[incident.reference, name]), data or {})


def test_acknowledge_button(web, agent):
    incident = make_incident(actor=agent)
    response = action(web, incident, "acknowledge")
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.ACKNOWLEDGED and incident.assignee == agent


def test_actions_through_the_incident_page(web, agent, other_agent):
    incident = make_incident(actor=agent)
    assert action(web, incident, "comment", {"body": "Looked at logs"}).status_code == 302
    assert action(web, incident, "update", {"body": "Investigating"}).status_code == 302
    assert action(web, incident, "assign", {"assignee": other_agent.pk}).status_code == 302
    assert action(web, incident, "status", {"status": "investigating"}).status_code == 302
    assert (
        action(
            web, incident, "severity", {"severity": "P1", "reason": "More customers"}
        ).status_code
        == 302
    )
    incident.refresh_from_db()
    assert incident.assignee == other_agent
    assert incident.status == Status.INVESTIGATING and incident.severity == "P1"
    page = web.get(reverse("incidents:detail", args=[incident.reference]))
    assert b"Looked at logs" in page.content and b"Investigating" in page.content


def test_illegal_status_is_refused_beside_the_field(web, agent):
    incident = make_incident(actor=agent)
    response = action(web, incident, "status", {"status": "closed"})
    assert response.status_code == 400
    assert response.context["status_form"].errors["status"]
    incident.refresh_from_db()
    assert incident.status == Status.NEW
    assert incident.events.count() == 1


def test_resolving_without_a_note_shows_the_error_on_the_note(web, agent):
    incident = make_incident(actor=agent)
    action(web, incident, "status", {"status": "investigating"})
    response = action(web, incident, "status", {"status": "resolved", "note": ""})
    assert response.status_code == 400
    assert "how it was resolved" in str(response.context["status_form"].errors["note"])
    incident.refresh_from_db()
    assert incident.status == Status.INVESTIGATING


@pytest.mark.parametrize("name", ["comment", "update", "severity", "assign", "status"])
def test_empty_action_forms_save_nothing(web, agent, name):
    incident = make_incident(actor=agent)
    response = action(web, incident, name, {})
    assert response.status_code == 400
    assert b'class="errorlist' in response.content
    assert list(incident.events.values_list("kind", flat=True)) == [EventKind.CREATED]


def test_reopen_needs_a_reason(web, agent):
    incident = make_incident(actor=agent)
    action(web, incident, "status", {"status": "investigating"})
    action(web, incident, "status", {"status": "resolved", "note": "Fixed"})
    response = action(web, incident, "reopen", {"reason": ""})
    assert response.status_code == 400
    assert response.context["reopen_form"].errors["reason"]
    response = action(web, incident, "reopen", {"reason": "It is back"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.INVESTIGATING


def test_unknown_action_is_404(web, agent):
    assert action(web, make_incident(actor=agent), "explode").status_code == 404


def test_read_only_role_cannot_act(client, roles, agent):
    from tests.factories import UserFactory

    executive = UserFactory(role="Executive")
    incident = make_incident(actor=agent)
    client.login(username=executive.username, password=PASSWORD)
    assert client.get(reverse("incidents:detail", args=[incident.reference])).status_code == 200
    response = client.post(
        reverse("incidents:action", args=[incident.reference, "comment"]), {"body": "hi"}
    )
    assert response.status_code == 403
    assert incident.events.count() == 1


def test_list_filters_and_mine(web, agent, other_agent):
    mine = make_incident(actor=agent, assignee=agent, title="Mine one", severity="P0")
    make_incident(actor=agent, assignee=other_agent, title="Someone else's", severity="P3")
    response = web.get(reverse("incidents:list"), {"mine": "on"})
    assert [i.pk for i in response.context["page"]] == [mine.pk]
    response = web.get(reverse("incidents:list"), {"severity": "P3"})
    assert [i.title for i in response.context["page"]] == ["Someone else's"]
    response = web.get(reverse("incidents:list"), {"status": "open"})
    assert response.context["page"].paginator.count == 2
    response = web.get(reverse("incidents:list"), {"severity": "P9"})
    assert response.status_code == 200  # an invalid filter is shown, not a crash
    assert response.context["filter"].form.errors["severity"]


def test_list_is_paginated(web, agent, settings):
    settings.INCIDENTS_PER_PAGE = 5
    for n in range(7):
        make_incident(actor=agent, title=f"Incident {n}")
    first = web.get(reverse("incidents:list"))
    second = web.get(reverse("incidents:list"), {"page": 2})
    assert len(first.context["page"]) == 5 and len(second.context["page"]) == 2
