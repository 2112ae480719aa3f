"""Policy drafts and library calendars change only through their services, also in
the admin: what a service refuses is an error on the form with nothing saved, and
Django never says "was changed successfully" for a save that did not happen."""

from __future__ import annotations

import json

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from escalations.models import Calendar, Policy
from escalations.policies import calendars
from escalations.policies import services as policies
from incidents.permissions import ActionNotAllowed
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

BERLIN = {"timezone": "Europe/Berlin", "hours": {"mon": ["09:00-17:00"]}}


@pytest.fixture
def staff(client, manager):
    client.login(username=manager.username, password=PASSWORD)
    return client


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def calendar_form(**changes):
    data = {
        "name": "Berlin office",
        "description": "",
        "spec": json.dumps(BERLIN),
        "country": "",
        "subdivision": "",
        "years": "",
    }
    data.update(changes)
    return data


# --- calendars ----------------------------------------------------------------------------------


def test_a_bad_calendar_is_an_error_beside_the_field_and_nothing_is_saved(staff):
    response = staff.post(
        reverse("admin:escalations_calendar_add"), calendar_form(country="DE", years="")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["years"] == ["Say which years to take the holidays for."]
    assert not Calendar.objects.exists()
    assert not any("successfully" in text for text in said(response))


def test_a_change_the_service_refuses_saves_nothing_and_says_so(staff, manager, monkeypatch):
    """The form passed; the service refused when saving (a change in between): the page
    says why, the calendar keeps what it had, and no success message is shown."""
    calendar = calendars.calendar_save(
        calendar=Calendar(), actor=manager, name="Berlin office", spec=BERLIN
    )

    def refuse(**kwargs):
        Calendar.objects.filter(pk=calendar.pk).update(description="half-written")
        raise ValidationError({"spec": "Changed meanwhile."})

    monkeypatch.setattr(calendars, "calendar_save", refuse)
    url = reverse("admin:escalations_calendar_change", args=[calendar.pk])
    response = staff.post(url, calendar_form(description="New words"), follow=True)
    messages = said(response)
    assert any("Nothing was saved: Changed meanwhile." in text for text in messages), messages
    assert not any("successfully" in text for text in messages), messages
    assert Calendar.objects.get(pk=calendar.pk).description == ""  # rolled back


def test_the_admin_adds_and_changes_calendars_through_the_service(staff, monkeypatch):
    calls = []
    real = calendars.calendar_save

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(calendars, "calendar_save", spy)
    add = staff.post(reverse("admin:escalations_calendar_add"), calendar_form())
    assert add.status_code == 302
    calendar = Calendar.objects.get()
    assert calendar.spec == calendars.canonical_spec(BERLIN)
    change = staff.post(
        reverse("admin:escalations_calendar_change", args=[calendar.pk]),
        calendar_form(description="Head office", country="DE", years="2026"),
    )
    assert change.status_code == 302
    calendar.refresh_from_db()
    assert calendar.description == "Head office"
    assert "2026-12-25" in calendar.spec["holidays"]
    assert [c["calendar"].pk for c in calls] == [calendar.pk, calendar.pk]
    assert all(c["actor"].username for c in calls)


def test_the_calendar_service_asks_the_rule(agent):
    with pytest.raises(ActionNotAllowed):
        calendars.calendar_save(calendar=Calendar(), actor=agent, name="Sneaky", spec=BERLIN)
    assert not Calendar.objects.exists()


# --- policy drafts ------------------------------------------------------------------------------


@pytest.fixture
def draft(default_policy):
    return policies.policy_fork(policy=default_policy)


def posted_back(page) -> dict:
    """What the browser posts back for an admin change page as it stands: the form's
    fields and every inline's management form and rows."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()  # JSON fields come as their text
            if value is None or value is False:
                continue
            key = form.add_prefix(name)
            if isinstance(value, (list, tuple)):
                data[key] = [str(v) for v in value]
            else:
                data[key] = "on" if value is True else str(value)

    add(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
        for form in formset.initial_forms:
            add(form)
    return data


def test_a_draft_edited_in_the_admin_is_saved_by_the_service(staff, draft, monkeypatch):
    calls = []
    real = policies.policy_draft_update

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(policies, "policy_draft_update", spy)
    url = reverse("admin:escalations_policy_change", args=[draft.pk])
    before = Policy.objects.get(pk=draft.pk).updated_at
    data = posted_back(staff.get(url))
    data["description"] = "Edited in the admin"
    data["levels-0-name"] = "First line"
    data["review_due_after"] = "3d"
    response = staff.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert len(calls) == 1 and calls[0]["policy"].pk == draft.pk
    edited = Policy.objects.get(pk=draft.pk)
    assert edited.updated_at > before  # the service stamps the version changed
    spec = policies.policy_spec(edited)
    assert spec.description == "Edited in the admin"
    assert spec.levels[0].name == "First line"
    assert spec.reviews.due_after.days == 3


def test_a_draft_activated_meanwhile_is_not_saved_and_no_success_is_said(staff, draft, monkeypatch):
    url = reverse("admin:escalations_policy_change", args=[draft.pk])
    data = posted_back(staff.get(url))
    data["description"] = "Too late"
    # The form's check passes (as if the draft were activated just after it).
    monkeypatch.setattr(policies, "policy_draft_problems", lambda policy: [])
    Policy.objects.filter(pk=draft.pk).update(status="retired")
    response = staff.post(url, data, follow=True)
    messages = said(response)
    refused = "Nothing was saved: Active and retired versions never change."
    assert any(refused in m for m in messages), messages
    assert not any("successfully" in m for m in messages), messages
    assert Policy.objects.get(pk=draft.pk).description != "Too late"


def test_an_active_version_posted_anyway_is_a_form_error(staff, default_policy):
    url = reverse("admin:escalations_policy_change", args=[default_policy.pk])
    response = staff.post(url, {"description": "sneaky edit"})
    assert response.status_code == 200
    assert "Active and retired versions never change." in str(
        response.context["adminform"].form.non_field_errors()
    )
    assert Policy.objects.get(pk=default_policy.pk).description != "sneaky edit"


def test_the_draft_service_asks_the_rule_and_edits_only_drafts(agent, manager, draft):
    with pytest.raises(ActionNotAllowed):
        policies.policy_draft_update(policy=draft, actor=agent, changes={"description": "x"})
    active = Policy.objects.get(status="active")
    with pytest.raises(ValidationError):
        policies.policy_draft_update(policy=active, actor=manager, changes={"description": "x"})
    with pytest.raises(ValueError):
        policies.policy_draft_update(policy=draft, actor=manager, changes={"status": "active"})
    other_row = active.levels.first()
    with pytest.raises(ValueError):
        policies.policy_draft_update(policy=draft, actor=manager, changes={}, rows=[other_row])
    assert Policy.objects.get(pk=draft.pk).description == draft.description
