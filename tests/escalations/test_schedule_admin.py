"""The schedule admin: a manager creates a schedule from YAML and sees a bad spec's problem
beside the field; a staff role without the rule is refused, as the API refuses it; overrides
are added and removed through the services; the list shows who is on call and the gaps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from escalations.models import OnCallOverride, OnCallSchedule
from tests.api_client import token_client
from tests.factories import UserFactory, make_schedule

pytestmark = pytest.mark.django_db

ADD = "/admin/escalations/oncallschedule/add/"
YAML = """timezone: America/New_York
layers:
- name: primary
  people: [ana, ben]
  recurrence: weekly
  start: '2026-01-05'
  handoff: '09:00'
"""


@pytest.fixture
def people(roles):
    return UserFactory(username="ana"), UserFactory(username="ben")


@pytest.fixture
def governance(roles):
    return UserFactory(username="gov1", role="Governance Liaison", is_staff=True)


def test_a_manager_creates_a_schedule_from_yaml(client, manager, people):
    client.force_login(manager)
    answer = client.post(ADD, {"name": "Front line", "description": "", "spec_text": YAML})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    schedule = OnCallSchedule.objects.get(name="Front line")
    assert schedule.time_zone == "America/New_York"
    assert schedule.spec["layers"][0]["people"] == ["ana", "ben"]


def test_json_text_works_too(client, manager, people):
    client.force_login(manager)
    text = (
        '{"timezone": "UTC", "layers": [{"people": ["ana"], "recurrence": "daily", '
        '"start": "2026-01-05", "handoff": "08:00"}]}'
    )
    answer = client.post(ADD, {"name": "JSON", "spec_text": text})
    assert answer.status_code == 302
    assert OnCallSchedule.objects.get().spec["layers"][0]["recurrence"] == "daily"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (YAML.replace("'09:00'", "'25:00'"), "layers[0].handoff:"),
        (YAML.replace("[ana, ben]", "[ana, nobody_here]"), "layers[0].people[1]: no active user"),
        (YAML.replace("America/New_York", "Mars/Olympus"), "timezone:"),
        ("timezone: [unclosed", "line 1"),
    ],
)
def test_a_bad_spec_is_shown_beside_the_field_and_nothing_is_saved(
    client, manager, people, text, says
):
    client.force_login(manager)
    answer = client.post(ADD, {"name": "Front line", "spec_text": text})
    assert answer.status_code == 200
    errors = answer.context["adminform"].form.errors
    assert any(says in message for message in errors["spec_text"]), errors
    assert not OnCallSchedule.objects.exists()


def test_a_taken_name_is_refused_beside_the_name(client, manager, people):
    make_schedule(name="Front line")
    client.force_login(manager)
    answer = client.post(ADD, {"name": "front LINE", "spec_text": YAML})
    assert answer.status_code == 200
    assert "already a schedule" in answer.context["adminform"].form.errors["name"][0]


def test_a_role_without_the_rule_is_refused_in_the_admin_as_in_the_api(client, governance, people):
    client.force_login(governance)
    assert client.post(ADD, {"name": "Front line", "spec_text": YAML}).status_code == 403
    api = token_client(governance).post(
        "/api/schedules/", {"name": "Front line", "spec": {"timezone": "UTC"}}, format="json"
    )
    assert api.status_code == 403
    assert not OnCallSchedule.objects.exists()


def test_a_manager_changes_the_layers_through_the_admin(client, manager, people):
    schedule = make_schedule(spec=None)
    client.force_login(manager)
    page = client.get(f"/admin/escalations/oncallschedule/{schedule.pk}/change/")
    assert "recurrence: weekly" in page.content.decode()  # the stored spec, as YAML
    answer = client.post(
        f"/admin/escalations/oncallschedule/{schedule.pk}/change/",
        {"name": schedule.name, "spec_text": YAML.replace("[ana, ben]", "[ben]")},
    )
    assert answer.status_code == 302
    schedule.refresh_from_db()
    assert schedule.spec["layers"][0]["people"] == ["ben"]


def test_the_list_shows_who_is_on_call_now_and_the_gaps_ahead(client, manager, people):
    schedule = make_schedule()
    now = timezone.now()
    from escalations.schedules.services import override_add

    override_add(
        actor=None,
        schedule=schedule,
        person=None,
        start=now + timedelta(days=2),
        end=now + timedelta(days=2, hours=4),
    )
    client.force_login(manager)
    page = client.get("/admin/escalations/oncallschedule/")
    assert page.status_code == 200
    row = page.context["cl"].result_list[0]
    model_admin = page.context["cl"].model_admin
    assert model_admin.gaps_ahead(row) == 1
    assert model_admin.on_call_now(row).endswith(("(ana), primary", "(ben), primary"))


def test_overrides_are_added_and_removed_through_the_services(client, manager, people):
    schedule = make_schedule()
    client.force_login(manager)
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    form = {
        "schedule": schedule.pk,
        "person": people[0].pk,
        "start_0": start.strftime("%Y-%m-%d"),
        "start_1": start.strftime("%H:%M:%S"),
        "end_0": start.strftime("%Y-%m-%d"),
        "end_1": start.strftime("%H:%M:%S"),
        "reason": "swap",
    }
    answer = client.post("/admin/escalations/oncalloverride/add/", form)
    assert answer.status_code == 200  # end not after start
    assert "The end must be after the start." in answer.content.decode()
    end = start + timedelta(hours=3)
    form |= {"end_0": end.strftime("%Y-%m-%d"), "end_1": end.strftime("%H:%M:%S")}
    assert client.post("/admin/escalations/oncalloverride/add/", form).status_code == 302
    override = OnCallOverride.objects.get()
    assert (override.created_by, override.reason) == (manager, "swap")
    before = OnCallSchedule.objects.get(pk=schedule.pk).updated_at
    answer = client.post(
        f"/admin/escalations/oncalloverride/{override.pk}/delete/", {"post": "yes"}
    )
    assert answer.status_code == 302
    assert not OnCallOverride.objects.exists()
    assert OnCallSchedule.objects.get(pk=schedule.pk).updated_at > before  # a new version
