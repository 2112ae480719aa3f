"""OpenAPI: every authenticated endpoint documents the errors it can answer."""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


_FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Invalid input: field names (or `non_field_errors`) to lists of messages.",
)
_DEFAULT_ERRORS = {
    "400": _FIELD_ERRORS,
    "401": OpenApiResponse(DetailSerializer, description="No or bad credentials."),
    "403": OpenApiResponse(DetailSerializer, description="Not allowed for your role."),
    "404": OpenApiResponse(
        DetailSerializer, description="No such object, or not visible to you (or a bad cursor)."
    ),
}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if getattr(self.view, "document_default_errors", True):
            for code, response in _DEFAULT_ERRORS.items():
                if code not in responses:
                    responses[code] = self._get_response_for_code(response, code, None, direction)
        return responses


def error_list_serializer(name: str):
    """The Events API v2 error body: a status, a message and a list of errors."""
    return inline_serializer(
        name,
        fields={
            "status": serializers.CharField(),
            "message": serializers.CharField(),
            "errors": serializers.ListField(child=serializers.CharField()),
        },
    )
