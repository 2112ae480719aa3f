"""SLA sweep benchmark (issue: escalation engine), on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/bench_sweep.py

1. 100,000 open incidents, nothing due: a sweep must take at most 10 ms median,
   with a fixed number of queries (it reads only the partial next_check_at index).
2. 10,000 incidents crossing a threshold at once: at least 2,000 firings per
   second, timeline events and outbox rows included.
3. For information: incidents crossing 100 % (full escalations) per second.
Uses a separate <name>_bench database, created and dropped by the script.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from _bench import (
    analyse,
    bulk_incidents,
    bulk_opening_events,
    setup_database,
    summary,
)

TARGET_IDLE_MS = 10.0
TARGET_FIRINGS_PER_SECOND = 2000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--crossing", type=int, default=10_000)
    parser.add_argument("--escalating", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    setup_database("bench")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from escalations.engine.services import sla_sweep
    from escalations.models import Escalation, ThresholdFiring
    from escalations.policies.services import policy_create_from_spec
    from escalations.rules.spec import LevelSpec, TargetSpec, WorkflowSpec
    from incidents.models import Channel, IncidentEvent
    from notifications.models import Notification
    from portal.models import User

    hour = timedelta(hours=1)
    spec = WorkflowSpec(
        levels=(
            LevelSpec(
                1,
                "Front line",
                contacts=(("email", "frontline@example.com"),),
                sla=TargetSpec(resolution=8 * hour),
            ),
            LevelSpec(
                2,
                "Specialists",
                contacts=(("email", "specialists@example.com"),),
                sla=TargetSpec(resolution=16 * hour),
            ),
        )
    )
    policy = policy_create_from_spec(spec=spec, name="bench", make_default=True)
    channel = Channel.objects.get(code="RUNTIME")
    agent = User.objects.create(username="bench-agent", email="agent@example.com")
    now = timezone.now().replace(microsecond=0)
    failures = []

    print(f"Loading {args.open:,} open incidents with nothing due...", flush=True)
    started = time.perf_counter()
    bulk_incidents(
        args.open,
        policy_id=policy.pk,
        channel_id=channel.pk,
        opened_at=now - hour,
        next_check_at=now + 3 * hour,
        assignee_id=agent.pk,
    )
    bulk_opening_events("BENCH-00000000", f"BENCH-{args.open - 1:08d}")
    analyse()
    print(f"  loaded in {time.perf_counter() - started:.1f} s")

    timings, queries = [], set()
    for _ in range(args.runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = sla_sweep(now=now)
            timings.append(time.perf_counter() - started)
        assert result == {}, result
        queries.add(len(captured))
    idle_ms = statistics.median(timings) * 1000
    print(
        f"1. Idle sweep over {args.open:,} open incidents: {summary(timings)}; "
        f"queries per sweep: {sorted(queries)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT id FROM incidents_incident WHERE next_check_at <= %s "
            "ORDER BY next_check_at, id LIMIT 500 FOR UPDATE SKIP LOCKED",
            [now],
        )
        print("   plan: " + " / ".join(row[0].strip() for row in cursor.fetchall()[:3]))
    if idle_ms > TARGET_IDLE_MS:
        failures.append(f"idle sweep median {idle_ms:.2f} ms > {TARGET_IDLE_MS} ms")

    print(
        f"Loading {args.crossing:,} incidents whose 50 % threshold has just passed...", flush=True
    )
    start = args.open
    bulk_incidents(
        args.crossing,
        policy_id=policy.pk,
        channel_id=channel.pk,
        start=start,
        opened_at=now - 5 * hour,
        next_check_at=now - hour,
        assignee_id=agent.pk,
    )
    bulk_opening_events(f"BENCH-{start:08d}", f"BENCH-{start + args.crossing - 1:08d}")
    analyse()
    events_before = IncidentEvent.objects.count()
    started = time.perf_counter()
    result = sla_sweep(now=now)
    elapsed = time.perf_counter() - started
    firings = ThresholdFiring.objects.count()
    outbox = Notification.objects.count()
    events = IncidentEvent.objects.count() - events_before
    rate = firings / elapsed
    print(
        f"2. {args.crossing:,} incidents crossing 50 %: {firings:,} firings, {events:,} "
        f"timeline events, {outbox:,} outbox rows in {elapsed:.2f} s = {rate:,.0f} "
        f"firings/s ({result.get('batches')} batches)"
    )
    if firings != args.crossing or events != args.crossing or outbox != args.crossing:
        failures.append("crossing run did not record one firing, event and notice each")
    if rate < TARGET_FIRINGS_PER_SECOND:
        failures.append(f"{rate:,.0f} firings/s < {TARGET_FIRINGS_PER_SECOND:,}")

    if args.escalating:
        start += args.crossing
        bulk_incidents(
            args.escalating,
            policy_id=policy.pk,
            channel_id=channel.pk,
            start=start,
            opened_at=now - 9 * hour,
            next_check_at=now - 5 * hour,
            assignee_id=agent.pk,
        )
        bulk_opening_events(f"BENCH-{start:08d}", f"BENCH-{start + args.escalating - 1:08d}")
        analyse()
        started = time.perf_counter()
        sla_sweep(now=now)
        elapsed = time.perf_counter() - started
        moved = Escalation.objects.count()
        print(
            f"3. {args.escalating:,} incidents past 100 % (50/75/100 % and a full escalation "
            f"each): {moved:,} escalations in {elapsed:.2f} s = {moved / elapsed:,.0f} "
            f"escalations/s"
        )

    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("OK: all targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
