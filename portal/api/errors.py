"""Services raise Django's ValidationError; the API answers 400 with field errors."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


def service_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as DRF field errors (non-field ones under
    `non_field_errors`)."""
    if hasattr(error, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): [
                message for item in items for message in item.messages
            ]
            for field, items in error.error_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: list(error.messages)}


def exception_handler(exc, context):
    """DRF's handler, plus services' Django ValidationErrors as 400 with field errors."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(service_errors(exc))
    return drf_exception_handler(exc, context)


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other path under /api/: a JSON 404, whatever the method, as clients expect."""
    return JsonResponse({"detail": "Not found."}, status=404)
