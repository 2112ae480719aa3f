"""Outbox drain benchmark: 10,000 pending emails through anymail's test backend.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/bench_outbox.py

Each row is a real sweep-style notice (an SLA warning with its JSON snapshot), so
delivery includes rendering its text and HTML bodies, the anymail send, and
recording the outcome. Target: at least 500 per second in one worker process.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from _bench import bulk_incidents, setup_database

TARGET = 500


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    setup_database("bench")
    from django.conf import settings
    from django.utils import timezone

    from escalations.notices import compose as notices
    from escalations.policies import reach
    from escalations.rules.clocks import ClockReading
    from incidents.models import Channel, Incident
    from notifications.models import Notification, Status
    from notifications.services import deliver_due
    from portal.bulk import append_rows

    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    now = timezone.now()
    channel = Channel.objects.get(code="RUNTIME")
    bulk_incidents(100, policy_id=None, channel_id=channel.pk, opened_at=now, next_check_at=None)
    incidents = list(Incident.objects.all())
    reading = ClockReading(
        "resolution",
        timedelta(hours=8),
        "24/7",
        now,
        now + timedelta(hours=8),
        timedelta(hours=4),
        "running",
    )
    rows = []
    for n in range(args.count):
        incident = incidents[n % len(incidents)]
        rows += notices.build(
            kind="sla_warning",
            incident=incident,
            recipients=[reach.Recipient("email", f"person{n}@example.com")],
            context={"clock": notices.clock_snapshot(reading), "percent": 50},
            dedup_base=f"bench-{n}",
            urgent=False,
            now=now,
        )
    append_rows(Notification, rows)
    print(
        f"{Notification.objects.filter(status=Status.PENDING).count():,} pending emails "
        "queued; draining in this process...",
        flush=True,
    )

    started = time.perf_counter()
    result = deliver_due(limit=args.count, now=now + timedelta(seconds=1))
    elapsed = time.perf_counter() - started
    rate = result["sent"] / elapsed
    print(
        f"Sent {result['sent']:,} in {elapsed:.2f} s = {rate:,.0f} emails/s per worker "
        f"process (failed {result['failed']}, retrying {result['retrying']})"
    )
    sample = Notification.objects.filter(status=Status.SENT).first()
    assert sample.body_html and sample.provider_message_id
    if result["sent"] != args.count or rate < TARGET:
        print(f"FAILED: target {TARGET}/s with every row sent")
        return 1
    print("OK: target met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
