"""Which non-time triggers an incident meets, and where they send it.
Pure: no Django import; the engine gathers the facts and acts on the hits.

Seeds: 001 severity_overrides; 000 impact-based, pattern-based and special
scenarios (security, compliance, customer-facing); 003 executive triggers and
repeats (3+ in 30 days). Counts, windows and routes come from the policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from escalations.rules.spec import (
    KEY_ACCOUNT_TIERS,
    MAXIMUM_CLOCKS,
    NEXT_LEVEL,
    TIME_AT_LEVEL_CLOCK,
    WorkflowSpec,
)


@dataclass(frozen=True)
class TriggerFacts:
    severity: str
    level: int
    is_production_outage: bool = False
    is_security: bool = False
    is_compliance: bool = False
    is_data_loss: bool = False
    is_legal_exposure: bool = False
    is_pr_crisis: bool = False
    is_customer_facing: bool = False
    users_affected: int | None = None
    revenue_impact: float | None = None
    account_tier: str | None = None
    root_cause_key: str = ""
    # Counted by the engine over the policy's windows, this incident included.
    same_root_cause: int = 0
    same_account: int = 0
    component_burst: int = 0


@dataclass(frozen=True)
class Hit:
    trigger: str  # Trigger value: severity, impact, repeat, burst, executive
    key: str  # once per incident and (trigger, key)
    target: int | None  # level to move to; None: notify only (or nowhere higher)
    reason: str
    notify_groups: tuple[str, ...] = ()
    limited_distribution: bool = False
    notification: str = ""  # severity override's method (pagerduty, slack_oncall...)


def resolve_route(policy: WorkflowSpec, route: int | None, level: int) -> int | None:
    """A route (level number or NEXT_LEVEL) as a level strictly above `level`, or None."""
    if route is None:
        return None
    if route == NEXT_LEVEL:
        above = policy.next_level(level)
        return above.number if above else None
    return route if route > level else None


def breach_target(policy: WorkflowSpec, level: int) -> int | None:
    """Where a breached clock (100 %) escalates: the policy's SLA-violation route
    when it leads higher; at or above the routed level, one rung up (None at the top)."""
    routed = resolve_route(policy, policy.triggers.route_for("sla_violation"), level)
    return routed if routed is not None else resolve_route(policy, NEXT_LEVEL, level)


def crossing_target(
    policy: WorkflowSpec, level: int, reading, instant=None, *, account_tier: str | None = None
) -> int | None:
    """Where a clock's escalating threshold sends an incident at `level`: a level
    deadline straight to its level (seed 002: "Level 3 within 1 hour"), a threshold that
    names a level there (seed 000: "50 % -> L1, 75 % -> L2, 100 % -> L3"), any other by
    the breach route. A breach (100 % or more) on a key account's incident goes at least
    where the key_account_sla_violation route says (seed 000 L4: "SLA violations for key
    accounts"). A target's maximum goes by the policy's maximum route, which need not move it
    at all. A level's time limit (seed 002's tiers: "If not resolved in 30 minutes") goes
    to the next level. `reading`: a ClockReading; `instant`: its ThresholdInstant (None:
    the breach's target, as the 75 % notice names it)."""
    if reading.clock in MAXIMUM_CLOCKS:
        to = policy.maximum.escalate_to
        return to if to is not None and to > level else None
    if reading.clock == TIME_AT_LEVEL_CLOCK:
        return resolve_route(policy, NEXT_LEVEL, level)
    if reading.to_level is not None:
        return reading.to_level if reading.to_level > level else None
    named = getattr(instant, "to_level", None)
    if named is not None and (named > level or instant.percent < 100):
        target = named if named > level else None
    else:
        # A breach (100 %) whose named level is reached already still escalates by the
        # breach route, as any breach does; below 100 % the ladder step just warns.
        target = breach_target(policy, level)
    if account_tier in KEY_ACCOUNT_TIERS and (instant is None or instant.percent >= 100):
        route = policy.triggers.route_for("key_account_sla_violation")
        key_account = resolve_route(policy, route, level)
        if key_account is not None and (target is None or key_account > target):
            target = key_account
    return target


def evaluate(policy: WorkflowSpec, facts: TriggerFacts) -> list[Hit]:
    """Every trigger the facts meet now (the engine skips those already fired)."""
    settings = policy.triggers
    groups = dict(settings.notify_groups)
    hits: list[Hit] = []

    def route(flag: str) -> int | None:
        return resolve_route(policy, settings.route_for(flag), facts.level)

    override = policy.override_for(facts.severity)
    if override is not None:
        hits.append(
            Hit(
                "severity",
                facts.severity,
                override.route_to if override.route_to > facts.level else None,
                f"{facts.severity} goes straight to L{override.route_to}"
                + (f" ({override.description})" if override.description else ""),
                notification=override.notification,
            )
        )
    if facts.is_production_outage and settings.route_for("production_outage") is not None:
        hits.append(
            Hit(
                "impact",
                "production_outage",
                route("production_outage"),
                "Production outage: immediate escalation",
            )
        )
    if facts.is_security:
        hits.append(
            Hit(
                "impact",
                "security",
                route("security"),
                "Security incident: immediate escalation, limited distribution",
                notify_groups=tuple(groups.get("security", ())),
                limited_distribution=True,
            )
        )
    if facts.is_security and facts.is_data_loss and groups.get("data_breach"):
        # Seed 000 Security Incident: "Coordinate with legal if data breach". Notify-only:
        # the security hit moves the incident.
        hits.append(
            Hit(
                "impact",
                "data_breach",
                None,
                "Data breach: security incident with data loss, Legal coordinates",
                notify_groups=tuple(groups.get("data_breach", ())),
                limited_distribution=True,
            )
        )
    if facts.is_data_loss and settings.route_for("data_loss") is not None:
        # Seed 001: "production outages, security incidents, and data loss go directly
        # to Tier 3 regardless of the normal flow".
        hits.append(
            Hit("impact", "data_loss", route("data_loss"), "Data loss: immediate escalation")
        )
    if facts.is_legal_exposure:
        # Seed 000 L4: "Legal/regulatory implications"; Legal hears (notify_groups).
        hits.append(
            Hit(
                "impact",
                "legal_exposure",
                route("legal_exposure"),
                "Legal exposure: legal or regulatory implications",
                notify_groups=tuple(groups.get("legal_exposure", ())),
            )
        )
    if facts.is_pr_crisis and settings.route_for("pr_crisis") is not None:
        # Seed 000 L4: "Public relations crisis"; seed 004 Sev 1: "Public-facing outage or
        # PR crisis".
        hits.append(Hit("impact", "pr_crisis", route("pr_crisis"), "Public relations crisis"))
    if facts.is_compliance:
        hits.append(
            Hit(
                "impact",
                "compliance",
                route("compliance"),
                "Compliance violation: governance assesses the impact",
                notify_groups=tuple(groups.get("compliance", ())),
            )
        )
    if facts.is_customer_facing:
        hits.append(
            Hit(
                "impact",
                "customer_facing",
                route("customer_facing"),
                "Customer-facing incident: product and customer success informed",
                notify_groups=tuple(groups.get("customer_facing", ())),
            )
        )
    if facts.users_affected is not None and facts.users_affected > settings.users_affected:
        hits.append(
            Hit(
                "impact",
                "users_affected",
                route("users_affected"),
                f"{facts.users_affected} users affected (more than {settings.users_affected})",
            )
        )
    window = f"{settings.repeat_window.days} days"
    if facts.root_cause_key and facts.same_root_cause >= settings.repeat_count:
        hits.append(
            Hit(
                "repeat",
                f"root_cause:{facts.root_cause_key}",
                resolve_route(policy, NEXT_LEVEL, facts.level),
                f"Repeat incident: {facts.same_root_cause} with root cause "
                f"'{facts.root_cause_key}' in {window}",
            )
        )
    if facts.same_account >= settings.repeat_count:
        hits.append(
            Hit(
                "repeat",
                "account",
                resolve_route(policy, NEXT_LEVEL, facts.level),
                f"Repeated issues: {facts.same_account} incidents for this account in {window}",
            )
        )
    if facts.severity in settings.burst_severities and (
        facts.component_burst >= settings.burst_count
    ):
        hours = int(settings.burst_window.total_seconds() // 3600)
        hits.append(
            Hit(
                "burst",
                "component",
                resolve_route(policy, NEXT_LEVEL, facts.level),
                f"{facts.component_burst} high-severity incidents in this component "
                f"within {hours}h",
            )
        )
    if facts.revenue_impact is not None and facts.revenue_impact > settings.revenue_impact:
        hits.append(
            executive_hit(
                policy,
                facts.level,
                "revenue",
                f"Revenue impact ${facts.revenue_impact:,.0f} (over ${settings.revenue_impact:,})",
            )
        )
    return hits


def executive_hit(policy: WorkflowSpec, level: int, key: str, reason: str) -> Hit:
    """Seed 003 executive escalation: low CSAT, enterprise asks for a manager, revenue."""
    return Hit(
        "executive", key, resolve_route(policy, policy.triggers.executive_route, level), reason
    )


def manager_request_hit(
    policy: WorkflowSpec, level: int, asked_before: int, reason: str
) -> Hit | None:
    """Seed 003 "Executive Escalation (Customer -> Team Lead -> Manager -> Director -> VP)":
    with a management chain, each request goes to the next rung (told, the incident stays
    with its tier); None once every rung has it. Without one, the executive route."""
    chain = policy.triggers.management_chain
    if not chain:
        return executive_hit(policy, level, "manager_request", reason)
    if asked_before >= len(chain):
        return None
    rung = chain[asked_before]
    return Hit(
        "executive",
        f"manager_request:{asked_before + 1}",
        None,
        f"{reason} (management chain: {rung})",
        notify_groups=(rung,),
    )


def combined_target(hits: list[Hit]) -> int | None:
    """Several triggers at once make one move, to the highest level any asks for."""
    targets = [hit.target for hit in hits if hit.target is not None]
    return max(targets) if targets else None
