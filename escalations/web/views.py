"""Escalation and follow-up pages. Thin: forms in, services, redirect.

Each action is its own view with its rule declared (`@action_view`); the URLs that
name an action (escalations/urls.py) send each name to its view."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from escalations.analytics import queues
from escalations.analytics.exports import incident_escalation_json, tracking_markdown
from escalations.analytics.filters import (
    MetricsFilterForm,
    ReviewFilterForm,
    SimulationForm,
    day_bounds,
)
from escalations.analytics.metrics import BY_SLUG, metric_table, metrics_period, metrics_tables
from escalations.analytics.reports import last_complete_week, parse_week, week_label, weekly_report
from escalations.engine import services as engine
from escalations.followup import regulatory, reviews, vendors, war_room
from escalations.followup.review_export import download
from escalations.followup.reviews import review_file
from escalations.models import ActionItem, PostIncidentReview, VendorCase
from escalations.policies.services import policy_spec
from escalations.simulation.runs import run_simulation
from escalations.web.forms import (
    ActionItemCloseForm,
    ActionItemForm,
    ActionItemUpdateForm,
    DecisionForm,
    DeEscalateForm,
    EscalateForm,
    ManagerRequestForm,
    RegulatoryReportFileForm,
    RegulatoryReportRequireForm,
    ReturnForm,
    ReviewForm,
    SimilarForm,
    VendorCaseForm,
    VendorUpdateForm,
    WarRoomActivateForm,
    WarRoomAssignForm,
    WarRoomCadenceForm,
    WarRoomCloseForm,
    WarRoomDecisionForm,
)
from escalations.web.panels import review_page
from incidents.actions import action_view
from incidents.models import Incident
from incidents.selectors import incident_for_user, visibility_q
from incidents.views import attach_errors, render_detail


def _posted_id(request: HttpRequest, name: str) -> int:
    """An id from a form field; anything but digits is a 404, not a 500."""
    value = request.POST.get(name, "")
    if not value.isascii() or not value.isdigit():
        raise Http404(f"No such {name}.")
    return int(value)


def _back(reference: str) -> HttpResponse:
    return redirect("incidents:detail", reference=reference)


def _with_policy(request: HttpRequest, reference: str) -> Incident | None:
    """The incident, when it has a policy to escalate on; else None, said in a message."""
    incident = incident_for_user(request.user, reference)
    if incident.policy_id is None:
        messages.error(request, "This incident has no escalation policy.")
        return None
    return incident


def _escalation_failed(request: HttpRequest, incident: Incident, key: str, form) -> HttpResponse:
    return render_detail(request, incident, bound={key: form}, status=400)


@action_view("escalation.acknowledge_handoff")
def escalation_acknowledge(request: HttpRequest, reference: str) -> HttpResponse:
    incident = _with_policy(request, reference)
    if incident is None:
        return _back(reference)
    try:
        engine.handoff_acknowledge(incident=incident, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"You took the handoff at L{incident.current_level}: the incident is yours."
        )
    return _back(reference)


@action_view("escalation.escalate")
def escalation_escalate(request: HttpRequest, reference: str) -> HttpResponse:
    """The category may ask for more (`escalation.escalate_as_management`): the form
    offers only the categories the user may pick, and the service asks that rule."""
    incident = _with_policy(request, reference)
    if incident is None:
        return _back(reference)
    user = request.user
    spec = policy_spec(incident.policy)
    form = EscalateForm(
        request.POST,
        spec=spec,
        level=incident.current_level,
        categories=engine.allowed_categories(user),
    )
    if form.is_valid():
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
    else:
        # One round: what the form rejected plus everything the service would.
        data = form.cleaned_data
        problems = engine.escalation_problems(
            incident=incident,
            spec=spec,
            to_level=data.get("to_level"),
            category=data.get("category"),
            reason=data.get("reason"),
            note=form.note(),
            checklist=form.checklist(),
        )
        for field, errors in problems.items():
            if field in form.fields and field not in form.errors:
                form.add_error(field, errors)
    return _escalation_failed(request, incident, "escalate", form)


@action_view("escalation.record_decision")
def escalation_decide(request: HttpRequest, reference: str) -> HttpResponse:
    incident = _with_policy(request, reference)
    if incident is None:
        return _back(reference)
    form = DecisionForm(request.POST)
    escalation = incident.escalations.filter(pk=_posted_id(request, "escalation")).first()
    if escalation is None:
        raise Http404("No such escalation.")
    if form.is_valid():
        try:
            engine.escalation_record_decision(
                escalation=escalation, actor=request.user, decision=form.cleaned_data["decision"]
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, "Decision recorded.")
            return _back(reference)
    return _escalation_failed(request, incident, "decide", form)


@action_view("escalation.de_escalate")
def escalation_de_escalate(request: HttpRequest, reference: str) -> HttpResponse:
    incident = _with_policy(request, reference)
    if incident is None:
        return _back(reference)
    spec = policy_spec(incident.policy)
    form = DeEscalateForm(request.POST, spec=spec, level=incident.current_level)
    if form.is_valid():
        try:
            engine.incident_de_escalate(
                incident=incident,
                to_level=form.cleaned_data["to_level"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
                resolution_summary=form.cleaned_data["resolution_summary"],
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, "De-escalated; the lower level has the follow-up.")
            return _back(reference)
    return _escalation_failed(request, incident, "de_escalate", form)


@action_view("escalation.manager_request")
def escalation_manager_request(request: HttpRequest, reference: str) -> HttpResponse:
    incident = _with_policy(request, reference)
    if incident is None:
        return _back(reference)
    form = ManagerRequestForm(request.POST)
    if form.is_valid():
        try:
            result = engine.customer_requests_manager(
                incident=incident, actor=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(
                request,
                "Escalated to management."
                if result
                else "Recorded; the timeline says who was told.",
            )
            return _back(reference)
    return _escalation_failed(request, incident, "manager", form)


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
def escalation_json(request: HttpRequest, reference: str) -> HttpResponse:
    incident = incident_for_user(request.user, reference)
    return download(
        json.dumps(incident_escalation_json(incident), indent=2),
        "application/json",
        f"{reference}-escalation.json",
    )


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
def tracking_document(request: HttpRequest, reference: str) -> HttpResponse:
    incident = incident_for_user(request.user, reference)
    return download(
        tracking_markdown(incident), "text/markdown; charset=utf-8", f"{reference}-tracking.md"
    )


# --- review queues -----------------------------------------------------------------------------

QUEUE_PAGE_SIZE = 50


@login_required
@permission_required("escalations.view_review_queues", raise_exception=True)
def review_queues(request: HttpRequest, slug: str | None = None) -> HttpResponse:

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
    total = counts[current.slug]
    pages = max(1, -(-total // QUEUE_PAGE_SIZE))
    try:
        # Past the last page shows the last page (a huge number is no 500).
        page = min(max(1, int(request.GET.get("page", "1"))), pages)
    except ValueError:
        page = 1
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
    return render(
        request,
        "escalations/queues.html",
        {
            "queues": [(q, counts[q.slug]) for q in visible],
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


# --- metrics -----------------------------------------------------------------------------------


def _metrics_period(request: HttpRequest):

    form = MetricsFilterForm(request.GET or None)
    period, days = metrics_period(request.user, form, timezone.now())
    return form, period, days


@login_required
@permission_required("escalations.view_metrics", raise_exception=True)
def metrics_page(request: HttpRequest) -> HttpResponse:
    from django.utils.safestring import mark_safe

    form, period, (first, last) = _metrics_period(request)
    tables = metrics_tables(period)
    for table in tables:
        table.chart = mark_safe(
            table.chart
        )  # built by escalations.analytics.charts, text escaped there
    query = request.GET.copy()
    return render(
        request,
        "escalations/metrics.html",
        {
            "form": form,
            "tables": tables,
            "figures": [figure for table in tables for figure in table.figures],
            "first": first,
            "last": last,
            "now": period.now,
            "query": query.urlencode(),
        },
    )


@login_required
@permission_required("escalations.view_metrics", raise_exception=True)
def metrics_csv(request: HttpRequest, slug: str) -> HttpResponse:
    import csv

    if slug not in BY_SLUG:
        raise Http404("No such table.")
    _form, period, (first, last) = _metrics_period(request)
    table = metric_table(period, slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{first}-{last}.csv"'
    writer = csv.writer(response)
    writer.writerows(table.csv_rows())
    return response


# --- weekly report -----------------------------------------------------------------------------


def _report_for(request: HttpRequest, week: str | None):
    from django.conf import settings

    tz = timezone.get_current_timezone()
    now = timezone.now()
    latest = last_complete_week(now, tz)
    if week is None:
        monday = latest
    else:
        try:
            monday = parse_week(week)
        except ValueError:
            raise Http404("No such week.") from None
    if monday > latest + timedelta(days=7):
        raise Http404("That week has not started yet.")
    report = weekly_report(
        user=request.user,
        monday=monday,
        tz=tz,
        now=now,
        site_url=settings.SITE_URL,
        with_queues=monday == latest,
    )
    return report, monday, latest


@login_required
@permission_required("escalations.view_metrics", raise_exception=True)
def weekly_report_page(request: HttpRequest, week: str | None = None) -> HttpResponse:

    if week is None and request.GET.get("week"):
        try:
            wanted = week_label(parse_week(request.GET["week"]))
        except ValueError:
            raise Http404("No such week.") from None
        return redirect("weekly_report_week", week=wanted)
    report, monday, latest = _report_for(request, week)
    return render(
        request,
        "escalations/weekly_report.html",
        {
            "report": report,
            "start": monday,
            "last_day": monday + timedelta(days=6),
            "previous_week": week_label(monday - timedelta(days=7)),
            "next_week": week_label(monday + timedelta(days=7))
            if monday + timedelta(days=7) <= latest + timedelta(days=7)
            else None,
            "recent_weeks": [week_label(latest - timedelta(days=7 * n)) for n in range(-1, 26)],
        },
    )


@login_required
@permission_required("escalations.view_metrics", raise_exception=True)
def weekly_report_download(request: HttpRequest, week: str, fmt: str) -> HttpResponse:
    import yaml
    from django.template.loader import render_to_string

    report, monday, _latest = _report_for(request, week)
    if fmt == "html":  # the printable view: the report alone, no navigation
        return render(
            request,
            "escalations/weekly_report_print.html",
            {"report": report, "start": monday, "last_day": monday + timedelta(days=6)},
        )
    if fmt == "json":
        body, content_type = json.dumps({"weekly_report": report}, indent=2), "application/json"
    elif fmt == "yaml":
        body = yaml.safe_dump({"weekly_report": report}, sort_keys=False, allow_unicode=True)
        content_type = "application/yaml; charset=utf-8"
    elif fmt == "md":
        body = render_to_string("escalations/weekly_report.md", {"report": report})
        content_type = "text/markdown; charset=utf-8"
    else:
        raise Http404("Pick md, yaml, json or html.")
    return download(body, content_type, f"weekly-report-{week}.{fmt}")


# --- policy simulation ("what if") -----------------------------------------------------------


@login_required
@permission_required("escalations.simulate_policy", raise_exception=True)
def simulation_page(request: HttpRequest) -> HttpResponse:
    """Read-only, so a GET form: the result can be bookmarked and shared."""

    form = SimulationForm(request.GET or None, initial={"same_name": True})
    result = None
    now = timezone.now()
    first, last = form.period(today=timezone.localdate(now))
    if form.is_bound and form.is_valid():
        start, end = day_bounds(first, last)
        result = run_simulation(
            user=request.user,
            policy=form.cleaned_data["draft"],
            start=start,
            end=end,
            now=now,
            filters=form.filters(),
            same_policy_name=form.cleaned_data["same_name"],
        )
    return render(
        request,
        "escalations/simulation.html",
        {"form": form, "result": result, "first": first, "last": last, "now": now},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


# --- follow-up work: war room, vendor cases, post-incident review --------------------------------


def _minutes(value) -> timedelta | None:
    return timedelta(minutes=value) if value else None


def _follow_up_failed(request, incident, key: str, form) -> HttpResponse:
    incident.refresh_from_db()
    return render_detail(request, incident, bound={key: form}, status=400)


def _run(request, form, call, done) -> bool:
    """Call a service with a valid form; service errors go beside the fields. `done`: the
    message, or a function giving it from what the call did."""
    if not form.is_valid():
        return False
    try:
        call(form.cleaned_data)
    except ValidationError as error:
        attach_errors(form, error)
        return False
    messages.success(request, done() if callable(done) else done)
    return True


@action_view("war_room.activate")
def war_room_activate(request: HttpRequest, reference: str) -> HttpResponse:
    incident = incident_for_user(request.user, reference)
    form = WarRoomActivateForm(request.POST)

    def call(d):
        war_room.war_room_activate(
            incident=incident,
            actor=request.user,
            reason=d["reason"],
            commander=d["commander"],
            technical_lead=d["technical_lead"],
            customer_liaison=d["customer_liaison"],
            executive=d["executive"],
            scribe=d["scribe"],
            smes=list(d["smes"]),
            channel=d["channel"],
            cadence=_minutes(d["cadence_minutes"]),
        )

    if _run(request, form, call, "War room activated; everyone in it has been told."):
        return _back(reference)
    return _follow_up_failed(request, incident, "war_room_activate", form)


def _in_war_room(request, reference: str, key: str, form_class, call, done: str) -> HttpResponse:
    """A change to the incident's active war room: `call(room, cleaned data)`."""
    incident = incident_for_user(request.user, reference)
    room = war_room.active_war_room(incident)
    if room is None:
        messages.error(request, "This incident has no active war room.")
        return _back(reference)
    form = form_class(request.POST)
    if _run(request, form, lambda d: call(room, d), done):
        return _back(reference)
    return _follow_up_failed(request, incident, f"war_room_{key}", form)


@action_view("war_room.assign")
def war_room_assign(request: HttpRequest, reference: str) -> HttpResponse:
    def call(room, d):
        war_room.war_room_assign(
            war_room=room, role=d["role"], user=d["user"], actor=request.user, note=d["note"]
        )

    return _in_war_room(request, reference, "assign", WarRoomAssignForm, call, "Role assigned.")


@action_view("war_room.log_decision")
def war_room_decide(request: HttpRequest, reference: str) -> HttpResponse:
    """The rule lets the incident's workers in; only the commander logs (the service's check)."""

    def call(room, d):
        war_room.war_room_log_decision(war_room=room, actor=request.user, decision=d["decision"])

    done = "Decision logged on the timeline."
    return _in_war_room(request, reference, "decide", WarRoomDecisionForm, call, done)


@action_view("war_room.set_cadence")
def war_room_cadence(request: HttpRequest, reference: str) -> HttpResponse:
    def call(room, d):
        war_room.war_room_set_cadence(
            war_room=room, actor=request.user, cadence=_minutes(d["cadence_minutes"])
        )

    done = "Status-update cadence changed."
    return _in_war_room(request, reference, "cadence", WarRoomCadenceForm, call, done)


@action_view("war_room.close")
def war_room_close(request: HttpRequest, reference: str) -> HttpResponse:
    def call(room, d):
        war_room.war_room_close(war_room=room, actor=request.user, note=d["note"])

    return _in_war_room(request, reference, "close", WarRoomCloseForm, call, "War room stood down.")


@action_view("vendor_case.open")
def vendor_case_open(request: HttpRequest, reference: str) -> HttpResponse:
    incident = incident_for_user(request.user, reference)
    form = VendorCaseForm(request.POST)

    def call(d):
        vendors.vendor_case_open(incident=incident, actor=request.user, **d)

    if _run(request, form, call, "Vendor case recorded."):
        return _back(reference)
    return _follow_up_failed(request, incident, "vendor_open", form)


@action_view("vendor_case.record_update")
def vendor_case_update(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    incident = incident_for_user(request.user, reference)
    case = get_object_or_404(VendorCase, pk=pk, incident=incident)
    form = VendorUpdateForm(request.POST, prefix=f"case{case.pk}")

    def call(d):
        vendors.vendor_case_record_update(case=case, actor=request.user, **d)

    if _run(request, form, call, "Vendor update recorded."):
        return _back(reference)
    return _follow_up_failed(request, incident, f"vendor_update_{case.pk}", form)


@action_view("regulatory_report.require")
def regulatory_report_require(request: HttpRequest, reference: str) -> HttpResponse:
    incident = incident_for_user(request.user, reference)
    form = RegulatoryReportRequireForm(request.POST)

    told = []

    def call(d):
        report = regulatory.regulatory_report_require(
            incident=incident, actor=request.user, reason=d["reason"]
        )
        told.append(report.told)

    if _run(request, form, call, lambda: f"Regulatory report required; {told[0]}."):
        return _back(reference)
    return _follow_up_failed(request, incident, "regulatory_require", form)


@action_view("regulatory_report.file")
def regulatory_report_file(request: HttpRequest, reference: str) -> HttpResponse:
    incident = incident_for_user(request.user, reference)
    form = RegulatoryReportFileForm(request.POST)

    def call(d):
        regulatory.regulatory_report_file(
            incident=incident, actor=request.user, reference=d["reference"]
        )

    if _run(request, form, call, "Regulatory report recorded as filed."):
        return _back(reference)
    return _follow_up_failed(request, incident, "regulatory_file", form)


# --- the review page -----------------------------------------------------------------------------


def _review_for(user, reference: str) -> PostIncidentReview:
    incident = incident_for_user(user, reference)
    review = PostIncidentReview.objects.filter(incident=incident).select_related("owner").first()
    if review is None:
        raise Http404("This incident has no post-incident review.")
    review.incident = incident
    return review


def _render_review(request, review, *, bound=None, form_errors=None, status=200):
    context = review_page(review, request.user, bound, form_errors=form_errors)
    return render(request, "escalations/review.html", context, status=status)


def _to_review(reference: str) -> HttpResponse:
    return redirect("escalations:pir", reference=reference)


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
@action_view("review.update", shows_form=True)
def review_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """The review: read it, and (while a draft or in review) edit it."""
    review = _review_for(request.user, reference)
    if request.method == "POST":
        form = ReviewForm(request.POST, incident=review.incident)
        if _run(
            request,
            form,
            lambda d: reviews.review_update(review=review, actor=request.user, changes=d),
            "Review saved.",
        ):
            return _to_review(reference)
        return _render_review(request, review, bound={"edit": form}, status=400)
    return _render_review(request, review)


@action_view("review.create")
def review_start(request: HttpRequest, reference: str) -> HttpResponse:
    incident = incident_for_user(request.user, reference)
    try:
        reviews.review_create(incident=incident, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back(reference)
    messages.success(request, "Post-incident review started.")
    return _to_review(reference)


def _move_review(request, reference: str, service, done: str) -> HttpResponse:
    """Submit or publish: paragraphs still missing are marked on the review page."""
    review = _review_for(request.user, reference)
    try:
        service(review=review, actor=request.user)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            messages.error(request, "Fill in the paragraphs marked below first.")
            return _render_review(request, review, form_errors=error.message_dict, status=400)
        messages.error(request, " ".join(error.messages))
        return _to_review(reference)
    messages.success(request, done)
    return _to_review(reference)


@action_view("review.submit")
def review_submit(request: HttpRequest, reference: str) -> HttpResponse:
    return _move_review(request, reference, reviews.review_submit, "Submitted for review.")


@action_view("review.publish")
def review_publish(request: HttpRequest, reference: str) -> HttpResponse:
    return _move_review(request, reference, reviews.review_publish, "Review published.")


def _review_form(request, review, key: str, form, call, done: str) -> HttpResponse:
    """A form of the review page through its service; errors re-render the page."""
    if _run(request, form, call, done):
        return _to_review(review.incident.reference)
    return _render_review(request, review, bound={key: form}, status=400)


@action_view("review.return_to_draft")
def review_return(request: HttpRequest, reference: str) -> HttpResponse:
    review = _review_for(request.user, reference)

    def call(d):
        reviews.review_return_to_draft(review=review, actor=request.user, reason=d["reason"])

    form = ReturnForm(request.POST)
    return _review_form(request, review, "return", form, call, "Returned to draft.")


@action_view("review.update")
def review_redraft_timeline(request: HttpRequest, reference: str) -> HttpResponse:
    review = _review_for(request.user, reference)
    try:
        reviews.review_update(
            review=review,
            actor=request.user,
            changes={"timeline": reviews.drafted_timeline(review.incident)},
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Timeline drafted again from the incident's events.")
    return _to_review(reference)


@action_view("action_item.add")
def review_add_item(request: HttpRequest, reference: str) -> HttpResponse:
    review = _review_for(request.user, reference)

    def call(d):
        reviews.action_item_add(review=review, actor=request.user, **d)

    form = ActionItemForm(request.POST)
    done = "Action item added; its owner has been told."
    return _review_form(request, review, "add_item", form, call, done)


@action_view("review.confirm_similar")
def review_confirm_similar(request: HttpRequest, reference: str) -> HttpResponse:
    review = _review_for(request.user, reference)
    suggestions = list(reviews.similar_suggestions(review, request.user))

    def call(d):
        reviews.review_confirm_similar(
            review=review, actor=request.user, incidents=list(d["incidents"])
        )

    form = SimilarForm(request.POST, suggestions=suggestions)
    return _review_form(request, review, "similar", form, call, "Similar incidents confirmed.")


@action_view("review.remove_similar")
def review_unlink_similar(request: HttpRequest, reference: str) -> HttpResponse:
    review = _review_for(request.user, reference)
    # A link to an incident the user may not see is as missing as a wrong id (404).
    links = review.similar_links.filter(visibility_q(request.user, "incident__"))
    link = get_object_or_404(links, pk=_posted_id(request, "link"))
    try:
        reviews.review_remove_similar(review=review, actor=request.user, incident=link.incident)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _to_review(reference)


def _item_form(request, reference: str, pk: int, key: str, make_form, call, done: str):
    """A form of one action item: `make_form(item)`, `call(item, cleaned data)`."""
    review = _review_for(request.user, reference)
    item = get_object_or_404(ActionItem, pk=pk, review=review)
    form = make_form(item)
    return _review_form(request, review, f"{key}_{item.pk}", form, lambda d: call(item, d), done)


@action_view("action_item.close")
def action_item_close(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    def call(item, d):
        reviews.action_item_close(item=item, actor=request.user, status=d["status"], note=d["note"])

    return _item_form(
        request,
        reference,
        pk,
        "item_close",
        lambda item: ActionItemCloseForm(request.POST, prefix=f"close{item.pk}"),
        call,
        "Action item closed.",
    )


@action_view("action_item.update")
def action_item_update(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    def call(item, d):
        reviews.action_item_update(
            item=item,
            actor=request.user,
            owner=d["owner"],
            due_date=d["due_date"],
            status=d["status"] or None,
        )

    return _item_form(
        request,
        reference,
        pk,
        "item_update",
        lambda item: ActionItemUpdateForm(request.POST, prefix=f"item{item.pk}"),
        call,
        "Action item changed.",
    )


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
def review_markdown_download(request: HttpRequest, reference: str) -> HttpResponse:
    review = _review_for(request.user, reference)
    return review_file(review, reader=request.user, zone=timezone.get_current_timezone(), kind="md")


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
def review_yaml_download(request: HttpRequest, reference: str) -> HttpResponse:
    review = _review_for(request.user, reference)
    return review_file(
        review, reader=request.user, zone=timezone.get_current_timezone(), kind="yaml"
    )
