"""Policy simulation, the reading side: histories from the database, people for
recipients, and what really happened, next to the pure replay
(escalations.rules.simulation). Read-only: it writes nothing and queues nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from escalations.analytics.filters import incident_filter_q
from escalations.models import Escalation, Policy, Trigger
from escalations.notices import compose as notices
from escalations.policies import reach
from escalations.policies.services import policy_spec
from escalations.rules.simulation import REPLAYED_TRIGGERS, HistoryEvent, IncidentHistory, replay
from escalations.rules.spec import WorkflowSpec
from escalations.rules.triggers import TriggerFacts
from incidents.models import EventKind, Incident, IncidentEvent
from incidents.selectors import visibility_q
from notifications.models import Notification

STATUS_KINDS = (EventKind.ACKNOWLEDGED, EventKind.STATUS_CHANGED, EventKind.REOPENED)
HISTORY_KINDS = (
    EventKind.CREATED,
    *STATUS_KINDS,
    EventKind.SEVERITY_CHANGED,
    EventKind.PUBLIC_UPDATE,
    EventKind.HANDOFF_ACKNOWLEDGED,
)
CHANNEL_NAMES = {
    "slack": "Slack",
    "slack_oncall": "Slack (on call)",
    "pagerduty": "PagerDuty",
    "webhook": "Webhook",
}


@dataclass
class SimulationResult:
    policy: Policy
    in_range: int
    replayed: int
    levels: list[tuple[str, int, int]] = field(default_factory=list)
    breaches: list[tuple[str, int, int]] = field(default_factory=list)
    people: list[tuple[str, int, int]] = field(default_factory=list)
    differences: list[dict] = field(default_factory=list)
    actual_escalations: int = 0
    simulated_escalations: int = 0
    actual_notifications: int = 0
    simulated_notifications: int = 0


def _who(channel: str, address: str, name: str = "") -> tuple[tuple[str, str], str]:
    key = (channel, address.lower())
    if channel == "email":
        return key, f"{name} <{address}>" if name and name != address else address
    return key, CHANNEL_NAMES.get(channel, channel)


def _histories(rows, events, moves) -> list[IncidentHistory]:
    by_incident = defaultdict(list)
    for incident_id, kind, at, data in events:
        if kind == EventKind.CREATED:
            continue
        if kind in STATUS_KINDS:
            by_incident[incident_id].append(HistoryEvent(at, "status", data.get("to", "")))
        elif kind == EventKind.SEVERITY_CHANGED:
            by_incident[incident_id].append(HistoryEvent(at, "severity", data.get("to", "")))
        elif kind == EventKind.PUBLIC_UPDATE:
            by_incident[incident_id].append(HistoryEvent(at, "public_update"))
        elif kind == EventKind.HANDOFF_ACKNOWLEDGED:
            by_incident[incident_id].append(HistoryEvent(at, "handoff_ack"))
    for incident_id, _from_level, to_level, trigger, at in moves:
        if trigger == Trigger.DE_ESCALATION:
            by_incident[incident_id].append(HistoryEvent(at, "de_escalate", to_level))
        elif trigger in REPLAYED_TRIGGERS:
            by_incident[incident_id].append(HistoryEvent(at, "escalate", to_level))
    first_severity = {
        incident_id: data.get("severity")
        for incident_id, kind, _at, data in events
        if kind == EventKind.CREATED
    }
    histories = []
    for row in rows:
        flags = TriggerFacts(
            severity=row["severity"],
            level=0,
            is_production_outage=row["is_production_outage"],
            is_security=row["is_security"],
            is_compliance=row["is_compliance"],
            is_data_loss=row["is_data_loss"],
            is_legal_exposure=row["is_legal_exposure"],
            is_pr_crisis=row["is_pr_crisis"],
            is_customer_facing=row["is_customer_facing"],
            users_affected=row["users_affected"],
            revenue_impact=float(row["revenue_impact"]) if row["revenue_impact"] else None,
            account_tier=row["account__tier"],
        )
        histories.append(
            IncidentHistory(
                opened_at=row["opened_at"],
                severity=first_severity.get(row["id"]) or row["severity"],
                events=tuple(sorted(by_incident[row["id"]], key=lambda e: e.at)),
                flags=flags,
                key=row["id"],
            )
        )
    return histories


class _Recipients:
    """Abstract notice recipients -> people and channels, each looked up once."""

    def __init__(self, spec: WorkflowSpec, assignees: dict):
        self.spec = spec
        self.assignees = assignees
        self.cache: dict = {}

    def level(self, number: int, severity: str, *, email_only: bool = False):
        key = ("level", number, severity, email_only)
        if key not in self.cache:
            channels = ["email"] if email_only else notices.channels_for(severity)
            try:
                level = self.spec.level(number)
            except KeyError:
                self.cache[key] = []
            else:
                self.cache[key] = reach.level_recipients(level, channels=channels)
        return self.cache[key]

    def leads(self, number: int):
        key = ("leads", number)
        if key not in self.cache:
            try:
                team = self.spec.level(number).team
            except KeyError:
                self.cache[key] = []
            else:
                self.cache[key] = [reach.person(user) for user in reach.team_leads(team)]
        return self.cache[key]

    def groups(self, names: tuple[str, ...]):
        key = ("groups", names)
        if key not in self.cache:
            self.cache[key] = reach.group_recipients(names)
        return self.cache[key]

    def of(self, notice, assignee_id):
        if notice.assignee:
            user = self.assignees.get(assignee_id)
            found = reach.user_recipient(user)
            return found or self.level(notice.level, notice.severity, email_only=True)
        if notice.lead:
            return reach.lead_warning_recipients(
                self.leads(notice.level),
                assignee_id=assignee_id,
                level_email=lambda: self.level(notice.level, notice.severity, email_only=True),
            )
        found = []
        if notice.level is not None:
            email_only = notice.kind in ("pre_escalation",)
            found += self.level(notice.level, notice.severity, email_only=email_only)
        if notice.groups:
            found += self.groups(notice.groups)
        return found


def run_simulation(
    *,
    user,
    policy: Policy,
    start: datetime,
    end: datetime,
    now: datetime,
    filters: dict,
    same_policy_name: bool = True,
) -> SimulationResult:
    """Replay the incidents opened in [start, end) that `user` may see against `policy`."""
    spec = policy_spec(policy)
    incidents = Incident.objects.filter(
        visibility_q(user), incident_filter_q(filters), opened_at__gte=start, opened_at__lt=end
    )
    if same_policy_name:
        incidents = incidents.filter(policy__name=policy.name)
    in_range = incidents.count()
    limit = settings.SIMULATION_MAX_INCIDENTS
    rows = list(
        incidents.order_by("-opened_at", "-id").values(
            "id",
            "reference",
            "severity",
            "opened_at",
            "is_production_outage",
            "is_security",
            "is_compliance",
            "is_data_loss",
            "is_legal_exposure",
            "is_pr_crisis",
            "is_customer_facing",
            "users_affected",
            "revenue_impact",
            "account__tier",
            "assignee_id",
            "peak_level",
            "first_response_breached",
            "resolution_breached",
            "first_response_due_at",
            "resolution_due_at",
        )[:limit]
    )
    ids = [row["id"] for row in rows]
    events = list(
        IncidentEvent.objects.filter(incident_id__in=ids, kind__in=HISTORY_KINDS)
        .order_by("at", "id")
        .values_list("incident_id", "kind", "at", "data")
    )
    moves = list(
        Escalation.objects.filter(incident_id__in=ids)
        .order_by("at", "id")
        .values_list("incident_id", "from_level", "to_level", "trigger", "at")
    )
    assignees = {
        u.pk: u
        for u in get_user_model().objects.filter(
            pk__in={row["assignee_id"] for row in rows if row["assignee_id"]}
        )
    }
    outcomes = {
        history.key: replay(history, spec, until=now) for history in _histories(rows, events, moves)
    }

    result = SimulationResult(policy=policy, in_range=in_range, replayed=len(rows))
    # Escalations per level: what happened (SQL) and what would have.
    actual_levels = dict(
        Escalation.objects.filter(incident_id__in=ids)
        .exclude(trigger=Trigger.DE_ESCALATION)
        .values_list("to_level")
        .annotate(n=Count("id"))
        .values_list("to_level", "n")
    )
    simulated_levels = Counter(m.to_level for o in outcomes.values() for m in o.escalations)
    for number in sorted(set(actual_levels) | set(simulated_levels)):
        result.levels.append((f"L{number}", actual_levels.get(number, 0), simulated_levels[number]))
    result.actual_escalations = sum(actual_levels.values())
    result.simulated_escalations = sum(simulated_levels.values())

    # Breaches: the stored flags (overdue running clocks count) against the replay.
    actual = Incident.objects.filter(pk__in=ids).aggregate(
        first_response=Count(
            "id",
            filter=Q(first_response_breached=True)
            | Q(first_response_breached__isnull=True, first_response_due_at__lte=now),
        ),
        resolution=Count(
            "id",
            filter=Q(resolution_breached=True)
            | Q(resolution_breached__isnull=True, resolution_due_at__lte=now),
        ),
    )
    for clock, label in (("first_response", "First response"), ("resolution", "Resolution")):
        simulated = sum(1 for o in outcomes.values() if o.breached.get(clock))
        result.breaches.append((label, actual[clock], simulated))

    # Notifications per person.
    names: dict = {}
    actual_people = Counter()
    for channel, recipient, count in (
        Notification.objects.filter(incident_id__in=ids)
        .values_list("channel", "recipient")
        .annotate(n=Count("id"))
        .values_list("channel", "recipient", "n")
    ):
        key, label = _who(channel, recipient)
        names.setdefault(key, label)
        actual_people[key] += count
    recipients = _Recipients(spec, assignees)
    simulated_people = Counter()
    assignee_of = {row["id"]: row["assignee_id"] for row in rows}
    for key_, outcome in outcomes.items():
        for notice in outcome.notices:
            for recipient in recipients.of(notice, assignee_of[key_]):
                key, label = _who(recipient.channel, recipient.address, recipient.name)
                names[key] = label if recipient.name else names.get(key, label)
                simulated_people[key] += 1
    people = set(actual_people) | set(simulated_people)
    result.people = sorted(
        ((names[k], actual_people[k], simulated_people[k]) for k in people),
        key=lambda row: (-max(row[1], row[2]), row[0]),
    )
    result.actual_notifications = sum(actual_people.values())
    result.simulated_notifications = sum(simulated_people.values())

    # Incidents the policy would have handled differently.
    actual_moves = Counter(incident_id for incident_id, f, t, _trigger, _at in moves if t > f)
    for row in rows:
        outcome = outcomes[row["id"]]
        simulated_peak = outcome.peak_level
        actual_breach = [
            clock
            for clock in ("first_response", "resolution")
            if row[f"{clock}_breached"]
            or (row[f"{clock}_breached"] is None and (row[f"{clock}_due_at"] or now) < now)
        ]
        simulated_breach = [c for c, flag in outcome.breached.items() if flag]
        if (
            simulated_peak != row["peak_level"]
            or actual_breach != simulated_breach
            or actual_moves[row["id"]] != len(outcome.escalations)
        ):
            result.differences.append(
                {
                    "reference": row["reference"],
                    "severity": row["severity"],
                    "actual_peak": row["peak_level"],
                    "simulated_peak": simulated_peak,
                    "actual_escalations": actual_moves[row["id"]],
                    "simulated_escalations": len(outcome.escalations),
                    "actual_breaches": ", ".join(actual_breach) or "none",
                    "simulated_breaches": ", ".join(simulated_breach) or "none",
                }
            )
    return result
