"""Benchmark for escalations.rules.business_time (no Django).

Builds a realistic Europe/Berlin support calendar (Mon-Fri with a lunch break, a short
Saturday, German public holidays for Berlin spelled out for 2024-2027) and times 10,000
``add`` calls whose business durations reach up to 30 days, a third of them with pauses,
plus the same number of ``elapsed`` calls. Exits non-zero when the 10,000 ``add`` calls
take a second or more, which is the requirement from the issue.

Run from the repository root:  python bench/bench_business_time.py [--calls N] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from escalations.rules.business_time import BusinessCalendar

BUDGET_SECONDS = 1.0

BERLIN_HOLIDAYS = [
    # 2024
    "2024-01-01", "2024-03-08", "2024-03-29", "2024-04-01", "2024-05-01", "2024-05-09",
    "2024-05-20", "2024-10-03", "2024-12-25", "2024-12-26",
    # 2025
    "2025-01-01", "2025-03-08", "2025-04-18", "2025-04-21", "2025-05-01", "2025-05-29",
    "2025-06-09", "2025-10-03", "2025-12-25", "2025-12-26",
    # 2026
    "2026-01-01", "2026-03-08", "2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14",
    "2026-05-25", "2026-10-03", "2026-12-25", "2026-12-26",
    # 2027
    "2027-01-01", "2027-03-08", "2027-03-26", "2027-03-29", "2027-05-01", "2027-05-06",
    "2027-05-17", "2027-10-03", "2027-12-25", "2027-12-26",
]  # fmt: skip

SPEC = {
    "timezone": "Europe/Berlin",
    "hours": {
        "mon": ["08:00-12:30", "13:15-17:30"],
        "tue": ["08:00-12:30", "13:15-17:30"],
        "wed": ["08:00-12:30", "13:15-17:30"],
        "thu": ["08:00-12:30", "13:15-17:30"],
        "fri": ["08:00-12:30", "13:15-16:00"],
        "sat": ["10:00-14:00"],
    },
    "holidays": BERLIN_HOLIDAYS,
}


def workload(calls: int, seed: int) -> list[tuple[datetime, timedelta, list]]:
    """Starts spread over 2024-2026, durations up to 30 days of business time (most of
    them short, as SLA targets are), every third call with one to three pauses."""
    rng = random.Random(seed)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    jobs = []
    for i in range(calls):
        start = base + timedelta(seconds=rng.randrange(3 * 365 * 86_400))
        if rng.random() < 0.7:
            duration = timedelta(seconds=rng.randrange(1, 3 * 86_400))
        else:
            duration = timedelta(seconds=rng.randrange(1, 30 * 86_400))
        pauses = []
        if i % 3 == 0:
            for _ in range(rng.randint(1, 3)):
                p = start + timedelta(seconds=rng.randrange(-86_400, 20 * 86_400))
                pauses.append((p, p + timedelta(seconds=rng.randrange(60, 4 * 86_400))))
        jobs.append((start, duration, pauses))
    return jobs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    calendar = BusinessCalendar.from_spec(SPEC)
    jobs = workload(args.calls, args.seed)

    t0 = time.perf_counter()
    deadlines = [calendar.add(start, duration, pauses) for start, duration, pauses in jobs]
    add_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    elapsed = [
        calendar.elapsed(start, deadline, pauses)
        for (start, _, pauses), deadline in zip(jobs, deadlines, strict=True)
    ]
    elapsed_seconds = time.perf_counter() - t0

    # Warm cache: the same calls again (a long-running worker's steady state).
    t0 = time.perf_counter()
    for start, duration, pauses in jobs:
        calendar.add(start, duration, pauses)
    warm_seconds = time.perf_counter() - t0

    mismatches = sum(
        1
        for (_, duration, _), spent in zip(jobs, elapsed, strict=True)
        if spent != timedelta(seconds=duration // timedelta(seconds=1))
    )
    longest = max(d - s for (s, _, _), d in zip(jobs, deadlines, strict=True) if d is not None)
    n = len(jobs)
    print(f"calendar: {calendar!r}"[:120] + "...")
    print(f"calls: {n}, with pauses: {sum(1 for j in jobs if j[2])}, longest real span: {longest}")
    print(f"add (cold cache):   {add_seconds:.4f} s total, {add_seconds / n * 1e6:.2f} us/call")
    print(f"add (warm cache):   {warm_seconds:.4f} s total, {warm_seconds / n * 1e6:.2f} us/call")
    per_call = elapsed_seconds / n * 1e6
    print(f"elapsed:            {elapsed_seconds:.4f} s total, {per_call:.2f} us/call")
    print(f"elapsed(s, add(s, d)) != d: {mismatches}")
    if mismatches:
        print("FAIL: inconsistent results")
        return 2
    if add_seconds >= BUDGET_SECONDS * n / 10_000:
        print(f"FAIL: add over budget ({BUDGET_SECONDS:.1f} s per 10,000 calls)")
        return 1
    print(f"OK: under {BUDGET_SECONDS:.1f} s per 10,000 add calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
