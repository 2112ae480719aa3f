"""Escalation API: records (read), the engine's moves as incident actions, policies
(read-only), post-incident reviews and action items (escalations.followup.reviews), and the
metrics page as JSON (escalations.analytics.metrics). Same services and permissions as the web."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from escalations.analytics.filters import MetricsFilterForm
from escalations.analytics.metrics import Cell, metrics_period, metrics_tables
from escalations.api import serializers as s
from escalations.api.filters import ActionItemFilter, EscalationFilter, PolicyFilter, ReviewFilter
from escalations.engine import services as engine
from escalations.followup import regulatory, reviews
from escalations.followup.reviews import review_file
from escalations.models import (
    ActionItem,
    CoverRequestStatus,
    Escalation,
    OnCallOverride,
    OnCallOverrideRequest,
    OnCallSchedule,
    Page,
    Policy,
    PostIncidentReview,
    RegulatoryReport,
    SimilarIncident,
)
from escalations.policies.services import policy_spec
from escalations.rules.handoff import CHECKLIST, field_label
from escalations.schedules import services as schedules
from escalations.schedules.selectors import OnCallNow, archive_horizon, who_is_on_call
from incidents.api.serializers import SEVERITIES
from incidents.models import AccountTier, Incident
from incidents.permissions import permissions, require
from incidents.selectors import incident_for_user, incidents_visible_to, visibility_q
from portal.api.errors import service_errors
from portal.api.pagination import CursorPagination
from portal.api.permissions import ActionPermissions

VIEW = ["incidents.view_incident"]


def _handoff_errors(error: ValidationError) -> exceptions.ValidationError:
    """The engine names note fields `note_<name>` and checklist items `check_<key>`
    (the web form's field names); the API body has `note: {...}` and `checklist: [...]`."""
    errors = service_errors(error)
    note = {k.removeprefix("note_"): v for k, v in errors.items() if k.startswith("note_")}
    checklist = [m for k, v in errors.items() if k.startswith("check_") for m in v]
    result = {k: v for k, v in errors.items() if not k.startswith(("note_", "check_"))}
    if note:
        result["note"] = note
    if checklist:
        result["checklist"] = checklist
    return exceptions.ValidationError(result)


class EscalationCursor(CursorPagination):
    ordering = ("-at", "-id")


class EscalationViewSet(viewsets.ReadOnlyModelViewSet):
    """Escalation records of the incidents you may see, newest first."""

    serializer_class = s.EscalationSerializer
    permission_classes = [ActionPermissions]
    filterset_class = EscalationFilter
    pagination_class = EscalationCursor
    required_permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "decide": permissions("escalation.record_decision"),
    }

    def get_queryset(self):
        return (
            Escalation.objects.filter(incident__in=incidents_visible_to(self.request.user))
            .select_related("incident", "actor", "acknowledged_by", "decision_by")
            .prefetch_related(Prefetch("pages", Page.objects.select_related("person")))
        )

    @extend_schema(
        summary="Record the decision made (once)",
        request=s.DecisionSerializer,
        responses={200: s.EscalationSerializer},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        escalation = self.get_object()
        body = s.DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        escalation = engine.escalation_record_decision(
            escalation=escalation, actor=request.user, decision=body.validated_data["decision"]
        )
        return Response(s.EscalationSerializer(self.get_queryset().get(pk=escalation.pk)).data)


class IncidentEscalationViewSet(viewsets.GenericViewSet):
    """The escalation engine's moves on one incident (/api/incidents/<reference>/...)."""

    serializer_class = s.EscalationSerializer
    lookup_field = "reference"
    lookup_value_regex = "[^/]+"
    permission_classes = [ActionPermissions]
    required_permissions = {
        "escalation_options": VIEW,
        "regulatory_report": permissions("regulatory_report.view"),
        "regulatory_report_require": permissions("regulatory_report.require"),
        "regulatory_report_file": permissions("regulatory_report.file"),
        "escalate": permissions("escalation.escalate"),
        "acknowledge_handoff": permissions("escalation.acknowledge_handoff"),
        "de_escalate": permissions("escalation.de_escalate"),
        "manager_request": permissions("escalation.manager_request"),
    }

    def get_queryset(self):
        return incidents_visible_to(self.request.user)

    def get_object(self) -> Incident:
        return incident_for_user(self.request.user, self.kwargs["reference"])

    def _record(self, escalation: Escalation, code=status.HTTP_200_OK) -> Response:
        escalation = Escalation.objects.select_related(
            "incident", "actor", "acknowledged_by", "decision_by"
        ).get(pk=escalation.pk)
        return Response(s.EscalationSerializer(escalation).data, status=code)

    @extend_schema(
        summary="The incident's regulatory report: why, due, overdue, filed (seed 002)",
        responses={200: s.RegulatoryReportSerializer},
    )
    @action(detail=True, methods=["get"], url_path="regulatory-report")
    def regulatory_report(self, request, reference=None):
        incident = self.get_object()
        require(request.user, "regulatory_report.view", incident=incident)
        return self._regulatory_report(incident)

    def _regulatory_report(self, incident: Incident, code=status.HTTP_200_OK) -> Response:
        report = get_object_or_404(
            RegulatoryReport.objects.select_related("incident", "required_by", "filed_by"),
            incident=incident,
        )
        return Response(s.RegulatoryReportSerializer(report).data, status=code)

    @extend_schema(
        summary="Mark the incident as needing a regulatory report (seed 002; Legal, managers)",
        request=s.RegulatoryReportRequireSerializer,
        responses={201: s.RegulatoryReportSerializer},
    )
    @action(detail=True, methods=["post"], url_path="regulatory-report/require")
    def regulatory_report_require(self, request, reference=None):
        incident = self.get_object()
        body = s.RegulatoryReportRequireSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        regulatory.regulatory_report_require(
            incident=incident, actor=request.user, reason=body.validated_data["reason"]
        )
        return self._regulatory_report(incident, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record the regulatory report as filed (seed 002; Legal, managers)",
        request=s.RegulatoryReportFileSerializer,
        responses={200: s.RegulatoryReportSerializer},
    )
    @action(detail=True, methods=["post"], url_path="regulatory-report/file")
    def regulatory_report_file(self, request, reference=None):
        incident = self.get_object()
        body = s.RegulatoryReportFileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        regulatory.regulatory_report_file(
            incident=incident, actor=request.user, reference=body.validated_data["reference"]
        )
        return self._regulatory_report(incident)

    @extend_schema(
        summary="Levels you can move to, the note fields each requires, the checklist",
        responses={200: s.EscalationOptionsSerializer},
    )
    @action(detail=True, methods=["get"], url_path="escalation-options")
    def escalation_options(self, request, reference=None):
        incident = self.get_object()
        categories = engine.allowed_categories(request.user)
        data = {
            "policy": str(incident.policy) if incident.policy_id else None,
            "current_level": incident.current_level,
            "escalate_to": [],
            "de_escalate_to": [],
            "categories": [{"value": c.value, "label": c.label} for c in categories],
            "checklist": [{"value": k, "label": v} for k, v in CHECKLIST.items()],
            "pending_handoff": None,
            "context": {},
        }
        if incident.policy_id is not None:
            spec = policy_spec(incident.policy)
            for level in spec.levels:
                entry = {
                    "number": level.number,
                    "name": level.name,
                    "handoff_fields": [
                        {"value": f, "label": field_label(f)} for f in level.handoff_fields
                    ],
                }
                if level.number > incident.current_level:
                    data["escalate_to"].append(entry)
                elif level.number < incident.current_level:
                    data["de_escalate_to"].append({**entry, "handoff_fields": []})
            pending = engine.pending_handoff(incident) if incident.is_open else None
            data["pending_handoff"] = pending.pk if pending else None
            higher = spec.next_level(incident.current_level)
            if higher is not None:
                data["context"] = engine.handoff_context(
                    incident, spec, higher.number, timezone.now()
                ).as_dict()
        return Response(data)

    @extend_schema(
        summary="Escalate with the handoff note the target level requires",
        request=s.EscalateSerializer,
        responses={201: s.EscalationSerializer},
    )
    @action(detail=True, methods=["post"])
    def escalate(self, request, reference=None):
        incident = self.get_object()
        body = s.EscalateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            escalation = engine.incident_escalate(
                incident=incident,
                to_level=data["to_level"],
                actor=request.user,
                reason=data["reason"],
                category=data["category"],
                note=data["note"],
                checklist=data["checklist"],
                decision_sought=data["decision_sought"],
            )
        except ValidationError as error:
            raise _handoff_errors(error) from None
        return self._record(escalation, status.HTTP_201_CREATED)

    @extend_schema(
        summary="The receiving level takes the handoff",
        request=None,
        responses={200: s.EscalationSerializer},
    )
    @action(detail=True, methods=["post"], url_path="acknowledge-handoff")
    def acknowledge_handoff(self, request, reference=None):
        escalation = engine.handoff_acknowledge(incident=self.get_object(), actor=request.user)
        return self._record(escalation)

    @extend_schema(
        summary="Hand follow-up back to a lower level, with a resolution summary",
        request=s.DeEscalateSerializer,
        responses={201: s.EscalationSerializer},
    )
    @action(detail=True, methods=["post"], url_path="de-escalate")
    def de_escalate(self, request, reference=None):
        incident = self.get_object()
        body = s.DeEscalateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        escalation = engine.incident_de_escalate(
            incident=incident, actor=request.user, **body.validated_data
        )
        return self._record(escalation, status.HTTP_201_CREATED)

    @extend_schema(
        summary="An enterprise customer asks for a manager (executive trigger)",
        request=s.ManagerRequestSerializer,
        responses={200: s.ManagerRequestResultSerializer},
    )
    @action(detail=True, methods=["post"], url_path="manager-request")
    def manager_request(self, request, reference=None):
        incident = self.get_object()
        body = s.ManagerRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        escalation = engine.customer_requests_manager(
            incident=incident, actor=request.user, note=body.validated_data["note"]
        )
        data = None
        if escalation is not None:
            data = self._record(escalation).data
        return Response({"escalation": data})


class PolicyCursor(CursorPagination):
    ordering = ("-id",)


class PolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Escalation policies, every version (read-only; edit them in the admin or YAML)."""

    serializer_class = s.PolicySerializer
    permission_classes = [ActionPermissions]
    filterset_class = PolicyFilter
    pagination_class = PolicyCursor
    required_permissions = {
        "list": ["escalations.view_policy"],
        "retrieve": ["escalations.view_policy"],
    }
    queryset = Policy.objects.prefetch_related(
        "levels", "targets", "thresholds", "overrides", "match_channels", "match_components"
    )


# --- post-incident reviews and action items -----------------------------------------------------


def _user_zone(user):
    """The zone the web would show this user's times in (tokens skip the middleware)."""
    return getattr(user, "time_zone", None) or timezone.get_current_timezone()


class TextRenderer(renderers.BaseRenderer):
    """Lets clients ask for the export's own media type. The export itself is an
    HttpResponse; this only renders errors, as JSON text."""

    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode(self.charset)
        return renderers.JSONRenderer().render(data)


class MarkdownRenderer(TextRenderer):
    media_type = "text/markdown"
    format = "md"


class YamlRenderer(TextRenderer):
    media_type = "application/yaml"
    format = "yaml"


class ReviewCursor(CursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema_view(
    list=extend_schema(summary="Post-incident reviews of incidents you may see, newest first"),
    retrieve=extend_schema(summary="One review, by its incident's reference"),
)
class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Post-incident reviews (seed 004), addressed by their incident's reference. A
    security incident's review exists only for those who may see the incident (404)."""

    serializer_class = s.ReviewSerializer
    lookup_field = "incident__reference"
    lookup_url_kwarg = "reference"
    lookup_value_regex = r"[^/\x00]+"  # NUL: PostgreSQL cannot compare it (a 500)
    permission_classes = [ActionPermissions]
    filterset_class = ReviewFilter
    pagination_class = ReviewCursor
    # The web's: the review page and downloads need view_incident, each change
    # its rule (incidents.permissions).
    required_permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "markdown": VIEW,
        "yaml": VIEW,
        "create": permissions("review.create"),
        "partial_update": permissions("review.update"),
        "submit": permissions("review.submit"),
        "publish": permissions("review.publish"),
        "return_to_draft": permissions("review.return_to_draft"),
    }

    def get_queryset(self):
        user = self.request.user
        items = ActionItem.objects.select_related("incident", "owner", "created_by", "closed_by")
        similar = SimilarIncident.objects.filter(visibility_q(user, "incident__"))
        return (
            PostIncidentReview.objects.filter(visibility_q(user, "incident__"))
            .select_related("incident", "owner", "created_by", "published_by")
            .prefetch_related(
                Prefetch("action_items", queryset=items.order_by("due_at", "id")),
                Prefetch(
                    "similar_links",
                    queryset=similar.select_related("incident").order_by("confirmed_at", "id"),
                ),
            )
        )

    def _fresh(self, review: PostIncidentReview, code=status.HTTP_200_OK) -> Response:
        review = self.get_queryset().get(pk=review.pk)
        data = s.ReviewSerializer(review, context=self.get_serializer_context()).data
        return Response(data, status=code)

    @extend_schema(
        summary="Start a review of an incident (required ones start when it resolves)",
        request=s.ReviewCreateSerializer,
        responses={201: s.ReviewSerializer},
    )
    def create(self, request):
        body = s.ReviewCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        review = reviews.review_create(incident=body.validated_data["incident"], actor=request.user)
        return self._fresh(review, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit the review's paragraphs while it is a draft or in review",
        request=s.ReviewUpdateSerializer,
        responses={200: s.ReviewSerializer},
    )
    def partial_update(self, request, reference=None):
        review = self.get_object()
        body = s.ReviewUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        reviews.review_update(review=review, actor=request.user, changes=body.changes())
        return self._fresh(review)

    @extend_schema(
        summary="Submit a draft for review (every paragraph filled in)",
        request=None,
        responses={200: s.ReviewSerializer},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, reference=None):
        review = reviews.review_submit(review=self.get_object(), actor=request.user)
        return self._fresh(review)

    @extend_schema(
        summary="Publish a review in review (needs the publish permission)",
        request=None,
        responses={200: s.ReviewSerializer},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, reference=None):
        review = reviews.review_publish(review=self.get_object(), actor=request.user)
        return self._fresh(review)

    @extend_schema(
        summary="Send a review in review back to draft, saying what to change",
        request=s.ReturnSerializer,
        responses={200: s.ReviewSerializer},
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_to_draft(self, request, reference=None):
        review = self.get_object()
        body = s.ReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review = reviews.review_return_to_draft(
            review=review, actor=request.user, reason=body.validated_data["reason"]
        )
        return self._fresh(review)

    def _export(self, request, kind: str) -> HttpResponse:
        """The web's download, times in the reader's zone."""
        return review_file(
            self.get_object(), reader=request.user, zone=_user_zone(request.user), kind=kind
        )

    @extend_schema(
        summary="The review as Markdown (the web's pir.md)",
        responses={(200, "text/markdown"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, MarkdownRenderer])
    def markdown(self, request, reference=None):
        return self._export(request, "md")

    @extend_schema(
        summary="The review in seed 004's YAML shape (the web's pir.yaml)",
        responses={(200, "application/yaml"): s.ReviewDocumentSerializer},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, YamlRenderer])
    def yaml(self, request, reference=None):
        return self._export(request, "yaml")


class ActionItemCursor(CursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema_view(
    list=extend_schema(summary="Action items of incidents you may see, newest first"),
    retrieve=extend_schema(summary="One action item"),
)
class ActionItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Action items of post-incident reviews: one owner, a due date, closed as done or
    dropped with who and when recorded. Changed only through escalations.followup.reviews."""

    serializer_class = s.ActionItemSerializer
    permission_classes = [ActionPermissions]
    filterset_class = ActionItemFilter
    pagination_class = ActionItemCursor
    required_permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": permissions("action_item.add"),
        "partial_update": permissions("action_item.update"),
        "close": permissions("action_item.close"),
    }

    def get_queryset(self):
        return ActionItem.objects.filter(
            visibility_q(self.request.user, "incident__")
        ).select_related("incident", "owner", "created_by", "closed_by")

    def _fresh(self, item: ActionItem, code=status.HTTP_200_OK) -> Response:
        item = self.get_queryset().get(pk=item.pk)
        return Response(s.ActionItemSerializer(item).data, status=code)

    @extend_schema(
        summary="Add an action item to a review (its owner is told)",
        request=s.ActionItemCreateSerializer,
        responses={201: s.ActionItemSerializer},
    )
    def create(self, request):
        body = s.ActionItemCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        item = reviews.action_item_add(actor=request.user, **body.validated_data)
        return self._fresh(item, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Hand an open item over, move its due date, or mark it in progress",
        request=s.ActionItemUpdateSerializer,
        responses={200: s.ActionItemSerializer},
    )
    def partial_update(self, request, pk=None):
        item = self.get_object()
        body = s.ActionItemUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        item = reviews.action_item_update(item=item, actor=request.user, **body.validated_data)
        return self._fresh(item)

    @extend_schema(
        summary="Close as done or won't do (with a reason); who and when are kept",
        request=s.ActionItemCloseSerializer,
        responses={200: s.ActionItemSerializer},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        item = self.get_object()
        body = s.ActionItemCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = reviews.action_item_close(item=item, actor=request.user, **body.validated_data)
        return self._fresh(item)


# --- metrics ------------------------------------------------------------------------------------

_ID = "Id, as the metrics page's filter form sends it."
METRICS_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (default: 90 days ago)."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, included (default: today)."),
    OpenApiParameter("policy", OpenApiTypes.STR, description="Policy name."),
    OpenApiParameter("level", OpenApiTypes.INT, description="Current level."),
    OpenApiParameter("severity", OpenApiTypes.STR, enum=[v for v, _label in SEVERITIES]),
    OpenApiParameter("channel", OpenApiTypes.INT, description=f"Channel. {_ID}"),
    OpenApiParameter("component", OpenApiTypes.INT, description=f"Component. {_ID}"),
    OpenApiParameter(
        "tier", OpenApiTypes.STR, enum=AccountTier.values, description="Account tier."
    ),
    OpenApiParameter("assignee", OpenApiTypes.INT, description=f"Assignee. {_ID}"),
]


def _target(target) -> dict | None:
    return None if target is None else {"label": str(target.label), "met": target.met}


def _cell(value) -> dict:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    return {
        "text": "" if value is None else str(value),
        "number": number,
        "target": _target(value.target) if isinstance(value, Cell) else None,
    }


class MetricsViewSet(viewsets.ViewSet):
    """The metrics page as JSON: the same figures and tables, from the same selector."""

    permission_classes = [ActionPermissions]
    required_permissions = {"list": ["escalations.view_metrics"]}

    @extend_schema(
        summary="The metrics page's figures and tables, for the page's query parameters",
        parameters=METRICS_PARAMETERS,
        responses={200: s.MetricsSerializer},
    )
    def list(self, request):
        # The page's day boundaries are the user's; a token request has no middleware zone.
        with timezone.override(_user_zone(request.user)):
            form = MetricsFilterForm(request.query_params or None)
            if form.is_bound and not form.is_valid():
                raise ValidationError(form.errors.as_data())
            period, (first, last) = metrics_period(request.user, form, timezone.now())
            tables = metrics_tables(period)
            data = {
                "start": first,
                "end": last,
                "as_of": period.now,
                "figures": [
                    {"table": table.slug, "label": label, "value": value, "target": _target(target)}
                    for table in tables
                    for label, value, target in table.figures
                ],
                "tables": [
                    {
                        "slug": table.slug,
                        "title": table.title,
                        "available": table.available,
                        "headers": [str(header) for header in table.headers],
                        "rows": [[_cell(cell) for cell in row] for row in table.rows],
                        "note": table.note,
                    }
                    for table in tables
                ],
            }
            return Response(s.MetricsSerializer(data).data)


# --- on-call schedules ----------------------------------------------------------------------

# A "+01:00" offset typed unencoded in a query string arrives as " 01:00".
_UNENCODED_OFFSET_RE = re.compile(r" (\d{2}(?::?\d{2})?)$")


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with its offset, or a 400 that says what is wrong."""
    try:
        value = parse_datetime(_UNENCODED_OFFSET_RE.sub(r"+\1", text.strip()))
    except ValueError:
        value = None
    if value is None:
        raise exceptions.ValidationError(
            {"at": [f"{text!r} is not an ISO 8601 instant, e.g. 2026-03-29T03:00:00+02:00."]}
        )
    if timezone.is_naive(value):
        raise exceptions.ValidationError(
            {"at": [f"{text!r} has no offset: add one (e.g. +02:00 or Z), URL-encoded."]}
        )
    if not 1900 <= value.astimezone(UTC).year < 2200:
        # The on-call core counts instants from 1900 up to 2200.
        raise exceptions.ValidationError({"at": [f"{text!r} is outside the years 1900-2199."]})
    return value


def _person(now: OnCallNow, username: str) -> dict[str, str]:
    return {"username": username, "name": now.name(username)}


@extend_schema_view(
    list=extend_schema(summary="On-call schedules (anyone signed in)"),
    retrieve=extend_schema(summary="One on-call schedule"),
    create=extend_schema(summary="Create a schedule from a spec (team leads, managers)"),
    update=extend_schema(summary="Replace a schedule (team leads, managers)"),
    partial_update=extend_schema(summary="Change a schedule (team leads, managers)"),
)
class ScheduleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """On-call schedules; who is on call at an instant. Changes go through
    escalations.schedules.services, which ask the same rules."""

    serializer_class = s.ScheduleSerializer
    permission_classes = [ActionPermissions]
    queryset = OnCallSchedule.objects.select_related("team").order_by("name")
    required_permissions = {
        "list": [],
        "retrieve": [],
        "on_call": [],
        "take": permissions("schedule.take_shift"),
        "create": permissions("schedule.create"),
        "update": permissions("schedule.update"),
        "partial_update": permissions("schedule.update"),
    }

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = schedules.schedule_create(
            actor=self.request.user,
            name=data["name"],
            spec=data["spec"],
            team=data.get("team"),
            description=data.get("description", ""),
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        changes = {key: data[key] for key in ("name", "spec", "description") if key in data}
        if "team" in data:
            changes["team"] = data["team"]
        serializer.instance = schedules.schedule_update(
            actor=self.request.user, schedule=serializer.instance, **changes
        )

    @extend_schema(
        summary="Who is on call at an instant",
        parameters=[
            OpenApiParameter(
                "at",
                OpenApiTypes.DATETIME,
                description="ISO 8601 instant with its offset (URL-encode the +); "
                "default: now. A naive or malformed value is a 400.",
            )
        ],
        responses={200: s.OnCallSerializer},
    )
    @action(detail=True, methods=["get"], url_path="on-call")
    def on_call(self, request, pk=None):
        schedule = self.get_object()
        raw = request.query_params.get("at")
        at = parse_instant(raw) if raw not in (None, "") else timezone.now()
        now = who_is_on_call(schedule, at)
        current = now.current
        body = {
            "at": at,
            "person": _person(now, current.person) if current else None,
            "source": now.source or None,
            "layer": (
                {"index": current.layer, "name": now.layer_name}
                if current and current.layer is not None
                else None
            ),
            "override": now.override_id,
            "shift": {"start": current.start, "end": current.end} if current else None,
            "paging_order": [_person(now, username) for username in now.paging_order],
        }
        return Response(s.OnCallSerializer(body).data)

    @extend_schema(
        summary="Take the shift now: you are on call from now, for some hours or until the "
        "current shift ends (members of the schedule's team or rotations)",
        request=s.ShiftTakeSerializer,
        responses={201: s.OverrideSerializer},
    )
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        schedule = self.get_object()
        body = s.ShiftTakeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = schedules.shift_take(
            actor=request.user, schedule=schedule, hours=body.validated_data.get("hours")
        )
        return Response(s.OverrideSerializer(row).data, status=status.HTTP_201_CREATED)


# --- overrides and cover requests (nested under a schedule) ------------------------------------

SCHEDULE_ID = OpenApiParameter(
    "schedule_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The schedule's id."
)


class _InSchedule:
    """A viewset nested under /api/schedules/{schedule_pk}/."""

    def schedule(self) -> OnCallSchedule:
        if not hasattr(self, "_schedule"):
            self._schedule = get_object_or_404(OnCallSchedule, pk=self.kwargs["schedule_pk"])
        return self._schedule


class OverrideCursor(CursorPagination):
    ordering = ("-start", "-id")


@extend_schema_view(
    list=extend_schema(
        summary="A schedule's overrides (anyone signed in), latest start first",
        parameters=[
            SCHEDULE_ID,
            OpenApiParameter(
                "archived",
                OpenApiTypes.BOOL,
                description="Also those that ended before the archive horizon (90 days ago); "
                "the built schedule leaves those out.",
            ),
        ],
    ),
    destroy=extend_schema(
        summary="Remove an override (team leads, managers)", parameters=[SCHEDULE_ID]
    ),
)
class OverrideViewSet(
    _InSchedule,
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Overrides of one schedule: a manager's, for anyone, or made by an accepted cover
    request or a taken shift. Added and removed through escalations.schedules.services."""

    serializer_class = s.OverrideSerializer
    permission_classes = [ActionPermissions]
    pagination_class = OverrideCursor
    required_permissions = {
        "list": [],
        "create": permissions("schedule.add_override"),
        "destroy": permissions("schedule.remove_override"),
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema, without a schedule
            return OnCallOverride.objects.none()
        rows = OnCallOverride.objects.filter(schedule=self.schedule()).select_related(
            "person", "created_by", "request", "swap_request", "schedule"
        )
        archived = self.request.query_params.get("archived", "")
        if self.action == "list" and archived.lower() not in ("1", "true", "yes", "on"):
            rows = rows.filter(end__gt=archive_horizon())
        return rows

    @extend_schema(
        summary="Put someone (or nobody) on call for an interval (team leads, managers)",
        parameters=[SCHEDULE_ID],
        request=s.OverrideCreateSerializer,
        responses={201: s.OverrideSerializer},
    )
    def create(self, request, schedule_pk=None):
        body = s.OverrideCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = schedules.override_add(
            actor=request.user, schedule=self.schedule(), **body.validated_data
        )
        return Response(s.OverrideSerializer(row).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        schedules.override_remove(actor=self.request.user, override=instance)


class CoverRequestCursor(CursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema_view(
    list=extend_schema(
        summary="A schedule's cover requests (anyone signed in), newest first",
        parameters=[
            SCHEDULE_ID,
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=CoverRequestStatus.values,
                description="Only requests in this state.",
            ),
        ],
    ),
    retrieve=extend_schema(summary="One cover request", parameters=[SCHEDULE_ID]),
)
class CoverRequestViewSet(
    _InSchedule,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """A person on call asks another member of the schedule to cover part of their shift;
    the person asked accepts (an override, at once) or declines; the asker may cancel.
    Each is escalations.schedules.services with its own rule; the other person is told."""

    serializer_class = s.CoverRequestSerializer
    permission_classes = [ActionPermissions]
    pagination_class = CoverRequestCursor
    required_permissions = {
        "list": [],
        "retrieve": [],
        "create": permissions("schedule.request_cover"),
        "accept": permissions("schedule.accept_cover"),
        "decline": permissions("schedule.decline_cover"),
        "cancel": permissions("schedule.cancel_cover"),
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema, without a schedule
            return OnCallOverrideRequest.objects.none()
        rows = OnCallOverrideRequest.objects.filter(schedule=self.schedule()).select_related(
            "schedule", "from_person", "to_person"
        )
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in CoverRequestStatus.values:
                raise exceptions.ValidationError(
                    {"status": [f"One of {', '.join(CoverRequestStatus.values)}."]}
                )
            rows = rows.filter(status=wanted)
        return rows

    @extend_schema(
        summary="Ask a member of the schedule to cover part of your shift (they are told)",
        parameters=[SCHEDULE_ID],
        request=s.CoverRequestCreateSerializer,
        responses={201: s.CoverRequestSerializer},
    )
    def create(self, request, schedule_pk=None):
        body = s.CoverRequestCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = schedules.cover_request(
            actor=request.user, schedule=self.schedule(), **body.validated_data
        )
        return Response(s.CoverRequestSerializer(row).data, status=status.HTTP_201_CREATED)

    def _answer(self, call):
        row = call(actor=self.request.user, request=self.get_object())
        return Response(s.CoverRequestSerializer(row).data)

    @extend_schema(
        summary="Accept a request made to you: you are on call for its interval "
        "(accepting again changes nothing)",
        parameters=[SCHEDULE_ID],
        request=None,
        responses={200: s.CoverRequestSerializer},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, schedule_pk=None, pk=None):
        return self._answer(schedules.cover_accept)

    @extend_schema(
        summary="Decline a request made to you",
        parameters=[SCHEDULE_ID],
        request=None,
        responses={200: s.CoverRequestSerializer},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, schedule_pk=None, pk=None):
        return self._answer(schedules.cover_decline)

    @extend_schema(
        summary="Cancel a request you made that is not answered yet",
        parameters=[SCHEDULE_ID],
        request=None,
        responses={200: s.CoverRequestSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, schedule_pk=None, pk=None):
        return self._answer(schedules.cover_cancel)
