"""Reminders for the follow-up work: reviews, action items, war-room updates, vendor cases.

Every object that may need a reminder keeps `next_reminder_at`, a column with a
partial index. Services store it in the transaction that changes the object
(`*_schedule` below); Celery beat runs `reminder_sweep`, which reads only rows
whose instant has come, claims them with FOR UPDATE SKIP LOCKED, queues the
reminder that is due and stores the next instant. A reminder's dedup key is
(object, reminder type, the deadline it is about), so each fires once per
deadline however often the sweep runs, and a moved deadline brings new ones.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from escalations.models import (
    ActionItem,
    PostIncidentReview,
    RegulatoryReport,
    ReviewStatus,
    VendorCase,
    WarRoom,
)
from escalations.notices import compose as notices
from escalations.policies import reach
from escalations.policies.services import policy_spec
from escalations.rules.clocks import update_clock
from escalations.rules.durations import humanize
from escalations.rules.followup import (
    ENGAGE_TAM,
    UPDATE_OVERDUE,
    Reminder,
    cadence_reminders,
    deadline_reminders,
    next_reminder_at,
    next_visit,
    reminder_to_send,
)
from escalations.rules.spec import LevelSpec, ReviewSettings, WarRoomSettings, WorkflowSpec
from escalations.sla.services import incident_facts
from incidents.models import Incident
from notifications.services import notifications_enqueue_many

# Incidents without a policy still pause on the default statuses.
_NO_POLICY = WorkflowSpec(levels=(LevelSpec(1, "Level 1"),))


def incident_spec(incident: Incident) -> WorkflowSpec:
    return policy_spec(incident.policy) if incident.policy_id else _NO_POLICY


def review_settings(incident: Incident) -> ReviewSettings:
    return incident_spec(incident).reviews


def war_room_settings(incident: Incident) -> WarRoomSettings:
    return incident_spec(incident).war_room


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# --- what is due, per object ------------------------------------------------------------------


def review_points(review: PostIncidentReview, reviews: ReviewSettings) -> list[Reminder]:
    if review.status == ReviewStatus.PUBLISHED or review.due_at is None:
        return []
    return deadline_reminders(review.due_at, reviews.remind_before)


def item_points(item: ActionItem, reviews: ReviewSettings) -> list[Reminder]:
    if not item.is_open:
        return []
    return deadline_reminders(item.due_at, reviews.action_item_remind_before)


def war_room_update_due(war_room: WarRoom, incident: Incident, now: datetime):
    """When the next status update is due: the status-update clock with the war
    room's cadence, started no earlier than the activation. None while paused."""

    if not war_room.is_active or not incident.is_open:
        return None
    reading = update_clock(
        incident_facts(incident),
        incident_spec(incident),
        target=war_room.cadence,
        since=war_room.activated_at,
        now=now,
    )
    return reading.due_at


def war_room_points(war_room: WarRoom, due: datetime | None, now: datetime) -> list[Reminder]:
    if due is None:
        return []
    return cadence_reminders(due, war_room.cadence, until=max(now, due) + war_room.cadence)


def vendor_points(case: VendorCase, now: datetime) -> list[Reminder]:
    """When the expected update is late; with a cadence, again once per missed interval."""
    due = case.next_update_expected_at
    if not case.is_open or due is None:
        return []
    if case.update_every:
        every = case.update_every
        return cadence_reminders(due, every, until=max(now, due) + every)
    return deadline_reminders(due, None)


def regulatory_report_points(report: RegulatoryReport) -> list[Reminder]:
    """Seed 002 "Regulatory Reporting": before the due time and when it passes, until filed."""
    if report.is_filed:
        return []
    settings = incident_spec(report.incident).regulatory_report
    return deadline_reminders(report.due_at, settings.remind_before)


# --- keeping next_reminder_at right after a change (called by services) -----------------------


def _store(model, obj, value, **extra) -> None:
    fields = {"next_reminder_at": value, **extra}
    if all(getattr(obj, name) == field for name, field in fields.items()):
        return
    model.objects.filter(pk=obj.pk).update(**fields)
    for name, field in fields.items():
        setattr(obj, name, field)


def review_schedule(review: PostIncidentReview, now: datetime) -> None:
    points = review_points(review, review_settings(review.incident))
    _store(PostIncidentReview, review, next_visit(points, now))


def item_schedule(item: ActionItem, now: datetime) -> None:
    points = item_points(item, review_settings(item.incident))
    _store(ActionItem, item, next_visit(points, now))


def war_room_schedule(war_room: WarRoom, incident: Incident, now: datetime) -> None:
    due = war_room_update_due(war_room, incident, now)
    points = war_room_points(war_room, due, now)
    _store(WarRoom, war_room, next_visit(points, now), update_due_at=due)


def vendor_schedule(case: VendorCase, now: datetime) -> None:
    _store(VendorCase, case, next_visit(vendor_points(case, now), now))


def regulatory_report_schedule(report: RegulatoryReport, now: datetime) -> None:
    _store(RegulatoryReport, report, next_visit(regulatory_report_points(report), now))


# --- the notices ------------------------------------------------------------------------------


def _when(value: datetime | None) -> datetime | None:
    # The instant itself: notices.build writes it in each recipient's zone.
    return value


def review_notices(review: PostIncidentReview, reminder: Reminder, now: datetime) -> list:
    incident = review.incident
    recipients = reach.user_recipient(review.owner or incident.assignee)
    if reminder.type == "overdue":
        # Overdue reviews go up to the managers (who may see every incident).
        recipients = reach.unique_recipients(
            recipients + reach.group_recipients(["Engineering Manager"])
        )
    return notices.build(
        kind="pir_reminder",
        incident=incident,
        recipients=recipients,
        context={
            "reminder": reminder.type,
            "due": _when(review.due_at),
            "review_status": review.get_status_display(),
            "reasons": list(review.required_reasons),
            "review_url": settings.SITE_URL + review_path(incident),
        },
        dedup_base=f"pir:{review.pk}:{reminder.type}:{_iso(reminder.due)}",
        urgent=False,
        now=now,
    )


def item_notices(item: ActionItem, reminder: Reminder, now: datetime) -> list:
    incident = item.incident
    recipients = reach.user_recipient(item.owner)
    review_owner = item.review.owner
    if reminder.type == "overdue" and review_owner and review_owner.pk != item.owner_id:
        recipients = reach.unique_recipients(recipients + reach.user_recipient(review_owner))
    return notices.build(
        kind="action_item_reminder",
        incident=incident,
        recipients=recipients,
        context={
            "reminder": reminder.type,
            "item": {
                "title": item.title,
                "owner": str(item.owner),
                "due": _when(item.due_at),
                "due_date": item.due_date.isoformat(),
                "status": item.get_status_display(),
            },
            "review_url": settings.SITE_URL + review_path(incident),
        },
        dedup_base=f"item:{item.pk}:{reminder.type}:{_iso(reminder.due)}",
        urgent=False,
        now=now,
    )


def war_room_notices(war_room: WarRoom, reminder: Reminder, now: datetime) -> list:
    incident = war_room.incident
    commander = war_room.commander()
    if commander is None:
        return []
    late = now - reminder.due
    return notices.build(
        kind="war_room_update_due",
        incident=incident,
        recipients=reach.user_recipient(commander),
        context={
            "reminder": reminder.type,
            "due": _when(reminder.due),
            "late_minutes": max(0, int(late.total_seconds() // 60)),
            "cadence_minutes": int(war_room.cadence.total_seconds() // 60),
            "channel": war_room.channel,
        },
        dedup_base=f"warroom:{war_room.pk}:{reminder.type}:{_iso(reminder.due)}:{_iso(reminder.at)}",
        urgent=incident.severity in ("P0", "P1"),
        now=now,
    )


def vendor_notices(case: VendorCase, reminder: Reminder, now: datetime) -> list:
    incident = case.incident
    recipients = reach.user_recipient(case.owner)
    if incident.assignee_id and incident.assignee_id != case.owner_id:
        recipients = reach.unique_recipients(recipients + reach.user_recipient(incident.assignee))
    return notices.build(
        kind="vendor_update_overdue",
        incident=incident,
        recipients=recipients,
        context={
            "reminder": reminder.type,
            "engage_tam": ENGAGE_TAM,
            "case": {
                "vendor": case.vendor,
                "case_id": case.case_id,
                "severity": case.severity,
                "contact": case.contact,
                "contact_email": case.contact_email,
                "status": case.get_status_display(),
                "expected": _when(case.next_update_expected_at),
                "last_update": _when(case.last_vendor_update_at),
                "cadence": humanize(case.update_every) if case.update_every else "",
            },
        },
        # A cadence reminds once per missed interval: each has its own instant.
        dedup_base=f"vendor:{case.pk}:{reminder.type}:{_iso(reminder.due)}"
        + (f":{_iso(reminder.at)}" if reminder.type == UPDATE_OVERDUE else ""),
        urgent=False,
        now=now,
    )


def regulatory_report_recipients(incident: Incident) -> list[reach.Recipient]:
    """Who hears of an incident's regulatory report: the policy's `notify` groups, told
    like every incident notice (`reach.told`: a security incident's emails only to those
    cleared to read it; a data breach's readers include Legal)."""
    settings = incident_spec(incident).regulatory_report
    return reach.told(incident, reach.group_recipients(settings.notify))


def regulatory_report_dedup_prefix(report: RegulatoryReport) -> str:
    """Every notice of `report` has a dedup key starting so (filing withdraws held ones)."""
    return f"regulatory:{report.pk}:"


def regulatory_report_notices(report: RegulatoryReport, reminder: str, now: datetime) -> list:
    """The policy's `notify` groups (Legal) hear that a report is required, due soon or
    overdue, once each per due time (the dedup key); a security incident's emails only to
    those cleared to read it (a data breach's readers include Legal)."""
    incident = report.incident
    by = report.required_by
    return notices.build(
        kind="regulatory_report",
        incident=incident,
        recipients=regulatory_report_recipients(incident),
        context={
            "reminder": reminder,
            "report": {
                # Seed 000 limited distribution: a security incident's reason stays on
                # the incident page, out of the email and its outbox snapshot.
                "reason": "" if incident.is_security else report.reason,
                "due": _when(report.due_at),
                "required_by": (by.get_full_name() or by.get_username()) if by else "",
            },
        },
        dedup_base=f"{regulatory_report_dedup_prefix(report)}{reminder}:{_iso(report.due_at)}",
        # A statutory deadline (seed 002; 72 hours under the GDPR): never held for working
        # hours, folded into a digest or dropped by the daily cap.
        urgent=True,
        at_any_hour=True,
        now=now,
    )


def review_path(incident: Incident) -> str:
    from django.urls import reverse

    return reverse("escalations:pir", args=[incident.reference])


# --- the sweep --------------------------------------------------------------------------------


def _claim(model, now: datetime, batch: int, related: tuple[str, ...]):
    """Lock up to `batch` rows whose reminder is due (others' locked rows are skipped),
    then load them with what their notices need. Idle, this is one index scan."""
    ids = list(
        model.objects.filter(next_reminder_at__lte=now)
        .order_by("next_reminder_at", "id")
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)[:batch]
    )
    if not ids:
        return []
    return list(
        model.objects.filter(pk__in=ids).select_related(*related).order_by("next_reminder_at", "id")
    )


def _store_next(model, rows: list, fields: tuple[str, ...] = ("next_reminder_at",)) -> None:
    """Store the next instants of a claimed batch in one statement."""
    if not rows:
        return
    if connection.vendor != "postgresql" or fields != ("next_reminder_at",):
        model.objects.bulk_update(rows, list(fields), batch_size=500)
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET next_reminder_at = v.at "
            f"FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at) WHERE t.id = v.id",
            [[row.pk for row in rows], [row.next_reminder_at for row in rows]],
        )


def _sweep(model, related, points_of, notices_of, label, now, batch, counts, extra=()):
    rows = _claim(model, now, batch, related)
    out = []
    for row in rows:
        points = points_of(row)
        reminder = reminder_to_send(points, now)
        if reminder is not None:
            queued = notices_of(row, reminder, now)
            out += queued
            # Count what was queued; a reminder that reaches nobody is counted apart.
            counts[f"{label}_{reminder.type}" + ("" if queued else "_nobody")] += 1
        row.next_reminder_at = next_reminder_at(points, now)
    _store_next(model, rows, ("next_reminder_at", *extra))
    notifications_enqueue_many(out)
    return len(rows)


def _sweep_reviews(now: datetime, batch: int, counts: Counter) -> int:
    return _sweep(
        PostIncidentReview,
        ("incident__policy", "owner", "incident__assignee"),
        lambda review: review_points(review, review_settings(review.incident)),
        review_notices,
        "review",
        now,
        batch,
        counts,
    )


def _sweep_items(now: datetime, batch: int, counts: Counter) -> int:
    return _sweep(
        ActionItem,
        ("incident__policy", "owner", "review__owner"),
        lambda item: item_points(item, review_settings(item.incident)),
        item_notices,
        "item",
        now,
        batch,
        counts,
    )


def _sweep_war_rooms(now: datetime, batch: int, counts: Counter) -> int:
    def points(war_room):
        war_room.update_due_at = war_room_update_due(war_room, war_room.incident, now)
        return war_room_points(war_room, war_room.update_due_at, now)

    return _sweep(
        WarRoom,
        ("incident__policy",),
        points,
        war_room_notices,
        "war_room",
        now,
        batch,
        counts,
        extra=("update_due_at",),
    )


def _sweep_vendor_cases(now: datetime, batch: int, counts: Counter) -> int:
    return _sweep(
        VendorCase,
        ("incident__assignee", "owner"),
        lambda case: vendor_points(case, now),
        vendor_notices,
        "vendor",
        now,
        batch,
        counts,
    )


def _sweep_regulatory_reports(now: datetime, batch: int, counts: Counter) -> int:
    return _sweep(
        RegulatoryReport,
        ("incident__policy", "required_by"),
        regulatory_report_points,
        lambda report, reminder, now: regulatory_report_notices(report, reminder.type, now),
        "regulatory_report",
        now,
        batch,
        counts,
    )


SWEEPS = (
    _sweep_reviews,
    _sweep_items,
    _sweep_war_rooms,
    _sweep_vendor_cases,
    _sweep_regulatory_reports,
)


def reminder_sweep(*, now: datetime | None = None, batch_size: int = 200) -> dict:
    """Send every reminder whose instant has come; safe to run twice or concurrently.

    Reads only the partial indexes on next_reminder_at: its cost follows what
    is due, not how many reviews, items, war rooms or cases exist.
    """
    now = now or timezone.now()
    counts: Counter = Counter()
    for sweep in SWEEPS:
        for _ in range(1000):
            with transaction.atomic():
                claimed = sweep(now, batch_size, counts)
            counts["visited"] += claimed
            if claimed < batch_size:
                break
    return {key: value for key, value in counts.items() if value}
