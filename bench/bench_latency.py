"""Threshold-to-escalation latency with real Redis, a Celery worker, beat and the scheduler.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/bench_latency.py

Opens incidents whose resolution clocks reach 100 % at spread-out moments over
the next minutes, starts `celery worker`, `celery beat` and `manage.py scheduler`
(the SLA sweep runs every SLA_SWEEP_INTERVAL seconds, 5 by default), and measures, for each, the
time from the crossing instant to the escalation record. Target: p99 <= 10 s.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta

from _bench import ROOT, percentile, setup_database

TARGET_P99 = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=120)
    parser.add_argument("--spread", type=int, default=150, help="seconds over which they cross")
    args = parser.parse_args()
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        raise SystemExit("Set CELERY_BROKER_URL=redis://... (a real Redis) for this benchmark.")

    setup_database("latency")
    from django.conf import settings
    from django.utils import timezone

    from escalations.models import Escalation
    from escalations.policies.services import policy_create_from_spec
    from escalations.rules.spec import LevelSpec, TargetSpec, WorkflowSpec
    from incidents.models import Channel
    from incidents.services import incident_create

    target = timedelta(minutes=10)
    spec = WorkflowSpec(
        levels=(
            LevelSpec(1, "Front line", sla=TargetSpec(resolution=target)),
            LevelSpec(2, "Specialists", sla=TargetSpec(resolution=4 * target)),
        )
    )
    policy_create_from_spec(spec=spec, name="latency", make_default=True)
    channel = Channel.objects.get(code="RUNTIME")
    rng = random.Random(7)
    start = timezone.now().replace(microsecond=0) + timedelta(seconds=20)
    crossings = {}
    for n in range(args.incidents):
        crosses_at = start + timedelta(seconds=rng.randint(0, args.spread))
        opened = crosses_at - target
        incident = incident_create(
            actor=None,
            title=f"Latency {n}",
            severity="P3",
            channel=channel,
            opened_at=opened,
            now=opened,
        )
        crossings[incident.pk] = crosses_at
    print(
        f"{args.incidents} incidents cross 100 % between {start:%H:%M:%S} and "
        f"{start + timedelta(seconds=args.spread):%H:%M:%S} UTC; sweep every "
        f"{settings.SLA_SWEEP_INTERVAL:g} s.",
        flush=True,
    )

    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}
    python = sys.executable
    processes = [
        subprocess.Popen(
            [
                python,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--loglevel",
                "WARNING",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        ),
        subprocess.Popen(
            [python, "-m", "celery", "-A", "portal", "beat", "--loglevel", "WARNING"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        ),
        # the SLA sweep's timer (it is not beat's any more)
        subprocess.Popen(
            [python, str(ROOT / "manage.py"), "scheduler"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        ),
    ]
    try:
        deadline = time.monotonic() + args.spread + 120
        while time.monotonic() < deadline:
            done = Escalation.objects.count()
            if done >= args.incidents:
                break
            time.sleep(1)  # polling the database for the workers' results, with a deadline
        else:
            print(
                f"FAILED: only {Escalation.objects.count()} of {args.incidents} escalated "
                "before the deadline"
            )
            return 1
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    latencies = [
        (escalation.at - crossings[escalation.incident_id]).total_seconds()
        for escalation in Escalation.objects.all()
    ]
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(
        f"Crossing -> escalation recorded, {len(latencies)} incidents: min "
        f"{min(latencies):.2f} s, p50 {p50:.2f} s, p99 {p99:.2f} s, max {max(latencies):.2f} s"
    )
    if p99 > TARGET_P99:
        print(f"FAILED: p99 {p99:.2f} s > {TARGET_P99} s")
        return 1
    print("OK: p99 within target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
