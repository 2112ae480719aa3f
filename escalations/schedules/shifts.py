"""Reads for the people's side of on-call (issue 18): the schedules page, a schedule's final
shifts, "my shifts" and hours on call. Everything is computed from the pure core's
`final_shifts` and `gaps` over the stored schedules (`selectors.schedule_core`), so the pages,
the iCal feeds and the admin agree with "who is on call" at every instant."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from escalations.models import OnCallSchedule
from escalations.rules.oncall import Gap, Shift, final_shifts, gaps
from escalations.schedules.selectors import COVERAGE_DAYS, full_names, schedule_core

#: "My shifts" looks this far ahead and lists at most this many shifts.
MY_SHIFTS_DAYS = 30
MY_SHIFTS_LIMIT = 10
#: A gap warning lists this many gaps and counts the rest.
GAPS_LISTED = 5


def _hours(span: timedelta) -> float:
    """Hours to a tenth, as people read them (a shift cut at "now" is 47, not 46.98)."""
    return round(span / timedelta(hours=1), 1)


@dataclass(frozen=True)
class Stretch:
    """A final shift (`person` set) or a coverage gap (`person` empty) with display names."""

    start: datetime
    end: datetime
    person: str = ""
    name: str = ""

    @property
    def is_gap(self) -> bool:
        return not self.person

    @property
    def hours(self) -> float:
        return _hours(self.end - self.start)


@dataclass(frozen=True)
class ScheduleSummary:
    """One schedule as the schedules page shows it, over [now, now + days)."""

    schedule: OnCallSchedule
    now: datetime
    until: datetime
    current: Stretch | None  # who is on call now and until when; None: nobody
    next: Stretch | None  # who (or the gap that) follows the current stretch
    gaps: tuple[Stretch, ...]
    stretches: tuple[Stretch, ...]  # shifts and gaps in order, tiling [now, until)

    @property
    def next_handoff(self) -> datetime | None:
        """When who is on call next changes, if within the window."""
        return self.next.start if self.next is not None else None

    @property
    def time_zone(self) -> str:
        return self.schedule.time_zone

    @property
    def gaps_listed(self) -> tuple[Stretch, ...]:
        """The first gaps, for a warning that stays readable (a schedule covering business
        hours only has a gap every night); the shifts list shows them all."""
        return self.gaps[:GAPS_LISTED]

    @property
    def gaps_unlisted(self) -> int:
        return max(0, len(self.gaps) - GAPS_LISTED)


def _stretches(shifts: list[Shift], holes: list[Gap], names: dict[str, str]) -> tuple[Stretch, ...]:
    items = [Stretch(s.start, s.end, s.person, names.get(s.person, s.person)) for s in shifts]
    items += [Stretch(g.start, g.end) for g in holes]
    return tuple(sorted(items, key=lambda item: item.start))


def schedule_summaries(
    schedules: Iterable[OnCallSchedule], *, now: datetime, days: int = COVERAGE_DAYS
) -> list[ScheduleSummary]:
    """Who is on call now, the next handoff and the gaps of the next `days` days, for each
    schedule (one query for everyone's names)."""
    until = now + timedelta(days=days)
    computed = []
    for schedule in schedules:
        core = schedule_core(schedule, since=now)
        computed.append((schedule, final_shifts(core, now, until), gaps(core, now, until)))
    names = full_names(s.person for _, shifts, _ in computed for s in shifts)
    summaries = []
    for schedule, shifts, holes in computed:
        stretches = _stretches(shifts, holes, names)
        # Shifts and gaps tile the window from now: the first is who is on call now (or
        # the gap now), the second whoever (or the gap that) takes over from them.
        current = stretches[0] if stretches and not stretches[0].is_gap else None
        following = stretches[1:]
        summaries.append(
            ScheduleSummary(
                schedule=schedule,
                now=now,
                until=until,
                current=current,
                next=following[0] if following else None,
                gaps=tuple(s for s in stretches if s.is_gap),
                stretches=stretches,
            )
        )
    return summaries


def schedule_summary(
    schedule: OnCallSchedule, *, now: datetime, days: int = COVERAGE_DAYS
) -> ScheduleSummary:
    return schedule_summaries([schedule], now=now, days=days)[0]


@dataclass(frozen=True)
class PersonShift:
    """One of a person's final shifts on one schedule."""

    schedule: OnCallSchedule
    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        return _hours(self.end - self.start)


def person_shifts(
    username: str,
    *,
    start: datetime,
    end: datetime,
    schedules: Iterable[OnCallSchedule] | None = None,
) -> list[PersonShift]:
    """`username`'s final shifts in [start, end) on every schedule, by start time (a shift
    that began before `start` is cut there)."""
    if schedules is None:
        schedules = OnCallSchedule.objects.all()
    found = [
        PersonShift(schedule, shift.start, shift.end)
        for schedule in schedules
        for shift in final_shifts(schedule_core(schedule, since=start), start, end)
        if shift.person == username
    ]
    return sorted(found, key=lambda s: (s.start, s.schedule.name))


def hours_on_call(shifts: Iterable[PersonShift]) -> float:
    """Hours covered by the shifts, counting once an hour on call for two schedules at once
    (a person on call twice over is still on call for one hour)."""
    total = timedelta(0)
    reach = None
    for shift in sorted(shifts, key=lambda s: s.start):
        start = shift.start if reach is None else max(shift.start, reach)
        if shift.end > start:
            total += shift.end - start
        reach = shift.end if reach is None else max(reach, shift.end)
    return _hours(total)


@dataclass(frozen=True)
class MyShifts:
    now: datetime
    upcoming: tuple[PersonShift, ...]  # the next shifts (the current one first), at most limit
    more: int  # further shifts in the window not listed
    until: datetime
    month_start: datetime
    month_hours: float  # hours on call from month_start to now
    month_by_schedule: tuple[tuple[OnCallSchedule, float], ...]


def my_shifts(
    username: str,
    *,
    now: datetime,
    month_start: datetime,
    days: int = MY_SHIFTS_DAYS,
    limit: int = MY_SHIFTS_LIMIT,
) -> MyShifts:
    """A person's next shifts (within `days`, at most `limit`) and their hours on call since
    `month_start` (the start of this month in their own zone) up to `now`."""
    schedules = list(OnCallSchedule.objects.select_related("team"))
    until = now + timedelta(days=days)
    ahead = person_shifts(username, start=now, end=until, schedules=schedules)
    past = person_shifts(username, start=month_start, end=now, schedules=schedules)
    by_schedule: dict[int, timedelta] = {}
    for shift in past:
        span = shift.end - shift.start
        by_schedule[shift.schedule.pk] = by_schedule.get(shift.schedule.pk, timedelta(0)) + span
    return MyShifts(
        now=now,
        upcoming=tuple(ahead[:limit]),
        more=max(0, len(ahead) - limit),
        until=until,
        month_start=month_start,
        month_hours=hours_on_call(past),
        month_by_schedule=tuple(
            (schedule, _hours(by_schedule[schedule.pk]))
            for schedule in schedules
            if schedule.pk in by_schedule
        ),
    )
