"""Escalation actions on the incident page. Thin: forms in, services, redirect."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
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


# --- review queues -----------------------------------------------------------------------------

QUEUE_PAGE_SIZE = 50


@login_required
@permission_required("escalations.view_review_queues", raise_exception=True)
def review_queues(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    from django.utils import timezone

    from . import queues
    from .filters import ReviewFilterForm

    visible = queues.queues_for(request.user)
    if slug is None:
        current = visible[0]
    else:
        current = next((q for q in visible if q.slug == slug), None)
        if current is None:
            raise Http404("No such queue.")
    form = ReviewFilterForm(request.GET or None)
    filters = form.filters()
    now = timezone.now()
    counts = queues.queue_counts(visible, request.user, now=now, filters=filters)
    sort = request.GET.get("sort") or current.default_sort
    if sort not in current.sorts:
        sort = current.default_sort
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    rows, total = [], counts.get(current.slug, 0)
    if current.available:
        ordered = queues.sorted_rows(
            current, queues.queue_rows(current, request.user, now=now, filters=filters), sort
        )
        start = (page - 1) * QUEUE_PAGE_SIZE
        rows = [
            {
                "row": row,
                "incident": current.incident_of(row),
                "extra": [column.value(row, now) for column in current.extra_columns],
            }
            for row in ordered[start : start + QUEUE_PAGE_SIZE]
        ]
    query = request.GET.copy()
    query.pop("page", None)
    pages = max(1, -(-total // QUEUE_PAGE_SIZE))
    return render(
        request,
        "escalations/queues.html",
        {
            "queues": [(q, counts.get(q.slug)) for q in visible],
            "queue": current,
            "form": form,
            "rows": rows,
            "total": total,
            "now": now,
            "sort": sort,
            "sorts": [(key, label) for key, (label, _order) in current.sorts.items()],
            "query": query,
            "filter_query": _without(query, "sort"),
            "sort_keep": [("sort", sort)] if "sort" in request.GET else [],
            "page": page,
            "pages": pages,
        },
    )


def _without(query, *names):
    query = query.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
