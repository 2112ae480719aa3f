"""Services for the calendar library (admin's calendar editor)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from .business_time import BusinessCalendar
from .holiday_sources import holidays_from_country, holidays_from_ics
from .models import Calendar


def canonical_spec(spec) -> dict:
    """Validate a calendar spec and return its canonical form, or a ValidationError."""
    try:
        return BusinessCalendar.from_spec(spec).to_spec()
    except (ValueError, TypeError) as error:
        raise ValidationError({"spec": str(error)}) from None


@transaction.atomic
def calendar_save(
    *,
    calendar: Calendar,
    spec: dict,
    country: str = "",
    subdivision: str = "",
    years: Iterable[int] = (),
    ics: bytes | None = None,
) -> Calendar:
    """Save a library calendar, optionally adding holidays from a country or an .ics file."""
    extra = []
    errors = {}
    if country:
        try:
            extra += holidays_from_country(country, subdivision or None, years)
        except ValueError as error:
            errors["country"] = str(error)
    if ics:
        try:
            extra += holidays_from_ics(ics, years=list(years) or None)
        except ValueError as error:
            errors["ics"] = str(error)
    if errors:
        raise ValidationError(errors)
    canonical = canonical_spec(spec)
    if extra:
        canonical = BusinessCalendar.from_spec(canonical).with_holidays(extra).to_spec()
    calendar.spec = canonical
    calendar.save()
    return calendar
