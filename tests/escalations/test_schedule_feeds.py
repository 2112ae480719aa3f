"""Signed iCal feeds of final shifts: they parse back with icalendar and hold the right
events, names are escaped by the library, UIDs do not change between fetches, and a bad,
tampered or foreign token is a 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
import time_machine
from django.urls import reverse
from icalendar import Calendar

from escalations.schedules import feeds, services
from tests.escalations.oncall_scenario import GAP, HANDOFF_TO_LUCAS, NOW, SWAP, build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(roles):
    return build()


def fetch(client, name, token, *, at=NOW):
    with time_machine.travel(at, tick=False):
        return client.get(reverse(name, args=[token]))


def events(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    return [
        {
            "uid": str(e["UID"]),
            "summary": str(e["SUMMARY"]),
            "start": e.decoded("DTSTART"),
            "end": e.decoded("DTEND"),
        }
        for e in calendar.walk("VEVENT")
    ]


def test_the_personal_feed_has_the_persons_final_shifts_with_the_schedule_name(client, world):
    lucas = world.people["lucas"]
    got = events(fetch(client, "person_feed", feeds.person_feed_token(lucas)))
    # 30 days back (to 02-02) .. 90 days ahead: lucas's primary weeks (every third week from
    # 01-05, so 02-16 and 03-09, ...), and the swap evening; never emma's or the gap.
    assert (SWAP[0], SWAP[1]) in [(e["start"], e["end"]) for e in got]
    assert (HANDOFF_TO_LUCAS, HANDOFF_TO_LUCAS + timedelta(days=7)) in [
        (e["start"], e["end"]) for e in got
    ]
    assert {e["summary"] for e in got} == {"On call: Engineering primary/secondary"}
    # Calendar apps are asked to fetch hourly, in RFC 5545 durations.
    response = fetch(client, "person_feed", feeds.person_feed_token(lucas))
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in response.content
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in response.content
    window_start = datetime(2026, 3, 4, tzinfo=UTC) - timedelta(days=30)
    window_end = datetime(2026, 3, 4, tzinfo=UTC) + timedelta(days=91)
    assert all(e["end"] > window_start and e["start"] < window_end for e in got)
    # lucas has every third week from 01-05 (turns 0, 3, 6, ...): overlapping the window,
    # 01-26 (ends 02-02 09:00 UTC, inside it), 02-16, 03-09, 03-30, 04-20, 05-11, 06-01;
    # plus the swap.
    assert len(got) == 8
    assert min(e["start"] for e in got) == datetime(2026, 1, 26, 9, tzinfo=UTC)
    assert len({e["uid"] for e in got}) == len(got)


def test_the_schedule_feed_has_every_final_shift_named(client, world):
    lead = world.people["lead"]
    token = feeds.schedule_feed_token(world.schedule, lead)
    got = events(fetch(client, "schedule_feed", token))
    around_now = [
        (e["summary"], e["start"], e["end"])
        for e in got
        if SWAP[0] - timedelta(days=2) < e["start"] < HANDOFF_TO_LUCAS + timedelta(hours=1)
    ]
    assert around_now == [
        ("Lucas Martin on call", SWAP[0], SWAP[1]),
        ("Emma Schulz on call", SWAP[1], GAP[0]),
        ("Emma Schulz on call", GAP[1], HANDOFF_TO_LUCAS),
        ("Lucas Martin on call", HANDOFF_TO_LUCAS, HANDOFF_TO_LUCAS + timedelta(days=7)),
    ]
    # Shifts and the gap tile time: nothing in the gap, nothing overlapping.
    ordered = sorted((e["start"], e["end"]) for e in got)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in pairwise(ordered))
    assert not any(s < GAP[1] and e > GAP[0] for s, e in ordered)


def test_uids_stay_the_same_from_one_fetch_to_the_next(client, world):
    token = feeds.schedule_feed_token(world.schedule, world.people["lead"])
    first = {(e["uid"], e["start"]) for e in events(fetch(client, "schedule_feed", token))}
    later = fetch(client, "schedule_feed", token, at=NOW + timedelta(days=1, hours=3))
    second = {(e["uid"], e["start"]) for e in events(later)}
    # The shift that began before both windows keeps its real start, and so its UID.
    common = first & second
    assert len(common) >= len(first) - 2
    assert {uid for uid, _ in first} & {uid for uid, _ in second} == {uid for uid, _ in common}


def test_names_are_escaped_by_the_library_and_read_back_whole(client, world):
    tricky = 'Ops; "night", shift\\team\nsecond line <script>'
    services.schedule_update(actor=None, schedule=world.schedule, name=tricky)
    emma = world.people["emma"]
    emma.first_name, emma.last_name = "Emma, Jr.;", "O\\Schulz"
    emma.save()
    raw = fetch(client, "person_feed", feeds.person_feed_token(emma))
    assert b'On call: Ops\\; "night"\\, shift\\\\team\\nsecond line <script>' in raw.content
    assert {e["summary"] for e in events(raw)} == {f"On call: {tricky}"}
    assert b"X-WR-CALNAME:On call: Emma\\, Jr.\\; O\\\\Schulz\r\n" in raw.content
    token = feeds.schedule_feed_token(world.schedule, emma)
    names = {e["summary"] for e in events(fetch(client, "schedule_feed", token))}
    assert "Emma, Jr.; O\\Schulz on call" in names


def test_calendar_apps_may_ask_with_head_but_not_post(client, world):
    token = feeds.person_feed_token(world.people["lucas"])
    url = reverse("person_feed", args=[token])
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405


def test_a_bad_or_tampered_token_is_a_404(client, world):
    lucas = world.people["lucas"]
    good = feeds.person_feed_token(lucas)
    assert fetch(client, "person_feed", good).status_code == 200
    tampered = good[:-1] + ("A" if good[-1] != "A" else "B")
    for token in (tampered, "nonsense", good.replace(":", ":x", 1)):
        assert fetch(client, "person_feed", token).status_code == 404
    # Another person's pk in the payload with the old signature.
    other = feeds.person_feed_token(world.people["emma"])
    forged = other.split(":", 1)[0] + ":" + good.split(":", 1)[1]
    assert fetch(client, "person_feed", forged).status_code == 404


def test_the_same_person_always_gets_the_same_url(world):
    lucas = world.people["lucas"]
    assert feeds.person_feed_token(lucas) == feeds.person_feed_token(lucas)
    assert feeds.person_feed_token(lucas) != feeds.person_feed_token(world.people["emma"])
    once = feeds.schedule_feed_token(world.schedule, lucas)
    assert once == feeds.schedule_feed_token(world.schedule, lucas)


def test_a_token_for_one_kind_of_feed_opens_no_other(client, world):
    lucas = world.people["lucas"]
    schedule_token = feeds.schedule_feed_token(world.schedule, lucas)
    assert fetch(client, "person_feed", schedule_token).status_code == 404
    assert fetch(client, "schedule_feed", feeds.person_feed_token(lucas)).status_code == 404


def test_a_deactivated_persons_links_stop_working(client, world):
    lucas = world.people["lucas"]
    mine = feeds.person_feed_token(lucas)
    theirs = feeds.schedule_feed_token(world.schedule, lucas)
    lucas.is_active = False
    lucas.save()
    assert fetch(client, "person_feed", mine).status_code == 404
    assert fetch(client, "schedule_feed", theirs).status_code == 404


def test_a_reset_stops_every_link_shown_to_that_person_and_no_one_elses(client, world):
    lucas, emma = world.people["lucas"], world.people["emma"]
    mine = feeds.person_feed_token(lucas)
    theirs = feeds.schedule_feed_token(world.schedule, lucas)
    hers = feeds.schedule_feed_token(world.schedule, emma)
    assert services.feed_links_reset(actor=lucas) == 1
    assert fetch(client, "person_feed", mine).status_code == 404
    assert fetch(client, "schedule_feed", theirs).status_code == 404
    assert fetch(client, "schedule_feed", hers).status_code == 200
    # The new links work, and stay the same until the next reset.
    new_mine = feeds.person_feed_token(lucas)
    new_theirs = feeds.schedule_feed_token(world.schedule, lucas)
    assert new_mine not in (mine, feeds.person_feed_token(emma))
    assert fetch(client, "person_feed", new_mine).status_code == 200
    assert fetch(client, "schedule_feed", new_theirs).status_code == 200
    assert services.feed_links_reset(actor=lucas) == 2
    assert fetch(client, "person_feed", new_mine).status_code == 404


def test_a_reset_from_the_page_returns_there_and_never_off_site(client, world):
    lucas = world.people["lucas"]
    client.force_login(lucas)
    url = reverse("schedule_feed_reset")
    here = reverse("schedule", args=[world.schedule.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"next": here})
    assert response.status_code == 302 and response["Location"] == here
    for elsewhere in ("https://evil.example/", "//evil.example/", "abc"):
        response = client.post(url, {"next": elsewhere})
        assert response["Location"] == reverse("my_shifts")
    lucas.refresh_from_db()
    assert lucas.feed_generation == 4
    client.logout()
    assert client.post(url).status_code == 302  # to the sign-in page
    lucas.refresh_from_db()
    assert lucas.feed_generation == 4


def test_a_feed_of_a_person_with_no_shifts_is_an_empty_calendar(client, world):
    from tests.factories import UserFactory

    nobody = UserFactory(username="visitor")
    response = fetch(client, "person_feed", feeds.person_feed_token(nobody))
    assert events(response) == []
    assert b"BEGIN:VCALENDAR" in response.content
