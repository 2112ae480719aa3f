"""Filter pieces every app's API shares."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, compared in UTC: PostgreSQL refuses offsets beyond
    ±15:59 that Python accepts, and an instant outside years 1 to 9999 in UTC
    cannot be compared at all (a 500 either way, rather than a 400)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError(
                "Pick an instant between the years 1 and 9999 in UTC.", code="overflow"
            ) from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
