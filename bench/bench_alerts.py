"""Alertmanager webhooks with deduplication through a real WSGI server (gunicorn).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/bench_alerts.py

Starts gunicorn on a fresh <database>_alerts database with a default escalation
policy and one Alertmanager integration, opens `--groups` alert groups, then sends
version-4 webhooks at a fixed rate (open loop: each request leaves at its
scheduled instant whether or not earlier ones have answered, and its latency counts
from that instant, so queueing is measured, not hidden). Most requests repeat an
open group (deduplicated: counted on its incident). Per group and
`--resolve-every` (50) requests: one opens an incident, one changes the group's
firing alerts (a timeline note), one resolves it; the other 47 (94 %) are plain
repeats.

Then a short closed-loop run with `--concurrency` connections shows the capacity.
Targets: at least 300 requests/s sustained, p99 under 100 ms at that rate, every
answer 200. The integration's rate limit is raised for the benchmark (the default,
300 per 5 minutes, would answer 429 within a second); its counter is still updated
on every request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import timedelta

from _bench import ROOT, percentile, setup_database

TARGET_RATE = 300
TARGET_P99 = 0.100


def payload(group: int, status: str, instances: int) -> bytes:
    """A version-4 webhook for alert group `group`, as Alertmanager sends it."""
    alerts = [
        {
            "status": status,
            "labels": {
                "alertname": f"HighLatency{group}",
                "instance": f"api-{n}:9100",
                "job": "api",
                "severity": "critical" if group % 5 == 0 else "warning",
            },
            "annotations": {
                "summary": f"p99 latency over 2 s on api group {group}",
                "description": "Requests are slow; check the database pool.",
            },
            "startsAt": "2026-11-20T08:12:30.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-20T09:00:00Z",
            "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=latency",
            "fingerprint": f"{group:08x}{n:08x}",
        }
        for n in range(instances)
    ]
    body = {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="HighLatency{group}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "escalation-portal",
        "groupLabels": {"alertname": f"HighLatency{group}"},
        "commonLabels": {"alertname": f"HighLatency{group}", "job": "api"},
        "commonAnnotations": None,
        "externalURL": "http://alertmanager.example.org:9093",
        "alerts": alerts,
    }
    return json.dumps(body).encode()


class Plan:
    """Which body each request sends: round-robin over the groups."""

    def __init__(self, groups: int, resolve_every: int):
        self.groups = groups
        self.resolve_every = resolve_every
        self.sent = Counter()
        self.bodies = {
            (g, s, i): payload(g, s, i)
            for g in range(groups)
            for s in ("firing", "resolved")
            for i in (2, 3)
        }

    def next(self, n: int) -> tuple[bytes, str]:
        group = n % self.groups
        self.sent[group] += 1
        count = self.sent[group]
        # Groups are out of step, as real ones are: no storm of resolves at once.
        position = (count + group * 17) % self.resolve_every
        if position == 0:
            return self.bodies[(group, "resolved", 3)], "resolve"
        # Half-way through, a third instance starts firing: the group changed (a
        # timeline note); the rest are plain repeats, counted on the open incident.
        instances = 3 if position >= self.resolve_every // 2 else 2
        return self.bodies[(group, "firing", instances)], "firing"


class Connections:
    """Keep-alive HTTP/1.1 connections to gunicorn, reused between requests."""

    def __init__(self, host: str, port: int, path: str):
        self.host, self.port, self.path = host, port, path
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def _open(self):
        return await asyncio.open_connection(self.host, self.port)

    async def post(self, body: bytes) -> int:
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        for attempt in range(2):
            reader, writer = self.idle.pop() if self.idle and not attempt else await self._open()
            try:
                writer.write(head + body)
                await writer.drain()
                status_line = await reader.readline()
                if not status_line:
                    raise ConnectionResetError("closed by the server")
                status = int(status_line.split()[1])
                length, close = 0, False
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                    elif name.lower() == "connection" and "close" in value.lower():
                        close = True
                await reader.readexactly(length)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                if attempt:
                    raise
                continue  # an idle connection the server had closed: once more, on a new one
            if close:
                writer.close()
            else:
                self.idle.append((reader, writer))
            return status
        raise AssertionError("unreachable")


async def open_loop(conns: Connections, plan: Plan, rate: float, seconds: float, start_n: int):
    """Requests leave at their scheduled instants; latency counts from that instant."""
    total = int(rate * seconds)
    loop = asyncio.get_running_loop()
    results: list[tuple[float, int, str]] = []
    tasks = []
    begin = loop.time() + 0.05

    async def one(n: int, at: float):
        body, kind = plan.next(n)
        status = await conns.post(body)
        results.append((loop.time() - at, status, kind, at - begin))

    for i in range(total):
        at = begin + i / rate
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # the load generator's pacing, not a test wait
        tasks.append(asyncio.create_task(one(start_n + i, at)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - begin
    return results, elapsed


async def closed_loop(conns: Connections, plan: Plan, concurrency: int, seconds: float, n0: int):
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    done = Counter()
    counter = iter(range(n0, 10**9))

    async def worker():
        while loop.time() < end:
            body, _ = plan.next(next(counter))
            done[await conns.post(body)] += 1

    begin = loop.time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, loop.time() - begin


def wait_until_up(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)  # polling the server's start-up, with a deadline
    raise SystemExit("gunicorn did not start in time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=320, help="offered requests per second")
    parser.add_argument("--seconds", type=float, default=30, help="measured open-loop run")
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--resolve-every", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=3, help="threads per worker")
    parser.add_argument("--concurrency", type=int, default=16, help="closed-loop connections")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8631)))
    parser.add_argument("--trace", action="store_true", help="latency per second of the run")
    args = parser.parse_args()

    bench_url = setup_database("alerts")
    from escalations.policies.services import policy_create_from_spec
    from escalations.rules.spec import LevelSpec, TargetSpec, WorkflowSpec
    from incidents.alerts import integration_create
    from incidents.models import AlertDedup, Incident

    policy_create_from_spec(
        spec=WorkflowSpec(
            levels=(
                LevelSpec(1, "On call", sla=TargetSpec(timedelta(minutes=15), timedelta(hours=4))),
                LevelSpec(2, "Service owners", sla=TargetSpec(timedelta(hours=1))),
            )
        ),
        name="alerts",
        make_default=True,
    )
    created = integration_create(
        kind="alertmanager", name="Prometheus", rate_limit=10**9, rate_window=300
    )
    from django.db import connections

    connections.close_all()

    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{args.port}",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--keep-alive",
            "30",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{args.port}/healthz", time.monotonic() + 60)
        path = f"/api/alerts/{created.token}/"
        plan = Plan(args.groups, args.resolve_every)
        conns = Connections("127.0.0.1", args.port, path)
        print(
            f"gunicorn: {args.workers} workers x {args.threads} threads (gthread), "
            f"{os.cpu_count()} cores; {args.groups} alert groups; PostgreSQL",
            flush=True,
        )

        async def run():
            # Open every group first (and warm the workers' connections).
            opened, _ = await open_loop(conns, plan, 100, args.groups / 100, 0)
            assert all(r[1] == 200 for r in opened), Counter(r[1] for r in opened)
            await open_loop(conns, plan, args.rate, args.warmup, args.groups)
            n = args.groups + int(args.rate * args.warmup)
            measured = await open_loop(conns, plan, args.rate, args.seconds, n)
            n += int(args.rate * args.seconds)
            capacity = await closed_loop(conns, plan, args.concurrency, 10, n)
            return measured, capacity

        (results, elapsed), (done, capacity_seconds) = asyncio.run(run())
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)

    latencies = [latency for latency, _, _, _ in results]
    statuses = Counter(status for _, status, _, _ in results)
    kinds = Counter(kind for _, _, kind, _ in results)
    if args.trace:
        by_second = {}
        for latency, _, kind, sent in results:
            by_second.setdefault(int(sent), []).append((latency, kind))
        for second, items in sorted(by_second.items()):
            lat = [x for x, _ in items]
            slow = Counter(k for x, k in items if x > 0.1)
            print(
                f"  t={second:3d}s p50 {percentile(lat, 50) * 1000:6.1f} ms, "
                f"max {max(lat) * 1000:6.1f} ms, over 100 ms: {dict(slow)}"
            )
    rate = len(results) / elapsed
    p50, p95, p99 = (percentile(latencies, p) for p in (50, 95, 99))
    print(
        f"Open loop at {args.rate:g}/s for {args.seconds:g} s: {len(results):,} webhooks "
        f"({kinds['firing']:,} firing, {kinds['resolve']:,} resolved) in {elapsed:.2f} s "
        f"= {rate:,.0f} requests/s; statuses {dict(statuses)}"
    )
    print(
        f"Latency from scheduled send: p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )
    capacity = sum(done.values()) / capacity_seconds
    print(
        f"Closed loop, {args.concurrency} connections for {capacity_seconds:.1f} s: "
        f"{capacity:,.0f} requests/s; statuses {dict(done)}"
    )
    dedup = AlertDedup.objects.all()
    print(
        f"Database: {Incident.objects.count():,} incidents for "
        f"{sum(d.triggers for d in dedup):,} alert triggers "
        f"({dedup.filter(is_open=True).count()} groups open)"
    )
    failed = []
    if rate < TARGET_RATE:
        failed.append(f"rate {rate:.0f}/s < {TARGET_RATE}/s")
    if p99 > TARGET_P99:
        failed.append(f"p99 {p99 * 1000:.1f} ms > {TARGET_P99 * 1000:.0f} ms")
    if set(statuses) != {200} or set(done) != {200}:
        failed.append("some answers were not 200")
    if failed:
        print("FAILED: " + "; ".join(failed))
        return 1
    print("OK: targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
