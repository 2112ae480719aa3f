"""Who is on call: rotations in layers, overrides on top; pure and right across DST.

This module is deliberately pure (standard library and python-dateutil, no Django): the
models, admin, API, policy YAML, iCal feeds, coverage checks and fairness metrics all speak
the data shapes and the *spec* dict defined here, and "who is on call at instant t" must be
testable and benchmarkable on its own.

Data shapes
-----------

* ``Rotation``: one layer of a schedule. People in order (opaque strings: usernames or ids;
  a name may appear more than once), a recurrence and the local wall-clock instant of the
  first handoff (``start`` date + ``handoff`` time of day). Turn ``k`` belongs to
  ``people[k % len(people)]`` (see restrictions below for the one exception).

  - ``recurrence="daily"`` / ``"weekly"``: a handoff every ``interval`` local days / weeks at
    ``handoff`` local time, first on ``start``.
  - any other ``recurrence`` is an RFC 5545 RRULE (``"FREQ=WEEKLY;BYDAY=MO,TH"``, an
    ``RRULE:`` prefix is allowed) expanded by ``dateutil.rrule.rrulestr`` with DTSTART =
    ``start`` at ``handoff``: every occurrence is a handoff, in local wall-clock time. As in
    dateutil, DTSTART itself is a handoff only when it matches the rule (RFC 5545 would count
    it anyway); the first occurrence on or after it is the first handoff. COUNT, UNTIL and
    DTSTART are refused (a rotation runs until it is changed), as are rules handing off more
    than 3,000 times a year or not at all in the five years after the start.

* ``Restriction`` (PagerDuty's model): a window that opens on each of ``days`` at ``start``
  local time and stays open ``length`` of wall-clock time (``length`` up to a day when several
  days are given, up to a week for one day). A rotation with restrictions puts its person on
  call only inside the windows (their union; overlapping windows are fine). A turn whose span
  covers no window at all is skipped and does **not** consume a person: a rotation advances
  only through the windows it covers. Coverage is judged on the wall clock: a turn covers a
  window when their local wall-clock spans overlap. (In the one degenerate case where that
  overlap lies entirely inside a spring-forward gap, the turn still consumes its person, who
  then has no real time on call in it.) A weekly turn always covers some window; a daily
  rotation with weekday windows skips its weekend turns: A, B, C hand over Mon A, Tue B,
  Wed C, Thu A, Fri B, Mon C...

* ``ShiftLayer``: a layer of explicit shifts (person, start, end: aware instants, half-open),
  e.g. an imported iCal feed's events. The person is on call in the shift; where shifts of
  one layer overlap, the one listed last wins (as overrides); outside every shift, and in a
  shift of ``person=None`` (nobody), the layer has nobody and the layers below show through.
  Its ``people`` are the shifts' persons in order of first appearance. In ``paging_order``
  it offers the person on call, then the people of its following shifts in the order they
  come on (then everyone else, in order of first appearance). At most 20,000 shifts a layer.

* ``Schedule``: an IANA time zone, ``layers`` listed bottom first, and ``overrides``. A later
  layer is higher and wins wherever it has someone on call; where it has no one (before its
  first handoff, outside its windows) the layers below show through. ``Override`` (person,
  start, end: aware instants, half-open) is on top of every layer. Overrides are listed oldest
  first; where they overlap, the one listed last (the latest created) wins. An override with
  ``person=None`` means nobody is on call (leave without cover): it blanks what is below,
  and ``gaps`` reports it.

Results
-------

* ``on_call(schedule, at) -> OnCall | None``: the person, where they come from (``layer``
  index or ``override`` index) and the stretch ``[start, end)`` around ``at`` during which that
  same source keeps that person on call: the part of one turn inside one window (restricted
  layers), not covered by a higher layer or an override; or the visible part of one override.
  ``None`` when nobody is on call.
* ``final_shifts(schedule, start, end)``: the final shifts in ``[start, end)`` after layers and
  overrides, sorted, non-overlapping, with adjacent pieces of the same person merged whatever
  their sources (what an iCal feed, "my shifts" and fairness metrics show). ``gaps`` gives the
  intervals with nobody on call; shifts and gaps tile ``[start, end)`` exactly, and both are
  built from the same pieces as ``on_call``, so they agree at every instant.
* ``paging_order(schedule, at)`` and ``next_on_call(schedule, at, after)``: whom to page when
  the person paged does not acknowledge: the person on call, then the people of the highest
  layer that has someone at ``at``, in rotation order from the current turn's holder.

Conventions (the same as ``business_time``)
-------------------------------------------

* Aware datetimes in, aware UTC datetimes out; naive datetimes are a ``ValueError``. Second
  precision: instants are floored to the whole second. Supported instants: 1900 to 2199; a
  stretch that would run on past 2200-01-01 UTC ends there.
* Handoffs and windows are wall-clock times in the schedule's zone, counted in local days and
  weeks: a 09:00 handoff stays 09:00 local across DST, so a daily turn lasts 23 or 25 real hours
  on change days. A wall time that does not exist (spring-forward gap) means the first instant
  after the gap; an ambiguous one (autumn fall-back) means its first occurrence (``fold=0``).
  Precisely, wall time ``x`` happens at the first instant whose local clock reads ``x`` or
  later. Equivalently, an instant is placed on the wall clock by the latest local reading
  reached so far: during the repeated hour after a fall-back the schedule behaves as if the
  clock still stood at the end of that hour, which is what ``fold=0`` boundaries imply.

Specs
-----

What ``Schedule.from_spec`` accepts and ``to_spec`` returns (ISO strings for dates, times and
instants; ``datetime.date``/``time``/aware ``datetime`` objects are accepted too, as YAML
loaders produce them)::

    {
        "timezone": "Europe/Berlin",
        "layers": [                              # bottom first; later layers win
            {
                "name": "round the clock",       # optional
                "people": ["sam", "tia"],
                "recurrence": "weekly",          # "daily", "weekly" or an RRULE
                "interval": 1,                   # every N days/weeks; not with an RRULE
                "start": "2026-01-05",           # local date of the first handoff
                "handoff": "09:00",              # local time of day, HH:MM[:SS]
                "restrictions": [],              # optional
            },
            {
                "name": "business hours",
                "people": ["pia", "quinn", "ray"],
                "recurrence": "daily",
                "start": "2026-01-05",
                "handoff": "09:00",
                "restrictions": [
                    {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"},
                    {"from": "sat 10:00", "to": "sun 10:00"},
                ],
            },
        ],
        # or a layer of explicit shifts (an iCal import); later-listed shifts win:
        #   {"name": "imported", "shifts": [{"person": "sam",
        #    "start": "2026-01-05T08:00:00+00:00", "end": "2026-01-12T08:00:00+00:00"}]}
        "overrides": [                           # oldest first; later ones win
            {"person": "dave", "start": "2026-03-28T23:00:00+00:00",
             "end": "2026-03-29T05:00:00+00:00"},
        ],
    }

A restriction is either daily (``days`` + ``from``/``to`` times; ``to`` at or before ``from``
ends on the next day, equal means 24 hours, ``24:00`` may end a window) or weekly (``from``
and ``to`` as ``"DAY HH:MM"``; ``to`` at or before ``from`` wraps into the next week). Day
names are ``mon``..``sun`` or full English names, in any case. Specs are strict: unknown keys,
wrong types and bad values are ``ValueError``s naming the part (``layers[1].restrictions[0].to:
...``). ``from_spec(s.to_spec()) == s`` always holds.

Performance
-----------

Everything runs on integer seconds. Each zone's UTC offsets are read once into a table of
transitions (built lazily by year, shared by all schedules in the zone), so placing an instant
on the wall clock and back is a binary search. Handoffs that repeat a fixed pattern are
counted arithmetically in local wall-clock seconds: daily and weekly rotations, and RRULEs
made of FREQ=HOURLY/DAILY/WEEKLY with only INTERVAL, WKST, plain BYDAY and BYHOUR/BYMINUTE/
BYSECOND (``FREQ=WEEKLY;BYDAY=MO,TH``, 12-hour shifts). With restrictions, which turns are
skipped repeats with the pattern and the week, and is counted in closed form. Other RRULEs
(monthly, BYSETPOS, ...) are expanded by dateutil once per schedule object, lazily, as far
as lookups reach, and found by binary search. Overrides are flattened once per schedule into
non-overlapping pieces. A lookup costs a few microseconds and never enumerates turns from
the start. Keep schedule objects (and so their caches) for as long as they do not change.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import re
import threading
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

# Day names and zones are read as the SLA calendars read them.
from escalations.rules.business_time import DAY_INDEX, DAY_KEYS, fmt_time, load_zone

__all__ = [
    "DAY_KEYS",
    "Gap",
    "OnCall",
    "Override",
    "Restriction",
    "Rotation",
    "Schedule",
    "Shift",
    "ShiftLayer",
    "final_shifts",
    "gaps",
    "next_on_call",
    "on_call",
    "paging_order",
]


_DAY = 86_400
_WEEK = 7 * _DAY
_ONE_SECOND = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
#: Wall seconds count from 1970-01-01 00:00 (a Thursday); this shift makes Monday 00:00 zero.
_MONDAY_SHIFT = 3 * _DAY

#: Supported instants (UTC): 1900-01-01 up to, not including, 2200-01-01.
_MIN_T = -2_208_988_800
_MAX_T = 7_258_118_400
#: Sentinels for "no bound" in wall and epoch seconds, far outside any real value.
_NEG = -(1 << 62)
_POS = 1 << 62

_KINDS = ("daily", "weekly")
_MAX_INTERVAL = 1000
_MAX_HANDOFFS_A_YEAR = 3000
_RULE_CHUNK = 64
_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_ALWAYS_AWARE = (type(UTC), ZoneInfo)
_PROBE_STEP = 3 * _DAY

_TIME_RE = re.compile(r"\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*")
_DAY_TIME_RE = re.compile(r"\s*([A-Za-z]+)\s+(\d{1,2}:\d{2}(?::\d{2})?)\s*")
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RRULE_PART_RE = re.compile(r"([A-Z]+)=([^;=]+)")

_SPEC_KEYS = ("timezone", "layers", "overrides")
_LAYER_KEYS = ("name", "people", "recurrence", "interval", "start", "handoff", "restrictions")
_RESTRICTION_KEYS = ("days", "from", "to")
_OVERRIDE_KEYS = ("person", "start", "end")
_SHIFT_LAYER_KEYS = ("name", "shifts")
_SHIFT_KEYS = ("person", "start", "end")
#: An imported feed over four months has a few hundred; far more is a mistake or an attack.
MAX_SHIFTS = 20_000


# ---------------------------------------------------------------------- data shapes


@dataclass(frozen=True, slots=True)
class Restriction:
    """A weekly wall-clock window: opens on each of ``days`` (0 = Monday) at ``start`` local
    time and stays open for ``length`` of wall-clock time.

    ``length`` is at most a day when several days are given (a window per day) and at most a
    week for a single day (e.g. Friday 18:00 for 63 hours: the weekend). A window longer than
    the gap to the next one simply overlaps it; the rotation uses the union.
    """

    days: tuple[int, ...]
    start: time
    length: timedelta

    def __post_init__(self) -> None:
        days = _check_days(self.days)
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "start", _check_time(self.start, "start"))
        if not isinstance(self.length, timedelta):
            raise ValueError(f"length: expected a timedelta, got {type(self.length).__name__}")
        if self.length % _ONE_SECOND:
            raise ValueError(f"length: {self.length} is not a whole number of seconds")
        if self.length <= timedelta(0):
            raise ValueError(f"length: must be positive, got {self.length}")
        longest = timedelta(days=1) if len(days) > 1 else timedelta(days=7)
        if self.length > longest:
            raise ValueError(
                f"length: {self.length} is longer than "
                + ("a day (write a window per day)" if len(days) > 1 else "a week")
            )

    def week_windows(self) -> list[tuple[int, int]]:
        """``(open, close)`` in seconds after Monday 00:00 wall clock; ``close`` may pass the
        end of the week (the window wraps into the next one)."""
        offset = _seconds_of(self.start)
        length = self.length // _ONE_SECOND
        return [(day * _DAY + offset, day * _DAY + offset + length) for day in self.days]


@dataclass(frozen=True, slots=True)
class Rotation:
    """One layer: people taking turns by a recurrence, optionally only inside windows.

    ``start`` is the local date of the first handoff and ``handoff`` its local time of day
    (for an RRULE: its DTSTART). See the module docstring for the semantics.
    """

    people: tuple[str, ...]
    recurrence: str
    start: date
    handoff: time
    interval: int = 1
    restrictions: tuple[Restriction, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.people, str) or not isinstance(self.people, tuple | list):
            raise ValueError(f"people: expected a list of names, got {type(self.people).__name__}")
        people = tuple(self.people)
        if not people:
            raise ValueError("people: at least one person is needed")
        for i, person in enumerate(people):
            _check_person(person, f"people[{i}]")
        object.__setattr__(self, "people", people)
        if not isinstance(self.recurrence, str) or not self.recurrence.strip():
            raise ValueError(
                f'recurrence: expected "daily", "weekly" or an RRULE, got {self.recurrence!r}'
            )
        recurrence = self.recurrence.strip()
        if recurrence.lower() in _KINDS:
            recurrence = recurrence.lower()
        elif "=" not in recurrence:
            raise ValueError(
                f'recurrence: "{recurrence}" is not "daily", "weekly" or an RRULE '
                '(e.g. "FREQ=WEEKLY;BYDAY=MO,TH")'
            )
        object.__setattr__(self, "recurrence", recurrence)
        if not isinstance(self.start, date) or isinstance(self.start, datetime):
            raise ValueError(f"start: expected a date, got {type(self.start).__name__}")
        if not 1900 <= self.start.year <= 2199:
            raise ValueError(f"start: {self.start} is outside the years 1900-2199")
        object.__setattr__(self, "handoff", _check_time(self.handoff, "handoff"))
        if isinstance(self.interval, bool) or not isinstance(self.interval, int):
            raise ValueError(f"interval: expected a whole number, got {self.interval!r}")
        if not 1 <= self.interval <= _MAX_INTERVAL:
            raise ValueError(f"interval: must be 1 to {_MAX_INTERVAL}, got {self.interval}")
        if self.is_rrule:
            if self.interval != 1:
                raise ValueError("interval: not used with an RRULE; put INTERVAL= in the rule")
            _check_rrule(self.recurrence, self.first_handoff_wall())
        if not isinstance(self.restrictions, tuple | list):
            raise ValueError(
                f"restrictions: expected a list, got {type(self.restrictions).__name__}"
            )
        restrictions = tuple(self.restrictions)
        for i, item in enumerate(restrictions):
            if not isinstance(item, Restriction):
                raise ValueError(
                    f"restrictions[{i}]: expected a Restriction, got {type(item).__name__}"
                )
        object.__setattr__(self, "restrictions", restrictions)
        if not isinstance(self.name, str):
            raise ValueError(f"name: expected a string, got {type(self.name).__name__}")

    @property
    def is_rrule(self) -> bool:
        """True when ``recurrence`` is an RRULE rather than ``"daily"``/``"weekly"``."""
        return self.recurrence not in _KINDS

    def first_handoff_wall(self) -> datetime:
        """``start`` at ``handoff`` as a naive local datetime (the RRULE's DTSTART)."""
        return datetime.combine(self.start, self.handoff)


@dataclass(frozen=True, slots=True)
class Override:
    """``person`` is on call in ``[start, end)`` whatever the layers say; ``person=None``
    means nobody is (leave without cover). Instants are stored in UTC, floored to the second."""

    person: str | None
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.person is not None:
            _check_person(self.person, "person")
        start = _from_epoch(_epoch(self.start, "start"))
        end = _from_epoch(_epoch(self.end, "end"))
        if end <= start:
            raise ValueError(
                f"end: {self.end.isoformat()} is not after start {self.start.isoformat()}"
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)


class OnCall(NamedTuple):
    """Who is on call at an instant, from which source, and for which stretch.

    ``layer`` is the index in ``Schedule.layers`` (0 = bottom) or ``None``; ``override`` the
    index in ``Schedule.overrides`` or ``None``; exactly one of them is set. ``[start, end)``
    (UTC) is the stretch around the instant during which that source keeps this person on
    call: the part of one turn inside one window, not covered by a higher layer or an
    override; or the visible part of one override. ``final_shifts`` merges such stretches.
    """

    person: str
    start: datetime
    end: datetime
    layer: int | None = None
    override: int | None = None


class Shift(NamedTuple):
    """A final shift: ``person`` on call in ``[start, end)`` (UTC)."""

    person: str
    start: datetime
    end: datetime


class Gap(NamedTuple):
    """Nobody on call in ``[start, end)`` (UTC)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ShiftLayer:
    """A layer of explicit shifts: ``Shift(person, start, end)``, aware instants, half-open,
    stored in UTC floored to the second. Where shifts overlap the one listed last wins.
    ``person=None`` is a shift of nobody (an imported event that names no known person): it
    wins over the shifts listed before it, and the layers below show through it."""

    shifts: tuple[Shift, ...]
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.shifts, str) or not isinstance(self.shifts, tuple | list):
            raise ValueError(f"shifts: expected a list, got {type(self.shifts).__name__}")
        if len(self.shifts) > MAX_SHIFTS:
            raise ValueError(f"shifts: {len(self.shifts)} shifts; at most {MAX_SHIFTS}")
        shifts = []
        for i, item in enumerate(self.shifts):
            if not isinstance(item, tuple) or len(item) != 3:
                raise ValueError(f"shifts[{i}]: expected (person, start, end), got {item!r}")
            person, start, end = item
            if person is not None:
                _check_person(person, f"shifts[{i}].person")
            for key, moment in (("start", start), ("end", end)):
                if not isinstance(moment, datetime):
                    raise ValueError(
                        f"shifts[{i}].{key}: expected an aware datetime, got {moment!r}"
                    )
            lo = _epoch(start, f"shifts[{i}].start")
            hi = _epoch(end, f"shifts[{i}].end")
            if hi <= lo:
                raise ValueError(
                    f"shifts[{i}].end: {end.isoformat()} is not after start {start.isoformat()}"
                )
            shifts.append(Shift(person, _from_epoch(lo), _from_epoch(hi)))
        object.__setattr__(self, "shifts", tuple(shifts))
        if not isinstance(self.name, str):
            raise ValueError(f"name: expected a string, got {type(self.name).__name__}")

    @property
    def people(self) -> tuple[str, ...]:
        """The shifts' persons, each once, in order of first appearance."""
        return tuple(dict.fromkeys(s.person for s in self.shifts if s.person is not None))


@dataclass(frozen=True, eq=True, repr=False)
class Schedule:
    """A zone, layers (bottom first) and overrides (oldest first); immutable and hashable.

    Build one with ``Schedule(...)`` or ``Schedule.from_spec(spec)``. Instances cache what
    lookups compute (RRULE handoffs, flattened overrides); the cache is thread-safe and never
    changes results. Keep a schedule object around to keep its cache warm.
    """

    timezone: str
    layers: tuple[Rotation | ShiftLayer, ...] = ()
    overrides: tuple[Override, ...] = ()
    _state: _State = field(init=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        zone = load_zone(self.timezone)
        kinds = (("layers", (Rotation, ShiftLayer)), ("overrides", (Override,)))
        for name, kind in kinds:
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, tuple | list):
                raise ValueError(f"{name}: expected a list, got {type(value).__name__}")
            value = tuple(value)
            for i, item in enumerate(value):
                if not isinstance(item, kind):
                    expected = " or ".join(k.__name__ for k in kind)
                    raise ValueError(
                        f"{name}[{i}]: expected a {expected}, got {type(item).__name__}"
                    )
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_state", _State(zone, self.layers, self.overrides))

    # ------------------------------------------------------------------ spec round trip

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Schedule:
        """Validate a spec dict (see the module docstring) and build the schedule.

        Raises ``ValueError`` naming the offending part, e.g.
        ``layers[0].handoff: "25:00" is not a time of day (00:00 to 23:59:59)``.
        """
        _check_keys("spec", spec, _SPEC_KEYS, required=("timezone", "layers"))
        timezone = spec["timezone"]
        load_zone(timezone)
        layers = tuple(
            _parse_shift_layer(f"layers[{i}]", item)
            if isinstance(item, Mapping) and "shifts" in item
            else _parse_layer(f"layers[{i}]", item)
            for i, item in enumerate(_as_list("layers", spec["layers"]))
        )
        overrides = tuple(
            _parse_override(f"overrides[{i}]", item)
            for i, item in enumerate(_as_list("overrides", spec.get("overrides", [])))
        )
        return cls(timezone=timezone, layers=layers, overrides=overrides)

    def to_spec(self) -> dict[str, Any]:
        """The canonical spec; ``Schedule.from_spec(s.to_spec()) == s`` always holds."""
        return {
            "timezone": self.timezone,
            "layers": [_layer_spec(layer) for layer in self.layers],
            "overrides": [
                {
                    "person": item.person,
                    "start": item.start.isoformat(),
                    "end": item.end.isoformat(),
                }
                for item in self.overrides
            ],
        }

    def __repr__(self) -> str:
        return f"Schedule.from_spec({self.to_spec()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle the spec, not the cache (locks and dateutil iterators do not pickle).
        return (Schedule.from_spec, (self.to_spec(),))


# ---------------------------------------------------------------------- public functions


def utc_day_start(instant: datetime) -> datetime:
    """Midnight UTC of `instant`'s day: windows and horizons that move a day at a time
    (the feeds, the import, the archive), so a day's answers are the same."""
    return instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def on_call(schedule: Schedule, at: datetime) -> OnCall | None:
    """Who is on call at ``at`` (aware), or ``None`` when nobody is."""
    person, layer, override, lo, hi = schedule._state.piece(_epoch(at, "at"))
    if person is None:
        return None
    return OnCall(
        person, datetime.fromtimestamp(lo, UTC), datetime.fromtimestamp(hi, UTC), layer, override
    )


def final_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The final shifts in ``[start, end)``, clipped to it: sorted, non-overlapping, never
    empty, adjacent pieces of the same person merged (whatever layer or override they come
    from). ``on_call(schedule, t).person`` is the person of the shift covering ``t``."""
    s, e = _range(start, end)
    return [
        Shift(person, _from_epoch(lo), _from_epoch(hi))
        for person, lo, hi in _merged(schedule._state, s, e)
        if person is not None
    ]


def gaps(schedule: Schedule, start: datetime, end: datetime) -> list[Gap]:
    """The intervals of ``[start, end)`` with nobody on call, merged and sorted. Together
    with ``final_shifts`` they tile ``[start, end)`` exactly."""
    s, e = _range(start, end)
    return [
        Gap(_from_epoch(lo), _from_epoch(hi))
        for person, lo, hi in _merged(schedule._state, s, e)
        if person is None
    ]


def paging_order(schedule: Schedule, at: datetime) -> tuple[str, ...]:
    """Whom to page at ``at``, each person once: the person on call first (an override's
    included), then each layer's holder at ``at``, top layer first (the backups: a
    secondary layer's person), then the rest of the highest layer with someone on call, in
    rotation order from its holder. Empty exactly when ``on_call`` is ``None`` (so also
    under an override with nobody)."""
    return schedule._state.paging_order(_epoch(at, "at"))


def paging_order_after(schedule: Schedule, at: datetime, after: str | None) -> tuple[str, ...]:
    """``paging_order`` at ``at`` from the person following ``after`` (wrapping round), never
    ``after`` itself; all of it when ``after`` is not in it (e.g. was paged before a handoff)."""
    order = schedule._state.paging_order(_epoch(at, "at"))
    if after in order:
        i = order.index(after)
        return order[i + 1 :] + order[:i]
    return order


def next_on_call(schedule: Schedule, at: datetime, after: str) -> str | None:
    """The person to page at ``at`` when ``after`` did not acknowledge: the first of
    ``paging_order_after``. ``None`` when there is nobody else: page the level's escalation
    contact instead."""
    order = paging_order_after(schedule, at, after)
    return order[0] if order else None


# ---------------------------------------------------------------------- the zone's wall clock


class _ZoneClock:
    """One zone's local wall clock in integer seconds, from a table of offset transitions.

    ``wall(t)`` is the latest local reading (naive seconds since 1970-01-01 00:00) reached by
    instant ``t``; ``instant(w)`` the first instant whose reading is ``w`` or later. So
    ``t >= instant(w)`` exactly when ``wall(t) >= w``: every wall-clock boundary is a real
    boundary, with the fold=0 / first-instant-after-the-gap conventions built in.

    The table covers whole UTC years and grows on demand. It is found by probing the zone's
    offset every three days and bisecting each change to the second, which finds every change
    because no two offset changes in tzdata between 1900 and 2200 are less than four days
    apart (the closest: Africa/Freetown, 1939).
    """

    __slots__ = ("_lock", "_off_lo", "_table", "_transitions", "zone")

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._lock = threading.Lock()
        self._transitions: list[tuple[int, int]] = []  # (instant, offset from then on)
        self._off_lo = 0
        # (lo, hi, starts, offsets, floors, wall_ends): segment i runs from starts[i] to
        # starts[i + 1] (hi for the last) at offsets[i]; floors[i] is the latest reading
        # before it, wall_ends[i] one past the latest reading inside it.
        self._table: tuple[int, int, list[int], list[int], list[int], list[int]] = (
            0,
            0,
            [],
            [],
            [],
            [],
        )

    def wall(self, t: int) -> int:
        lo, hi, starts, offsets, floors, _ = self._table
        if not lo <= t < hi:
            lo, hi, starts, offsets, floors, _ = self._cover(t, t)
        i = bisect_right(starts, t) - 1
        w = t + offsets[i]
        f = floors[i]
        return w if w > f else f

    def instant(self, w: int) -> int:
        if w <= _MIN_T - _DAY:
            return _MIN_T
        if w >= _MAX_T + _DAY:
            return _MAX_T
        _, _, starts, offsets, _, wall_ends = self._table
        while True:
            i = bisect_right(wall_ends, w)
            if i < len(starts):
                s = starts[i]
                t = w - offsets[i]
                if t >= s:
                    return t
                if i > 0:
                    return s  # w falls into the gap before transition i
            _, _, starts, offsets, _, wall_ends = self._cover(w - 2 * _DAY, w + 2 * _DAY)

    def _offset(self, t: int) -> int:
        offset = datetime.fromtimestamp(t, self.zone).utcoffset()
        assert offset is not None
        return offset // _ONE_SECOND

    def _cover(self, a: int, b: int) -> tuple[int, int, list[int], list[int], list[int], list[int]]:
        """Grow the table to cover ``[a, b]`` (whole UTC years, a year of margin)."""
        a = max(a, _MIN_T - 366 * _DAY)
        b = min(b, _MAX_T + 366 * _DAY)
        with self._lock:
            lo, hi = self._table[0], self._table[1]
            if lo < hi and lo <= a and b < hi:
                return self._table
            new_lo = _year_start(datetime.fromtimestamp(a, UTC).year - 1)
            new_hi = _year_start(datetime.fromtimestamp(b, UTC).year + 2)
            if lo < hi:
                new_lo, new_hi = min(new_lo, lo), max(new_hi, hi)
                found = self._scan(new_lo, lo) + self._transitions + self._scan(hi, new_hi)
            else:
                found = self._scan(new_lo, new_hi)
            self._transitions = found
            self._off_lo = self._offset(new_lo)
            starts = [new_lo] + [t for t, _ in found]
            offsets = [self._off_lo] + [o for _, o in found]
            floors = [new_lo - 1 + self._offset(new_lo - 1)]
            floors += [starts[i] - 1 + offsets[i - 1] for i in range(1, len(starts))]
            wall_ends = [starts[i + 1] + offsets[i] for i in range(len(starts) - 1)]
            wall_ends.append(new_hi + offsets[-1])
            self._table = (new_lo, new_hi, starts, offsets, floors, wall_ends)
            return self._table

    def _scan(self, a: int, b: int) -> list[tuple[int, int]]:
        """Offset changes in ``(a, b]``."""
        found: list[tuple[int, int]] = []
        previous = self._offset(a)
        p = a
        while p < b:
            q = min(p + _PROBE_STEP, b)
            if self._offset(q) == previous:
                p = q
                continue
            x, y = p, q  # offset(x) == previous != offset(y)
            while y - x > 1:
                mid = (x + y) // 2
                if self._offset(mid) == previous:
                    x = mid
                else:
                    y = mid
            previous = self._offset(y)
            found.append((y, previous))
            p = y
        return found


_CLOCKS: dict[str, _ZoneClock] = {}
_CLOCKS_LOCK = threading.Lock()


def _clock(key: str, zone: ZoneInfo) -> _ZoneClock:
    clock = _CLOCKS.get(key)
    if clock is None:
        with _CLOCKS_LOCK:
            clock = _CLOCKS.setdefault(key, _ZoneClock(zone))
    return clock


def _year_start(year: int) -> int:
    return (date(year, 1, 1).toordinal() - _EPOCH_ORDINAL) * _DAY


def _wall_of(moment: datetime) -> int:
    """Naive local datetime -> wall seconds since 1970-01-01 00:00."""
    return (
        (moment.toordinal() - _EPOCH_ORDINAL) * _DAY
        + moment.hour * 3600
        + moment.minute * 60
        + moment.second
    )


# ---------------------------------------------------------------------- layers on the wall clock


class _Windows:
    """The union of a rotation's windows as sorted, disjoint, non-touching week positions
    (seconds after Monday 00:00); only the last may run past the end of the week."""

    __slots__ = ("ends", "starts")

    def __init__(self, intervals: list[tuple[int, int]]) -> None:
        self.starts = [s for s, _ in intervals]
        self.ends = [e for _, e in intervals]

    @classmethod
    def of(cls, restrictions: tuple[Restriction, ...]) -> _Windows | None:
        """``None`` when there are no restrictions or they cover the whole week."""
        raw = [window for item in restrictions for window in item.week_windows()]
        if not raw:
            return None
        # Merge on the line over neighbouring weeks, then keep one week's worth.
        unrolled = sorted((s + k * _WEEK, e + k * _WEEK) for s, e in raw for k in (-1, 0, 1, 2))
        merged: list[list[int]] = []
        for s, e in unrolled:
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        if any(e - s >= _WEEK for s, e in merged):
            return None
        return cls([(s, e) for s, e in merged if 0 <= s < _WEEK])

    def find(self, w: int) -> tuple[bool, int, int]:
        """``(True, open, close)`` of the window occurrence holding wall time ``w``; else
        ``(False, close of the previous one, open of the next one)``."""
        pos = (w + _MONDAY_SHIFT) % _WEEK
        base = w - pos
        starts, ends = self.starts, self.ends
        i = bisect_right(starts, pos) - 1
        if i >= 0:
            if pos < ends[i]:
                return True, base + starts[i], base + ends[i]
            previous = base + ends[i]
        else:
            previous = base + ends[-1] - _WEEK
            if pos < ends[-1] - _WEEK:
                return True, base + starts[-1] - _WEEK, previous
        following = base + starts[i + 1] if i + 1 < len(starts) else base + _WEEK + starts[0]
        return False, previous, following

    def overlaps(self, a: int, b: int) -> bool:
        """Whether the wall-clock span ``[a, b)`` overlaps any window."""
        if b - a >= _WEEK:
            return True
        inside, _, following = self.find(a)
        return inside or following < b


class _Layer:
    """A rotation's turns on the wall clock. ``at(w)`` answers ``(person index, lo, hi)``:
    the person on call at wall time ``w`` and the wall stretch ``[lo, hi)`` around ``w``
    where that holds; person ``-1`` means nobody, ``[lo, hi)`` then being the stretch
    without anyone (``_NEG``/``_POS`` when unbounded)."""

    __slots__ = ("count", "first_on", "windows")

    count: int
    first_on: int
    windows: _Windows | None

    def at(self, w: int) -> tuple[int, int, int]:
        raise NotImplementedError

    def _first_on(self, first: int) -> int:
        if self.windows is None:
            return first
        inside, _, following = self.windows.find(first)
        return first if inside else following


class _Pattern(_Layer):
    """Handoffs that repeat a fixed pattern: at ``base + m * block + offsets[j]`` for every
    block ``m >= 0``, skipping the first ``skip`` slots (before DTSTART). Daily and weekly
    rotations are one offset in a block of N days or weeks; RRULEs such as
    ``FREQ=WEEKLY;BYDAY=MO,TH`` are several. Counted arithmetically: a slot's index is
    ``m * len(offsets) + j``. With windows, which slots cover one repeats every ``cycle``
    slots (the blocks in the block length's and the week's least common multiple)."""

    __slots__ = (
        "active_skip",
        "base",
        "block",
        "cycle",
        "first",
        "offsets",
        "per_cycle",
        "prefix",
        "single",
        "skip",
    )

    def __init__(self, rotation: Rotation, base: int, block: int, offsets: list[int]) -> None:
        self.count = len(rotation.people)
        self.base, self.block, self.offsets = base, block, offsets
        self.single = len(offsets) == 1
        w0 = _wall_of(rotation.first_handoff_wall())
        self.skip = sum(1 for offset in offsets if base + offset < w0)
        self.first = self._slot(self.skip)
        self.windows = _Windows.of(rotation.restrictions)
        self.cycle = _WEEK // math.gcd(block, _WEEK) * len(offsets)
        self.prefix = [0]
        if self.windows is not None:
            for g in range(self.cycle):
                covered = self.windows.overlaps(self._slot(g), self._slot(g + 1))
                self.prefix.append(self.prefix[-1] + covered)
        self.per_cycle = self.prefix[-1]
        self.active_skip = self._active_before(self.skip) if self.windows is not None else 0
        self.first_on = self._first_on(self.first)

    def _slot(self, g: int) -> int:
        m, j = divmod(g, len(self.offsets))
        return self.base + m * self.block + self.offsets[j]

    def _active_before(self, g: int) -> int:
        """Slots before slot ``g`` that cover a window (from slot 0)."""
        q, r = divmod(g, self.cycle)
        return q * self.per_cycle + self.prefix[r]

    def at(self, w: int) -> tuple[int, int, int]:
        if w < self.first:
            return -1, _NEG, self.first_on
        block, offsets = self.block, self.offsets
        m, rest = divmod(w - self.base, block)
        start = self.base + m * block
        if self.single:  # daily, weekly, every N hours: one slot a block
            g, a, b = m, start + offsets[0], start + block + offsets[0]
            if a > w:  # w lies before this block's slot (an offset past midnight)
                g, a, b = m - 1, a - block, a
        else:
            j = bisect_right(offsets, rest) - 1
            if j < 0:
                m, j, start = m - 1, len(offsets) - 1, start - block
            g = m * len(offsets) + j
            a = start + offsets[j]
            b = start + offsets[j + 1] if j + 1 < len(offsets) else start + block + offsets[0]
        windows = self.windows
        if windows is None:
            return (g - self.skip) % self.count, a, b
        inside, lo, hi = windows.find(w)
        if not inside:
            # Before the first window after the first handoff there was never anyone.
            return -1, (lo if lo > self.first_on else _NEG), hi
        who = (self._active_before(g) - self.active_skip) % self.count
        return who, (a if a > lo else lo), (b if b < hi else hi)


class _Rule(_Layer):
    """RRULE turns: handoffs expanded lazily from the start as far as lookups reach, with the
    number of turns that covered a window before each (restricted rotations)."""

    __slots__ = ("active_before", "exhausted", "handoffs", "lock", "source")

    def __init__(self, rotation: Rotation) -> None:
        self.count = len(rotation.people)
        self.windows = _Windows.of(rotation.restrictions)
        self.source: Iterator[datetime] = iter(_parse_rrule(rotation))
        self.handoffs: list[int] = []
        self.active_before: list[int] = []
        self.exhausted = False
        self.lock = threading.Lock()
        self._extend(_NEG)
        self.first_on = self._first_on(self.handoffs[0]) if self.handoffs else _POS

    def _extend(self, w: int) -> None:
        """Expand until a handoff after ``w`` is known (or the rule ends)."""
        with self.lock:
            handoffs, active = self.handoffs, self.active_before
            while not self.exhausted and (not handoffs or handoffs[-1] <= w):
                for _ in range(_RULE_CHUNK):
                    moment = next(self.source, None)
                    if moment is None or moment.year > 2200:
                        self.exhausted = True
                        break
                    wall = _wall_of(moment)
                    if handoffs:
                        covered = self.windows is None or self.windows.overlaps(handoffs[-1], wall)
                        active.append(active[-1] + covered)
                    else:
                        active.append(0)
                    handoffs.append(wall)

    def at(self, w: int) -> tuple[int, int, int]:
        handoffs = self.handoffs
        if not self.exhausted and (not handoffs or handoffs[-1] <= w):
            self._extend(w)
        k = bisect_right(handoffs, w) - 1
        if k < 0:
            return -1, _NEG, self.first_on
        a = handoffs[k]
        b = handoffs[k + 1] if k + 1 < len(handoffs) else _POS
        windows = self.windows
        if windows is None:
            return k % self.count, a, b
        inside, lo, hi = windows.find(w)
        if not inside:
            return -1, (lo if lo > self.first_on else _NEG), hi
        who = self.active_before[k] % self.count
        return who, (a if a > lo else lo), (b if b < hi else hi)


class _State:
    """A schedule's lookup machinery (the schedule's private cache)."""

    __slots__ = ("clock", "layers", "ov_ends", "ov_starts", "ov_winner", "persons", "top_down")

    def __init__(
        self,
        zone: ZoneInfo,
        layers: tuple[Rotation | ShiftLayer, ...],
        overrides: tuple[Override, ...],
    ) -> None:
        self.clock = _clock(zone.key, zone)
        self.layers: list[_Layer | _Shifts] = [
            _Shifts(layer)
            if isinstance(layer, ShiftLayer)
            else _Pattern(layer, *pattern)
            if (pattern := _pattern_of(layer))
            else _Rule(layer)
            for layer in layers
        ]
        # (index, lookup, people, on the wall clock?) from the highest layer down: the order
        # lookups ask in. Rotations answer in wall seconds, explicit shifts in epoch seconds.
        self.top_down = [
            (
                index,
                self.layers[index].at,
                layers[index].people,
                not isinstance(layers[index], ShiftLayer),
            )
            for index in range(len(layers) - 1, -1, -1)
        ]
        self.persons = [item.person for item in overrides]
        self.ov_starts, self.ov_ends, self.ov_winner = _flatten(overrides)

    def piece(self, t: int) -> tuple[str | None, int | None, int | None, int, int]:
        """``(person, layer, override, lo, hi)``: who is on call at ``t``, from which source,
        and the stretch ``[lo, hi)`` (epoch seconds, clipped to the supported range) around
        ``t`` on which that holds."""
        lo, hi = _MIN_T, _MAX_T
        starts = self.ov_starts
        if starts:
            j = bisect_right(starts, t) - 1
            if j >= 0:
                end = self.ov_ends[j]
                if t < end:
                    winner = self.ov_winner[j]
                    return self.persons[winner], None, winner, starts[j], end
                lo = end
            if j + 1 < len(starts):
                hi = starts[j + 1]
        # The zone clock's wall() and instant(), inlined: this is the hot path.
        clock = self.clock
        table = clock._table
        if not table[0] <= t < table[1]:
            table = clock._cover(t, t)
        _, _, segments, offsets, floors, wall_ends = table
        i = bisect_right(segments, t) - 1
        w = t + offsets[i]
        if w < floors[i]:
            w = floors[i]
        wlo, whi = _NEG, _POS
        person: str | None = None
        source: int | None = None
        for index, at, people, on_wall in self.top_down:
            if on_wall:
                who, a, b = at(w)
                if a > wlo:
                    wlo = a
                if b < whi:
                    whi = b
            else:
                who, a, b = at(t)
                if a > lo:
                    lo = a
                if b < hi:
                    hi = b
            if who >= 0:
                person, source = people[who], index
                break
        last = len(segments)
        if wlo != _NEG:
            i = bisect_right(wall_ends, wlo)
            if 0 < i < last:
                wlo -= offsets[i]
                if wlo < segments[i]:
                    wlo = segments[i]  # in the gap before transition i
            else:
                wlo = clock.instant(wlo)
            if wlo > lo:
                lo = wlo
        if whi != _POS:
            i = bisect_right(wall_ends, whi)
            if 0 < i < last:
                whi -= offsets[i]
                if whi < segments[i]:
                    whi = segments[i]
            else:
                whi = clock.instant(whi)
            if whi < hi:
                hi = whi
        return person, source, None, lo, hi

    def paging_order(self, t: int) -> tuple[str, ...]:
        person = self.piece(t)[0]
        if person is None:
            return ()  # nobody, also under an override with nobody (leave without cover)
        order = [person]
        w = self.clock.wall(t)
        top: tuple[str, ...] | list[str] = []
        for index, at, people, on_wall in self.top_down:
            who = at(w if on_wall else t)[0]
            if who >= 0:
                # Every layer's holder is a backup, paged before the rest of the rota.
                if people[who] not in order:
                    order.append(people[who])
                if not top:
                    layer = self.layers[index]
                    top = (
                        layer.order_from(t)
                        if isinstance(layer, _Shifts)
                        else people[who:] + people[:who]
                    )
        for name in top:
            if name not in order:
                order.append(name)
        return tuple(order)


class _Shifts:
    """A layer of explicit shifts on the real clock: ``at(t)`` answers ``(person index, lo,
    hi)`` in epoch seconds, as ``_Layer.at`` does on the wall clock (``-1``: nobody)."""

    __slots__ = ("ends", "people", "persons", "starts", "winners")

    def __init__(self, layer: ShiftLayer) -> None:
        self.people = layer.people
        index = {name: i for i, name in enumerate(self.people)}
        self.persons = [index.get(shift.person, -1) for shift in layer.shifts]
        # The same flattening as overrides: the later-listed shift wins where they overlap.
        self.starts, self.ends, self.winners = _flatten(layer.shifts)

    def at(self, t: int) -> tuple[int, int, int]:
        starts = self.starts
        j = bisect_right(starts, t) - 1
        lo, hi = _MIN_T, _MAX_T
        if j >= 0:
            if t < self.ends[j]:
                # A shift of nobody (-1) is a stretch without anyone, as between shifts.
                return self.persons[self.winners[j]], starts[j], self.ends[j]
            lo = self.ends[j]
        if j + 1 < len(starts):
            hi = starts[j + 1]
        return -1, lo, hi

    def order_from(self, t: int) -> tuple[str, ...]:
        """The people in the order they are on call from ``t`` on, then the rest."""
        seen: dict[str, None] = {}
        j = max(bisect_right(self.starts, t) - 1, 0)
        for k in range(j, len(self.starts)):
            who = self.persons[self.winners[k]]
            if self.ends[k] > t and who >= 0:
                seen.setdefault(self.people[who])
                if len(seen) == len(self.people):
                    break
        return tuple(seen) + tuple(name for name in self.people if name not in seen)


def _flatten(
    overrides: tuple[Override, ...] | tuple[Shift, ...],
) -> tuple[list[int], list[int], list[int]]:
    """Non-overlapping pieces ``(starts, ends, winner index)``: on each, the override listed
    last among those covering it; touching pieces of one override are joined."""
    spans = [(_epoch(o.start, "start"), _epoch(o.end, "end"), i) for i, o in enumerate(overrides)]
    points = sorted({p for s, e, _ in spans for p in (s, e)})
    by_start = sorted(spans)
    starts: list[int] = []
    ends: list[int] = []
    winners: list[int] = []
    active: list[tuple[int, int]] = []  # heap of (-index, end)
    n = 0
    for a, b in itertools.pairwise(points):
        while n < len(by_start) and by_start[n][0] <= a:
            heapq.heappush(active, (-by_start[n][2], by_start[n][1]))
            n += 1
        while active and active[0][1] <= a:
            heapq.heappop(active)
        if not active:
            continue
        winner = -active[0][0]
        if ends and ends[-1] == a and winners[-1] == winner:
            ends[-1] = b
        else:
            starts.append(a)
            ends.append(b)
            winners.append(winner)
    return starts, ends, winners


def _pieces(state: _State, s: int, e: int) -> Iterator[tuple[str | None, int, int]]:
    t = s
    while t < e:
        person, _, _, _, hi = state.piece(t)
        hi = min(hi, e)
        yield person, t, hi
        t = hi


def _merged(state: _State, s: int, e: int) -> list[tuple[str | None, int, int]]:
    """Pieces of ``[s, e)`` with touching pieces of the same person (or of nobody) joined."""
    out: list[tuple[str | None, int, int]] = []
    for person, lo, hi in _pieces(state, s, e):
        if out and out[-1][0] == person and out[-1][2] == lo:
            out[-1] = (person, out[-1][1], hi)
        else:
            out.append((person, lo, hi))
    return out


# ---------------------------------------------------------------------- RRULE


def _pattern_of(rotation: Rotation) -> tuple[int, int, list[int]] | None:
    """``(base, block, offsets)`` (wall seconds) when the handoffs repeat a fixed pattern."""
    first = rotation.first_handoff_wall()
    if not rotation.is_rrule:
        block = _WEEK if rotation.recurrence == "weekly" else _DAY
        return _wall_of(first), rotation.interval * block, [0]
    return _rrule_pattern(_rrule_parts(rotation.recurrence), first)


def _rrule_pattern(parts: dict[str, str], dtstart: datetime) -> tuple[int, int, list[int]] | None:
    """The pattern of an RRULE that dateutil expands into a fixed one, else ``None``.

    HOURLY with only INTERVAL steps from DTSTART. DAILY and WEEKLY with only INTERVAL,
    WKST, BYHOUR/BYMINUTE/BYSECOND and plain BYDAY repeat in blocks: WEEKLY every INTERVAL
    weeks (weeks start on WKST, the first holding DTSTART), each BYDAY at each time; DAILY
    every INTERVAL days from DTSTART's date, kept on BYDAY days, so the pattern repeats
    every lcm(INTERVAL, 7) days. Missing parts come from DTSTART, as dateutil takes them.
    """
    freq = parts["FREQ"]
    interval = int(parts.get("INTERVAL", "1"))
    if freq == "HOURLY":
        if parts.keys() <= {"FREQ", "INTERVAL", "WKST"}:
            return _wall_of(dtstart), interval * 3600, [0]
        return None
    allowed = {"FREQ", "INTERVAL", "WKST", "BYDAY", "BYHOUR", "BYMINUTE", "BYSECOND"}
    if freq not in ("DAILY", "WEEKLY") or not parts.keys() <= allowed:
        return None
    codes = parts.get("BYDAY", _WEEKDAY_CODES[dtstart.weekday()]).split(",")
    if not set(codes) <= set(_WEEKDAY_CODES):
        return None  # "1MO", "-1FR": positions within a month or year
    weekdays = {_WEEKDAY_CODES.index(code) for code in codes}
    times = sorted(
        h * 3600 + m * 60 + s
        for h in _numbers(parts.get("BYHOUR"), dtstart.hour)
        for m in _numbers(parts.get("BYMINUTE"), dtstart.minute)
        for s in _numbers(parts.get("BYSECOND"), dtstart.second)
    )
    midnight = datetime.combine(dtstart.date(), time())
    if freq == "DAILY":
        if "BYDAY" not in parts:
            return _wall_of(midnight), interval * _DAY, times
        days = interval * 7 // math.gcd(interval, 7)
        steps = [
            step * interval * _DAY
            for step in range(days // interval)
            if (dtstart.weekday() + step * interval) % 7 in weekdays
        ]
        if not steps:
            return None  # never on one of those days; dateutil finds no handoff either
        return _wall_of(midnight), days * _DAY, sorted(s + t for s in steps for t in times)
    wkst = _WEEKDAY_CODES.index(parts.get("WKST", "MO"))
    week_start = midnight - timedelta(days=(dtstart.weekday() - wkst) % 7)
    offsets = sorted(((day - wkst) % 7) * _DAY + t for day in weekdays for t in times)
    return _wall_of(week_start), interval * _WEEK, offsets


def _numbers(text: str | None, default: int) -> set[int]:
    return {default} if text is None else {int(part) for part in text.split(",")}


def _rrule_parts(text: str) -> dict[str, str]:
    body = text[6:] if text.upper().startswith("RRULE:") else text
    if "\n" in body or "\r" in body:
        raise ValueError(f'recurrence: "{text}" has several lines; give a single RRULE')
    parts: dict[str, str] = {}
    for chunk in body.split(";"):
        match = _RRULE_PART_RE.fullmatch(chunk.strip().upper())
        if match is None:
            raise ValueError(f'recurrence: "{text}" is not an RRULE ("{chunk}" is not NAME=VALUE)')
        parts[match[1]] = match[2]
    return parts


def _check_rrule(text: str, dtstart: datetime) -> None:
    parts = _rrule_parts(text)
    if "FREQ" not in parts:
        raise ValueError(f'recurrence: "{text}" has no FREQ (e.g. "FREQ=WEEKLY;BYDAY=MO")')
    for name in ("COUNT", "UNTIL", "DTSTART"):
        if name in parts:
            raise ValueError(
                f'recurrence: "{text}" has {name}; a rotation runs until it is changed '
                "and starts at its start date and handoff time"
            )
    if parts["FREQ"] in ("SECONDLY", "MINUTELY"):
        raise ValueError(f'recurrence: "{text}" hands off more often than hourly')
    try:
        rule = rrulestr(text, dtstart=dtstart)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f'recurrence: "{text}" is not a valid RRULE ({exc})') from None
    if not isinstance(rule, rrule):
        raise ValueError(f'recurrence: "{text}" is not a single RRULE')
    pattern = _rrule_pattern(parts, dtstart)
    if pattern is not None:
        _, block, offsets = pattern
        if 366 * _DAY // block * len(offsets) > _MAX_HANDOFFS_A_YEAR:
            raise ValueError(
                f'recurrence: "{text}" hands off more than {_MAX_HANDOFFS_A_YEAR} times a year'
            )
        return
    # dateutil looks for the next occurrence up to the year 9999 however long it takes, so an
    # impossible rule ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30") would cost seconds. The Gregorian
    # calendar repeats every 400 years: check a copy moved forward by whole cycles to just
    # before 9999, which has the same handoffs and at most about 400 years left to search.
    shifted = dtstart.replace(year=dtstart.year + (9994 - dtstart.year) // 400 * 400)
    one_year = shifted + timedelta(days=366)
    five_years = shifted + timedelta(days=5 * 366)
    found = False
    for count, moment in enumerate(rule.replace(dtstart=shifted), start=1):
        if moment >= five_years:
            break
        found = True
        if moment >= one_year:
            break
        if count > _MAX_HANDOFFS_A_YEAR:
            raise ValueError(
                f'recurrence: "{text}" hands off more than {_MAX_HANDOFFS_A_YEAR} times a year'
            )
    if not found:
        raise ValueError(f'recurrence: "{text}" has no handoff in the five years after start')


def _parse_rrule(rotation: Rotation) -> rrule:
    rule = rrulestr(rotation.recurrence, dtstart=rotation.first_handoff_wall())
    assert isinstance(rule, rrule)
    return rule


# ---------------------------------------------------------------------- spec parsing


@contextlib.contextmanager
def _prefixed(path: str) -> Iterator[None]:
    """Constructors name the field; specs name where the field sits."""
    try:
        yield
    except ValueError as exc:
        raise ValueError(f"{path}.{exc}") from None


def _check_keys(
    path: str, value: object, allowed: tuple[str, ...], required: tuple[str, ...]
) -> None:
    if not isinstance(value, Mapping):
        raise ValueError(f"{path}: expected a mapping, got {type(value).__name__}")
    for key in value:
        if key not in allowed:
            raise ValueError(f'{path}: unknown key "{key}" (expected {", ".join(allowed)})')
    for key in required:
        if key not in value:
            where = "spec" if path == "spec" else path
            raise ValueError(f'{where}: missing "{key}"')


def _as_list(path: str, value: object) -> list[Any]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError(f"{path}: expected a list, got {type(value).__name__}")
    return list(value)


def _parse_layer(path: str, value: object) -> Rotation:
    _check_keys(path, value, _LAYER_KEYS, required=("people", "recurrence", "start", "handoff"))
    assert isinstance(value, Mapping)
    name = value.get("name", "")
    if not isinstance(name, str):
        raise ValueError(f"{path}.name: expected a string, got {type(name).__name__}")
    people = _as_list(f"{path}.people", value["people"])
    recurrence = value["recurrence"]
    if not isinstance(recurrence, str):
        raise ValueError(
            f'{path}.recurrence: expected "daily", "weekly" or an RRULE string, '
            f"got {type(recurrence).__name__}"
        )
    if "interval" in value and recurrence.strip().lower() not in _KINDS:
        raise ValueError(f"{path}.interval: not used with an RRULE; put INTERVAL= in the rule")
    interval = value.get("interval", 1)
    start = _parse_date(f"{path}.start", value["start"])
    handoff = _parse_time(f"{path}.handoff", value["handoff"])
    restrictions = tuple(
        _parse_restriction(f"{path}.restrictions[{i}]", item)
        for i, item in enumerate(_as_list(f"{path}.restrictions", value.get("restrictions", [])))
    )
    with _prefixed(path):
        return Rotation(
            people=tuple(people),
            recurrence=recurrence,
            start=start,
            handoff=handoff,
            interval=interval,
            restrictions=restrictions,
            name=name,
        )


def _parse_shift_layer(path: str, value: Mapping[str, Any]) -> ShiftLayer:
    _check_keys(path, value, _SHIFT_LAYER_KEYS, required=("shifts",))
    name = value.get("name", "")
    if not isinstance(name, str):
        raise ValueError(f"{path}.name: expected a string, got {type(name).__name__}")
    items = _as_list(f"{path}.shifts", value["shifts"])
    if len(items) > MAX_SHIFTS:
        raise ValueError(f"{path}.shifts: {len(items)} shifts; at most {MAX_SHIFTS}")
    shifts = []
    for i, item in enumerate(items):
        where = f"{path}.shifts[{i}]"
        _check_keys(where, item, _SHIFT_KEYS, required=_SHIFT_KEYS)
        person = item["person"]
        if person is not None and not isinstance(person, str):
            raise ValueError(
                f"{where}.person: expected a name or null (nobody), got {type(person).__name__}"
            )
        start = _parse_instant(f"{where}.start", item["start"])
        end = _parse_instant(f"{where}.end", item["end"])
        shifts.append(Shift(person, start, end))
    with _prefixed(path):
        return ShiftLayer(shifts=tuple(shifts), name=name)


def _parse_restriction(path: str, value: object) -> Restriction:
    if isinstance(value, Mapping) and "days" in value:
        _check_keys(path, value, _RESTRICTION_KEYS, required=("days", "from", "to"))
        days = _parse_days(f"{path}.days", value["days"])
        start = _parse_clock(f"{path}.from", value["from"], allow_24=False)
        end = _parse_clock(f"{path}.to", value["to"], allow_24=True)
        length = end - start if end > start else end + _DAY - start
    else:
        _check_keys(path, value, ("from", "to"), required=("from", "to"))
        assert isinstance(value, Mapping)
        day, start = _parse_day_time(f"{path}.from", value["from"])
        end_day, end = _parse_day_time(f"{path}.to", value["to"])
        days = (day,)
        length = (end_day * _DAY + end - day * _DAY - start) % _WEEK or _WEEK
    with _prefixed(path):
        return Restriction(days=days, start=_time_of(start), length=timedelta(seconds=length))


def _parse_override(path: str, value: object) -> Override:
    _check_keys(path, value, _OVERRIDE_KEYS, required=_OVERRIDE_KEYS)
    assert isinstance(value, Mapping)
    person = value["person"]
    if person is not None and not isinstance(person, str):
        raise ValueError(
            f"{path}.person: expected a name or null (nobody), got {type(person).__name__}"
        )
    start = _parse_instant(f"{path}.start", value["start"])
    end = _parse_instant(f"{path}.end", value["end"])
    with _prefixed(path):
        return Override(person=person, start=start, end=end)


def _parse_days(path: str, value: object) -> tuple[int, ...]:
    items = _as_list(path, value)
    if not items:
        raise ValueError(f"{path}: at least one day is needed")
    days: list[int] = []
    for i, item in enumerate(items):
        index = DAY_INDEX.get(item.strip().lower()) if isinstance(item, str) else None
        if index is None:
            raise ValueError(f"{path}[{i}]: unknown day {item!r} (use {', '.join(DAY_KEYS)})")
        if index in days:
            raise ValueError(f'{path}[{i}]: "{item}" given twice')
        days.append(index)
    return tuple(sorted(days))


def _parse_day_time(path: str, value: object) -> tuple[int, int]:
    if not isinstance(value, str):
        raise ValueError(f'{path}: expected "DAY HH:MM" such as "fri 18:00", got {value!r}')
    match = _DAY_TIME_RE.fullmatch(value)
    index = DAY_INDEX.get(match[1].lower()) if match else None
    if match is None or index is None:
        raise ValueError(f'{path}: "{value}" is not a day and time such as "fri 18:00"')
    return index, _parse_clock(path, match[2], allow_24=False)


def _parse_clock(path: str, value: object, *, allow_24: bool) -> int:
    """``"HH:MM[:SS]"`` (or a ``datetime.time``) -> seconds after midnight."""
    if isinstance(value, time):
        if value.tzinfo is not None or value.microsecond:
            raise ValueError(f"{path}: {value!r} must be a plain wall-clock time to the second")
        return _seconds_of(value)
    if not isinstance(value, str):
        raise ValueError(
            f'{path}: expected a "HH:MM" string, got {type(value).__name__} (quote times in YAML)'
        )
    match = _TIME_RE.fullmatch(value)
    if match is None:
        raise ValueError(f'{path}: "{value}" is not a time such as "09:00"')
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    total = hours * 3600 + minutes * 60 + seconds
    top = _DAY if allow_24 else _DAY - 1
    if minutes > 59 or seconds > 59 or total > top:
        span = "00:00 to 24:00" if allow_24 else "00:00 to 23:59:59"
        raise ValueError(f'{path}: "{value}" is not a time of day ({span})')
    return total


def _parse_time(path: str, value: object) -> time:
    return _time_of(_parse_clock(path, value, allow_24=False))


def _parse_date(path: str, value: object) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"{path}: {value!r} is a datetime; give the local date of the handoff")
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE_RE.fullmatch(value.strip()):
        raise ValueError(f"{path}: {value!r} is not a date (expected YYYY-MM-DD)")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f'{path}: "{value}" is not a date (expected YYYY-MM-DD)') from None


def _parse_instant(path: str, value: object) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f'{path}: "{value}" is not an ISO instant such as "2026-03-29T01:00:00+00:00"'
            ) from None
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise ValueError(f"{path}: expected an ISO instant string, got {type(value).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f'{path}: "{value}" has no UTC offset (add "+00:00" or "Z")')
    return parsed


def _layer_spec(layer: Rotation | ShiftLayer) -> dict[str, Any]:
    if isinstance(layer, ShiftLayer):
        return {
            "name": layer.name,
            "shifts": [
                {"person": person, "start": start.isoformat(), "end": end.isoformat()}
                for person, start, end in layer.shifts
            ],
        }
    spec: dict[str, Any] = {
        "name": layer.name,
        "people": list(layer.people),
        "recurrence": layer.recurrence,
    }
    if not layer.is_rrule:
        spec["interval"] = layer.interval
    spec["start"] = layer.start.isoformat()
    spec["handoff"] = fmt_time(_seconds_of(layer.handoff))
    spec["restrictions"] = [_restriction_spec(item) for item in layer.restrictions]
    return spec


def _restriction_spec(item: Restriction) -> dict[str, Any]:
    start = _seconds_of(item.start)
    end = start + item.length // _ONE_SECOND
    if end - start <= _DAY:
        # Daily form: "to" at or before "from" means the next day; 24:00 ends a day.
        to = end if end <= _DAY else end - _DAY
        return {
            "days": [DAY_KEYS[day] for day in item.days],
            "from": fmt_time(start),
            "to": fmt_time(to),
        }
    (day,) = item.days
    return {
        "from": f"{DAY_KEYS[day]} {fmt_time(start)}",
        "to": f"{DAY_KEYS[(day + end // _DAY) % 7]} {fmt_time(end % _DAY)}",
    }


# ---------------------------------------------------------------------- small helpers


def _check_person(value: object, path: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{path}: expected a non-empty name, got {value!r}")
    if value != value.strip():
        raise ValueError(f"{path}: {value!r} has spaces around it")


def _check_days(value: object) -> tuple[int, ...]:
    if isinstance(value, str) or not isinstance(value, tuple | list | frozenset | set):
        raise ValueError(f"days: expected weekday numbers (0 = Monday), got {value!r}")
    days = tuple(sorted(value))
    if not days:
        raise ValueError("days: at least one day is needed")
    for day in days:
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
            raise ValueError(f"days: {day!r} is not a weekday number (0 = Monday .. 6 = Sunday)")
    if len(set(days)) != len(days):
        raise ValueError(f"days: {list(value)} repeats a day")  # type: ignore[arg-type]
    return days


def _check_time(value: object, path: str) -> time:
    if not isinstance(value, time):
        raise ValueError(f"{path}: expected a time of day, got {type(value).__name__}")
    if value.tzinfo is not None:
        raise ValueError(f"{path}: {value} carries a time zone; times are the schedule's")
    if value.microsecond:
        raise ValueError(f"{path}: {value} has microseconds; times are whole seconds")
    return value.replace(fold=0)


def _seconds_of(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _time_of(seconds: int) -> time:
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60)


def _epoch(value: object, what: str) -> int:
    """Whole UTC epoch seconds, floored; within the supported years."""
    if not isinstance(value, datetime):
        raise TypeError(f"{what}: expected an aware datetime, got {type(value).__name__}")
    tz = value.tzinfo
    # These tzinfo classes always give an offset; others may answer None (naive).
    if tz is None or (type(tz) not in _ALWAYS_AWARE and value.utcoffset() is None):
        raise ValueError(
            f"{what}: naive datetime {value.isoformat()} (give it a time zone, e.g. UTC)"
        )
    if value.microsecond:
        delta = value - _EPOCH
        t = delta.days * _DAY + delta.seconds
    else:
        t = int(value.timestamp())  # exact: a whole number of seconds fits a float
    if not _MIN_T <= t < _MAX_T:
        raise ValueError(f"{what}: {value.isoformat()} is outside the years 1900-2199")
    return t


def _from_epoch(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _range(start: datetime, end: datetime) -> tuple[int, int]:
    s = _epoch(start, "start")
    e = _epoch(end, "end")
    if e < s:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    return s, e
