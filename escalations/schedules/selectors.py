"""Reads of on-call schedules: the pure core's `Schedule` for a stored one, who is on call."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model

from escalations.models import OnCallOverride, OnCallSchedule
from escalations.rules.oncall import OnCall, Schedule, gaps, on_call, paging_order

COVERAGE_DAYS = 14

# schedule id -> (updated_at, Schedule). The services touch `updated_at` whenever the spec
# or an override changes, so it is the version; keeping the object keeps the pure core's
# own caches (zone tables, RRULE expansions, flattened overrides) warm between requests.
_built: dict[int, tuple[datetime, Schedule]] = {}
_lock = threading.Lock()


def schedule_core(schedule: OnCallSchedule) -> Schedule:
    """The pure schedule: the stored layers plus every override row, oldest first (so the
    latest created wins where they overlap, as in the core)."""
    with _lock:
        cached = _built.get(schedule.pk)
    if cached is not None and cached[0] == schedule.updated_at:
        return cached[1]
    rows = OnCallOverride.objects.filter(schedule=schedule).select_related("person")
    overrides = [
        {
            "person": row.person.get_username() if row.person_id else None,
            "start": row.start,
            "end": row.end,
        }
        for row in rows.order_by("created_at", "id")
    ]
    core = Schedule.from_spec({**schedule.spec, "overrides": overrides})
    with _lock:
        _built[schedule.pk] = (schedule.updated_at, core)
    return core


@dataclass(frozen=True)
class OnCallNow:
    """Who is on call at `at`, for the API and the admin."""

    at: datetime
    current: OnCall | None
    source: str  # "layer", "override" or "" (nobody)
    layer_name: str
    user: object | None  # the person's user row, when it still exists
    paging_order: tuple[str, ...]


def who_is_on_call(schedule: OnCallSchedule, at: datetime) -> OnCallNow:
    core = schedule_core(schedule)
    current = on_call(core, at)
    source, layer_name, user = "", "", None
    if current is not None:
        if current.override is not None:
            source = "override"
        else:
            source = "layer"
            layer = core.layers[current.layer]
            layer_name = layer.name or f"layer {current.layer + 1}"
        user = get_user_model().objects.filter(username=current.person).first()
    return OnCallNow(at, current, source, layer_name, user, paging_order(core, at))


def coverage_gaps(schedule: OnCallSchedule, *, now: datetime, days: int = COVERAGE_DAYS):
    """The stretches with nobody on call in the next `days` days."""
    return gaps(schedule_core(schedule), now, now + timedelta(days=days))
