"""The admin's "Import iCal": a manager uploads an .ics file or gives an address, sees the
problems (escaped), and the imported schedule's layers are read-only there and in the API;
a bad file is a field error, never a 500; roles without the rule see no link and get 403."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from escalations.models import OnCallSchedule
from tests.api_client import token_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

IMPORT = "/admin/escalations/oncallschedule/import-ical/"
LIST = "/admin/escalations/oncallschedule/"
FEED = (Path(__file__).parent / "data" / "ical" / "rotation_berlin.ics").read_bytes()


@pytest.fixture(autouse=True)
def _april_2026():
    """The feed's events are in March to May 2026; the import keeps a window around now."""
    with time_machine.travel(datetime(2026, 4, 1, 12, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def people(roles):
    UserFactory(username="ana", email="ana.schmidt@example.com")
    UserFactory(username="ben", first_name="Ben", last_name="Okafor")
    UserFactory(username="carl")
    UserFactory(username="dora")


def _upload(content: bytes, name: str = "team.ics"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/calendar")


def test_a_manager_imports_a_file_and_sees_the_problems(client, manager, people):
    client.force_login(manager)
    assert "Import iCal" in client.get(LIST).content.decode()
    answer = client.post(IMPORT, {"name": "Platform", "ics": _upload(FEED)}, follow=True)
    page = answer.content.decode()
    schedule = OnCallSchedule.objects.get(name="Platform")
    assert answer.redirect_chain[-1][0] == f"{LIST}{schedule.pk}/change/"
    assert schedule.is_imported and schedule.source_url == ""
    assert "Imported 17 shifts into Platform." in page
    # the problem, in the messages and on the change form
    assert page.count("at 2026-04-28 08:00 UTC: no active user has the address or name") == 2
    assert "nobody@elsewhere.test, Mystery guest; nobody is on call for it" in page
    # read-only layers: no text to edit, the feed and "Import again" instead
    assert 'name="spec_text"' not in page
    assert "an uploaded file (not refreshed)" in page
    assert "Times in Europe/Berlin." in page
    assert f"import-ical/?schedule={schedule.pk}" in page


def test_saving_an_imported_schedule_keeps_its_shifts(client, manager, people):
    client.force_login(manager)
    client.post(IMPORT, {"name": "Platform", "ics": _upload(FEED)})
    schedule = OnCallSchedule.objects.get()
    answer = client.post(
        f"{LIST}{schedule.pk}/change/", {"name": "Platform 2", "team": "", "description": "x"}
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    again = OnCallSchedule.objects.get()
    assert again.name == "Platform 2" and again.spec == schedule.spec


def test_importing_again_into_the_schedule_replaces_its_shifts(client, manager, people):
    client.force_login(manager)
    client.post(IMPORT, {"name": "Platform", "ics": _upload(FEED)})
    schedule = OnCallSchedule.objects.get()
    page = client.get(f"{IMPORT}?schedule={schedule.pk}").content.decode()
    assert f'<option value="{schedule.pk}" selected>' in page
    changed = FEED.replace(b"SUMMARY:dora", b"SUMMARY:carl")
    answer = client.post(IMPORT, {"schedule": schedule.pk, "ics": _upload(changed)}, follow=True)
    assert "Imported 17 shifts into Platform." in answer.content.decode()
    assert OnCallSchedule.objects.count() == 1
    people_now = {s["person"] for s in OnCallSchedule.objects.get().spec["layers"][0]["shifts"]}
    assert "dora" not in people_now


def test_problems_are_escaped(client, manager, people):
    client.force_login(manager)
    hostile = FEED.replace(b"SUMMARY:Mystery guest", b"SUMMARY:<script>alert(1)</script>")
    answer = client.post(IMPORT, {"name": "Platform", "ics": _upload(hostile)}, follow=True)
    page = answer.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({"name": "X", "ics": b"not a calendar"}, "ics", "not an iCalendar file"),
        ({"name": "X", "ics": b""}, "ics", "The submitted file is empty"),
        ({"name": "X", "url": "file:///etc/passwd"}, "url", "https://"),
        ({"name": "X"}, None, "Give either an .ics file or the address"),
        ({"ics": FEED}, "name", "Name the new schedule"),
    ],
)
def test_bad_input_is_shown_beside_the_field(client, manager, people, data, field, says):
    client.force_login(manager)
    if "ics" in data:
        data = {**data, "ics": _upload(data["ics"])}
    answer = client.post(IMPORT, data)
    assert answer.status_code == 200
    form = answer.context["form"]
    errors = form.errors.get(field if field else "__all__", [])
    assert any(says in error for error in errors), form.errors
    assert "Nothing was imported" in answer.content.decode()
    assert not OnCallSchedule.objects.exists()


def test_a_feed_address_is_fetched(client, manager, people, httpserver, settings):
    settings.ICAL_FEED_ALLOW_PRIVATE = True
    httpserver.expect_request("/oncall.ics").respond_with_data(FEED)
    client.force_login(manager)
    url = httpserver.url_for("/oncall.ics")
    answer = client.post(IMPORT, {"name": "Feed", "url": url}, follow=True)
    assert url in answer.content.decode()
    assert OnCallSchedule.objects.get().source_url == url


def test_import_again_reads_the_stored_address(client, manager, people, httpserver, settings):
    settings.ICAL_FEED_ALLOW_PRIVATE = True
    httpserver.expect_request("/oncall.ics").respond_with_data(FEED)
    client.force_login(manager)
    client.post(IMPORT, {"name": "Feed", "url": httpserver.url_for("/oncall.ics")})
    schedule = OnCallSchedule.objects.get()
    OnCallSchedule.objects.filter(pk=schedule.pk).update(imported_at=None)
    answer = client.post(IMPORT, {"schedule": schedule.pk}, follow=True)
    assert "(no change since the last import)" in answer.content.decode()
    assert OnCallSchedule.objects.get().imported_at is not None
    assert len(httpserver.log) == 2


def test_a_role_without_the_rule_gets_no_link_and_a_403(client, people, roles):
    gov = UserFactory(username="gov1", role="Governance Liaison", is_staff=True)
    client.force_login(gov)
    listing = client.get(LIST)
    if listing.status_code == 200:
        assert "Import iCal" not in listing.content.decode()
    assert client.get(IMPORT).status_code == 403
    assert client.post(IMPORT, {"name": "X", "ics": _upload(FEED)}).status_code == 403
    assert not OnCallSchedule.objects.exists()


def test_the_api_shows_the_source_and_refuses_new_layers(client, manager, people):
    client.force_login(manager)
    client.post(IMPORT, {"name": "Platform", "ics": _upload(FEED)})
    schedule = OnCallSchedule.objects.get()
    api = token_client(manager)
    body = api.get(f"/api/schedules/{schedule.pk}/").json()
    assert body["source"] == "ical" and len(body["import_problems"]) == 1
    answer = api.patch(
        f"/api/schedules/{schedule.pk}/",
        {"spec": {"timezone": "UTC", "layers": []}},
        format="json",
    )
    assert answer.status_code == 400
    assert "import it again" in str(answer.json())
    renamed = api.patch(f"/api/schedules/{schedule.pk}/", {"name": "Renamed"}, format="json")
    assert renamed.status_code == 200
    assert OnCallSchedule.objects.get().spec == schedule.spec
