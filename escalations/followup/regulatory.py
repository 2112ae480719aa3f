"""Regulatory reports (seed 002 Public Communication: "Regulatory Reporting: Report to
regulatory bodies if required").

Legal or a manager marks an incident as needing a report; it is due the policy's
`regulatory_report.due_after` later (72 hours by default: the GDPR's for a personal data
breach). The policy's `notify` groups (Legal) hear of the mark at once; the timeline and the
page say who was told from the notices actually queued. A security incident without data
loss is not Legal's to read (seed 000 limited distribution): marking it is refused when
nobody in the `notify` groups may read it, rather than recorded as told; the reminder sweep
(`reminders._sweep_regulatory_reports`) tells them once before the due time and once when
it passes unfiled. Recording the report as filed stops the reminders,
and withdraws (suppresses) those queued but still held.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from escalations.followup import reminders
from escalations.models import RegulatoryReport
from escalations.policies import reach
from escalations.rules.followup import spoken_duration
from incidents.models import EventKind, Incident
from incidents.permissions import require
from incidents.services import incident_event_append, incident_lock
from notifications.services import notifications_enqueue_many, notifications_suppress_pending
from portal.clock import resolve_now


@transaction.atomic
def regulatory_report_require(
    *, incident: Incident, actor, reason: str, now: datetime | None = None
) -> RegulatoryReport:
    """Mark `incident` as needing a report to a regulator, due per its policy."""
    require(actor, "regulatory_report.require", incident=incident)
    now = resolve_now(now)
    incident = incident_lock(incident=incident)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": "Say why a report is required (e.g. personal data breach)."}
        )
    if RegulatoryReport.objects.filter(incident=incident).exists():
        raise ValidationError("This incident is marked as needing a regulatory report already.")
    settings = reminders.incident_spec(incident).regulatory_report
    told = reminders.regulatory_report_recipients(incident)
    if not told and incident.is_security and reach.group_recipients(settings.notify):
        raise ValidationError(
            f"Nobody in {_groups(settings.notify)} may read this security incident (seed 000 "
            "limited distribution), so nobody would be told of the report. If personal data "
            "was lost, mark the incident as data loss first (a data breach is Legal's to read), "
            "or name a group cleared for security incidents in the policy's "
            "regulatory_report.notify."
        )
    report = RegulatoryReport.objects.create(
        incident=incident,
        reason=reason[:200],
        required_at=now,
        required_by=actor if getattr(actor, "pk", None) else None,
        due_at=now + settings.due_after,
    )
    queued = reminders.regulatory_report_notices(report, "required", now)
    # Who was told, for the timeline and the page's message (not stored).
    report.told = _told_line(queued, settings.notify)
    incident_event_append(
        incident=incident,
        kind=EventKind.REGULATORY_REPORT,
        actor=actor,
        at=now,
        body=f"Regulatory report required ({report.reason}): due within "
        f"{spoken_duration(settings.due_after)}; {report.told}.",
        data={"regulatory_report": report.pk, "action": "required"},
    )
    reminders.regulatory_report_schedule(report, now)
    notifications_enqueue_many(queued)
    return report


def _groups(names) -> str:
    return ", ".join(names) or "the policy's regulatory_report.notify (empty)"


def _told_line(queued: list, notify) -> str:
    """Who was told, from the notices actually queued (never from the policy's wish)."""
    names = list(dict.fromkeys(row.recipient for row in queued))
    if names:
        return "told: " + ", ".join(names)
    return f"nobody could be told: no active member of {_groups(notify)} has an email address"


@transaction.atomic
def regulatory_report_file(
    *, incident: Incident, actor, reference: str = "", now: datetime | None = None
) -> RegulatoryReport:
    """Record that the report went to the regulator; no reminder follows."""
    require(actor, "regulatory_report.file", incident=incident)
    now = resolve_now(now)
    incident = incident_lock(incident=incident)
    report = RegulatoryReport.objects.select_for_update().filter(incident=incident).first()
    if report is None:
        raise ValidationError("No regulatory report is required for this incident.")
    if report.is_filed:
        raise ValidationError("The regulatory report is recorded as filed already.")
    report.filed_at = now
    report.filed_by = actor if getattr(actor, "pk", None) else None
    report.filed_reference = (reference or "").strip()[:200]
    report.next_reminder_at = None
    report.save(update_fields=["filed_at", "filed_by", "filed_reference", "next_reminder_at"])
    # Reminders already queued but still held (working hours, a retry) must not go out.
    notifications_suppress_pending(
        dedup_prefix=reminders.regulatory_report_dedup_prefix(report),
        reason=f"regulatory report filed at {now.isoformat(timespec='seconds')}",
    )
    late = " (after its due time)" if now > report.due_at else ""
    ref = f", regulator's reference {report.filed_reference}" if report.filed_reference else ""
    incident_event_append(
        incident=incident,
        kind=EventKind.REGULATORY_REPORT,
        actor=actor,
        at=now,
        body=f"Regulatory report filed{late}{ref}.",
        data={"regulatory_report": report.pk, "action": "filed"},
    )
    return report
