"""/api/schedules/{id}/overrides/ (managers add and remove, anyone signed in reads) and
/api/schedules/{id}/override-requests/ (people ask, accept, decline, cancel) and
/api/schedules/{id}/take/: the same services and rules as the web."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from escalations.models import CoverRequestStatus, OnCallOverride, OnCallOverrideRequest
from escalations.schedules import services
from tests.api_client import results, token_client
from tests.factories import UserFactory, make_schedule, oncall_spec, schedule_held_by

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(roles):
    return UserFactory(username="ana", role="Support Agent")


@pytest.fixture
def ben(roles):
    return UserFactory(username="ben", role="Support Agent")


@pytest.fixture
def lead(roles):
    return UserFactory(username="lead1", role="Team Lead")


@pytest.fixture
def schedule(ana, ben):
    return schedule_held_by(ana, people=("ana", "ben"))


def who_now(schedule, user) -> str | None:
    body = token_client(user).get(f"/api/schedules/{schedule.pk}/on-call/").json()
    return body["person"]["username"] if body["person"] else None


def someone_else(schedule, user):
    """(the person on call now, the other one)."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    on_call = who_now(schedule, user)
    assert on_call == "ana"
    return users.get(username="ana"), users.get(username="ben")


def test_a_request_made_and_accepted_over_the_api_changes_who_is_on_call(schedule, ana, ben):
    on_call, other = someone_else(schedule, ana)
    start = timezone.now().replace(microsecond=0) + timedelta(minutes=5)
    end = start + timedelta(hours=1)
    base = f"/api/schedules/{schedule.pk}/override-requests/"
    made = token_client(on_call).post(
        base,
        {"to_person": other.username, "start": start, "end": end, "reason": "Train"},
        format="json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["from_person"], body["to_person"], body["status"]) == (
        on_call.username,
        other.username,
        "requested",
    )
    # The asker may not accept their own request; the person asked may.
    refused = token_client(on_call).post(f"{base}{body['id']}/accept/")
    assert refused.status_code == 403
    assert "Only the person asked" in refused.json()["detail"]
    accepted = token_client(other).post(f"{base}{body['id']}/accept/")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted" and accepted.json()["override"]
    again = token_client(other).post(f"{base}{body['id']}/accept/")
    assert again.status_code == 200
    assert OnCallOverride.objects.filter(person=other).count() == 1
    at = (start + timedelta(minutes=30)).isoformat()
    answer = token_client(ana).get(f"/api/schedules/{schedule.pk}/on-call/", {"at": at}).json()
    assert answer["person"]["username"] == other.username
    assert answer["source"] == "override"
    listed = results(token_client(ana).get(f"/api/schedules/{schedule.pk}/overrides/"))
    # The newest start first: the accepted cover, then the override that made ana on call.
    assert [(row["person"], row["request"]) for row in listed] == [
        (other.username, body["id"]),
        ("ana", None),
    ]


def test_decline_cancel_and_their_rules(schedule, ana, ben):
    on_call, other = someone_else(schedule, ana)
    start = timezone.now() + timedelta(minutes=5)
    request = services.cover_request(
        actor=on_call,
        schedule=schedule,
        to_person=other,
        start=start,
        end=start + timedelta(hours=1),
    )
    base = f"/api/schedules/{schedule.pk}/override-requests/{request.pk}"
    assert token_client(other).post(f"{base}/cancel/").status_code == 403
    assert token_client(on_call).post(f"{base}/decline/").status_code == 403
    declined = token_client(other).post(f"{base}/decline/")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    # Answered: neither cancelled nor accepted any more; a 400 that says why.
    late = token_client(other).post(f"{base}/accept/")
    assert late.status_code == 400 and "declined already" in str(late.json())
    assert token_client(on_call).post(f"{base}/cancel/").status_code == 400
    listed = results(
        token_client(ana).get(
            f"/api/schedules/{schedule.pk}/override-requests/", {"status": "declined"}
        )
    )
    assert [row["id"] for row in listed] == [request.pk]
    assert OnCallOverrideRequest.objects.get().status == CoverRequestStatus.DECLINED


def test_a_request_on_another_schedule_is_a_404(schedule, ana, ben):
    on_call, other = someone_else(schedule, ana)
    start = timezone.now() + timedelta(minutes=5)
    request = services.cover_request(
        actor=on_call,
        schedule=schedule,
        to_person=other,
        start=start,
        end=start + timedelta(hours=1),
    )
    elsewhere = make_schedule(name="Other", spec=oncall_spec(("ana", "ben")))
    url = f"/api/schedules/{elsewhere.pk}/override-requests/{request.pk}/accept/"
    assert token_client(other).post(url).status_code == 404
    assert token_client(other).get("/api/schedules/999999/override-requests/").status_code == 404


def test_bad_request_bodies_are_400_naming_the_field(schedule, ana, ben):
    on_call, other = someone_else(schedule, ana)
    base = f"/api/schedules/{schedule.pk}/override-requests/"
    start = timezone.now() + timedelta(hours=1)
    backwards = token_client(on_call).post(
        base,
        {"to_person": other.username, "start": start, "end": start - timedelta(hours=1)},
        format="json",
    )
    assert backwards.status_code == 400 and "end" in backwards.json()
    unknown = token_client(on_call).post(
        base,
        {"to_person": "ghost", "start": start, "end": start + timedelta(hours=1)},
        format="json",
    )
    assert unknown.status_code == 400 and "to_person" in unknown.json()


def test_managers_add_and_remove_overrides_agents_may_not(schedule, ana, ben, lead):
    base = f"/api/schedules/{schedule.pk}/overrides/"
    body = {
        "person": "ben",
        "start": "2026-01-07T10:00:00Z",
        "end": "2026-01-07T14:00:00Z",
        "reason": "Swap",
    }
    assert token_client(ana).post(base, body, format="json").status_code == 403
    made = token_client(lead).post(base, body, format="json")
    assert made.status_code == 201, made.content
    assert (made.json()["person"], made.json()["created_by"]) == ("ben", "lead1")
    # Ended long ago: archived, listed only when asked for.
    made_id = made.json()["id"]
    assert made_id not in [row["id"] for row in results(token_client(ana).get(base))]
    archived = results(token_client(ana).get(base, {"archived": "true"}))
    assert made_id in [row["id"] for row in archived]
    url = f"{base}{made_id}/"
    assert token_client(ana).delete(url).status_code == 403
    assert token_client(lead).delete(url).status_code == 204
    assert not OnCallOverride.objects.filter(pk=made_id).exists()
    nobody = token_client(lead).post(base, {**body, "person": None}, format="json")
    assert nobody.status_code == 201 and nobody.json()["person"] is None


def test_take_the_shift_now_over_the_api(schedule, ana, ben, roles):
    _, other = someone_else(schedule, ana)
    taken = token_client(other).post(f"/api/schedules/{schedule.pk}/take/", {"hours": 2})
    assert taken.status_code == 201, taken.content
    assert (taken.json()["person"], taken.json()["reason"]) == (other.username, "taken")
    assert who_now(schedule, ana) == other.username
    outsider = UserFactory(username="olga", role="Support Agent")
    refused = token_client(outsider).post(f"/api/schedules/{schedule.pk}/take/", {})
    assert refused.status_code == 403
    assert token_client(other).post(f"/api/schedules/{schedule.pk}/take/", {}).status_code == 400
