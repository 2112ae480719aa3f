"""Business-time arithmetic for SLA deadlines: opening hours, holidays, pauses.

This module is deliberately pure (standard library only, no Django): the SLA layer, the
admin, the YAML loader and calendar exports all speak the same *spec* dict, and the
arithmetic must be testable and benchmarkable on its own.

Spec format (what ``BusinessCalendar.from_spec`` accepts and ``to_spec`` returns)::

    {
        "timezone": "Europe/Berlin",
        "hours": {"mon": ["09:00-17:00"], "tue": ["08:00-12:00", "13:00-17:00"]},
        "holidays": ["2015-09-22"],
    }

* Days not listed are closed. Day keys are ``mon`` .. ``sun`` (full English names such as
  ``"monday"`` are accepted too, case-insensitively). A day may map to ``None`` or ``[]``
  (closed).
* ``"hours": "24/7"`` is round the clock; ``"00:00-24:00"`` is a whole day. Times are
  ``HH:MM`` or ``HH:MM:SS``; ``24:00`` may only end a range.
* Several ranges a day are fine (lunch breaks). Touching ranges (``08:00-12:00`` and
  ``12:00-13:00``) are merged; overlapping or reversed ranges are an error. An overnight
  shift is written as two ranges on consecutive days (``22:00-24:00`` and ``00:00-06:00``).
  Every range belongs to the day it is written on, also for holidays.
* ``holidays`` is a list of ISO dates (``"YYYY-MM-DD"``; ``datetime.date`` objects are also
  accepted because YAML loaders produce them). A holiday closes the whole local calendar day.

Conventions (why they are what they are):

* Aware datetimes in, aware UTC datetimes out. Naive datetimes are rejected because the
  same wall-clock time means different instants for different calendars.
* Second precision: every input instant is truncated (floored) to the whole second and
  durations are truncated to whole seconds, so all results are whole seconds. Flooring is
  monotonic, which keeps ``elapsed``/``add`` consistent with each other for inputs that
  carry microseconds.
* ``add(start, d)`` is the *earliest* instant ``t >= start`` with ``elapsed(start, t) == d``.
  Hence counting begins at the next opening when ``start`` is outside hours, a deadline
  that lands exactly on a closing time *is* that closing time, and ``add(start, 0)`` is
  ``start`` itself (truncated, in UTC) even outside hours: returning the next opening
  instead would break ``add(add(s, d1), 0) == add(s, d1)`` when ``d1`` ends at a closing
  time. Use ``next_opening`` to get the moment business time resumes.
* Opening hours are wall-clock times in the calendar's zone. Each local day's ranges are
  turned into instants with ``zoneinfo`` (``fold=0``): an ambiguous wall time (autumn
  fall-back) means its first occurrence, and a wall time that does not exist (spring-forward
  gap) means the first instant after the gap. A range counts the *real* time between its
  two instants: ``09:00-17:00`` on a 23-hour day is still 8 hours, ``00:00-24:00`` on that day
  is 23 hours (25 hours in autumn), and ``01:00-04:00`` across a one-hour change is 2 or 4
  hours.
* Pauses are real-time ``(start, end)`` intervals during which business time does not
  count (e.g. "waiting for customer"). They may overlap, be unsorted or start before
  ``start``; ``end=None`` means open-ended ("still paused"): ``elapsed`` counts nothing after
  its start and ``add`` returns ``None`` when the deadline would fall after its start.
* ``elapsed(start, end)`` with ``end`` before ``start`` is a ``ValueError``, as are negative
  durations: SLA clocks only run forwards. ``explain`` lets the calendar win over pauses
  (a pause during the night is reported as closed time); see ``TimeBreakdown``.
* Specs are strict: unknown top-level keys, wrong types and a week without any opening
  hours are ``ValueError``s that name the offending part (``hours.tue[1]: ...``).

Performance: the open intervals of each local calendar month are built once per calendar
(lazily, cached) as sorted arrays of UTC epoch seconds with cumulative open seconds, so
``elapsed`` is a couple of binary searches plus a sum of cached monthly totals, and ``add``
is a walk over monthly totals followed by one binary search. Nothing is ever computed
second by second or minute by minute.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DAY_KEYS",
    "BusinessCalendar",
    "Count",
    "Pause",
    "TimeBreakdown",
]

#: Canonical day keys, in the order ``to_spec`` writes them (``datetime.weekday()`` order).
DAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Day keys and full English names (lower case) to weekday numbers; on-call specs read days
# the same way.
DAY_INDEX: dict[str, int] = {
    **{key: i for i, key in enumerate(DAY_KEYS)},
    **{name: i for i, name in enumerate(_FULL_DAY_NAMES)},
}
_SPEC_KEYS = ("timezone", "hours", "holidays")
_ROUND_THE_CLOCK = "24/7"

_DAY = 86_400
_ONE_SECOND = timedelta(seconds=1)
_NO_TIME = timedelta(0)
_ONE_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)

_RANGE_RE = re.compile(r"\s*(\d{1,2}:\d{2}(?::\d{2})?)\s*-\s*(\d{1,2}:\d{2}(?::\d{2})?)\s*")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

#: How many months ``add``/``next_opening`` may walk without finding open time before
#: giving up. Only reachable through pathological calendars (e.g. the only open range
#: always falls into a DST gap); a real calendar opens every week.
_MAX_EMPTY_MONTHS = 12 * 50
#: Cached months per calendar before the cache is dropped (about 100 years).
_MAX_CACHED_MONTHS = 1200

type Week = tuple[tuple[tuple[int, int], ...], ...]
type PauseLike = tuple[datetime, datetime | None] | Pause


class Pause(NamedTuple):
    """A real-time interval during which business time does not count.

    ``end=None`` means the pause is still running (open-ended). Plain ``(start, end)``
    tuples are accepted everywhere a ``Pause`` is.
    """

    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class TimeBreakdown:
    """Where the real time between two instants went (see ``BusinessCalendar.explain``).

    The four parts always sum to ``end - start`` (after truncation to whole seconds):

    * ``business``: business time counted (what ``elapsed`` returns);
    * ``paused``: time that *would* have been business time but was paused;
    * ``holiday``: time on holidays (whole local days, open hours or not);
    * ``closed``: the rest, i.e. outside opening hours on ordinary days.

    The calendar takes precedence over pauses: a pause during a night or a holiday is
    reported as closed/holiday time, not as paused time. That way ``paused`` is exactly how
    much a pause moved the deadline, which is what a user asking "why is my deadline
    later?" needs to see.
    """

    business: timedelta
    closed: timedelta
    holiday: timedelta
    paused: timedelta

    @property
    def total(self) -> timedelta:
        """Real time covered, ``end - start``."""
        return self.business + self.closed + self.holiday + self.paused

    def as_seconds(self) -> dict[str, int]:
        """JSON-friendly form, whole seconds per part."""
        return {
            "business": int(self.business.total_seconds()),
            "closed": int(self.closed.total_seconds()),
            "holiday": int(self.holiday.total_seconds()),
            "paused": int(self.paused.total_seconds()),
        }


class _Month:
    """Open intervals of one local calendar month, in UTC epoch seconds.

    ``starts``/``ends`` are sorted, disjoint and non-touching; ``cum_end[i]`` is the number
    of open seconds from the start of the month up to ``ends[i]``. ``lo``/``hi`` are the
    instants of local midnight at the start of this month and of the next one.
    """

    __slots__ = ("cum_end", "ends", "hi", "lo", "starts", "total")

    def __init__(
        self, lo: int, hi: int, starts: list[int], ends: list[int], cum_end: list[int]
    ) -> None:
        self.lo = lo
        self.hi = hi
        self.starts = starts
        self.ends = ends
        self.cum_end = cum_end
        self.total = cum_end[-1] if cum_end else 0

    def open_before(self, t: int) -> int:
        """Open seconds in ``[lo, t)`` for ``lo <= t <= hi``."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        end = self.ends[i]
        return self.cum_end[i] - (end - t if t < end else 0)


class _Cache:
    """Mutable per-calendar cache; kept out of the frozen dataclass fields on purpose."""

    __slots__ = ("last", "lock", "months")

    def __init__(self) -> None:
        self.months: dict[int, _Month] = {}
        self.last: tuple[int, _Month] | None = None
        self.lock = threading.Lock()


@dataclass(frozen=True, eq=True, repr=False)
class BusinessCalendar:
    """Opening hours, holidays and a time zone; immutable and hashable.

    Build one with ``BusinessCalendar.from_spec(spec)``. Two calendars are equal when they
    have the same zone key, the same weekly opening hours (after merging touching ranges)
    and the same holidays, so ``from_spec(cal.to_spec()) == cal``.

    ``week`` holds, per weekday (Monday first), the sorted opening ranges as seconds since
    local midnight (``86400`` is ``24:00``). Instances cache their computed open intervals
    lazily; the cache is thread-safe and never changes results.
    """

    timezone: str
    week: Week
    holidays: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, compare=False, hash=False)
    _sorted_holidays: tuple[date, ...] = field(init=False, compare=False, hash=False)
    _cache: _Cache = field(init=False, compare=False, hash=False)
    # Every real second is open: round the clock, no holidays, in a zone without
    # transitions (UTC, Etc/*). Then open time is real time and the arithmetic needs
    # no month tables (the round-the-clock default calendar is UTC).
    _always_open: bool = field(init=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", load_zone(self.timezone))
        _check_week(self.week)
        # Normalise to nested tuples so the calendar stays hashable whatever was passed.
        week = tuple(tuple((int(a), int(b)) for a, b in ranges) for ranges in self.week)
        object.__setattr__(self, "week", week)
        holidays = frozenset(self.holidays)
        for day in holidays:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"holidays: {day!r} is not a date")
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "_sorted_holidays", tuple(sorted(holidays)))
        object.__setattr__(self, "_cache", _Cache())
        object.__setattr__(
            self,
            "_always_open",
            self.is_round_the_clock
            and not holidays
            and (self.timezone == "UTC" or self.timezone.startswith("Etc/")),
        )

    # ------------------------------------------------------------------ spec round trip

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> BusinessCalendar:
        """Validate a spec dict and build the calendar.

        Raises ``ValueError`` naming the offending part, e.g.
        ``hours.tue[1]: "13:00-12:00" ends before it starts`` or
        ``timezone: unknown time zone "Mars/Base"``.
        """
        if not isinstance(spec, Mapping):
            raise ValueError(f"spec: expected a mapping, got {type(spec).__name__}")
        for key in spec:
            if key not in _SPEC_KEYS:
                raise ValueError(f'spec: unknown key "{key}" (expected {", ".join(_SPEC_KEYS)})')
        if "timezone" not in spec:
            raise ValueError('timezone: missing (e.g. "Europe/Berlin" or "UTC")')
        if "hours" not in spec:
            raise ValueError('hours: missing (a mapping of days to ranges, or "24/7")')
        timezone = _parse_timezone(spec["timezone"])
        week = _parse_hours(spec["hours"])
        holidays = _parse_holidays(spec.get("holidays"))
        return cls(timezone=timezone, week=week, holidays=holidays)

    def to_spec(self) -> dict[str, Any]:
        """The canonical spec: days in mon..sun order, merged ``"HH:MM-HH:MM"`` ranges,
        closed days omitted, ``"24/7"`` for a calendar open round the clock, holidays as
        sorted ISO strings. ``from_spec(cal.to_spec()) == cal`` always holds."""
        hours: str | dict[str, list[str]]
        if self.is_round_the_clock:
            hours = _ROUND_THE_CLOCK
        else:
            hours = {
                DAY_KEYS[i]: [f"{fmt_time(a)}-{fmt_time(b)}" for a, b in ranges]
                for i, ranges in enumerate(self.week)
                if ranges
            }
        return {
            "timezone": self.timezone,
            "hours": hours,
            "holidays": [day.isoformat() for day in self._sorted_holidays],
        }

    def with_holidays(self, days: Iterable[date | str]) -> BusinessCalendar:
        """A copy with extra holidays (e.g. from ``holiday_sources``); duplicates are fine."""
        extra = _parse_holidays(list(days))
        return BusinessCalendar(self.timezone, self.week, self.holidays | extra)

    @property
    def is_round_the_clock(self) -> bool:
        """True when every day is open ``00:00-24:00`` (holidays may still close days)."""
        return all(ranges == ((0, _DAY),) for ranges in self.week)

    def __repr__(self) -> str:
        return f"BusinessCalendar.from_spec({self.to_spec()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle the spec, not the interval cache.
        return (BusinessCalendar.from_spec, (self.to_spec(),))

    # ------------------------------------------------------------------ public arithmetic

    def add(
        self,
        start: datetime,
        duration: timedelta,
        pauses: Iterable[PauseLike] = (),
    ) -> datetime | None:
        """The instant at which ``duration`` of business time has passed after ``start``.

        Precisely: the earliest ``t >= start`` with ``elapsed(start, t, pauses) == duration``
        (whole seconds, aware UTC). So a deadline landing exactly on a closing time is that
        closing time, and a zero duration returns ``start`` (truncated to the second, in UTC)
        unchanged, even outside opening hours.

        Returns ``None`` when the deadline cannot be reached because an open-ended pause
        (``end=None``) begins before enough business time has passed: the deadline is
        unknown until the pause ends. Raises ``ValueError`` for a negative duration, naive
        datetimes or a pause that ends before it starts.
        """
        s = _epoch(start, "start")
        remaining = _duration_seconds(duration)
        return self._add(s, remaining, _normalise_pauses(pauses, s))

    def add_many(
        self,
        start: datetime,
        durations: Iterable[timedelta],
        pauses: Iterable[PauseLike] = (),
    ) -> list[datetime | None]:
        """``[add(start, d, pauses) for d in durations]``, with the pauses checked and
        merged once: a clock's deadline and its threshold instants share them."""
        s = _epoch(start, "start")
        seconds = [_duration_seconds(duration) for duration in durations]
        normalised = _normalise_pauses(pauses, s)
        return [self._add(s, remaining, normalised) for remaining in seconds]

    def count_from(self, start: datetime, pauses: Iterable[PauseLike] = ()) -> Count:
        """One clock's arithmetic: ``add_many`` and ``elapsed`` from ``start`` with the
        same ``pauses``, checked and merged once (an SLA reading asks for its deadline,
        its threshold instants and its elapsed time; each call would redo them)."""
        s = _epoch(start, "start")
        return Count(self, start, s, _normalise_pauses(pauses, s))

    def _add(self, s: int, remaining: int, pauses: list[tuple[int, int | None]]):
        lo = s
        for p, q in pauses:
            available = self._open_between(lo, p)
            if remaining <= available:
                return _from_epoch(self._advance(lo, remaining))
            remaining -= available
            if q is None:
                return None
            lo = q
        return _from_epoch(self._advance(lo, remaining))

    def elapsed(
        self,
        start: datetime,
        end: datetime,
        pauses: Iterable[PauseLike] = (),
    ) -> timedelta:
        """Business time between ``start`` and ``end``, not counting ``pauses``.

        Nothing is counted after the start of an open-ended pause. ``end`` before ``start``
        (compared after truncation to whole seconds) is a ``ValueError``, not a negative
        duration: an SLA clock never runs backwards, so a swapped pair is a caller bug
        worth surfacing.
        """
        s, e = _ordered_epochs(start, end)
        return timedelta(seconds=self._elapsed(s, e, pauses))

    def explain(
        self,
        start: datetime,
        end: datetime,
        pauses: Iterable[PauseLike] = (),
    ) -> TimeBreakdown:
        """Break the real time between ``start`` and ``end`` into business, closed, holiday
        and paused time (see ``TimeBreakdown`` for the precedence rules); the parts sum to
        ``end - start``. Meant for showing users what moved a deadline."""
        s, e = _ordered_epochs(start, end)
        open_seconds = self._open_between(s, e)
        business = self._elapsed(s, e, pauses)
        holiday = self._holiday_seconds(s, e)
        return TimeBreakdown(
            business=timedelta(seconds=business),
            closed=timedelta(seconds=(e - s) - open_seconds - holiday),
            holiday=timedelta(seconds=holiday),
            paused=timedelta(seconds=open_seconds - business),
        )

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls inside opening hours; ranges are half-open, so the opening
        instant is open and the closing instant is not. Pauses are not considered."""
        t = _epoch(at, "at")
        month = self._month_at(t)
        i = bisect_right(month.starts, t) - 1
        return i >= 0 and t < month.ends[i]

    def next_opening(self, at: datetime) -> datetime:
        """``at`` itself (truncated, UTC) if it is open, else the next instant hours begin."""
        t = _epoch(at, "at")
        key = self._month_key(t)
        month = self._month(key)
        i = bisect_right(month.starts, t)
        if i > 0 and t < month.ends[i - 1]:
            return _from_epoch(t)
        for _ in range(_MAX_EMPTY_MONTHS):
            if i < len(month.starts):
                return _from_epoch(month.starts[i])
            key += 1
            month = self._month(key)
            i = 0
        raise ValueError(f"calendar never opens within {_MAX_EMPTY_MONTHS} months of {at}")

    def intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (UTC, half-open) clipped to ``[start, end)``, in order; intervals
        that touch (e.g. an overnight shift across midnight) are yielded as one."""
        s, e = _ordered_epochs(start, end)
        pending: tuple[int, int] | None = None
        key = self._month_key(s)
        last_key = self._month_key(e)
        while key <= last_key:
            month = self._month(key)
            i = max(bisect_right(month.starts, s) - 1, 0)
            for a, b in zip(month.starts[i:], month.ends[i:], strict=True):
                if a >= e:
                    break
                a, b = max(a, s), min(b, e)
                if b <= a:
                    continue
                if pending is not None and pending[1] == a:
                    pending = (pending[0], b)
                    continue
                if pending is not None:
                    yield _from_epoch(pending[0]), _from_epoch(pending[1])
                pending = (a, b)
            key += 1
        if pending is not None:
            yield _from_epoch(pending[0]), _from_epoch(pending[1])

    # ------------------------------------------------------------------ internals

    def _elapsed(self, s: int, e: int, pauses: Iterable[PauseLike]) -> int:
        return self._elapsed_merged(s, e, _normalise_pauses(pauses, s))

    def _elapsed_merged(self, s: int, e: int, pauses: list[tuple[int, int | None]]) -> int:
        """``_elapsed`` with pauses already normalised from ``s``."""
        total = self._open_between(s, e)
        for p, q in pauses:
            if p >= e:
                break
            total -= self._open_between(p, e if q is None or q > e else q)
        return total

    def _open_between(self, a: int, b: int) -> int:
        """Open seconds in ``[a, b)``, ``a <= b``."""
        if b <= a:
            return 0
        if self._always_open:
            return b - a
        key_a = self._month_key(a)
        month_a = self._month(key_a)
        if b <= month_a.hi:
            return month_a.open_before(b) - month_a.open_before(a)
        key_b = self._month_key(b)
        month_b = self._month(key_b)
        total = month_a.total - month_a.open_before(a)
        for key in range(key_a + 1, key_b):
            total += self._month(key).total
        return total + month_b.open_before(b)

    def _advance(self, a: int, seconds: int) -> int:
        """Earliest ``t >= a`` with ``seconds`` open seconds in ``[a, t)``."""
        if seconds <= 0:
            return a
        if self._always_open:
            return a + seconds
        key = self._month_key(a)
        month = self._month(key)
        need = seconds + month.open_before(a)
        empty = 0
        while need > month.total:
            need -= month.total
            empty = empty + 1 if month.total == 0 else 0
            if empty > _MAX_EMPTY_MONTHS:
                raise ValueError(f"calendar never opens within {_MAX_EMPTY_MONTHS} months")
            key += 1
            month = self._month(key)
        i = bisect_left(month.cum_end, need)
        return month.ends[i] - (month.cum_end[i] - need)

    def _holiday_seconds(self, s: int, e: int) -> int:
        """Real seconds of ``[s, e)`` that fall on holidays (whole local days)."""
        holidays = self._sorted_holidays
        if not holidays or e <= s:
            return 0
        first = datetime.fromtimestamp(s, self._zone).date()
        last = datetime.fromtimestamp(e, self._zone).date()
        total = 0
        for day in holidays[bisect_left(holidays, first) : bisect_right(holidays, last)]:
            lo = max(self._wall_to_epoch(day, 0), s)
            hi = min(self._wall_to_epoch(day, _DAY), e)
            if hi > lo:
                total += hi - lo
        return total

    def _month_key(self, t: int) -> int:
        last = self._cache.last
        if last is not None and last[1].lo <= t < last[1].hi:
            return last[0]
        local = datetime.fromtimestamp(t, self._zone)
        return local.year * 12 + local.month - 1

    def _month_at(self, t: int) -> _Month:
        return self._month(self._month_key(t))

    def _month(self, key: int) -> _Month:
        cache = self._cache
        month = cache.months.get(key)
        if month is None:
            month = self._build_month(key)
            with cache.lock:
                if len(cache.months) >= _MAX_CACHED_MONTHS:
                    cache.months.clear()
                cache.months[key] = month
        cache.last = (key, month)
        return month

    def _build_month(self, key: int) -> _Month:
        year, index = divmod(key, 12)
        first = date(year, index + 1, 1)
        following = date(year + 1, 1, 1) if index == 11 else date(year, index + 2, 1)
        starts: list[int] = []
        ends: list[int] = []
        cum_end: list[int] = []
        total = 0
        week = self.week
        holidays = self.holidays
        day = first
        while day < following:
            if day not in holidays:
                for a, b in week[day.weekday()]:
                    ua = self._wall_to_epoch(day, a)
                    ub = self._wall_to_epoch(day, b)
                    if ub <= ua:  # both ends inside the same DST gap: nothing is open
                        continue
                    total += ub - ua
                    if ends and ends[-1] == ua:  # touching (e.g. across midnight): merge
                        ends[-1] = ub
                        cum_end[-1] = total
                    else:
                        starts.append(ua)
                        ends.append(ub)
                        cum_end.append(total)
            day += _ONE_DAY
        lo = self._wall_to_epoch(first, 0)
        hi = self._wall_to_epoch(following, 0)
        return _Month(lo, hi, starts, ends, cum_end)

    def _wall_to_epoch(self, day: date, seconds: int) -> int:
        """The instant at which the local wall clock on ``day`` shows ``seconds`` past
        midnight (``86400`` is the next midnight).

        Ambiguous wall times use ``fold=0`` (first occurrence). A wall time inside a
        spring-forward gap does not survive the round trip through UTC; it maps to the
        first instant after the gap (the transition itself).
        """
        naive = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
        zone = self._zone
        offset = naive.replace(tzinfo=zone).utcoffset()
        assert offset is not None
        wall = (naive - _EPOCH_NAIVE) // _ONE_SECOND
        epoch = wall - offset // _ONE_SECOND
        if datetime.fromtimestamp(epoch, zone).replace(tzinfo=None) == naive:
            return epoch
        # Gap: fold=0 used the offset from before the transition, fold=1 the one after.
        # The transition lies between the two readings; find it by bisection.
        after = naive.replace(tzinfo=zone, fold=1).utcoffset()
        assert after is not None
        lo, hi = sorted((epoch, wall - after // _ONE_SECOND))
        target = datetime.fromtimestamp(hi, zone).utcoffset()
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if datetime.fromtimestamp(mid, zone).utcoffset() == target:
                hi = mid
            else:
                lo = mid
        return hi


class Count:
    """``BusinessCalendar.count_from(start, pauses)``: the same answers as the calendar's
    ``add_many(start, durations, pauses)`` and ``elapsed(start, end, pauses)``."""

    __slots__ = ("_calendar", "_pauses", "_s", "_start")

    def __init__(
        self,
        calendar: BusinessCalendar,
        start: datetime,
        s: int,
        pauses: list[tuple[int, int | None]],
    ) -> None:
        self._calendar = calendar
        self._start = start
        self._s = s
        self._pauses = pauses

    def add_many(self, durations: Iterable[timedelta]) -> list[datetime | None]:
        seconds = [_duration_seconds(duration) for duration in durations]
        add, s, pauses = self._calendar._add, self._s, self._pauses
        return [add(s, remaining, pauses) for remaining in seconds]

    def elapsed(self, end: datetime) -> timedelta:
        e = _epoch(end, "end")
        if e < self._s:
            raise ValueError(f"end {end.isoformat()} is before start {self._start.isoformat()}")
        return timedelta(seconds=self._calendar._elapsed_merged(self._s, e, self._pauses))


# ---------------------------------------------------------------------- spec parsing


def load_zone(key: object) -> ZoneInfo:
    if not isinstance(key, str) or not key.strip():
        raise ValueError(
            f'timezone: expected an IANA zone name such as "Europe/Berlin", got {key!r}'
        )
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f'timezone: unknown time zone "{key}"') from None


def _parse_timezone(value: object) -> str:
    load_zone(value)
    assert isinstance(value, str)
    return value


def _parse_hours(value: object) -> Week:
    if isinstance(value, str):
        if value.strip() == _ROUND_THE_CLOCK:
            return tuple(((0, _DAY),) for _ in DAY_KEYS)
        raise ValueError(f'hours: expected a mapping of days or "24/7", got "{value}"')
    if not isinstance(value, Mapping):
        raise ValueError(f'hours: expected a mapping of days or "24/7", got {type(value).__name__}')
    days: list[tuple[tuple[int, int], ...] | None] = [None] * 7
    names: list[str | None] = [None] * 7
    for raw_key, ranges in value.items():
        if not isinstance(raw_key, str):
            raise ValueError(f'hours: day keys must be strings such as "mon", got {raw_key!r}')
        index = DAY_INDEX.get(raw_key.strip().lower())
        if index is None:
            raise ValueError(f'hours: unknown day "{raw_key}" (use {", ".join(DAY_KEYS)})')
        if names[index] is not None:
            raise ValueError(f'hours: day "{raw_key}" given twice (also as "{names[index]}")')
        names[index] = raw_key
        days[index] = _parse_day(f"hours.{raw_key}", ranges)
    week = tuple(day or () for day in days)
    if not any(week):
        raise ValueError("hours: no opening hours on any day; a calendar has to open sometime")
    return week


def _parse_day(path: str, value: object) -> tuple[tuple[int, int], ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError(
            f'{path}: expected a list of "HH:MM-HH:MM" strings, got {type(value).__name__}'
        )
    parsed: list[tuple[int, int, int, str]] = []
    for i, item in enumerate(value):
        start, end = _parse_range(f"{path}[{i}]", item)
        parsed.append((start, end, i, item))
    parsed.sort()
    merged: list[tuple[int, int]] = []
    previous: tuple[int, int, int, str] | None = None
    for current in parsed:
        start, end, i, _text = current
        if previous is not None and start < previous[1]:
            later, earlier = (current, previous) if i > previous[2] else (previous, current)
            raise ValueError(
                f'{path}[{later[2]}]: "{later[3]}" overlaps "{earlier[3]}" ({path}[{earlier[2]}])'
            )
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
        previous = current if previous is None or end >= previous[1] else previous
    return tuple(merged)


def _parse_range(path: str, value: object) -> tuple[int, int]:
    if not isinstance(value, str):
        raise ValueError(f'{path}: expected a "HH:MM-HH:MM" string, got {type(value).__name__}')
    match = _RANGE_RE.fullmatch(value)
    if match is None:
        raise ValueError(f'{path}: "{value}" is not a range like "09:00-17:00"')
    start = _parse_time(path, match.group(1))
    end = _parse_time(path, match.group(2))
    if start == _DAY:
        raise ValueError(f'{path}: "{value}" starts at 24:00; 24:00 may only end a range')
    if end == start:
        raise ValueError(f'{path}: "{value}" is empty')
    if end < start:
        raise ValueError(
            f'{path}: "{value}" ends before it starts (write an overnight shift as two ranges, '
            f'e.g. "22:00-24:00" and "00:00-06:00" on the next day)'
        )
    return start, end


def _parse_time(path: str, text: str) -> int:
    match = _TIME_RE.fullmatch(text)
    assert match is not None  # guaranteed by _RANGE_RE
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    value = hours * 3600 + minutes * 60 + seconds
    if minutes > 59 or seconds > 59 or value > _DAY:
        raise ValueError(f'{path}: "{text}" is not a time of day (00:00 to 24:00)')
    return value


def _parse_holidays(value: object) -> frozenset[date]:
    if value is None:
        return frozenset()
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValueError(
            f'holidays: expected a list of "YYYY-MM-DD" dates, got {type(value).__name__}'
        )
    days: set[date] = set()
    for i, item in enumerate(value):
        if isinstance(item, datetime):
            raise ValueError(f"holidays[{i}]: {item!r} is a datetime; a holiday is a whole day")
        if isinstance(item, date):
            days.add(item)
            continue
        if not isinstance(item, str):
            raise ValueError(
                f'holidays[{i}]: expected a "YYYY-MM-DD" string, got {type(item).__name__}'
            )
        try:
            if not _ISO_DATE_RE.fullmatch(item):
                raise ValueError
            days.add(date.fromisoformat(item))
        except ValueError:
            raise ValueError(
                f'holidays[{i}]: "{item}" is not a date (expected YYYY-MM-DD)'
            ) from None
    return frozenset(days)


def _check_week(week: object) -> None:
    """Guard the direct constructor; ``from_spec`` always produces a valid week."""
    if not isinstance(week, tuple | list) or len(week) != 7:
        raise ValueError("week: expected 7 tuples of (start, end) seconds, Monday first")
    for i, ranges in enumerate(week):
        previous_end = -1
        for pair in ranges:
            start, end = pair
            if not (0 <= start < end <= _DAY) or start <= previous_end:
                raise ValueError(f"week[{i}]: ranges must be sorted, disjoint and within a day")
            previous_end = end
    if not any(week):
        raise ValueError("week: no opening hours on any day")


def fmt_time(seconds: int) -> str:
    """Seconds since midnight as HH:MM, or HH:MM:SS when the seconds are not zero."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}" if secs else f"{hours:02d}:{minutes:02d}"


# ---------------------------------------------------------------------- instants & pauses


def _epoch(value: object, what: str) -> int:
    """Whole UTC epoch seconds, floored (microseconds dropped towards the past)."""
    if not isinstance(value, datetime):
        raise TypeError(f"{what}: expected an aware datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{what}: naive datetime {value.isoformat()} (give it a time zone, e.g. UTC)"
        )
    delta = value - _EPOCH
    return delta.days * _DAY + delta.seconds


def _from_epoch(t: int) -> datetime:
    # The same instant as _EPOCH + timedelta(seconds=t) (tzinfo UTC), a third of the
    # cost; out of datetime's range the sum raises as it always did (OverflowError).
    try:
        return datetime.fromtimestamp(t, UTC)
    except (ValueError, OverflowError, OSError):
        return _EPOCH + timedelta(seconds=t)


def _ordered_epochs(start: datetime, end: datetime) -> tuple[int, int]:
    """Both instants truncated; ``end`` may not be before ``start`` *after* truncation,
    so ``elapsed(s, add(s, d))`` works for a ``start`` with microseconds."""
    s = _epoch(start, "start")
    e = _epoch(end, "end")
    if e < s:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    return s, e


def _duration_seconds(duration: object) -> int:
    if not isinstance(duration, timedelta):
        raise TypeError(f"duration: expected a timedelta, got {type(duration).__name__}")
    if duration < _NO_TIME:
        raise ValueError(f"duration: must not be negative, got {duration}")
    # duration // _ONE_SECOND (0 <= seconds < 86400 and 0 <= microseconds < 10**6 in a
    # normalised timedelta), without the division's big-integer arithmetic.
    return duration.days * _DAY + duration.seconds


def _normalise_pauses(pauses: Iterable[PauseLike], lo: int) -> list[tuple[int, int | None]]:
    """Validate pauses, clip them to ``[lo, ...)``, sort and merge overlapping/touching ones.

    An open-ended pause (``end=None``) swallows everything after its start, so the result
    ends with it.
    """
    clipped: list[tuple[int, int | None]] = []
    for i, pause in enumerate(pauses):
        try:
            start, end = pause
        except (TypeError, ValueError):
            raise ValueError(f"pauses[{i}]: expected a (start, end) pair, got {pause!r}") from None
        p = _epoch(start, f"pauses[{i}].start")
        q = None if end is None else _epoch(end, f"pauses[{i}].end")
        if end is not None and end < start:
            raise ValueError(
                f"pauses[{i}]: ends before it starts ({end.isoformat()} < {start.isoformat()})"
            )
        p = max(p, lo)
        if q is not None and q <= p:
            continue
        clipped.append((p, q))
    if not clipped:
        return clipped
    clipped.sort(key=lambda pause: pause[0])
    merged: list[tuple[int, int | None]] = []
    for p, q in clipped:
        if merged:
            mp, mq = merged[-1]
            if mq is None:
                break
            if p <= mq:
                merged[-1] = (mp, None if q is None else max(mq, q))
                continue
        merged.append((p, q))
    return merged
