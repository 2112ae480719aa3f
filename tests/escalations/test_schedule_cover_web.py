"""/schedules/requests/: requests to and from me with their buttons, the form asking for
cover (errors beside the fields, 400), accept/decline/cancel and "take it now" posting to
the same services; a reason is text everywhere, the email included."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from escalations.models import CoverRequestStatus, OnCallOverride, OnCallOverrideRequest
from escalations.schedules import services
from notifications.models import Notification
from notifications.rendering import render_bodies
from tests.factories import UserFactory, schedule_held_by

pytestmark = pytest.mark.django_db

HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def ana(roles):
    return UserFactory(username="ana", first_name="Ana", last_name="Alves", role="Support Agent")


@pytest.fixture
def ben(roles):
    return UserFactory(username="ben", first_name="Ben", last_name="Brown", role="Support Agent")


@pytest.fixture
def schedule(ana, ben):
    schedule = schedule_held_by(ana, people=("ana", "ben"))
    ben.refresh_from_db()  # make_schedule set his password again: a fresh session hash
    return schedule


def local(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def test_asking_for_cover_from_the_page(client, schedule, ana, ben):
    client.force_login(ana)
    page = client.get("/schedules/requests/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Cover requests" in body and "Ask someone to cover" in body
    assert 'href="/schedules/requests/"' in body  # in the navigation
    start = timezone.now() + timedelta(hours=1)
    answer = client.post(
        "/schedules/requests/new/",
        {
            "schedule": schedule.pk,
            "to_person": ben.pk,
            "start": local(start),
            "end": local(start + timedelta(hours=2)),
            "reason": HOSTILE,
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    request = OnCallOverrideRequest.objects.get()
    assert (request.from_person, request.to_person, request.reason) == (ana, ben, HOSTILE)
    mine = client.get("/schedules/requests/").content.decode()
    assert "You asked <strong>Ben Brown</strong>" in mine
    assert HOSTILE not in mine and "&lt;img src=x" in mine
    # The email to ben shows the reason as text.
    row = Notification.objects.get(kind="oncall_cover", recipient="ben@example.com")
    html = render_bodies(row)["body_html"]
    assert HOSTILE not in html and "&lt;img" in html


def test_a_bad_request_comes_back_with_its_errors(client, schedule, ana, ben):
    client.force_login(ben)  # ana is on call for the next hours, not ben
    start = timezone.now() + timedelta(hours=1)
    answer = client.post(
        "/schedules/requests/new/",
        {
            "schedule": schedule.pk,
            "to_person": ana.pk,
            "start": local(start),
            "end": local(start + timedelta(hours=1)),
        },
    )
    assert answer.status_code == 400
    assert "You are not on call for all of that interval." in answer.content.decode()
    assert not OnCallOverrideRequest.objects.exists()


def test_accepting_from_the_page_and_only_the_person_asked(client, schedule, ana, ben):
    start = timezone.now() + timedelta(hours=1)
    request = services.cover_request(
        actor=ana, schedule=schedule, to_person=ben, start=start, end=start + timedelta(hours=1)
    )
    client.force_login(ana)
    assert client.post(f"/schedules/requests/{request.pk}/accept/").status_code == 403
    client.force_login(ben)
    page = client.get("/schedules/requests/").content.decode()
    assert "<strong>Ana Alves</strong> asks you to cover" in page
    assert f"/schedules/requests/{request.pk}/accept/" in page
    answer = client.post(f"/schedules/requests/{request.pk}/accept/", follow=True)
    assert "Accepted: you are on call for that interval." in answer.content.decode()
    assert OnCallOverrideRequest.objects.get().status == CoverRequestStatus.ACCEPTED
    # A second click says it plainly and changes nothing.
    client.post(f"/schedules/requests/{request.pk}/accept/")
    assert OnCallOverride.objects.filter(person=ben).count() == 1


def test_declining_and_cancelling_from_the_page(client, schedule, ana, ben):
    start = timezone.now() + timedelta(hours=1)
    ask = lambda: services.cover_request(  # noqa: E731
        actor=ana, schedule=schedule, to_person=ben, start=start, end=start + timedelta(hours=1)
    )
    first, second = ask(), ask()
    client.force_login(ben)
    client.post(f"/schedules/requests/{first.pk}/decline/")
    client.force_login(ana)
    answer = client.post(f"/schedules/requests/{second.pk}/cancel/", follow=True)
    assert "Request cancelled." in answer.content.decode()
    statuses = dict(OnCallOverrideRequest.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "declined", second.pk: "cancelled"}
    late = client.post(f"/schedules/requests/{first.pk}/cancel/", follow=True)
    assert "declined already" in late.content.decode()


def test_taking_the_shift_now_from_the_page(client, schedule, ana, ben, roles):
    client.force_login(ben)
    page = client.get("/schedules/requests/").content.decode()
    assert "Take it now" in page and "Ana Alves" in page
    answer = client.post(f"/schedules/{schedule.pk}/take/", {"hours": "2"}, follow=True)
    assert f"You are on call on {schedule.name} until" in answer.content.decode()
    assert OnCallOverride.objects.filter(person=ben, reason="taken").exists()
    outsider = UserFactory(username="olga", role="Support Agent")
    client.force_login(outsider)
    assert client.post(f"/schedules/{schedule.pk}/take/", {}).status_code == 403
    assert "no on-call schedule" in client.get("/schedules/requests/").content.decode()


def test_the_schedule_page_offers_members_cover_and_the_shift(client, schedule, ana, ben, roles):
    client.force_login(ben)
    page = client.get(f"/schedules/{schedule.pk}/").content.decode()
    assert "Ask for cover or a swap" in page and f"/schedules/{schedule.pk}/take/" in page
    client.post(f"/schedules/{schedule.pk}/take/")
    assert OnCallOverride.objects.filter(person=ben, reason="taken").exists()
    client.force_login(UserFactory(username="olga", role="Support Agent"))
    assert "Take the shift now" not in client.get(f"/schedules/{schedule.pk}/").content.decode()
