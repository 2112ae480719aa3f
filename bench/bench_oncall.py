"""Benchmark for escalations.rules.oncall (issue 18): who is on call, 10,000 times.

The lookup is a pure function of (schedule, instant), so this script needs no database,
broker or Django: it builds 200 schedules the way teams write them and times
``on_call`` for 10,000 (schedule, instant) pairs spread over 2026, a third of them within
three days of a clock change (Europe, North America, Australia).

The schedules, in seven zones (three with European, North American and southern DST
rules, one without DST at all), each layer starting somewhere in 2025:
  * follow-the-sun: an Americas team weekly round the clock below a European team weekly
    on weekdays 08:00-20:00 (the day team wins in its hours);
  * primary/secondary: a weekly round-the-clock layer below a daily primary restricted to
    weekdays 09:00-18:00 (weekend turns skipped), a weekend cover layer on top
    (Friday 18:00 to Monday 09:00, weekly form);
  * RRULE rotations (Monday/Thursday handoffs, 12-hour shifts, every other week on
    Wednesday, on the 1st and 15th of the month), some restricted to business hours;
  * any of the above with 0-30 overrides over the year (swaps, sick days, leave with nobody).

Measured: the process's first pass over the 10,000 pairs (zone offset tables, built once
per process, and RRULE handoffs are built as lookups reach them); then, best of
--repeat as timeit does (other processes on the machine disturb the figures less), a cold
pass on freshly built schedule objects (their RRULE handoffs expanded again) and a warm
pass over the same pairs again; then each warm lookup timed on its own for percentiles.
Also, for information, the next 14 days of final shifts and gaps for every schedule (what
the coverage check will compute). Exits 1 when the best cold pass takes 100 ms or more
per 10,000 lookups, 2 if a lookup disagrees with the final shifts around it or between
passes.

Run from the repository root:  python bench/bench_oncall.py [--lookups N] [--repeat R] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from escalations.rules.oncall import OnCall, Schedule, final_shifts, gaps, on_call

BUDGET_MS = 100.0
SCHEDULES = 200

ZONES = [
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
    "UTC",
]
# 2026 clock changes: the EU, the US, Australia (both ways each).
CHANGES = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 4, 4, 16, tzinfo=UTC),
    datetime(2026, 10, 3, 16, tzinfo=UTC),
]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
# Handoffs on the 1st and 15th: not a fixed pattern, so expanded by dateutil (and cached).
EXPANDED_RULE = "FREQ=MONTHLY;BYMONTHDAY=1,15"
RRULES = [
    "FREQ=WEEKLY;BYDAY=MO,TH",
    "FREQ=HOURLY;INTERVAL=12",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
    EXPANDED_RULE,
]


def people(rng: random.Random, team: str, low: int = 3, high: int = 8) -> list[str]:
    return [f"{team}{i}" for i in range(rng.randint(low, high))]


def start_date(rng: random.Random) -> str:
    return (datetime(2025, 1, 1) + timedelta(days=rng.randrange(365))).date().isoformat()


def layer(rng: random.Random, team: str, recurrence: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": team,
        "people": people(rng, team),
        "recurrence": recurrence,
        "start": start_date(rng),
        "handoff": rng.choice(["09:00", "10:00", "08:30", "02:30", "00:00"]),
        **extra,
    }


def overrides(rng: random.Random, people_pool: list[str]) -> list[dict[str, Any]]:
    found = []
    for _ in range(rng.randint(0, 30)):
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(365 * 1440))
        length = timedelta(hours=rng.choice([2, 4, 8, 12, 24, 72, 168]))
        person = None if rng.random() < 0.1 else rng.choice([*people_pool, "swap-in"])
        found.append(
            {"person": person, "start": start.isoformat(), "end": (start + length).isoformat()}
        )
    return found


def schedule_spec(rng: random.Random, index: int) -> dict[str, Any]:
    kind = index % 4
    zone = ZONES[index % len(ZONES)]
    if kind == 0:  # follow the sun
        layers = [
            layer(rng, "amer", "weekly"),
            layer(
                rng,
                "emea",
                "weekly",
                restrictions=[{"days": WEEKDAYS, "from": "08:00", "to": "20:00"}],
            ),
        ]
    elif kind == 1:  # primary / secondary, weekend cover on top
        layers = [
            layer(rng, "secondary", "weekly"),
            layer(
                rng,
                "primary",
                "daily",
                restrictions=[{"days": WEEKDAYS, "from": "09:00", "to": "18:00"}],
            ),
            layer(
                rng,
                "weekend",
                "weekly",
                restrictions=[{"from": "fri 18:00", "to": "mon 09:00"}],
            ),
        ]
    elif kind == 2:  # RRULE
        layers = [layer(rng, "base", rng.choice(RRULES))]
        if rng.random() < 0.5:
            layers.append(
                layer(
                    rng,
                    "office",
                    "FREQ=WEEKLY;BYDAY=MO,TH",
                    restrictions=[{"days": WEEKDAYS, "from": "09:00", "to": "17:00"}],
                )
            )
    else:  # one plain rotation, every N days
        layers = [layer(rng, "team", rng.choice(["daily", "weekly"]), interval=rng.randint(1, 3))]
    pool = [p for item in layers for p in item["people"]]
    return {"timezone": zone, "layers": layers, "overrides": overrides(rng, pool)}


def workload(schedules: int, count: int, rng: random.Random) -> list[tuple[int, datetime]]:
    year = datetime(2026, 1, 1, tzinfo=UTC)
    pairs = []
    for i in range(count):
        if i % 3 == 0:
            at = rng.choice(CHANGES) + timedelta(seconds=rng.randrange(-3 * 86_400, 3 * 86_400))
        else:
            at = year + timedelta(seconds=rng.randrange(365 * 86_400))
        pairs.append((rng.randrange(schedules), at))
    return pairs


def build(specs: list[dict[str, Any]]) -> list[Schedule]:
    return [Schedule.from_spec(spec) for spec in specs]


def timed_pass(pairs: list[tuple[Schedule, datetime]]) -> tuple[float, list[OnCall | None]]:
    t0 = time.perf_counter()
    found = [on_call(schedule, at) for schedule, at in pairs]
    return time.perf_counter() - t0, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20260329)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    specs = [schedule_spec(rng, i) for i in range(SCHEDULES)]
    work = workload(SCHEDULES, args.lookups, rng)
    n = len(work)

    # The process's very first pass: the zones' offset tables are built here too.
    t0 = time.perf_counter()
    schedules = build(specs)
    build_seconds = time.perf_counter() - t0
    first_seconds, first = timed_pass([(schedules[i], at) for i, at in work])
    # Then best of --repeat: each repetition builds fresh schedule objects (cold: their
    # RRULE handoffs are expanded again) and then looks up the same pairs again (warm).
    colds, warms = [], []
    for _ in range(args.repeat):
        schedules = build(specs)
        pairs = [(schedules[i], at) for i, at in work]
        seconds, cold = timed_pass(pairs)
        colds.append(seconds)
        seconds, warm = timed_pass(pairs)
        warms.append(seconds)
    cold_seconds, warm_seconds = min(colds), min(warms)

    each = []
    clock = time.perf_counter_ns
    for schedule, at in pairs:
        t0 = clock()
        on_call(schedule, at)
        each.append(clock() - t0)
    each.sort()

    # Information: the next 14 days of coverage for every schedule, as the gap check will do.
    now = datetime(2026, 3, 20, tzinfo=UTC)
    t0 = time.perf_counter()
    coverage = [
        (final_shifts(s, now, now + timedelta(days=14)), gaps(s, now, now + timedelta(days=14)))
        for s in schedules
    ]
    coverage_seconds = time.perf_counter() - t0

    # Every 20th lookup must name the person of the final shift around it, and every pass
    # must answer the same.
    mismatches = 0
    for (schedule, at), found in list(zip(pairs, cold, strict=True))[::20]:
        around = final_shifts(schedule, at - timedelta(hours=1), at + timedelta(hours=1))
        person = next((s.person for s in around if s.start <= at < s.end), None)
        mismatches += (found.person if found else None) != person
    mismatches += sum(1 for a, b, c in zip(first, cold, warm, strict=True) if not a == b == c)

    rotations = [rotation for s in schedules for rotation in s.layers]
    rules = sum(1 for rotation in rotations if rotation.is_rrule)
    expanded = sum(1 for rotation in rotations if rotation.recurrence == EXPANDED_RULE)
    restricted = sum(1 for rotation in rotations if rotation.restrictions)
    override_count = sum(len(s.overrides) for s in schedules)
    nobody = sum(1 for found in cold if found is None)
    from_overrides = sum(1 for found in cold if found is not None and found.override is not None)
    shifts = sum(len(c[0]) for c in coverage)
    holes = sum(len(c[1]) for c in coverage)
    print(
        f"schedules: {len(schedules)} in {len(ZONES)} zones, {len(rotations)} layers "
        f"({rules} RRULE, {expanded} of them expanded by dateutil; {restricted} restricted), "
        f"{override_count} overrides; built in {build_seconds * 1000:.1f} ms"
    )
    print(
        f"lookups: {n} over 2026, a third within 3 days of a clock change; "
        f"{nobody} found nobody, {from_overrides} an override"
    )
    print(
        f"on_call, first pass of the process: {first_seconds * 1000:7.2f} ms "
        "(also builds the zones' offset tables)"
    )
    print(
        f"on_call cold, best of {args.repeat}:         {cold_seconds * 1000:7.2f} ms, "
        f"{cold_seconds / n * 1e6:.2f} us/lookup (fresh schedules: RRULE handoffs expanded)"
    )
    print(
        f"on_call warm, best of {args.repeat}:         {warm_seconds * 1000:7.2f} ms, "
        f"{warm_seconds / n * 1e6:.2f} us/lookup"
    )
    print(
        f"on_call each (warm, timed one by one): p50 {statistics.median(each) / 1000:.2f} us, "
        f"p99 {each[int(n * 0.99)] / 1000:.2f} us, max {each[-1] / 1000:.2f} us"
    )
    print(
        f"14-day final shifts + gaps for all {len(schedules)} schedules: "
        f"{coverage_seconds * 1000:.1f} ms ({shifts} shifts, {holes} gaps)"
    )
    print(f"lookups disagreeing with final shifts or between passes: {mismatches}")
    if mismatches:
        print("FAIL: inconsistent results")
        return 2
    budget = BUDGET_MS * n / 10_000
    if cold_seconds * 1000 >= budget:
        print(f"FAIL: cold lookups over budget ({BUDGET_MS:.0f} ms per 10,000)")
        return 1
    print(f"OK: cold lookups under {BUDGET_MS:.0f} ms per 10,000")
    return 0


if __name__ == "__main__":
    sys.exit(main())
