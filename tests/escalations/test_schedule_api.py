"""/api/schedules/: anyone signed in reads and asks who is on call; team leads and managers
create and change (the rules schedule.create / schedule.update); bad input is a 400."""

from __future__ import annotations

import pytest

from escalations.models import OnCallSchedule
from escalations.schedules.services import override_add
from tests.api_client import results, token_client
from tests.factories import UserFactory, make_schedule, oncall_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(roles):
    return UserFactory(username="lead1", role="Team Lead")


def test_anyone_signed_in_lists_and_reads_schedules(agent):
    schedule = make_schedule()
    listed = results(token_client(agent).get("/api/schedules/"))
    assert [row["name"] for row in listed] == ["Platform on-call"]
    detail = token_client(agent).get(f"/api/schedules/{schedule.pk}/").json()
    assert detail["time_zone"] == "Europe/Berlin"
    assert detail["spec"]["layers"][0]["people"] == ["ana", "ben"]


def test_anonymous_callers_are_refused(client):
    schedule = make_schedule()
    assert client.get(f"/api/schedules/{schedule.pk}/on-call/").status_code in (401, 403)


def test_on_call_names_the_person_the_source_the_shift_and_the_paging_order(agent):
    UserFactory(username="ana", first_name="Ana", last_name="Alves")
    schedule = make_schedule()
    # The first week from Monday 2026-01-05 09:00 Berlin (08:00 UTC) is ana's, then ben's.
    answer = token_client(agent).get(
        f"/api/schedules/{schedule.pk}/on-call/", {"at": "2026-01-07T12:00:00+01:00"}
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["person"] == {"username": "ana", "name": "Ana Alves"}
    assert body["source"] == "layer"
    assert body["layer"] == {"index": 0, "name": "primary"}
    assert body["override"] is None
    assert body["shift"] == {"start": "2026-01-05T08:00:00Z", "end": "2026-01-12T08:00:00Z"}
    assert [p["username"] for p in body["paging_order"]] == ["ana", "ben"]


def on_call_with_override(agent, person):
    """Who the API says is on call inside an override of `person` (None: nobody)."""
    from datetime import UTC, datetime

    schedule = make_schedule()
    row = override_add(
        actor=None,
        schedule=schedule,
        person=person,
        start=datetime(2026, 1, 7, 10, tzinfo=UTC),
        end=datetime(2026, 1, 7, 14, tzinfo=UTC),
    )
    body = (
        token_client(agent)
        .get(f"/api/schedules/{schedule.pk}/on-call/", {"at": "2026-01-07T11:00:00Z"})
        .json()
    )
    return row, body


def test_an_override_is_named_as_the_source(agent):
    row, body = on_call_with_override(agent, UserFactory(username="cover"))
    assert body["person"]["username"] == "cover"
    assert (body["source"], body["override"], body["layer"]) == ("override", row.pk, None)


def test_nobody_on_call_is_a_null_person(agent):
    _, body = on_call_with_override(agent, None)
    assert (body["person"], body["source"], body["shift"]) == (None, None, None)


def test_at_defaults_to_now(agent):
    schedule = make_schedule()
    body = token_client(agent).get(f"/api/schedules/{schedule.pk}/on-call/").json()
    assert body["person"]["username"] in ("ana", "ben")


@pytest.mark.parametrize(
    ("at", "says"),
    [
        ("2026-01-07T12:00:00", "has no offset"),
        ("yesterday", "is not an ISO 8601 instant"),
        ("2026-13-07T12:00:00Z", "is not an ISO 8601 instant"),
        ("2300-01-01T00:00:00Z", "outside the years 1900-2199"),
    ],
)
def test_a_naive_or_malformed_at_is_a_400_that_says_why(agent, at, says):
    schedule = make_schedule()
    answer = token_client(agent).get(f"/api/schedules/{schedule.pk}/on-call/", {"at": at})
    assert answer.status_code == 400
    assert says in answer.json()["at"][0]


def test_an_unencoded_plus_in_the_offset_is_understood(agent):
    schedule = make_schedule()
    answer = token_client(agent).get(
        f"/api/schedules/{schedule.pk}/on-call/?at=2026-01-07T12:00:00+01:00"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["at"] == "2026-01-07T11:00:00Z"


def test_a_team_lead_creates_a_schedule_and_an_agent_may_not(agent, lead):
    UserFactory(username="ana")
    body = {"name": "Payments", "spec": oncall_spec(("ana",)), "description": "x"}
    assert token_client(agent).post("/api/schedules/", body, format="json").status_code == 403
    assert not OnCallSchedule.objects.exists()
    answer = token_client(lead).post("/api/schedules/", body, format="json")
    assert answer.status_code == 201, answer.content
    assert OnCallSchedule.objects.get().spec["layers"][0]["people"] == ["ana"]


def test_a_bad_spec_is_a_400_naming_the_spec_path(lead):
    UserFactory(username="ana")
    spec = oncall_spec(("ana",), handoff="25:00")
    answer = token_client(lead).post(
        "/api/schedules/", {"name": "Payments", "spec": spec}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["spec"][0].startswith("layers[0].handoff:")
    assert not OnCallSchedule.objects.exists()


def test_a_team_lead_changes_a_schedule_and_an_agent_may_not(agent, lead):
    schedule = make_schedule()
    path = f"/api/schedules/{schedule.pk}/"
    body = {"spec": oncall_spec(("ben", "ana"))}
    assert token_client(agent).patch(path, body, format="json").status_code == 403
    answer = token_client(lead).patch(path, body, format="json")
    assert answer.status_code == 200, answer.content
    schedule.refresh_from_db()
    assert schedule.spec["layers"][0]["people"] == ["ben", "ana"]
    # Whoever reads next sees the new layers, not a cached old schedule.
    on_call = token_client(agent).get(f"{path}on-call/", {"at": "2026-01-07T12:00:00Z"}).json()
    assert on_call["person"]["username"] == "ben"
