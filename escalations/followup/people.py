"""Checks on the people given follow-up work: they must be active and able to open the
incident (security incidents), and a due date must lie ahead in the owner's zone."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from incidents.models import Incident
from incidents.selectors import incidents_visible_to


def can_see(user, incident: Incident) -> bool:
    return incidents_visible_to(user).filter(pk=incident.pk).exists()


def check_person(user, incident: Incident, field: str, errors: dict) -> None:
    """People given work on an incident must be able to open it (security incidents).

    Adds the problem to `errors` under `field` (reviews, action items, war rooms,
    vendor cases and their admin forms ask alike)."""
    if user is None:
        return
    if not user.is_active:
        errors[field] = f"{user} is not an active user."
    elif not can_see(user, incident):
        errors[field] = f"{user} cannot see this incident (limited distribution)."


def check_due_date(due_date, owner, now: datetime, errors: dict) -> None:
    if due_date is None:
        errors["due_date"] = "Give a due date."
        return
    if due_date >= date.max:  # the end of that day is past what a datetime can hold
        errors["due_date"] = "The due date is too far ahead."
        return
    zone = owner.time_zone if owner is not None else timezone.get_default_timezone()
    if due_date < timezone.localtime(now, zone).date():
        errors["due_date"] = "The due date cannot be in the past."
