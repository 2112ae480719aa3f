"""Incident API. Thin, as the web views: read through selectors (visibility rules),
change through incidents.services, with the permissions the web asks for."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents import services
from incidents.api import serializers as s
from incidents.api.filters import IncidentFilter
from incidents.models import Account, Category, Channel, Component, Incident
from incidents.permissions import permissions
from incidents.rules import Status
from incidents.selectors import incident_for_user, incident_timeline, incidents_visible_to
from portal.api.pagination import CursorPagination
from portal.api.permissions import ActionPermissions

VIEW = ["incidents.view_incident"]

# Actions on one incident, each calling the service the web's form calls, with
# the rule (incidents.permissions) that service asks.
INCIDENT_ACTIONS = {
    "acknowledge": "incident.acknowledge",
    "comment": "incident.comment",
    "public_update": "incident.post_public_update",
    "resolve": "incident.change_status",
    "pause": "incident.change_status",
    "resume": "incident.change_status",
    "reopen": "incident.reopen",
    "change_status": "incident.change_status",
    "assign": "incident.assign",
    "change_severity": "incident.change_severity",
    # the public status page (seed 002)
    "status_page_publish": "status_page.publish",
    "status_page_title": "status_page.set_title",
    "status_page_update": "status_page.post_update",
    "status_page_withdraw": "status_page.withdraw",
}


class IncidentCursor(CursorPagination):
    ordering = ("-opened_at", "-id")


class EventCursor(CursorPagination):
    ordering = ("at", "id")
    page_size = 100


@extend_schema_view(
    list=extend_schema(summary="Incidents you may see, newest first"),
    retrieve=extend_schema(summary="One incident, by reference"),
)
class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incidents. Security incidents exist only for those allowed to see them (404)."""

    serializer_class = s.IncidentSerializer
    lookup_field = "reference"
    lookup_value_regex = "[^/]+"
    permission_classes = [ActionPermissions]
    filterset_class = IncidentFilter
    pagination_class = IncidentCursor
    required_permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "timeline": VIEW,
        "create": permissions("incident.create"),
        "partial_update": permissions("incident.update_details"),
        **{name: permissions(rule) for name, rule in INCIDENT_ACTIONS.items()},
    }

    def get_queryset(self):
        return incidents_visible_to(self.request.user).select_related(
            "channel", "assignee", "policy"
        )

    def get_object(self) -> Incident:
        return incident_for_user(self.request.user, self.kwargs["reference"])

    def _fresh(self, incident: Incident) -> dict:
        incident = Incident.objects.select_related("channel", "assignee", "policy").get(
            pk=incident.pk
        )
        return s.IncidentSerializer(incident, context=self.get_serializer_context()).data

    @extend_schema(
        summary="Open an incident (imports may give `opened_at`)",
        request=s.IncidentCreateSerializer,
        responses={201: s.IncidentSerializer},
    )
    def create(self, request):
        body = s.IncidentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        incident = services.incident_create(actor=request.user, **body.validated_data)
        data = self._fresh(incident)
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["web_url"]})

    @extend_schema(
        summary="Edit the descriptive fields (timeline records old and new values)",
        request=s.IncidentUpdateSerializer,
        responses={200: s.IncidentSerializer},
    )
    def partial_update(self, request, reference=None):
        incident = self.get_object()
        body = s.IncidentUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        services.incident_update_details(
            incident=incident, actor=request.user, changes=dict(body.validated_data)
        )
        return Response(self._fresh(incident))

    @extend_schema(
        summary="The incident's timeline, oldest first", responses=s.EventSerializer(many=True)
    )
    @action(detail=True, methods=["get"], pagination_class=EventCursor)
    def timeline(self, request, reference=None):
        events = incident_timeline(self.get_object())
        page = self.paginate_queryset(events)
        return self.get_paginated_response(s.EventSerializer(page, many=True).data)

    # --- actions (POST) -------------------------------------------------------------------------

    def _run(self, request, body_class, call, *, created: bool = False):
        incident = self.get_object()
        data = {}
        if body_class is not None:
            body = body_class(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
        result = call(incident, request.user, data)
        if created:
            return Response(s.EventSerializer(result).data, status=status.HTTP_201_CREATED)
        return Response(self._fresh(incident))

    @extend_schema(summary="Take a new incident (first response)", request=None)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, reference=None):
        return self._run(
            request,
            None,
            lambda i, u, d: services.incident_acknowledge(incident=i, actor=u),
        )

    @extend_schema(
        summary="Add an internal note",
        request=s.NoteSerializer,
        responses={201: s.EventSerializer},
    )
    @action(detail=True, methods=["post"])
    def comment(self, request, reference=None):
        return self._run(
            request,
            s.NoteSerializer,
            lambda i, u, d: services.incident_comment(incident=i, actor=u, body=d["body"]),
            created=True,
        )

    @extend_schema(
        summary="Post a customer-visible update",
        request=s.NoteSerializer,
        responses={201: s.EventSerializer},
    )
    @action(detail=True, methods=["post"], url_path="public-update")
    def public_update(self, request, reference=None):
        return self._run(
            request,
            s.NoteSerializer,
            lambda i, u, d: services.incident_post_public_update(
                incident=i, actor=u, body=d["body"]
            ),
            created=True,
        )

    @extend_schema(summary="Resolve, saying how", request=s.ResolveSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, reference=None):
        return self._run(
            request,
            s.ResolveSerializer,
            lambda i, u, d: services.incident_change_status(
                incident=i, actor=u, status=Status.RESOLVED.value, note=d["note"]
            ),
        )

    @extend_schema(
        summary="Pause the SLA clocks: waiting on the customer or a vendor",
        request=s.PauseSerializer,
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, reference=None):
        return self._run(
            request,
            s.PauseSerializer,
            lambda i, u, d: services.incident_change_status(
                incident=i, actor=u, status=f"waiting_on_{d['waiting_on']}", note=d["note"]
            ),
        )

    @extend_schema(summary="Resume work on a paused incident", request=s.OptionalNoteSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, reference=None):
        def call(incident, user, data):
            if not incident.status_enum.is_waiting:
                raise ValidationError(
                    {"status": "The incident is not paused (waiting on customer or vendor)."}
                )
            return services.incident_change_status(
                incident=incident, actor=user, status=Status.INVESTIGATING.value, note=data["note"]
            )

        return self._run(request, s.OptionalNoteSerializer, call)

    @extend_schema(
        summary="Reopen a resolved or closed incident (clocks keep their start)",
        request=s.ReopenSerializer,
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, reference=None):
        return self._run(
            request,
            s.ReopenSerializer,
            lambda i, u, d: services.incident_reopen(incident=i, actor=u, reason=d["reason"]),
        )

    @extend_schema(
        summary="Move along the status table (as the web's status form)",
        request=s.StatusSerializer,
    )
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request, reference=None):
        return self._run(
            request,
            s.StatusSerializer,
            lambda i, u, d: services.incident_change_status(
                incident=i, actor=u, status=d["status"], note=d["note"]
            ),
        )

    @extend_schema(summary="Assign to someone (or nobody)", request=s.AssignSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, reference=None):
        return self._run(
            request,
            s.AssignSerializer,
            lambda i, u, d: services.incident_assign(incident=i, actor=u, assignee=d["assignee"]),
        )

    @extend_schema(summary="Change the severity, saying why", request=s.SeveritySerializer)
    @action(detail=True, methods=["post"], url_path="severity")
    def change_severity(self, request, reference=None):
        return self._run(
            request,
            s.SeveritySerializer,
            lambda i, u, d: services.incident_change_severity(
                incident=i, actor=u, severity=d["severity"], reason=d["reason"]
            ),
        )

    # --- the public status page (seed 002): what anyone reads at /status/ --------------------

    @extend_schema(
        summary="Publish on the public status page with a public title, state and first update "
        "(security incidents are refused)",
        request=s.StatusPagePublishSerializer,
        responses={201: s.EventSerializer},
    )
    @action(detail=True, methods=["post"], url_path="status-page/publish")
    def status_page_publish(self, request, reference=None):
        return self._run(
            request,
            s.StatusPagePublishSerializer,
            lambda i, u, d: services.status_page_publish(incident=i, actor=u, **d),
            created=True,
        )

    @extend_schema(
        summary="Change the title the public status page shows",
        request=s.StatusPageTitleSerializer,
    )
    @action(detail=True, methods=["post"], url_path="status-page/title")
    def status_page_title(self, request, reference=None):
        return self._run(
            request,
            s.StatusPageTitleSerializer,
            lambda i, u, d: services.status_page_set_title(
                incident=i, actor=u, public_title=d["public_title"]
            ),
        )

    @extend_schema(
        summary="Post a public status page update and the state it leaves the incident in",
        request=s.StatusPageUpdateSerializer,
        responses={201: s.EventSerializer},
    )
    @action(detail=True, methods=["post"], url_path="status-page/update")
    def status_page_update(self, request, reference=None):
        return self._run(
            request,
            s.StatusPageUpdateSerializer,
            lambda i, u, d: services.status_page_post_update(incident=i, actor=u, **d),
            created=True,
        )

    @extend_schema(
        summary="Take the incident off the public status page, saying why",
        request=s.StatusPageWithdrawSerializer,
    )
    @action(detail=True, methods=["post"], url_path="status-page/withdraw")
    def status_page_withdraw(self, request, reference=None):
        return self._run(
            request,
            s.StatusPageWithdrawSerializer,
            lambda i, u, d: services.status_page_withdraw(incident=i, actor=u, reason=d["reason"]),
        )


# --- catalogue (read-only) ------------------------------------------------------------------------


def _catalogue(model, serializer, permission: str, related=()):
    class CatalogueViewSet(viewsets.ReadOnlyModelViewSet):
        __doc__ = f"{model._meta.verbose_name_plural.capitalize()} (read-only)."
        queryset = (model.objects.select_related(*related) if related else model.objects).order_by(
            "id"
        )
        serializer_class = serializer
        permission_classes = [ActionPermissions]
        required_permissions = {"list": [permission], "retrieve": [permission]}

    CatalogueViewSet.__name__ = CatalogueViewSet.__qualname__ = f"{model.__name__}ViewSet"
    return CatalogueViewSet


AccountViewSet = _catalogue(Account, s.AccountSerializer, "incidents.view_account")
ComponentViewSet = _catalogue(
    Component, s.ComponentSerializer, "incidents.view_component", related=("owning_team",)
)
ChannelViewSet = _catalogue(Channel, s.ChannelSerializer, "incidents.view_channel")
CategoryViewSet = _catalogue(Category, s.CategorySerializer, "incidents.view_category")
