"""Shared set-up for the benchmark scripts: a throwaway PostgreSQL database and
fast bulk data (COPY), so figures are measured on the real database.

The benchmark database is `<DATABASE_URL's name>_bench` on the same server; it
is dropped and created again, never the database you work in.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_database(suffix: str = "bench", *, keep: bool = False) -> str:
    """Point Django at a fresh <name>_<suffix> database, migrated. Returns its URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "Benchmarks run on PostgreSQL: set DATABASE_URL=postgres://... "
            "(the script uses a separate <name>_bench database on that server)."
        )
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'portal'}_{suffix}"
    bench_url = urlunsplit(parts._replace(path=f"/{name}"))
    if not keep:
        import psycopg

        admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(
            admin_url.replace("postgres://", "postgresql://", 1), autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    if not keep:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    return bench_url


@contextmanager
def timed(label: str, results: dict):
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start


def percentile(values, pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values) -> str:
    values = list(values)
    return (
        f"median {statistics.median(values) * 1000:.2f} ms, "
        f"p95 {percentile(values, 95) * 1000:.2f} ms, max {max(values) * 1000:.2f} ms"
    )


def copy_rows(table: str, columns: list[str], rows) -> int:
    """COPY rows into a table: orders of magnitude faster than INSERTs for bulk data."""
    from django.db import connection

    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def bulk_incidents(
    count: int,
    *,
    policy_id: int | None,
    channel_id: int,
    opened_at,
    next_check_at,
    start: int = 0,
    severity: str = "P2",
    status: str = "investigating",
    assignee_id: int | None = None,
    extra=None,
) -> None:
    """`count` incidents via COPY; opened_at/next_check_at are values or f(n).

    `extra(n)` returns more column values for row n ({column: value}): it overrides
    the defaults above and may name other columns of the table (the same every row).
    """
    columns = [
        "reference",
        "title",
        "description",
        "severity",
        "channel_id",
        "is_production_outage",
        "is_security",
        "is_compliance",
        "is_customer_facing",
        "root_cause",
        "root_cause_key",
        "status",
        "current_level",
        "peak_level",
        "policy_id",
        "level_entered_at",
        "next_check_at",
        "opened_at",
        "reopened_count",
        "level_moves",
        "bounces",
        "flagged_for_review",
        "review_reason",
        "created_at",
        "updated_at",
        "assignee_id",
    ]

    def value(v, n):
        return v(n) if callable(v) else v

    now = datetime.now().astimezone()

    # Columns `extra` sets beyond the ones above (e.g. account_id, first_response_at):
    # the keys of its first row, the same for every row.
    if extra and count:
        columns += [key for key in extra(start) if key not in columns]

    def rows():
        for n in range(start, start + count):
            opened = value(opened_at, n)
            row = {
                "reference": f"BENCH-{n:08d}",
                "title": f"Benchmark incident {n}",
                "description": "",
                "severity": value(severity, n),
                "channel_id": channel_id,
                "is_production_outage": False,
                "is_security": False,
                "is_compliance": False,
                "is_customer_facing": False,
                "root_cause": "",
                "root_cause_key": "",
                "status": value(status, n),
                "current_level": 1,
                "peak_level": 1,
                "policy_id": policy_id,
                "level_entered_at": opened,
                "next_check_at": value(next_check_at, n),
                "opened_at": opened,
                "reopened_count": 0,
                "level_moves": 0,
                "bounces": 0,
                "flagged_for_review": False,
                "review_reason": "",
                "created_at": now,
                "updated_at": now,
                "assignee_id": value(assignee_id, n),
            }
            if extra:
                row.update(extra(n))
            yield [row[c] for c in columns]

    copy_rows("incidents_incident", columns, rows())


def bulk_opening_events(first_reference: str, last_reference: str) -> None:
    """One 'created' event per incident in the reference range (set-based SQL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO incidents_incidentevent (incident_id, at, recorded_at, kind,
                                                 visibility, body, data)
            SELECT id, opened_at, now(), 'created', 'internal', '', '{}'::jsonb
            FROM incidents_incident WHERE reference BETWEEN %s AND %s
            """,
            [first_reference, last_reference],
        )


def analyse() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def wait_until(condition: Callable[[], bool], *, timeout: float, step: float = 0.1) -> bool:
    """Poll `condition` every `step` seconds until it holds (True) or `timeout`
    seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)  # polling a condition, with a deadline
    return True


@contextmanager
def running(commands: dict[str, list[str]], *, env: dict, log_dir: Path, stop_timeout=30.0):
    """Start each command (name -> argv) in its own session in the project
    directory, stdout and stderr to <log_dir>/<name>.log; yields {name: Popen}.
    On the way out, however it is left: SIGTERM to each (a Celery worker then finishes
    its tasks and stops its children itself), a wait, and SIGKILL to the process group
    of whatever outlives `stop_timeout`."""
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, argv in commands.items():
            with open(log_dir / f"{name}.log", "wb") as log:
                processes[name] = subprocess.Popen(
                    argv,
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        yield processes
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
