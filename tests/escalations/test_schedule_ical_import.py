"""Importing an iCal feed as a read-only schedule (issue 18, "bring schedules in").

The fixture `data/ical/rotation_berlin.ics` is written by hand like an on-call tool's export:
two people alternating weeks (FREQ=WEEKLY;INTERVAL=2, handoff Monday 09:00 Berlin) across the
spring DST change of 2026-03-29, an EXDATE (ana's week of 13 April is gone: a gap), a
RECURRENCE-ID override (ben's week of 6 April goes to carl, named only in the summary), an
all-day cover day for dora on Wednesday 22 April, and a two-hour event for an unknown
attendee on 28 April (a problem, and nobody on call in it).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from werkzeug import Response

from escalations.models import OnCallSchedule
from escalations.rules.oncall import gaps, on_call
from escalations.schedules import ical, services
from escalations.schedules.selectors import schedule_core
from incidents.permissions import ActionNotAllowed
from tests.factories import UserFactory, make_schedule

pytestmark = pytest.mark.django_db

FEED = (Path(__file__).parent / "data" / "ical" / "rotation_berlin.ics").read_bytes()
NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def people(roles):
    return {
        "ana": UserFactory(username="ana", email="ana.schmidt@example.com"),
        "ben": UserFactory(username="ben", first_name="Ben", last_name="Okafor"),
        "carl": UserFactory(username="carl"),
        "dora": UserFactory(username="dora"),
    }


@pytest.fixture
def local_feeds(settings):
    """The test server listens on 127.0.0.1, which imports refuse unless allowed."""
    settings.ICAL_FEED_ALLOW_PRIVATE = True


def _import(**kwargs):
    kwargs.setdefault("actor", None)
    kwargs.setdefault("now", NOW)
    if "schedule" not in kwargs:
        kwargs.setdefault("name", "Platform primary")
    if "url" not in kwargs:
        kwargs.setdefault("text", FEED)
    return services.schedule_import_ical(**kwargs)


def _who(schedule, at):
    # `since`: the feed's dates are in 2026's spring, before the overrides' archive horizon
    found = on_call(schedule_core(schedule, since=at), at)
    return found.person if found else None


def test_the_feed_becomes_a_schedule_of_final_shifts(people):
    result = _import()
    schedule = result.schedule
    assert schedule.source == OnCallSchedule.Source.ICAL and schedule.imported_at == NOW
    assert schedule.time_zone == "Europe/Berlin"  # the calendar's only VTIMEZONE
    # ATTENDEE matched by address, case-insensitively
    assert _who(schedule, utc(2026, 3, 20, 12)) == "ana"
    # SUMMARY matched by full name; the week runs Monday 09:00 CET to Monday 09:00 CEST,
    # one hour shorter across the spring change
    assert _who(schedule, utc(2026, 3, 23, 8)) == "ben"
    assert _who(schedule, utc(2026, 3, 23, 7, 59, 59)) == "ana"
    assert _who(schedule, utc(2026, 3, 30, 6, 59, 59)) == "ben"
    assert _who(schedule, utc(2026, 3, 30, 7)) == "ana"
    # RECURRENCE-ID: ben's week of 6 April is carl's (the attendee is unknown; the summary
    # "Swap: carl" names him)
    assert _who(schedule, utc(2026, 4, 8)) == "carl"
    # EXDATE: ana's week of 13 April is gone: nobody, and the coverage check says so
    assert _who(schedule, utc(2026, 4, 15)) is None
    found = gaps(
        schedule_core(schedule, since=utc(2026, 4, 10)), utc(2026, 4, 10), utc(2026, 4, 25)
    )
    assert [(g.start, g.end) for g in found] == [(utc(2026, 4, 13, 7), utc(2026, 4, 20, 7))]
    # all-day event: midnight to midnight in Berlin, over ben's week (the later start wins)
    assert _who(schedule, utc(2026, 4, 21, 21, 59, 59)) == "ben"
    assert _who(schedule, utc(2026, 4, 21, 22)) == "dora"
    assert _who(schedule, utc(2026, 4, 22, 22)) == "ben"
    # the unknown attendee's two hours: nobody, reported
    assert _who(schedule, utc(2026, 4, 28, 9)) is None
    assert _who(schedule, utc(2026, 4, 28, 10)) == "ana"
    assert len(result.problems) == 1
    assert "Mystery guest" in result.problems[0]
    assert "nobody@elsewhere.test" in result.problems[0]
    assert schedule.import_problems == result.problems


def test_the_window_runs_thirty_days_back_and_ninety_ahead(people):
    schedule = _import().schedule
    shifts = schedule.spec["layers"][0]["shifts"]
    starts = [datetime.fromisoformat(s["start"]) for s in shifts]
    ends = [datetime.fromisoformat(s["end"]) for s in shifts]
    assert min(starts) == utc(2026, 3, 16, 8)  # the first event overlapping 2 March on
    assert max(starts) < utc(2026, 6, 30) <= max(ends)
    assert _who(schedule, utc(2026, 7, 20)) is None  # beyond the window: refreshed later


def test_importing_the_same_feed_again_changes_nothing(people):
    first = _import()
    version = first.schedule.updated_at
    again = _import(schedule=first.schedule, now=NOW + timedelta(hours=3))
    assert not again.changed
    again.schedule.refresh_from_db()
    assert again.schedule.spec == first.schedule.spec
    assert again.schedule.updated_at == version  # the selector's cache stays warm
    assert again.schedule.imported_at == NOW + timedelta(hours=3)
    assert OnCallSchedule.objects.count() == 1


def test_a_new_feed_replaces_the_shifts(people):
    schedule = _import().schedule
    text = FEED.replace(b"SUMMARY:dora", b"SUMMARY:carl")
    result = _import(schedule=schedule, text=text)
    assert result.changed
    assert _who(result.schedule, utc(2026, 4, 22, 12)) == "carl"


def test_an_imported_schedule_is_read_only_but_takes_overrides(people):
    schedule = _import().schedule
    with pytest.raises(ValidationError) as error:
        services.schedule_update(actor=None, schedule=schedule, spec={"timezone": "UTC"})
    assert "import it again" in error.value.message_dict["spec"][0]
    services.override_add(
        actor=None,
        schedule=schedule,
        person=people["carl"],
        start=utc(2026, 4, 15),
        end=utc(2026, 4, 16),
    )
    schedule.refresh_from_db()
    assert _who(schedule, utc(2026, 4, 15, 12)) == "carl"
    # the override survives a re-import: it is not part of the feed
    _import(schedule=schedule, now=NOW + timedelta(days=1))
    schedule.refresh_from_db()
    assert _who(schedule, utc(2026, 4, 15, 12)) == "carl"


def test_a_hand_edited_schedule_is_never_overwritten(people):
    schedule = make_schedule()
    with pytest.raises(ValidationError) as error:
        _import(schedule=schedule)
    assert "edited by hand" in error.value.message_dict["schedule"][0]


def test_a_name_two_users_share_names_nobody(people):
    UserFactory(username="ben2", first_name="Ben", last_name="Okafor")
    result = _import()
    assert _who(result.schedule, utc(2026, 3, 25)) is None
    assert any("Ben Okafor" in problem for problem in result.problems)


def test_a_person_with_a_first_name_only_is_found_by_it(people):
    UserFactory(username="zz", first_name="Zoe", last_name="")
    feed = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        "UID:zoe@test\r\nDTSTAMP:20260301T000000Z\r\nDTSTART:20260325T080000Z\r\n"
        "DTEND:20260325T200000Z\r\nSUMMARY:Zoe\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = _import(text=feed)
    assert result.problems == []
    assert _who(result.schedule, utc(2026, 3, 25, 12)) == "zz"


def test_agents_may_not_import(people, agent):
    with pytest.raises(ActionNotAllowed):
        _import(actor=agent)
    assert not OnCallSchedule.objects.exists()


def test_managers_may(people, manager):
    assert _import(actor=manager).schedule.name == "Platform primary"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (b"", "empty"),
        (b"hello, world", "not an iCalendar file"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2026XX\r\nEND:VCALENDAR\r\n", ""),
        (b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"a" * (ical.MAX_FEED_BYTES) + b"\r\n", "larger"),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:ana\r\n"
            b"DTSTART:20260401T000000Z\r\nDTEND:20270401T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "is its end right",
        ),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:ana\r\n"
            b"DTSTART:20260401T000000Z\r\nDTEND:20260401T000100Z\r\n"
            b"RRULE:FREQ=MINUTELY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "more often than every hour",
        ),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:ana\r\n"
            b"DTSTART:19000101T000000Z\r\nDTEND:19000101T010000Z\r\n"
            b"RRULE:FREQ=HOURLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "repeats hourly from 1900-01-01",
        ),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:ana\r\n"
            b"DTSTART:20260301T000000Z\r\nDTEND:20260301T000100Z\r\n"
            b"RRULE:FREQ=HOURLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "more than 2000 events",
        ),
    ],
)
def test_a_bad_file_is_a_field_error(people, text, says, monkeypatch):
    monkeypatch.setattr(ical, "MAX_OCCURRENCES", 2000)
    with pytest.raises(ValidationError) as error:
        _import(text=text)
    message = error.value.message_dict["ics"][0]
    assert says in message
    assert not OnCallSchedule.objects.exists()


def test_a_feed_that_takes_too_long_to_expand_is_refused(people, monkeypatch):
    monkeypatch.setattr(ical, "PARSE_DEADLINE", -1)
    with pytest.raises(ValidationError) as error:
        _import()
    assert "seconds to expand" in error.value.message_dict["ics"][0]


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.test/a.ics", "javascript:alert(1)", "//x"]
)
def test_only_http_addresses_are_fetched(people, url):
    with pytest.raises(ValidationError) as error:
        _import(url=url)
    assert "https://" in error.value.message_dict["url"][0]


def test_a_feed_at_an_address_is_fetched_and_kept_for_refreshes(people, httpserver, local_feeds):
    httpserver.expect_request("/team.ics").respond_with_data(FEED, content_type="text/calendar")
    url = httpserver.url_for("/team.ics")
    result = _import(url=url)
    assert result.schedule.source_url == url
    assert _who(result.schedule, utc(2026, 4, 8)) == "carl"


def test_fetch_failures_name_the_host_only(people, httpserver, local_feeds):
    httpserver.expect_request("/secret-token/feed.ics").respond_with_data("no", status=404)
    with pytest.raises(ValidationError) as error:
        _import(url=httpserver.url_for("/secret-token/feed.ics"))
    message = error.value.message_dict["url"][0]
    assert "404" in message and "secret-token" not in message


def test_a_redirect_to_another_scheme_is_not_followed(people, httpserver, local_feeds):
    httpserver.expect_request("/feed.ics").respond_with_response(
        Response(status=302, headers={"Location": "file:///etc/passwd"})
    )
    with pytest.raises(ValidationError) as error:
        _import(url=httpserver.url_for("/feed.ics"))
    assert "https://" in error.value.message_dict["url"][0]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/feed.ics",
        "http://localhost/feed.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/feed.ics",
        "http://10.1.2.3/feed.ics",
    ],
)
def test_addresses_inside_the_network_are_refused_by_default(people, url):
    with pytest.raises(ValidationError) as error:
        _import(url=url)
    assert "inside this network" in error.value.message_dict["url"][0]


def test_a_redirect_into_the_network_is_refused(httpserver, monkeypatch):
    """Every hop is checked: the local test server's address is taken as public here,
    the host it redirects to is checked for real."""
    httpserver.expect_request("/feed.ics").respond_with_response(
        Response(status=302, headers={"Location": "http://10.1.2.3/internal.ics"})
    )
    real = ical._refuse_private
    calls = []

    def check(hostname, address):
        calls.append((hostname, address))
        if address != "127.0.0.1":
            real(hostname, address)

    monkeypatch.setattr(ical, "_refuse_private", check)
    with pytest.raises(ical.FeedError, match="inside this network"):
        ical.fetch_feed(httpserver.url_for("/feed.ics"))
    assert [host for host, _ in calls] == [httpserver.host] * 2 + ["10.1.2.3"]


def test_a_name_that_answers_differently_at_connection_is_refused(httpserver, monkeypatch):
    """DNS rebinding: the name resolves to a public address when it is checked and to
    one inside the network when the connection resolves it again; the address the
    connection reached is checked too, and nothing is requested from it."""
    httpserver.expect_request("/feed.ics").respond_with_data(b"BEGIN:VCALENDAR")
    monkeypatch.setattr(ical, "_check_public", lambda hostname, port: None)
    with pytest.raises(ical.FeedError, match="inside this network"):
        ical.fetch_feed(httpserver.url_for("/feed.ics"))
    assert httpserver.log == []


def test_a_huge_feed_is_cut_off(httpserver):
    httpserver.expect_request("/big.ics").respond_with_data(b"x" * 5000)
    with pytest.raises(ical.FeedError, match="larger than"):
        ical.fetch_feed(httpserver.url_for("/big.ics"), max_bytes=1024, allow_private=True)


def test_a_feed_that_does_not_answer_times_out(httpserver):
    release = threading.Event()

    def stall(request):
        release.wait(5)  # held until the client has given up (not a sleep: released below)
        return Response("late")

    httpserver.expect_request("/slow.ics").respond_with_handler(stall)
    try:
        with pytest.raises(ical.FeedError, match="did not answer"):
            ical.fetch_feed(httpserver.url_for("/slow.ics"), timeout=0.3, allow_private=True)
    finally:
        release.set()


def test_the_refresh_reads_due_feeds_again_and_survives_failures(
    people, httpserver, settings, local_feeds
):
    settings.ICAL_REFRESH_INTERVAL = 3600
    httpserver.expect_request("/good.ics").respond_with_data(FEED)
    httpserver.expect_request("/bad.ics").respond_with_data("gone", status=500)
    good = _import(url=httpserver.url_for("/good.ics"), name="Good").schedule
    bad = _import(url=httpserver.url_for("/good.ics"), name="Bad").schedule
    OnCallSchedule.objects.filter(pk=bad.pk).update(source_url=httpserver.url_for("/bad.ics"))

    # imported a moment ago: nothing is due
    assert services.ical_schedules_refresh(now=NOW + timedelta(minutes=5)) == {
        "refreshed": 0,
        "failed": 0,
    }
    later = NOW + timedelta(hours=2)
    assert services.ical_schedules_refresh(now=later) == {"refreshed": 1, "failed": 1}
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.imported_at == later and good.import_error == ""
    assert bad.imported_at == NOW and "500" in bad.import_error
    # the failed one is tried again on the next run; the refreshed one is not due
    assert services.ical_schedules_refresh(now=later + timedelta(minutes=1)) == {
        "refreshed": 0,
        "failed": 1,
    }
    # an unexpected error is logged and kept too, and never stops the loop
    httpserver.clear()
    httpserver.expect_request("/bad.ics").respond_with_data(FEED)
    assert services.ical_schedules_refresh(now=later + timedelta(minutes=2)) == {
        "refreshed": 1,
        "failed": 0,
    }
    bad.refresh_from_db()
    assert bad.import_error == ""


def test_the_refresh_runs_in_beat():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="iCal schedule refresh")
    assert task.task == "escalations.tasks.refresh_ical_schedules"
    from escalations.tasks import refresh_ical_schedules

    assert refresh_ical_schedules() == {"refreshed": 0, "failed": 0}


def test_the_people_of_imported_shifts_are_members_for_cover_requests(people):
    schedule = _import().schedule
    assert schedule.rotation_people == {"ana", "ben", "carl", "dora"}
    assert schedule.has_member(people["dora"])
    assert not schedule.has_member(UserFactory(username="stranger"))
