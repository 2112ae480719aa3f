"""Escalation actions on the incident page. Thin: forms in, services, redirect."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from incidents.selectors import incident_for_user
from incidents.views import attach_errors, render_detail

from . import engine
from .exports import incident_escalation_json, tracking_markdown
from .forms import DecisionForm, DeEscalateForm, EscalateForm, ManagerRequestForm
from .models import MANAGEMENT_CATEGORIES
from .policies import policy_spec


def _back(reference: str) -> HttpResponse:
    return redirect("incidents:detail", reference=reference)


@login_required
@permission_required("incidents.change_incident", raise_exception=True)
@require_POST
def escalation_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    incident = incident_for_user(request.user, reference)
    user = request.user
    if incident.policy_id is None:
        messages.error(request, "This incident has no escalation policy.")
        return _back(reference)
    spec = policy_spec(incident.policy)
    if action == "acknowledge":
        try:
            engine.handoff_acknowledge(incident=incident, actor=user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Handoff acknowledged: the incident is yours.")
        return _back(reference)

    if action == "escalate":
        management = user.has_perm("escalations.escalate_as_management")
        form = EscalateForm(
            request.POST, spec=spec, level=incident.current_level, management=management
        )
        if form.is_valid():
            if form.cleaned_data["category"] in MANAGEMENT_CATEGORIES and not management:
                raise PermissionDenied
            try:
                engine.incident_escalate(
                    incident=incident,
                    to_level=form.cleaned_data["to_level"],
                    actor=user,
                    reason=form.cleaned_data["reason"],
                    category=form.cleaned_data["category"],
                    note=form.note(),
                    checklist=form.checklist(),
                    decision_sought=form.cleaned_data.get("decision_sought", ""),
                )
            except ValidationError as error:
                attach_errors(form, error)
            else:
                messages.success(request, "Escalated. The receiving level has been notified.")
                return _back(reference)
        return render_detail(request, incident, escalation_bound={"escalate": form}, status=400)

    if action == "decide":
        if not user.has_perm("escalations.record_decision"):
            raise PermissionDenied
        form = DecisionForm(request.POST)
        escalation = incident.escalations.filter(pk=request.POST.get("escalation")).first()
        if escalation is None:
            raise Http404("No such escalation.")
        if form.is_valid():
            try:
                engine.escalation_record_decision(
                    escalation=escalation, actor=user, decision=form.cleaned_data["decision"]
                )
            except ValidationError as error:
                attach_errors(form, error)
            else:
                messages.success(request, "Decision recorded.")
                return _back(reference)
        return render_detail(request, incident, escalation_bound={"decide": form}, status=400)

    if action == "de-escalate":
        form = DeEscalateForm(request.POST, spec=spec, level=incident.current_level)
        if form.is_valid():
            try:
                engine.incident_de_escalate(
                    incident=incident,
                    to_level=form.cleaned_data["to_level"],
                    actor=user,
                    reason=form.cleaned_data["reason"],
                    resolution_summary=form.cleaned_data["resolution_summary"],
                )
            except ValidationError as error:
                attach_errors(form, error)
            else:
                messages.success(request, "De-escalated; the lower level has the follow-up.")
                return _back(reference)
        return render_detail(request, incident, escalation_bound={"de_escalate": form}, status=400)

    if action == "manager-request":
        form = ManagerRequestForm(request.POST)
        if form.is_valid():
            try:
                result = engine.customer_requests_manager(
                    incident=incident, actor=user, note=form.cleaned_data["note"]
                )
            except ValidationError as error:
                attach_errors(form, error)
            else:
                messages.success(
                    request,
                    "Escalated to management."
                    if result
                    else "Recorded; the incident is already at that level.",
                )
                return _back(reference)
        return render_detail(request, incident, escalation_bound={"manager": form}, status=400)
    raise Http404("No such action.")


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
def escalation_json(request: HttpRequest, reference: str) -> HttpResponse:
    incident = incident_for_user(request.user, reference)
    response = HttpResponse(
        json.dumps(incident_escalation_json(incident), indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{reference}-escalation.json"'
    return response


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
def tracking_document(request: HttpRequest, reference: str) -> HttpResponse:
    incident = incident_for_user(request.user, reference)
    response = HttpResponse(
        tracking_markdown(incident), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{reference}-tracking.md"'
    return response
