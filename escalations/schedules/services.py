"""Every change to on-call schedules: create and update from a spec, add and remove
overrides. Each asks its permission rule (incidents.permissions) first."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from escalations.models import OnCallOverride, OnCallSchedule
from escalations.rules.oncall import Schedule
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
