"""Schedule services: a spec is checked by the pure core and errors name its path; people
must be active users; overrides need an aware end after the start; each action asks its
rule (team leads and managers may, agents and the read-only roles may not)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from escalations.models import OnCallOverride, OnCallSchedule
from escalations.schedules import services
from incidents.permissions import ActionNotAllowed
from tests.factories import UserFactory, make_schedule, oncall_spec

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 7, 10, tzinfo=UTC)
T1 = datetime(2026, 1, 7, 14, tzinfo=UTC)


@pytest.fixture
def people(roles):
    return UserFactory(username="ana"), UserFactory(username="ben")


def _refused(call) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value


def test_the_stored_spec_is_the_cores_canonical_form(people):
    spec = oncall_spec(recurrence="WEEKLY", handoff="9:00")
    schedule = services.schedule_create(actor=None, name="A", spec=spec)
    layer = schedule.spec["layers"][0]
    assert (layer["recurrence"], layer["handoff"]) == ("weekly", "09:00")
    assert "overrides" not in schedule.spec


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"handoff": "24:30"}, "layers[0].handoff:"),
        ({"recurrence": "fortnightly"}, "layers[0].recurrence:"),
        ({"people": []}, "layers[0].people:"),
        ({"restrictions": [{"days": ["funday"], "from": "09:00", "to": "17:00"}]}, "layers[0]"),
    ],
)
def test_a_bad_layer_is_refused_naming_its_path(people, change, path):
    error = _refused(
        lambda: services.schedule_create(actor=None, name="A", spec=oncall_spec(**change))
    )
    assert error.message_dict["spec"][0].startswith(path), error.message_dict
    assert not OnCallSchedule.objects.exists()


def test_unknown_people_overrides_in_the_spec_and_no_layers_are_refused(people):
    unknown = _refused(
        lambda: services.schedule_create(
            actor=None, name="A", spec=oncall_spec(("ana", "ghost", "ben"))
        )
    )
    assert unknown.message_dict["spec"] == ["layers[0].people[1]: no active user named 'ghost'"]
    UserFactory(username="gone", is_active=False)
    inactive = _refused(
        lambda: services.schedule_create(actor=None, name="A", spec=oncall_spec(("gone",)))
    )
    assert "no active user named 'gone'" in inactive.message_dict["spec"][0]
    with_overrides = {**oncall_spec(), "overrides": []}
    error = _refused(lambda: services.schedule_create(actor=None, name="A", spec=with_overrides))
    assert error.message_dict["spec"][0].startswith("overrides:")
    missing = _refused(
        lambda: services.schedule_create(actor=None, name="A", spec={"timezone": "UTC"})
    )
    assert "layers" in missing.message_dict["spec"][0]
    empty = _refused(
        lambda: services.schedule_create(
            actor=None, name="A", spec={"timezone": "UTC", "layers": []}
        )
    )
    assert empty.message_dict["spec"][0].startswith("layers:")


def test_name_and_spec_problems_come_together(people):
    make_schedule(name="Platform")
    error = _refused(
        lambda: services.schedule_create(actor=None, name="platform", spec=oncall_spec(handoff="x"))
    )
    assert set(error.message_dict) == {"name", "spec"}


def test_an_update_changes_only_what_it_is_given(people):
    schedule = make_schedule(name="Platform")
    updated = services.schedule_update(actor=None, schedule=schedule, description="Nights too")
    assert (updated.name, updated.description) == ("Platform", "Nights too")
    assert updated.spec == schedule.spec


def test_an_override_needs_an_aware_end_after_its_start_and_an_active_person(people):
    schedule = make_schedule()
    ana = people[0]
    backwards = _refused(
        lambda: services.override_add(actor=None, schedule=schedule, person=ana, start=T1, end=T0)
    )
    assert "end" in backwards.message_dict
    naive = _refused(
        lambda: services.override_add(
            actor=None, schedule=schedule, person=ana, start=T0.replace(tzinfo=None), end=T1
        )
    )
    assert "start" in naive.message_dict
    ana.is_active = False
    ana.save()
    inactive = _refused(
        lambda: services.override_add(actor=None, schedule=schedule, person=ana, start=T0, end=T1)
    )
    assert "person" in inactive.message_dict
    assert not OnCallOverride.objects.exists()


ROLES_THAT_MANAGE = {"Team Lead", "Engineering Manager", "Director"}
ROLES = [
    "Support Agent",
    "Team Lead",
    "Engineering Manager",
    "Director",
    "Governance Liaison",
    "Executive",
    "Product",
]


@pytest.mark.parametrize("role", ROLES)
def test_each_action_asks_its_rule(people, role):
    actor = UserFactory(username=f"actor-{role}", role=role)
    may = role in ROLES_THAT_MANAGE
    schedule = make_schedule(name="Existing")
    override = services.override_add(
        actor=None, schedule=schedule, person=people[0], start=T0, end=T1
    )
    calls = {
        "create": lambda: services.schedule_create(actor=actor, name="New", spec=oncall_spec()),
        "update": lambda: services.schedule_update(actor=actor, schedule=schedule, description="x"),
        "add_override": lambda: services.override_add(
            actor=actor, schedule=schedule, person=None, start=T0, end=T1
        ),
        "remove_override": lambda: services.override_remove(actor=actor, override=override),
    }
    for call in calls.values():
        if may:
            call()
        else:
            with pytest.raises(ActionNotAllowed):
                call()
    assert OnCallSchedule.objects.filter(name="New").exists() == may
    assert OnCallOverride.objects.filter(pk=override.pk).exists() != may


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("layers: &a [1]\nmore: *a\n", "aliases are not allowed"),
        ("[" * 20_000 + "]" * 20_000, "nested more than 20 levels deep"),
        ("x" * (services.MAX_SPEC_BYTES + 1), "longer than"),
        ("timezone: UTC\nlayers: [\n", "line 3"),
    ],
    ids=["alias", "deep", "long", "broken"],
)
def test_hostile_or_broken_spec_text_is_a_field_error(text, message):
    with pytest.raises(ValidationError) as caught:
        services.parse_spec_text(text)
    assert message in " ".join(caught.value.message_dict["spec"])


def test_spec_text_may_be_json_or_yaml():
    assert services.parse_spec_text('{"timezone": "UTC", "layers": []}') == {
        "timezone": "UTC",
        "layers": [],
    }
    assert services.parse_spec_text("timezone: UTC\nlayers: []\n") == {
        "timezone": "UTC",
        "layers": [],
    }
