"""Agent web pages. Thin: read with selectors, change with services."""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import condition, require_safe

from incidents import services
from incidents.actions import action_view
from incidents.customer_links import LinkError, read_token
from incidents.filters import IncidentFilter
from incidents.forms import (
    AssignForm,
    CommentForm,
    CustomerRatingForm,
    CustomerReplyForm,
    IncidentCreateForm,
    PublicUpdateForm,
    ReopenForm,
    SeverityForm,
    StatusForm,
    StatusPagePublishForm,
    StatusPageTitleForm,
    StatusPageUpdateForm,
    StatusPageWithdrawForm,
)
from incidents.lifecycle import registered as lifecycle
from incidents.models import Incident
from incidents.panels import BoundForms, detail_panels
from incidents.permissions import allowed
from incidents.rules import REOPENABLE, PublicState, Status, display_title
from incidents.selectors import (
    customer_timeline,
    incident_for_user,
    incident_timeline,
    incidents_visible_to,
    status_page_incidents,
    status_page_version,
)
from portal.middleware import public_page
from portal.throttles import status_page_wait

# Seconds a shared cache (a CDN in front) may serve the public status page (/status/): a
# withdrawal or update may take this long to show there (README "Public status page").
PUBLIC_STATUS_SHARED_AGE = 30


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
@action_view("incident.create", shows_form=True)
def incident_create(request: HttpRequest) -> HttpResponse:
    form = IncidentCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.incident_create(actor=request.user, **data)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            if not incidents_visible_to(request.user).filter(pk=incident.pk).exists():
                # Security incidents go to the few who may see them (seed 000).
                messages.success(
                    request,
                    f"Security incident {incident.reference} opened. Its details are limited "
                    "to the Security team and managers; it shows here if it is assigned to you.",
                )
                return redirect("incidents:list")
            messages.success(request, _opened_message(incident, chosen=data.get("assignee")))
            return redirect("incidents:detail", reference=incident.reference)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "severity_meanings": lifecycle().severity_meanings()}
    return render(request, "incidents/incident_form.html", context, status=status)


def _opened_message(incident: Incident, *, chosen) -> str:
    """Say so when a trigger escalated the new incident and its assignee was let go."""
    text = f"Incident {incident.reference} opened."
    if chosen is None or incident.assignee_id == chosen.pk:
        return text
    escalation = incident.escalations.order_by("-at", "-id").first()
    if escalation is None:
        return text
    return (
        f"{text} A trigger escalated it at once to L{escalation.to_level} "
        f"({escalation.reason}), so {chosen} is not its assignee: the receiving level takes "
        "it when someone there acknowledges the handoff."
    )


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


# The forms of the incident page, by the key a failed POST comes back under. Each
# gets its own id namespace ("escalate-reason", "de_escalate-reason"), so a label's
# `for` and an error summary's link reach the one field they name.
PAGE_FORMS = {
    "comment": "comment_form",
    "update": "update_form",
    "status": "status_form",
    "assign": "assign_form",
    "severity": "severity_form",
    "reopen": "reopen_form",
    "escalate": "escalate_form",
    "decide": "decision_form",
    "de_escalate": "de_escalate_form",
    "manager": "manager_form",
    "war_room_activate": "war_room_activate_form",
    "war_room_decide": "war_room_decision_form",
    "war_room_assign": "war_room_assign_form",
    "war_room_cadence": "war_room_cadence_form",
    "war_room_close": "war_room_close_form",
    "vendor_open": "vendor_form",
    "status_page_publish": "status_page_publish_form",
    "status_page_title": "status_page_title_form",
    "status_page_update": "status_page_update_form",
    "status_page_withdraw": "status_page_withdraw_form",
}

# The public status page's forms (seed 002), for those whose rules allow them.
STATUS_PAGE_FORMS = {
    "status_page_publish": StatusPagePublishForm,
    "status_page_title": StatusPageTitleForm,
    "status_page_update": StatusPageUpdateForm,
    "status_page_withdraw": StatusPageWithdrawForm,
}

# Actions a person may want, most pressing first: the first three that apply are
# shown up front, the others one click away. Team leads decide and hand back down;
# agents log, tell the customer and escalate.
LEAD_ORDER = ["acknowledge", "take_handoff", "decide", "de_escalate", "comment", "update"]
AGENT_ORDER = ["acknowledge", "take_handoff", "decide", "comment", "update", "escalate"]
LATER = ["escalate", "de_escalate", "status", "assign", "severity", "reopen", "manager"]
FOLLOW_UP = ["war_room", "vendor", "review_start", "status_page"]
UP_FRONT = 3


def _namespace_ids(form, key: str) -> None:
    form.auto_id = f"{key}-%s"
    for name, errors in form.errors.items():
        if name in form.fields:
            errors.field_id = form[name].auto_id


def _available_actions(context: dict, user) -> list[str]:
    incident = context["incident"]
    present = {
        "acknowledge": context["can_change"] and context["can_acknowledge"],
        "take_handoff": context["can_change"] and context.get("pending_handoff") is not None,
        "decide": "decision_form" in context,
        "comment": context["can_change"],
        "update": context["can_change"],
        "escalate": "escalate_form" in context,
        "de_escalate": "de_escalate_form" in context,
        "status": context["can_change"] and bool(context["status_form"].fields["status"].choices),
        "assign": context["can_change"],
        "severity": context["can_change"] and incident.is_open,
        "reopen": context["can_change"] and context["can_reopen"],
        "manager": "manager_form" in context,
        "war_room": any(
            f"war_room_{k}_form" in context
            for k in ("activate", "decision", "assign", "cadence", "close")
        ),
        "vendor": "vendor_form" in context,
        "review_start": context.get("can_work") and context.get("review") is None,
        "status_page": context.get("status_page_offered", False),
    }
    lead = user.has_perm("escalations.record_decision")
    order = LEAD_ORDER if lead else AGENT_ORDER
    ranked = [k for k in order if present[k]]
    return ranked + [k for k in LATER + FOLLOW_UP if present[k] and k not in ranked]


def _still_to_do(context: dict) -> list[str]:
    incident = context["incident"]
    items = []
    if incident.status == Status.NEW:
        items.append("Nobody has acknowledged the incident yet.")
    handoff = context.get("pending_handoff")
    if handoff is not None:
        items.append(f"L{handoff.to_level} has not taken the handoff yet.")
    undecided = context.get("undecided")
    if undecided is not None:
        items.append(f"Decision sought: {undecided.decision_sought}")
    if context.get("war_room_overdue"):
        items.append("The war room's status update is overdue.")
    overdue_cases = [c for c in context.get("vendor_cases", []) if getattr(c, "overdue", False)]
    if overdue_cases:
        items.append(f"{len(overdue_cases)} vendor case(s) owe an update.")
    if context.get("review_overdue"):
        items.append("The post-incident review is overdue.")
    if context.get("regulatory_report_overdue"):
        items.append("The regulatory report is overdue: it is not recorded as filed.")
    return items


# Each status-page form and the rule that allows it (incidents.permissions: status_page.*).
STATUS_PAGE_RULES = {
    "status_page_publish": "status_page.publish",
    "status_page_title": "status_page.set_title",
    "status_page_update": "status_page.post_update",
    "status_page_withdraw": "status_page.withdraw",
}


def _status_page_context(incident: Incident, user, bound: dict) -> dict:
    """The status-page controls (seed 002), each form for those its own rule allows: an
    unpublished incident offers publishing (never a security one, nor a finished one); a
    published one offers an update, a new title and withdrawing (only withdrawing once it
    is a security incident, which the page already leaves out)."""
    if incident.status_page_published_at is None:
        wanted = ["status_page_publish"] if incident.is_open and not incident.is_security else []
    elif incident.is_security:
        wanted = ["status_page_withdraw"]
    else:
        wanted = ["status_page_update", "status_page_title", "status_page_withdraw"]
    initial = {
        "status_page_publish": {
            "public_title": incident.status_page_title,
            "state": incident.status_page_state or PublicState.INVESTIGATING.value,
        },
        "status_page_title": {"public_title": incident.status_page_title},
        "status_page_update": {"state": incident.status_page_state},
    }
    context = {}
    for key, rule in STATUS_PAGE_RULES.items():
        # a form just sent comes back with its errors, whatever the incident became
        if (key in wanted or key in bound) and allowed(user, rule, incident=incident):
            form_class = STATUS_PAGE_FORMS[key]
            context[PAGE_FORMS[key]] = bound.get(key) or form_class(initial=initial.get(key))
    context["status_page_offered"] = bool(context)
    return context


def render_detail(
    request, incident: Incident, *, bound: BoundForms | None = None, status=200
) -> HttpResponse:
    """The incident page: its own parts, then the registered panels' (incidents.panels).
    `bound`: the one form that came back with errors, by its action key."""
    bound = bound or {}
    panels = detail_panels()
    context = {"incident": incident}
    for panel in panels:
        context.update(panel.context(incident, request.user, bound))
    context |= {
        "panel_templates": [panel.template for panel in panels if panel.template],
        "timeline": incident_timeline(incident),
        "can_change": request.user.has_perm("incidents.change_incident"),
        "can_acknowledge": incident.status == Status.NEW,
        "can_reopen": incident.status_enum in REOPENABLE,
        "failed_action": next(iter(bound), None),
        **_action_forms(incident, bound),
        "severity_meanings": lifecycle().severity_meanings(incident=incident)
        if incident.is_open
        else [],
    }
    context |= _status_page_context(incident, request.user, bound)
    for key, name in PAGE_FORMS.items():
        if name in context:
            _namespace_ids(context[name], key)
    failed = context["failed_action"]
    context["failed_form"] = context.get(PAGE_FORMS.get(failed, ""))
    if failed and failed.startswith("vendor_update_"):
        context["failed_form"] = next(
            (c.update_form for c in context.get("vendor_cases", ()) if getattr(c, "failed", False)),
            None,
        )
    context["failed_group"] = (
        "war_room"
        if (failed or "").startswith("war_room_")
        else "vendor"
        if (failed or "").startswith("vendor_")
        else "status_page"
        if (failed or "").startswith("status_page_")
        else failed
    )
    actions = _available_actions(context, request.user)
    context["primary_actions"] = actions[:UP_FRONT]
    context["more_actions"] = actions[UP_FRONT:]
    context["still_to_do"] = _still_to_do(context)
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
    "status_page_publish": (
        StatusPagePublishForm,
        lambda i, u, d: services.status_page_publish(
            incident=i, actor=u, public_title=d["public_title"], state=d["state"], body=d["body"]
        ),
    ),
    "status_page_title": (
        StatusPageTitleForm,
        lambda i, u, d: services.status_page_set_title(
            incident=i, actor=u, public_title=d["public_title"]
        ),
    ),
    "status_page_update": (
        StatusPageUpdateForm,
        lambda i, u, d: services.status_page_post_update(
            incident=i, actor=u, state=d["state"], body=d["body"]
        ),
    ),
    "status_page_withdraw": (
        StatusPageWithdrawForm,
        lambda i, u, d: services.status_page_withdraw(incident=i, actor=u, reason=d["reason"]),
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
    "status_page_publish": "Published on the public status page.",
    "status_page_title": "Public title changed.",
    "status_page_update": "Status page update posted.",
    "status_page_withdraw": "Taken off the public status page.",
}


def _page_form(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """One of the incident page's forms (ACTIONS[action]) through its service: done, back
    to the page; an error, the page again with the form and its errors."""
    incident = incident_for_user(request.user, reference)
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


@action_view("incident.acknowledge")
def incident_acknowledge(request: HttpRequest, reference: str) -> HttpResponse:
    incident = incident_for_user(request.user, reference)
    try:
        services.incident_acknowledge(incident=incident, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, DONE_MESSAGES["acknowledge"])
    return redirect("incidents:detail", reference=reference)


@action_view("incident.comment")
def incident_comment(request: HttpRequest, reference: str) -> HttpResponse:
    return _page_form(request, reference, "comment")


@action_view("incident.post_public_update")
def incident_public_update(request: HttpRequest, reference: str) -> HttpResponse:
    return _page_form(request, reference, "update")


@action_view("incident.change_status")
def incident_status(request: HttpRequest, reference: str) -> HttpResponse:
    return _page_form(request, reference, "status")


@action_view("incident.assign")
def incident_assign(request: HttpRequest, reference: str) -> HttpResponse:
    return _page_form(request, reference, "assign")


@action_view("incident.change_severity")
def incident_severity(request: HttpRequest, reference: str) -> HttpResponse:
    return _page_form(request, reference, "severity")


@action_view("incident.reopen")
def incident_reopen(request: HttpRequest, reference: str) -> HttpResponse:
    return _page_form(request, reference, "reopen")


@action_view("status_page.publish")
def status_page_publish(request: HttpRequest, reference: str) -> HttpResponse:
    return _page_form(request, reference, "status_page_publish")


@action_view("status_page.set_title")
def status_page_title(request: HttpRequest, reference: str) -> HttpResponse:
    return _page_form(request, reference, "status_page_title")


@action_view("status_page.post_update")
def status_page_update(request: HttpRequest, reference: str) -> HttpResponse:
    return _page_form(request, reference, "status_page_update")


@action_view("status_page.withdraw")
def status_page_withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    return _page_form(request, reference, "status_page_withdraw")


# --- the customer's status page (a signed link, no login) --------------------------------------


def _link_problem(request: HttpRequest, message: str, *, expired: bool = False) -> HttpResponse:
    response = render(
        request,
        "incidents/customer_link_problem.html",
        {"message": message, "expired": expired},
        status=410 if expired else 404,
    )
    return _private(response)


def _private(response: HttpResponse) -> HttpResponse:
    # The URL is the key: keep it out of caches, search engines and other sites'
    # Referer headers. Not "no-referrer": Chromium then posts `Origin: null` from the
    # page's own forms and Django's CSRF check rightly refuses them. "same-origin"
    # sends the Referer (and a real Origin) only back to this site.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def customer_status(request: HttpRequest, token: str) -> HttpResponse:
    """Status, public timeline, a reply form and (once resolved) a rating."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone as tz

    try:
        link = read_token(token)
    except LinkError as error:
        return _link_problem(request, str(error), expired=error.expired)
    incident = (
        Incident.objects.select_related("account", "channel").filter(pk=link.incident_id).first()
    )
    contact = (
        incident.account.primary_contact_email if incident and incident.account else ""
    ) or ""
    if incident is None or contact.strip().lower() != link.email:
        return _link_problem(request, "This link is no longer valid.")

    if request.method == "POST":
        # Each reply notifies the assignee: a link (and an address) may send only so many.

        wait = status_page_wait(request, incident_id=incident.pk, email=link.email)
        if wait is not None:
            response = render(
                request,
                "incidents/customer_slow_down.html",
                {"minutes": max(1, round(wait / 60)), "back": request.path},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return _private(response)

    # The resolution email links each rating to this page with it chosen (`?rating=2`):
    # a GET only fills the form; sending it is still the customer's POST.
    chosen = request.GET.get("rating", "")
    initial = {"rating": int(chosen)} if chosen in {"1", "2", "3", "4", "5"} else {}
    reply_form = CustomerReplyForm(prefix="reply")
    rating_form = CustomerRatingForm(prefix="rate", initial=initial)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "reply":
                reply_form = CustomerReplyForm(request.POST, prefix="reply")
                if reply_form.is_valid():
                    services.incident_customer_reply(
                        incident=incident,
                        body=reply_form.cleaned_data["body"],
                        from_email=link.email,
                        via="status page",
                    )
                    messages.success(request, "Thank you: we have your message.")
                    return redirect(request.path)
            elif action == "rate":
                rating_form = CustomerRatingForm(request.POST, prefix="rate")
                if rating_form.is_valid():
                    services.incident_customer_rate(
                        incident=incident,
                        rating=rating_form.cleaned_data["rating"],
                        comment=rating_form.cleaned_data["comment"],
                        from_email=link.email,
                    )
                    messages.success(request, "Thank you for rating the resolution.")
                    return redirect(request.path)
        except ValidationError as error:
            attach_errors(reply_form if action == "reply" else rating_form, error)

    zone = ZoneInfo(str(incident.account.time_zone))
    with tz.override(zone):
        response = render(
            request,
            "incidents/customer_status.html",
            {
                "incident": incident,
                "title": display_title(incident),
                "events": customer_timeline(incident),
                "reply_form": reply_form,
                "rating_form": rating_form,
                "can_rate": not incident.is_open and incident.csat_rating is None,
                "zone": zone,
            },
        )
    return _private(response)


# --- the public status page (/status/, no sign-in; seed 002 "Update public status page") -------


def _public_status_etag(request: HttpRequest) -> str:
    from django.utils import timezone as tz

    return status_page_version(now=tz.now(), resolved_days=settings.STATUS_PAGE_RESOLVED_DAYS)


def _shared_cache(view):
    """Browsers ask again each time (the ETag makes an unchanged page a 304, without a
    render); a shared cache (a CDN in front) may serve it for PUBLIC_STATUS_SHARED_AGE
    seconds, which absorbs a crowd refreshing during an outage."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = f"public, max-age=0, s-maxage={PUBLIC_STATUS_SHARED_AGE}"
        return response

    return wrapped


@public_page
@require_safe
@_shared_cache
@condition(etag_func=_public_status_etag)
def public_status_page(request: HttpRequest) -> HttpResponse:
    """Published incidents with their public title, state and updates, newest first;
    "All systems operational" when none is open. Nothing internal is read: no internal
    title, notes, customer, assignee, and never a security incident. The same for
    everyone, so caches may keep it a little while."""
    from django.utils import timezone as tz

    now = tz.now()
    incidents = status_page_incidents(now=now, resolved_days=settings.STATUS_PAGE_RESOLVED_DAYS)
    ongoing = [i for i in incidents if i.public_state != PublicState.RESOLVED]
    resolved = [i for i in incidents if i.public_state == PublicState.RESOLVED]
    zone = tz.get_default_timezone()
    with tz.override(zone):
        return render(
            request,
            "incidents/public_status.html",
            {
                "ongoing": ongoing,
                "resolved": resolved,
                "resolved_days": settings.STATUS_PAGE_RESOLVED_DAYS,
                "checked_at": now,
                "zone": zone,
            },
        )
