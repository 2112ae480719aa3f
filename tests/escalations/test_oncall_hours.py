"""Hours on call per person and month, nights and weekends apart: figures worked out by
hand from a printed calendar (Europe/Berlin changes to summer time on Sunday 2026-03-29 at
02:00 and back on Sunday 2026-10-25 at 03:00)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from escalations.rules.oncall_hours import OnCallHours, hours_by_month

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def hours(total, nights, weekends) -> OnCallHours:
    return OnCallHours(total * H, nights * H, weekends * H)


def test_an_ordinary_week_monday_to_monday():
    # Mon 5 Jan 09:00 to Mon 12 Jan 09:00: 168 h; seven nights of 9 h (Mon night to Sun
    # night); the weekend is Sat 00:00 to Mon 00:00, 48 h.
    result = hours_by_month(
        [("ana", berlin(2026, 1, 5, 9), berlin(2026, 1, 12, 9))], zone="Europe/Berlin"
    )
    assert result == {("ana", "2026-01"): hours(168, 63, 48)}


def test_the_spring_forward_week_has_an_hour_less_on_saturday_night():
    # Mon 23 Mar 09:00 CET to Mon 30 Mar 09:00 CEST: 167 real hours. The night of Sat 28
    # to Sun 29 runs 22:00 CET to 07:00 CEST: 8 h. The weekend: 47 h.
    result = hours_by_month(
        [("ana", berlin(2026, 3, 23, 9), berlin(2026, 3, 30, 9))],
        zone="Europe/Berlin",
        month_zone="Europe/Berlin",
    )
    assert result == {("ana", "2026-03"): hours(167, 6 * 9 + 8, 47)}


def test_the_fall_back_week_has_an_hour_more_on_saturday_night():
    # Mon 19 Oct 09:00 CEST to Mon 26 Oct 09:00 CET: 169 h; the night of Sat 24 to Sun 25
    # lasts 10 h (03:00 CEST is 02:00 CET again); the weekend 49 h.
    result = hours_by_month(
        [("ben", berlin(2026, 10, 19, 9), berlin(2026, 10, 26, 9))], zone="Europe/Berlin"
    )
    assert result == {("ben", "2026-10"): hours(169, 6 * 9 + 10, 49)}


def test_the_repeated_hour_itself_is_a_night_hour_counted_once_per_real_hour():
    # 01:30 CEST to 02:30 CET on Sun 25 Oct is two real hours, all night, all weekend.
    start = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # 01:30 CEST
    end = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert hours_by_month([("ben", start, end)], zone=BERLIN) == {
        ("ben", "2026-10"): hours(2, 2, 2)
    }


def test_a_shift_across_the_end_of_a_month_is_split_in_the_readers_zone():
    # Sat 31 Jan 20:00 UTC to Sun 1 Feb 04:00 UTC, on a schedule kept in UTC.
    shift = [("ana", datetime(2026, 1, 31, 20, tzinfo=UTC), datetime(2026, 2, 1, 4, tzinfo=UTC))]
    assert hours_by_month(shift, zone="UTC", month_zone="UTC") == {
        ("ana", "2026-01"): hours(4, 2, 4),
        ("ana", "2026-02"): hours(4, 4, 4),
    }
    # Read in Berlin, February begins at 23:00 UTC: 3 h in January (one of them a night
    # hour on the schedule's UTC clock), 5 h in February.
    assert hours_by_month(shift, zone="UTC", month_zone="Europe/Berlin") == {
        ("ana", "2026-01"): hours(3, 1, 3),
        ("ana", "2026-02"): hours(5, 5, 5),
    }


def test_nights_and_weekends_follow_the_schedules_zone_not_utc():
    # 12:00-18:00 UTC on Fri 9 Jan is 07:00-13:00 in New York: no night, no weekend; in
    # Tokyo 21:00-03:00 Saturday: 5 night hours, 3 on Saturday.
    start, end = datetime(2026, 1, 9, 12, tzinfo=UTC), datetime(2026, 1, 9, 18, tzinfo=UTC)
    assert hours_by_month([("x", start, end)], zone="America/New_York") == {
        ("x", "2026-01"): hours(6, 0, 0)
    }
    assert hours_by_month([("x", start, end)], zone="Asia/Tokyo") == {
        ("x", "2026-01"): hours(6, 5, 3)
    }


def test_people_are_counted_apart_and_their_shifts_add_up():
    shifts = [
        ("ana", berlin(2026, 1, 5, 9), berlin(2026, 1, 5, 17)),  # Monday, day: 8 h
        ("ben", berlin(2026, 1, 5, 17), berlin(2026, 1, 6, 9)),  # 16 h, 9 of them night
        ("ana", berlin(2026, 1, 10, 9), berlin(2026, 1, 10, 12)),  # Saturday morning: 3 h
        ("ana", berlin(2026, 1, 10, 12), berlin(2026, 1, 10, 12)),  # empty: nothing
    ]
    assert hours_by_month(shifts, zone=BERLIN) == {
        ("ana", "2026-01"): hours(11, 0, 3),
        ("ben", "2026-01"): hours(16, 9, 0),
    }


def test_the_night_window_can_be_chosen():
    result = hours_by_month(
        [("ana", berlin(2026, 1, 5, 0), berlin(2026, 1, 6, 0))],
        zone=BERLIN,
        night=(time(20), time(8)),
    )
    assert result == {("ana", "2026-01"): hours(24, 12, 0)}
    with pytest.raises(ValueError, match="same time"):
        hours_by_month([], zone=BERLIN, night=(time(8), time(8)))


def test_naive_and_backwards_shifts_are_refused():
    with pytest.raises(ValueError, match="naive"):
        hours_by_month([("a", datetime(2026, 1, 1), berlin(2026, 1, 2))], zone=BERLIN)
    with pytest.raises(ValueError, match="before start"):
        hours_by_month([("a", berlin(2026, 1, 2), berlin(2026, 1, 1))], zone=BERLIN)
