from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents import services
from incidents.models import EventKind, Visibility
from incidents.rules import Status
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def t0():
    return timezone.now() - timedelta(hours=5)


@pytest.fixture
def incident(agent, t0):
    return make_incident(actor=agent, opened_at=t0, now=t0)


def kinds(incident):
    return [e.kind for e in incident.events.order_by("at", "id")]


def test_acknowledge_is_the_first_response_and_takes_ownership(incident, other_agent, t0):
    at = t0 + timedelta(minutes=7)
    incident = services.incident_acknowledge(incident=incident, actor=other_agent, now=at)
    assert incident.status == Status.ACKNOWLEDGED
    assert incident.acknowledged_at == at
    assert incident.first_response_at == at
    assert incident.assignee == other_agent
    assert kinds(incident) == [EventKind.CREATED, EventKind.ACKNOWLEDGED]


def test_acknowledge_keeps_an_existing_assignee(agent, other_agent, t0):
    incident = make_incident(actor=agent, assignee=agent, opened_at=t0, now=t0)
    incident = services.incident_acknowledge(incident=incident, actor=other_agent)
    assert incident.assignee == agent


def test_illegal_move_changes_nothing(incident, agent):
    with pytest.raises(ValidationError) as error:
        services.incident_change_status(incident=incident, status="closed", actor=agent)
    assert "status" in error.value.error_dict
    incident.refresh_from_db()
    assert incident.status == Status.NEW
    assert incident.closed_at is None
    assert kinds(incident) == [EventKind.CREATED]


def test_second_acknowledge_is_refused(incident, agent):
    services.incident_acknowledge(incident=incident, actor=agent)
    with pytest.raises(ValidationError):
        services.incident_acknowledge(incident=incident, actor=agent)
    assert kinds(incident).count(EventKind.ACKNOWLEDGED) == 1


def test_resolving_needs_a_note_then_records_the_time(incident, agent, t0):
    services.incident_acknowledge(incident=incident, actor=agent, now=t0 + timedelta(minutes=1))
    with pytest.raises(ValidationError) as error:
        services.incident_change_status(incident=incident, status="resolved", actor=agent)
    assert "note" in error.value.error_dict
    at = t0 + timedelta(hours=2)
    incident = services.incident_change_status(
        incident=incident, status="resolved", actor=agent, note="Rolled back.", now=at
    )
    assert incident.resolved_at == at
    event = incident.events.order_by("-at", "-id").first()
    assert event.kind == EventKind.STATUS_CHANGED
    assert event.data == {"from": "acknowledged", "to": "resolved"}
    assert event.body == "Rolled back."


def test_moving_out_of_new_counts_as_acknowledgement(incident, agent, t0):
    at = t0 + timedelta(minutes=3)
    incident = services.incident_change_status(
        incident=incident, status="investigating", actor=agent, now=at
    )
    assert incident.acknowledged_at == at
    assert incident.first_response_at == at


def test_reopen_keeps_the_original_opening_time(incident, agent, t0):
    services.incident_change_status(incident=incident, status="investigating", actor=agent)
    services.incident_change_status(incident=incident, status="resolved", actor=agent, note="ok")
    services.incident_change_status(incident=incident, status="closed", actor=agent)
    with pytest.raises(ValidationError) as error:
        services.incident_reopen(incident=incident, actor=agent, reason=" ")
    assert "reason" in error.value.error_dict
    incident = services.incident_reopen(incident=incident, actor=agent, reason="Back again")
    assert incident.status == Status.INVESTIGATING
    assert incident.opened_at == t0
    assert incident.reopened_count == 1
    assert incident.resolved_at is None and incident.closed_at is None
    assert kinds(incident)[-1] == EventKind.REOPENED


def test_open_incident_cannot_be_reopened(incident, agent):
    with pytest.raises(ValidationError):
        services.incident_reopen(incident=incident, actor=agent, reason="why not")
    assert kinds(incident) == [EventKind.CREATED]


def test_public_update_is_visible_and_a_first_response(incident, agent, t0):
    at = t0 + timedelta(minutes=9)
    event = services.incident_post_public_update(
        incident=incident, actor=agent, body="We are on it.", now=at
    )
    incident.refresh_from_db()
    assert event.visibility == Visibility.PUBLIC
    assert incident.first_response_at == at
    assert incident.last_public_update_at == at
    later = services.incident_post_public_update(
        incident=incident, actor=agent, body="Fix deployed.", now=at + timedelta(hours=1)
    )
    incident.refresh_from_db()
    assert incident.first_response_at == at  # only the first one counts
    assert later.data == {"first_response": False}


def test_internal_note_is_internal_and_needs_text(incident, agent):
    with pytest.raises(ValidationError):
        services.incident_comment(incident=incident, actor=agent, body="  ")
    event = services.incident_comment(incident=incident, actor=agent, body="Checked logs")
    assert event.visibility == Visibility.INTERNAL
    assert event.kind == EventKind.COMMENT


def test_assign_and_unassign(incident, agent, other_agent):
    incident = services.incident_assign(incident=incident, assignee=other_agent, actor=agent)
    assert incident.assignee == other_agent
    with pytest.raises(ValidationError):
        services.incident_assign(incident=incident, assignee=other_agent, actor=agent)
    incident = services.incident_assign(incident=incident, assignee=None, actor=agent)
    assert incident.assignee is None
    assert kinds(incident).count(EventKind.ASSIGNED) == 2


def test_inactive_user_cannot_be_assigned(incident, agent, other_agent):
    other_agent.is_active = False
    other_agent.save()
    with pytest.raises(ValidationError) as error:
        services.incident_assign(incident=incident, assignee=other_agent, actor=agent)
    assert "assignee" in error.value.error_dict


def test_severity_change_needs_a_reason_and_records_raise(incident, agent):
    with pytest.raises(ValidationError):
        services.incident_change_severity(incident=incident, severity="P0", actor=agent, reason="")
    incident = services.incident_change_severity(
        incident=incident, severity="critical", actor=agent, reason="All customers down"
    )
    assert incident.severity == "P0"
    event = incident.events.get(kind=EventKind.SEVERITY_CHANGED)
    assert event.data == {"from": "P2", "to": "P0", "raised": True}


def test_update_details_records_only_what_changed(incident, agent):
    incident = services.incident_update_details(
        incident=incident,
        actor=agent,
        changes={"title": incident.title, "root_cause_key": "auth-token", "users_affected": 12},
    )
    event = incident.events.get(kind=EventKind.DETAILS_CHANGED)
    assert event.data["changes"] == {
        "root_cause_key": ["", "auth-token"],
        "users_affected": [None, 12],
    }
    # Nothing changed: no event.
    services.incident_update_details(incident=incident, actor=agent, changes={"users_affected": 12})
    assert kinds(incident).count(EventKind.DETAILS_CHANGED) == 1


def test_status_cannot_be_edited_as_a_detail(incident, agent):
    with pytest.raises(ValidationError, match="status"):
        services.incident_update_details(
            incident=incident, actor=agent, changes={"status": "closed"}
        )
