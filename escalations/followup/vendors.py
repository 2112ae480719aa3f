"""Vendor escalation (seed 003): cases with AWS, Azure, GCP, Oracle... for an incident.

Opening a case can put the incident in "waiting on vendor", which pauses its
clocks where the policy lists that status (the default). The case's owner is
reminded when the vendor's expected update is late.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from escalations.followup import reminders
from escalations.followup.people import check_person
from escalations.models import OPEN_VENDOR_STATUSES, VendorCase, VendorCaseStatus
from escalations.notices import compose as notices
from escalations.rules.followup import vendor_update_expected
from incidents.models import EventKind, Incident
from incidents.permissions import require
from incidents.rules import Status, TransitionError, check_transition
from incidents.services import incident_change_status, incident_event_append, incident_lock
from portal.clock import resolve_now

# Seed 003 "request regular updates": how often a vendor may be asked to update, here only
# (the web form shows these messages).
MIN_CADENCE = timedelta(minutes=5)
MAX_CADENCE = timedelta(days=7)


def _check_expected(expected, after: datetime, errors: dict) -> None:
    if expected is not None and expected <= after:
        errors["next_update_expected_at"] = "The next update is expected after now."


def _check_cadence(every: timedelta | None, errors: dict) -> None:
    if every is not None and every < MIN_CADENCE:
        errors["update_every"] = "Ask for updates no more often than every 5 minutes."
    elif every is not None and every > MAX_CADENCE:
        errors["update_every"] = "Ask for updates at least once a week."


@transaction.atomic
def vendor_case_open(
    *,
    incident: Incident,
    actor,
    vendor: str,
    case_id: str,
    severity: str,
    owner,
    contact: str = "",
    contact_email: str = "",
    summary: str = "",
    opened_at: datetime | None = None,
    next_update_expected_at: datetime | None = None,
    update_every: timedelta | None = None,
    wait_on_vendor: bool = False,
    now: datetime | None = None,
) -> VendorCase:
    require(actor, "vendor_case.open", incident=incident)
    now = resolve_now(now)
    opened_at = opened_at or now
    incident = incident_lock(incident=incident)
    errors: dict[str, str] = {}
    for name, value, message in (
        ("vendor", vendor, "Name the vendor."),
        ("case_id", case_id, "Give the vendor's case id."),
        ("severity", severity, "Give the case's severity in the vendor's scale."),
    ):
        if not (value or "").strip():
            errors[name] = message
    if owner is None:
        errors["owner"] = "Someone on our side owns the case."
    check_person(owner, incident, "owner", errors)
    if opened_at > now:
        errors["opened_at"] = "The case cannot be opened in the future."
    _check_expected(next_update_expected_at, now, errors)
    _check_cadence(update_every, errors)
    if wait_on_vendor:
        try:
            check_transition(incident.status, Status.WAITING_ON_VENDOR)
        except TransitionError as error:
            errors["wait_on_vendor"] = str(error)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            case = VendorCase.objects.create(
                incident=incident,
                vendor=vendor.strip(),
                case_id=case_id.strip(),
                severity=severity.strip(),
                contact=(contact or "").strip(),
                contact_email=(contact_email or "").strip(),
                owner=owner,
                opened_at=opened_at,
                summary=(summary or "").strip(),
                status=VendorCaseStatus.WAITING_ON_VENDOR,
                next_update_expected_at=vendor_update_expected(
                    promised=next_update_expected_at, last=now, every=update_every
                ),
                update_every=update_every,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        raise ValidationError(
            {"case_id": f"{vendor.strip()} case {case_id.strip()} is tracked already."}
        ) from None
    contact_words = f", contact {case.contact}" if case.contact else ""
    incident_event_append(
        incident=incident,
        kind=EventKind.VENDOR_CASE,
        actor=actor,
        at=now,
        body=f"Vendor case opened with {case.vendor}: case {case.case_id}, "
        f"severity {case.severity}{contact_words}." + (f" {case.summary}" if case.summary else ""),
        data={"vendor_case": case.pk, "action": "opened", "vendor": case.vendor},
    )
    reminders.vendor_schedule(case, now)
    if wait_on_vendor:
        incident_change_status(
            incident=incident,
            status=Status.WAITING_ON_VENDOR.value,
            actor=actor,
            note=f"Waiting on {case.vendor} (case {case.case_id}).",
            now=now,
        )
    return case


@transaction.atomic
def vendor_case_record_update(
    *,
    case: VendorCase,
    actor,
    update: str,
    status: str,
    next_update_expected_at: datetime | None = None,
    now: datetime | None = None,
) -> VendorCase:
    """What the vendor said, the case's new status and when they will say more."""
    require(actor, "vendor_case.record_update", incident=case.incident)
    now = resolve_now(now)
    incident = incident_lock(incident=case.incident)
    case = VendorCase.objects.select_for_update().get(pk=case.pk)
    errors: dict[str, str] = {}
    if not case.is_open:
        raise ValidationError("The vendor case is closed.")
    if not (update or "").strip():
        errors["update"] = "Write what the vendor said."
    if status not in VendorCaseStatus.values:
        errors["status"] = "Pick the case's status."
    _check_expected(next_update_expected_at, now, errors)
    if errors:
        raise ValidationError(errors)
    previous = case.status
    case.status = status
    case.last_vendor_update_at = now
    case.last_vendor_update = update.strip()
    case.next_update_expected_at = (
        vendor_update_expected(promised=next_update_expected_at, last=now, every=case.update_every)
        if case.is_open
        else None
    )
    if status not in OPEN_VENDOR_STATUSES:
        case.closed_at = now
    case.save()
    expected = (
        f" Next update expected {notices.when(case.next_update_expected_at)}."
        if case.next_update_expected_at and case.is_open
        else ""
    )
    incident_event_append(
        incident=incident,
        kind=EventKind.VENDOR_CASE,
        actor=actor,
        at=now,
        body=f"{case.vendor} case {case.case_id}: {update.strip()} "
        f"({case.get_status_display().lower()}).{expected}",
        data={"vendor_case": case.pk, "action": "update", "from": previous, "to": status},
    )
    reminders.vendor_schedule(case, now)
    return case


@transaction.atomic
def vendor_case_close(
    *, case: VendorCase, actor, note: str, now: datetime | None = None
) -> VendorCase:
    require(actor, "vendor_case.close", incident=case.incident)
    if not (note or "").strip():
        raise ValidationError({"note": "Say how the case ended."})
    return vendor_case_record_update(
        case=case, actor=actor, update=note, status=VendorCaseStatus.CLOSED, now=now
    )
