"""A draft policy's settings are checked when edited in the admin: a typo is an
error beside the field, never a broken version that fails later in activation,
previews or sweeps. Trigger, review and war-room settings are fields of their
own, with durations written like the workflow YAML (48h, 30m, 2d)."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from escalations.admin.site import PolicyForm
from escalations.models import Policy
from escalations.policies.services import policy_activate, policy_fork, policy_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(default_policy):
    fork = policy_fork(policy=default_policy)
    fork.levels.update(contacts={"email": "oncall@example.com"})  # someone hears it
    return fork


def form_for(draft, **changes):
    """What the browser posts back for an unchanged draft, plus `changes`."""
    unbound = PolicyForm(instance=draft)
    data = {}
    for name in unbound.fields:
        value = unbound[name].value()
        if name in ("calendars", "pause_statuses", "match_account_tiers"):
            value = json.dumps(getattr(draft, name))
        if value is None or value is False:
            continue
        data[name] = value
    data.update(changes)
    return PolicyForm(data=data, instance=draft)


def test_durations_are_shown_like_the_yaml_writes_them(draft):
    html = str(PolicyForm(instance=draft))
    assert 'name="review_due_after" value="2d"' in html
    assert 'name="trigger_repeat_window" value="30d"' in html
    assert 'name="war_room_P0" value="30m"' in html
    assert 'name="review_remind_before" value="12h"' in html
    assert "172800" not in html


def test_a_valid_edit_passes(draft):
    form = form_for(
        draft,
        trigger_csat_below=2,
        trigger_repeat_count=4,
        review_due_after="2d",
        trigger_burst_window="1h30m",
        war_room_P1="45m",
    )
    assert form.is_valid(), form.errors
    form.save()
    spec = policy_spec(Policy.objects.get(pk=draft.pk))
    assert spec.triggers.csat_below == 2
    assert spec.triggers.repeat_count == 4
    assert spec.triggers.burst_window == timedelta(hours=1, minutes=30)
    assert spec.reviews.due_after == timedelta(days=2)
    assert dict(spec.war_room.update_every)["P1"] == timedelta(minutes=45)


def test_an_unchanged_form_keeps_every_setting(draft):
    before = policy_spec(draft)
    form = form_for(draft)
    assert form.is_valid(), form.errors
    form.save()
    after = policy_spec(Policy.objects.get(pk=draft.pk))
    assert (after.triggers, after.reviews, after.war_room) == (
        before.triggers,
        before.reviews,
        before.war_room,
    )


def test_a_route_can_be_dropped_and_a_level_chosen(draft):
    form = form_for(draft, trigger_route_security="2", trigger_route_compliance="")
    assert form.is_valid(), form.errors
    form.save()
    routes = dict(policy_spec(Policy.objects.get(pk=draft.pk)).triggers.impact_routes)
    assert routes["security"] == 2
    assert "compliance" not in routes


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("review_due_after", "4x", "'4x' is not a duration"),
        ("trigger_repeat_window", "0h", "must be longer than zero"),
        ("trigger_repeat_count", "-1", "greater than or equal to 0"),
        ("trigger_burst_severities", ["P9"], "Select a valid choice"),
        ("trigger_route_security", "7", "Select a valid choice"),
        ("review_required_from_level", "9", "Select a valid choice"),
    ],
)
def test_bad_settings_are_refused_beside_the_field(draft, field, value, words):
    form = form_for(draft, **{field: value})
    assert not form.is_valid()
    assert words in " ".join(form.errors[field])


def test_a_war_room_needs_one_cadence(draft):
    form = form_for(draft, war_room_P0="", war_room_P1="", war_room_P2="", war_room_P3="")
    assert not form.is_valid()
    assert "at least one severity" in " ".join(form.errors["war_room_P0"])


def test_a_bad_calendar_or_pause_status_is_refused(draft):
    form = form_for(
        draft,
        calendars=json.dumps({"office": {"timezone": "Mars/Olympus", "hours": "24/7"}}),
        pause_statuses=json.dumps(["waiting_on_customer", "napping"]),
    )
    assert not form.is_valid()
    assert "Calendar 'office'" in " ".join(form.errors["calendars"])
    assert "waiting_on_customer" in " ".join(form.errors["pause_statuses"])


def test_stored_bad_triggers_give_a_validation_error_not_a_crash(draft):
    # Written around the form (e.g. an old database): activation explains, never 500s,
    # and the form still opens (with the defaults) so the draft can be mended.
    Policy.objects.filter(pk=draft.pk).update(triggers={"csat_bellow": 2})
    with pytest.raises(ValidationError, match="csat_bellow"):
        policy_activate(policy=Policy.objects.get(pk=draft.pk))
    form = form_for(Policy.objects.get(pk=draft.pk))
    assert form.is_valid(), form.errors
    form.save()
    policy_activate(policy=Policy.objects.get(pk=draft.pk))


def test_the_admin_pages_show_fields_for_a_draft_and_sentences_for_an_active_version(
    draft, default_policy, manager, client
):
    from django.urls import reverse

    from tests.factories import PASSWORD

    client.login(username=manager.username, password=PASSWORD)
    html = client.get(reverse("admin:escalations_policy_change", args=[draft.pk])).content.decode()
    assert "Review due after resolution" in html
    assert 'name="review_due_after" value="2d"' in html
    assert 'name="triggers"' not in html and "172800" not in html
    # The draft's SLA targets are typed like the YAML too.
    assert 'name="levels-0-first_response" value="1h"' in html

    active = reverse("admin:escalations_policy_change", args=[default_policy.pk])
    html = client.get(active).content.decode()
    assert "Review due after resolution: <strong>2d</strong>" in html
    assert "War room updates every (P0): <strong>30m</strong>" in html
    assert "172800" not in html
