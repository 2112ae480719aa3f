"""Services for the calendar library (admin's calendar editor).

`calendar_save` adds and changes library calendars (loading a policy also adds the
calendars it names that the library lacks: `policies.policy_create_from_spec`). Its
checks are public (`calendar_holidays`, `calendar_spec`) so a form shows what it
would refuse beside the field it names, before anything is saved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from escalations.models import Calendar
from escalations.policies.holiday_sources import holidays_from_country, holidays_from_ics
from escalations.rules.business_time import BusinessCalendar
from incidents.permissions import require


def canonical_spec(spec) -> dict:
    """Validate a calendar spec and return its canonical form, or a ValidationError."""
    try:
        return BusinessCalendar.from_spec(spec).to_spec()
    except (ValueError, TypeError) as error:
        raise ValidationError({"spec": str(error)}) from None


def calendar_holidays(
    *,
    country: str = "",
    subdivision: str = "",
    years: Iterable[int] = (),
    ics: bytes | None = None,
) -> list[date]:
    """Public holidays of a country (the holidays package) and days of an .ics file.

    A ValidationError names the field at fault: `years` (a country needs them),
    `country`, `ics`.
    """
    years = list(years)
    found: list[date] = []
    errors = {}
    if country and not years:
        errors["years"] = "Say which years to take the holidays for."
    elif country:
        try:
            found += holidays_from_country(country, subdivision or None, years)
        except ValueError as error:
            errors["country"] = str(error)
    if ics:
        try:
            found += holidays_from_ics(ics, years=years or None)
        except ValueError as error:
            errors["ics"] = str(error)
    if errors:
        raise ValidationError(errors)
    return found


def calendar_spec(*, spec, holidays: Sequence[date] = ()) -> dict:
    """The canonical spec with `holidays` added: what `calendar_save` stores."""
    canonical = canonical_spec(spec)
    if not holidays:
        return canonical
    try:
        return BusinessCalendar.from_spec(canonical).with_holidays(holidays).to_spec()
    except (ValueError, TypeError) as error:
        raise ValidationError({"spec": str(error)}) from None


@transaction.atomic
def calendar_save(
    *,
    calendar: Calendar,
    actor,
    name: str,
    description: str = "",
    spec: dict,
    country: str = "",
    subdivision: str = "",
    years: Iterable[int] = (),
    ics: bytes | None = None,
) -> Calendar:
    """Add or change a library calendar, optionally adding holidays from a country or
    an .ics file. A ValidationError (see the checks above) saves nothing."""
    require(actor, "calendar.add" if calendar.pk is None else "calendar.change")
    holidays = calendar_holidays(country=country, subdivision=subdivision, years=years, ics=ics)
    calendar.name = name
    calendar.description = description
    calendar.spec = calendar_spec(spec=spec, holidays=holidays)
    calendar.full_clean()
    calendar.save()
    return calendar
