"""Agent web pages. Thin: read with selectors, change with services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import services
from .filters import IncidentFilter
from .forms import (
    AssignForm,
    CommentForm,
    IncidentCreateForm,
    PublicUpdateForm,
    ReopenForm,
    SeverityForm,
    StatusForm,
)
from .models import Incident
from .rules import REOPENABLE, Status
from .selectors import incident_for_user, incident_timeline, incidents_visible_to


def attach_errors(form, error: ValidationError) -> None:
    """Service errors go beside the field they name, else on top of the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
def incident_list(request: HttpRequest) -> HttpResponse:
    queryset = incidents_visible_to(request.user).select_related(
        "channel", "component", "account", "assignee"
    )
    incident_filter = IncidentFilter(request.GET or None, queryset=queryset, request=request)
    page = Paginator(incident_filter.qs, settings.INCIDENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/incident_list.html",
        {"filter": incident_filter, "page": page, "query": query.urlencode()},
    )


@login_required
@permission_required("incidents.add_incident", raise_exception=True)
def incident_create(request: HttpRequest) -> HttpResponse:
    form = IncidentCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.incident_create(actor=request.user, **data)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, f"Incident {incident.reference} opened.")
            return redirect("incidents:detail", reference=incident.reference)
    status = 400 if request.method == "POST" else 200
    return render(request, "incidents/incident_form.html", {"form": form}, status=status)


def _action_forms(incident: Incident, bound: dict | None = None) -> dict:
    bound = bound or {}
    return {
        "comment_form": bound.get("comment") or CommentForm(),
        "update_form": bound.get("update") or PublicUpdateForm(),
        "status_form": bound.get("status") or StatusForm(incident=incident),
        "assign_form": bound.get("assign") or AssignForm(initial={"assignee": incident.assignee}),
        "severity_form": bound.get("severity")
        or SeverityForm(initial={"severity": incident.severity}),
        "reopen_form": bound.get("reopen") or ReopenForm(),
    }


def render_detail(
    request,
    incident: Incident,
    *,
    bound=None,
    escalation_bound=None,
    follow_up_bound=None,
    status=200,
) -> HttpResponse:
    from escalations.selectors import escalation_panel, follow_up_panel
    from escalations.sla import incident_clocks

    context = {
        "incident": incident,
        "clocks": incident_clocks(incident),
        **escalation_panel(incident, request.user, escalation_bound),
        **follow_up_panel(incident, request.user, follow_up_bound),
        "timeline": incident_timeline(incident),
        "can_change": request.user.has_perm("incidents.change_incident"),
        "can_acknowledge": incident.status == Status.NEW,
        "can_reopen": incident.status_enum in REOPENABLE,
        "failed_action": next(iter(bound or escalation_bound or follow_up_bound or {}), None),
        **_action_forms(incident, bound),
    }
    return render(request, "incidents/incident_detail.html", context, status=status)


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
def incident_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return render_detail(request, incident_for_user(request.user, reference))


ACTIONS = {
    # action name: (form class, service call taking (incident, actor, cleaned data))
    "comment": (
        CommentForm,
        lambda i, u, d: services.incident_comment(incident=i, actor=u, body=d["body"]),
    ),
    "update": (
        PublicUpdateForm,
        lambda i, u, d: services.incident_post_public_update(incident=i, actor=u, body=d["body"]),
    ),
    "status": (
        StatusForm,
        lambda i, u, d: services.incident_change_status(
            incident=i, actor=u, status=d["status"], note=d["note"]
        ),
    ),
    "assign": (
        AssignForm,
        lambda i, u, d: services.incident_assign(incident=i, actor=u, assignee=d["assignee"]),
    ),
    "severity": (
        SeverityForm,
        lambda i, u, d: services.incident_change_severity(
            incident=i, actor=u, severity=d["severity"], reason=d["reason"]
        ),
    ),
    "reopen": (
        ReopenForm,
        lambda i, u, d: services.incident_reopen(incident=i, actor=u, reason=d["reason"]),
    ),
}

DONE_MESSAGES = {
    "acknowledge": "Acknowledged: the incident is yours.",
    "comment": "Internal note added.",
    "update": "Customer update posted.",
    "status": "Status changed.",
    "assign": "Assignment changed.",
    "severity": "Severity changed.",
    "reopen": "Incident reopened; its SLA clocks keep their original start.",
}


@login_required
@permission_required("incidents.change_incident", raise_exception=True)
@require_POST
def incident_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    incident = incident_for_user(request.user, reference)
    if action == "acknowledge":
        try:
            services.incident_acknowledge(incident=incident, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("incidents:detail", reference=reference)
        messages.success(request, DONE_MESSAGES[action])
        return redirect("incidents:detail", reference=reference)
    if action not in ACTIONS:
        raise Http404("No such action.")
    form_class, call = ACTIONS[action]
    kwargs = {"incident": incident} if form_class is StatusForm else {}
    form = form_class(request.POST, **kwargs)
    if form.is_valid():
        try:
            call(incident, request.user, form.cleaned_data)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, DONE_MESSAGES[action])
            return redirect("incidents:detail", reference=reference)
    incident.refresh_from_db()
    return render_detail(request, incident, bound={action: form}, status=400)
