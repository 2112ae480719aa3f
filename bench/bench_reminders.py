"""Follow-up reminder sweep benchmark (issue: reviews, action items, war rooms), on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/bench_reminders.py

1. 20,000 reviews and 100,000 open action items, nothing due: a sweep must take at
   most 10 ms median with a fixed number of queries (one indexed claim per kind).
2. 5,000 action items overdue at once: at least 1,000 reminders per second, outbox rows
   included, each item reminded once.
Uses a separate <name>_bench database, created and dropped by the script.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from _bench import analyse, bulk_incidents, copy_rows, setup_database, summary

TARGET_IDLE_MS = 10.0
TARGET_REMINDERS_PER_SECOND = 1000
ITEMS_PER_REVIEW = 5


def bulk_reviews(*, owner_id: int, now, due_at, next_reminder_at) -> None:
    """A draft review for every benchmark incident that has none."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO escalations_postincidentreview (
                incident_id, status, required, required_reasons, owner_id, due_at,
                next_reminder_at, business_impact, timeline, root_cause_what, root_cause_why,
                root_cause_not_caught, root_cause_key, contributing_factors, went_well,
                went_poorly, prevention_confidence, created_at, updated_at)
            SELECT i.id, 'draft', true, '["P0 incident"]'::jsonb, %s, %s, %s, '', '[]'::jsonb,
                   '', '', '', '', '[]'::jsonb, '[]'::jsonb, '[]'::jsonb, '', %s, %s
            FROM incidents_incident i
            WHERE NOT EXISTS (
                SELECT 1 FROM escalations_postincidentreview r WHERE r.incident_id = i.id)
            """,
            [owner_id, due_at, next_reminder_at, now, now],
        )


def bulk_items(reviews, *, owner_id: int, now, due_at, next_reminder_at, per_review: int) -> int:
    columns = [
        "review_id",
        "incident_id",
        "title",
        "description",
        "owner_id",
        "due_date",
        "due_at",
        "status",
        "is_permanent_fix",
        "next_reminder_at",
        "created_at",
        "closing_note",
    ]

    def rows():
        for review_id, incident_id in reviews:
            for n in range(per_review):
                yield [
                    review_id,
                    incident_id,
                    f"Action item {n}",
                    "",
                    owner_id,
                    due_at.date(),
                    due_at,
                    "open",
                    n == 0,
                    next_reminder_at,
                    now,
                    "",
                ]

    return copy_rows("escalations_actionitem", columns, rows())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=20_000)
    parser.add_argument("--overdue", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    setup_database("bench")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from escalations.followup.reminders import reminder_sweep
    from escalations.models import ActionItem, PostIncidentReview
    from incidents.models import Channel
    from notifications.models import Notification
    from portal.models import User

    day = timedelta(days=1)
    channel = Channel.objects.get(code="RUNTIME")
    owner = User.objects.create(username="bench-owner", email="owner@example.com")
    now = timezone.now().replace(microsecond=0)
    failures = []

    items = args.reviews * ITEMS_PER_REVIEW
    print(f"Loading {args.reviews:,} reviews with {items:,} open action items...", flush=True)
    started = time.perf_counter()
    bulk_incidents(
        args.reviews,
        policy_id=None,
        channel_id=channel.pk,
        opened_at=now - 3 * day,
        next_check_at=None,
        status="resolved",
    )
    bulk_reviews(owner_id=owner.pk, now=now, due_at=now + day, next_reminder_at=now + 0.5 * day)
    pairs = list(PostIncidentReview.objects.values_list("pk", "incident_id"))
    bulk_items(
        pairs,
        owner_id=owner.pk,
        now=now,
        due_at=now + 10 * day,
        next_reminder_at=now + 8 * day,
        per_review=ITEMS_PER_REVIEW,
    )
    analyse()
    print(f"  loaded in {time.perf_counter() - started:.1f} s")

    timings, queries = [], set()
    for _ in range(args.runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = reminder_sweep(now=now)
            timings.append(time.perf_counter() - started)
        assert result == {}, result
        # One claim per kind of object; psycopg adds a BEGIN and COMMIT around each.
        queries.add(sum(1 for q in captured if q["sql"].startswith("SELECT")))
    idle_ms = statistics.median(timings) * 1000
    print(
        f"1. Idle reminder sweep over {args.reviews:,} reviews and {items:,} action items: "
        f"{summary(timings)}; SELECTs per sweep: {sorted(queries)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT id FROM escalations_actionitem WHERE next_reminder_at <= %s "
            "ORDER BY next_reminder_at, id LIMIT 200 FOR UPDATE SKIP LOCKED",
            [now],
        )
        print("   plan: " + " / ".join(row[0].strip() for row in cursor.fetchall()[:3]))
    if idle_ms > TARGET_IDLE_MS:
        failures.append(f"idle sweep median {idle_ms:.2f} ms > {TARGET_IDLE_MS} ms")
    if queries != {4}:
        failures.append(f"idle sweep ran {sorted(queries)} SELECTs, not one per kind (4)")

    print(f"Making {args.overdue:,} action items overdue...", flush=True)
    overdue_ids = list(
        ActionItem.objects.order_by("pk").values_list("pk", flat=True)[: args.overdue]
    )
    ActionItem.objects.filter(pk__in=overdue_ids).update(
        due_at=now - timedelta(hours=1), next_reminder_at=now - timedelta(hours=1)
    )
    analyse()
    started = time.perf_counter()
    result = reminder_sweep(now=now)
    elapsed = time.perf_counter() - started
    sent = Notification.objects.filter(kind="action_item_reminder").count()
    rate = result.get("item_overdue", 0) / elapsed
    print(
        f"2. {args.overdue:,} overdue action items: {result.get('item_overdue', 0):,} "
        f"reminders, {sent:,} outbox rows in {elapsed:.2f} s = {rate:,.0f} reminders/s"
    )
    if result.get("item_overdue") != args.overdue or sent != args.overdue:
        failures.append("the overdue run did not remind every item exactly once")
    if rate < TARGET_REMINDERS_PER_SECOND:
        failures.append(f"{rate:,.0f} reminders/s < {TARGET_REMINDERS_PER_SECOND:,}")
    if reminder_sweep(now=now) != {}:
        failures.append("a second sweep found work again")

    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("OK: all targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
