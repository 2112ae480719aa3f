"""A draft policy's JSON fields (triggers, calendars, pause statuses) are checked
when edited in the admin: a typo is an error beside the field, never a broken
version that fails later in activation, previews or sweeps."""

import json

import pytest
from django.core.exceptions import ValidationError

from escalations.admin import PolicyForm
from escalations.models import Policy
from escalations.policies import policy_activate, policy_fork, policy_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(default_policy):
    return policy_fork(policy=default_policy)


def form_for(draft, **changes):
    data = {
        "description": draft.description,
        "clock_start": draft.clock_start,
        "default_calendar": draft.default_calendar,
        "calendars": json.dumps(draft.calendars),
        "pause_statuses": json.dumps(draft.pause_statuses),
        "priority": draft.priority,
        "match_account_tiers": json.dumps(draft.match_account_tiers),
        "triggers": json.dumps(draft.triggers),
    }
    data.update({key: json.dumps(value) for key, value in changes.items()})
    return PolicyForm(data=data, instance=draft)


def test_a_valid_edit_passes(draft):
    triggers = {**draft.triggers, "csat_below": 2, "repeat_count": 4}
    form = form_for(draft, triggers=triggers)
    assert form.is_valid(), form.errors
    form.save()
    assert policy_spec(Policy.objects.get(pk=draft.pk)).triggers.csat_below == 2


@pytest.mark.parametrize(
    ("triggers", "words"),
    [
        ({"csat_bellow": 2}, "Unknown trigger setting 'csat_bellow'"),
        ({"repeat_count": "three"}, "repeat_count must be a whole number"),
        ({"repeat_count": -1}, "repeat_count must be a whole number"),
        ({"burst_severities": ["P9"]}, "burst_severities must be a list of P0-P3"),
        ({"impact_routes": {"security": "L3"}}, "impact_routes maps a flag"),
        ({"notify_groups": {"security": "Security"}}, "notify_groups maps a scenario"),
        (["not", "an", "object"], "an object of named values"),
    ],
)
def test_bad_trigger_settings_are_refused_beside_the_field(draft, triggers, words):
    form = form_for(draft, triggers=triggers)
    assert not form.is_valid()
    assert words in " ".join(form.errors["triggers"])


def test_a_bad_calendar_or_pause_status_is_refused(draft):
    form = form_for(
        draft,
        calendars={"office": {"timezone": "Mars/Olympus", "hours": "24/7"}},
        pause_statuses=["waiting_on_customer", "napping"],
    )
    assert not form.is_valid()
    assert "Calendar 'office'" in " ".join(form.errors["calendars"])
    assert "waiting_on_customer" in " ".join(form.errors["pause_statuses"])


def test_stored_bad_triggers_give_a_validation_error_not_a_crash(draft):
    # Written around the form (e.g. an old database): activation explains, never 500s.
    Policy.objects.filter(pk=draft.pk).update(triggers={"csat_bellow": 2})
    with pytest.raises(ValidationError, match="csat_bellow"):
        policy_activate(policy=Policy.objects.get(pk=draft.pk))
