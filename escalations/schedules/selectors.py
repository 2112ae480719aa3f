"""Reads of on-call schedules: the pure core's `Schedule` for a stored one, who is on call,
the coverage gaps, and hours on call per person and month (fairness)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from escalations.models import (
    CoverRequestStatus,
    OnCallOverride,
    OnCallOverrideRequest,
    OnCallSchedule,
)
from escalations.rules.oncall import (
    OnCall,
    Schedule,
    final_shifts,
    gaps,
    on_call,
    paging_order,
    utc_day_start,
)
from escalations.rules.oncall_hours import OnCallHours, hours_by_month

COVERAGE_DAYS = 14
# Overrides that ended longer ago than this are archived: the rows stay (history, who made
# them), but the built schedule leaves them out, so it does not grow forever. A question
# about an instant before the horizon builds a schedule with the older ones (uncached).
ARCHIVE_AFTER = timedelta(days=90)

# schedule id -> ((updated_at, horizon), Schedule, override row ids in the core's order).
# The services touch `updated_at` whenever the spec or an override changes, so it is the
# version; the horizon moves once a day (midnight UTC), and a new horizon is a new build.
# Keeping the object keeps the pure core's own caches (zone tables, RRULE expansions,
# flattened overrides) warm between requests.
_built: dict[int, tuple[tuple[datetime, datetime], Schedule, tuple[int, ...]]] = {}
_lock = threading.Lock()


def archive_horizon(now: datetime | None = None) -> datetime:
    """Overrides ending at or before this instant are archived: 90 days before today's
    midnight UTC (a day's steps, so the cached build lasts a day)."""
    now = timezone.now() if now is None else now
    return utc_day_start(now) - ARCHIVE_AFTER


def schedule_core(schedule: OnCallSchedule, *, since: datetime | None = None) -> Schedule:
    """The pure schedule: the stored layers plus the override rows not archived, oldest
    first (so the latest created wins where they overlap, as in the core). `since`: the
    earliest instant the caller will ask about, when that may be before the horizon."""
    return _build(schedule, since=since)[1]


def _build(
    schedule: OnCallSchedule, *, since: datetime | None = None
) -> tuple[tuple[datetime, datetime], Schedule, tuple[int, ...]]:
    horizon = archive_horizon()
    if since is not None and since <= horizon:
        return _build_from(schedule, since - timedelta(days=1))  # rare: not cached
    key = (schedule.updated_at, horizon)
    with _lock:
        cached = _built.get(schedule.pk)
    if cached is not None and cached[0] == key:
        return cached
    built = _build_from(schedule, horizon)
    with _lock:
        _built[schedule.pk] = built
    return built


def _build_from(
    schedule: OnCallSchedule, horizon: datetime
) -> tuple[tuple[datetime, datetime], Schedule, tuple[int, ...]]:
    rows = list(
        OnCallOverride.objects.filter(schedule=schedule, end__gt=horizon)
        .select_related("person")
        .order_by("created_at", "id")
    )
    overrides = [
        {
            "person": row.person.get_username() if row.person_id else None,
            "start": row.start,
            "end": row.end,
        }
        for row in rows
    ]
    core = Schedule.from_spec({**schedule.spec, "overrides": overrides})
    return (schedule.updated_at, horizon), core, tuple(row.pk for row in rows)


@dataclass(frozen=True)
class OnCallNow:
    """Who is on call at `at`, for the API and the admin."""

    at: datetime
    current: OnCall | None
    source: str  # "layer", "override" or "" (nobody)
    layer_name: str
    override_id: int | None
    paging_order: tuple[str, ...]
    names: dict[str, str]  # username -> full name, for the person and the paging order

    def name(self, username: str) -> str:
        return self.names.get(username) or username


def full_names(usernames: Iterable[str]) -> dict[str, str]:
    """username -> full name (the username where a person has none), in one query."""
    wanted = set(usernames)
    names = {
        user.get_username(): user.get_full_name()
        for user in get_user_model().objects.filter(username__in=wanted)
    }
    return {username: names.get(username) or username for username in wanted}


def who_is_on_call(schedule: OnCallSchedule, at: datetime) -> OnCallNow:
    _, core, override_ids = _build(schedule, since=at)
    current = on_call(core, at)
    source, layer_name, override_id = "", "", None
    if current is not None:
        if current.override is not None:
            source, override_id = "override", override_ids[current.override]
        else:
            source = "layer"
            layer_name = core.layers[current.layer].name or f"layer {current.layer + 1}"
    order = paging_order(core, at)
    wanted = set(order) | ({current.person} if current else set())
    names = full_names(wanted)
    return OnCallNow(at, current, source, layer_name, override_id, order, names)


def coverage_gaps(schedule: OnCallSchedule, *, now: datetime, days: int = COVERAGE_DAYS):
    """The stretches with nobody on call in the next `days` days."""
    return gaps(schedule_core(schedule, since=now), now, now + timedelta(days=days))


def schedules_of(user):
    """The schedules `user` is a member of (their team's, or naming them in a rotation)."""
    username = user.get_username()
    teams = set(user.groups.values_list("pk", flat=True))
    return [
        schedule
        for schedule in OnCallSchedule.objects.select_related("team").order_by("name")
        if username in schedule.rotation_people or schedule.team_id in teams
    ]


def cover_requests_for(user, *, answered_days: int = 14, now: datetime | None = None):
    """Cover requests to and from `user`: every open one, and those answered in the last
    `answered_days` days; newest first."""
    now = timezone.now() if now is None else now
    recent = Q(status=CoverRequestStatus.REQUESTED) | Q(
        answered_at__gte=now - timedelta(days=answered_days)
    )
    return (
        OnCallOverrideRequest.objects.filter(Q(to_person=user) | Q(from_person=user))
        .filter(recent)
        .select_related("schedule", "from_person", "to_person", "override")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class PersonMonthHours:
    """One person's time on call in one month, over every schedule (fairness metrics)."""

    username: str
    name: str
    month: str  # "YYYY-MM"
    hours: OnCallHours
    schedules: tuple[str, ...]


def oncall_hours_by_month(
    *, start: datetime, end: datetime, month_zone, schedules=None
) -> list[PersonMonthHours]:
    """Hours on call per person and month in [start, end), from each schedule's final
    shifts (`escalations.rules.oncall_hours`: nights and weekends in the schedule's zone,
    months in `month_zone`), summed over the schedules a person is on. By month, then the
    most hours first."""
    if schedules is None:
        schedules = OnCallSchedule.objects.order_by("name")
    totals: dict[tuple[str, str], OnCallHours] = {}
    names_of: dict[tuple[str, str], set[str]] = {}
    for schedule in schedules:
        core = schedule_core(schedule, since=start)
        shifts = final_shifts(core, start, end)
        for key, hours in hours_by_month(shifts, zone=core.timezone, month_zone=month_zone).items():
            totals[key] = totals.get(key, OnCallHours()) + hours
            names_of.setdefault(key, set()).add(schedule.name)
    names = full_names(username for username, _month in totals)
    rows = [
        PersonMonthHours(
            username=username,
            name=names[username],
            month=month,
            hours=hours,
            schedules=tuple(sorted(names_of[(username, month)])),
        )
        for (username, month), hours in totals.items()
    ]
    rows.sort(key=lambda row: (row.month, -row.hours.total, row.name))
    return rows
