"""Every change to on-call schedules: create and update from a spec, import from an iCal
feed, add and remove overrides (managers, for anyone); people's own cover requests (ask,
accept, decline, cancel) and taking the shift now. Each asks its permission rule
(incidents.permissions) first."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Lower, Trim
from django.utils import timezone

from escalations.models import (
    CoverRequestStatus,
    OnCallOverride,
    OnCallOverrideRequest,
    OnCallSchedule,
)
from escalations.rules.oncall import Schedule, final_shifts, gaps, on_call
from escalations.schedules import ical, notices
from escalations.schedules.selectors import schedule_core
from incidents.permissions import require

# A schedule's layers are a few hundred bytes; refuse anything far larger before parsing.
MAX_SPEC_BYTES = 64 * 1024

_UNSET: Any = object()


def parse_spec_text(text: str) -> Any:
    """YAML or JSON text (JSON is YAML) as data; a parse error is a `spec` field error."""
    if len(text.encode()) > MAX_SPEC_BYTES:
        raise ValidationError({"spec": f"The layers are longer than {MAX_SPEC_BYTES} bytes."})
    try:
        # Safe loader, no aliases: a schedule has no use for them (no "billion laughs").
        data = yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ValidationError({"spec": f"{where}{problem}"}) from None
    return data


# A spec nests five levels at most (layers, a layer, its restrictions, one, its days);
# PyYAML composes recursively, so a deeper document would exhaust Python's stack.
MAX_SPEC_DEPTH = 20


class _NoAliasLoader(yaml.SafeLoader):
    depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases are not allowed here", event.start_mark
            )
        if self.depth >= MAX_SPEC_DEPTH:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"nested more than {MAX_SPEC_DEPTH} levels deep",
                self.peek_event().start_mark,
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def spec_text(spec: Mapping[str, Any]) -> str:
    """The stored spec as the YAML the admin shows (keys in the core's order)."""
    return yaml.safe_dump(dict(spec), sort_keys=False, allow_unicode=True)


def check_spec(spec: Any) -> dict[str, Any]:
    """The spec as stored (the core's canonical form, no overrides), or a ValidationError on
    `spec` naming the part: ``layers[0].people[1]: ...``."""
    if not isinstance(spec, Mapping):
        raise ValidationError({"spec": "Expected a mapping with timezone and layers."})
    if "overrides" in spec:
        raise ValidationError(
            {"spec": "overrides: add overrides one by one (each is kept with who made it)."}
        )
    try:
        core = Schedule.from_spec(spec)
    except (ValueError, TypeError) as error:
        raise ValidationError({"spec": str(error)}) from None
    if not core.layers:
        raise ValidationError({"spec": "layers: at least one layer is needed."})
    known = set(
        get_user_model()
        .objects.filter(
            username__in={p for layer in core.layers for p in layer.people}, is_active=True
        )
        .values_list("username", flat=True)
    )
    problems = [
        f"layers[{i}].people[{j}]: no active user named {person!r}"
        for i, layer in enumerate(core.layers)
        for j, person in enumerate(layer.people)
        if person not in known
    ]
    if problems:
        raise ValidationError({"spec": problems})
    stored = core.to_spec()
    stored.pop("overrides", None)
    return stored


def check_name(name: str, *, exclude: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A schedule needs a name."})
    taken = OnCallSchedule.objects.filter(name__iexact=name).exclude(pk=exclude)
    if taken.exists():
        raise ValidationError({"name": f"There is already a schedule named {name!r}."})
    return name


def schedule_create(
    *,
    actor,
    name: str,
    spec: Mapping[str, Any],
    team: Group | None = None,
    description: str = "",
) -> OnCallSchedule:
    require(actor, "schedule.create")
    checked = _checked({"name": lambda: check_name(name), "spec": lambda: check_spec(spec)})
    return OnCallSchedule.objects.create(**checked, team=team, description=description)


def schedule_update(
    *,
    actor,
    schedule: OnCallSchedule,
    name: str | None = None,
    spec: Mapping[str, Any] | None = None,
    team: Group | None = _UNSET,
    description: str | None = None,
) -> OnCallSchedule:
    require(actor, "schedule.update")
    if spec is not None and schedule.is_imported:
        message = f"{schedule.name} is imported from iCal: import it again to change its layers."
        raise ValidationError({"spec": message})
    checks = {}
    if name is not None:
        checks["name"] = lambda: check_name(name, exclude=schedule.pk)
    if spec is not None:
        checks["spec"] = lambda: check_spec(spec)
    checked = _checked(checks)
    with transaction.atomic():
        schedule = OnCallSchedule.objects.select_for_update().get(pk=schedule.pk)
        for field, value in checked.items():
            setattr(schedule, field, value)
        if team is not _UNSET:
            schedule.team = team
        if description is not None:
            schedule.description = description
        schedule.save()  # auto_now: a new version for the selector's cache
    return schedule


def _checked(checks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Each field's checked value, or every field's errors at once, so a form shows every
    problem in one round."""
    values, errors = {}, {}
    for field, check in checks.items():
        try:
            values[field] = check()
        except ValidationError as error:
            errors[field] = error.error_dict[field]
    if errors:
        raise ValidationError(errors)
    return values


def _touch(schedule: OnCallSchedule) -> None:
    """A new version for the selector's cache: the real clock, never an injected `now`, so
    two changes never share a version."""
    now = timezone.now()
    OnCallSchedule.objects.filter(pk=schedule.pk).update(updated_at=now)
    schedule.updated_at = now


def check_override(*, person, start: datetime | None, end: datetime | None) -> None:
    """What `override_add` refuses, field by field (the admin's form asks it too)."""
    errors: dict[str, str] = {}
    for field, value in (("start", start), ("end", end)):
        if value is None or timezone.is_naive(value):
            errors[field] = "Give an instant with its time zone."
    if not errors and end <= start:
        errors["end"] = "The end must be after the start."
    if person is not None and not person.is_active:
        errors["person"] = f"{person.get_username()} is not an active user."
    if errors:
        raise ValidationError(errors)


def override_add(
    *,
    actor,
    schedule: OnCallSchedule,
    person,
    start: datetime,
    end: datetime,
    reason: str = "",
) -> OnCallOverride:
    """`person` (None: nobody) on call in [start, end) on `schedule`."""
    require(actor, "schedule.add_override")
    check_override(person=person, start=start, end=end)
    with transaction.atomic():
        row = OnCallOverride.objects.create(
            schedule=schedule,
            person=person,
            start=start,
            end=end,
            reason=reason.strip(),
            created_by=actor,
        )
        _touch(schedule)
    return row


def override_remove(*, actor, override: OnCallOverride) -> None:
    require(actor, "schedule.remove_override")
    with transaction.atomic():
        schedule = override.schedule
        override.delete()
        _touch(schedule)


# ---------------------------------------------------------------------- iCal import

log = logging.getLogger(__name__)

IMPORTED_LAYER = "imported"
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class ImportResult:
    schedule: OnCallSchedule
    shifts: int
    problems: list[str]
    changed: bool  # whether the layers differ from before (a re-import of the same feed: no)


def schedule_import_ical(
    *,
    actor,
    schedule: OnCallSchedule | None = None,
    name: str = "",
    team: Group | None = None,
    text: bytes | str | None = None,
    url: str = "",
    now: datetime | None = None,
) -> ImportResult:
    """Read an iCal feed (`text`, or fetched from `url`) into `schedule`, or into a new
    schedule called `name`, as one layer of explicit shifts over `ical.window(now)`.

    Each event's person is the first of its attendees' addresses, its organizer's, its
    summary (or a part of it between " - ", ":", "|" or ","), that names one active user by
    email, username or full name, case-insensitively. Events naming no one are shifts of
    nobody and listed in `problems`. Shifts are listed by start (the later start wins where
    they overlap; of two starting together, the shorter). The same feed on the same day
    gives the same layers (`changed` False). A file upload stops refreshing from a URL.
    Errors are field errors: `url` (the address or the fetch), `ics` (the text), `name`,
    `schedule` (a schedule with hand-edited layers is never overwritten)."""
    require(actor, "schedule.import_ical")
    now = now or timezone.now()
    if (text is None) == (not url):
        raise ValidationError({"ics": "Give either an .ics file or the address of a feed."})
    if schedule is None:
        checked_name = _checked({"name": lambda: check_name(name)})["name"]
    elif not schedule.is_imported:
        raise ValidationError(
            {
                "schedule": f"{schedule.name} has layers edited by hand; import the feed "
                "into a new schedule instead."
            }
        )
    if url:
        try:
            url = ical.check_url(url)
            text = ical.fetch_feed(url, allow_private=settings.ICAL_FEED_ALLOW_PRIVATE)
        except ical.FeedError as error:
            raise ValidationError({"url": str(error)}) from None
    field = "url" if url else "ics"
    default_zone = schedule.time_zone if schedule is not None and schedule.time_zone else "UTC"
    start, end = ical.window(now)
    try:
        feed = ical.parse_feed(text, start=start, end=end, default_zone=default_zone)
    except ical.FeedError as error:
        raise ValidationError({field: str(error)}) from None
    people = _people_named(feed.events)
    events = sorted(feed.events, key=lambda e: (e.start, -e.end.timestamp(), e.uid, e.names))
    shifts, unmatched = [], {}
    for event in events:
        person = next((people[n.lower()] for n in _names(event) if n.lower() in people), None)
        if person is None:
            unmatched.setdefault(event.uid or event.summary, []).append(event)
        shifts.append(
            {"person": person, "start": event.start.isoformat(), "end": event.end.isoformat()}
        )
    spec = {
        "timezone": feed.timezone or default_zone,
        "layers": [{"name": IMPORTED_LAYER, "shifts": shifts}],
    }
    try:
        spec = Schedule.from_spec(spec).to_spec()
    except ValueError as error:
        raise ValidationError({field: f"The calendar gives no usable shifts ({error})."}) from None
    spec.pop("overrides", None)
    problems = _problems(unmatched)
    with transaction.atomic():
        if schedule is None:
            schedule = OnCallSchedule.objects.create(
                name=checked_name,
                team=team,
                spec=spec,
                source=OnCallSchedule.Source.ICAL,
                source_url=url,
                imported_at=now,
                import_problems=problems,
            )
            return ImportResult(schedule, len(shifts), problems, True)
        schedule = OnCallSchedule.objects.select_for_update().get(pk=schedule.pk)
        changed = schedule.spec != spec
        schedule.spec, schedule.source_url = spec, url
        schedule.imported_at, schedule.import_problems, schedule.import_error = now, problems, ""
        fields = ["spec", "source_url", "imported_at", "import_problems", "import_error"]
        if team is not None:
            schedule.team = team
            fields.append("team")
        # A new version (updated_at) only when the layers change: the selector's cache of
        # the pure schedule stays warm across refreshes of an unchanged feed.
        schedule.save(update_fields=[*fields, "updated_at"] if changed else fields)
    return ImportResult(schedule, len(shifts), problems, changed)


_NAME_PARTS = re.compile(r"\s+-\s+|[:|,]")


def _names(event: ical.FeedEvent) -> list[str]:
    """The names asked for an event, in order: its own, then the summary's parts."""
    names = [name for name in event.names if name]
    if event.summary:
        names += [part.strip() for part in _NAME_PARTS.split(event.summary) if part.strip()]
    return names


def _people_named(events) -> dict[str, str]:
    """lower-cased email, username or full name -> username, for the active users named
    exactly once by it (a name two users share names nobody)."""
    wanted = {name.lower() for event in events for name in _names(event)}
    if not wanted:
        return {}
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .annotate(
            lower_email=Lower("email"),
            lower_username=Lower(get_user_model().USERNAME_FIELD),
            # Trimmed as get_full_name() is: a first name alone is "zoe", not "zoe ".
            lower_name=Lower(Trim(Concat("first_name", Value(" "), "last_name"))),
        )
        .filter(Q(lower_email__in=wanted) | Q(lower_username__in=wanted) | Q(lower_name__in=wanted))
    )
    found: dict[str, set[str]] = {}
    for user in users:
        for key in (user.lower_email, user.lower_username, user.lower_name):
            if key in wanted:
                found.setdefault(key, set()).add(user.get_username())
    return {key: next(iter(names)) for key, names in found.items() if len(names) == 1}


def _problems(unmatched: dict[str, list]) -> list[str]:
    problems = []
    for events in unmatched.values():
        first = events[0]
        asked = ", ".join(dict.fromkeys(first.names)) or "nothing"
        times = f" ({len(events)} times from then on)" if len(events) > 1 else ""
        problems.append(
            f"{first.label()}{times}: no active user has the address or name {asked}; "
            "nobody is on call for it."
        )
    if len(problems) > MAX_PROBLEMS:
        problems = [*problems[:MAX_PROBLEMS], f"... and {len(problems) - MAX_PROBLEMS} more."]
    return problems


def ical_schedules_refresh(*, now: datetime | None = None) -> dict[str, int]:
    """Read again the feed of every imported schedule with an address whose last import is
    older than ICAL_REFRESH_INTERVAL (less a tenth, so a run a little early still counts).
    Safe to run twice or concurrently: an import is idempotent, and a schedule refreshed a
    moment ago is not due. A failing feed is logged, its error kept on the schedule (the
    admin shows it) and tried again on the next run; it never stops the others."""
    now = now or timezone.now()
    due_before = now - timedelta(seconds=settings.ICAL_REFRESH_INTERVAL * 0.9)
    due = (
        OnCallSchedule.objects.filter(source=OnCallSchedule.Source.ICAL)
        .exclude(source_url="")
        .filter(Q(imported_at__isnull=True) | Q(imported_at__lte=due_before))
        .order_by("imported_at", "pk")
        .values_list("pk", flat=True)
    )
    counts = {"refreshed": 0, "failed": 0}
    for pk in list(due):
        schedule = OnCallSchedule.objects.filter(pk=pk).first()
        if schedule is None or not schedule.source_url:
            continue
        try:
            schedule_import_ical(actor=None, schedule=schedule, url=schedule.source_url, now=now)
        except Exception as error:
            counts["failed"] += 1
            if isinstance(error, ValidationError):
                message = "; ".join(m for ms in error.message_dict.values() for m in ms)
                log.warning("iCal refresh of schedule %s failed: %s", pk, message)
            else:
                message = f"Unexpected error ({type(error).__name__}); see the logs."
                log.exception("iCal refresh of schedule %s failed", pk)
            OnCallSchedule.objects.filter(pk=pk).update(import_error=message[:2000])
        else:
            counts["refreshed"] += 1
    return counts


# --- people's own changes: cover requests and taking the shift now --------------------------

# "Take this shift now" without a length: until the current shift ends, and never longer
# than this (a schedule with one person has a shift without end).
TAKE_LONGEST = timedelta(days=7)
TAKEN = "taken"


def _lock_schedule(schedule: OnCallSchedule) -> None:
    """Serialise people's own changes to one schedule (two people taking the shift at once,
    an acceptance beside a take): each then decides on the schedule as the other left it."""
    schedule.updated_at = (
        OnCallSchedule.objects.select_for_update()
        .filter(pk=schedule.pk)
        .values_list("updated_at", flat=True)
        .get()
    )


def _person_on_call_throughout(schedule: OnCallSchedule, person, start, end) -> bool:
    """Whether the final shifts give `person` all of [start, end) (whole seconds, as the
    core counts)."""
    start, end = start.replace(microsecond=0), end.replace(microsecond=0)
    if end <= start:
        return True
    shifts = final_shifts(schedule_core(schedule, since=start), start, end)
    username = person.get_username()
    return (
        bool(shifts)
        and all(shift.person == username for shift in shifts)
        and sum((s.end - s.start for s in shifts), timedelta()) == end - start
    )


def check_cover_request(
    *, schedule, from_person, to_person, start, end, now, swap_start=None, swap_end=None
) -> None:
    """What `cover_request` refuses, field by field (the web form asks it too)."""
    errors: dict[str, str] = {}
    for field, value in (("start", start), ("end", end)):
        if value is None or timezone.is_naive(value):
            errors[field] = "Give an instant with its time zone."
    if not errors:
        if end <= start:
            errors["end"] = "The end must be after the start."
        elif end <= now:
            errors["end"] = "That interval is over."
        elif not _person_on_call_throughout(schedule, from_person, max(start, now), end):
            errors["start"] = "You are not on call for all of that interval."
    if to_person is None:
        errors["to_person"] = "Choose who should cover."
    elif to_person.pk == from_person.pk:
        errors["to_person"] = "Ask someone else."
    elif not to_person.is_active or not schedule.has_member(to_person):
        errors["to_person"] = (
            f"{to_person.get_username()} is not an active member of {schedule.name}."
        )
    if (swap_start is None) != (swap_end is None):
        errors["swap_end" if swap_end is None else "swap_start"] = (
            "A swap needs both ends of the interval you cover in return."
        )
    elif swap_start is not None and "to_person" not in errors:
        if timezone.is_naive(swap_start) or timezone.is_naive(swap_end):
            errors["swap_start"] = "Give instants with their time zone."
        elif swap_end <= swap_start:
            errors["swap_end"] = "The end must be after the start."
        elif swap_end <= now:
            errors["swap_end"] = "That interval is over."
        elif not _person_on_call_throughout(schedule, to_person, max(swap_start, now), swap_end):
            errors["swap_start"] = (
                f"{to_person.get_username()} is not on call for all of that interval."
            )
    if errors:
        raise ValidationError(errors)


def cover_request(
    *,
    actor,
    schedule: OnCallSchedule,
    to_person,
    start: datetime,
    end: datetime,
    reason: str = "",
    swap_start: datetime | None = None,
    swap_end: datetime | None = None,
    now: datetime | None = None,
) -> OnCallOverrideRequest:
    """`actor`, on call in [start, end), asks `to_person` to cover it; for a swap, offers
    to cover [swap_start, swap_end) of `to_person`'s shifts in return. They are told."""
    require(actor, "schedule.request_cover", obj=schedule)
    now = timezone.now() if now is None else now
    check_cover_request(
        schedule=schedule,
        from_person=actor,
        to_person=to_person,
        start=start,
        end=end,
        now=now,
        swap_start=swap_start,
        swap_end=swap_end,
    )
    with transaction.atomic():
        request = OnCallOverrideRequest.objects.create(
            schedule=schedule,
            from_person=actor,
            to_person=to_person,
            start=start,
            end=end,
            reason=reason.strip()[:200],
            swap_start=swap_start,
            swap_end=swap_end,
        )
        _tell_about(request, "requested", actor=actor, recipient=to_person, now=now)
    return request


def _tell_about(request, event, *, actor, recipient, now) -> None:
    notices.tell(
        event=event,
        key=f"request:{request.pk}",
        recipient=recipient,
        actor=actor,
        schedule=request.schedule,
        start=request.start,
        end=request.end,
        reason=request.reason,
        swap=(request.swap_start, request.swap_end) if request.is_swap else None,
        now=now,
    )


def _locked(request: OnCallOverrideRequest) -> OnCallOverrideRequest:
    return (
        OnCallOverrideRequest.objects.select_for_update(of=("self",))
        .select_related("schedule", "from_person", "to_person")
        .get(pk=request.pk)
    )


def _still_open(request: OnCallOverrideRequest, *, verb: str) -> None:
    if request.status != CoverRequestStatus.REQUESTED:
        raise ValidationError(
            f"This request was {request.get_status_display().lower()} already; it cannot be {verb}."
        )


def cover_accept(
    *, actor, request: OnCallOverrideRequest, now: datetime | None = None
) -> OnCallOverrideRequest:
    """The person asked accepts: they are on call in the interval (an override they made),
    and for a swap the person who asked is on call in the interval offered in return (a
    second one), in the same transaction; the person who asked is told. Accepting again is harmless
    (the same request back, still one override)."""
    require(actor, "schedule.accept_cover", obj=request)
    now = timezone.now() if now is None else now
    with transaction.atomic():
        locked = _locked(request)
        if locked.status == CoverRequestStatus.ACCEPTED:
            return locked  # a second click, a retried API call: already done
        _still_open(locked, verb="accepted")
        if locked.end <= now:
            raise ValidationError("That interval is over; it cannot be accepted.")
        schedule = locked.schedule
        _lock_schedule(schedule)
        # The schedule may have changed since the request (someone took the shift, a
        # manager's override): the cover must still replace the person who asked, and a
        # swap still take the interval from the person accepting.
        if not _person_on_call_throughout(
            schedule, locked.from_person, max(locked.start, now), locked.end
        ):
            raise ValidationError(
                f"{locked.from_person.get_username()} is no longer on call for all of that "
                "interval; it cannot be accepted."
            )
        if locked.is_swap and not _person_on_call_throughout(
            schedule, actor, max(locked.swap_start, now), locked.swap_end
        ):
            raise ValidationError(
                "You are no longer on call for all of the interval offered in return; "
                "it cannot be accepted."
            )
        locked.override = OnCallOverride.objects.create(
            schedule=schedule,
            person=actor,
            start=locked.start,
            end=locked.end,
            reason=f"covers {locked.from_person.get_username()}"
            + (f": {locked.reason}" if locked.reason else ""),
            created_by=actor,
        )
        if locked.is_swap:
            locked.swap_override = OnCallOverride.objects.create(
                schedule=schedule,
                person=locked.from_person,
                start=locked.swap_start,
                end=locked.swap_end,
                reason=f"swap with {actor.get_username()}",
                created_by=actor,
            )
        locked.status = CoverRequestStatus.ACCEPTED
        locked.answered_at = now
        locked.save(update_fields=["override", "swap_override", "status", "answered_at"])
        _touch(schedule)
        _tell_about(locked, "accepted", actor=actor, recipient=locked.from_person, now=now)
    return locked


def cover_decline(
    *, actor, request: OnCallOverrideRequest, now: datetime | None = None
) -> OnCallOverrideRequest:
    """The person asked declines; the person who asked is told (they stay on call)."""
    require(actor, "schedule.decline_cover", obj=request)
    return _close(request, CoverRequestStatus.DECLINED, "declined", actor=actor, now=now)


def cover_cancel(
    *, actor, request: OnCallOverrideRequest, now: datetime | None = None
) -> OnCallOverrideRequest:
    """The person who asked withdraws an unanswered request; the person asked is told."""
    require(actor, "schedule.cancel_cover", obj=request)
    return _close(request, CoverRequestStatus.CANCELLED, "cancelled", actor=actor, now=now)


def _close(request, status, event, *, actor, now) -> OnCallOverrideRequest:
    now = timezone.now() if now is None else now
    with transaction.atomic():
        locked = _locked(request)
        _still_open(locked, verb=event)
        locked.status = status
        locked.answered_at = now
        locked.save(update_fields=["status", "answered_at"])
        other = locked.from_person if event == "declined" else locked.to_person
        _tell_about(locked, event, actor=actor, recipient=other, now=now)
    return locked


def shift_take(
    *,
    actor,
    schedule: OnCallSchedule,
    hours: float | None = None,
    now: datetime | None = None,
) -> OnCallOverride:
    """Take this shift now: `actor` is on call from now for `hours`, or until the current
    shift ends (an override with reason "taken"); whoever was on call is told."""
    require(actor, "schedule.take_shift", obj=schedule)
    now = timezone.now() if now is None else now
    if hours is not None and not 0 < hours <= TAKE_LONGEST.total_seconds() / 3600:
        raise ValidationError({"hours": "Give a number of hours from 0 to 168."})
    with transaction.atomic():
        # Two people taking at once: the second takes it from the first, who is told.
        _lock_schedule(schedule)
        current = on_call(schedule_core(schedule, since=now), now)
        if current is not None and current.person == actor.get_username():
            raise ValidationError("You are on call on this schedule already.")
        if hours is not None:
            end = now + timedelta(hours=hours)
        elif current is not None:
            end = min(current.end, now + TAKE_LONGEST)
        else:
            # Nobody on call: cover the gap, to its end.
            gap = gaps(schedule_core(schedule, since=now), now, now + TAKE_LONGEST)
            end = gap[0].end if gap and gap[0].start <= now else now + TAKE_LONGEST
        end = end.replace(microsecond=0)
        if end <= now:
            raise ValidationError({"hours": "The current shift is ending: give a number of hours."})
        row = OnCallOverride.objects.create(
            schedule=schedule,
            person=actor,
            start=now,
            end=end,
            reason=TAKEN,
            created_by=actor,
        )
        _touch(schedule)
        if current is not None:
            displaced = get_user_model().objects.filter(username=current.person).first()
            notices.tell(
                event="taken",
                key=f"override:{row.pk}",
                recipient=displaced,
                actor=actor,
                schedule=schedule,
                start=now,
                end=end,
                now=now,
            )
    return row


def feed_links_reset(*, actor) -> int:
    """Every calendar link shown to `actor` so far (their shifts, and each schedule's feed
    signed for them) stops working; the pages show new ones. A person's own links, like
    their profile: no rule beyond being signed in. Returns the new generation."""
    get_user_model().objects.filter(pk=actor.pk).update(feed_generation=F("feed_generation") + 1)
    actor.refresh_from_db(fields=["feed_generation"])
    log.info("calendar links reset for user %s", actor.pk)
    return actor.feed_generation
