"""Our own cases for escalations.rules.business_time: spec handling, conventions, DST, pauses.

Reference cases from other libraries live in test_business_time_reference.py; the
hypothesis properties in test_business_time_properties.py. Expected values here are worked
out by hand in the comments.
"""

from __future__ import annotations

import ast
import dataclasses
import pickle
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from escalations.rules import business_time
from escalations.rules.business_time import BusinessCalendar, Pause, TimeBreakdown

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

CONTRACT_SPEC = {
    "timezone": "Europe/Berlin",
    "hours": {"mon": ["09:00-17:00"], "tue": ["08:00-12:00", "13:00-17:00"]},
    "holidays": ["2015-09-22"],
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def H(n: float) -> timedelta:
    return timedelta(hours=n)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def office(tz: str = "Europe/Berlin", holidays: tuple[str, ...] = ()) -> BusinessCalendar:
    """Mon-Fri 09:00-17:00."""
    return BusinessCalendar.from_spec(
        {"timezone": tz, "hours": {d: ["09:00-17:00"] for d in WEEKDAYS}, "holidays": holidays}
    )


def lunch_office(tz: str = "Europe/Berlin") -> BusinessCalendar:
    """Mon-Fri 09:00-12:00 and 13:00-17:00."""
    return BusinessCalendar.from_spec(
        {"timezone": tz, "hours": {d: ["09:00-12:00", "13:00-17:00"] for d in WEEKDAYS}}
    )


# --------------------------------------------------------------------------- spec


class TestSpec:
    def test_contract_example_round_trips_canonically(self) -> None:
        calendar = BusinessCalendar.from_spec(CONTRACT_SPEC)
        assert calendar.to_spec() == CONTRACT_SPEC
        assert BusinessCalendar.from_spec(calendar.to_spec()) == calendar

    def test_canonical_form_orders_days_merges_and_sorts(self) -> None:
        calendar = BusinessCalendar.from_spec(
            {
                "timezone": "UTC",
                "hours": {
                    "Friday": ["13:00-17:00", "08:00-12:00", "12:00-13:00"],
                    "mon": ["9:00-17:30:15"],
                    "sat": [],
                    "sun": None,
                },
                "holidays": ["2025-12-26", date(2025, 12, 25), "2025-12-26"],
            }
        )
        spec = calendar.to_spec()
        assert spec == {
            "timezone": "UTC",
            "hours": {"mon": ["09:00-17:30:15"], "fri": ["08:00-17:00"]},
            "holidays": ["2025-12-25", "2025-12-26"],
        }
        assert list(spec["hours"]) == ["mon", "fri"]

    def test_round_the_clock_is_kept_as_string(self) -> None:
        calendar = BusinessCalendar.from_spec({"timezone": "UTC", "hours": "24/7"})
        assert calendar.to_spec() == {"timezone": "UTC", "hours": "24/7", "holidays": []}
        assert calendar.is_round_the_clock

    def test_every_day_whole_day_equals_round_the_clock(self) -> None:
        spelled_out = BusinessCalendar.from_spec(
            {
                "timezone": "UTC",
                "hours": {d: ["00:00-24:00"] for d in business_time.DAY_KEYS},
            }
        )
        assert spelled_out == BusinessCalendar.from_spec({"timezone": "UTC", "hours": "24/7"})
        assert spelled_out.to_spec()["hours"] == "24/7"

    def test_equality_and_hash(self) -> None:
        a = BusinessCalendar.from_spec(CONTRACT_SPEC)
        b = BusinessCalendar.from_spec(dict(CONTRACT_SPEC))
        c = BusinessCalendar.from_spec({**CONTRACT_SPEC, "holidays": []})
        d = BusinessCalendar.from_spec({**CONTRACT_SPEC, "timezone": "Europe/Paris"})
        assert a == b and hash(a) == hash(b)
        assert a != c and a != d
        assert len({a, b, c, d}) == 3

    def test_calendar_is_immutable_and_picklable(self) -> None:
        calendar = BusinessCalendar.from_spec(CONTRACT_SPEC)
        with pytest.raises(dataclasses.FrozenInstanceError):
            calendar.timezone = "UTC"  # type: ignore[misc]
        calendar.add(berlin(2015, 9, 21, 10), H(1))  # fill the cache first
        clone = pickle.loads(pickle.dumps(calendar))
        assert clone == calendar
        assert clone.add(berlin(2015, 9, 21, 16), H(2)) == calendar.add(
            berlin(2015, 9, 21, 16), H(2)
        )

    def test_repr_is_the_spec(self) -> None:
        calendar = BusinessCalendar.from_spec(CONTRACT_SPEC)
        assert repr(calendar) == f"BusinessCalendar.from_spec({CONTRACT_SPEC!r})"

    def test_with_holidays_adds_days(self) -> None:
        calendar = office().with_holidays([date(2025, 12, 25), "2025-12-26"])
        assert calendar.to_spec()["holidays"] == ["2025-12-25", "2025-12-26"]
        assert calendar == office(holidays=("2025-12-25", "2025-12-26"))

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            (
                {"timezone": "UTC", "hours": {"tue": ["08:00-12:00", "13:00-12:00"]}},
                'hours.tue[1]: "13:00-12:00" ends before it starts',
            ),
            (
                {"timezone": "Mars/Base", "hours": "24/7"},
                'timezone: unknown time zone "Mars/Base"',
            ),
            (
                {
                    "timezone": "UTC",
                    "hours": "24/7",
                    "holidays": ["2015-01-01", "2015-02-01", "2015-02-30"],
                },
                'holidays[2]: "2015-02-30" is not a date',
            ),
            (
                {"timezone": "UTC", "hours": {"mondays": ["09:00-17:00"]}},
                'hours: unknown day "mondays"',
            ),
            (
                {"timezone": "UTC", "hours": {"mon": ["09:00-12:00", "11:00-13:00"]}},
                'hours.mon[1]: "11:00-13:00" overlaps "09:00-12:00"',
            ),
            (
                {"timezone": "UTC", "hours": {"mon": ["11:00-13:00", "09:00-12:00"]}},
                'hours.mon[1]: "09:00-12:00" overlaps "11:00-13:00"',
            ),
            (
                {"timezone": "UTC", "hours": {"mon": ["08:00-18:00", "09:00-10:00"]}},
                'hours.mon[1]: "09:00-10:00" overlaps "08:00-18:00"',
            ),
            ({"timezone": "UTC", "hours": {"mon": ["12:00-12:00"]}}, '"12:00-12:00" is empty'),
            ({"timezone": "UTC", "hours": {"mon": ["22:00-06:00"]}}, "ends before it starts"),
            ({"timezone": "UTC", "hours": {"mon": ["24:00-24:00"]}}, "24:00 may only end"),
            ({"timezone": "UTC", "hours": {"mon": ["09:00-25:00"]}}, '"25:00" is not a time'),
            ({"timezone": "UTC", "hours": {"mon": ["09:60-10:00"]}}, '"09:60" is not a time'),
            ({"timezone": "UTC", "hours": {"mon": ["24:30-24:45"]}}, '"24:30" is not a time'),
            (
                {"timezone": "UTC", "hours": {"mon": ["9-17"]}},
                'hours.mon[0]: "9-17" is not a range',
            ),
            ({"timezone": "UTC", "hours": {"mon": [9]}}, "hours.mon[0]: expected a"),
            ({"timezone": "UTC", "hours": {"mon": "09:00-17:00"}}, "hours.mon: expected a list"),
            (
                {"timezone": "UTC", "hours": {"mon": {"09:00": "17:00"}}},
                "hours.mon: expected a list",
            ),
            ({"timezone": "UTC", "hours": ["09:00-17:00"]}, "hours: expected a mapping"),
            ({"timezone": "UTC", "hours": "9 to 5"}, 'hours: expected a mapping of days or "24/7"'),
            ({"timezone": "UTC", "hours": {1: ["09:00-17:00"]}}, "hours: day keys must be strings"),
            (
                {"timezone": "UTC", "hours": {"mon": ["09:00-17:00"], "Monday": []}},
                'hours: day "Monday" given twice',
            ),
            ({"timezone": "UTC", "hours": {"sat": []}}, "hours: no opening hours"),
            ({"timezone": "UTC", "hours": {}}, "hours: no opening hours"),
            ({"hours": "24/7"}, "timezone: missing"),
            ({"timezone": "UTC"}, "hours: missing"),
            ({"timezone": 1, "hours": "24/7"}, "timezone: expected an IANA zone name"),
            ({"timezone": "", "hours": "24/7"}, "timezone: expected an IANA zone name"),
            ({"timezone": "../etc/passwd", "hours": "24/7"}, "timezone: unknown time zone"),
            ({"timezone": "Europe", "hours": "24/7"}, "timezone: unknown time zone"),
            ({"timezone": "UTC", "hours": "24/7", "holiday": []}, 'spec: unknown key "holiday"'),
            ({"timezone": "UTC", "hours": "24/7", "holidays": "2015-01-01"}, "holidays: expected"),
            ({"timezone": "UTC", "hours": "24/7", "holidays": [20150101]}, "holidays[0]: expected"),
            ({"timezone": "UTC", "hours": "24/7", "holidays": ["1.1.2015"]}, "holidays[0]"),
            (
                {"timezone": "UTC", "hours": "24/7", "holidays": [datetime(2015, 1, 1)]},
                "holidays[0]: datetime.datetime(2015, 1, 1, 0, 0) is a datetime",
            ),
            ([("timezone", "UTC")], "spec: expected a mapping"),
        ],
    )
    def test_invalid_specs_name_the_offending_part(self, spec: object, message: str) -> None:
        with pytest.raises(ValueError) as excinfo:
            BusinessCalendar.from_spec(spec)  # type: ignore[arg-type]
        assert message in str(excinfo.value)

    def test_direct_constructor_is_guarded(self) -> None:
        with pytest.raises(ValueError, match="week"):
            BusinessCalendar("UTC", ((), (), (), (), (), (), ()))
        with pytest.raises(ValueError, match="week"):
            BusinessCalendar("UTC", (((10, 5),), (), (), (), (), (), ()))
        with pytest.raises(ValueError, match="unknown time zone"):
            BusinessCalendar("Nowhere/City", (((0, 10),), (), (), (), (), (), ()))


# --------------------------------------------------------------------------- add / elapsed


class TestAddAndElapsed:
    calendar = BusinessCalendar.from_spec(CONTRACT_SPEC)

    def test_contract_example(self) -> None:
        # Mon 2015-09-21 16:00 CEST + 2h: 1h on Monday, Tuesday the 22nd is a holiday,
        # nothing Wed-Sun, so the second hour is Monday 28th 09:00-10:00.
        start = berlin(2015, 9, 21, 16)
        assert self.calendar.add(start, H(1)) == utc(2015, 9, 21, 15)
        assert self.calendar.add(start, H(2)) == berlin(2015, 9, 28, 10)
        assert self.calendar.elapsed(start, berlin(2015, 9, 28, 10)) == H(2)

    def test_results_are_aware_utc(self) -> None:
        result = self.calendar.add(berlin(2015, 9, 21, 10), H(1))
        assert result is not None
        assert result.tzinfo is UTC
        assert result == utc(2015, 9, 21, 9)

    def test_counting_begins_at_next_opening(self) -> None:
        # Sunday evening: the first hour is Monday 09:00-10:00.
        assert self.calendar.add(berlin(2015, 9, 20, 20), H(1)) == berlin(2015, 9, 21, 10)
        # Before opening on the same day.
        assert self.calendar.add(berlin(2015, 9, 21, 6), H(1)) == berlin(2015, 9, 21, 10)

    def test_deadline_on_closing_time_is_that_closing_time(self) -> None:
        assert self.calendar.add(berlin(2015, 9, 21, 9), H(8)) == berlin(2015, 9, 21, 17)
        assert self.calendar.add(berlin(2015, 9, 21, 16), H(1)) == berlin(2015, 9, 21, 17)
        # ... and one more second spills over to the next open day: Tuesday 22nd is a
        # holiday and Wed-Sun are closed, so Monday 28th at 09:00:01.
        later = self.calendar.add(berlin(2015, 9, 21, 9), H(8) + timedelta(seconds=1))
        assert later == berlin(2015, 9, 28, 9, 0, 1)

    def test_lunch_break(self) -> None:
        # Tue 29th 11:00 + 2h: 11-12, lunch, 13-14.
        assert self.calendar.add(berlin(2015, 9, 29, 11), H(2)) == berlin(2015, 9, 29, 14)
        # Deadline landing at the start of lunch stays there.
        assert self.calendar.add(berlin(2015, 9, 29, 11), H(1)) == berlin(2015, 9, 29, 12)
        # Starting during lunch counts from 13:00.
        assert self.calendar.add(berlin(2015, 9, 29, 12, 30), H(1)) == berlin(2015, 9, 29, 14)
        assert self.calendar.elapsed(berlin(2015, 9, 29, 8), berlin(2015, 9, 29, 17)) == H(8)

    def test_zero_duration_returns_start_even_when_closed(self) -> None:
        closed = berlin(2015, 9, 20, 20, 15, 30, 999_999)
        assert self.calendar.add(closed, timedelta(0)) == utc(2015, 9, 20, 18, 15, 30)
        assert self.calendar.add(berlin(2015, 9, 21, 10), timedelta(0)) == utc(2015, 9, 21, 8)
        # The moment business time resumes is next_opening's job.
        assert self.calendar.next_opening(closed) == berlin(2015, 9, 21, 9)

    def test_inputs_in_any_zone(self) -> None:
        start_ny = new_york(2015, 9, 21, 10)  # 16:00 in Berlin
        assert self.calendar.add(start_ny, H(1)) == berlin(2015, 9, 21, 17)

    def test_microseconds_are_floored(self) -> None:
        start = berlin(2015, 9, 21, 9, 0, 0, 900_000)
        assert self.calendar.add(start, H(1) + timedelta(microseconds=999_999)) == berlin(
            2015, 9, 21, 10
        )
        assert self.calendar.elapsed(start, berlin(2015, 9, 21, 9, 0, 1, 100_000)) == timedelta(
            seconds=1
        )
        assert self.calendar.elapsed(start, berlin(2015, 9, 21, 9, 0, 0, 950_000)) == timedelta(0)

    def test_long_spans(self) -> None:
        calendar = office(holidays=("2025-12-25", "2025-12-26", "2026-01-01"))
        start = berlin(2025, 1, 1)
        # 2025 has 261 weekdays; Christmas 25/26 fall on weekdays: 259 working days.
        assert calendar.elapsed(start, berlin(2026, 1, 1)) == H(259 * 8)
        deadline = calendar.add(start, H(259 * 8))
        assert deadline == berlin(2025, 12, 31, 17)
        assert calendar.elapsed(start, berlin(2035, 1, 1)) == calendar.elapsed(
            start, berlin(2030, 6, 1)
        ) + calendar.elapsed(berlin(2030, 6, 1), berlin(2035, 1, 1))

    def test_elapsed_zero_and_closed_spans(self) -> None:
        assert self.calendar.elapsed(berlin(2015, 9, 21, 10), berlin(2015, 9, 21, 10)) == H(0)
        assert self.calendar.elapsed(berlin(2015, 9, 23), berlin(2015, 9, 28)) == H(0)
        # The holiday closes Tuesday the 22nd entirely.
        assert self.calendar.elapsed(berlin(2015, 9, 22), berlin(2015, 9, 23)) == H(0)

    def test_errors(self) -> None:
        with pytest.raises(ValueError, match="start: naive datetime"):
            self.calendar.add(datetime(2015, 9, 21, 10), H(1))
        with pytest.raises(ValueError, match="end: naive datetime"):
            self.calendar.elapsed(berlin(2015, 9, 21, 10), datetime(2015, 9, 21, 11))
        with pytest.raises(ValueError, match="duration: must not be negative"):
            self.calendar.add(berlin(2015, 9, 21, 10), H(-1))
        with pytest.raises(TypeError, match="duration: expected a timedelta"):
            self.calendar.add(berlin(2015, 9, 21, 10), 3600)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="start: expected an aware datetime"):
            self.calendar.add(date(2015, 9, 21), H(1))  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="is before start"):
            self.calendar.elapsed(berlin(2015, 9, 21, 11), berlin(2015, 9, 21, 10))
        with pytest.raises(ValueError, match="is before start"):
            self.calendar.explain(berlin(2015, 9, 21, 11), berlin(2015, 9, 21, 10))
        count = self.calendar.count_from(berlin(2015, 9, 21, 11))
        with pytest.raises(ValueError, match="is before start"):
            count.elapsed(berlin(2015, 9, 21, 10))
        with pytest.raises(ValueError, match="end: naive datetime"):
            count.elapsed(datetime(2015, 9, 21, 12))
        with pytest.raises(ValueError, match="duration: must not be negative"):
            count.add_many([H(1), H(-1)])
        with pytest.raises(ValueError, match="start: naive datetime"):
            self.calendar.count_from(datetime(2015, 9, 21, 10))


# --------------------------------------------------------------------------- pauses


class TestPauses:
    calendar = office()  # Mon-Fri 09:00-17:00 Berlin
    monday = staticmethod(lambda h, m=0: berlin(2025, 6, 2, h, m))

    def test_pause_inside_hours_moves_the_deadline(self) -> None:
        start = self.monday(9)
        pauses = [(self.monday(10), self.monday(11))]
        assert self.calendar.add(start, H(2), pauses) == self.monday(12)
        assert self.calendar.elapsed(start, self.monday(12), pauses) == H(2)
        assert self.calendar.elapsed(start, self.monday(12)) == H(3)

    def test_overlapping_unsorted_pauses_equal_their_union(self) -> None:
        start = self.monday(9)
        messy = [
            Pause(self.monday(13), self.monday(14)),
            (self.monday(10), self.monday(11, 30)),
            (self.monday(11), self.monday(12)),
            (self.monday(13, 30), self.monday(13, 45)),
            (self.monday(12), self.monday(12)),  # empty
        ]
        union = [(self.monday(10), self.monday(12)), (self.monday(13), self.monday(14))]
        assert self.calendar.add(start, H(4), messy) == self.calendar.add(start, H(4), union)
        assert self.calendar.add(start, H(4), union) == self.monday(16)
        assert self.calendar.elapsed(start, self.monday(17), messy) == H(5)

    def test_pause_starting_before_start(self) -> None:
        pauses = [(berlin(2025, 5, 30, 12), self.monday(10))]  # from last Friday
        assert self.calendar.add(self.monday(9), H(1), pauses) == self.monday(11)
        # Only the part after start matters.
        assert self.calendar.elapsed(self.monday(9), self.monday(17), pauses) == H(7)

    def test_pause_over_night_and_weekend_only_costs_business_time(self) -> None:
        # Fri 2025-06-06 16:00 until Mon 2025-06-09 10:00: costs Fri 1h + Mon 1h.
        start = berlin(2025, 6, 6, 9)
        pauses = [(berlin(2025, 6, 6, 16), berlin(2025, 6, 9, 10))]
        assert self.calendar.add(start, H(8), pauses) == berlin(2025, 6, 9, 11)
        assert self.calendar.elapsed(start, berlin(2025, 6, 9, 11), pauses) == H(8)
        breakdown = self.calendar.explain(start, berlin(2025, 6, 9, 11), pauses)
        assert breakdown.paused == H(2)
        assert breakdown.business == H(8)
        assert breakdown.closed == H(64)  # Fri 17:00 -> Mon 09:00

    def test_pause_outside_hours_changes_nothing(self) -> None:
        start = berlin(2025, 6, 6, 15)
        pauses = [(berlin(2025, 6, 6, 18), berlin(2025, 6, 9, 8))]
        assert self.calendar.add(start, H(4), pauses) == self.calendar.add(start, H(4))

    def test_pause_starting_at_the_deadline_does_not_move_it(self) -> None:
        pauses = [(self.monday(11), self.monday(15))]
        assert self.calendar.add(self.monday(9), H(2), pauses) == self.monday(11)
        assert self.calendar.add(self.monday(9), H(2) + timedelta(seconds=1), pauses) == (
            self.monday(15, 0) + timedelta(seconds=1)
        )

    def test_open_ended_pause(self) -> None:
        pauses = [(self.monday(10), None)]
        # Not reachable: the deadline is unknown while the pause lasts.
        assert self.calendar.add(self.monday(9), H(2), pauses) is None
        # Reachable before the pause starts.
        assert self.calendar.add(self.monday(9), H(1), pauses) == self.monday(10)
        assert self.calendar.add(self.monday(9), timedelta(0), pauses) == self.monday(9)
        # elapsed counts nothing after its start.
        assert self.calendar.elapsed(self.monday(9), berlin(2025, 6, 20), pauses) == H(1)
        # An open-ended pause that started earlier still blocks everything.
        early = [(berlin(2025, 5, 1), None), (self.monday(12), self.monday(13))]
        assert self.calendar.add(self.monday(9), H(1), early) is None
        assert self.calendar.elapsed(self.monday(9), self.monday(17), early) == H(0)

    def test_open_ended_pause_merged_with_earlier_pause(self) -> None:
        pauses = [(self.monday(10), self.monday(12)), (self.monday(11), None)]
        assert self.calendar.elapsed(self.monday(9), self.monday(17), pauses) == H(1)
        assert self.calendar.add(self.monday(9), H(1), pauses) == self.monday(10)
        assert self.calendar.add(self.monday(9), H(1) + timedelta(seconds=1), pauses) is None

    @pytest.mark.parametrize(
        ("pauses", "message"),
        [
            ([(berlin(2025, 6, 2, 10), datetime(2025, 6, 2, 11))], r"pauses\[0\]\.end: naive"),
            ([("x", "y"), (datetime(2025, 6, 2, 10), None)], r"pauses\[0\]\.start: expected"),
            (
                [(berlin(2025, 6, 2, 10), None), (datetime(2025, 6, 2, 10), None)],
                r"pauses\[1\]\.start: naive",
            ),
            (
                [(berlin(2025, 6, 2, 11), berlin(2025, 6, 2, 10))],
                r"pauses\[0\]: ends before it starts",
            ),
            ([(berlin(2025, 6, 2, 11),)], r"pauses\[0\]: expected a \(start, end\) pair"),
            ([None], r"pauses\[0\]: expected a \(start, end\) pair"),
        ],
    )
    def test_invalid_pauses(self, pauses: list[object], message: str) -> None:
        with pytest.raises((ValueError, TypeError), match=message):
            self.calendar.add(self.monday(9), H(1), pauses)  # type: ignore[arg-type]
        with pytest.raises((ValueError, TypeError), match=message):
            self.calendar.elapsed(self.monday(9), self.monday(17), pauses)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- DST


class TestDaylightSaving:
    """Berlin: last Sunday of March (02:00 -> 03:00) and of October (03:00 -> 02:00).
    New York: second Sunday of March (02:00 -> 03:00), first Sunday of November
    (02:00 -> 01:00)."""

    def test_whole_day_is_real_time_23h_and_25h_berlin(self) -> None:
        calendar = BusinessCalendar.from_spec({"timezone": "Europe/Berlin", "hours": "24/7"})
        assert calendar.elapsed(berlin(2025, 3, 30), berlin(2025, 3, 31)) == H(23)
        assert calendar.elapsed(berlin(2025, 10, 26), berlin(2025, 10, 27)) == H(25)
        sundays = BusinessCalendar.from_spec(
            {"timezone": "Europe/Berlin", "hours": {"sun": ["00:00-24:00"]}}
        )
        assert sundays.elapsed(berlin(2025, 3, 24), berlin(2025, 3, 31)) == H(23)
        assert sundays.elapsed(berlin(2025, 10, 20), berlin(2025, 10, 27)) == H(25)
        # 23 hours from Saturday noon ends exactly at Monday 00:00 (a closing time).
        assert sundays.add(berlin(2025, 3, 29, 12), H(23)) == berlin(2025, 3, 31)
        assert sundays.add(berlin(2025, 10, 25, 12), H(25)) == berlin(2025, 10, 27)

    def test_whole_day_is_real_time_23h_and_25h_new_york(self) -> None:
        calendar = BusinessCalendar.from_spec({"timezone": "America/New_York", "hours": "24/7"})
        assert calendar.elapsed(new_york(2024, 3, 10), new_york(2024, 3, 11)) == H(23)
        assert calendar.elapsed(new_york(2024, 11, 3), new_york(2024, 11, 4)) == H(25)
        assert calendar.add(new_york(2024, 3, 10), H(23)) == new_york(2024, 3, 11)

    def test_office_hours_on_dst_sundays_stay_8h(self) -> None:
        calendar = BusinessCalendar.from_spec(
            {"timezone": "Europe/Berlin", "hours": {"sun": ["09:00-17:00"]}}
        )
        for day in (date(2025, 3, 30), date(2025, 10, 26)):
            start = berlin(day.year, day.month, day.day)
            assert calendar.elapsed(start, start + timedelta(days=1)) == H(8)
            assert calendar.add(start, H(8)) == berlin(day.year, day.month, day.day, 17)

    def test_range_containing_the_change_counts_real_time(self) -> None:
        calendar = BusinessCalendar.from_spec(
            {"timezone": "Europe/Berlin", "hours": {"sun": ["01:00-04:00"]}}
        )
        # Spring: 01:00 CET (00:00Z) to 04:00 CEST (02:00Z) is 2h.
        assert calendar.elapsed(berlin(2025, 3, 30), berlin(2025, 3, 31)) == H(2)
        assert list(calendar.intervals(berlin(2025, 3, 30), berlin(2025, 3, 31))) == [
            (utc(2025, 3, 30, 0), utc(2025, 3, 30, 2))
        ]
        # Autumn: 01:00 CEST (23:00Z Sat) to 04:00 CET (03:00Z) is 4h.
        assert calendar.elapsed(berlin(2025, 10, 26), berlin(2025, 10, 27)) == H(4)
        ny = BusinessCalendar.from_spec(
            {"timezone": "America/New_York", "hours": {"sun": ["00:00-05:00"]}}
        )
        assert ny.elapsed(new_york(2024, 3, 10), new_york(2024, 3, 11)) == H(4)
        assert ny.elapsed(new_york(2024, 11, 3), new_york(2024, 11, 4)) == H(6)

    def test_nonexistent_time_maps_to_the_end_of_the_gap(self) -> None:
        calendar = BusinessCalendar.from_spec(
            {"timezone": "Europe/Berlin", "hours": {"sun": ["02:30-03:30"]}}
        )
        # 02:30 does not exist on 2025-03-30: opening is 03:00 CEST = 01:00Z.
        assert list(calendar.intervals(berlin(2025, 3, 29), berlin(2025, 3, 31))) == [
            (utc(2025, 3, 30, 1), utc(2025, 3, 30, 1, 30))
        ]
        assert calendar.next_opening(berlin(2025, 3, 30)) == utc(2025, 3, 30, 1)
        ny = BusinessCalendar.from_spec(
            {"timezone": "America/New_York", "hours": {"sun": ["02:30-03:15"]}}
        )
        assert list(ny.intervals(new_york(2024, 3, 10), new_york(2024, 3, 11))) == [
            (utc(2024, 3, 10, 7), utc(2024, 3, 10, 7, 15))  # 03:00-03:15 EDT
        ]

    def test_range_entirely_inside_the_gap_is_closed(self) -> None:
        calendar = BusinessCalendar.from_spec(
            {"timezone": "Europe/Berlin", "hours": {"sun": ["02:10-02:50"]}}
        )
        assert calendar.elapsed(berlin(2025, 3, 30), berlin(2025, 3, 31)) == H(0)
        assert calendar.elapsed(berlin(2025, 4, 6), berlin(2025, 4, 7)) == timedelta(minutes=40)
        assert calendar.next_opening(berlin(2025, 3, 29)) == berlin(2025, 4, 6, 2, 10)

    def test_ambiguous_time_means_first_occurrence(self) -> None:
        calendar = BusinessCalendar.from_spec(
            {"timezone": "Europe/Berlin", "hours": {"sun": ["02:30-04:00"]}}
        )
        # 02:30 happens twice on 2025-10-26; the first one is CEST (00:30Z).
        assert list(calendar.intervals(berlin(2025, 10, 26), berlin(2025, 10, 27))) == [
            (utc(2025, 10, 26, 0, 30), utc(2025, 10, 26, 3))
        ]
        assert calendar.elapsed(berlin(2025, 10, 26), berlin(2025, 10, 27)) == H(2.5)

    def test_overnight_shift_written_as_two_ranges(self) -> None:
        # Saturday night shift 22:00-06:00 in New York, across both changes.
        calendar = BusinessCalendar.from_spec(
            {
                "timezone": "America/New_York",
                "hours": {"sat": ["22:00-24:00"], "sun": ["00:00-06:00"]},
            }
        )
        spring = list(calendar.intervals(new_york(2024, 3, 9), new_york(2024, 3, 11)))
        assert spring == [(new_york(2024, 3, 9, 22), new_york(2024, 3, 10, 6))]  # one interval
        assert spring[0][1] - spring[0][0] == H(7)
        assert calendar.elapsed(new_york(2024, 11, 2), new_york(2024, 11, 4)) == H(9)
        # The deadline lands exactly at the 06:00 closing time.
        assert calendar.add(new_york(2024, 3, 9, 21), H(7)) == new_york(2024, 3, 10, 6)
        assert calendar.add(new_york(2024, 11, 2, 21), H(9)) == new_york(2024, 11, 3, 6)
        # Crossing midnight inside the shift.
        assert calendar.add(new_york(2024, 6, 1, 23), H(2)) == new_york(2024, 6, 2, 1)
        assert calendar.is_open(new_york(2024, 6, 2, 0))
        # Berlin, same idea.
        berlin_shift = BusinessCalendar.from_spec(
            {"timezone": "Europe/Berlin", "hours": {"sat": ["22:00-24:00"], "sun": ["00:00-06:00"]}}
        )
        assert berlin_shift.elapsed(berlin(2025, 3, 29), berlin(2025, 3, 31)) == H(7)
        assert berlin_shift.elapsed(berlin(2025, 10, 25), berlin(2025, 10, 27)) == H(9)

    def test_office_week_across_the_change(self) -> None:
        calendar = office()
        # Fri 2025-03-28 16:00 CET (15:00Z) + 2h -> Mon 2025-03-31 10:00 CEST (08:00Z).
        assert calendar.add(berlin(2025, 3, 28, 16), H(2)) == utc(2025, 3, 31, 8)
        ny = office("America/New_York")
        # Fri 2024-11-01 16:00 EDT + 2h -> Mon 2024-11-04 10:00 EST (15:00Z).
        assert ny.add(new_york(2024, 11, 1, 16), H(2)) == utc(2024, 11, 4, 15)
        assert ny.elapsed(new_york(2024, 10, 28), new_york(2024, 11, 4)) == H(40)

    def test_holiday_on_a_dst_day(self) -> None:
        calendar = BusinessCalendar.from_spec(
            {"timezone": "Europe/Berlin", "hours": "24/7", "holidays": ["2025-03-30"]}
        )
        breakdown = calendar.explain(berlin(2025, 3, 29, 12), berlin(2025, 3, 31, 12))
        assert breakdown.holiday == H(23)
        assert breakdown.business == H(24)
        assert breakdown.total == H(47)


# --------------------------------------------------------------------------- helpers


class TestOpenAndNextOpening:
    calendar = BusinessCalendar.from_spec(CONTRACT_SPEC)

    def test_is_open_is_half_open(self) -> None:
        assert self.calendar.is_open(berlin(2015, 9, 21, 9))
        assert self.calendar.is_open(berlin(2015, 9, 21, 16, 59, 59, 999_999))
        assert not self.calendar.is_open(berlin(2015, 9, 21, 17))
        assert not self.calendar.is_open(berlin(2015, 9, 21, 8, 59, 59))
        assert not self.calendar.is_open(berlin(2015, 9, 29, 12, 30))  # lunch
        assert not self.calendar.is_open(berlin(2015, 9, 22, 10))  # holiday
        assert not self.calendar.is_open(berlin(2015, 9, 23, 10))  # Wednesday: not listed

    def test_next_opening(self) -> None:
        assert self.calendar.next_opening(berlin(2015, 9, 21, 10, 30)) == berlin(
            2015, 9, 21, 10, 30
        )
        assert self.calendar.next_opening(berlin(2015, 9, 21, 17)) == berlin(2015, 9, 28, 9)
        assert self.calendar.next_opening(berlin(2015, 9, 29, 12)) == berlin(2015, 9, 29, 13)
        assert self.calendar.next_opening(berlin(2015, 12, 31, 18)) == berlin(2016, 1, 4, 9)
        result = self.calendar.next_opening(new_york(2015, 9, 21, 4, 30))  # 10:30 Berlin
        assert result == berlin(2015, 9, 21, 10, 30) and result.tzinfo is UTC

    def test_round_the_clock_is_always_open(self) -> None:
        calendar = BusinessCalendar.from_spec({"timezone": "UTC", "hours": "24/7"})
        for hour in range(0, 24, 5):
            assert calendar.is_open(utc(2025, 1, 1, hour))
        assert calendar.add(utc(2025, 1, 1), timedelta(days=30)) == utc(2025, 1, 31)

    def test_intervals_are_clipped_and_merged(self) -> None:
        calendar = BusinessCalendar.from_spec(
            {"timezone": "UTC", "hours": {"mon": ["20:00-24:00"], "tue": ["00:00-02:00"]}}
        )
        assert list(calendar.intervals(utc(2025, 6, 2, 21), utc(2025, 6, 3, 1))) == [
            (utc(2025, 6, 2, 21), utc(2025, 6, 3, 1))
        ]
        # Across a month boundary (months are cached separately).
        month_end = BusinessCalendar.from_spec({"timezone": "UTC", "hours": "24/7"})
        assert list(month_end.intervals(utc(2025, 1, 30), utc(2025, 2, 2))) == [
            (utc(2025, 1, 30), utc(2025, 2, 2))
        ]
        assert list(calendar.intervals(utc(2025, 6, 4), utc(2025, 6, 4))) == []


class TestExplain:
    calendar = office(holidays=("2025-06-03",))  # Tuesday is a holiday

    def test_breakdown_shows_what_moved_the_deadline(self) -> None:
        start = berlin(2025, 6, 2, 16)  # Monday
        pauses = [(berlin(2025, 6, 4, 9), berlin(2025, 6, 4, 11))]
        deadline = self.calendar.add(start, H(2), pauses)
        assert deadline == berlin(2025, 6, 4, 12)
        breakdown = self.calendar.explain(start, deadline, pauses)  # type: ignore[arg-type]
        assert breakdown == TimeBreakdown(business=H(2), closed=H(16), holiday=H(24), paused=H(2))
        assert breakdown.total == deadline - start  # type: ignore[operator]
        assert breakdown.as_seconds() == {
            "business": 7200,
            "closed": 57600,
            "holiday": 86400,
            "paused": 7200,
        }

    def test_calendar_takes_precedence_over_pauses(self) -> None:
        start = berlin(2025, 6, 2, 16)
        # Paused from Monday 16:00 until Wednesday 10:00: only the business hours it
        # covered (Mon 1h, Wed 1h) are "paused"; the night and the holiday keep their names.
        pauses = [(start, berlin(2025, 6, 4, 10))]
        breakdown = self.calendar.explain(start, berlin(2025, 6, 4, 12), pauses)
        assert breakdown == TimeBreakdown(business=H(2), closed=H(16), holiday=H(24), paused=H(2))

    def test_open_ended_pause_and_microseconds(self) -> None:
        start = berlin(2025, 6, 2, 9, 0, 0, 500_000)
        end = berlin(2025, 6, 2, 18, 0, 0, 250_000)
        breakdown = self.calendar.explain(start, end, [(berlin(2025, 6, 2, 15), None)])
        assert breakdown == TimeBreakdown(business=H(6), closed=H(1), holiday=H(0), paused=H(2))

    def test_parts_always_sum_to_real_time(self) -> None:
        calendar = BusinessCalendar.from_spec(CONTRACT_SPEC)
        start = berlin(2015, 9, 1, 7, 13, 5)
        for days in (0, 1, 3, 10, 45):
            end = start + timedelta(days=days, hours=5)
            breakdown = calendar.explain(start, end, [(berlin(2015, 9, 2), berlin(2015, 9, 9))])
            assert breakdown.total == end - start


# --------------------------------------------------------------------------- engineering


def test_module_has_no_django_or_third_party_imports() -> None:
    source = Path(business_time.__file__).read_text("utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= {
        "__future__",
        "bisect",
        "collections",
        "dataclasses",
        "datetime",
        "re",
        "threading",
        "typing",
        "zoneinfo",
    }


def test_cache_eviction_does_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    calendar = office()
    start = berlin(2025, 1, 6, 9)
    expected = [calendar.add(start, H(8 * n)) for n in range(0, 400, 37)]
    monkeypatch.setattr(business_time, "_MAX_CACHED_MONTHS", 2)
    fresh = office()
    assert [fresh.add(start, H(8 * n)) for n in range(0, 400, 37)] == expected


def test_concurrent_use_gives_identical_results() -> None:
    calendar = lunch_office("America/New_York")
    starts = [new_york(2024, 1, 1) + timedelta(hours=7 * i) for i in range(300)]
    expected = [calendar.add(s, H(37)) for s in starts]
    shared = lunch_office("America/New_York")  # cold cache, filled by all threads at once
    results: list[list[datetime | None]] = []

    def work() -> None:
        results.append([shared.add(s, H(37)) for s in starts])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4
