"""Per-incident downloads: seed 000's JSON escalation record, seed 003's tracking document."""

from __future__ import annotations

import re

from django.utils import timezone

from escalations.models import (
    OPEN_ITEM_STATUSES,
    Escalation,
    PostIncidentReview,
    ReviewStatus,
    Trigger,
)
from escalations.notices.selectors import escalation_notice_statuses
from escalations.policies.services import policy_spec
from escalations.rules.handoff import after_handoff_items
from escalations.rules.text_safety import data_text
from escalations.rules.text_safety import markdown_text as md
from escalations.sla.services import incident_clocks
from incidents.models import EventKind, Incident, Visibility
from notifications.models import CUSTOMER_KINDS

# Seed 003 "Communication Log: [All customer/internal communications]": what people
# wrote to the customer, what the customer wrote back, internal notes; then what we sent.
CONVERSATION = {
    EventKind.PUBLIC_UPDATE: "to customer",
    EventKind.CUSTOMER_REPLY: "from customer",
    EventKind.COMMENT: "internal note",
    # Seed 002 "Update public status page": what the public was told, too.
    EventKind.STATUS_PAGE_PUBLISHED: "public status page",
    EventKind.STATUS_PAGE_UPDATE: "public status page",
}


INTERNAL_LOG = (
    "Entries marked [internal] were never seen by the customer: internal notes and messages "
    "to our own people. Take them out before sharing this document outside the company."
)


def _iso(value) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _who(user) -> str | None:
    if user is None:
        return None
    return user.email or user.username


def _one_line(text: str) -> str:
    """A log entry or a step is one line of the document, whatever its text holds."""
    return " ".join(str(text).split())


def _level_name(spec, number: int) -> str:
    try:
        return spec.level(number).name
    except KeyError:
        return f"L{number}"


def escalation_record(escalation: Escalation, spec) -> dict:
    """One record in seed 000 step 4's shape, plus what our records also hold."""
    return {
        "escalated": escalation.is_up,
        "escalated_to": _slug(_level_name(spec, escalation.to_level)) if spec else None,
        "escalated_at": _iso(escalation.at),
        "escalation_reason": escalation.reason,
        "escalation_level": escalation.to_level,
        "escalated_from_level": escalation.from_level,
        "trigger": escalation.trigger,
        "category": escalation.category,
        "escalated_by": _who(escalation.actor) or "system",
        "sla_percent": float(escalation.sla_percent)
        if escalation.sla_percent is not None
        else None,
        "handoff_note": {k: v for k, v in escalation.note.items() if k != "facts"},
        "acknowledged_at": _iso(escalation.acknowledged_at),
        "acknowledged_by": _who(escalation.acknowledged_by),
        "decision_sought": escalation.decision_sought or None,
        "decision_made": escalation.decision_made or None,
        "decision_by": _who(escalation.decision_by),
        "decision_at": _iso(escalation.decision_at),
        "de_escalated_at": _iso(escalation.de_escalated_at),
        "resolution_summary": escalation.resolution_summary or None,
    }


def communication_log(incident: Incident) -> list[tuple]:
    """(instant, who, what, text, internal) for every communication, oldest first (raw
    text: each format escapes it its own way). `internal`: the customer never saw it (an
    internal note, a message to our own people), so each format marks it."""
    entries = [
        (
            event.at,
            str(
                event.actor or ("Customer" if event.kind == EventKind.CUSTOMER_REPLY else "System")
            ),
            CONVERSATION[event.kind],
            event.body,
            event.visibility != Visibility.PUBLIC,
        )
        for event in incident.events.filter(kind__in=list(CONVERSATION)).select_related("actor")
    ]
    entries += [
        (
            note.created_at,
            "Portal",
            f"{note.get_channel_display()} {note.kind} ({note.status})",
            note.subject,
            note.kind not in CUSTOMER_KINDS,  # "customer_reply" tells staff: internal
        )
        # The newest fifty: a long incident's latest messages matter most.
        for note in incident.notifications.order_by("-created_at")[:50]
    ]
    return sorted(entries, key=lambda entry: entry[0])


def resolution_plan(incident: Incident, records: list[Escalation], vendor_cases: list):
    """Seed 003 "Resolution Plan: [Next steps and ETA]": (next steps, ETA instant, what
    the ETA is). The steps come from the decision, the handoff note, what waits on whom."""
    steps = []
    if not incident.is_open:
        summaries = [r.resolution_summary for r in records if r.resolution_summary]
        steps.append(summaries[-1] if summaries else "Resolved: follow-up and review only.")
        return steps, incident.resolved_at, "resolved"
    ups = [r for r in records if r.is_up]
    if ups and ups[-1].acknowledged_at is None:
        steps.append(f"L{ups[-1].to_level} to acknowledge the handoff.")
    decided = [r for r in records if r.decision_made]
    if decided:
        steps.append(decided[-1].decision_made)
    elif ups:
        note = ups[-1].note or {}
        proposed = note.get("suggested_next_step") or note.get("proposed_next_steps")
        steps.append(str(proposed) if proposed else "To be decided by the receiving level.")
    for case in vendor_cases:
        if case.is_open:
            steps.append(f"{case.vendor} case {case.case_id}: chase the vendor's next update.")
    if not steps:
        steps.append("Work the incident at its current level.")
    clock = next((c for c in incident_clocks(incident) if c.clock == "resolution"), None)
    if clock is None or clock.due_at is None:
        return steps, None, "resolution clock paused" if clock else "no resolution target"
    return steps, clock.due_at, "resolution target"


def incident_escalation_json(incident: Incident) -> dict:
    spec = policy_spec(incident.policy) if incident.policy_id else None
    records = list(
        incident.escalations.select_related("actor", "acknowledged_by", "decision_by").order_by(
            "at", "id"
        )
    )
    ups = [r for r in records if r.is_up]
    latest = escalation_record(ups[-1], spec) if ups else {"escalated": False}
    steps, eta, eta_is = resolution_plan(
        incident, records, list(incident.vendor_cases.order_by("opened_at"))
    )
    return {
        "incident_id": incident.reference,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "current_level": incident.current_level,
        "escalation": latest,
        "escalations": [escalation_record(r, spec) for r in records],
        # Seed 003's tracking document, as data: no tag can open in a viewer.
        "communication_log": [
            {
                "at": _iso(at),
                "by": data_text(who),
                "what": data_text(what),
                "text": data_text(text),
                "internal": internal,
            }
            for at, who, what, text, internal in communication_log(incident)
        ],
        "resolution_plan": {
            "next_steps": [data_text(step) for step in steps],
            "eta": _iso(eta),
            "eta_is": eta_is,
        },
    }


def _tracking_type(incident: Incident, records: list[Escalation], vendor_cases: list) -> str:
    triggers = {r.trigger for r in records}
    # A manager request up the management chain is executive without moving a tier.
    if (
        Trigger.EXECUTIVE in triggers
        or incident.trigger_firings.filter(trigger=Trigger.EXECUTIVE).exists()
    ):
        return "Executive"
    if vendor_cases:
        return "Vendor"
    return "Technical"


def tracking_markdown(incident: Incident) -> str:
    """Seed 003's escalation tracking document for one incident."""
    spec = policy_spec(incident.policy) if incident.policy_id else None
    records = list(
        incident.escalations.select_related("actor", "acknowledged_by", "decision_by").order_by(
            "at", "id"
        )
    )
    vendor_cases = list(incident.vendor_cases.select_related("owner").order_by("opened_at"))
    if not incident.is_open:
        state = "RESOLVED"
    elif records and records[-1].is_up:
        state = "ESCALATED"
    else:
        state = "ACTIVE"
    subject = (
        f"{md(incident.account)} / {incident.reference}"
        if incident.account_id
        else (incident.reference)
    )
    level = f"L{incident.current_level}"
    if spec:
        level += f" · {_level_name(spec, incident.current_level)}"

    def hhmm(value) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")

    lines = [
        f"# Escalation Tracking: {subject}",
        "",
        f"**Incident**: {incident.reference} - {md(incident.title)}",
        f"**Type**: {_tracking_type(incident, records, vendor_cases)}",
        f"**Level**: {level}",
        f"**Status**: {state}",
        f"**Times**: {timezone.get_current_timezone_name()}",
        "",
        "## Timeline",
    ]
    # Every source adds (instant, line); the timeline reads in time order
    # (a stable sort keeps an escalation before its acknowledgement at the same minute).
    timeline: list[tuple] = []
    for record in records:
        arrow = "escalated" if record.is_up else "de-escalated"
        timeline.append(
            (
                record.at,
                f"[{hhmm(record.at)}] - {arrow} L{record.from_level} -> L{record.to_level}"
                f" ({record.get_trigger_display()}): {md(record.reason)}",
            )
        )
        if record.acknowledged_at:
            timeline.append(
                (
                    record.acknowledged_at,
                    f"[{hhmm(record.acknowledged_at)}] - Escalation acknowledged by "
                    f"{md(record.acknowledged_by)}",
                )
            )
        if record.decision_at:
            timeline.append(
                (
                    record.decision_at,
                    f"[{hhmm(record.decision_at)}] - Decision by {md(record.decision_by)}: "
                    f"{md(record.decision_made)}",
                )
            )
    for event in incident.events.filter(
        kind__in=[EventKind.STATUS_CHANGED, EventKind.REOPENED]
    ).order_by("at"):
        timeline.append(
            (
                event.at,
                f"[{hhmm(event.at)}] - Status {event.data.get('from')} -> {event.data.get('to')}",
            )
        )
    for event in incident.events.filter(kind=EventKind.VENDOR_CASE).order_by("at"):
        timeline.append((event.at, f"[{hhmm(event.at)}] - {md(event.body)}"))
    lines += [text for _at, text in sorted(timeline, key=lambda entry: entry[0])]
    lines += ["", "## Actions & Owners"]
    owner = md(incident.assignee or "unassigned")
    statuses = escalation_notice_statuses(incident)
    for record in [r for r in records if r.is_up]:
        taken = md(record.acknowledged_by or "")
        for label, done, how in after_handoff_items(
            taken_by=taken, notice_status=statuses.get(record.pk)
        ):
            lines.append(
                f"- [{'x' if done else ' '}] L{record.to_level}: {label} ({how})"
                f" - @{taken or owner}"
            )
    for record in records:
        if record.decision_sought and not record.decision_at:
            lines.append(f"- [ ] Decide: {md(record.decision_sought)} - @L{record.to_level}")
        elif record.decision_at:
            lines.append(f"- [x] Decided: {md(record.decision_made)} - @{md(record.decision_by)}")
    for case in vendor_cases:
        done = "x" if not case.is_open else " "
        expected = (
            f", update expected {hhmm(case.next_update_expected_at)}"
            if case.is_open and case.next_update_expected_at
            else ""
        )
        lines.append(
            f"- [{done}] {md(case.vendor)} case {md(case.case_id)} "
            f"({case.get_status_display().lower()}{expected}) - @{md(case.owner)}"
        )
    review = PostIncidentReview.objects.filter(incident=incident).select_related("owner").first()
    if review is not None:
        if review.status != ReviewStatus.PUBLISHED:
            due = f", due {hhmm(review.due_at)}" if review.due_at else ""
            lines.append(
                f"- [ ] Post-incident review ({review.get_status_display().lower()}{due})"
                f" - @{md(review.owner or 'unassigned')}"
            )
        for item in review.action_items.select_related("owner").order_by("due_date", "pk"):
            done = " " if item.status in OPEN_ITEM_STATUSES else "x"
            lines.append(
                f"- [{done}] {md(item.title)} ({item.get_status_display().lower()}, "
                f"due {item.due_date:%Y-%m-%d}) - @{md(item.owner)}"
            )
    if len(lines) and lines[-1] == "## Actions & Owners":
        lines.append("- (none open)")
    log = communication_log(incident)
    lines += ["", "## Communication Log"]
    if any(internal for *_, internal in log):
        lines.append(f"_{INTERNAL_LOG}_")
    for at, who, what, text, internal in log:
        mark = " **[internal]**" if internal else ""
        lines.append(f"[{hhmm(at)}] - {md(who)} ({md(what)}){mark}: {md(_one_line(text))}")
    if lines[-1] == "## Communication Log":
        lines.append("- (nothing sent yet)")
    lines += ["", "## Resolution Plan"]
    steps, eta, eta_is = resolution_plan(incident, records, vendor_cases)
    lines += ["**Next steps**:", *[f"- {md(_one_line(step))}" for step in steps]]
    lines.append(f"**ETA**: {hhmm(eta)} ({eta_is})" if eta else f"**ETA**: none ({eta_is})")
    return "\n".join(lines) + "\n"
