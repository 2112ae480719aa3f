"""The clocks on the incident page, and the policy admin: preview, calendars, versions."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from escalations.models import Calendar, Policy
from tests.factories import PASSWORD, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, manager):
    client.login(username=manager.username, password=PASSWORD)
    return client


def test_incident_page_shows_each_clock_with_its_explanation(staff, default_policy, manager):
    incident = make_incident(actor=manager, severity="P1")
    page = staff.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert 'data-clock="first_response"' in page and 'data-clock="resolution"' in page
    assert 'data-clock="update"' in page
    assert "round the clock" in page
    assert "left" in page
    assert "standard v1" in page


def test_sla_preview_shows_every_due_time(staff, default_policy):
    url = reverse("admin:escalations_policy_sla_preview")
    response = staff.get(
        url,
        {"policy": default_policy.pk, "severity": "P2", "level": 1, "start": "2026-03-02T09:00"},
    )
    assert response.status_code == 200
    readings = {r.clock: r for r in response.context["readings"]}
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert readings["resolution"].due_at == start + 8 * (readings["first_response"].target)
    assert b"2026-03-02 17:00:00" in response.content  # resolution due, 8h later
    bad = staff.get(
        url,
        {"policy": default_policy.pk, "severity": "P2", "level": 7, "start": "2026-03-02T09:00"},
    )
    assert bad.context["form"].errors["level"]


def test_active_versions_are_read_only_in_admin(staff, default_policy):
    url = reverse("admin:escalations_policy_change", args=[default_policy.pk])
    page = staff.get(url)
    assert page.status_code == 200
    assert b"Download as workflow YAML" in page.content
    staff.post(url, {"description": "sneaky edit"})
    default_policy.refresh_from_db()
    assert default_policy.description != "sneaky edit"
    export = staff.get(reverse("admin:escalations_policy_export", args=[default_policy.pk]))
    assert export["Content-Type"].startswith("application/yaml")
    assert b"escalation:" in export.content


def test_new_version_action_then_activate(staff, default_policy):
    changelist = reverse("admin:escalations_policy_changelist")
    staff.post(changelist, {"action": "new_version", "_selected_action": [default_policy.pk]})
    draft = Policy.objects.get(version=2)
    # Its levels name no team and no contact: nobody would hear of an escalation.
    page = staff.get(reverse("admin:escalations_policy_change", args=[draft.pk]))
    assert "L1 Front line reaches nobody" in page.content.decode()
    staff.post(changelist, {"action": "activate", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == "draft"
    draft.levels.update(contacts={"email": "oncall@example.com"})
    Policy.objects.filter(pk=draft.pk).update(updated_at=timezone.now())
    staff.post(changelist, {"action": "activate", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == "active" and draft.is_default


def calendar_form(**changes):
    data = {
        "name": "Berlin office",
        "description": "",
        "spec": '{"timezone": "Europe/Berlin", "hours": {"mon": ["09:00-17:00"]}}',
        "country": "",
        "subdivision": "",
        "years": "",
    }
    data.update(changes)
    return data


def test_calendar_editor_rejects_a_bad_spec_beside_the_field(staff):
    response = staff.post(
        reverse("admin:escalations_calendar_add"),
        calendar_form(spec='{"timezone": "Europe/Berlin", "hours": {"mon": ["17:00-09:00"]}}'),
    )
    assert response.status_code == 200
    assert "ends before it starts" in str(response.context["adminform"].form.errors["spec"])
    assert not Calendar.objects.exists()


def test_calendar_editor_fills_holidays_from_a_country_and_an_ics_file(staff):
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
        b"UID:1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260814\r\n"
        b"SUMMARY:Company day\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    response = staff.post(
        reverse("admin:escalations_calendar_add"),
        calendar_form(
            country="DE",
            subdivision="BY",
            years="2026",
            ics=SimpleUploadedFile("days.ics", ics, content_type="text/calendar"),
        ),
    )
    assert response.status_code == 302, response.content[:3000]
    holidays = Calendar.objects.get().spec["holidays"]
    assert "2026-12-25" in holidays  # Christmas (DE)
    assert "2026-01-06" in holidays  # Epiphany (Bavaria only)
    assert "2026-08-14" in holidays  # from the .ics file


def test_calendar_editor_saves_nothing_when_the_holidays_cannot_be_read(staff):
    response = staff.post(
        reverse("admin:escalations_calendar_add"),
        calendar_form(
            country="XX",
            years="2026",
            ics=SimpleUploadedFile("days.ics", b"not a calendar", content_type="text/calendar"),
        ),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["country"] and errors["ics"]
    assert not Calendar.objects.exists()


def test_incident_admin_keeps_working_with_clocks(staff, default_policy, manager):
    incident = make_incident(actor=manager, opened_at=timezone.now())
    response = staff.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert response.status_code == 200
    assert b"Resolution" in response.content and b"round the clock" in response.content


def test_the_policy_list_links_to_the_sla_preview(staff, default_policy):
    page = staff.get(reverse("admin:escalations_policy_changelist")).content.decode()
    assert reverse("admin:escalations_policy_sla_preview") in page
