"""State changes are action endpoints calling the web's services; their
ValidationErrors come back as 400 with field errors."""

import pytest

from incidents.models import EventKind
from tests.api_client import token_client
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(agent):
    return make_incident(actor=agent, title="Checkout fails")


def post(user, incident, action, body=None):
    return token_client(user).post(
        f"/api/incidents/{incident.reference}/{action}/", body or {}, format="json"
    )


def test_acknowledge(agent, incident):
    answer = post(agent, incident, "acknowledge")
    assert answer.status_code == 200
    assert answer.json()["status"] == "acknowledged"
    assert answer.json()["assignee"] == agent.username
    again = post(agent, incident, "acknowledge")
    assert again.status_code == 400
    assert again.json() == {"non_field_errors": ["The incident is already acknowledged."]}


def test_comment_and_public_update(agent, incident):
    note = post(agent, incident, "comment", {"body": "Checked the gateway logs"})
    assert note.status_code == 201
    assert note.json()["kind"] == "comment"
    assert note.json()["visibility"] == "internal"
    update = post(agent, incident, "public-update", {"body": "We are on it"})
    assert update.status_code == 201
    assert update.json()["visibility"] == "public"
    incident.refresh_from_db()
    assert incident.first_response_at is not None
    assert post(agent, incident, "comment", {"body": "   "}).json() == {
        "body": ["This field may not be blank."]
    }
    assert post(agent, incident, "comment", {}).json() == {"body": ["This field is required."]}


def test_pause_resume_resolve_reopen(agent, incident):
    paused = post(agent, incident, "pause", {"waiting_on": "vendor", "note": "Stripe ticket"})
    assert paused.json()["status"] == "waiting_on_vendor"
    resumed = post(agent, incident, "resume")
    assert resumed.json()["status"] == "investigating"
    not_paused = post(agent, incident, "resume")
    assert not_paused.status_code == 400
    assert "not paused" in not_paused.json()["status"][0]
    assert post(agent, incident, "resolve", {}).json() == {"note": ["This field is required."]}
    resolved = post(agent, incident, "resolve", {"note": "Rolled back the deploy"})
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"] is not None
    reopened = post(agent, incident, "reopen", {"reason": "Back again"})
    assert reopened.json()["status"] == "investigating"
    assert reopened.json()["reopened_count"] == 1
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds.count(EventKind.STATUS_CHANGED) == 3
    assert EventKind.REOPENED in kinds


def test_status_table_errors_are_field_errors(agent, incident):
    answer = post(agent, incident, "status", {"status": "closed"})
    assert answer.status_code == 400
    assert "cannot move from new to closed" in answer.json()["status"][0]
    reopen_open = post(agent, incident, "reopen", {"reason": "why not"})
    assert reopen_open.status_code == 400
    assert (
        "Only resolved or closed incidents can be reopened"
        in (reopen_open.json()["non_field_errors"][0])
    )
    moved = post(agent, incident, "status", {"status": "mitigated"})
    assert moved.json()["status"] == "mitigated"


def test_assign_and_severity(agent, other_agent, incident):
    assigned = post(agent, incident, "assign", {"assignee": other_agent.username})
    assert assigned.json()["assignee"] == other_agent.username
    same = post(agent, incident, "assign", {"assignee": other_agent.username})
    assert same.json() == {"assignee": ["The incident is already assigned to them."]}
    unassigned = post(agent, incident, "assign", {"assignee": None})
    assert unassigned.json()["assignee"] is None
    raised = post(agent, incident, "severity", {"severity": "P1", "reason": "More customers"})
    assert raised.json()["severity"] == "P1"
    assert post(agent, incident, "severity", {"severity": "P1", "reason": "x"}).json() == {
        "severity": ["The incident is already P1 · High · Sev 2."]
    }


def test_unknown_action_is_404_and_get_on_an_action_405(agent, incident):
    api = token_client(agent)
    assert api.post(f"/api/incidents/{incident.reference}/explode/").status_code == 404
    assert api.get(f"/api/incidents/{incident.reference}/resolve/").status_code == 405
