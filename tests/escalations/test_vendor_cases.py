"""Vendor cases (seed 003): tracked on the incident, reminders when the vendor's update is
late, and "waiting on vendor" pausing the incident's clocks as its policy says."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from escalations.followup.reminders import reminder_sweep
from escalations.followup.vendors import (
    vendor_case_close,
    vendor_case_open,
    vendor_case_record_update,
)
from escalations.models import VendorCase, VendorCaseStatus
from escalations.policies.services import policy_create_from_spec
from escalations.sla.services import incident_clocks
from incidents import services
from incidents.models import EventKind
from notifications.models import Notification
from tests.escalations.conftest import simple_spec
from tests.factories import make_incident

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(days=2)


@pytest.fixture
def incident(agent, t0):
    policy_create_from_spec(spec=simple_spec(), name="standard", make_default=True)
    incident = make_incident(actor=agent, severity="P1", assignee=agent, opened_at=t0, now=t0)
    services.incident_acknowledge(incident=incident, actor=agent, now=t0 + 0.1 * H)
    return incident


def open_case(incident, actor, at, **extra):
    return vendor_case_open(
        incident=incident,
        actor=actor,
        vendor="AWS",
        case_id="171234567800123",
        severity="Production system down",
        owner=actor,
        contact="Dana TAM",
        contact_email="dana@aws.example",
        next_update_expected_at=at + 2 * H,
        now=at,
        **extra,
    )


def resolution(incident, at):
    incident.refresh_from_db()
    return next(r for r in incident_clocks(incident, now=at) if r.clock == "resolution")


def test_waiting_on_the_vendor_pauses_the_resolution_clock(incident, agent, t0):
    before = resolution(incident, t0 + H).due_at
    open_case(incident, agent, t0 + H, wait_on_vendor=True)
    incident.refresh_from_db()
    assert incident.status == "waiting_on_vendor"
    paused = resolution(incident, t0 + 3 * H)
    assert paused.state == "paused" and paused.due_at is None
    services.incident_change_status(
        incident=incident, status="investigating", actor=agent, now=t0 + 4 * H
    )
    # The three hours spent waiting on the vendor moved the deadline by three hours.
    assert resolution(incident, t0 + 4 * H).due_at == before + 3 * H


def test_a_policy_without_that_pause_keeps_counting(agent, t0):
    policy_create_from_spec(
        spec=simple_spec(pause_statuses=("waiting_on_customer",)), name="strict", make_default=True
    )
    incident = make_incident(actor=agent, severity="P1", opened_at=t0, now=t0)
    before = resolution(incident, t0 + H).due_at
    open_case(incident, agent, t0 + H, wait_on_vendor=True)
    assert resolution(incident, t0 + 3 * H).state == "running"
    assert resolution(incident, t0 + 3 * H).due_at == before


def test_the_owner_is_reminded_once_when_the_vendor_update_is_late(incident, agent, t0):
    case = open_case(incident, agent, t0 + H)
    assert case.next_reminder_at == t0 + 3 * H
    assert reminder_sweep(now=t0 + 3 * H - timedelta(seconds=1)) == {}
    assert reminder_sweep(now=t0 + 3 * H)["vendor_overdue"] == 1
    assert reminder_sweep(now=t0 + 5 * H) == {}
    notice = Notification.objects.get(kind="vendor_update_overdue")
    assert notice.recipient == agent.email
    assert notice.subject == (
        f"[VENDOR UPDATE OVERDUE] AWS case 171234567800123 ({incident.reference})"
    )
    # The vendor answers and promises more: a new deadline, a new reminder.
    case = vendor_case_record_update(
        case=case,
        actor=agent,
        update="Engineering engaged; mitigation in progress.",
        status=VendorCaseStatus.ESCALATED,
        next_update_expected_at=t0 + 8 * H,
        now=t0 + 6 * H,
    )
    assert case.last_vendor_update_at == t0 + 6 * H
    reminder_sweep(now=t0 + 8 * H)
    assert Notification.objects.filter(kind="vendor_update_overdue").count() == 2
    vendor_case_close(case=case, actor=agent, note="Fixed by AWS", now=t0 + 9 * H)
    case.refresh_from_db()
    assert case.status == VendorCaseStatus.CLOSED and case.next_reminder_at is None
    bodies = list(incident.events.filter(kind=EventKind.VENDOR_CASE).values_list("body", flat=True))
    assert bodies[0].startswith("Vendor case opened with AWS: case 171234567800123")
    assert "Engineering engaged" in bodies[1]
    assert len(bodies) == 3


def test_cases_are_checked_before_anything_is_saved(incident, agent, t0):
    with pytest.raises(ValidationError) as caught:
        vendor_case_open(
            incident=incident,
            actor=agent,
            vendor=" ",
            case_id="",
            severity="",
            owner=None,
            opened_at=t0 + 9 * H,
            next_update_expected_at=t0,
            now=t0 + H,
        )
    assert set(caught.value.message_dict) == {
        "vendor",
        "case_id",
        "severity",
        "owner",
        "opened_at",
        "next_update_expected_at",
    }
    open_case(incident, agent, t0 + H)
    with pytest.raises(ValidationError) as caught:
        open_case(incident, agent, t0 + 2 * H)
    assert "tracked already" in caught.value.message_dict["case_id"][0]
    assert VendorCase.objects.count() == 1


def test_the_tracking_document_becomes_a_vendor_escalation(incident, agent, t0):
    from escalations.analytics.exports import tracking_markdown

    open_case(incident, agent, t0 + H)
    text = tracking_markdown(incident)
    assert "**Type**: Vendor" in text  # seed 003: Technical / Executive / Vendor
    assert "- [ ] AWS case 171234567800123 (waiting on the vendor, update expected" in text
    assert "Vendor case opened with AWS: case 171234567800123" in text
