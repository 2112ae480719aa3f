"""Review queues for team leads and managers: selectors, read-only.

Each queue is one `Queue` in `QUEUES`: a function returning the rows the user may
see (incidents, escalations, notifications...), how a row reaches its incident
(for the shared filters and the security rule), its sort orders and extra
columns. Every queue reads a small partial index (see the Incident and
Escalation indexes), so counting and listing cost what is in the queue, not
what is in the database (reviews and action items: their (status, due_at)
indexes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, Q, QuerySet

from escalations.analytics.filters import incident_filter_q
from escalations.models import (
    OPEN_ITEM_STATUSES,
    ActionItem,
    Escalation,
    PostIncidentReview,
    ReviewStatus,
)
from escalations.templatetags.review import left_until
from incidents.models import Incident
from incidents.rules import OPEN_STATUSES
from incidents.selectors import visibility_q
from notifications.models import Notification
from notifications.models import Status as NotificationStatus
from portal.roles import SECURITY

OPEN = [s.value for s in OPEN_STATUSES]


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable  # (row, now) -> display value


@dataclass(frozen=True)
class Queue:
    slug: str
    title: str
    description: str
    rows: Callable[[object, datetime], QuerySet]  # (user, now) -> before filters, visibility
    incident_path: str = ""  # from a row to its incident ("" when rows are incidents)
    sorts: dict[str, tuple[str, Callable[[str], tuple]]] = field(default_factory=dict)
    default_sort: str = "due"
    extra_columns: tuple[Column, ...] = ()
    select_related: tuple[str, ...] = ()
    visible_to: Callable[[object], bool] = lambda user: True
    rows_without_incident: bool = False  # rows may have no incident (notifications)

    def incident_of(self, row) -> Incident | None:
        if not self.incident_path:
            return row
        return getattr(row, self.incident_path.removesuffix("__"))


def _asc(name):
    return lambda path: (F(f"{path}{name}").asc(nulls_last=True), f"{path}id")


def _desc(name):
    return lambda path: (F(f"{path}{name}").desc(nulls_last=True), f"-{path}id")


def _severity(path):
    return (f"{path}severity", F(f"{path}sla_due_at").asc(nulls_last=True), f"{path}id")


INCIDENT_SORTS = {
    "due": ("Time left", _asc("sla_due_at")),
    "opened": ("Newest", _desc("opened_at")),
    "oldest": ("Oldest", _asc("opened_at")),
    "severity": ("Severity", _severity),
    "level": ("Highest level", _desc("current_level")),
}


def _open_incidents(**conditions):
    return lambda user, now: Incident.objects.filter(status__in=OPEN, **conditions)


def _breaching_soon(user, now):
    return Incident.objects.filter(sla_warning_at__lte=now).filter(
        Q(sla_due_at__isnull=True) | Q(sla_due_at__gt=now)
    )


def _breached(user, now):
    return Incident.objects.filter(sla_due_at__lte=now)


def _awaiting_decision(user, now):
    return Escalation.objects.filter(decision_at__isnull=True, incident__status__in=OPEN).exclude(
        decision_sought=""
    )


UNPUBLISHED = (ReviewStatus.DRAFT, ReviewStatus.IN_REVIEW)


def _reviews_due(user, now):
    # Unpublished reviews with a due time (a reopened incident's review has none until
    # it resolves again); IN rather than "not published" so (status, due_at) serves it.
    return PostIncidentReview.objects.filter(status__in=UNPUBLISHED, due_at__isnull=False)


def _items_overdue(user, now):
    # Overdue from the due instant on, as the overdue reminder (followup.deadline_reminders).
    return ActionItem.objects.filter(status__in=OPEN_ITEM_STATUSES, due_at__lte=now)


def _failed_notifications(user, now):
    return Notification.objects.filter(status=NotificationStatus.FAILED)


def _in_security_group(user) -> bool:
    return user.is_superuser or user.groups.filter(name=SECURITY).exists()


def _since(attr):
    return lambda row, now: getattr(row, attr)


INCIDENT_ROWS = ("assignee", "account")

QUEUES: tuple[Queue, ...] = (
    Queue(
        "breaching-soon",
        "Breaching soon",
        "A running clock is at 75 % of its target or more, not yet breached.",
        _breaching_soon,
        sorts=INCIDENT_SORTS,
        select_related=INCIDENT_ROWS,
    ),
    Queue(
        "breached",
        "Breached",
        "A running clock is past its target.",
        _breached,
        sorts=INCIDENT_SORTS,
        select_related=INCIDENT_ROWS,
    ),
    Queue(
        "handoffs",
        "Handoffs awaiting acknowledgement",
        "Escalated to a level that has not acknowledged the handoff yet.",
        _open_incidents(handoff_at__isnull=False, handoff_acknowledged_at__isnull=True),
        sorts={**INCIDENT_SORTS, "waiting": ("Waiting longest", _asc("handoff_at"))},
        default_sort="waiting",
        extra_columns=(Column("Handed off", _since("handoff_at")),),
        select_related=INCIDENT_ROWS,
    ),
    Queue(
        "decisions",
        "Escalations awaiting a decision",
        "The escalation asked for a decision that nobody has recorded.",
        _awaiting_decision,
        incident_path="incident__",
        sorts={
            "waiting": ("Waiting longest", lambda path: ("at", "id")),
            **INCIDENT_SORTS,
        },
        default_sort="waiting",
        extra_columns=(
            Column("Escalated", lambda row, now: row.at),
            Column("Decision sought", lambda row, now: row.decision_sought),
        ),
        select_related=("incident", "incident__assignee", "incident__account"),
    ),
    Queue(
        "unassigned",
        "Unassigned",
        "Open incidents nobody owns (after an escalation, until someone acknowledges).",
        _open_incidents(assignee__isnull=True),
        sorts=INCIDENT_SORTS,
        select_related=INCIDENT_ROWS,
    ),
    Queue(
        "ping-pong",
        "Ping-pong flagged",
        "Bounced between levels more often than the policy allows.",
        _open_incidents(flagged_for_review=True),
        sorts=INCIDENT_SORTS,
        extra_columns=(Column("Why", lambda row, now: row.review_reason),),
        select_related=INCIDENT_ROWS,
    ),
    Queue(
        "security",
        "Security",
        "Open security incidents (limited distribution).",
        _open_incidents(is_security=True),
        sorts=INCIDENT_SORTS,
        select_related=INCIDENT_ROWS,
        visible_to=_in_security_group,
    ),
    Queue(
        "pirs",
        "PIRs due or overdue",
        "Post-incident reviews not published yet (due 48 hours after resolution).",
        _reviews_due,
        incident_path="incident__",
        sorts={"review-due": ("Due first", lambda path: ("due_at", "id")), **INCIDENT_SORTS},
        default_sort="review-due",
        extra_columns=(
            Column("Review due", lambda row, now: row.due_at),
            Column("Review time left", lambda row, now: left_until(row.due_at, now)),
            Column("Review", lambda row, now: row.get_status_display()),
            Column("Owner", lambda row, now: row.owner or "—"),
        ),
        select_related=("owner", "incident", "incident__assignee", "incident__account"),
    ),
    Queue(
        "action-items",
        "Action items overdue",
        "Review action items past their due date and not closed.",
        _items_overdue,
        incident_path="incident__",
        sorts={"item-due": ("Most overdue", lambda path: ("due_at", "id")), **INCIDENT_SORTS},
        default_sort="item-due",
        extra_columns=(
            Column("Action item", lambda row, now: row.title),
            Column("Owner", lambda row, now: row.owner),
            Column("Item due", lambda row, now: row.due_at),
            Column("Item time left", lambda row, now: left_until(row.due_at, now)),
        ),
        select_related=("owner", "incident", "incident__assignee", "incident__account"),
    ),
    Queue(
        "notifications",
        "Notifications failed",
        "Messages that could not be delivered; retry them in the admin.",
        _failed_notifications,
        incident_path="incident__",
        sorts={"failed": ("Newest", lambda path: ("-created_at", "-id")), **INCIDENT_SORTS},
        default_sort="failed",
        extra_columns=(
            Column("Message", lambda row, now: f"{row.get_channel_display()} to {row.recipient}"),
            Column("Error", lambda row, now: row.last_error[:160]),
        ),
        select_related=("incident", "incident__assignee", "incident__account"),
        visible_to=lambda user: user.has_perm("notifications.view_notification"),
        rows_without_incident=True,
    ),
)
BY_SLUG = {queue.slug: queue for queue in QUEUES}


def queues_for(user) -> list[Queue]:
    return [queue for queue in QUEUES if queue.visible_to(user)]


def queue_rows(queue: Queue, user, *, now: datetime, filters: dict) -> QuerySet:
    """The queue's rows `user` may see, filtered (not yet sorted or sliced)."""
    rows = queue.rows(user, now)
    path = queue.incident_path
    visible = visibility_q(user, path)
    if visible and queue.rows_without_incident:
        # Rows about no incident (e.g. a weekly report email) hide nothing.
        visible = visible | Q(incident__isnull=True)
    return rows.filter(visible).filter(incident_filter_q(filters, path))


def queue_counts(queues: list[Queue], user, *, now: datetime, filters: dict) -> dict[str, int]:
    """One COUNT per queue (each on its own partial index)."""
    return {
        queue.slug: queue_rows(queue, user, now=now, filters=filters).count() for queue in queues
    }


def sorted_rows(queue: Queue, rows: QuerySet, sort: str) -> QuerySet:
    _label, order = queue.sorts.get(sort) or queue.sorts[queue.default_sort]
    return rows.select_related(*queue.select_related).order_by(*order(queue.incident_path))
