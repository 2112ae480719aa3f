"""A policy as plain data: what the workflow YAML holds, what the database stores
in rows, what the clocks and the "what if" simulation read. Pure: no Django.

`WorkflowSpec` is the single shape shared by `escalations.policies.workflow_yaml`
(YAML <-> spec) and `escalations.policies.services` (spec <-> database rows), so a
load/export round trip compares two specs for equality.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from escalations.rules.durations import format_duration

SEVERITIES = ("P0", "P1", "P2", "P3")

# Clocks an incident carries. handoff_ack: the receiving level must acknowledge
# an escalation within its own first-response target (escalation engine).
CLOCKS = ("first_response", "resolution", "update", "handoff_ack")
# A severity's level deadline (LevelDeadline) is a clock too, with thresholds of its own.
DEADLINE_CLOCK = "level_deadline"
# A target's maximum (seed 002: "Target: 2 hours, Maximum: 4 hours") is a clock of its own,
# counted like its target's clock, whose one threshold runs the policy's maximum route
# once per incident: maximum clock -> the target clock it shadows.
MAXIMUM_CLOCKS = {"first_response_max": "first_response", "resolution_max": "resolution"}
# A level's own time limit (LevelSpec.escalate_after, seed 002's tiers: "Escalation: If not
# resolved in 30 minutes") is a clock too: it counts from each arrival at the level.
TIME_AT_LEVEL_CLOCK = "time_at_level"
# Shorter would move every arrival on before anyone could act on it.
MIN_ESCALATE_AFTER = timedelta(minutes=1)

# warn_lead: the Team Lead of the incident's current level (seed 004's missed status
# updates go to the owner first, then to the level's lead).
ACTIONS = ("warn_assignee", "pre_escalation_notice", "escalate", "warn_lead")

# Account tiers whose customers are key accounts (seed 000 L4: "SLA violations for key
# accounts"); incidents.models.AccountTier's values.
KEY_ACCOUNT_TIERS = ("enterprise",)

# Where clocks count from: the incident's opening (seed 000's ladder, seed 002's
# matrix) or the moment the current level took it (seed 001's tiers, each with
# its own first response and resolution target).
CLOCK_STARTS = ("incident", "level")

# In trigger routes: "one level above the current one" (0 is a real level, L0).
NEXT_LEVEL = -1

NOTIFICATION_METHODS = ("pagerduty", "slack_oncall", "slack_channel", "email", "webhook")

ROUND_THE_CLOCK = "24/7"
ROUND_THE_CLOCK_SPEC = MappingProxyType({"timezone": "UTC", "hours": ROUND_THE_CLOCK})

# Statuses whose time does not count on the clocks unless a policy says otherwise.
DEFAULT_PAUSE_STATUSES = ("waiting_on_customer", "waiting_on_vendor")

# Every structured handoff-note field a level may require (seeds 000, 001, 002).
HANDOFF_FIELDS: dict[str, str] = {
    # engineering L0 -> L1 (seed 000)
    "investigation_summary": "Investigation summary",
    "proposed_next_steps": "Proposed next steps",
    "blocking_issues": "Blocking issues",
    # L1 -> L2
    "context": "Context",
    "resource_requirements": "Resource requirements",
    "business_impact": "Business impact",
    "recommendation": "Recommendation",
    "decision_sought": "Decision sought",
    # L2 -> L3
    "situation": "Situation",
    "options": "Options (with pros and cons)",
    "stakeholder_impact": "Stakeholder impact",
    "technical_assessment": "Technical assessment",
    "governance_implications": "Governance implications",
    # support tiers (seed 001 escalation note)
    "customer_context": "Customer context",
    "symptoms": "Symptoms",
    "customer_impact": "Customer impact",
    "steps_taken": "Steps taken",
    "suggested_next_step": "Suggested next step",
    # seed 002 handoff information
    "current_status": "Current status",
    "logs_and_evidence": "Logs and evidence",
    "security_assessment": "Security assessment",
    "financial_impact": "Financial impact",
    "timeline": "Timeline",
}
# Level contacts (seed 002's directory), in this order everywhere.
CONTACT_KEYS = ("email", "phone", "chat", "escalation")


def _contact_order(item: tuple[str, str]) -> int:
    return CONTACT_KEYS.index(item[0]) if item[0] in CONTACT_KEYS else len(CONTACT_KEYS)


SUPPORT_HANDOFF = (
    "customer_context",
    "symptoms",
    "customer_impact",
    "business_impact",
    "steps_taken",
    "suggested_next_step",
)
# What a level asks for when its workflow does not say (seed 001's note).
DEFAULT_HANDOFF_FIELDS = SUPPORT_HANDOFF


@dataclass(frozen=True)
class TargetSpec:
    """SLA targets; None means "no such clock". Counted in `calendar` (a name;
    None inherits: from the level's SLA, then the workflow's default calendar).
    A first-response or resolution target may have a maximum (seed 002's
    "Maximum: 4 hours"): a later deadline on the same clock, whose breach runs the
    policy's maximum route once."""

    first_response: timedelta | None = None
    resolution: timedelta | None = None
    update_interval: timedelta | None = None
    calendar: str | None = None
    first_response_max: timedelta | None = None
    resolution_max: timedelta | None = None

    def merged_over(self, base: TargetSpec | None) -> TargetSpec:
        """These targets, falling back field by field to `base`; a maximum goes with its
        target (a target given here does not take the maximum `base` set for its own)."""
        if base is None:
            return self
        return TargetSpec(
            first_response=self.first_response or base.first_response,
            resolution=self.resolution or base.resolution,
            update_interval=self.update_interval or base.update_interval,
            calendar=self.calendar or base.calendar,
            first_response_max=self.first_response_max
            or (None if self.first_response else base.first_response_max),
            resolution_max=self.resolution_max
            or (None if self.resolution else base.resolution_max),
        )

    def for_clock(self, clock: str) -> timedelta | None:
        return {
            "first_response": self.first_response,
            "resolution": self.resolution,
            "update": self.update_interval,
            "handoff_ack": self.first_response,
            "first_response_max": self.first_response_max,
            "resolution_max": self.resolution_max,
        }[clock]

    def maximum_problems(self) -> list[str]:
        """A maximum no later than its own target is a mistake (when both are given)."""
        problems = []
        for maximum_clock, clock in MAXIMUM_CLOCKS.items():
            target, maximum = self.for_clock(clock), self.for_clock(maximum_clock)
            if target is not None and maximum is not None and maximum <= target:
                problems.append(f"{maximum_clock} must be longer than {clock}")
        return problems


@dataclass(frozen=True)
class LevelSpec:
    number: int
    name: str
    team: str = ""
    description: str = ""
    capabilities: tuple[str, ...] = ()
    escalation_criteria: tuple[str, ...] = ()
    # Seed 001 "define de-escalation criteria": when an issue returns to a lower tier.
    deescalation_criteria: tuple[str, ...] = ()
    handoff_fields: tuple[str, ...] = DEFAULT_HANDOFF_FIELDS
    # email, phone, chat, escalation (seed 002 contacts directory)
    contacts: tuple[tuple[str, str], ...] = ()
    sla: TargetSpec | None = None  # the level's targets for every severity
    # An on-call schedule's name: the level's notices go to whoever is on call (and the
    # team channel), and an unacknowledged handoff pages the next person, then the
    # level's escalation contact, every `page_after` (None: the acknowledgement target).
    schedule: str = ""
    page_after: timedelta | None = None
    # Seed 002's tiers ("Escalation: If not resolved in 30 minutes / 2 hours / 8 hours"):
    # an incident still unresolved this long after it arrived at the level goes one level
    # up, once per arrival (None: no such limit). Counted in the calendar of the
    # incident's targets at the level, paused time left out.
    escalate_after: timedelta | None = None

    def __post_init__(self) -> None:
        # One order, whatever the source (YAML, or a jsonb column that sorts keys).
        object.__setattr__(self, "contacts", tuple(sorted(self.contacts, key=_contact_order)))

    @property
    def label(self) -> str:
        return f"L{self.number}"

    @property
    def title(self) -> str:
        return f"L{self.number} · {self.name}"


@dataclass(frozen=True)
class ThresholdSpec:
    percent: int  # of the clock's target: 50, 75, 100...
    action: str
    # An unacknowledged handoff is measured like a first response (seed 002: the
    # receiving level's response target applies).
    clocks: tuple[str, ...] = ("first_response", "resolution", "handoff_ack")
    # An escalate threshold may name its level (seed 000's ladder: "50 % -> L1, 75 % -> L2,
    # 100 % -> L3"); None: where a breach goes (the sla_violation route, else one up).
    to_level: int | None = None

    @property
    def fraction(self) -> float:
        return self.percent / 100


DEFAULT_THRESHOLDS = (
    ThresholdSpec(50, "warn_assignee"),
    ThresholdSpec(75, "pre_escalation_notice"),
    ThresholdSpec(100, "escalate"),
)


@dataclass(frozen=True)
class OverrideSpec:
    """Seed 001 severity_overrides: this severity goes straight to `route_to`."""

    severity: str
    route_to: int
    notification: str = "email"
    description: str = ""


@dataclass(frozen=True)
class TriggerSettings:
    """Knobs of the escalation engine's non-time triggers (seeds 000 and 003)."""

    repeat_count: int = 3  # same root cause or account, this many...
    repeat_window: timedelta = timedelta(days=30)  # ...within this window
    burst_count: int = 3  # high-severity incidents in one component...
    burst_window: timedelta = timedelta(hours=24)  # ...within this window
    burst_severities: tuple[str, ...] = ("P0", "P1")
    users_affected: int = 50  # "multiple users affected" above this
    revenue_impact: int = 10_000  # executive trigger, dollars
    csat_below: int = 3  # executive trigger
    ping_pong_limit: int = 3  # bounces before manager review
    # flag -> level number, or NEXT_LEVEL for "one level up"
    impact_routes: tuple[tuple[str, int], ...] = (
        ("production_outage", NEXT_LEVEL),
        ("sla_violation", NEXT_LEVEL),
        ("security", NEXT_LEVEL),
        ("data_loss", NEXT_LEVEL),
        ("compliance", NEXT_LEVEL),
        ("users_affected", NEXT_LEVEL),
        # Seed 000 L4: "Legal/regulatory implications", "Public relations crisis", "Major
        # customer impact (e.g., SLA violations for key accounts)": a breach on a key
        # account's incident goes here when that is higher than the breach's own route.
        ("legal_exposure", NEXT_LEVEL),
        ("pr_crisis", NEXT_LEVEL),
        ("key_account_sla_violation", NEXT_LEVEL),
    )
    # special scenarios (seed 000): who else hears about it, by role/group name
    notify_groups: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("security", ("Engineering Manager", "Security", "Governance Liaison")),
        # Seed 000 Compliance Violation: "Legal may be involved".
        ("compliance", ("Governance Liaison", "Engineering Manager", "Legal")),
        ("customer_facing", ("Engineering Manager", "Product", "Customer Success")),
        ("legal_exposure", ("Legal",)),
        # Seed 000 Security Incident: "Coordinate with legal if data breach" (a security
        # incident with data loss; its limited distribution admits Legal).
        ("data_breach", ("Legal",)),
    )
    executive_route: int = NEXT_LEVEL  # CSAT, manager request, revenue
    # Seed 003 "Executive Escalation (Customer -> Team Lead -> Manager -> Director -> VP)":
    # group names in order. When set, a customer's manager request goes to the next
    # rung up (one rung per request) instead of moving the incident along the tiers.
    management_chain: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Maps compare equal whatever order they were written or stored in.
        object.__setattr__(self, "impact_routes", tuple(sorted(self.impact_routes)))
        object.__setattr__(self, "notify_groups", tuple(sorted(self.notify_groups)))

    def route_for(self, flag: str) -> int | None:
        return dict(self.impact_routes).get(flag)


# Incident facts that can make a post-incident review required (reviews.required_when).
REVIEW_FLAGS = (
    "production_outage",
    "security",
    "compliance",
    "customer_facing",
    "war_room",
    "vendor",
)

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class ReviewSettings:
    """When a post-incident review is required, and how reviews and action items
    are chased (seed 004: PIRs within 48 hours of resolution; seed 001: L3 issues
    get a post-escalation review)."""

    required_severities: tuple[str, ...] = ("P0",)
    # Escalated to this level or above at any time; None: level never requires one.
    required_from_level: int | None = 3
    required_when: tuple[str, ...] = ()  # REVIEW_FLAGS
    due_after: timedelta = 48 * HOUR  # after resolution
    remind_before: timedelta = 12 * HOUR  # the review's owner hears this long before due
    action_item_remind_before: timedelta = 48 * HOUR  # the item's owner, before its due date

    def __post_init__(self) -> None:
        object.__setattr__(self, "required_severities", tuple(sorted(self.required_severities)))
        object.__setattr__(self, "required_when", tuple(sorted(self.required_when)))


# Seed 004: a Sev 1 war room updates every 30-60 minutes.
DEFAULT_WAR_ROOM_CADENCE = (
    ("P0", timedelta(minutes=30)),
    ("P1", HOUR),
    ("P2", HOUR),
    ("P3", HOUR),
)


@dataclass(frozen=True)
class WarRoomSettings:
    """The war room's status-update cadence by severity (seed 004)."""

    update_every: tuple[tuple[str, timedelta], ...] = DEFAULT_WAR_ROOM_CADENCE

    def __post_init__(self) -> None:
        object.__setattr__(self, "update_every", tuple(sorted(self.update_every)))

    def cadence(self, severity: str) -> timedelta:
        """The severity's cadence; a severity the policy leaves out gets the slowest given."""
        table = dict(self.update_every)
        if severity in table:
            return table[severity]
        return max(table.values(), default=HOUR)


@dataclass(frozen=True)
class MatchSpec:
    """Which new incidents a policy takes. Each non-empty list must match; a
    policy with no conditions at all is only ever taken as the default."""

    channels: tuple[str, ...] = ()
    account_tiers: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    priority: int = 100

    def __post_init__(self) -> None:
        for name in ("channels", "account_tiers", "components"):
            object.__setattr__(self, name, tuple(sorted(getattr(self, name))))

    @property
    def has_conditions(self) -> bool:
        return bool(self.channels or self.account_tiers or self.components)

    def matches(self, *, channel: str | None, account_tier: str | None, component: str | None):
        return self.has_conditions and (
            (not self.channels or channel in self.channels)
            and (not self.account_tiers or account_tier in self.account_tiers)
            and (not self.components or component in self.components)
        )


@dataclass(frozen=True)
class LevelDeadline:
    """Seed 002's "P1: Escalation: Level 3 within 1 hour": an incident of this severity
    must be at `level` (or above) within `within` of its opening, counted in `calendar`
    (None: the policy's default calendar); when due it goes straight there."""

    severity: str
    level: int
    within: timedelta
    calendar: str | None = None


# A notice rule for every severity (seed 002's "Team Chat: Immediate notification to
# support team" at each opening).
ALL_SEVERITIES = "all"
NOTICE_CHANNELS = ("email", "slack", "pagerduty", "webhook")


@dataclass(frozen=True)
class NoticeRule:
    """Who is told when an incident opens with `severity` or is raised to it ("all":
    every incident, at its opening): the levels' own recipients and the role groups, on
    `channels` (none: the severity's usual ones), at the latest `within` (zero: at once,
    whatever anyone's working hours). Seed 004's "Executive notification: Immediate",
    "Manager notification: Within 1 hour"."""

    severity: str
    levels: tuple[int, ...] = ()
    groups: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    within: timedelta = timedelta(0)
    reason: str = ""

    @property
    def key(self) -> str:
        """What makes the rule once per incident: a digest of what it says (severity,
        levels, groups, channels, `within`, reason; order and spacing aside), not of its
        place in the list, so a later version that inserts, drops or reorders rules
        neither resends one nor silences another. A changed rule is a new rule."""
        return notice_rule_key(
            severity=self.severity,
            levels=self.levels,
            groups=self.groups,
            channels=self.channels,
            within_seconds=int(self.within.total_seconds()),
            reason=self.reason,
        )


def notice_rule_key(*, severity, levels, groups, channels, within_seconds, reason) -> str:
    """`NoticeRule.key` from its stored fields (the policy's `notices` JSON holds them
    so). Stable across releases: outbox rows already sent are de-duplicated by it."""
    normal = {
        "severity": severity,
        "levels": sorted({int(n) for n in levels}),
        "groups": sorted(set(groups)),
        "channels": sorted(set(channels)),
        "within": int(within_seconds),
        "reason": " ".join(str(reason).split()),
    }
    text = json.dumps(normal, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class MaximumRoute:
    """What happens, once per incident, when a target's maximum passes (seed 002's
    "Maximum" resolution times): these groups are told (none given: the policy's top
    level, its management), and with `escalate_to` the incident moves there if it is
    below it."""

    notify: tuple[str, ...] = ()
    escalate_to: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "notify", tuple(sorted(self.notify)))


@dataclass(frozen=True)
class RegulatoryReportSettings:
    """Seed 002 Public Communication: "Regulatory Reporting: Report to regulatory bodies if
    required". When someone marks an incident as needing a report, it is due `due_after`
    later (round the clock: regulators count calendar hours); `notify` hears of the mark,
    a reminder `remind_before` the due time, and an overdue notice, each once. The seed
    names no time: 72 hours is the GDPR's (Art. 33) for a personal data breach."""

    due_after: timedelta = timedelta(hours=72)
    remind_before: timedelta = timedelta(hours=24)
    notify: tuple[str, ...] = ("Legal",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "notify", tuple(sorted(self.notify)))


def regulatory_report_problems(settings: RegulatoryReportSettings) -> list[str]:
    """What makes a `regulatory_report:` setting unusable: one check for the workflow YAML
    reader and for saving and activating a policy (seed 002 "Regulatory Reporting")."""
    problems = []
    if settings.due_after <= timedelta(0):
        problems.append("regulatory_report.due_after must be longer than zero.")
    if settings.remind_before <= timedelta(0):
        problems.append("regulatory_report.remind_before must be longer than zero.")
    elif settings.remind_before >= settings.due_after:
        problems.append(
            "regulatory_report.remind_before must be shorter than due_after: the 'due soon' "
            "reminder would come with or before the mark itself."
        )
    if not settings.notify:
        problems.append(
            "regulatory_report.notify names no group: a report marked as required would tell "
            "nobody (name Legal, say)."
        )
    return problems


@dataclass(frozen=True)
class SeverityDefinition:
    """What a severity means under a policy, shown where a severity is chosen: seed 002's
    definition and examples, seed 004's criteria and example."""

    definition: str = ""
    criteria: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkflowSpec:
    levels: tuple[LevelSpec, ...]
    description: str = ""
    clock_start: str = "incident"
    calendars: tuple[tuple[str, Any], ...] = ()  # (name, calendar spec dict), sorted by name
    default_calendar: str = ROUND_THE_CLOCK  # for tier SLAs that do not name one
    matrix: tuple[tuple[tuple[str, int], TargetSpec], ...] = ()  # ((severity, level), targets)
    thresholds: tuple[ThresholdSpec, ...] = DEFAULT_THRESHOLDS
    overrides: tuple[OverrideSpec, ...] = ()
    pause_statuses: tuple[str, ...] = DEFAULT_PAUSE_STATUSES
    triggers: TriggerSettings = field(default_factory=TriggerSettings)
    match: MatchSpec = field(default_factory=MatchSpec)
    reviews: ReviewSettings = field(default_factory=ReviewSettings)
    war_room: WarRoomSettings = field(default_factory=WarRoomSettings)
    # (severity, definition), in severity order
    severities: tuple[tuple[str, SeverityDefinition], ...] = ()
    # at most one per severity, in severity order
    deadlines: tuple[LevelDeadline, ...] = ()
    # by severity (P0..P3, then "all"), each severity's in the order written
    notices: tuple[NoticeRule, ...] = ()
    maximum: MaximumRoute = field(default_factory=MaximumRoute)
    regulatory_report: RegulatoryReportSettings = field(default_factory=RegulatoryReportSettings)

    def without_time_limits(self, numbers: Iterable[int] | None = None) -> WorkflowSpec:
        """This spec with no level time limit (escalate_after) on the levels `numbers`
        (None: on any level)."""
        chosen = None if numbers is None else set(numbers)
        levels = tuple(
            replace(level, escalate_after=None)
            if chosen is None or level.number in chosen
            else level
            for level in self.levels
        )
        return replace(self, levels=levels)

    def level(self, number: int) -> LevelSpec:
        for level in self.levels:
            if level.number == number:
                return level
        raise KeyError(f"no level {number}")

    @property
    def first_level(self) -> LevelSpec:
        return min(self.levels, key=lambda level: level.number)

    def next_level(self, number: int) -> LevelSpec | None:
        higher = [level for level in self.levels if level.number > number]
        return min(higher, key=lambda level: level.number) if higher else None

    def calendar_spec(self, name: str) -> Any:
        if name == ROUND_THE_CLOCK:
            return dict(ROUND_THE_CLOCK_SPEC)
        return dict(self.calendars)[name]

    def targets(self, severity: str, level: int) -> TargetSpec:
        """Matrix entry for (severity, level) over the level's own SLA."""
        base = self.level(level).sla
        specific = dict(self.matrix).get((severity, level))
        merged = (base or TargetSpec()) if specific is None else specific.merged_over(base)
        return TargetSpec(
            first_response=merged.first_response,
            resolution=merged.resolution,
            update_interval=merged.update_interval,
            calendar=merged.calendar or self.default_calendar,
            first_response_max=merged.first_response_max,
            resolution_max=merged.resolution_max,
        )

    def maximum_problems(self) -> list[str]:
        """A maximum no later than its target, as the clocks will count them: each level's
        own targets, and each matrix cell merged over its level's, where a cell that gives
        only a maximum takes the level's target (a 2 h `resolution_max` under a level
        whose resolution is 4 h). Cells naming a level the policy lacks are left to the
        check that says so."""
        problems = [
            f"{level.label}: {problem}."
            for level in self.levels
            if level.sla is not None
            for problem in level.sla.maximum_problems()
        ]
        numbers = {level.number for level in self.levels}
        for (severity, number), cell in self.matrix:
            if number not in numbers:
                continue
            merged = self.targets(severity, number)
            for maximum_clock, clock in MAXIMUM_CLOCKS.items():
                target, maximum = merged.for_clock(clock), merged.for_clock(maximum_clock)
                if target is None or maximum is None or maximum > target:
                    continue
                target_text = format_duration(target)
                if cell.for_clock(clock) is None:
                    target_text += f", the {clock} L{number} sets for every severity"
                problems.append(
                    f"{severity} at L{number}: {maximum_clock} ({format_duration(maximum)}) "
                    f"must be longer than {clock} ({target_text})."
                )
        return problems

    def deadline_for(self, severity: str) -> LevelDeadline | None:
        return next((d for d in self.deadlines if d.severity == severity), None)

    def notices_for(self, severity: str, *, opening: bool) -> list[NoticeRule]:
        """The notice rules for `severity` (with those for every severity at an opening);
        each is once per incident by its `key`."""
        wanted = {severity, ALL_SEVERITIES} if opening else {severity}
        return [rule for rule in self.notices if rule.severity in wanted]

    def override_for(self, severity: str) -> OverrideSpec | None:
        for override in self.overrides:
            if override.severity == severity:
                return override
        return None


def escalate_after_problems(spec: WorkflowSpec) -> list[tuple[int, str]]:
    """(level number, problem) for each level time limit (escalate_after) that cannot
    work: on the top level there is no level above to go to, and under a minute every
    arrival would move on at once."""
    problems = []
    top = max((level.number for level in spec.levels), default=None)
    for level in spec.levels:
        limit = level.escalate_after
        if limit is None:
            continue
        if level.number == top:
            problems.append(
                (
                    level.number,
                    f"{level.label} {level.name} is the top level: escalate_after needs a "
                    "level above it to escalate to",
                )
            )
        if limit < MIN_ESCALATE_AFTER:
            problems.append(
                (
                    level.number,
                    f"{level.label} {level.name}: escalate_after must be at least 1m, or "
                    "every arrival would escalate at once",
                )
            )
    return problems
