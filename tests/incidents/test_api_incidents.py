"""The incident resource: list (filters, search, cursor pages), create (with
`opened_at` for imports), retrieve by reference, edit the editable fields."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from incidents.models import EventKind, Incident
from tests.api_client import results, token_client
from tests.factories import AccountFactory, ComponentFactory, make_incident

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def test_list_newest_first_with_cursor_pages(agent):
    for n in range(5):
        make_incident(actor=agent, title=f"Incident {n}", opened_at=NOW - timedelta(hours=n))
    api = token_client(agent)
    first = api.get("/api/incidents/", {"page_size": 2}).json()
    assert [i["title"] for i in first["results"]] == ["Incident 0", "Incident 1"]
    assert first["previous"] is None
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    assert [i["title"] for i in second["results"] + third["results"]] == [
        "Incident 2",
        "Incident 3",
        "Incident 4",
    ]
    assert third["next"] is None
    assert api.get("/api/incidents/", {"cursor": "garbage"}).status_code == 404


def test_a_page_costs_a_fixed_number_of_queries(agent, django_assert_max_num_queries):
    account = AccountFactory()
    for n in range(30):
        make_incident(actor=agent, title=f"Incident {n}", account=account, assignee=agent)
    api = token_client(agent)
    with django_assert_max_num_queries(6):
        assert len(results(api.get("/api/incidents/", {"page_size": 30}))) == 30


def test_filters_and_search(agent, other_agent):
    checkout = ComponentFactory(name="Checkout")
    acme = AccountFactory(name="Acme Corp")
    mine = make_incident(actor=agent, title="Card declined", severity="P1", assignee=agent)
    theirs = make_incident(
        actor=agent, title="Slow search", component=checkout, account=acme, assignee=other_agent
    )
    closed = make_incident(actor=agent, title="Old thing", severity="P3")
    from incidents import services

    services.incident_change_status(incident=closed, status="resolved", actor=agent, note="done")
    api = token_client(agent)

    def refs(**params):
        return {i["reference"] for i in results(api.get("/api/incidents/", params))}

    assert refs(severity="P1") == {mine.reference}
    assert refs(severity=["P1", "P3"]) == {mine.reference, closed.reference}
    assert refs(status="open") == {mine.reference, theirs.reference}
    assert refs(status="resolved") == {closed.reference}
    assert refs(component=checkout.pk) == {theirs.reference}
    assert refs(account=acme.pk) == {theirs.reference}
    assert refs(assignee=other_agent.username) == {theirs.reference}
    assert refs(mine="true") == {mine.reference}
    assert refs(unassigned="true") == {closed.reference}
    assert refs(channel="RUNTIME") == {mine.reference, theirs.reference, closed.reference}
    assert refs(search="acme") == {theirs.reference}
    assert refs(search="card") == {mine.reference}
    assert refs(search=mine.reference[:-1]) >= {mine.reference}
    assert api.get("/api/incidents/", {"severity": "P9"}).status_code == 400
    # Any offset Python reads is compared in UTC (PostgreSQL refuses those past 15:59);
    # an instant before year 1 in UTC is a 400, not a server error.
    assert refs(opened_after="2000-01-01T04:00:00+20:00") == refs()
    assert refs(opened_before="2000-01-01T04:00:00+20:00") == set()
    early = api.get("/api/incidents/", {"opened_after": "0001-01-01T00:00:00+05:00"})
    assert early.json() == {
        "opened_after": ["Pick an instant between the years 1 and 9999 in UTC."]
    }


def test_retrieve_by_reference(agent):
    incident = make_incident(actor=agent, title="Gateway timeouts", severity="P1")
    body = token_client(agent).get(f"/api/incidents/{incident.reference}/").json()
    assert body["reference"] == incident.reference
    assert body["title"] == "Gateway timeouts"
    assert body["severity"] == "P1"
    assert body["status"] == "new"
    assert body["channel"] == "RUNTIME"
    assert body["web_url"].endswith(f"/incidents/{incident.reference}/")
    assert token_client(agent).get("/api/incidents/INC-NOPE-1/").status_code == 404
    # PostgreSQL cannot compare text holding NUL: no such incident, not a server error.
    assert token_client(agent).get("/api/incidents/INC%00-1/").status_code == 404


def test_create_goes_through_the_service(agent, other_agent):
    api = token_client(agent)
    account = AccountFactory()
    answer = api.post(
        "/api/incidents/",
        {
            "title": "Checkout 500s",
            "severity": "P1",
            "channel": "RUNTIME",
            "account": account.pk,
            "is_customer_facing": True,
            "users_affected": 120,
            "revenue_impact": "2500.00",
            "assignee": other_agent.username,
            "description": "Since the deploy",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert answer["Location"] == body["web_url"]
    incident = Incident.objects.get(reference=body["reference"])
    assert incident.created_by == agent
    assert incident.assignee == other_agent
    assert body["revenue_impact"] == "2500.00"
    assert incident.events.get().kind == EventKind.CREATED


def test_create_with_opened_at_for_imports_never_in_the_future(agent):
    api = token_client(agent)
    base = {"title": "Imported", "severity": "P2", "channel": "RUNTIME"}
    with time_machine.travel(NOW, tick=False):
        past = api.post(
            "/api/incidents/", {**base, "opened_at": (NOW - timedelta(days=2)).isoformat()}
        )
        assert past.status_code == 201
        incident = Incident.objects.get(reference=past.json()["reference"])
        assert incident.opened_at == NOW - timedelta(days=2)
        assert incident.events.get().data["imported"] is True
        future = api.post(
            "/api/incidents/", {**base, "opened_at": (NOW + timedelta(minutes=5)).isoformat()}
        )
    assert future.status_code == 400
    assert future.json() == {"opened_at": ["The opening time cannot be in the future."]}


def test_create_rejects_bad_input_with_field_errors(agent):
    from incidents.models import Channel

    Channel.objects.create(name="Fax", code="FAX", is_active=False)
    answer = token_client(agent).post(
        "/api/incidents/",
        {
            "title": "",
            "severity": "P7",
            "channel": "NOPE",
            "users_affected": -1,
            "assignee": "ghost",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert set(answer.json()) == {"title", "severity", "channel", "users_affected", "assignee"}
    inactive = token_client(agent).post(
        "/api/incidents/", {"title": "x", "severity": "P2", "channel": "FAX"}, format="json"
    )
    assert inactive.status_code == 400
    assert inactive.json() == {"channel": ["The Fax channel is no longer in use."]}
    nul = token_client(agent).post(
        "/api/incidents/",
        {"title": "x", "severity": "P2", "channel": "RUN\x00", "assignee": "a\x00"},
        format="json",
    )
    assert nul.json() == {
        "channel": ["Null characters are not allowed."],
        "assignee": ["Null characters are not allowed."],
    }
    assert not Incident.objects.exists()


def test_update_editable_fields_records_the_change(agent):
    incident = make_incident(actor=agent, title="Typo in title")
    component = ComponentFactory()
    answer = token_client(agent).patch(
        f"/api/incidents/{incident.reference}/",
        {"title": "Checkout fails", "component": component.pk, "is_production_outage": True},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["title"] == "Checkout fails"
    incident.refresh_from_db()
    assert incident.component == component
    event = incident.events.get(kind=EventKind.DETAILS_CHANGED)
    assert event.actor == agent
    assert event.data["changes"]["title"] == ["Typo in title", "Checkout fails"]


def test_status_and_other_state_cannot_be_written_directly(agent):
    incident = make_incident(actor=agent)
    api = token_client(agent)
    answer = api.patch(
        f"/api/incidents/{incident.reference}/",
        {"status": "resolved", "severity": "P0", "current_level": 4, "assignee": "agent1"},
        format="json",
    )
    assert answer.status_code == 200  # unknown fields are not editable: ignored
    incident.refresh_from_db()
    assert (incident.status, incident.severity, incident.current_level) == ("new", "P2", 1)
    assert incident.assignee is None
    assert api.put(f"/api/incidents/{incident.reference}/", {}).status_code == 405
    assert api.delete(f"/api/incidents/{incident.reference}/").status_code == 405
    blank = api.patch(f"/api/incidents/{incident.reference}/", {"title": " "}, format="json")
    assert blank.status_code == 400
    assert "title" in blank.json()


def test_timeline_oldest_first(agent):
    from incidents import services

    incident = make_incident(actor=agent)
    services.incident_comment(incident=incident, actor=agent, body="Looked at the logs")
    events = results(token_client(agent).get(f"/api/incidents/{incident.reference}/timeline/"))
    assert [e["kind"] for e in events] == ["created", "comment"]
    assert events[1]["actor"] == agent.username
    assert events[1]["body"] == "Looked at the logs"
