"""On-call notices (issue 18): "never to nobody" gap emails and "your shift starts" notices.

**Which schedules matter.** A schedule is reached by a P0/P1 route when a level that a P0 or
P1 incident can be escalated to names it (`schedule:`) or has its team (the level's `team`
equals the name of the schedule's team group). The policies are every active one (any of
them can take a new incident whatever its severity: a policy is chosen by channel, account
tier and component, and a P2 can become a P1 later) and every older version an open P0/P1
incident still follows. In a policy, a severity enters at its override's `route_to` (seed
001's severity_overrides) or else at the first level, and can climb to every level above.

**Gap emails.** Every `ONCALL_COVERAGE_SWEEP_INTERVAL`, for each such schedule, each
coverage gap in the next 14 days (`COVERAGE_DAYS`) that starts within the next 7 days
(`GAP_NOTICE_DAYS`, "a week before"; a gap already under way counts) is mailed to the
team's Team Leads: the members of the schedule's team who are in the Team Lead group. When
the team has none (or the schedule has no team), every Team Lead hears: a gap nobody is told
about is the one thing this must not allow. Once per gap: the dedup key is (schedule, gap
start, gap end), so a rerun, or two sweeps at once, queue one email; a gap that changes
(an override shortens it) is a new gap and is mailed again. The gap's real start and end
are looked up beyond now and the 14 days, so a long gap keeps one key as the days pass.

**Shift notices.** Every `ONCALL_SHIFT_SWEEP_INTERVAL`, each final shift of every schedule
that starts within the last hour (at least twice the interval: a short outage of the
scheduler loses nothing) or the next `SHIFT_NOTICE_LEAD` is announced to its person, once
per (schedule, person, shift start), delivered at the shift's start.

Both sweeps write their outbox rows in one transaction per schedule; the outbox kicks a
worker after commit.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from escalations.models import OnCallSchedule, Policy, PolicyStatus
from escalations.notices.compose import when
from escalations.policies import reach
from escalations.policies.services import policy_spec
from escalations.rules.oncall import final_shifts, gaps
from escalations.rules.spec import LevelSpec, WorkflowSpec
from escalations.schedules.selectors import COVERAGE_DAYS, schedule_core
from incidents.models import Incident
from notifications.models import DeliverySettings, Notification
from notifications.rendering import render_subject
from notifications.services import notifications_enqueue_many, with_message_id

log = logging.getLogger(__name__)

REACH_SEVERITIES = ("P0", "P1")
GAP_NOTICE_DAYS = 7
# How far before now and after the 14 days a gap's real ends are looked for first
# (doubled until found).
GAP_LOOK_BACK = timedelta(days=7)
GAP_LOOK_AHEAD = timedelta(days=30)
SHIFT_NOTICE_LEAD = timedelta(minutes=5)
SHIFT_LOOK_BACK = timedelta(hours=1)
# How far a shift's end is looked for (a longer one reads "until further notice").
SHIFT_HORIZON = timedelta(days=31)

GAP_KIND = "oncall_gap"
SHIFT_KIND = "oncall_shift"


# --- which schedules a P0/P1 route can reach ---------------------------------------------------


def levels_reached(spec: WorkflowSpec, severities=REACH_SEVERITIES) -> tuple[LevelSpec, ...]:
    """The levels an incident of one of `severities` can be at: from where it enters (its
    severity override's route_to, else the first level) up to the top."""
    if not spec.levels:
        return ()
    entries = []
    for severity in severities:
        override = spec.override_for(severity)
        entries.append(override.route_to if override else spec.first_level.number)
    lowest = min(entries)
    return tuple(level for level in spec.levels if level.number >= lowest)


@dataclass
class ScheduleReach:
    schedule: OnCallSchedule
    routes: list[str] = field(default_factory=list)  # "standard v2 L3 (schedule)", ...


def reachable_schedules(severities=REACH_SEVERITIES) -> list[ScheduleReach]:
    """Schedules a P0/P1 route can reach, by name, each with the routes that reach it."""
    policies = Policy.objects.filter(
        Q(status=PolicyStatus.ACTIVE)
        | Q(
            pk__in=Incident.objects.open()
            .filter(severity__in=severities, policy__isnull=False)
            .values("policy_id")
        )
    ).order_by("name", "version")
    by_name: dict[str, list[str]] = {}
    by_team: dict[str, list[str]] = {}
    for policy in policies:
        for level in levels_reached(policy_spec(policy), severities):
            route = f"{policy.name} v{policy.version} {level.label}"
            if level.schedule:
                by_name.setdefault(level.schedule, []).append(f"{route} (schedule)")
            if level.team:
                by_team.setdefault(level.team, []).append(f"{route} (team {level.team})")
    if not by_name and not by_team:
        return []
    schedules = OnCallSchedule.objects.filter(
        Q(name__in=list(by_name)) | Q(team__name__in=list(by_team))
    ).select_related("team")
    found = []
    for schedule in schedules.order_by("name"):
        routes = by_name.get(schedule.name, []) + (
            by_team.get(schedule.team.name, []) if schedule.team_id else []
        )
        found.append(ScheduleReach(schedule, sorted(set(routes))))
    return found


# --- gap emails --------------------------------------------------------------------------------


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def gap_dedup_key(schedule_id: int, start: datetime | None, end: datetime | None) -> str:
    """Once per gap: its schedule and real ends ("open" where none was found)."""
    first = _iso(start) if start else "open"
    last = _iso(end) if end else "open"
    return f"{GAP_KIND}:{schedule_id}:{first}:{last}"


def team_leads(schedule: OnCallSchedule):
    """The Team Leads of the schedule's team; all Team Leads when it has none."""
    return reach.team_leads(schedule.team_id)


@dataclass(frozen=True)
class DueGap:
    start: datetime | None  # None: nobody on call since the earliest instant supported
    end: datetime | None  # None: nobody on call up to the latest instant supported


# The instants the pure core supports (it refuses 2200-01-01 itself).
_FLOOR = datetime(1900, 1, 1, tzinfo=UTC)
_CEILING = datetime(2199, 12, 31, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def _gap_start(core, at: datetime) -> datetime | None:
    """The real start of the gap that holds `at`: looked for further and further back, so a
    gap keeps one key however long it has lasted."""
    span = GAP_LOOK_BACK
    while True:
        low = max(at - span, _FLOOR)
        start = gaps(core, low, at + _SECOND)[-1].start
        if start > low:
            return start
        if low == _FLOOR:
            return None
        span *= 2


def _gap_end(core, at: datetime) -> datetime | None:
    """The real end of the gap that holds the second before `at`, looked for further and
    further ahead."""
    span = GAP_LOOK_AHEAD
    while True:
        high = min(at + span, _CEILING)
        end = gaps(core, at - _SECOND, high)[0].end
        if end < high:
            return end
        if high == _CEILING:
            return None
        span *= 2


def gaps_to_announce(schedule: OnCallSchedule, *, now: datetime) -> list[DueGap]:
    """The coverage gaps in the next 14 days that start within the next 7 (or are under
    way), each with its real start and end, wherever they lie."""
    core = schedule_core(schedule, since=now)
    now = now.replace(microsecond=0)
    soon, horizon = now + timedelta(days=GAP_NOTICE_DAYS), now + timedelta(days=COVERAGE_DAYS)
    due = []
    for gap in gaps(core, now, horizon):
        if gap.start >= soon:
            continue
        due.append(
            DueGap(
                # Cut at now or at the horizon: the gap may run on beyond either.
                start=gap.start if gap.start > now else _gap_start(core, now),
                end=gap.end if gap.end < horizon else _gap_end(core, horizon),
            )
        )
    return due


def _schedule_url(schedule: OnCallSchedule) -> str:
    """The schedule's page: its shifts and gaps, with the links to fix them for those
    whose rule allows."""
    return settings.SITE_URL + reverse("schedule", args=[schedule.pk])


def _email_row(*, kind, recipient, context, dedup_key, urgent, not_before, now) -> Notification:
    subject = render_subject(kind, context)
    headers = with_message_id("email", {})
    return Notification.unsaved(
        kind=kind,
        channel="email",
        recipient=recipient.address,
        recipient_user_id=recipient.user_id,
        subject=subject[:255],
        context=context,
        dedup_key=f"{dedup_key}:email:{recipient.address.lower()}"[:255],
        headers=headers,
        message_id=headers.get("Message-ID", ""),
        urgent=urgent,
        next_attempt_at=max(now, not_before),
    )


def gap_notices(
    schedule: OnCallSchedule, gap: DueGap, routes: list[str], recipients: list, now: datetime
) -> list[Notification]:
    quiet_hours = DeliverySettings.current().respect_working_hours
    rows = []
    for recipient in recipients:
        zone = recipient.time_zone or "UTC"
        context = {
            "schedule": {
                "name": schedule.name,
                "team": schedule.team.name if schedule.team_id else "",
                "time_zone": schedule.time_zone,
                "url": _schedule_url(schedule),
            },
            "gap": {
                "start": when(gap.start, zone) if gap.start else "",
                "end": when(gap.end, zone) if gap.end else "",
                "start_local": when(gap.start, schedule.time_zone) if gap.start else "",
                "end_local": when(gap.end, schedule.time_zone) if gap.end else "",
                "under_way": gap.start is None or gap.start <= now,
            },
            "routes": routes,
            "recipient_name": recipient.name,
        }
        rows.append(
            _email_row(
                kind=GAP_KIND,
                recipient=recipient,
                context=context,
                dedup_key=gap_dedup_key(schedule.pk, gap.start, gap.end),
                # Sent once and never again: it must not fall to a daily cap or a fold.
                urgent=True,
                # A week ahead can wait for the lead's working hours.
                not_before=recipient.not_before("P3", now) if quiet_hours else now,
                now=now,
            )
        )
    return rows


def coverage_gap_sweep(*, now: datetime | None = None) -> dict:
    """Email the team lead once per coverage gap of a P0/P1-reachable schedule, a week
    before it starts; safe to run twice or concurrently (unique dedup keys)."""
    now = now or timezone.now()
    counts: Counter = Counter()
    for reached in reachable_schedules():
        counts["schedules"] += 1
        due = gaps_to_announce(reached.schedule, now=now)
        if not due:
            continue
        counts["gaps"] += len(due)
        recipients = [reach.person(user) for user in team_leads(reached.schedule)]
        if not recipients:
            counts["nobody_to_tell"] += len(due)
            log.warning(
                "On-call schedule %r has %s coverage gap(s) and no Team Lead with an email "
                "address to tell",
                reached.schedule.name,
                len(due),
            )
            continue
        rows = []
        for gap in due:
            rows += gap_notices(reached.schedule, gap, reached.routes, recipients, now)
        if rows:
            with transaction.atomic():
                counts["offered"] += notifications_enqueue_many(rows)
    return {key: value for key, value in counts.items() if value}


# --- shift-start notices -----------------------------------------------------------------------


def shift_dedup_key(schedule_id: int, person: str, start: datetime) -> str:
    return f"{SHIFT_KIND}:{schedule_id}:{person}:{_iso(start)}"


def shift_start_sweep(*, now: datetime | None = None, interval: float | None = None) -> dict:
    """Tell each person whose shift starts now (within the last hour, or the next few
    minutes) that they are on call, once per (schedule, person, shift start); delivered
    at the shift's start. Safe to run twice or concurrently."""
    now = now or timezone.now()
    interval = settings.ONCALL_SHIFT_SWEEP_INTERVAL if interval is None else interval
    low = now - max(SHIFT_LOOK_BACK, timedelta(seconds=2 * interval))
    high = now + SHIFT_NOTICE_LEAD
    counts: Counter = Counter()
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    for schedule in OnCallSchedule.objects.select_related("team").order_by("name"):
        core = schedule_core(schedule, since=low)
        limit = high + SHIFT_HORIZON
        # A shift starting exactly at `low` may have begun before it: only later ones start here.
        starting = [shift for shift in final_shifts(core, low, limit) if low < shift.start <= high]
        if not starting:
            continue
        people = {
            user.get_username(): user
            for user in users.filter(username__in={shift.person for shift in starting})
        }
        rows = []
        for shift in starting:
            user = people.get(shift.person)
            if user is None:
                counts["no_address"] += 1
                continue
            recipient = reach.person(user)
            zone = recipient.time_zone or "UTC"
            open_ended = shift.end >= limit
            context = {
                "schedule": {
                    "name": schedule.name,
                    "team": schedule.team.name if schedule.team_id else "",
                },
                "shift": {
                    "start": when(shift.start, zone),
                    "end": "" if open_ended else when(shift.end, zone),
                },
                "recipient_name": recipient.name,
            }
            rows.append(
                _email_row(
                    kind=SHIFT_KIND,
                    recipient=recipient,
                    context=context,
                    dedup_key=shift_dedup_key(schedule.pk, shift.person, shift.start),
                    # The person is on call from now: no quiet hours, no folding.
                    urgent=True,
                    not_before=shift.start,
                    now=now,
                )
            )
            counts["shifts"] += 1
        if rows:
            with transaction.atomic():
                counts["offered"] += notifications_enqueue_many(rows)
    return {key: value for key, value in counts.items() if value}
