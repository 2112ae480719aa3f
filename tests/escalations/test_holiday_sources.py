"""Tests for escalations.policies.holiday_sources (``holidays`` package and ``.ics`` uploads)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from escalations.policies.holiday_sources import holidays_from_country, holidays_from_ics
from escalations.rules.business_time import BusinessCalendar


def ics(*events: str) -> bytes:
    """A minimal calendar around the given VEVENT bodies (CRLF line endings)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//escalations tests//EN"]
    for number, body in enumerate(events, start=1):
        lines += ["BEGIN:VEVENT", f"UID:event-{number}@example.test", "DTSTAMP:20250101T000000Z"]
        lines += [line.strip() for line in body.strip().splitlines()]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


# --------------------------------------------------------------------------- holidays package


class TestCountry:
    def test_subdivision_holidays(self) -> None:
        bavaria = holidays_from_country("DE", "BY", [2025])
        berlin = holidays_from_country("DE", "BE", [2025])
        assert date(2025, 1, 6) in bavaria  # Epiphany: Bavaria only
        assert date(2025, 1, 6) not in berlin
        assert date(2025, 3, 8) in berlin  # International Women's Day: Berlin only
        for days in (bavaria, berlin):
            assert date(2025, 10, 3) in days  # national holiday
            assert days == sorted(set(days))
            assert all(day.year == 2025 for day in days)

    def test_codes_are_case_insensitive(self) -> None:
        assert holidays_from_country("de", "by", [2025]) == holidays_from_country(
            "DE", "BY", [2025]
        )

    def test_national_and_several_years(self) -> None:
        days = holidays_from_country("US", None, [2022, 2021, 2022])
        assert date(2021, 7, 5) in days  # Independence Day observed
        assert date(2022, 12, 26) in days  # Christmas observed
        assert {day.year for day in days} == {2021, 2022}
        assert days == sorted(days)

    def test_empty_years(self) -> None:
        assert holidays_from_country("DE", None, []) == []

    def test_result_feeds_a_calendar(self) -> None:
        calendar = BusinessCalendar.from_spec(
            {
                "timezone": "America/Los_Angeles",
                "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
            }
        ).with_holidays(holidays_from_country("US", "CA", [2015]))
        # Friday 2015-12-25 is closed.
        start = datetime(2015, 12, 24, 16, tzinfo=ZoneInfo("America/Los_Angeles"))
        assert calendar.add(start, timedelta(hours=2)) == datetime(2015, 12, 28, 18, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("country", "subdiv", "years", "message"),
        [
            ("XX", None, [2025], 'country: unknown country "XX"'),
            ("", None, [2025], "country: expected an ISO 3166 code"),
            (None, None, [2025], "country: expected an ISO 3166 code"),
            ("DE", "ZZ", [2025], 'subdiv: unknown subdivision "ZZ" for DE (available: BB, BE'),
            ("DE", "", [2025], "subdiv: expected a subdivision code"),
            ("DE", None, ["2025"], "years: '2025' is not a year"),
            ("DE", None, [True], "years: True is not a year"),
            ("DE", None, [0], "years: 0 is not a year"),
            ("DE", None, "2025", "years: expected an iterable of years"),
        ],
    )
    def test_errors(self, country: object, subdiv: object, years: object, message: str) -> None:
        with pytest.raises(ValueError) as excinfo:
            holidays_from_country(country, subdiv, years)  # type: ignore[arg-type]
        assert message in str(excinfo.value)


# --------------------------------------------------------------------------- iCalendar


class TestIcs:
    def test_all_day_and_multi_day_events(self) -> None:
        data = ics(
            """
            SUMMARY:Christmas break
            DTSTART;VALUE=DATE:20251224
            DTEND;VALUE=DATE:20251227
            """,
            """
            SUMMARY:Company day
            DTSTART;VALUE=DATE:20250606
            """,
            """
            SUMMARY:Two days by duration
            DTSTART;VALUE=DATE:20250801
            DURATION:P2D
            """,
        )
        assert holidays_from_ics(data) == [
            date(2025, 6, 6),
            date(2025, 8, 1),
            date(2025, 8, 2),
            date(2025, 12, 24),
            date(2025, 12, 25),
            date(2025, 12, 26),  # DTEND is exclusive
        ]

    def test_timed_events_take_their_start_date(self) -> None:
        data = ics(
            """
            SUMMARY:Late offsite in Berlin
            DTSTART;TZID=Europe/Berlin:20250612T233000
            DTEND;TZID=Europe/Berlin:20250614T010000
            """,
            """
            SUMMARY:UTC meeting
            DTSTART:20250301T100000Z
            DURATION:PT3H
            """,
        )
        # Only the start date, as written (23:30 Berlin is still the 12th).
        assert holidays_from_ics(data) == [date(2025, 3, 1), date(2025, 6, 12)]

    def test_cancelled_events_are_ignored_and_duplicates_merged(self) -> None:
        data = ics(
            "SUMMARY:Cancelled\nSTATUS:CANCELLED\nDTSTART;VALUE=DATE:20250102",
            "SUMMARY:New year\nDTSTART;VALUE=DATE:20250101",
            "SUMMARY:New year again\nDTSTART;VALUE=DATE:20250101",
        )
        assert holidays_from_ics(data) == [date(2025, 1, 1)]

    def test_yearly_rules_expand_within_years(self) -> None:
        data = ics(
            """
            SUMMARY:Thanksgiving
            DTSTART;VALUE=DATE:20201126
            RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH
            """,
            """
            SUMMARY:Christmas
            DTSTART;VALUE=DATE:20191225
            DTEND;VALUE=DATE:20191227
            RRULE:FREQ=YEARLY
            EXDATE;VALUE=DATE:20241225
            """,
            """
            SUMMARY:Year-end shutdown
            DTSTART;VALUE=DATE:20231231
            DTEND;VALUE=DATE:20240102
            RRULE:FREQ=YEARLY
            """,
        )
        assert holidays_from_ics(data, years=[2024, 2025]) == [
            date(2024, 1, 1),  # from the occurrence starting 2023-12-31
            date(2024, 11, 28),
            date(2024, 12, 31),
            date(2025, 1, 1),
            date(2025, 11, 27),
            date(2025, 12, 25),
            date(2025, 12, 26),
            date(2025, 12, 31),
        ]

    def test_bounded_rules_expand_without_years(self) -> None:
        data = ics(
            """
            SUMMARY:Founders day
            DTSTART;VALUE=DATE:20230301
            RRULE:FREQ=YEARLY;COUNT=3
            """,
            """
            SUMMARY:Anniversary
            DTSTART;VALUE=DATE:20230915
            RRULE:FREQ=YEARLY;UNTIL=20250915T000000Z
            EXDATE;VALUE=DATE:20240915
            """,
        )
        assert holidays_from_ics(data) == [
            date(2023, 3, 1),
            date(2023, 9, 15),
            date(2024, 3, 1),
            date(2025, 3, 1),
            date(2025, 9, 15),
        ]

    def test_years_filter_single_events(self) -> None:
        data = ics(
            "SUMMARY:Old\nDTSTART;VALUE=DATE:20200101",
            "SUMMARY:Span\nDTSTART;VALUE=DATE:20241231\nDTEND;VALUE=DATE:20250102",
        )
        assert holidays_from_ics(data, years=[2025]) == [date(2025, 1, 1)]

    def test_text_input_and_calendar_integration(self) -> None:
        data = ics("SUMMARY:Closed\nDTSTART;VALUE=DATE:20250606").decode()
        calendar = BusinessCalendar.from_spec({"timezone": "UTC", "hours": "24/7"})
        closed = calendar.with_holidays(holidays_from_ics(data))
        assert closed.to_spec()["holidays"] == ["2025-06-06"]
        assert not closed.is_open(datetime(2025, 6, 6, 12, tzinfo=UTC))

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"", "ics: the file is empty"),
            (b"hello world", "ics: not a valid iCalendar file"),
            (b"\xff\xfe\x00garbage", "ics: not a valid iCalendar file"),
            (b"BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n", "no VCALENDAR"),
            (ics("SUMMARY:No start"), 'ics: event #1 "No start" has no DTSTART'),
            (ics("SUMMARY:Bad\nDTSTART:garbage"), 'ics: event #1 "Bad" has an invalid DTSTART'),
            (
                ics("SUMMARY:Forever\nDTSTART;VALUE=DATE:20200101\nRRULE:FREQ=YEARLY"),
                'event #1 "Forever" recurs every year without end; pass years=',
            ),
            (
                ics("SUMMARY:Fridays\nDTSTART;VALUE=DATE:20250103\nRRULE:FREQ=WEEKLY;COUNT=4"),
                "only yearly rules are supported",
            ),
            (
                ics("SUMMARY:Typo\nDTSTART;VALUE=DATE:20250101\nDTEND;VALUE=DATE:20350101"),
                'event #1 "Typo" spans 3652 days',
            ),
            (12, "ics: expected bytes"),
        ],
    )
    def test_errors(self, data: object, message: str) -> None:
        with pytest.raises(ValueError) as excinfo:
            holidays_from_ics(data)  # type: ignore[arg-type]
        assert message in str(excinfo.value)

    def test_bad_years_argument(self) -> None:
        with pytest.raises(ValueError, match="years"):
            holidays_from_ics(ics("SUMMARY:x\nDTSTART;VALUE=DATE:20250101"), years=["2025"])  # type: ignore[list-item]
