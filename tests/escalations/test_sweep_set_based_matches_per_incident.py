"""Differential test (issue 17): the set-based sweep writes exactly what the per-incident
reference writes.

One seeded data set of two hundred incidents under three policies, made through the
services in time order (with earlier sweeps along the way, so some thresholds have fired
before), then swept at NOW twice from the same starting point, restored by rolling back a
savepoint: `sla_sweep(set_based=False)`, each escalation through `_move`, and
`sla_sweep(set_based=True)`. Every row either run wrote or changed is compared, with
database ids and generated values (Message-IDs, signed links) normalised away.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core import signing
from django.db import transaction

from escalations.engine import services as engine
from escalations.engine.services import sla_sweep
from escalations.models import (
    ENGINEER_CATEGORIES,
    MANAGEMENT_CATEGORIES,
    Escalation,
    TriggerFiring,
)
from escalations.models import ThresholdFiring as Firing
from escalations.policies.services import policy_create_from_spec
from escalations.rules.handoff import CHECKLIST
from escalations.rules.spec import (
    HANDOFF_FIELDS,
    NEXT_LEVEL,
    LevelSpec,
    MatchSpec,
    MaximumRoute,
    OverrideSpec,
    TargetSpec,
    ThresholdSpec,
    TriggerSettings,
    WorkflowSpec,
)
from incidents import services
from incidents.customer_links import SALT
from incidents.models import Account, Channel, EventKind, Incident, IncidentEvent
from notifications.models import Contact, Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Another seed or a bigger data set for a deeper run, e.g. SWEEP_DIFF_SEED=3
# SWEEP_DIFF_INCIDENTS=1000 (the coverage minimums below hold for the defaults).
SEED = int(os.environ.get("SWEEP_DIFF_SEED", "17"))
RANDOM_INCIDENTS = int(os.environ.get("SWEEP_DIFF_INCIDENTS", "188"))
M = timedelta(minutes=1)
H = timedelta(hours=1)
NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)  # a Wednesday, inside office hours
# The sweeper ran at these instants before NOW (then stopped: the data set's "outage").
EARLIER_SWEEPS = (NOW - 30 * H, NOW - 9 * H, NOW - 4 * H)
BATCH = 64  # several claimed batches per sweep
OFFICE = {
    "timezone": "Europe/Berlin",
    "hours": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-11-23"],
}


# --- the world: people, teams, directory, customers, three policies ---------------------------


def _user(username, *, role=None, teams=(), **fields):
    user = UserFactory(
        username=username,
        first_name=username.capitalize(),
        last_name="Tester",
        role=role,
        **fields,
    )
    for team in teams:
        Group.objects.get_or_create(name=team)[0].user_set.add(user)
    return user


def _policies():
    common = {"repeat_count": 1000, "burst_count": 1000}  # pattern triggers: not this test's
    two = WorkflowSpec(
        levels=(
            LevelSpec(
                1,
                "Front line",
                team="frontline",
                handoff_fields=(),
                contacts=(("email", "frontline@example.com"),),
                # a maximum (seed 002's "Maximum"), told to management once
                sla=TargetSpec(first_response=H, resolution=8 * H, resolution_max=12 * H),
            ),
            LevelSpec(
                2,
                "Specialists",
                team="specialists",
                handoff_fields=("investigation_summary", "proposed_next_steps", "blocking_issues"),
                contacts=(
                    ("email", "specialists@example.com"),
                    ("phone", "+1-555-0102"),
                    ("escalation", "specialists-lead@example.com"),  # no schedule: emailed
                ),
                sla=TargetSpec(first_response=2 * H, resolution=16 * H, resolution_max=20 * H),
            ),
        ),
        matrix=(
            (
                ("P0", 1),
                TargetSpec(first_response=15 * M, resolution=2 * H, update_interval=30 * M),
            ),
            (("P0", 2), TargetSpec(resolution=4 * H)),
            (("P1", 1), TargetSpec(resolution=4 * H, update_interval=H)),
        ),
        thresholds=(
            ThresholdSpec(
                50, "warn_assignee", ("first_response", "resolution", "handoff_ack", "update")
            ),
            ThresholdSpec(75, "pre_escalation_notice"),
            ThresholdSpec(100, "escalate"),
            ThresholdSpec(150, "warn_lead", ("update",)),  # seed 004: a missed update
        ),
        triggers=TriggerSettings(ping_pong_limit=3, **common),
        maximum=MaximumRoute(notify=("management",)),
    )
    # Seed 001's tiers: each level's own budget from its first arrival.
    three = WorkflowSpec(
        clock_start="level",
        levels=(
            LevelSpec(
                1,
                "Support",
                team="frontline",
                handoff_fields=(),
                contacts=(("email", "support@example.com"),),
                sla=TargetSpec(first_response=30 * M, resolution=4 * H),
                escalate_after=2 * H,  # seed 002's tiers: its own time, from each arrival
            ),
            LevelSpec(
                2,
                "Advanced support",
                team="specialists",
                contacts=(
                    ("email", "advanced@example.com"),
                    ("chat", "#advanced"),
                    ("escalation", "advanced-lead@example.com"),
                ),
                sla=TargetSpec(first_response=H, resolution=8 * H),
            ),
            LevelSpec(
                3,
                "Engineering",
                team="platform",
                sla=TargetSpec(first_response=2 * H, resolution=24 * H),
            ),
        ),
        match=MatchSpec(channels=("Customer",)),
        triggers=TriggerSettings(ping_pong_limit=1, **common),
    )
    # Seed 002's ladder in office hours; a breach from L1 goes straight to L3.
    four = WorkflowSpec(
        calendars=(("office", OFFICE),),
        default_calendar="office",
        levels=(
            LevelSpec(
                1,
                "Service desk",
                team="frontline",
                handoff_fields=(),
                sla=TargetSpec(first_response=2 * H, resolution=8 * H, resolution_max=10 * H),
            ),
            LevelSpec(
                2,
                "Operations",
                team="specialists",
                handoff_fields=("current_status", "logs_and_evidence"),
                sla=TargetSpec(first_response=H, resolution=12 * H, resolution_max=14 * H),
                # seed 002's tiers: not resolved within its time at this level (in office
                # hours, from each arrival), one level up
                escalate_after=3 * H,
            ),
            LevelSpec(
                3,
                "Engineering",
                team="platform",
                handoff_fields=("situation", "options", "technical_assessment"),
                contacts=(("email", "engineering@example.com"),),
                sla=TargetSpec(first_response=H, resolution=16 * H, resolution_max=18 * H),
            ),
            LevelSpec(
                4,
                "Management",
                team="management",
                handoff_fields=("situation", "stakeholder_impact", "decision_sought"),
                contacts=(("email", "duty-manager@example.com"), ("escalation", "CTO")),
                sla=TargetSpec(first_response=H, resolution=24 * H),
            ),
        ),
        matrix=(
            (("P0", 2), TargetSpec(first_response=30 * M, resolution=4 * H, calendar="24/7")),
            (("P1", 1), TargetSpec(resolution=4 * H, resolution_max=6 * H)),
        ),
        # a passed maximum moves the incident to management (and tells it)
        maximum=MaximumRoute(escalate_to=4),
        overrides=(OverrideSpec("P0", 2, "slack_oncall", "Critical goes to operations"),),
        # A ladder (seed 000, issue 19): the resolution clock's 75 % goes straight to L3.
        thresholds=(
            ThresholdSpec(50, "warn_assignee"),
            ThresholdSpec(75, "escalate", ("resolution",), to_level=3),
            ThresholdSpec(75, "pre_escalation_notice", ("first_response", "handoff_ack")),
            ThresholdSpec(100, "escalate"),
        ),
        match=MatchSpec(channels=("Partner",)),
        triggers=TriggerSettings(
            ping_pong_limit=3,
            impact_routes=(
                ("key_account_sla_violation", 4),  # enterprise accounts' breaches (seed 000)
                ("production_outage", NEXT_LEVEL),
                ("sla_violation", 3),
                ("security", NEXT_LEVEL),
                ("compliance", NEXT_LEVEL),
                ("users_affected", NEXT_LEVEL),
            ),
            **common,
        ),
    )
    return {
        "two": policy_create_from_spec(spec=two, name="two-step", make_default=True),
        "three": policy_create_from_spec(spec=three, name="three-tier"),
        "four": policy_create_from_spec(spec=four, name="four-level office"),
    }


@dataclass
class World:
    channels: dict
    policies: dict
    manager: object
    security: object
    agents: list
    accounts: list
    first_level: dict = field(default_factory=lambda: {"two": 1, "three": 1, "four": 1})
    top_level: dict = field(default_factory=lambda: {"two": 2, "three": 3, "four": 4})


def make_world() -> World:
    office = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    manager = _user("manager", role="Engineering Manager", teams=("management",), is_staff=True)
    _user("director", role="Director", teams=("management",), time_zone="America/New_York")
    _user("lead", role="Team Lead", teams=("frontline",), working_hours=office)
    security = _user("sec", role="Security")
    for role in ("Governance Liaison", "Executive", "Product", "Customer Success"):
        _user(role.split()[0].lower(), role=role)
    agents = [
        _user("ann", role="Support Agent", teams=("frontline",)),
        _user(
            "bob",
            role="Support Agent",
            teams=("frontline",),
            time_zone="Europe/Berlin",
            working_hours=office,
        ),
        _user("cai", role="Support Agent", teams=("specialists",), time_zone="Asia/Kolkata"),
        _user(
            "dee",
            role="Support Agent",
            teams=("specialists", "platform"),
            time_zone="America/Los_Angeles",
            working_hours=office,
            urgent_severities=["P0"],
        ),
        _user("eve", role="Support Agent", teams=("platform",)),
    ]
    # Team members no notice reaches: gone, and without an address.
    _user("gone", role="Support Agent", teams=("frontline",), is_active=False)
    _user("noaddress", role="Support Agent", teams=("specialists",), email="")
    teams = {
        name: Group.objects.get(name=name)
        for name in ("frontline", "specialists", "platform", "management")
    }
    Contact.objects.bulk_create(
        [
            Contact(
                name="Front line pager",
                team=teams["frontline"],
                email="frontline-oncall@example.com",
                pagerduty_routing_key="pd-frontline",
                hours="24/7",
            ),
            Contact(
                name="Specialists desk",
                team=teams["specialists"],
                email="specialists-desk@example.com",
                slack_webhook_url="https://hooks.slack.example/specialists",
                time_zone="Europe/Berlin",
                always_for=["P0"],
            ),
            Contact(
                name="Platform (retired)",
                team=teams["platform"],
                email="old@example.com",
                is_active=False,
            ),
            Contact(
                name="Duty manager",
                team=teams["management"],
                email="duty@example.com",
                phone="+1-555-0199",
                time_zone="America/New_York",
            ),
        ]
    )
    channels = {
        policy: Channel.objects.update_or_create(
            code=code, defaults={"name": name, "acknowledges_customer": name != "Runtime"}
        )[0]
        for policy, code, name in (
            ("two", "RUNTIME", "Runtime"),
            ("three", "CUSTOMER", "Customer"),
            ("four", "PARTNER", "Partner"),
        )
    }
    accounts = [
        Account.objects.create(
            name=f"Customer {n}",
            tier=tier,
            health_score=health,
            arr=arr,
            primary_contact_name=f"Contact {n}",
            primary_contact_email=email.format(n=n),
            time_zone=zone,
        )
        for n, (tier, health, arr, email, zone) in enumerate(
            [
                ("enterprise", 80, Decimal("250000"), "c{n}@customer.example", "America/New_York"),
                ("premium", 55, Decimal("48000"), "c{n}@customer.example", "Europe/London"),
                ("standard", None, None, "c{n}@customer.example", "UTC"),
                ("enterprise", 30, Decimal("900000"), "c{n}@customer.example", "Asia/Tokyo"),
                ("premium", 70, None, "", "UTC"),  # no contact: no customer mail
                ("standard", 90, Decimal("1200"), "c{n}@customer.example", "Australia/Sydney"),
            ]
        )
    ]
    return World(channels, _policies(), manager, security, agents, accounts)


# --- the incidents: created and worked on through the services, in time order -----------------


NOTE = {name: f"{label}: as discussed on the bridge." for name, label in HANDOFF_FIELDS.items()}
CHECKS = list(CHECKLIST)


class Builder:
    """Schedules service calls at instants and runs them in time order, across incidents."""

    def __init__(self, world: World, rng: random.Random):
        self.world, self.rng = world, rng
        self.queue: list[tuple[datetime, int, object]] = []
        self.incidents: dict[int, int] = {}  # plan number -> pk

    def at(self, when: datetime, action) -> None:
        self.queue.append((when.replace(microsecond=0), len(self.queue), action))

    def run(self, sweeps=EARLIER_SWEEPS) -> None:
        for number, when in enumerate(sweeps):
            self.at(when, lambda now, number=number: self.sweep(now, number, len(sweeps)))
        for when, _seq, action in sorted(self.queue, key=lambda item: item[:2]):
            action(when)

    def sweep(self, now: datetime, number: int, sweeps: int) -> None:
        # The sweeper of those days saw a share of the incidents each time (cheaper than
        # all of them, and enough to leave earlier firings behind).
        share = [pk for n, pk in self.incidents.items() if n % sweeps == number]
        sla_sweep(now=now, batch_size=BATCH, only=share, set_based=False)

    def incident(self, n: int) -> Incident:
        return Incident.objects.select_related("account", "assignee").get(pk=self.incidents[n])

    def actor(self, incident: Incident):
        if incident.is_security:
            return self.rng.choice([self.world.security, self.world.manager])
        return self.rng.choice([*self.world.agents, self.world.manager])

    # one plan: an incident and what happens to it -------------------------------------------

    def open(self, n: int, *, policy: str, opened: datetime, **fields) -> None:
        def create(now):
            incident = services.incident_create(
                actor=self.world.manager,
                title=f"Differential {n:03d}: checkout fails",
                description="Payments time out at the gateway." if n % 3 else "",
                channel=self.world.channels[policy],
                opened_at=now,
                now=now,
                **fields,
            )
            self.incidents[n] = incident.pk

        self.at(opened, create)

    def escalate(self, n: int, when: datetime, to_level: int | None = None) -> None:
        self.at(when, lambda now: self.do_escalate(n, now, to_level))

    def do_escalate(self, n: int, now: datetime, to_level: int | None = None) -> None:
        incident = self.incident(n)
        top = self.world.top_level[self._policy(incident)]
        if not incident.is_open or incident.current_level >= top:
            return
        target = to_level or self.rng.randint(incident.current_level + 1, top)
        if target <= incident.current_level:
            return
        engine.incident_escalate(
            incident=incident,
            to_level=target,
            actor=self.world.manager,
            reason=f"Needs L{target}",
            category=self.rng.choice([*ENGINEER_CATEGORIES, *MANAGEMENT_CATEGORIES]),
            note=NOTE,
            checklist=CHECKS,
            now=now,
        )

    def de_escalate(self, n: int, when: datetime, to_level: int | None = None) -> None:
        self.at(when, lambda now: self.do_de_escalate(n, now, to_level))

    def do_de_escalate(self, n: int, now: datetime, to_level: int | None = None) -> None:
        incident = self.incident(n)
        first = self.world.first_level[self._policy(incident)]
        if incident.current_level <= first:
            return
        engine.incident_de_escalate(
            incident=incident,
            to_level=to_level or self.rng.randint(first, incident.current_level - 1),
            actor=self.world.manager,
            reason="Critical phase over",
            resolution_summary="Mitigated; follow-up stays with the lower level.",
            now=now,
        )

    def acknowledge(self, n: int, when: datetime) -> None:
        def run(now):
            incident = self.incident(n)
            if incident.status == "new":
                services.incident_acknowledge(
                    incident=incident, actor=self.actor(incident), now=now
                )

        self.at(when, run)

    def random_step(self, n: int, when: datetime) -> None:
        def run(now):
            incident = self.incident(n)
            actor = self.actor(incident)
            choices = ["comment", "comment", "public_update"]
            if not incident.is_open:
                choices.append("reopen")
            else:
                choices += ["escalate"] * 2 + ["status"] * 3
                if engine.pending_handoff(incident):
                    choices += ["take_handoff"] * 3
                if incident.current_level > 1:
                    choices += ["de_escalate"] * 2
            step = self.rng.choice(choices)
            if step == "comment":
                services.incident_comment(
                    incident=incident,
                    actor=actor,
                    body=f"Tried step {self.rng.randint(1, 99)}",
                    now=now,
                )
            elif step == "public_update":
                services.incident_post_public_update(
                    incident=incident, actor=actor, body="We are still working on it.", now=now
                )
            elif step == "reopen":
                services.incident_reopen(
                    incident=incident, actor=actor, reason="It came back.", now=now
                )
            elif step == "take_handoff":
                engine.handoff_acknowledge(incident=incident, actor=actor, now=now)
            elif step == "status":
                target = {
                    "new": ["acknowledged", "investigating"],
                    "acknowledged": ["investigating", "waiting_on_customer"],
                    "investigating": ["waiting_on_customer", "waiting_on_vendor", "resolved"],
                    "waiting_on_customer": ["investigating"],
                    "waiting_on_vendor": ["investigating"],
                }.get(incident.status, ["investigating"])
                services.incident_change_status(
                    incident=incident,
                    status=self.rng.choice(target),
                    actor=actor,
                    note="Fixed by a restart.",
                    now=now,
                )
            elif step == "escalate":
                self.do_escalate(n, now)
            else:
                self.do_de_escalate(n, now)

        self.at(when, run)

    def _policy(self, incident: Incident) -> str:
        return next(k for k, p in self.world.policies.items() if p.pk == incident.policy_id)


# Real time a level-1 resolution target spans (policy "four" counts office hours).
SPAN = {"two": 8 * H, "three": 4 * H, "four": 60 * H}


def plan_incidents(builder: Builder) -> None:
    rng, world = builder.rng, builder.world
    n = 0
    # Ping-pong: with this history the sweep's escalation is the bounce over the limit.
    for _ in range(6):
        policy = rng.choice(["two", "three"])
        lead = rng.randint(5, 50) * M
        opened = NOW - SPAN[policy] - lead  # 100 % of L1's resolution due just before NOW
        builder.open(
            n,
            policy=policy,
            opened=opened,
            severity=rng.choice(["P2", "P3"]),
            account=rng.choice(world.accounts),
        )
        builder.acknowledge(n, opened + 2 * M)
        moves = [10, 30] if policy == "three" else [10, 20, 30, 40]  # limit 1 / limit 3
        for index, minute in enumerate(moves):
            (builder.escalate if index % 2 == 0 else builder.de_escalate)(
                n, opened + minute * M, 2 if index % 2 == 0 else 1
            )
        n += 1
    # Already at the top when a clock runs out.
    for _ in range(6):
        policy = rng.choice(["two", "three", "four"])
        opened = NOW - SPAN[policy] * rng.uniform(1.05, 1.6)
        builder.open(
            n,
            policy=policy,
            opened=opened,
            severity=rng.choice(["P1", "P2", "P3"]),
            account=rng.choice(world.accounts),
            assignee=rng.choice(world.agents),
        )
        builder.escalate(n, opened + 3 * M, world.top_level[policy])
        n += 1
    for _ in range(RANDOM_INCIDENTS):
        policy = rng.choices(["two", "three", "four"], weights=[4, 3, 3])[0]
        security = rng.random() < 0.12
        opened = NOW - SPAN[policy] * rng.uniform(0.05, 2.2)
        fields = {
            "severity": rng.choices(["P0", "P1", "P2", "P3"], weights=[1, 2, 4, 3])[0],
            "is_security": security,
            "account": rng.choice([*world.accounts, None, None]),
            "assignee": rng.choice(
                [world.security, None] if security else [*world.agents, None, None]
            ),
            "users_affected": rng.choice([None, None, None, 5, 120]),
        }
        builder.open(n, policy=policy, opened=opened, **fields)
        steps = rng.choice([0, 0, 0, 1, 1, 2, 3, 4])
        for offset in sorted(rng.uniform(0.02, 1) for _ in range(steps)):
            builder.random_step(n, opened + (NOW - M - opened) * offset)
        n += 1
    # At the top when its maximum passes (seed 002's "Maximum"): the route tells management.
    # (Planned last, so the incidents above draw the same random numbers as before.)
    for _ in range(4):
        opened = NOW - 20 * H - rng.randint(5, 50) * M  # two-step L2: 16h target, 20h maximum
        builder.open(
            n, policy="two", opened=opened, severity=rng.choice(["P2", "P3"]), assignee=None
        )
        builder.escalate(n, opened + 3 * M, world.top_level["two"])
        n += 1


def build(seed: int = SEED) -> Builder:
    builder = Builder(make_world(), random.Random(seed))
    plan_incidents(builder)
    builder.run()
    return builder


# --- the snapshot of what a sweep wrote ---------------------------------------------------------

INCIDENT_IGNORED = {"updated_at"}  # moved by the wall clock (auto_now), not by `now`
STATUS_LINK = re.compile(r"/status/([^/\"]+)/")
ESCALATION_KEY = re.compile(r"escalation:(\d+)")
# Rows of these tables are compared one by one, per incident; any other table by its count.
RECORDS = {
    "escalations": (Escalation, ()),
    "events": (IncidentEvent, ("recorded_at",)),  # recorded_at: the wall clock's
    "firings": (Firing, ()),
    "trigger_firings": (TriggerFiring, ()),
    "notifications": (Notification, ("created_at", "message_id")),  # message_id: generated
}


def _row(obj, skip=()) -> dict:
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.attname not in {"id", "incident_id", *skip}
    }


class Normaliser:
    """Database ids and generated values out, stable names in: an escalation is its
    incident's reference and its ordinal there (by time), a signed status link what it
    grants, a Message-ID whether there is one."""

    def __init__(self):
        self.refs = dict(Incident.objects.values_list("pk", "reference"))
        ordinal = Counter()
        self.escalations = {}
        for pk, incident_id in Escalation.objects.order_by("incident_id", "at", "id").values_list(
            "pk", "incident_id"
        ):
            ordinal[incident_id] += 1
            self.escalations[pk] = f"{self.refs[incident_id]}#{ordinal[incident_id]}"

    def value(self, value):
        if isinstance(value, dict):
            return {key: self.item(key, item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        if isinstance(value, str):
            value = STATUS_LINK.sub(self._link, value)
            return ESCALATION_KEY.sub(lambda m: f"escalation:{self.escalations[int(m[1])]}", value)
        return value

    def item(self, key, value):
        if key in ("escalation", "escalation_id") and isinstance(value, int):
            return self.escalations[value]
        if key == "Message-ID":
            return "<generated>"
        return self.value(value)

    @staticmethod
    def _link(match) -> str:
        # Signed with a wall-clock timestamp: compare what it grants, not its bytes.
        return f"/status/<{signing.loads(match[1], salt=SALT)}>/"


def _by_content(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))


def marks() -> dict:
    """The highest id of each compared table: rows above it are the sweep's."""
    return {
        name: model.objects.order_by("-id").values_list("id", flat=True).first() or 0
        for name, (model, _skip) in RECORDS.items()
    }


def snapshot(since: dict) -> dict:
    """Per incident reference: its row, and its rows of every compared table (`new`:
    written by the sweep). Earlier rows are compared too: a sweep must not change them."""
    norm = Normaliser()
    per = {ref: {name: [] for name in RECORDS} for ref in norm.refs.values()}
    for incident in Incident.objects.all():
        per[incident.reference]["incident"] = norm.value(_row(incident, INCIDENT_IGNORED))
    for name, (model, skip) in RECORDS.items():
        for obj in model.objects.exclude(incident_id=None):
            row = norm.value(_row(obj, skip))
            row["new"] = obj.pk > since[name]
            if name == "escalations":
                row["label"] = norm.escalations[obj.pk]
            if name == "notifications":
                row["has_message_id"] = bool(obj.message_id)
            per[norm.refs[obj.incident_id]][name].append(row)
    # Within one sweep the two paths may append an incident's rows (timeline entries
    # above all) in another order, at the same `at`: each table is compared as a
    # multiset, sorted by content, never by id.
    for parts in per.values():
        for name in RECORDS:
            parts[name] = _by_content(parts[name])
    return per


def table_counts() -> dict:
    """Rows in every table: a write the snapshot does not look at still shows here."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def sweep_and_snapshot(*, set_based: bool) -> tuple[dict, dict, dict]:
    since = marks()
    result = sla_sweep(now=NOW, batch_size=BATCH, set_based=set_based)
    return result, snapshot(since), table_counts()


# How rows of each table are paired up to show what differs in them.
PAIRING = {
    "escalations": lambda row: row["label"],
    "events": lambda row: (row["kind"], str(row["at"]), row["data"].get("clock", "")),
    "firings": lambda row: (row["clock"], row["level"], row["percent"]),
    "trigger_firings": lambda row: (row["trigger"], row["key"]),
    "notifications": lambda row: row["dedup_key"],
}


def _changes(a, b, path: str) -> list[str]:
    """Where two values differ, as `path: a -> b` lines (dicts compared key by key)."""
    if a == b:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            line
            for key in sorted(set(a) | set(b), key=str)
            for line in _changes(a.get(key), b.get(key), f"{path}.{key}")
        ]
    return [f"{path}: {a!r} -> {b!r}"]


def differences(reference: dict, candidate: dict, incidents: int = 5, lines: int = 25) -> str:
    """What differs, incident by incident, as `set_based=False -> set_based=True`:
    changed columns and fields, and rows only one side wrote."""
    changed = [ref for ref in sorted(reference) if reference[ref] != candidate.get(ref)]
    out = [f"{len(changed)} of {len(reference)} incidents differ (set_based=False -> True):"]
    for ref in changed[:incidents]:
        a, b = reference[ref], candidate.get(ref) or {}
        found = _changes(a["incident"], b.get("incident"), "incident")
        for name, key in PAIRING.items():
            left = defaultdict(list)
            right = defaultdict(list)
            for row in a[name]:
                left[key(row)].append(row)
            for row in b.get(name, []):
                right[key(row)].append(row)
            for pair in sorted(set(left) | set(right), key=str):
                for index in range(max(len(left[pair]), len(right[pair]))):
                    x = left[pair][index] if index < len(left[pair]) else None
                    y = right[pair][index] if index < len(right[pair]) else None
                    if x is None or y is None:
                        side = "only set_based=False" if y is None else "only set_based=True"
                        found.append(f"{name} {pair}: {side}: {x or y}")
                    else:
                        found += _changes(x, y, f"{name} {pair}")
        out.append(f"=== {ref}")
        out += [f"  {line}" for line in found[:lines]]
        if len(found) > lines:
            out.append(f"  ... {len(found) - lines} more")
    return "\n".join(out)


def coverage(result: dict, snap: dict) -> dict:
    """How often the reference sweep took each path worth comparing."""

    def new(name, where=lambda row: True):
        return [row for parts in snap.values() for row in parts[name] if row["new"] and where(row)]

    escalations = new("escalations")
    notices = new("notifications")
    kinds = Counter(row["kind"] for row in notices)
    return {
        "claims": result.get("incidents", 0),
        "batches": result.get("batches", 0),
        "thresholds fired": len(new("firings")),
        "escalations": len(escalations),
        "escalations past the next level (policy route)": sum(
            e["to_level"] > e["from_level"] + 1 for e in escalations
        ),
        "escalations with limited distribution": sum(
            e["limited_distribution"] for e in escalations
        ),
        "escalations of an unacknowledged handoff": sum(
            e["clock"] == "handoff_ack" for e in escalations
        ),
        "escalations after a level's time limit": sum(
            e["clock"] == "time_at_level" for e in escalations
        ),
        "escalations whose note lists steps": sum(
            bool(e["note"]["facts"]["steps_logged"]) for e in escalations
        ),
        "incidents flagged (ping-pong)": len(
            new("events", lambda e: e["kind"] == EventKind.FLAGGED)
        ),
        "top-level breach notices": kinds["top_level_breach"],
        "escalation contacts told of an unacknowledged handoff": kinds["policy_notice"],
        "maximum notices": kinds["sla_maximum"],
        "customer acks": kinds["customer_ack"],
        "customer acks answering an earlier mail": sum(
            "In-Reply-To" in row["headers"] for row in notices if row["kind"] == "customer_ack"
        ),
        "review-flag notices": kinds["review_flag"],
        "assignee warnings": kinds["sla_warning"],
        "pre-escalation notices": kinds["pre_escalation"],
        # seed 004 status-update cadences: the owner, then the level's lead
        "missed-update warnings to owners": sum(
            row["kind"] == "update_overdue" and not row["context"].get("to_lead") for row in notices
        ),
        "missed-update warnings to leads": sum(
            row["kind"] == "update_overdue" and bool(row["context"].get("to_lead"))
            for row in notices
        ),
        "chat, paging and webhook notices": sum(row["channel"] != "email" for row in notices),
        "notices held for working hours": sum(row["next_attempt_at"] > NOW for row in notices),
    }


# What the seeded data set exercised when this test was written, roughly halved: a
# change that makes it miss a path fails here instead of passing with nothing compared.
MINIMUM = {
    "claims": 150,
    "batches": 3,
    "thresholds fired": 300,
    "escalations": 40,
    "escalations past the next level (policy route)": 2,
    "escalations with limited distribution": 3,
    "escalations of an unacknowledged handoff": 4,
    "escalations after a level's time limit": 3,
    "escalations whose note lists steps": 6,
    "incidents flagged (ping-pong)": 3,
    "top-level breach notices": 50,
    "escalation contacts told of an unacknowledged handoff": 14,
    "maximum notices": 8,
    "customer acks": 20,
    "customer acks answering an earlier mail": 15,
    "review-flag notices": 5,
    "assignee warnings": 200,
    "pre-escalation notices": 150,
    "missed-update warnings to owners": 12,
    "missed-update warnings to leads": 1,  # one lead hears it since maxima joined the mix
    "chat, paging and webhook notices": 40,
    "notices held for working hours": 50,
}


@pytest.fixture
def notice_channels(settings):
    # Critical and high notices also page and post to chat; overrides may add a webhook.
    settings.SLACK_WEBHOOK_URL = "https://hooks.slack.example/incidents"
    settings.PAGERDUTY_ROUTING_KEY = "pd-incidents"
    settings.NOTIFICATION_WEBHOOK_URL = "https://hooks.example/notify"


def test_set_based_sweep_writes_what_the_per_incident_sweep_writes(roles, notice_channels):
    build()
    start = transaction.savepoint_create()
    reference_result, reference, reference_counts = sweep_and_snapshot(set_based=False)
    transaction.savepoint_rollback(start)
    # The same starting point again; ids from sequences go on (PostgreSQL does not roll
    # them back), which the normalising takes care of.
    candidate_result, candidate, candidate_counts = sweep_and_snapshot(set_based=True)

    exercised = coverage(reference_result, reference)
    print("paths exercised:", json.dumps(exercised, indent=1))
    thin = {
        name: (exercised[name], least) for name, least in MINIMUM.items() if exercised[name] < least
    }
    assert not thin, f"the data set no longer exercises (found, wanted): {thin}"

    assert candidate == reference, differences(reference, candidate)
    changed = {
        label: (count, candidate_counts[label])
        for label, count in reference_counts.items()
        if candidate_counts[label] != count
    }
    assert not changed, f"rows per table (set_based=False, set_based=True): {changed}"
    # The counts the sweep reports (its `notifications` counts only the batched notices,
    # which a set-based path may well count differently: not compared).
    for key in ("incidents", "fired", "escalated", "batches"):
        assert candidate_result.get(key) == reference_result.get(key), key


# --- a sweep at the same instant again finds nothing -----------------------------------------


def small_world_with_one_of_each() -> Builder:
    """A warning only, an escalation with a customer ack, a ping-pong flag, a policy route
    past the next level, a limited-distribution escalation of an unacknowledged handoff."""
    builder = Builder(make_world(), random.Random(SEED))
    world = builder.world
    contact = world.accounts[0]
    # two-step, 5h of 8h: 50 % warns the assignee (first response met).
    builder.open(0, policy="two", opened=NOW - 5 * H, severity="P2", assignee=world.agents[0])
    builder.acknowledge(0, NOW - 5 * H + 5 * M)
    # two-step, 9h of 8h: 50 %, 75 %, then L1 -> L2, the customer told.
    builder.open(1, policy="two", opened=NOW - 9 * H, severity="P2", account=contact)
    builder.acknowledge(1, NOW - 9 * H + 5 * M)
    # three-tier: up and down once (limit 1), the sweep's move up is the bounce too many.
    opened = NOW - 4 * H - 20 * M
    builder.open(2, policy="three", opened=opened, severity="P3", account=contact)
    builder.acknowledge(2, opened + 2 * M)
    builder.escalate(2, opened + 10 * M, 2)
    builder.de_escalate(2, opened + 30 * M, 1)
    # four-level office: 8 business hours since Tuesday's opening; its ladder leads to L3.
    tuesday = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    builder.open(3, policy="four", opened=tuesday, severity="P2")
    builder.acknowledge(3, tuesday + 5 * M)
    # three-tier security: L2 at once; nobody takes the handoff within L2's hour.
    builder.open(4, policy="three", opened=NOW - 90 * M, severity="P2", is_security=True)
    builder.run(sweeps=())
    return builder


@pytest.mark.parametrize("set_based", [False, True])
def test_a_second_sweep_at_the_same_instant_writes_nothing(roles, set_based):
    small_world_with_one_of_each()
    first = sla_sweep(now=NOW, set_based=set_based)
    assert first["escalated"] == 4 and first["fired"] >= 10
    assert Escalation.objects.filter(at=NOW, limited_distribution=True).exists()
    assert Escalation.objects.filter(at=NOW, from_level=1, to_level=3).exists()
    assert IncidentEvent.objects.filter(at=NOW, kind=EventKind.FLAGGED).exists()
    assert Notification.objects.filter(dedup_key__startswith="customer_ack:escalation:").exists()
    since, counts = marks(), table_counts()
    before = snapshot(since)

    assert sla_sweep(now=NOW, set_based=set_based) == {}
    assert table_counts() == counts
    assert snapshot(since) == before


@pytest.mark.parametrize("set_based", [False, True])
def test_a_top_level_breach_leaves_nothing_due_at_the_same_instant(roles, set_based):
    builder = Builder(make_world(), random.Random(SEED))
    # At the top (L2) since 3 minutes after opening, 10h ago, nobody answering: first
    # response (2h), the handoff (2h) and 50 % of resolution (8h of 16h) are all due.
    builder.open(0, policy="two", opened=NOW - 10 * H, severity="P2")
    builder.escalate(0, NOW - 10 * H + 3 * M, 2)
    builder.run(sweeps=())
    sla_sweep(now=NOW, set_based=set_based)
    if not Notification.objects.filter(kind="top_level_breach").exists():
        pytest.fail("the scenario no longer breaches at the top level")

    assert sla_sweep(now=NOW, set_based=set_based) == {}
