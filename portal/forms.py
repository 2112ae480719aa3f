"""Form fields shared by the apps' forms."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


class JSONField(forms.JSONField):
    """Django's JSON form field, with text nested deeper than Python's decoder can
    go shown as "Enter a valid JSON." beside the field; the stock field lets the
    decoder's ``RecursionError`` through, a 500."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except RecursionError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)
