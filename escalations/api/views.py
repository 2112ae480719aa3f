"""Escalation API: records (read), the engine's moves as incident actions, policies
(read-only). Same services and permissions as the incident page's escalation panel."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from escalations import engine
from escalations.handoff import CHECKLIST, field_label
from escalations.models import ENGINEER_CATEGORIES, MANAGEMENT_CATEGORIES, Escalation, Policy
from escalations.policies import policy_spec
from incidents.models import Incident
from incidents.selectors import incident_for_user, incidents_visible_to
from portal.api.errors import service_errors
from portal.api.pagination import CursorPagination
from portal.api.permissions import ActionPermissions

from . import serializers as s
from .filters import EscalationFilter, PolicyFilter

VIEW = ["incidents.view_incident"]
CHANGE = ["incidents.change_incident"]
MANAGEMENT = "escalations.escalate_as_management"


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
        "decide": [*CHANGE, "escalations.record_decision"],
    }

    def get_queryset(self):
        return Escalation.objects.filter(
            incident__in=incidents_visible_to(self.request.user)
        ).select_related("incident", "actor", "acknowledged_by", "decision_by")

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
        "escalate": CHANGE,
        "acknowledge_handoff": CHANGE,
        "de_escalate": CHANGE,
        "manager_request": CHANGE,
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
        summary="Levels you can move to, the note fields each requires, the checklist",
        responses={200: s.EscalationOptionsSerializer},
    )
    @action(detail=True, methods=["get"], url_path="escalation-options")
    def escalation_options(self, request, reference=None):
        incident = self.get_object()
        management = request.user.has_perm(MANAGEMENT)
        categories = ENGINEER_CATEGORIES + (MANAGEMENT_CATEGORIES if management else [])
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
        if data["category"] in MANAGEMENT_CATEGORIES and not request.user.has_perm(MANAGEMENT):
            raise exceptions.PermissionDenied("Management reasons are for managers and up.")
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
