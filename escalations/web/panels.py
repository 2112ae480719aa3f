"""Reads for the incident page's escalation panel."""

from __future__ import annotations

from django.utils import timezone

from escalations.engine.services import allowed_categories, handoff_context, pending_handoff
from escalations.followup.reminders import war_room_settings
from escalations.followup.reviews import review_doc, similar_suggestions
from escalations.followup.war_room import active_war_room, current_holders, supported_reasons
from escalations.models import PostIncidentReview, RegulatoryReport, WarRoomRole
from escalations.notices.selectors import escalation_notice_statuses
from escalations.policies.services import policy_spec
from escalations.rules.clocks import CLOCK_LABELS, SLA_CLOCKS
from escalations.rules.durations import humanize
from escalations.rules.followup import (
    ASK_CADENCE,
    ENGAGE_TAM,
    WAR_ROOM_REASONS,
    ItemFacts,
    action_item_metrics,
    spoken_duration,
    vendor_case_prompts,
)
from escalations.rules.handoff import after_handoff_items, field_label
from escalations.rules.spec import RegulatoryReportSettings
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
from incidents.models import EventKind, Incident
from incidents.panels import BoundForms
from incidents.permissions import allowed
from incidents.selectors import visibility_q


def move_percent(percent, clock: str) -> str:
    """ "52.0% of SLA" for a move by an SLA clock (or by hand); a level's time limit, a level
    deadline or a maximum by its own name: "100.0% of time at level", never "of SLA"."""
    if percent is None:
        return ""
    if not clock or clock in SLA_CLOCKS:
        return f"{percent}% of SLA"
    return f"{percent}% of {CLOCK_LABELS.get(clock, clock).lower()}"


def escalation_panel(incident: Incident, user, bound: BoundForms | None = None) -> dict:
    """Records, pending handoff, context and the forms the user may use."""
    bound = bound or {}
    records = list(
        incident.escalations.select_related("actor", "acknowledged_by", "decision_by").order_by(
            "at", "id"
        )
    )
    notice_statuses = escalation_notice_statuses(incident)
    for record in records:
        record.after_handoff = (
            after_handoff_items(
                taken_by=str(record.acknowledged_by or ""),
                notice_status=notice_statuses.get(record.pk),
            )
            if record.is_up
            else []
        )
        record.measure = move_percent(record.sla_percent, record.clock)
        # Labels, not keys: "Customer context", not customer_context.
        record.note_items = [
            (field_label(key), value)
            for key, value in (record.note or {}).items()
            if key not in ("facts", "generated")
        ]
    panel = {"escalations": records, "policy_spec": None}
    if incident.policy_id is None:
        return panel
    spec = policy_spec(incident.policy)
    level = incident.current_level
    can_work = user.has_perm("incidents.change_incident") and incident.is_open
    higher = spec.next_level(level)
    undecided = [r for r in records if r.is_up and r.decision_sought and not r.decision_at]
    panel.update(
        {
            "policy_spec": spec,
            # The current level (its name in the header; seed 001: agents see its escalation
            # and de-escalation criteria); None when the policy's version lacks it.
            "level_spec": next((lv for lv in spec.levels if lv.number == level), None),
            "pending_handoff": pending_handoff(incident) if incident.is_open else None,
            "can_escalate": can_work and higher is not None,
            "can_de_escalate": can_work and any(lv.number < level for lv in spec.levels),
            "can_decide": allowed(user, "escalation.record_decision"),
            "undecided": undecided[-1] if undecided else None,
            "can_request_manager": can_work
            and incident.account_id is not None
            and incident.account.tier == "enterprise",
        }
    )
    if panel["can_escalate"]:
        panel["escalate_form"] = bound.get("escalate") or EscalateForm(
            spec=spec, level=level, categories=allowed_categories(user)
        )
        panel["handoff_context"] = handoff_context(
            incident, spec, higher.number, timezone.now()
        ).as_dict()
    if panel["can_de_escalate"]:
        panel["de_escalate_form"] = bound.get("de_escalate") or DeEscalateForm(
            spec=spec, level=level
        )
    if panel["undecided"] is not None and panel["can_decide"]:
        panel["decision_form"] = bound.get("decide") or DecisionForm()
    if panel["can_request_manager"]:
        panel["manager_form"] = bound.get("manager") or ManagerRequestForm()
    return panel


# --- follow-up work: war room, vendor cases, the review -----------------------------------------


def follow_up_panel(incident: Incident, user, bound: BoundForms | None = None) -> dict:
    """The incident page's war-room, vendor-case and review panels, with the forms
    the user may use (bound ones carry their errors back)."""

    bound = bound or {}
    now = timezone.now()
    can_work = user.has_perm("incidents.change_incident")
    war_room = active_war_room(incident)
    panel: dict = {
        "war_room": war_room,
        "past_war_rooms": list(incident.war_rooms.filter(closed_at__isnull=False)[:5]),
        "war_room_reasons": supported_reasons(incident),
        "can_work": can_work,
    }
    panel["war_room_reason_labels"] = [WAR_ROOM_REASONS[r] for r in panel["war_room_reasons"]]
    # Seed 004 "Activate war room if Sev 1": the escalation manager's step, so a prompt with
    # a one-click activation (the clicker commands; roles are added in the room).
    panel["war_room_sev1_prompt"] = (
        war_room is None
        and incident.is_open
        and "sev1" in panel["war_room_reasons"]
        and allowed(user, "war_room.activate", incident=incident)
    )
    if war_room is not None:
        holders = current_holders(war_room)
        boss = (holders.get(WarRoomRole.COMMANDER) or [None])[0]  # one at most
        panel.update(
            {
                "war_room_roles": [
                    (label, holders.get(role, [])) for role, label in WarRoomRole.choices
                ],
                "war_room_commander": boss,
                "war_room_is_commander": boss is not None and boss.pk == user.pk,
                "war_room_overdue": war_room.update_due_at is not None
                and war_room.update_due_at <= now,
                "war_room_decisions": incident.events.filter(
                    kind=EventKind.COMMANDER_DECISION, data__war_room=war_room.pk
                ).select_related("actor"),
                "war_room_handovers": war_room.handovers.select_related(
                    "from_user", "to_user"
                ).order_by("-at")[:10],
                "cadence_minutes": int(war_room.cadence.total_seconds() // 60),
            }
        )
        if can_work:
            panel["war_room_assign_form"] = bound.get("war_room_assign") or WarRoomAssignForm()
            panel["war_room_cadence_form"] = bound.get("war_room_cadence") or WarRoomCadenceForm(
                initial={"cadence_minutes": panel["cadence_minutes"]}
            )
            panel["war_room_close_form"] = bound.get("war_room_close") or WarRoomCloseForm()
            if panel["war_room_is_commander"] or "war_room_decide" in bound:
                panel["war_room_decision_form"] = (
                    bound.get("war_room_decide") or WarRoomDecisionForm()
                )
    elif can_work and incident.is_open:
        cadence = war_room_settings(incident).cadence(incident.severity)
        panel["war_room_activate_form"] = bound.get("war_room_activate") or WarRoomActivateForm(
            default_cadence=int(cadence.total_seconds() // 60),
            reasons=panel["war_room_reasons"],
            initial={"commander": user.pk},
        )

    cases = list(incident.vendor_cases.select_related("owner").order_by("-opened_at"))
    for case in cases:
        case.prompts = (
            vendor_case_prompts(contact=case.contact, update_every=case.update_every)
            if case.is_open
            else []
        )
        case.overdue = case.update_overdue(now)
        if can_work and case.is_open:
            key = f"vendor_update_{case.pk}"
            case.update_form = bound.get(key) or VendorUpdateForm(
                prefix=f"case{case.pk}", initial={"status": case.status}
            )
            case.failed = key in bound
    panel["vendor_cases"] = cases
    panel["vendor_engage_tam"], panel["vendor_ask_cadence"] = ENGAGE_TAM, ASK_CADENCE
    if can_work:
        panel["vendor_form"] = bound.get("vendor_open") or VendorCaseForm(
            initial={"owner": incident.assignee_id or user.pk}
        )

    panel.update(_regulatory_report(incident, user, bound, now))

    review = PostIncidentReview.objects.filter(incident=incident).select_related("owner").first()
    panel["review"] = review
    if review is not None:
        items = list(review.action_items.select_related("owner"))
        panel["review_items_open"] = sum(1 for i in items if i.is_open)
        panel["review_items_overdue"] = sum(1 for i in items if i.is_overdue(now))
        panel["review_items_total"] = len(items)
        panel["review_overdue"] = review.is_overdue(now)
    return panel


def _regulatory_report(incident: Incident, user, bound: BoundForms, now) -> dict:
    """Seed 002 "Regulatory Reporting": the incident's report (due, overdue, filed) and the
    form the user may use: mark it required, or record it filed (Legal and managers)."""
    if not allowed(user, "regulatory_report.view", incident=incident):
        return {}
    report = (
        RegulatoryReport.objects.filter(incident=incident)
        .select_related("required_by", "filed_by")
        .first()
    )
    part: dict = {
        "regulatory_report": report,
        "regulatory_report_overdue": report is not None and report.is_overdue(now),
    }
    if report is None and allowed(user, "regulatory_report.require", incident=incident):
        settings = policy_spec(incident.policy).regulatory_report if incident.policy_id else None
        part["regulatory_due_after"] = spoken_duration(
            settings.due_after if settings else RegulatoryReportSettings().due_after
        )
        part["regulatory_require_form"] = (
            bound.get("regulatory_require") or RegulatoryReportRequireForm()
        )
    elif (
        report is not None
        and not report.is_filed
        and allowed(user, "regulatory_report.file", incident=incident)
    ):
        part["regulatory_file_form"] = bound.get("regulatory_file") or RegulatoryReportFileForm()
    part["regulatory_failed"] = next(
        (key for key in ("regulatory_require", "regulatory_file") if key in bound), ""
    )
    return part


def review_page(review, user, bound: dict | None = None, *, form_errors=None) -> dict:
    """The review page: the document, its action items, suggestions and forms."""

    bound = bound or {}
    now = timezone.now()
    incident = review.incident
    can_work = user.has_perm("incidents.change_incident")
    can_publish = allowed(user, "review.publish")
    editable = review.is_editable and can_work
    items = list(review.action_items.select_related("owner", "closed_by").order_by("due_at", "id"))
    for item in items:
        item.overdue = item.is_overdue(now)
        if editable and item.is_open:
            item.close_form = bound.get(f"item_close_{item.pk}") or ActionItemCloseForm(
                prefix=f"close{item.pk}"
            )
            item.update_form = bound.get(f"item_update_{item.pk}") or ActionItemUpdateForm(
                prefix=f"item{item.pk}"
            )
            item.failed = any(
                k in bound for k in (f"item_close_{item.pk}", f"item_update_{item.pk}")
            )
    doc = review_doc(review, reader=user, now=now)
    form_errors = dict(form_errors or {})
    page = {
        "incident": incident,
        "review": review,
        "doc": doc,
        "duration": spoken_duration(doc.duration),
        "items_error": form_errors.pop("action_items", None),
        "items": items,
        "similar": review.similar_links.select_related("incident", "confirmed_by").filter(
            visibility_q(user, "incident__")
        ),
        "editable": editable,
        "can_publish": can_publish,
        "overdue": review.is_overdue(now),
        "failed_action": next(iter(bound), None),
    }
    if editable:
        form = bound.get("edit")
        if form is None:
            form = ReviewForm(initial=ReviewForm.initial_for(review), incident=incident)
            if form_errors:
                # Publication refused: show what is missing beside each field.
                form = ReviewForm(data=ReviewForm.initial_for(review), incident=incident)
                form.is_valid()
                for field, messages in form_errors.items():
                    form.add_error(field if field in form.fields else None, messages)
        page["form"] = form
        page["item_form"] = bound.get("add_item") or ActionItemForm(
            initial={"owner": review.owner_id}
        )
        suggestions = list(similar_suggestions(review, user))
        if suggestions:
            page["similar_form"] = bound.get("similar") or SimilarForm(suggestions=suggestions)
        if review.status == "in_review" and can_publish:
            page["return_form"] = bound.get("return") or ReturnForm()
    return page


def action_item_metrics_for(queryset, now=None) -> dict:
    """Closure within target and time to permanent fix over `queryset` (seed 004)."""

    now = now or timezone.now()
    rows = queryset.values_list(
        "due_at", "closed_at", "status", "is_permanent_fix", "incident__opened_at"
    ).order_by()
    metrics = action_item_metrics(
        (
            ItemFacts(
                due_at=due_at,
                closed_at=closed_at,
                done=status == "done",
                permanent_fix=permanent,
                incident_opened_at=opened_at,
            )
            for due_at, closed_at, status, permanent, opened_at in rows.iterator()
        ),
        now,
    )
    fix = metrics.median_time_to_permanent_fix
    return {**metrics.__dict__, "fix_words": humanize(fix) if fix is not None else ""}
