"""Fairness of an on-call rota: hours on call per person and month, nights and weekends apart.

Pure (standard library only): the metrics page and the API feed it the final shifts of
`escalations.rules.oncall.final_shifts` and show what it returns.

* **Hours** are real elapsed time (a night shift across the autumn DST change lasts an hour
  longer on the wall clock's account, and counts that hour), to the second.
* **Nights** are the hours whose wall-clock time in the *schedule's* zone lies in
  ``[22:00, 07:00)``; **weekends** the hours on a Saturday or Sunday there. Both are parts
  of the total and may overlap: a Saturday night counts in both, since it is both a night
  and a weekend spent on call.
* **Months** are counted in ``month_zone`` (the reader's zone on the metrics page), so the
  rows add up to the month the reader picked; a shift across a month's end is split there.

Boundaries that fall in a spring-forward gap simply do not happen on the wall clock: the
stretch is classified by the wall time it really shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo

__all__ = ["NIGHT", "OnCallHours", "hours_by_month"]

_DAY = 86_400
#: Epoch day 0 (1970-01-01) was a Thursday: (day + 3) % 7 is 0 on Mondays.
_THURSDAY = 3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

#: Night hours in the schedule's zone: from 22:00 to 07:00 the next morning.
NIGHT = (time(22), time(7))


class OnCallHours(NamedTuple):
    """Time on call in one month: in all, at night, at the weekend (parts of `total`)."""

    total: timedelta = timedelta(0)
    nights: timedelta = timedelta(0)
    weekends: timedelta = timedelta(0)

    def __add__(self, other: object) -> OnCallHours:  # type: ignore[override]
        if not isinstance(other, OnCallHours):
            return NotImplemented
        return OnCallHours(
            self.total + other.total, self.nights + other.nights, self.weekends + other.weekends
        )


def hours_by_month(
    shifts: Iterable[tuple[str, datetime, datetime]],
    *,
    zone: str | tzinfo,
    month_zone: str | tzinfo = UTC,
    night: tuple[time, time] = NIGHT,
) -> dict[tuple[str, str], OnCallHours]:
    """``{(person, "YYYY-MM"): OnCallHours}`` for shifts ``(person, start, end)`` (aware,
    half-open) of one schedule whose wall clock is ``zone``. Persons and months without
    time on call are left out. Overlapping shifts of one person are counted twice (a
    schedule's final shifts never overlap; summing schedules is the caller's choice)."""
    zone = _zone(zone)
    month_zone = _zone(month_zone)
    night_from, night_to = (_seconds(t) for t in night)
    if night_from == night_to:
        raise ValueError("night: the start and the end are the same time")
    cuts = sorted({0, night_from, night_to})
    totals: dict[tuple[str, str], list[int]] = {}
    for person, start, end in shifts:
        s, e = _epoch(start, "start"), _epoch(end, "end")
        if e < s:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        for ms, me, month_wall in _pieces(s, e, month_zone, _next_month):
            key = (person, _month_label(month_wall))
            sums = totals.setdefault(key, [0, 0, 0])
            for a, b, wall in _pieces(ms, me, zone, lambda w: _next_cut(w, cuts)):
                length = b - a
                second_of_day = wall % _DAY
                sums[0] += length
                if _is_night(second_of_day, night_from, night_to):
                    sums[1] += length
                if (wall // _DAY + _THURSDAY) % 7 >= 5:
                    sums[2] += length
    return {
        key: OnCallHours(*(timedelta(seconds=value) for value in sums))
        for key, sums in sorted(totals.items())
        if sums[0]
    }


# ---------------------------------------------------------------------- helpers


def _zone(value: str | tzinfo) -> tzinfo:
    if isinstance(value, str):
        return ZoneInfo(value)
    if not isinstance(value, tzinfo):
        raise TypeError(f"expected a time zone, got {type(value).__name__}")
    return value


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _epoch(value: datetime, what: str) -> int:
    if not isinstance(value, datetime):
        raise TypeError(f"{what}: expected an aware datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what}: naive datetime {value.isoformat()}")
    delta = value - _EPOCH
    return delta.days * _DAY + delta.seconds  # floored to the second


def _offset(zone: tzinfo, t: int) -> int:
    offset = datetime.fromtimestamp(t, UTC).astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _pieces(s: int, e: int, zone: tzinfo, next_boundary):
    """``(a, b, wall of a)``: [s, e) cut where the wall clock in `zone` crosses a boundary
    (`next_boundary(wall) -> the next boundary's wall seconds, after wall`) or the zone's
    UTC offset changes. Inside a piece the offset is constant, so the wall clock runs
    straight and crosses no boundary: one classification holds for all of it."""
    t = s
    while t < e:
        offset = _offset(zone, t)
        wall = t + offset
        cut = min(e, t + (next_boundary(wall) - wall))
        if _offset(zone, cut - 1) != offset:
            # The offset changes inside: find its first second (a few dozen probes).
            low, high = t, cut - 1
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            cut = high
        yield t, cut, wall
        t = cut


def _next_cut(wall: int, cuts: list[int]) -> int:
    day, second = divmod(wall, _DAY)
    for cut in cuts:
        if cut > second:
            return day * _DAY + cut
    return (day + 1) * _DAY


def _wall_date(wall: int) -> date:
    return date.fromordinal(_EPOCH_ORDINAL + wall // _DAY)


def _next_month(wall: int) -> int:
    day = _wall_date(wall)
    first = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return (first.toordinal() - _EPOCH_ORDINAL) * _DAY


def _month_label(wall: int) -> str:
    return _wall_date(wall).strftime("%Y-%m")


def _is_night(second_of_day: int, night_from: int, night_to: int) -> bool:
    if night_from < night_to:
        return night_from <= second_of_day < night_to
    return second_of_day >= night_from or second_of_day < night_to
