"""Reference cases from other business-hours libraries, kept as data.

``data/business_time_reference.json`` holds inputs and expected outputs transcribed from the
test suites of working_hours, biz, business_time, moment-business-time and
businesstimedelta (each case names its repository, file, commit and test). Cases whose
convention differs from ours carry a ``differs`` reason rather than a changed expectation,
so the file stays an honest record of what those libraries assert; a test checks that each
documented difference is still real.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from escalations.policies.holiday_sources import holidays_from_country
from escalations.rules.business_time import DAY_KEYS, BusinessCalendar

DATA = json.loads(
    (Path(__file__).parent / "data" / "business_time_reference.json").read_text("utf-8")
)
CALENDARS: dict[str, dict[str, Any]] = DATA["calendars"]
CASES: list[dict[str, Any]] = DATA["cases"]


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, f"reference instants must carry an offset: {text}"
    return value


def _floor_second(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def _calendar(case: dict[str, Any]) -> BusinessCalendar:
    calendar = BusinessCalendar.from_spec(CALENDARS[case["calendar"]]["spec"])
    extra = case.get("holidays_from_country")
    if extra:
        calendar = calendar.with_holidays(
            holidays_from_country(extra["country"], extra["subdiv"], extra["years"])
        )
    return calendar


def _wall_clock(case: dict[str, Any]) -> datetime:
    """The instant a range starting (or ending) at ``time`` on ``date`` opens (or closes),
    using a calendar open on that weekday only."""
    day = date.fromisoformat(case["date"])
    text = f"{case['time']}-24:00" if case["role"] == "start" else f"00:00-{case['time']}"
    calendar = BusinessCalendar.from_spec(
        {"timezone": case["timezone"], "hours": {DAY_KEYS[day.weekday()]: [text]}}
    )
    around = datetime(day.year, day.month, day.day, tzinfo=UTC)
    first = next(calendar.intervals(around - timedelta(days=1), around + timedelta(days=2)))
    return first[0] if case["role"] == "start" else first[1]


ACTIVE = [case for case in CASES if "differs" not in case]
DIFFERING = [case for case in CASES if "differs" in case]


def test_reference_file_is_well_formed() -> None:
    assert len(CASES) >= 30
    assert len({case["id"] for case in CASES}) == len(CASES)
    for case in CASES:
        source = case["source"]
        assert {"repository", "path", "commit", "test"} <= source.keys(), case["id"]
        assert case["op"] in {
            "add",
            "elapsed",
            "is_open",
            "next_opening",
            "intervals",
            "wall_clock",
        }
        if case["op"] != "wall_clock":
            assert case["calendar"] in CALENDARS, case["id"]
    # Every named calendar is a valid spec, and its canonical form round-trips.
    for name, entry in CALENDARS.items():
        calendar = BusinessCalendar.from_spec(entry["spec"])
        assert BusinessCalendar.from_spec(calendar.to_spec()) == calendar, name


def test_reference_cases_cover_several_libraries() -> None:
    repositories = {case["source"]["repository"] for case in ACTIVE}
    assert len(ACTIVE) >= 30
    assert repositories >= {
        "Intrepidd/working_hours",
        "zendesk/biz",
        "bokmann/business_time",
        "lennym/moment-business-time",
        "seppemans/businesstimedelta",
    }


def _run(case: dict[str, Any]) -> tuple[Any, Any]:
    """(our result, the library's expectation) for one case."""
    op = case["op"]
    if op == "wall_clock":
        return _wall_clock(case), _instant(case["expected"])
    calendar = _calendar(case)
    if op == "add":
        result = calendar.add(_instant(case["start"]), timedelta(**case["duration"]))
        expected = _instant(case["expected"])
        if case.get("expected_truncated"):
            expected = _floor_second(expected)
        assert result is None or result.tzinfo is UTC
        return result, expected
    if op == "elapsed":
        result = calendar.elapsed(_instant(case["start"]), _instant(case["end"]))
        if "expected_floor_hours" in case:
            return result // timedelta(hours=1), case["expected_floor_hours"]
        return result, timedelta(**case["expected_duration"])
    if op == "is_open":
        return calendar.is_open(_instant(case["at"])), case["expected"]
    if op == "next_opening":
        return calendar.next_opening(_instant(case["at"])), _instant(case["expected"])
    if op == "intervals":
        expected = [(_instant(a), _instant(b)) for a, b in case["expected"]]
        found = list(calendar.intervals(_instant(case["start"]), _instant(case["end"])))
        return found[: len(expected)], expected
    raise AssertionError(f"unknown op {op}")


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in ACTIVE])
def test_reference_case(case: dict[str, Any]) -> None:
    result, expected = _run(case)
    assert result == expected


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in DIFFERING])
def test_documented_difference_is_real(case: dict[str, Any]) -> None:
    """Where we chose another convention, we really behave differently: if this
    fails, our behaviour now matches the library and the case belongs with the rest."""
    try:
        result, expected = _run(case)
    except ValueError:
        return  # e.g. negative durations, which we refuse
    assert result != expected, case["differs"]
