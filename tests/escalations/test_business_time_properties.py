"""Property tests for escalations.rules.business_time over random calendars.

Random specs cover several zones (with one-hour, 30-minute and 45-minute-offset DST rules,
zones without DST, and Sao Paulo where midnight itself used to be skipped), lunch breaks,
second-precision ranges, holidays near DST changes, random pauses (overlapping, before the
start, open-ended) and starts with microseconds in arbitrary zones.

Besides the algebraic properties asked for (``elapsed(s, add(s, d)) == d``, monotonicity,
additivity of ``add`` and of ``elapsed``), an independent brute-force oracle counts open
minutes one by one with its own definition of the wall-clock mapping ("the first instant
whose local wall clock reads at least HH:MM") and is compared with ``elapsed``/``is_open``.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from escalations.rules.business_time import DAY_KEYS, BusinessCalendar

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,  # no example database; set HYPOTHESIS_STORAGE_DIRECTORY for the rest
    suppress_health_check=[HealthCheck.too_slow],
)
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kolkata",  # no DST, half-hour offset
    "America/Sao_Paulo",  # midnight did not exist on its (historic) spring-forward days
    "America/Santiago",
]
# DST change days (and neighbours) so holidays and ranges hit them often.
DST_DATES = [
    date(2024, 3, 10),
    date(2024, 11, 3),
    date(2025, 3, 30),
    date(2025, 10, 26),
    date(2018, 11, 4),
    date(2019, 2, 16),
    date(2024, 4, 7),
    date(2024, 10, 6),
    date(2024, 9, 29),
]
SECOND = timedelta(seconds=1)


def _fmt(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}" if s else f"{h:02d}:{m:02d}"


@st.composite
def day_ranges(draw: st.DrawFn, unit: int) -> list[str]:
    count = draw(st.integers(0, 3))
    points = draw(
        st.lists(
            st.integers(0, 86_400 // unit), min_size=2 * count, max_size=2 * count, unique=True
        )
    )
    points = sorted(p * unit for p in points)
    return [f"{_fmt(a)}-{_fmt(b)}" for a, b in zip(points[::2], points[1::2], strict=True)]


@st.composite
def specs(draw: st.DrawFn, unit: int | None = None) -> dict[str, Any]:
    zone = draw(st.sampled_from(ZONES))
    holidays = draw(
        st.lists(
            st.one_of(
                st.sampled_from(DST_DATES),
                st.dates(min_value=date(2017, 12, 1), max_value=date(2026, 12, 31)),
            ),
            max_size=8,
        )
    )
    if draw(st.integers(0, 9)) == 0:
        return {"timezone": zone, "hours": "24/7", "holidays": [d.isoformat() for d in holidays]}
    unit = unit or draw(st.sampled_from([900, 900, 1800, 60, 1]))
    # A few day templates spread over the week keep the number of draws (and Hypothesis'
    # generation time) low while still producing varied weeks.
    templates = draw(st.lists(day_ranges(unit), min_size=1, max_size=3))
    open_days = draw(st.integers(1, 127))
    choice = draw(st.integers(0, 3**7 - 1))
    hours = {}
    for i, key in enumerate(DAY_KEYS):
        ranges = templates[(choice // 3**i) % len(templates)]
        if open_days >> i & 1 and ranges:
            hours[key] = ranges
    if not hours:
        hours[DAY_KEYS[open_days % 7]] = ["09:00-17:00"]
    return {"timezone": zone, "hours": hours, "holidays": [d.isoformat() for d in holidays]}


calendars = specs().map(BusinessCalendar.from_spec)
starts = st.datetimes(
    min_value=datetime(2018, 1, 1),
    max_value=datetime(2025, 12, 31),
    timezones=st.sampled_from([ZoneInfo(z) for z in ZONES]),
)


def weekly_open_seconds(calendar: BusinessCalendar) -> int:
    return sum(b - a for ranges in calendar.week for a, b in ranges)


@st.composite
def durations(draw: st.DrawFn, calendar: BusinessCalendar) -> timedelta:
    """Business durations whose real-time span is up to about 30 days for this calendar."""
    raw = draw(st.integers(0, 30 * 86_400))
    return timedelta(seconds=raw * weekly_open_seconds(calendar) // (7 * 86_400))


@st.composite
def pause_lists(draw: st.DrawFn, start: datetime) -> list[tuple[datetime, datetime | None]]:
    pauses = []
    for _ in range(draw(st.integers(0, 4))):
        offset = timedelta(seconds=draw(st.integers(-5 * 86_400, 35 * 86_400)))
        p = (start.astimezone(UTC) + offset).astimezone(ZoneInfo(draw(st.sampled_from(ZONES))))
        if draw(st.integers(0, 9)) == 0:
            pauses.append((p, None))
        else:
            length = timedelta(seconds=draw(st.integers(0, 4 * 86_400)))
            pauses.append((p, p + length))
    return pauses


def floor_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


@st.composite
def scenarios(draw: st.DrawFn, with_pauses: bool = True) -> tuple[Any, ...]:
    calendar = draw(calendars)
    start = draw(starts)
    pauses = draw(pause_lists(start)) if with_pauses else []
    return calendar, start, pauses


# --------------------------------------------------------------------------- add / elapsed


@SETTINGS
@given(scenarios(), st.data())
def test_elapsed_of_add_is_the_duration(scenario: tuple[Any, ...], data: st.DataObject) -> None:
    calendar, start, pauses = scenario
    duration = data.draw(durations(calendar))
    deadline = calendar.add(start, duration, pauses)
    if deadline is None:
        # Only an open-ended pause can make a deadline unreachable.
        assert any(end is None for _, end in pauses)
        far = start.astimezone(UTC) + timedelta(days=400)
        assert calendar.elapsed(start, far, pauses) < duration
        return
    assert deadline.tzinfo is UTC and deadline.microsecond == 0
    assert deadline >= floor_utc(start)
    assert calendar.elapsed(start, deadline, pauses) == duration
    if duration:
        # Earliest such instant: one second earlier is one business second short.
        assert calendar.elapsed(start, deadline - SECOND, pauses) == duration - SECOND
    else:
        assert deadline == floor_utc(start)


@SETTINGS
@given(scenarios(), st.data())
def test_add_many_is_add_for_each_duration(scenario: tuple[Any, ...], data: st.DataObject) -> None:
    """A clock's deadline and threshold instants come from one add_many call."""
    calendar, start, pauses = scenario
    wanted = data.draw(st.lists(durations(calendar), max_size=5))
    assert calendar.add_many(start, wanted, pauses) == [
        calendar.add(start, duration, pauses) for duration in wanted
    ]


@SETTINGS
@given(scenarios(), st.data())
def test_count_from_answers_as_add_many_and_elapsed(
    scenario: tuple[Any, ...], data: st.DataObject
) -> None:
    """A clock reading asks one count_from for its deadline, thresholds and elapsed time."""
    calendar, start, pauses = scenario
    wanted = data.draw(st.lists(durations(calendar), max_size=5))
    end = start.astimezone(UTC) + timedelta(seconds=data.draw(st.integers(0, 40 * 86_400)))
    count = calendar.count_from(start, pauses)
    assert count.add_many(wanted) == calendar.add_many(start, wanted, pauses)
    assert count.elapsed(end) == calendar.elapsed(start, end, pauses)
    assert count.add_many(wanted[:1]) == calendar.add_many(start, wanted[:1], pauses)


@SETTINGS
@given(scenarios(), st.data())
def test_add_is_monotonic_in_duration(scenario: tuple[Any, ...], data: st.DataObject) -> None:
    calendar, start, pauses = scenario
    d1 = data.draw(durations(calendar))
    d2 = data.draw(durations(calendar))
    d1, d2 = sorted((d1, d2))
    first = calendar.add(start, d1, pauses)
    second = calendar.add(start, d2, pauses)
    if first is None:
        assert second is None
    elif second is not None:
        assert first <= second


@SETTINGS
@given(scenarios(), st.data())
def test_add_is_additive(scenario: tuple[Any, ...], data: st.DataObject) -> None:
    calendar, start, pauses = scenario
    d1 = data.draw(durations(calendar))
    d2 = data.draw(durations(calendar))
    middle = calendar.add(start, d1, pauses)
    whole = calendar.add(start, d1 + d2, pauses)
    if middle is None:
        assert whole is None
    else:
        assert calendar.add(middle, d2, pauses) == whole


@SETTINGS
@given(scenarios(), st.data())
def test_add_with_zero_after_a_closing_time(scenario: tuple[Any, ...], data: st.DataObject) -> None:
    # The case that decided add(s, 0) == s: d1 often ends exactly on a closing time.
    calendar, start, pauses = scenario
    d1 = data.draw(durations(calendar))
    middle = calendar.add(start, d1, pauses)
    assume(middle is not None)
    assert calendar.add(middle, timedelta(0), pauses) == middle


@SETTINGS
@given(scenarios(), st.data())
def test_elapsed_is_additive(scenario: tuple[Any, ...], data: st.DataObject) -> None:
    calendar, a, pauses = scenario
    gaps = data.draw(st.lists(st.integers(0, 20 * 86_400), min_size=2, max_size=2))
    # Real-time arithmetic (aware datetimes in one zone add wall-clock time), then show b
    # and c in other zones to mix representations.
    b = a.astimezone(UTC) + timedelta(
        seconds=gaps[0], microseconds=data.draw(st.integers(0, 999_999))
    )
    c = (b + timedelta(seconds=gaps[1])).astimezone(ZoneInfo(data.draw(st.sampled_from(ZONES))))
    b = b.astimezone(ZoneInfo(data.draw(st.sampled_from(ZONES))))
    total = calendar.elapsed(a, c, pauses)
    assert total == calendar.elapsed(a, b, pauses) + calendar.elapsed(b, c, pauses)
    assert timedelta(0) <= total <= calendar.elapsed(a, c)  # pauses only ever remove time


@SETTINGS
@given(scenarios(), st.data())
def test_explain_parts_sum_to_real_time(scenario: tuple[Any, ...], data: st.DataObject) -> None:
    calendar, start, pauses = scenario
    end = start.astimezone(UTC) + timedelta(seconds=data.draw(st.integers(0, 40 * 86_400)))
    breakdown = calendar.explain(start, end, pauses)
    assert breakdown.total == floor_utc(end) - floor_utc(start)
    assert breakdown.business == calendar.elapsed(start, end, pauses)
    assert breakdown.business + breakdown.paused == calendar.elapsed(start, end)
    for part in (breakdown.business, breakdown.closed, breakdown.holiday, breakdown.paused):
        assert part >= timedelta(0)


@SETTINGS
@given(calendars, starts)
def test_is_open_and_next_opening_agree_with_elapsed(
    calendar: BusinessCalendar, at: datetime
) -> None:
    is_open = calendar.is_open(at)
    assert is_open == (calendar.elapsed(at, floor_utc(at) + SECOND) == SECOND)
    opening = calendar.next_opening(at)
    assert opening >= floor_utc(at)
    assert calendar.is_open(opening)
    assert calendar.elapsed(at, opening) == timedelta(0)
    assert (opening == floor_utc(at)) == is_open
    if opening > floor_utc(at):
        assert not calendar.is_open(opening - SECOND)


@SETTINGS
@given(specs())
def test_spec_round_trip(spec: dict[str, Any]) -> None:
    calendar = BusinessCalendar.from_spec(spec)
    canonical = calendar.to_spec()
    again = BusinessCalendar.from_spec(canonical)
    assert again == calendar
    assert hash(again) == hash(calendar)
    assert again.to_spec() == canonical


# --------------------------------------------------------------------------- oracle


def oracle_open_minutes(calendar: BusinessCalendar, s: datetime, e: datetime) -> list[bool]:
    """Whether each minute in [s, e) is open, by brute force.

    Independent definition: the range (a, b) of local day D covers the instants from the
    first one whose local wall clock reads at least D+a up to (excluding) the first one
    whose wall clock reads at least D+b. All zones used have minute-aligned offsets and
    transitions, and ranges are minute-aligned, so a minute grid is exact.
    """
    zone = ZoneInfo(calendar.timezone)
    lo = s - timedelta(days=3)
    minutes = int((e - lo).total_seconds() // 60) + 3 * 1440
    instants = [lo + timedelta(minutes=i) for i in range(minutes)]
    walls = [i.astimezone(zone).replace(tzinfo=None) for i in instants]
    running_max = []
    best = datetime.min
    for wall in walls:
        best = max(best, wall)
        running_max.append(best)

    def first_reaching(wall: datetime) -> datetime:
        return instants[bisect_left(running_max, wall)]

    intervals = []
    day = s.astimezone(zone).date() - timedelta(days=1)
    last_day = e.astimezone(zone).date() + timedelta(days=1)
    while day <= last_day:
        if day not in calendar.holidays:
            midnight = datetime(day.year, day.month, day.day)
            for a, b in calendar.week[day.weekday()]:
                start = first_reaching(midnight + timedelta(seconds=a))
                end = first_reaching(midnight + timedelta(seconds=b))
                intervals.append((start, end))
        day += timedelta(days=1)
    result = []
    t = s
    while t < e:
        result.append(any(a <= t < b for a, b in intervals))
        t += timedelta(minutes=1)
    return result


@settings(SETTINGS, max_examples=60)
@given(
    specs(unit=900).map(BusinessCalendar.from_spec),
    st.sampled_from([*DST_DATES, date(2023, 6, 14), date(2022, 1, 3)]),
    st.integers(-36, 36),
    st.integers(0, 3 * 24 * 4),
)
def test_elapsed_matches_brute_force_oracle(
    calendar: BusinessCalendar, around: date, hours: int, quarters: int
) -> None:
    s = datetime(around.year, around.month, around.day, tzinfo=UTC) + timedelta(hours=hours)
    e = s + timedelta(minutes=15 * quarters)
    expected = oracle_open_minutes(calendar, s, e)
    assert calendar.elapsed(s, e) == timedelta(minutes=sum(expected))
    for i in range(0, len(expected), 7):
        assert calendar.is_open(s + timedelta(minutes=i)) == expected[i]


# ------------------------------------------------------------------- round the clock in UTC


def _month_tables(calendar: BusinessCalendar) -> BusinessCalendar:
    """The same calendar answering from its month tables, as every calendar did before
    the round-the-clock shortcut (open time = real time in a zone without transitions)."""
    slow = BusinessCalendar.from_spec(calendar.to_spec())
    object.__setattr__(slow, "_always_open", False)
    return slow


@SETTINGS
@given(
    st.sampled_from(["UTC", "Etc/UTC", "Etc/GMT-3", "Etc/GMT+11"]),
    starts,
    st.data(),
)
def test_round_the_clock_shortcut_answers_as_the_month_tables(zone, start, data) -> None:
    """The storm's ladder counts in the default 24/7 UTC calendar: add, add_many, elapsed
    and explain take the shortcut there, and give what the month tables give."""
    calendar = BusinessCalendar.from_spec({"timezone": zone, "hours": "24/7"})
    assert calendar._always_open
    slow = _month_tables(calendar)
    pauses = data.draw(pause_lists(start))
    durations_ = [data.draw(durations(calendar)) for _ in range(3)]
    assert calendar.add_many(start, durations_, pauses) == slow.add_many(start, durations_, pauses)
    # In UTC: wall-clock addition to a start with fold=1 can land before it.
    end = start.astimezone(UTC) + timedelta(seconds=data.draw(st.integers(0, 40 * 86_400)))
    assert calendar.elapsed(start, end, pauses) == slow.elapsed(start, end, pauses)
    assert calendar.explain(start, end, pauses) == slow.explain(start, end, pauses)


def test_the_shortcut_is_taken_only_where_every_second_is_open() -> None:
    assert BusinessCalendar.from_spec({"timezone": "UTC", "hours": "24/7"})._always_open
    for spec in (
        {"timezone": "Europe/Berlin", "hours": "24/7"},  # clock changes
        {"timezone": "UTC", "hours": "24/7", "holidays": ["2026-12-25"]},
        {"timezone": "UTC", "hours": {day: ["00:00-24:00"] for day in DAY_KEYS[:6]}},
    ):
        assert not BusinessCalendar.from_spec(spec)._always_open, spec
