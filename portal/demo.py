"""Realistic, deterministic demo data, written through the services.

The same seed gives the same accounts, people and incident histories (only
the random reference suffixes differ). Incidents spread over the last 60
days; older ones are mostly resolved, recent ones still being worked.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from escalations.engine import paging
from escalations.engine import services as engine
from escalations.engine.services import handoff_acknowledge, pending_handoff, sla_sweep
from escalations.followup import reviews, vendors, war_room
from escalations.followup.reminders import reminder_sweep
from escalations.models import OnCallSchedule, Policy, PolicyStatus, PostIncidentReview
from escalations.policies.services import policy_create_from_spec, policy_spec
from escalations.policies.workflow_yaml import load_workflow_file
from escalations.rules.handoff import CHECKLIST
from escalations.schedules import services as schedules
from escalations.sla.services import incident_clocks
from incidents import services as incident_services
from incidents.models import Account, Category, Channel, Component, Incident
from incidents.permissions import Refusal, allowed
from incidents.rules import Severity, Status
from notifications.models import Notification, ReportSubscription
from notifications.models import Status as NotificationStatus
from portal import roles

# name, tier, health, ARR, contact, email, time zone
ACCOUNTS = [
    (
        "Brightline Bakery",
        "standard",
        88,
        6_000,
        "Mia Chen",
        "mia@brightline.example",
        "America/Chicago",
    ),
    (
        "Northwind Traders",
        "standard",
        74,
        12_500,
        "Tom Baker",
        "tom@northwind.example",
        "Europe/London",
    ),
    (
        "Pinecrest Clinic",
        "standard",
        91,
        9_800,
        "Ana Ruiz",
        "ana@pinecrest.example",
        "America/Denver",
    ),
    ("Helios Analytics", "premium", 67, 48_000, "Raj Patel", "raj@helios.example", "Asia/Kolkata"),
    (
        "Orbital Freight",
        "premium",
        80,
        56_000,
        "Lena Vogel",
        "lena@orbital.example",
        "Europe/Berlin",
    ),
    (
        "Lumen Learning",
        "premium",
        59,
        39_000,
        "Grace Kim",
        "grace@lumen.example",
        "America/New_York",
    ),
    ("Acme Corp", "enterprise", 72, 120_000, "Jane Doe", "jane@acme.example", "America/New_York"),
    (
        "Globex Industries",
        "enterprise",
        63,
        340_000,
        "Hank Scorpio",
        "hank@globex.example",
        "America/Los_Angeles",
    ),
    (
        "Initech Bank",
        "enterprise",
        85,
        510_000,
        "Bill Lumbergh",
        "bill@initech.example",
        "Europe/Paris",
    ),
]

TEAMS = [
    "support-generalists",
    "support-specialists",
    "engineering-oncall",
    "Auth team",
    "Payments team",
    "SRE",
]

COMPONENTS = [
    (
        "Payments API",
        "Payments team",
        [
            "Card payments failing with gateway timeout",
            "Refunds stuck in pending",
            "Duplicate charges on retry",
            "Payment webhook signature mismatch",
        ],
    ),
    (
        "Auth service",
        "Auth team",
        [
            "SSO login fails intermittently with SAML assertion error",
            "Password reset emails not arriving",
            "Session expires after a few minutes",
            "MFA codes rejected for some users",
        ],
    ),
    (
        "Notification service",
        "SRE",
        [
            "Email notifications delayed by hours",
            "Slack alerts sent twice",
            "SMS provider returning 429",
        ],
    ),
    (
        "User service",
        "engineering-oncall",
        [
            "Profile updates not saved",
            "User search returns stale results",
            "Auth token validation changed behaviour, tests failing",
        ],
    ),
    (
        "Reporting",
        "support-specialists",
        [
            "Report generation failing for a filter combination",
            "CSV export truncated",
            "Dashboard numbers differ from export",
        ],
    ),
    (
        "Billing",
        "Payments team",
        ["Invoices show wrong tax rate", "Plan upgrade not reflected on invoice"],
    ),
    (
        "CI pipeline",
        "engineering-oncall",
        [
            "Integration tests failing on main",
            "Deploy job hangs at artifact upload",
            "Flaky end-to-end tests block merges",
        ],
    ),
    ("Search", "SRE", ["Search latency above 5 seconds", "Index rebuild stuck"]),
]

PEOPLE = [
    # username, first, last, role, time zone
    ("agent", "Sam", "Rivera", roles.SUPPORT_AGENT, "America/New_York"),
    ("priya", "Priya", "Shah", roles.SUPPORT_AGENT, "Europe/London"),
    ("lucas", "Lucas", "Martin", roles.SUPPORT_AGENT, "Europe/Berlin"),
    ("noah", "Noah", "Williams", roles.SUPPORT_AGENT, "America/Chicago"),
    ("emma", "Emma", "Johansson", roles.SUPPORT_AGENT, "Europe/Stockholm"),
    ("lead", "Olivia", "Brown", roles.TEAM_LEAD, "America/New_York"),
    ("kenji", "Kenji", "Tanaka", roles.TEAM_LEAD, "Asia/Tokyo"),
    ("manager", "Maria", "Garcia", roles.ENGINEERING_MANAGER, "America/New_York"),
    ("director", "David", "Okafor", roles.DIRECTOR, "America/New_York"),
    ("governance", "Grace", "Liu", roles.GOVERNANCE_LIAISON, "Europe/London"),
    ("executive", "Eve", "Anders", roles.EXECUTIVE, "America/New_York"),
    ("security", "Sofia", "Novak", roles.SECURITY, "Europe/Prague"),
    ("yusuf", "Yusuf", "Demir", roles.SECURITY, "Europe/Istanbul"),
    ("product", "Paula", "Mendes", roles.PRODUCT, "Europe/Lisbon"),
    ("success", "Chris", "Evans", roles.CUSTOMER_SUCCESS, "America/New_York"),
    ("legal", "Lena", "Fischer", roles.LEGAL, "Europe/Berlin"),
    ("vp", "Victor", "Okoye", roles.VP, "America/New_York"),
]

# The login used for each role by the run command (passwords set there).
ROLE_LOGINS = {
    roles.SUPPORT_AGENT: "agent",
    roles.TEAM_LEAD: "lead",
    roles.ENGINEERING_MANAGER: "manager",
    roles.DIRECTOR: "director",
    roles.GOVERNANCE_LIAISON: "governance",
    roles.EXECUTIVE: "executive",
    roles.SECURITY: "security",
    roles.PRODUCT: "product",
    roles.CUSTOMER_SUCCESS: "success",
    roles.LEGAL: "legal",
    roles.VP: "vp",
}

NOTES = [
    "Reproduced on staging with the customer's data set.",
    "Checked the runbook; no matching entry.",
    "Logs show timeouts from the upstream dependency since 09:40.",
    "Rolled back the last config change; watching error rates.",
    "Asked the customer for a HAR file and the exact time of failure.",
    "Correlated with the deploy at 14:05; diffing the release.",
]
UPDATES = [
    "We are investigating reports of this issue and will update you within the hour.",
    "We have identified the cause and are working on a fix.",
    "A fix has been deployed; we are monitoring to confirm.",
]
RESOLUTIONS = [
    "Rolled back the faulty deploy and added a regression test.",
    "Increased the connection pool and fixed the leak in the retry path.",
    "Re-uploaded the IdP certificate and cleared the certificate cache.",
    "Configuration corrected; customer confirmed it works.",
]


PRESETS = ("support-3-tier", "engineering-5-level", "p0-p3-matrix")
DEFAULT_PRESET = "p0-p3-matrix"


def ensure_policies() -> None:
    """The three shipped workflows, the P0-P3 matrix as the default policy."""

    presets = Path(__file__).resolve().parent.parent / "escalations" / "workflows"
    for name in PRESETS:
        if Policy.objects.filter(name=name, status=PolicyStatus.ACTIVE).exists():
            continue
        spec = demo_spec(load_workflow_file(presets / f"{name}.yaml"))
        if name == DEFAULT_PRESET:
            spec = with_engineering_on_call(spec)
        policy_create_from_spec(
            spec=spec,
            name=name,
            make_default=name == DEFAULT_PRESET,
            source=f"preset {name}",
        )


# The demo's front line works from New York (its agent and team lead sit there).
DEMO_TEAM_ZONE = "America/New_York"
# Nine accounts open about a hundred incidents in 60 days: the seed's "3 in 30 days"
# would flag nearly every one as a repeat. The demo counts an account's 12th.
DEMO_REPEAT_COUNT = 12


def demo_spec(spec):
    """A preset as the demo organisation runs it: business hours in the team's zone
    (a preset's "business" calendar is a template in UTC), a repeat threshold that
    fits nine busy accounts, only a P0 routed straight up at opening (seed 001
    also sends every P1 to L3 and P2 to L2: a quarter of the demo before it starts),
    only the P1 level deadline (seed 002's "P2: Level 2 within 2 hours" would send
    most of the demo's P2s, which take a working day, to L2), and no time limit at the
    first level (seed 002's "Level 1: not resolved in 30 minutes" would send most of its
    incidents to L2 too: 30 % escalated, not a tenth); the higher levels keep theirs."""
    from dataclasses import replace

    calendars = tuple(
        (name, {**calendar, "timezone": DEMO_TEAM_ZONE} if calendar.get("hours") else calendar)
        for name, calendar in spec.calendars
    )
    triggers = replace(spec.triggers, repeat_count=DEMO_REPEAT_COUNT)
    overrides = tuple(o for o in spec.overrides if o.severity == "P0")
    deadlines = tuple(d for d in spec.deadlines if d.severity in ("P0", "P1"))
    levels = spec.without_time_limits([spec.first_level.number]).levels
    return replace(
        spec,
        calendars=calendars,
        triggers=triggers,
        overrides=overrides,
        deadlines=deadlines,
        levels=levels,
    )


# The default policy's level that engineering's on-call answers for (seed 004's Sev 1
# "Engineering on-call engaged"): its notices go to whoever is on call.
ON_CALL_LEVEL = 3


def with_engineering_on_call(spec):
    """The preset with its expert level paging the engineering on-call schedule."""
    from dataclasses import replace

    levels = tuple(
        replace(level, schedule=PRIMARY_SECONDARY) if level.number == ON_CALL_LEVEL else level
        for level in spec.levels
    )
    return replace(spec, levels=levels)


@dataclass
class DemoSummary:
    accounts: int
    components: int
    people: int
    incidents: int


def _category(category, by_name: dict, turned: dict, seed: int, number: int):
    """`category`, or what it turned out to be (a how-to question that was a user error,
    a bug that was a feature gap), from a generator of its own."""
    if category.name not in turned:
        return category
    other, share = turned[category.name]
    if other in by_name and random.Random(f"category-{seed}-{number}").random() < share:
        return by_name[other]
    return category


def ensure_people() -> dict[str, object]:
    """Demo people per role; without usable passwords (the run command sets them)."""
    user_model = get_user_model()
    people = {}
    for username, first, last, role, tz in PEOPLE:
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "time_zone": tz,
                "email": f"{username}@portal.example",
                "is_staff": role in roles.ADMIN_ROLES,
            },
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
        people[username] = user
    return people


FOLLOW_THE_SUN = "Support follow-the-sun"
PRIMARY_SECONDARY = "Engineering primary/secondary"
# Both rotations count from a Monday long past, so who is on call this week follows the week.
_ROTA_START = "2026-01-05"


def ensure_schedules(*, people, teams, now: datetime) -> None:
    """Two on-call schedules (issue 18), made once: the front line's weekly follow-the-sun
    rotation, Europe by day and the Americas by (London's) night, and engineering's
    primary/secondary pair, where an override with nobody leaves a gap in 3 days' time."""
    if not OnCallSchedule.objects.filter(name=FOLLOW_THE_SUN).exists():
        schedules.schedule_create(
            actor=None,
            name=FOLLOW_THE_SUN,
            team=teams["support-generalists"],
            description="Europe covers 07:00-19:00 London, the Americas 19:00-07:00 "
            "(14:00-02:00 in New York). Weekly handoffs on Monday at 07:00.",
            spec={
                "timezone": "Europe/London",
                "layers": [
                    {
                        "name": "Europe (day)",
                        "people": ["priya", "lucas", "emma"],
                        "recurrence": "weekly",
                        "start": _ROTA_START,
                        "handoff": "07:00",
                        "restrictions": [{"days": list(_DAYS), "from": "07:00", "to": "19:00"}],
                    },
                    {
                        "name": "Americas (night)",
                        "people": ["agent", "noah"],
                        "recurrence": "weekly",
                        "start": _ROTA_START,
                        "handoff": "07:00",
                        "restrictions": [{"days": list(_DAYS), "from": "19:00", "to": "07:00"}],
                    },
                ],
            },
        )
    if OnCallSchedule.objects.filter(name=PRIMARY_SECONDARY).exists():
        return
    schedule = schedules.schedule_create(
        actor=None,
        name=PRIMARY_SECONDARY,
        team=teams["engineering-oncall"],
        description="Primary: a weekly rotation round the clock. Secondary: the leads, "
        "daily, in the layer below: they show through wherever the primary has nobody, "
        "and are paged next when the primary does not acknowledge. The default policy's "
        "L3 pages this schedule.",
        spec={
            "timezone": "Europe/Berlin",
            "layers": [
                {
                    "name": "secondary",
                    "people": ["lead", "kenji"],
                    "recurrence": "daily",
                    "start": _ROTA_START,
                    "handoff": "09:00",
                },
                {
                    "name": "primary",
                    "people": ["lucas", "noah", "emma"],
                    "recurrence": "weekly",
                    "start": _ROTA_START,
                    "handoff": "10:00",
                },
            ],
        },
    )
    # Nobody at all for four hours: the coverage gap the demo shows.
    start = (now + timedelta(days=3)).replace(hour=1, minute=0, second=0, microsecond=0)
    schedules.override_add(
        actor=None,
        schedule=schedule,
        person=None,
        start=start,
        end=start + timedelta(hours=4),
        reason="Data-centre move: on-call phones off, no cover arranged yet",
    )
    # A swap someone made: lucas covers an evening for whoever has the primary week.
    evening = (now + timedelta(days=1)).replace(hour=17, minute=0, second=0, microsecond=0)
    schedules.override_add(
        actor=None,
        schedule=schedule,
        person=people["lucas"],
        start=evening,
        end=evening + timedelta(hours=5),
        reason="Swap: covering a parents' evening",
    )


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _at(base: datetime, minutes: float) -> datetime:
    return base + timedelta(minutes=minutes)


@transaction.atomic
def load_demo(*, seed: int = 2026, count: int = 200, now: datetime | None = None) -> DemoSummary:
    rng = random.Random(seed)
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    roles.sync_roles(django_apps)

    accounts = []
    for name, tier, health, arr, contact, email, tz in ACCOUNTS:
        account, _ = Account.objects.get_or_create(
            name=name,
            defaults={
                "tier": tier,
                "health_score": health,
                "arr": Decimal(arr),
                "primary_contact_name": contact,
                "primary_contact_email": email,
                "time_zone": tz,
            },
        )
        accounts.append(account)
    teams = {name: Group.objects.get_or_create(name=name)[0] for name in TEAMS}
    components = []
    for name, team, titles in COMPONENTS:
        component, _ = Component.objects.get_or_create(
            name=name, defaults={"owning_team": teams[team]}
        )
        components.append((component, titles))
    people = ensure_people()
    # Before the policies: the default one pages a schedule, which must exist.
    ensure_schedules(people=people, teams=teams, now=now)
    ensure_policies()
    workers = [people[u] for u in ("agent", "priya", "lucas", "noah", "emma", "lead", "kenji")]
    channels = {c.code: c for c in Channel.objects.all()}
    # Seed 004's user errors and feature gaps (migration incidents 0016) are drawn apart,
    # from some how-to questions and bugs, so the rest of each incident's draws stay as
    # they were before those categories existed.
    by_name = {category.name: category for category in Category.objects.all()}
    turned = {"How-to question": ("User error", 0.5), "Bug": ("Feature gap", 0.2)}
    categories = [c for name, c in by_name.items() if name not in ("User error", "Feature gap")]

    # Two showcase incidents (a Sev 1's whole life, a live war room) come out of the count.
    showcases = 2 if count >= 10 else 0
    for number in range(count - showcases):
        # One generator per incident: what happens to one never shifts the next.
        rng = random.Random(seed * 100_003 + number)
        component, titles = rng.choice(components)
        severity = rng.choices(list(Severity), weights=[2, 8, 43, 47])[0]
        # Spread over 60 days, denser recently; never in the future.
        age_minutes = int(60 * 24 * 60 * (rng.random() ** 1.4)) + 30
        opened = now - timedelta(minutes=age_minutes)
        is_security = rng.random() < 0.015
        channel = (
            channels["SECURITY"]
            if is_security
            else channels[rng.choice(["CUSTOMER", "CUSTOMER", "RUNTIME", "TEST", "MONITORING"])]
        )
        account = rng.choice(accounts) if channel.code in ("CUSTOMER", "RUNTIME") else None
        assignee = people[rng.choice(["security", "yusuf"])] if is_security else rng.choice(workers)
        reporter = rng.choice(workers)
        incident = incident_services.incident_create(
            actor=reporter,
            title=rng.choice(titles),
            severity=severity.value,
            channel=channel,
            category=_category(rng.choice(categories), by_name, turned, seed, number),
            component=component,
            account=account,
            description=f"Reported via {channel.name.lower()}. " + rng.choice(NOTES),
            is_production_outage=severity == Severity.P0 and rng.random() < 0.7,
            is_security=is_security,
            is_customer_facing=account is not None and rng.random() < 0.5,
            # Many users and big money are the urgent incidents' business.
            # (Seed 000's preset escalates "multiple users affected": more than one.)
            users_affected=rng.choice(
                [3, 12, 30, 40, 50, 1200] if severity.rank <= 1 else [None, 1, None, 1, 1]
            ),
            revenue_impact=(
                Decimal(rng.choice([0, 0, 500, 2_500, 8_000, 50_000]))
                if severity.rank <= 1
                else None
            ),
            opened_at=opened,
            now=opened,
        )
        _play_history(incident, rng, opened=opened, now=now, assignee=assignee, people=people)
    if showcases:
        follow_up_showcase(
            people=people,
            accounts=accounts,
            components=[component for component, _ in components],
            now=now,
            seed=seed,
        )
    # The demo's past was never sent to anyone: keep its outbox rows as history only.

    Notification.objects.filter(status=NotificationStatus.PENDING).update(
        status=NotificationStatus.SUPPRESSED, suppressed_reason="demo history, not sent"
    )
    # Nor is anyone paged now for the demo's past handoffs.
    paging.ladders_end(before=now)
    ensure_review_demo(people)
    return DemoSummary(len(accounts), len(components), len(people), count)


def ensure_review_demo(people) -> None:
    """Weekly report subscribers, and a draft policy to try in the "what if" page."""
    from dataclasses import replace

    for username in ("manager", "director"):
        ReportSubscription.objects.get_or_create(user=people[username])
    live = Policy.objects.filter(name=DEFAULT_PRESET, status=PolicyStatus.ACTIVE).first()
    if live is None or Policy.objects.filter(name=live.name, status=PolicyStatus.DRAFT).exists():
        return
    spec = policy_spec(live)
    faster = tuple(
        (key, replace(target, first_response=target.first_response / 2))
        if target.first_response
        else (key, target)
        for key, target in spec.matrix
    )
    policy_create_from_spec(
        spec=replace(spec, matrix=faster),
        name=live.name,
        activate=False,
        source="demo: what if every first response had half the time?",
    )


# A few real problems, not a wall of red: the share of incidents answered late, resolved
# late, left stuck open, and escalated by hand (the triggers add the rest).
LATE_RESPONSE = 0.01
LATE_RESOLUTION = 0.012
STUCK_OPEN = 0.01
ESCALATED_BY_HAND = 0.02


def _budget_minutes(incident: Incident, field: str, fallback: float) -> float:
    """Minutes from the opening to one of the incident's own due times (its policy's
    target in its calendar), so the demo meets most targets whatever the policy."""
    due = getattr(incident, field)
    if due is None:
        return fallback
    return max((due - incident.opened_at).total_seconds() / 60, 10)


def _update_cadence_minutes(incident: Incident) -> float | None:

    for reading in incident_clocks(incident, now=incident.opened_at):
        if reading.clock == "update" and reading.target:
            return reading.target.total_seconds() / 60
    return None


def _play_history(incident: Incident, rng: random.Random, *, opened, now, assignee, people):
    """Walk an incident through a plausible life, stopping at `now`."""
    incident.refresh_from_db()
    answer_within = _budget_minutes(incident, "first_response_due_at", 60)
    # A healthy team resolves before its policy's ladder moves the incident up (seed
    # 000's escalates at 50 % of the resolution target), not merely before the target.
    thresholds = policy_spec(incident.policy).thresholds if incident.policy_id else ()
    resolve_within = _budget_minutes(incident, "resolution_due_at", 24 * 60) * min(
        (t.fraction for t in thresholds if t.action == "escalate" and "resolution" in t.clocks),
        default=1.0,
    )
    # Urgent incidents are picked up fast, well inside their target; a few are late.
    late = rng.random() < LATE_RESPONSE
    response = answer_within * (rng.uniform(1.1, 1.5) if late else rng.uniform(0.1, 0.6))
    late = rng.random() < LATE_RESOLUTION
    resolved = max(
        resolve_within * (rng.uniform(1.1, 1.6) if late else rng.uniform(0.25, 0.85)),
        response + 10,
    )
    steps: list[tuple[float, str]] = [(response, "ack")]
    cadence = _update_cadence_minutes(incident)
    if cadence:  # P0/P1: the customer hears from us on time (seed 004)
        at = response + cadence * rng.uniform(0.3, 0.7)
        while at < resolved:
            steps.append((at, "update"))
            at += cadence * rng.uniform(0.5, 0.9)
    for _ in range(rng.randint(1, 4)):
        steps.append(
            (
                rng.uniform(response, resolved),
                rng.choice(["note", "note", "update", "wait_customer"]),
            )
        )
    # Incidents resolve when their time comes; open ones are those whose time has not
    # come yet, and a few that got stuck.
    if rng.random() >= STUCK_OPEN:
        steps.append((resolved, "resolve"))
        if rng.random() < 0.04:  # back within its budget: resolved time does not count
            reopened = resolved + rng.uniform(60, 600)
            steps.append((reopened, "reopen"))
            steps.append((reopened + resolve_within * rng.uniform(0.02, 0.1), "resolve"))
        steps.append((resolved + rng.uniform(1500, 4000), "close"))
        if rng.random() < 0.6:
            steps.append((resolved + rng.uniform(30, 1400), "rate"))
    if rng.random() < ESCALATED_BY_HAND:  # with a proper handoff note
        steps.append((response + rng.uniform(0.05, 0.3) * resolve_within, "escalate"))
    if rng.random() < 0.25:
        steps.append((resolved - rng.uniform(5, 60), "de_escalate"))
    steps.sort(key=lambda step: step[0])

    floor = opened  # events never go back in time
    for minutes, step in steps:
        at = max(_at(opened, minutes), floor + timedelta(minutes=1))
        if at >= now:
            break
        floor = max(_catch_up(incident, at, rng, people), at)
        incident.refresh_from_db()
        try:
            floor = max(
                floor,
                _step(incident, step, at, rng, assignee=assignee, people=people, now=now) or at,
            )
        except (ValidationError, Refusal):
            # The step no longer fits this incident's state, or its person may no longer
            # act on it (a security incident handed up): skip it.
            continue
    _catch_up(incident, now, rng, people)


def _catch_up(incident: Incident, until: datetime, rng: random.Random, people) -> datetime:
    """Run the SLA sweep at each moment it would have run, and let receivers answer."""

    last = incident.opened_at
    for _ in range(30):
        incident.refresh_from_db()
        pending_ack = (
            incident.is_open
            and incident.handoff_at is not None
            and incident.handoff_acknowledged_at is None
        )
        ack_at = (
            incident.handoff_at + timedelta(minutes=rng.uniform(3, 50)) if pending_ack else None
        )
        due = incident.next_check_at
        answers = rng.random() < 0.95
        if ack_at is not None and ack_at < until and (due is None or ack_at <= due) and answers:
            # Whoever answers must be allowed to (security incidents: few may see them).
            receivers = [
                person
                for person in (people[n] for n in ("lead", "kenji", "manager", "director"))
                if allowed(person, "escalation.acknowledge_handoff", incident)
            ]
            receiver = rng.choice(receivers)
            handoff_acknowledge(incident=incident, actor=receiver, now=ack_at)
            last = ack_at
            continue
        if due is None or due >= until:
            break
        sla_sweep(now=due, only=[incident.pk])
        last = due
    return last


DEMO_NOTE = {
    "investigation_summary": "Reproduced on staging; failures start after the 14:05 deploy.",
    "proposed_next_steps": "1. Compare the release diff\n2. Decide on a rollback",
    "blocking_issues": "Need the owning team's help to read the new retry logic.",
    "context": "Two services affected; the change came from a shared library.",
    "resource_requirements": "One engineer from the owning team for a day.",
    "business_impact": "Checkout errors for some customers; support tickets rising.",
    "recommendation": "Roll back now, fix forward tomorrow with tests.",
    "decision_sought": "Approve the rollback and the follow-up work.",
    "situation": "Error rate 15% (baseline 0.5%) since the deploy.",
    "options": "Rollback (30 min, delays feature) or fix forward (2-3 h, keeps risk).",
    "stakeholder_impact": "Product and sales informed; a demo is scheduled tomorrow.",
    "technical_assessment": "Race condition in the queue consumer; fix ready, 80% confident.",
    "governance_implications": "SLA at risk; post-incident review required.",
    "customer_context": "Enterprise account, renewal next quarter, health score falling.",
    "symptoms": "Intermittent errors on login and checkout.",
    "customer_impact": "About 50 users cannot complete purchases reliably.",
    "steps_taken": "Checked logs, cleared caches, consulted the runbook: no match.",
    "suggested_next_step": "Backend investigation of the certificate cache.",
}


def _step(incident: Incident, step: str, at, rng, *, assignee, people, now):
    """One person's action at `at`; returns the latest time it used, if later."""

    if step == "escalate" and incident.is_open and incident.policy_id:
        spec = policy_spec(incident.policy)
        target = spec.next_level(incident.current_level)
        if target is None:
            return
        escalation = engine.incident_escalate(
            incident=incident,
            to_level=target.number,
            actor=assignee,
            reason="Root cause unclear after investigation; need the next level's expertise.",
            category=rng.choice(["root_cause_unclear", "expertise", "cross_team"]),
            note={name: DEMO_NOTE.get(name, "See timeline.") for name in target.handoff_fields},
            checklist=list(CHECKLIST),
            decision_sought=DEMO_NOTE["decision_sought"],
            now=at,
        )
        decided = at + timedelta(minutes=rng.uniform(10, 150))
        if decided < now and rng.random() < 0.7:
            engine.escalation_record_decision(
                escalation=escalation,
                actor=people["manager"],
                decision="Approved the rollback; follow-up owned by the team.",
                now=decided,
            )
        return
    if step == "de_escalate" and incident.is_open and incident.policy_id:
        first = policy_spec(incident.policy).first_level.number
        if incident.current_level > first:
            engine.incident_de_escalate(
                incident=incident,
                to_level=first,
                actor=people["lead"],
                reason="Critical phase over; monitoring goes back to the first level.",
                resolution_summary="Mitigation deployed; watch error rates for a day.",
                now=at,
            )
        return
    if step == "ack":
        # Acknowledging an unassigned incident makes it the acknowledger's.
        incident_services.incident_acknowledge(incident=incident, actor=assignee, now=at)
        incident_services.incident_change_status(
            incident=incident, status=Status.INVESTIGATING.value, actor=assignee, now=at
        )
    elif step == "note":
        incident_services.incident_comment(
            incident=incident, actor=assignee, body=rng.choice(NOTES), now=at
        )
    elif step == "update":
        incident_services.incident_post_public_update(
            incident=incident, actor=assignee, body=rng.choice(UPDATES), now=at
        )
    elif step == "wait_customer" and incident.status == Status.INVESTIGATING:
        incident_services.incident_change_status(
            incident=incident,
            status=Status.WAITING_ON_CUSTOMER.value,
            actor=assignee,
            note="Asked the customer for logs.",
            now=at,
        )
        back = _at(at, rng.uniform(20, 300))
        if back < now:
            incident_services.incident_change_status(
                incident=incident,
                status=Status.INVESTIGATING.value,
                actor=assignee,
                note="Customer sent the logs.",
                now=back,
            )
            return back
    elif step == "resolve" and incident.is_open:
        incident_services.incident_change_status(
            incident=incident,
            status=Status.RESOLVED.value,
            actor=assignee,
            note=rng.choice(RESOLUTIONS),
            now=at,
        )
    elif step == "reopen" and not incident.is_open:
        incident_services.incident_reopen(
            incident=incident,
            actor=assignee,
            reason="Customer reports the problem is back.",
            now=at,
        )
    elif step == "rate" and not incident.is_open and incident.csat_rating is None:
        # Most customers who answer the resolution email are happy; a few are not.
        if incident.account_id and not incident.is_security:
            incident_services.incident_customer_rate(
                incident=incident,
                rating=rng.choices([5, 4, 3, 2, 1], weights=[55, 33, 7, 3, 2])[0],
                comment=rng.choice(["", "", "Quick and clear, thanks.", "Took a while."]),
                from_email=incident.account.primary_contact_email,
                now=at,
            )
    elif step == "close" and incident.status == Status.RESOLVED:
        incident_services.incident_change_status(
            incident=incident,
            status=Status.CLOSED.value,
            actor=people["lead"],
            note="Closed after confirmation.",
            now=at,
        )


# --- follow-up work: war rooms, vendor cases, reviews and action items ------------------------

SEV1_TITLE = "Payment processing down for all customers"
LIVE_TITLE = "Search latency above 5 seconds for EU customers"
REVIEW_TEXT = {
    "customers_impacted": 87,
    "business_impact": "About $40,000 of card payments failed; 87 merchants affected.",
    "root_cause_what": "Database connection pool exhausted under load",
    "root_cause_why": "A recent code change introduced a connection leak in the retry path",
    "root_cause_not_caught": "Load testing did not simulate peak concurrent users",
    "root_cause_key": "db-pool-exhaustion",
    "contributing_factors": [
        "Monitoring alert threshold too high",
        "No circuit breaker for database connections",
        "Code review missed the resource cleanup",
    ],
    "went_well": [
        "Fast detection and escalation",
        "Good cross-team collaboration",
        "Clear communication to customers",
    ],
    "went_poorly": [
        "Took 30 minutes to identify the root cause",
        "The initial hypothesis was wrong",
        "Some customers were notified late",
    ],
    "prevention_confidence": "high",
}
# (title, owner, due after the incident opened, permanent fix, closed after the opening or None)
SEV1_ITEMS = [
    ("Add connection pool monitoring with a lower threshold", "lucas", 10, False, None),
    ("Implement connection leak detection", "noah", 4, True, 3.5),
    ("Improve load testing scenarios", "emma", 14, False, None),
    ("Update the runbook with lessons learned", "lead", 2, False, 1.8),
    ("Add a circuit breaker for database connections", "kenji", 5, False, None),
]


def _run_at(incident, steps, rng, people):
    """Play `steps` ((at, callable)) in order, running the SLA and reminder sweeps the
    way beat would have in between."""

    for at, step in sorted(steps, key=lambda item: item[0]):
        _catch_up(incident, at, rng, people)
        reminder_sweep(now=at)
        incident.refresh_from_db()
        step(at)


def follow_up_showcase(*, people, accounts, components, now: datetime, seed: int) -> None:
    """A Sev 1 that runs its whole life (war room, cadence reminders, vendor case,
    resolution, a published review with action items) and an open P1 with a live war
    room; then reviews in other states and overdue action items. Deterministic."""

    rng = random.Random(seed * 7 + 1)
    runtime = Channel.objects.get(code="RUNTIME")
    acme = next(a for a in accounts if a.name == "Acme Corp")
    lead, manager = people["lead"], people["manager"]
    t = (now - timedelta(days=6)).replace(hour=14, minute=23)

    def m(minutes: float) -> datetime:
        return t + timedelta(minutes=minutes)

    sev1 = incident_services.incident_create(
        actor=people["agent"],
        title=SEV1_TITLE,
        severity="P0",
        channel=runtime,
        component=next(c for c in components if c.name == "Payments API"),
        account=acme,
        description="No card transactions complete; checkout returns 502 for every merchant.",
        is_production_outage=True,
        is_customer_facing=True,
        users_affected=5000,
        revenue_impact=Decimal(40_000),
        assignee=people["agent"],
        opened_at=t,
        now=t,
    )

    def take(at):
        if pending_handoff(sev1) is not None:
            handoff_acknowledge(incident=sev1, actor=lead, now=at)
        else:
            incident_services.incident_acknowledge(incident=sev1, actor=lead, now=at)

    def say(person, body):
        return lambda at: incident_services.incident_post_public_update(
            incident=sev1, actor=people[person], body=body, now=at
        )

    def decide(text):
        return lambda at: war_room.war_room_log_decision(
            war_room=war_room.active_war_room(sev1), actor=lead, decision=text, now=at
        )

    cases = {}

    def open_case(at):
        cases["aws"] = vendors.vendor_case_open(
            incident=sev1,
            actor=people["lucas"],
            vendor="AWS",
            case_id=f"1712{sev1.pk:08d}",
            severity="Production system down",
            owner=people["lucas"],
            contact="Dana Whitfield (TAM)",
            contact_email="tam@aws.example",
            summary="RDS connections refused at peak; please check the proxy fleet.",
            next_update_expected_at=at + timedelta(hours=1),
            now=at,
        )

    _run_at(
        sev1,
        [
            (m(2), take),
            (
                m(3),
                lambda at: incident_services.incident_change_status(
                    incident=sev1, status="investigating", actor=lead, now=at
                ),
            ),
            (
                m(5),
                lambda at: war_room.war_room_activate(
                    incident=sev1,
                    actor=lead,
                    reason="sev1",
                    commander=lead,
                    technical_lead=people["lucas"],
                    customer_liaison=people["priya"],
                    executive=people["director"],
                    scribe=people["emma"],
                    smes=[people["noah"]],
                    channel="#inc-payments-outage",
                    now=at,
                ),
            ),
            (
                m(12),
                lambda at: incident_services.incident_comment(
                    incident=sev1,
                    actor=people["lucas"],
                    body="Engineering on-call engaged.",
                    now=at,
                ),
            ),
            (
                m(37),
                say(
                    "priya",
                    "Card payments are failing; we are investigating. Next update 15:30 UTC.",
                ),
            ),
            (
                m(52),
                decide("Root cause: DB connection pool exhaustion. Roll back release 2026.3."),
            ),
            (m(55), open_case),
            (
                m(67),
                say(
                    "priya", "We identified the cause and are rolling back. Next update 16:00 UTC."
                ),
            ),
            (
                m(100),
                lambda at: vendors.vendor_case_record_update(
                    case=cases["aws"],
                    actor=people["lucas"],
                    update="AWS confirms no proxy fleet issue; the pool limit is on our side.",
                    status="resolved",
                    now=at,
                ),
            ),
            (m(107), say("priya", "The fix is deployed; payments are recovering.")),
            (m(112), decide("Keep the old release pinned until the leak fix ships.")),
            (
                m(222),
                lambda at: incident_services.incident_change_status(
                    incident=sev1,
                    status="resolved",
                    actor=people["lucas"],
                    note="All customers confirmed restored; monitoring stable.",
                    now=at,
                ),
            ),
        ],
        rng,
        people,
    )
    review = PostIncidentReview.objects.get(incident=sev1)
    written = m(222 + 18 * 60)
    review = reviews.review_update(
        review=review, actor=lead, changes={**REVIEW_TEXT, "owner": lead}, now=written
    )
    items = []
    for title, owner, days, permanent, _closed in SEV1_ITEMS:
        items.append(
            reviews.action_item_add(
                review=review,
                actor=lead,
                title=title,
                owner=people[owner],
                due_date=(t + timedelta(days=days)).date(),
                is_permanent_fix=permanent,
                now=written,
            )
        )
    similar = list(reviews.similar_suggestions(review, lead, limit=2, opened_before=t))
    if similar:
        reviews.review_confirm_similar(review=review, actor=lead, incidents=similar, now=written)
    reviews.review_submit(review=review, actor=lead, now=written + timedelta(hours=6))
    reminder_sweep(now=written + timedelta(hours=12))
    reviews.review_publish(review=review, actor=manager, now=written + timedelta(hours=10))
    for item, (_title, _owner, _days, _permanent, closed) in zip(items, SEV1_ITEMS, strict=True):
        if closed is not None:
            reviews.action_item_close(
                item=item,
                actor=item.owner,
                status="done",
                note="Merged and deployed.",
                now=t + timedelta(days=closed),
            )
    reviews.action_item_update(
        item=items[2], actor=people["emma"], status="in_progress", now=t + timedelta(days=2)
    )

    _live_war_room(people=people, components=components, now=now, rng=rng)
    _reviews_in_other_states(people=people, exclude=sev1, now=now)
    _publish_the_rest_on_time(people=people, now=now)
    reminder_sweep(now=now)


def _live_war_room(*, people, components, now, rng) -> None:
    """An open P1 with an active war room and a vendor that owes an update."""

    opened = now - timedelta(minutes=50)
    search = next(c for c in components if c.name == "Search")
    incident = incident_services.incident_create(
        actor=people["noah"],
        title=LIVE_TITLE,
        severity="P1",
        channel=Channel.objects.get(code="MONITORING"),
        component=search,
        description="p95 search latency 5-9 s in eu-west since 09:10; 250 users reporting.",
        users_affected=250,
        is_customer_facing=True,
        assignee=people["noah"],
        opened_at=opened,
        now=opened,
    )
    incident_services.incident_acknowledge(
        incident=incident, actor=people["noah"], now=opened + timedelta(minutes=3)
    )
    war_room.war_room_activate(
        incident=incident,
        actor=people["kenji"],
        reason="multi_customer",
        commander=people["kenji"],
        technical_lead=people["noah"],
        customer_liaison=people["priya"],
        channel="#inc-search-latency",
        now=opened + timedelta(minutes=5),
    )
    incident_services.incident_post_public_update(
        incident=incident,
        actor=people["priya"],
        body="Search is slow for some EU customers; we are on it.",
        now=opened + timedelta(minutes=10),
    )
    # Seed 002 "Update public status page": the commander tells everyone, in public words.
    incident_services.status_page_publish(
        incident=incident,
        actor=people["kenji"],
        public_title="Slow search in Europe",
        body="Search is slower than usual for some users in Europe. We are looking into it.",
        now=opened + timedelta(minutes=12),
    )
    incident_services.status_page_post_update(
        incident=incident,
        actor=people["kenji"],
        state="identified",
        body="We found the cause with our search provider and are working on a fix.",
        now=opened + timedelta(minutes=30),
    )
    vendors.vendor_case_open(
        incident=incident,
        actor=people["noah"],
        vendor="Elastic Cloud",
        case_id=f"00{incident.pk:06d}",
        severity="Sev 1 - Critical",
        owner=people["noah"],
        contact="Elastic support",
        next_update_expected_at=opened + timedelta(minutes=40),
        now=opened + timedelta(minutes=15),
    )


def _reviews_in_other_states(*, people, exclude, now) -> None:
    """The oldest open review goes to review (its first action item is overdue by
    now), the next is half written; the rest stay as the drafts that opened when
    their incidents resolved. A security incident's review stays a draft: the owner and
    lead who write these are not cleared to read it (limited distribution)."""

    def drafts():
        return list(
            PostIncidentReview.objects.exclude(incident=exclude)
            .exclude(incident__is_security=True)
            .filter(status="draft", customers_impacted__isnull=True)
            .select_related("incident")
            .order_by("incident__opened_at", "pk")
        )

    # Small demos may have no resolved P0: managers also start reviews by hand.
    spare = (
        Incident.objects.filter(status__in=["resolved", "closed"], review__isnull=True)
        .exclude(is_security=True)
        .order_by("severity", "-resolved_at", "pk")
    )
    for incident in spare[: max(0, 3 - len(drafts()))]:
        reviews.review_create(
            incident=incident,
            actor=people["manager"],
            now=incident.resolved_at + timedelta(hours=1),
        )
    drafts = drafts()
    if drafts:
        review = drafts[0]
        at = max(review.created_at, min(review.created_at + timedelta(hours=5), now))
        owner = review.incident.assignee or people["lead"]
        review = reviews.review_update(
            review=review,
            actor=owner,
            changes={
                **REVIEW_TEXT,
                "business_impact": "Degraded service for some customers.",
                "root_cause_key": "",
                "owner": owner,
            },
            now=at,
        )
        for title, days in (("Add an alert on the error budget", 1), ("Write the runbook", 30)):
            reviews.action_item_add(
                review=review,
                actor=owner,
                title=title,
                owner=people["lucas"],
                due_date=(at + timedelta(days=days)).date(),
                now=at,
            )
        reviews.review_submit(review=review, actor=owner, now=at + timedelta(hours=1))
    if len(drafts) > 1:
        review = drafts[1]
        reviews.review_update(
            review=review,
            actor=people["lead"],
            changes={"root_cause_what": "Still being analysed.", "customers_impacted": 3},
            now=min(review.created_at + timedelta(hours=2), now),
        )


def _publish_the_rest_on_time(*, people, now) -> None:
    """The reviews nobody touched yet are written and published within their 48 hours,
    as a healthy team does, with their action items done; so the queues show the two
    late ones above rather than every review the demo ever required."""

    untouched = (
        PostIncidentReview.objects.filter(status="draft", customers_impacted__isnull=True)
        .exclude(due_at__isnull=True)
        .select_related("incident")
        .order_by("pk")
    )
    for review in untouched:
        written = review.created_at + timedelta(hours=20)
        if written + timedelta(hours=2) >= min(now, review.due_at):
            continue  # still within its time: a draft due soon
        # Managers see every incident, security ones included.
        owner = people["manager"] if review.incident.is_security else people["lead"]
        review = reviews.review_update(
            review=review,
            actor=owner,
            changes={
                **REVIEW_TEXT,
                "customers_impacted": 3,
                "business_impact": "Degraded service for some customers.",
                "root_cause_key": "",
                "owner": owner,
            },
            now=written,
        )
        item = reviews.action_item_add(
            review=review,
            actor=owner,
            title="Add an alert for this failure mode",
            owner=owner,
            due_date=(written + timedelta(days=7)).date(),
            now=written,
        )
        reviews.review_submit(review=review, actor=owner, now=written + timedelta(minutes=30))
        reviews.review_publish(
            review=review, actor=people["manager"], now=written + timedelta(hours=1)
        )
        done = written + timedelta(days=4)
        if done < now:
            reviews.action_item_close(item=item, actor=owner, status="done", now=done)
