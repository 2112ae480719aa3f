from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import Channel, EventKind, Incident
from incidents.rules import Status
from tests.factories import PASSWORD, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, manager):
    client.login(username=manager.username, password=PASSWORD)
    return client


def test_incident_list_columns_and_search(admin_client, manager):
    incident = make_incident(actor=manager, title="Duplicate charges on retry", severity="P0")
    response = admin_client.get(reverse("admin:incidents_incident_changelist"), {"q": "Duplicate"})
    assert response.status_code == 200
    assert incident.reference.encode() in response.content
    assert b"P0" in response.content


def test_admin_actions_call_the_services(admin_client, manager):
    incident = make_incident(actor=manager)
    url = reverse("admin:incidents_incident_changelist")
    admin_client.post(url, {"action": "acknowledge", "_selected_action": [incident.pk]})
    incident.refresh_from_db()
    assert incident.status == Status.ACKNOWLEDGED
    assert incident.events.filter(kind=EventKind.ACKNOWLEDGED, actor=manager).exists()


def test_admin_add_goes_through_the_service(admin_client, manager, channel):
    response = admin_client.post(
        reverse("admin:incidents_incident_add"),
        {
            "title": "Made in admin",
            "severity": "P3",
            "channel": channel.pk,
            "opened_at_0": timezone.localdate().isoformat(),
            "opened_at_1": "00:00:00",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    incident = Incident.objects.get(title="Made in admin")
    assert incident.reference.startswith("INC-RUNTIME-")
    assert incident.events.get().kind == EventKind.CREATED


def test_timeline_is_read_only_in_admin(admin_client, manager):
    incident = make_incident(actor=manager)
    event = incident.events.get()
    change = reverse("admin:incidents_incidentevent_change", args=[event.pk])
    response = admin_client.post(change, {"body": "edited"})
    assert response.status_code == 403
    delete = reverse("admin:incidents_incidentevent_delete", args=[event.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert incident.events.get().body == event.body


def test_admin_add_shows_bad_input_beside_the_fields(admin_client, manager, channel):
    retired = Channel.objects.create(name="Fax", code="FAX", is_active=False)
    tomorrow = timezone.localdate() + timedelta(days=1)
    form = {
        "title": "From the future",
        "severity": "P3",
        "channel": channel.pk,
        "opened_at_0": tomorrow.isoformat(),
        "opened_at_1": "09:00:00",
        "users_affected": "5",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
    }
    url = reverse("admin:incidents_incident_add")
    future = admin_client.post(url, form)
    assert future.status_code == 200
    assert future.context["adminform"].form.errors["opened_at"] == [
        "The opening time cannot be in the future."
    ]
    inactive = admin_client.post(
        url,
        {
            **form,
            "channel": retired.pk,
            "opened_at_0": timezone.localdate().isoformat(),
            "opened_at_1": "00:00:00",
        },
    )
    assert "no longer in use" in str(inactive.context["adminform"].form.errors["channel"])
    assert not Incident.objects.exists()


def test_managers_change_status_severity_and_assignee_from_the_admin(admin_client, manager, agent):
    incident = make_incident(actor=manager, severity="P3")
    changelist = reverse("admin:incidents_incident_changelist")
    chosen = {"_selected_action": [incident.pk]}

    form_page = admin_client.post(changelist, {**chosen, "action": "change_severity"})
    assert form_page.status_code == 200 and b"Change severity" in form_page.content
    refused = admin_client.post(
        changelist, {**chosen, "action": "change_severity", "apply": "1", "severity": "P1"}
    )
    assert "reason" in refused.context["form"].errors  # the service wants a reason
    admin_client.post(
        changelist,
        {
            **chosen,
            "action": "change_severity",
            "apply": "1",
            "severity": "P1",
            "reason": "Spreading",
        },
    )
    admin_client.post(
        changelist, {**chosen, "action": "assign", "apply": "1", "assignee": agent.pk}
    )
    admin_client.post(
        changelist,
        {**chosen, "action": "change_status", "apply": "1", "status": "investigating", "note": ""},
    )
    incident.refresh_from_db()
    assert (incident.severity, incident.assignee, incident.status) == (
        "P1",
        agent,
        Status.INVESTIGATING,
    )
    kinds = set(incident.events.values_list("kind", flat=True))
    assert {EventKind.SEVERITY_CHANGED, EventKind.ASSIGNED, EventKind.STATUS_CHANGED} <= kinds
