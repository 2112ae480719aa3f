"""Alert webhooks: Alertmanager and Grafana at /api/alerts/<secret>/, PagerDuty Events
API v2 compatible events at /api/alerts/v2/enqueue (the secret is the routing key).

Order of checks: size (413) before anything is read, the integration (404, the same
answer and the same path for unknown and revoked secrets), its rate limit (429 with
Retry-After), then the body (400 with every problem). The rate counter is its own
one-statement transaction, so concurrent requests never queue behind each other on
it; a plain repeat of an open alert is one statement too; anything else is one
transaction (incidents.alerts.alerts_ingest): nothing is half-written.
"""

from __future__ import annotations

import json

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import alerts
from incidents.alert_payloads import (
    PayloadError,
    parse_alertmanager,
    parse_events_v2,
    parse_grafana,
    routing_key_of,
)
from incidents.models import IntegrationKind
from portal.api.schema import DetailSerializer, error_list_serializer


class _BodyProblem(Exception):
    def __init__(self, status_code: int, message: str):
        self.status_code = status_code
        self.message = message
        super().__init__(message)


def _too_big(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # Django reads such a body as empty; the JSON check answers
    return length > settings.ALERT_MAX_BODY


def _size_message() -> str:
    return f"The body is larger than {settings.ALERT_MAX_BODY // 1024} KB."


def _read_json(request):
    limit = settings.ALERT_MAX_BODY
    raw = request._request.read(limit + 1)
    if len(raw) > limit:
        raise _BodyProblem(413, _size_message())
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise _BodyProblem(400, f"Malformed JSON: {error}") from None


class _IngestView(APIView):
    """No session or token: the secret in the URL (or the routing key) is the credential."""

    authentication_classes = ()
    permission_classes = ()
    parser_classes = [JSONParser]  # documents the body; it is read raw, size first
    renderer_classes = [JSONRenderer]
    document_default_errors = False

    def _receive(self, integration, parse):
        """Rate limit, body, then the work: a Response for a refusal, else the signals
        and what became of them.

        The rate count and a plain repeat (counted in one statement) are counters:
        they commit without waiting for the disk. Anything else is one ordinary
        transaction (incidents.alerts.alerts_ingest).
        """
        with alerts.counters_without_disk_wait():
            decision = alerts.rate_limit_hit(integration=integration)
            if not decision.allowed:
                return self.rate_limited(integration, decision)
            try:
                signals = parse()
            except (_BodyProblem, PayloadError) as error:
                return self.bad_body(error)
            outcomes = alerts.alerts_count_repeat(integration=integration, signals=signals)
        if outcomes is None:
            outcomes = alerts.alerts_ingest(integration=integration, signals=signals)
        return signals, outcomes


class AlertOutcomeSerializer(serializers.Serializer):
    key = serializers.CharField()
    action = serializers.ChoiceField(
        choices=["opened", "updated", "acknowledged", "resolved", "ignored"]
    )
    incident = serializers.CharField(allow_null=True, help_text="Reference")


class AlertWebhookResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    incidents = AlertOutcomeSerializer(many=True)


RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds until the integration's rate window ends.",
)


class AlertmanagerAlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["firing", "resolved"])
    labels = serializers.DictField(child=serializers.CharField(), required=False)
    annotations = serializers.DictField(
        child=serializers.CharField(), required=False, allow_null=True
    )
    startsAt = serializers.CharField(required=False)
    endsAt = serializers.CharField(required=False, help_text='"0001-01-01T00:00:00Z" if none')
    generatorURL = serializers.CharField(required=False)
    fingerprint = serializers.CharField(required=False)


class AlertmanagerWebhookSerializer(serializers.Serializer):
    """Alertmanager's webhook payload (version 4); Grafana adds state, title and message.

    Only the fields the portal uses are checked; others are ignored.
    """

    version = serializers.CharField(help_text='"4" (Alertmanager); Grafana sends "1"')
    groupKey = serializers.CharField()
    status = serializers.ChoiceField(choices=["firing", "resolved"])
    receiver = serializers.CharField(required=False)
    groupLabels = serializers.DictField(child=serializers.CharField(), required=False)
    commonLabels = serializers.DictField(child=serializers.CharField(), required=False)
    commonAnnotations = serializers.DictField(
        child=serializers.CharField(), required=False, allow_null=True
    )
    externalURL = serializers.CharField(required=False)
    truncatedAlerts = serializers.IntegerField(required=False)
    alerts = AlertmanagerAlertSerializer(many=True)
    state = serializers.ChoiceField(choices=["alerting", "ok"], required=False)
    title = serializers.CharField(required=False)
    message = serializers.CharField(required=False)


class AlertWebhookView(_IngestView):
    @extend_schema(
        operation_id="alerts_webhook",
        summary="Alertmanager or Grafana webhook (the integration's secret URL)",
        tags=["alerts"],
        auth=[],
        request=AlertmanagerWebhookSerializer,
        parameters=[RETRY_AFTER],
        responses={
            200: AlertWebhookResultSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Dotted paths to messages."),
            404: OpenApiResponse(DetailSerializer, description="Unknown or revoked secret."),
            413: OpenApiResponse(DetailSerializer, description="Body over the size limit."),
            429: OpenApiResponse(DetailSerializer, description="Rate limit reached."),
        },
    )
    def post(self, request, token: str):
        if _too_big(request):
            return Response({"detail": _size_message()}, status=413)
        integration = alerts.integration_for_token(
            token, kinds=(IntegrationKind.ALERTMANAGER, IntegrationKind.GRAFANA)
        )
        if integration is None:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)

        def parse():
            reader = (
                parse_grafana if integration.kind == IntegrationKind.GRAFANA else parse_alertmanager
            )
            return reader(
                _read_json(request),
                grouping=integration.grouping,
                severity_label=integration.severity_label,
            )

        received = self._receive(integration, parse)
        if isinstance(received, Response):
            return received
        _signals, outcomes = received
        return Response({"status": "success", "incidents": [o.as_dict() for o in outcomes]})

    def bad_body(self, error) -> Response:
        if isinstance(error, _BodyProblem):
            return Response({"detail": error.message}, status=error.status_code)
        return Response(error.errors, status=status.HTTP_400_BAD_REQUEST)

    def rate_limited(self, integration, decision):
        return Response(
            {
                "detail": f"Rate limit reached: {integration.rate_limit} requests per "
                f"{integration.rate_window} s for this integration."
            },
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(decision.retry_after)},
        )


class EventsV2PayloadSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=1024)
    source = serializers.CharField()
    severity = serializers.ChoiceField(choices=["critical", "error", "warning", "info"])
    timestamp = serializers.DateTimeField(required=False)
    component = serializers.CharField(required=False)
    group = serializers.CharField(required=False)
    # `class` is a keyword: declared below.
    custom_details = serializers.JSONField(required=False)


EventsV2PayloadSerializer._declared_fields["class"] = serializers.CharField(required=False)


class EventsV2Serializer(serializers.Serializer):
    routing_key = serializers.CharField(help_text="The integration's secret.")
    event_action = serializers.ChoiceField(choices=["trigger", "acknowledge", "resolve"])
    dedup_key = serializers.CharField(
        max_length=255, required=False, help_text="Required to acknowledge or resolve."
    )
    payload = EventsV2PayloadSerializer(required=False, help_text="Required to trigger.")
    client = serializers.CharField(required=False)
    client_url = serializers.CharField(required=False)
    links = serializers.ListField(child=serializers.JSONField(), required=False)
    images = serializers.ListField(child=serializers.JSONField(), required=False)


EVENT_ERRORS = error_list_serializer("EventsV2Error")


class EventsV2View(_IngestView):
    @extend_schema(
        operation_id="alerts_events_v2_enqueue",
        summary="PagerDuty Events API v2 compatible event",
        tags=["alerts"],
        auth=[],
        request=EventsV2Serializer,
        parameters=[RETRY_AFTER],
        responses={
            202: inline_serializer(
                "EventsV2Accepted",
                fields={
                    "status": serializers.CharField(),
                    "message": serializers.CharField(),
                    "dedup_key": serializers.CharField(),
                },
            ),
            400: EVENT_ERRORS,
            404: EVENT_ERRORS,
            413: EVENT_ERRORS,
            429: EVENT_ERRORS,
        },
        examples=[
            OpenApiExample(
                "Trigger",
                request_only=True,
                value={
                    "routing_key": "<the integration's secret>",
                    "event_action": "trigger",
                    "dedup_key": "db-primary-disk",
                    "payload": {
                        "summary": "Disk 95% full on db-primary",
                        "source": "db-primary.example.com",
                        "severity": "critical",
                    },
                },
            )
        ],
    )
    def post(self, request):
        if _too_big(request):
            return self._error(413, "Request too large", [_size_message()])
        try:
            data = _read_json(request)
        except _BodyProblem as problem:
            return self._error(problem.status_code, "Event object is invalid", [problem.message])
        try:
            routing_key = routing_key_of(data)
        except PayloadError as error:
            return self._error(400, "Event object is invalid", error.messages())
        integration = alerts.integration_for_token(routing_key, kinds=(IntegrationKind.EVENTS_V2,))
        if integration is None:
            return self._error(
                404, "Unknown routing key", ["No active integration has this routing key."]
            )
        received = self._receive(integration, lambda: [parse_events_v2(data).signal])
        if isinstance(received, Response):
            return received
        [signal], _outcomes = received
        return Response(
            {"status": "success", "message": "Event processed", "dedup_key": signal.key},
            status=status.HTTP_202_ACCEPTED,
        )

    def bad_body(self, error: PayloadError) -> Response:
        return self._error(400, "Event object is invalid", error.messages())

    def _error(self, code: int, message: str, errors: list[str], headers=None) -> Response:
        statuses = {
            400: "invalid event",
            404: "invalid event",
            413: "invalid event",
            429: "throttle event",
        }
        return Response(
            {"status": statuses[code], "message": message, "errors": errors},
            status=code,
            headers=headers,
        )

    def rate_limited(self, integration, decision):
        return self._error(
            429,
            "Requests for this integration are rate limited",
            [f"At most {integration.rate_limit} events per {integration.rate_window} s."],
            headers={"Retry-After": str(decision.retry_after)},
        )
