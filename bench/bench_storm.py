"""Escalation storms (issue 17), on PostgreSQL: full escalations per second, and a storm.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/11 .venv/bin/python bench/bench_storm.py

1. In process: --escalating incidents (2,000) past 100 % of their resolution clock,
   in the mix below, escalated by one timed `sla_sweep(now=now)`: at least 2,000
   escalations per second. It runs at a quarter of that size first, then at the full
   size, and prints the SQL statements of each claimed batch (SLA_SWEEP_BATCH
   incidents) for both, to show whether they stay constant. Then (1c) the full size
   again with --sweepers processes sweeping side by side (default 1 +
   SLA_SWEEP_HELPERS: the scheduler and the workers it asks for help in a storm).
   --per-incident passes `set_based=False` (the per-incident reference path) to
   this part.
2. Storm with the real processes: --storm incidents (10,000) whose resolution clocks
   all reach 100 % at one instant T0, a few seconds after `manage.py scheduler` (the
   sweep timer, every SLA_SWEEP_INTERVAL seconds) and a `celery worker` (delivering
   with Django's in-memory email backend) have started on the benchmark database and
   the broker in CELERY_BROKER_URL. The script polls the database every 100 ms and
   notes, for each incident, when its escalation record and its escalation notices
   (outbox rows keyed `escalation:<id>:...`) became visible: p99 of (visible - T0)
   at most 10 s, every incident escalated with its notices. --skip-storm leaves it
   out (then no broker is needed).

The mix: two policies, a 2-level ladder round the clock and a 4-level ladder in
business time (a desk open 08:00-20:00 every day, in a zone where the run falls in
open hours, so closed nights lie inside some clocks); severities P0-P3 (P0 and P1
with shorter targets from the policy matrix); about 5 % security incidents (limited
distribution), 40 % with a customer account whose primary contact gets the
escalation acknowledgement (none for security incidents), two thirds assigned, a
quarter of the 4-level incidents already at L2; every level has an email contact
and the receiving levels have teams whose members get the level notice. First
responses were made in time. The 50 % and 75 % thresholds have fired already (firing
rows written as earlier sweeps would have), so only the 100 % threshold is due: one
firing and one escalation per incident. With --all-thresholds they have not, and
50, 75 and 100 % fire together.

Uses a separate <name>_storm database, dropped and created by the script.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from _bench import (
    ROOT,
    analyse,
    bulk_incidents,
    bulk_opening_events,
    percentile,
    running,
    setup_database,
    wait_until,
)

TARGET_ESCALATIONS_PER_SECOND = 2000
TARGET_P99 = 10.0
POLL = 0.1  # seconds between two looks at the database during the storm
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
FIRST_RESPONSE_AFTER = 5 * MINUTE
SEVERITY_WEIGHTS = {"P0": 10, "P1": 20, "P2": 40, "P3": 30}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ESCALATION_NOTICES = "escalation:%"  # dedup keys of level notices: escalation:<id>:...


def desk_zone(now) -> str:
    """An Etc/GMT zone where it is about 14:00 now, so a desk open 08:00-20:00 is
    open for hours around the run (POSIX signs: Etc/GMT-3 is three hours east)."""
    offset = round(14 - (now.hour + now.minute / 60))
    offset = (offset + 12) % 24 - 12
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def make_world(now):
    """People, teams, customer accounts and the two policies the incidents use."""
    from django.contrib.auth.models import Group

    from escalations.policies.services import policy_create_from_spec
    from escalations.rules.spec import LevelSpec, TargetSpec, WorkflowSpec
    from incidents.models import Account, Channel
    from portal.models import User
    from portal.roles import ENGINEERING_MANAGER, SECURITY

    def people(team: str, count: int, *roles: str) -> list:
        group = Group.objects.create(name=team)
        found = []
        for n in range(count):
            slug = team.lower().replace(" ", "-")
            user = User.objects.create(username=f"{slug}-{n}", email=f"{slug}-{n}@example.com")
            user.groups.add(group, *Group.objects.filter(name__in=roles))
            found.append(user)
        return found

    agents = people("Storm front line", 3)
    people("Storm specialists", 2)
    people("Storm security engineers", 1, SECURITY)  # hears of security incidents
    Group.objects.get(name="Storm specialists").user_set.add(
        *Group.objects.get(name="Storm security engineers").user_set.all()
    )
    people("Storm managers", 2, ENGINEERING_MANAGER)

    zones = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")
    tiers = ("standard", "premium", "enterprise")
    accounts = [
        Account.objects.create(
            name=f"Storm customer {k}",
            tier=tiers[k % 3],
            health_score=40 + k,
            arr=50_000 * (k + 1),
            primary_contact_name=f"Customer contact {k}",
            primary_contact_email=f"ops@customer{k}.example.com",
            time_zone=zones[k % 4],
        )
        for k in range(25)
    ]

    ladder = WorkflowSpec(
        description="Storm benchmark: two levels, round the clock.",
        levels=(
            LevelSpec(
                1,
                "Front line",
                team="Storm front line",
                contacts=(("email", "frontline@example.com"),),
                sla=TargetSpec(first_response=30 * MINUTE, resolution=8 * HOUR),
            ),
            LevelSpec(
                2,
                "Specialists",
                team="Storm specialists",
                contacts=(("email", "specialists@example.com"),),
                sla=TargetSpec(first_response=HOUR, resolution=16 * HOUR),
            ),
        ),
        matrix=(
            (
                ("P0", 1),
                # No update cadence: since every incident's missed customer update warns its
                # owner, a cadence here would add those warnings to the storm's escalations.
                TargetSpec(first_response=15 * MINUTE, resolution=2 * HOUR),
            ),
            (("P1", 1), TargetSpec(resolution=4 * HOUR)),
        ),
    )
    desk_hours = {"timezone": desk_zone(now), "hours": {day: ["08:00-20:00"] for day in DAYS}}
    desk = WorkflowSpec(
        description="Storm benchmark: four levels in the desk's business hours.",
        calendars=(("storm-desk", desk_hours),),
        default_calendar="storm-desk",
        levels=(
            LevelSpec(
                1,
                "Service desk",
                team="Storm front line",
                contacts=(("email", "desk@example.com"),),
                sla=TargetSpec(first_response=30 * MINUTE, resolution=6 * HOUR),
            ),
            LevelSpec(
                2,
                "Engineering",
                team="Storm specialists",
                contacts=(("email", "engineering@example.com"),),
                sla=TargetSpec(first_response=HOUR, resolution=12 * HOUR),
            ),
            LevelSpec(
                3,
                "Engineering management",
                team="Storm managers",
                contacts=(("email", "managers@example.com"),),
                sla=TargetSpec(first_response=HOUR, resolution=24 * HOUR),
            ),
            LevelSpec(
                4,
                "Directors",
                contacts=(("email", "directors@example.com"),),
                sla=TargetSpec(first_response=2 * HOUR, resolution=48 * HOUR),
            ),
        ),
        matrix=(
            (("P0", 1), TargetSpec(resolution=2 * HOUR)),
            (("P0", 2), TargetSpec(resolution=4 * HOUR)),
            (("P1", 1), TargetSpec(resolution=3 * HOUR)),
        ),
    )
    policies = [
        policy_create_from_spec(spec=ladder, name="storm-ladder", make_default=True),
        policy_create_from_spec(spec=desk, name="storm-desk"),
    ]
    return {
        "channel": Channel.objects.get(code="RUNTIME"),
        "agents": agents,
        "accounts": accounts,
        "ladder": policies[0],
        "desk": policies[1],
        "desk_zone": desk_hours["timezone"],
    }


def draw_mix(world, count: int, seed: int) -> list[dict]:
    """The incidents' columns that make the mix, drawn once (reproducible by seed)."""
    rng = random.Random(seed)
    severities, weights = zip(*SEVERITY_WEIGHTS.items(), strict=True)
    rows = []
    for _ in range(count):
        on_desk = rng.random() < 0.5
        level = 2 if on_desk and rng.random() < 0.25 else 1
        rows.append(
            {
                "policy_id": (world["desk"] if on_desk else world["ladder"]).pk,
                "severity": rng.choices(severities, weights)[0],
                "current_level": level,
                "peak_level": level,
                "is_security": rng.random() < 0.05,
                "account_id": rng.choice(world["accounts"]).pk if rng.random() < 0.4 else None,
                "assignee_id": rng.choice(world["agents"]).pk if rng.random() < 2 / 3 else None,
                "first_response_at": None,  # set with the other instants by `place`
            }
        )
    return rows


def load(world, count: int, start: int, seed: int) -> tuple[int, int]:
    """`count` incidents of the mix with nothing due yet (`place` gives them their
    instants and opening events); returns their id range."""
    from django.db import connection
    from django.utils import timezone

    mix = draw_mix(world, count, seed)
    provisional = timezone.now()  # `place` sets the real instants
    bulk_incidents(
        count,
        policy_id=None,
        channel_id=world["channel"].pk,
        opened_at=provisional,
        next_check_at=None,
        start=start,
        extra=lambda n: mix[n - start],
    )
    first, last = f"BENCH-{start:08d}", f"BENCH-{start + count - 1:08d}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(id), max(id) FROM incidents_incident WHERE reference BETWEEN %s AND %s",
            [first, last],
        )
        return cursor.fetchone()


def crossing(spec, severity: str, level: int, t0):
    """When an incident of this severity, opened at `level`, must have opened for its
    resolution clock to reach 100 % exactly at t0 (whole seconds), in the policy's
    calendar; and that clock's earlier threshold instants."""
    from escalations.rules.clocks import IncidentFacts, compute_clocks

    def resolution(opened):
        facts = IncidentFacts(
            opened_at=opened,
            severity=severity,
            level=level,
            level_entered_at=opened,
            statuses=((opened, "new"),),
            first_response_at=opened + FIRST_RESPONSE_AFTER,
        )
        return next(r for r in compute_clocks(facts, spec, t0) if r.clock == "resolution")

    # The deadline moves earlier as the opening does: find the latest opening due by t0.
    early, late = int(timedelta(days=30).total_seconds()), 0  # seconds before t0
    while late < early:
        middle = (early + late) // 2
        if resolution(t0 - timedelta(seconds=middle)).due_at <= t0:
            early = middle
        else:
            late = middle + 1
    opened = t0 - timedelta(seconds=early)
    reading = resolution(opened)
    if reading.due_at != t0:
        raise SystemExit(
            f"No opening makes the {severity} L{level} resolution clock due at {t0:%H:%M:%S} "
            f"(calendar {reading.calendar_name} closed then?): nearest {reading.due_at}"
        )
    return opened, [instant for instant in reading.thresholds if instant.percent < 100]


def place(world, first_id: int, last_id: int, t0, *, prefire: bool) -> None:
    """Set the incidents' instants so that each resolution clock reaches 100 % at t0
    and next_check_at = t0, with their 'created' events and (prefire) the 50 and 75 %
    firings, in one transaction: they all become due together."""
    from django.db import connection, transaction

    from escalations.policies.services import policy_spec
    from incidents.models import Incident

    specs = {policy.pk: policy_spec(policy) for policy in (world["ladder"], world["desk"])}
    groups = (
        Incident.objects.filter(pk__range=(first_id, last_id))
        .order_by()  # no default ordering in the DISTINCT
        .values_list("policy_id", "severity", "current_level")
        .distinct()
    )
    where = "id BETWEEN %s AND %s AND policy_id = %s AND severity = %s AND current_level = %s"
    with transaction.atomic(), connection.cursor() as cursor:
        for policy_id, severity, level in list(groups):
            opened, earlier = crossing(specs[policy_id], severity, level, t0)
            chosen = [first_id, last_id, policy_id, severity, level]
            cursor.execute(
                "UPDATE incidents_incident SET opened_at = %s, level_entered_at = %s, "
                f"first_response_at = %s, next_check_at = %s WHERE {where}",
                [opened, opened, opened + FIRST_RESPONSE_AFTER, t0, *chosen],
            )
            for instant in earlier if prefire else ():
                cursor.execute(
                    "INSERT INTO escalations_thresholdfiring "
                    "(incident_id, clock, level, percent, action, due_at, fired_at) "
                    "SELECT id, 'resolution', current_level, %s, %s, %s, %s "
                    f"FROM incidents_incident WHERE {where}",
                    [instant.percent, instant.action, instant.at, instant.at, *chosen],
                )
        # Their 'created' events, now that they have their opening (events are append-only).
        cursor.execute(
            "SELECT min(reference), max(reference) FROM incidents_incident "
            "WHERE id BETWEEN %s AND %s",
            [first_id, last_id],
        )
        bulk_opening_events(*cursor.fetchone())


def check_placed(first_id: int, last_id: int, t0, *, prefire: bool) -> None:
    """One incident of each kind, read back as the sweep reads it: what is due at t0
    must be exactly the 100 % threshold (and 50/75 % without prefire), nothing sooner."""
    from escalations.policies.services import policy_spec
    from escalations.rules.clocks import compute_clocks, pending_thresholds
    from escalations.sla.services import fired_keys, incident_facts
    from incidents.models import Incident

    expected = [("resolution", 100)] if prefire else [("resolution", p) for p in (50, 75, 100)]
    kinds = ("policy_id", "severity", "current_level")
    samples = (
        Incident.objects.filter(pk__range=(first_id, last_id))
        .order_by(*kinds, "pk")
        .distinct(*kinds)  # PostgreSQL's DISTINCT ON: the first incident of each kind
        .select_related("policy")
    )
    for incident in samples:
        kind = (incident.policy_id, incident.severity, incident.current_level)
        readings = compute_clocks(incident_facts(incident), policy_spec(incident.policy), t0)
        pending = pending_thresholds(
            readings,
            level=incident.current_level,
            level_entered_at=incident.level_entered_at,
            fired=fired_keys(incident),
        )
        due = [(clock, instant.percent) for clock, instant in pending if instant.at <= t0]
        last = next((i for c, i in pending if c == "resolution" and i.percent == 100), None)
        if due != expected or last is None or last.at != t0 or incident.next_check_at != t0:
            raise SystemExit(f"{incident.reference} {kind}: due at T0 {due}, expected {expected}")


def table_counts(since=None) -> dict[str, int]:
    """Rows in the tables a sweep writes; with `since`, only those it wrote from then
    on (not the opening events and earlier firings `place` wrote before)."""
    from django.db import connection

    tables = {
        "escalations": ("escalations_escalation", "at"),
        "events": ("incidents_incidentevent", "at"),
        "firings": ("escalations_thresholdfiring", "fired_at"),
        "outbox": ("notifications_notification", "created_at"),
    }
    where = " WHERE {} >= %s" if since else ""
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT '{key}', count(*) FROM {table}" + where.format(column)
                for key, (table, column) in tables.items()
            ),
            [since] * len(tables) if since else None,
        )
        return dict(cursor.fetchall())


def outbox_by_kind(first_id: int, last_id: int) -> Counter:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kind, count(*) FROM notifications_notification "
            "WHERE incident_id BETWEEN %s AND %s GROUP BY kind ORDER BY count(*) DESC",
            [first_id, last_id],
        )
        return Counter(dict(cursor.fetchall()))


def expected_customer_acks(first_id: int, last_id: int) -> int:
    """Seed 003: an escalated incident's customer hears of it, unless it is a security one."""
    from incidents.models import Incident

    return (
        Incident.objects.filter(pk__range=(first_id, last_id), is_security=False)
        .exclude(account=None)
        .exclude(account__primary_contact_email="")
        .count()
    )


class QueryCounter:
    """SQL statements through Django's cursor, per claimed batch (the sweep's claim,
    SELECT ... FOR UPDATE SKIP LOCKED, starts each batch). Only counts: keeping every
    statement's text and time (CaptureQueriesContext) would weigh on the timed sweep.
    COPY runs on psycopg's own cursor and is not counted (nor would it be there)."""

    def __init__(self):
        self.per_batch: list[int] = []

    def __call__(self, execute, sql, params, many, context):
        if "SKIP LOCKED" in sql:
            self.per_batch.append(0)
        if self.per_batch:
            self.per_batch[-1] += 1
        return execute(sql, params, many, context)


def fmt_kinds(kinds: Counter) -> str:
    return ", ".join(f"{kind} {count:,}" for kind, count in kinds.most_common())


def side_by_side(sweepers: int, now, set_based: bool) -> None:
    """`sweepers` forked processes run one sla_sweep(now) each, at the same time, as the
    scheduler and its helpers do in a storm; returns when all have finished."""
    import multiprocessing

    from django.db import connections

    from escalations.engine.services import sla_sweep

    def sweep() -> None:
        try:
            sla_sweep(now=now, set_based=set_based)
        finally:
            connections.close_all()

    connections.close_all()  # each process opens its own connection
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=sweep) for _ in range(sweepers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    failed = [p.exitcode for p in processes if p.exitcode]
    if failed:
        raise SystemExit(f"FAILED: a sweeping process exited with {failed}")


def escalating(world, count: int, start: int, args, number: str, sweepers: int = 1) -> float:
    """Part 1 at one size: returns escalations per second; prints the figures."""
    from django.db import connection
    from django.utils import timezone

    from escalations.engine.services import sla_sweep

    first_id, last_id = load(world, count, start, seed=start + 1)
    now = timezone.now().replace(microsecond=0)
    t0 = now - MINUTE  # reached 100 % a minute ago, due since then
    place(world, first_id, last_id, t0, prefire=not args.all_thresholds)
    check_placed(first_id, last_id, t0, prefire=not args.all_thresholds)
    analyse()
    before = table_counts()
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        if sweepers == 1:
            result = sla_sweep(now=now, set_based=not args.per_incident)
        else:
            side_by_side(sweepers, now, set_based=not args.per_incident)
        elapsed = time.perf_counter() - started
    after = table_counts()
    delta = {key: after[key] - before[key] for key in after}
    rate = delta["escalations"] / elapsed
    path = f"sla_sweep(set_based={not args.per_incident})"
    if sweepers == 1:
        batches = counter.per_batch[: result.get("batches", 0)]
        statements = (
            f"     batches of up to {args.batch}: {len(batches)}; SQL statements per batch: "
            f"{', '.join(f'{n:,}' for n in batches)} ({sum(batches) / max(1, count):.1f} per "
            f"incident; COPYs not counted); "
        )
    else:
        path += f" in {sweepers} processes side by side, as the scheduler and its helpers"
        statements = "     "
    print(
        f"{number} {count:,} incidents past 100 % ({path}): {delta['escalations']:,} "
        f"escalations in {elapsed:.2f} s = {rate:,.0f} escalations/s\n"
        f"     {delta['firings']:,} threshold firings, {delta['events']:,} timeline events, "
        f"{delta['outbox']:,} outbox rows ({fmt_kinds(outbox_by_kind(first_id, last_id))})\n"
        f"{statements}load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    if delta["escalations"] != count:
        raise SystemExit(f"FAILED: {delta['escalations']:,} escalations for {count:,} incidents")
    return rate


def storm(world, args) -> list[str]:
    """Part 2: returns what missed its target."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    failures = []
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE incidents_incident CASCADE")  # part 1's rows and outbox
    print(f"Loading {args.storm:,} incidents for the storm...", flush=True)
    started = time.perf_counter()
    first_id, last_id = load(world, args.storm, start=10_000_000, seed=17)
    analyse()
    print(f"  loaded in {time.perf_counter() - started:.1f} s", flush=True)

    log_dir = Path(tempfile.mkdtemp(prefix="bench-storm-"))
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "INFO",  # the worker says when it is ready, the sweeps what they did
        "EMAIL_PROVIDER": "locmem",  # deliveries stay in the worker's memory
    }
    helpers = settings.SLA_SWEEP_HELPERS if args.helpers is None else args.helpers
    env["SLA_SWEEP_HELPERS"] = str(helpers)
    python = sys.executable
    commands = {
        "scheduler": [python, str(ROOT / "manage.py"), "scheduler"],
        "worker": [
            *(python, "-m", "celery", "-A", "portal", "worker", "--loglevel", "INFO"),
            *("--concurrency", str(args.workers), "--without-gossip", "--without-mingle"),
        ],
    }

    def logged(name: str, text: str) -> bool:
        return text in (log_dir / f"{name}.log").read_text(errors="replace")

    visible: dict[int, float] = {}  # incident -> seconds after T0 its escalation showed
    escalation_of: dict[int, int] = {}  # escalation -> incident
    noticed: dict[int, float] = {}  # escalation -> seconds after T0 its first notice showed
    exited = ""
    with running(commands, env=env, log_dir=log_dir, stop_timeout=60) as processes:

        def ready() -> bool:
            nonlocal exited
            exited = ", ".join(n for n, p in processes.items() if p.poll() is not None)
            return bool(exited) or (
                logged("scheduler", "scheduler started") and logged("worker", " ready.")
            )

        if not wait_until(ready, timeout=120, step=0.2) or exited:
            raise SystemExit(f"FAILED: processes not ready ({exited or 'timeout'}); {log_dir}")
        t0 = (timezone.now() + timedelta(seconds=args.lead)).replace(microsecond=0)
        place(world, first_id, last_id, t0, prefire=not args.all_thresholds)
        placed_at = timezone.now()
        if placed_at >= t0:
            failures.append(f"placing the incidents ended after T0: raise --lead ({args.lead:g})")
        check_placed(first_id, last_id, t0, prefire=not args.all_thresholds)
        print(
            f"2. Storm: {args.storm:,} incidents reach 100 % at T0 = {t0:%H:%M:%S} UTC "
            f"(placed {(t0 - placed_at).total_seconds():.1f} s before); scheduler every "
            f"{settings.SLA_SWEEP_INTERVAL:g} s (and when the next incident is due), worker "
            f"concurrency {args.workers}, {helpers} sweep helpers; "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        t0_wall = t0.timestamp()
        last_escalation = 0
        # The scheduler and its helpers take ids from the sequence and commit side by
        # side, so a lower id can become visible after a higher one: each look goes
        # back a margin of several concurrent batches (and a full read ends a run that
        # stops early). Notices are looked for only for escalations still without.
        margin = 2 * (1 + helpers) * settings.SLA_SWEEP_BATCH
        waiting: dict[int, int] = {}  # escalation without notices yet -> its incident

        def look(escalations_after: int) -> float:
            at = time.time() - t0_wall  # the snapshot below is at least this recent
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id, incident_id FROM escalations_escalation WHERE id > %s",
                    [escalations_after],
                )
                for pk, incident_id in cursor.fetchall():
                    visible.setdefault(incident_id, at)
                    if pk not in escalation_of:
                        escalation_of[pk] = waiting[pk] = incident_id
                if waiting:
                    cursor.execute(
                        "SELECT DISTINCT split_part(dedup_key, ':', 2)::bigint "
                        "FROM notifications_notification "
                        "WHERE incident_id = ANY(%s) AND dedup_key LIKE %s",
                        [list(set(waiting.values())), ESCALATION_NOTICES],
                    )
                    for (escalation_id,) in cursor.fetchall():
                        if waiting.pop(escalation_id, None) is not None:
                            noticed[escalation_id] = at
            return at

        deadline = time.monotonic() + args.lead + args.deadline
        tick = time.monotonic()
        progress = time.monotonic() + 30
        while True:
            at = look(max(0, last_escalation - margin))
            last_escalation = max(escalation_of, default=0)
            if len(visible) >= args.storm and not waiting:
                break
            exited = ", ".join(n for n, p in processes.items() if p.poll() is not None)
            if exited or time.monotonic() > deadline:
                look(0)  # anything a margin missed counts as seen now
                break
            if time.monotonic() > progress:
                progress += 30
                print(f"   ... +{at:.0f} s: {len(visible):,} escalated", flush=True)
            tick += POLL
            time.sleep(max(0.0, tick - time.monotonic()))  # the poll interval, no more
        load_average = os.getloadavg()

    if exited:
        failures.append(f"{exited} exited during the storm (logs in {log_dir})")
    missing = args.storm - len(visible)
    if missing:
        failures.append(f"{missing:,} incidents not escalated {args.deadline:g} s after T0")
    without = [pk for pk in escalation_of if pk not in noticed]
    if without:
        failures.append(f"{len(without):,} escalations without notices (e.g. {without[:3]})")
    latencies = list(visible.values())
    with_notices = [
        max(visible[incident], noticed[pk])
        for pk, incident in escalation_of.items()
        if pk in noticed
    ]

    def spread(values) -> str:
        if not values:
            return "none"
        return (
            f"min {min(values):.2f} s, p50 {percentile(values, 50):.2f} s, p95 "
            f"{percentile(values, 95):.2f} s, p99 {percentile(values, 99):.2f} s, "
            f"max {max(values):.2f} s"
        )

    counts = table_counts(since=t0)
    kinds = outbox_by_kind(first_id, last_id)
    acks_expected = expected_customer_acks(first_id, last_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT incident_id), min(n), max(n) FROM (SELECT e.incident_id, "
            "(SELECT count(*) FROM notifications_notification n WHERE n.incident_id = "
            "e.incident_id AND n.kind = 'escalation') AS n FROM escalations_escalation e) s"
        )
        escalated_incidents, fewest, most = cursor.fetchone()
        cursor.execute(
            "SELECT status, count(*) FROM notifications_notification GROUP BY status "
            "ORDER BY status"
        )
        statuses = ", ".join(f"{status} {n:,}" for status, n in cursor.fetchall())
    last = max(latencies, default=0.0)
    print(
        f"   escalation visible after T0: {spread(latencies)}\n"
        f"   with its notices in the outbox: {spread(with_notices)}\n"
        f"   {counts['escalations']:,} escalations ({escalated_incidents:,} incidents), "
        f"{counts['firings']:,} threshold firings, {counts['events']:,} timeline events, "
        f"{counts['outbox']:,} outbox rows ({fmt_kinds(kinds)})\n"
        f"   every escalation has its notices: {'yes' if not without else 'NO'} "
        f"({fewest}-{most} level notices each); customer acknowledgements "
        f"{kinds['customer_ack']:,} of {acks_expected:,} expected\n"
        f"   first escalations visible +{min(latencies, default=0):.2f} s, all by "
        f"+{last:.2f} s after T0 ({len(latencies) / last if last > 0 else 0:,.0f} "
        f"escalations/s from T0); "
        f"outbox by status when stopped: {statuses}; load average "
        f"{load_average[0]:.1f} / {load_average[1]:.1f} / {load_average[2]:.1f}",
        flush=True,
    )
    if kinds["customer_ack"] != acks_expected:
        failures.append(f"{kinds['customer_ack']:,} customer acks, {acks_expected:,} expected")
    p99 = percentile(with_notices, 99) if with_notices else float("inf")
    if p99 > TARGET_P99:
        failures.append(f"storm p99 {p99:.2f} s > {TARGET_P99:g} s")
    if failures:
        print(f"   process logs kept in {log_dir}")
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--escalating", type=int, default=2_000)
    parser.add_argument("--storm", type=int, default=10_000)
    parser.add_argument("--skip-storm", action="store_true")
    parser.add_argument(
        "--per-incident", action="store_true", help="part 1 with sla_sweep(set_based=False)"
    )
    parser.add_argument(
        "--all-thresholds",
        action="store_true",
        help="50 and 75 %% not fired before: three firings and an escalation each",
    )
    parser.add_argument("--workers", type=int, default=2, help="Celery worker concurrency")
    parser.add_argument(
        "--sweepers",
        type=int,
        default=None,
        help="processes sweeping side by side in part 1c (default 1 + SLA_SWEEP_HELPERS)",
    )
    parser.add_argument(
        "--helpers",
        type=int,
        default=None,
        help="SLA_SWEEP_HELPERS for the storm (workers sweeping beside the scheduler)",
    )
    parser.add_argument(
        "--lead", type=float, default=5.0, help="seconds from placing the incidents to T0"
    )
    parser.add_argument(
        "--deadline", type=float, default=900.0, help="seconds after T0 to wait at most"
    )
    args = parser.parse_args()
    if not args.skip_storm and not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        raise SystemExit(
            "The storm needs a real broker: set CELERY_BROKER_URL=redis://... "
            "(or pass --skip-storm)."
        )

    setup_database("storm")
    from django.conf import settings
    from django.utils import timezone

    from escalations.engine.services import sweep_warm_up

    args.batch = settings.SLA_SWEEP_BATCH
    world = make_world(timezone.now())
    # Part 1 sweeps in this process: start it as the scheduler and each worker start.
    sweep_warm_up()
    print(
        f"Policies: 2-level round the clock, 4-level in business hours (08:00-20:00 "
        f"{world['desk_zone']}); load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    failures = []
    if args.escalating:
        small = max(1, args.escalating // 4)
        escalating(world, small, 0, args, "1a.")
        rate = escalating(world, args.escalating, small, args, "1b.")
        sweepers = 1 + settings.SLA_SWEEP_HELPERS if args.sweepers is None else args.sweepers
        if sweepers > 1:
            start = small + args.escalating
            rate = max(rate, escalating(world, args.escalating, start, args, "1c.", sweepers))
        if rate < TARGET_ESCALATIONS_PER_SECOND:
            failures.append(f"{rate:,.0f} escalations/s < {TARGET_ESCALATIONS_PER_SECOND:,}")
    if args.storm and not args.skip_storm:
        failures += storm(world, args)

    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("OK: all targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
