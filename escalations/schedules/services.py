"""Every change to on-call schedules: create and update from a spec, add and remove
overrides (managers, for anyone); people's own cover requests (ask, accept, decline,
cancel) and taking the shift now. Each asks its permission rule (incidents.permissions)
first."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from escalations.models import (
    CoverRequestStatus,
    OnCallOverride,
    OnCallOverrideRequest,
    OnCallSchedule,
)
from escalations.rules.oncall import Schedule, final_shifts, gaps, on_call
from escalations.schedules import notices
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


# --- people's own changes: cover requests and taking the shift now --------------------------

# "Take this shift now" without a length: until the current shift ends, and never longer
# than this (a schedule with one person has a shift without end).
TAKE_LONGEST = timedelta(days=7)
TAKEN = "taken"


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
    current = on_call(schedule_core(schedule, since=now), now)
    if current is not None and current.person == actor.get_username():
        raise ValidationError("You are on call on this schedule already.")
    if hours is not None:
        if not 0 < hours <= TAKE_LONGEST.total_seconds() / 3600:
            raise ValidationError({"hours": "Give a number of hours from 0 to 168."})
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
    with transaction.atomic():
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
