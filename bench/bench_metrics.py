"""Review queues, metrics page and admin incident list over a million incidents
(issue: manager review queues and metrics), on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/bench_metrics.py

Loads 1,000,000 incidents over two years (COPY) with 5,000,000 timeline events,
their escalations, some failed notifications, post-incident reviews of the P0 and
L3 incidents and two action items each (set-based SQL), then renders
the real pages through Django's test client as a signed-in manager:

1. the metrics page for a 90-day range: at most 1 s (median);
2. each review queue: at most 300 ms (median);
3. the admin incident list: at most 300 ms (median);
and, for information, the weekly report and a policy simulation.
Every page is rendered several times; the query count of each must not vary.
Uses a separate <name>_bench database (`--keep` reuses the data of the last run).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import timedelta

from _bench import copy_rows, setup_database, summary

TARGET_METRICS_S = 1.0
TARGET_QUEUE_S = 0.300
TARGET_ADMIN_S = 0.300
SEVERITIES = ("P0", "P1", "P2", "P3")
SEVERITY_WEIGHTS = (5, 15, 40, 40)
# seconds to acknowledge and to resolve (typical), first response and resolution targets
ACK = {"P0": 600, "P1": 1800, "P2": 3 * 3600, "P3": 8 * 3600}
RESOLVE = {"P0": 4 * 3600, "P1": 16 * 3600, "P2": 2 * 86400, "P3": 6 * 86400}
FR_TARGET = {"P0": 900, "P1": 3600, "P2": 4 * 3600, "P3": 8 * 3600}
RES_TARGET = {"P0": 4 * 3600, "P1": 24 * 3600, "P2": 3 * 86400, "P3": 10 * 86400}
OPEN = ("new", "acknowledged", "investigating", "waiting_on_customer", "mitigated")

INCIDENT_COLUMNS = [
    "reference", "title", "description", "severity", "channel_id", "category_id",
    "component_id", "account_id", "is_production_outage", "is_security", "is_compliance",
    "is_customer_facing", "root_cause", "root_cause_key", "status", "assignee_id",
    "current_level", "peak_level", "policy_id", "level_entered_at", "handoff_at",
    "handoff_acknowledged_at", "level_moves", "bounces", "flagged_for_review", "review_reason",
    "next_check_at", "opened_at", "acknowledged_at", "first_response_at", "resolved_at",
    "closed_at", "reopened_count", "csat_rating", "csat_at", "first_response_due_at",
    "resolution_due_at", "first_response_breached", "resolution_breached", "sla_warning_at",
    "sla_due_at", "created_at", "updated_at",
]  # fmt: skip


def load(args, now) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection

    from incidents.models import Account, Category, Channel, Component
    from portal.demo import COMPONENTS, TEAMS, ensure_people, ensure_policies, ensure_schedules
    from portal.models import User

    # The presets' levels page the demo's schedules, which must exist first.
    teams = {name: Group.objects.get_or_create(name=name)[0] for name in TEAMS}
    ensure_schedules(people=ensure_people(), teams=teams, now=now)
    ensure_policies()
    from escalations.models import Policy

    policy = Policy.objects.get(name="p0-p3-matrix", status="active")
    agents = [
        User.objects.create(username=f"agent{n}", email=f"agent{n}@example.com") for n in range(60)
    ]
    for user in agents:
        user.groups.add(Group.objects.get(name="Support Agent"))
    accounts = [
        Account.objects.create(
            name=f"Account {n}", tier=("standard", "premium", "enterprise")[n % 3]
        )
        for n in range(300)
    ]
    components = [Component.objects.get_or_create(name=name)[0] for name, _t, _x in COMPONENTS]
    categories = list(Category.objects.values_list("pk", flat=True))
    channels = list(Channel.objects.values_list("pk", flat=True))
    rng = random.Random(2026)
    span = 730 * 86400
    keys = [f"cause-{n}" for n in range(400)]
    agent_ids = [u.pk for u in agents]
    account_ids = [a.pk for a in accounts]
    component_ids = [c.pk for c in components]

    def rows():
        for n in range(args.incidents):
            opened = now - timedelta(seconds=int(span * (1 - (n + rng.random()) / args.incidents)))
            severity = rng.choices(SEVERITIES, SEVERITY_WEIGHTS)[0]
            age = (now - opened).total_seconds()
            is_open = rng.random() < (0.5 if age < 3 * 86400 else 0.004)
            ack_s = int(ACK[severity] * rng.uniform(0.1, 2.0))
            acked = (
                opened + timedelta(seconds=ack_s) if (not is_open or rng.random() < 0.7) else None
            )
            if acked is not None and acked > now:
                acked = None
            escalated = rng.random() < 0.08
            peak = rng.choice((2, 2, 2, 3)) if escalated else 1
            moves = (peak - 1) + (1 if escalated and rng.random() < 0.3 else 0)
            current = peak if not (moves > peak - 1) else 1
            resolved = closed = None
            status = rng.choice(OPEN[1:]) if acked else "new"
            res_s = int(RESOLVE[severity] * rng.uniform(0.2, 1.6))
            if not is_open:
                resolved = opened + timedelta(seconds=max(res_s, ack_s + 60))
                status = "closed" if rng.random() < 0.7 else "resolved"
                closed = resolved + timedelta(hours=2) if status == "closed" else None
            fr_due = opened + timedelta(seconds=FR_TARGET[severity])
            res_due = opened + timedelta(seconds=RES_TARGET[severity])
            fr_breached = (acked > fr_due) if acked else (True if fr_due <= now else None)
            res_breached = (resolved > res_due) if resolved else (True if res_due <= now else None)
            warning = due = None
            if is_open:
                live = [res_due] if acked else [fr_due, res_due]
                due = min(live)
                warning = opened + (due - opened) * 0.75
            unassigned = is_open and rng.random() < 0.15
            handoff = opened + timedelta(seconds=ack_s) if escalated else None
            handoff_ack = None if (is_open and rng.random() < 0.3) else handoff
            rated = resolved is not None and rng.random() < 0.3
            is_security = rng.random() < 0.03
            yield (
                f"BENCH-{n:08d}",
                f"Benchmark incident {n}",
                "",
                severity,
                rng.choice(channels),
                rng.choice(categories),
                rng.choice(component_ids),
                rng.choice(account_ids) if rng.random() < 0.6 else None,
                severity == "P0" and rng.random() < 0.5,
                is_security,
                False,
                rng.random() < 0.3,
                "",
                rng.choice(keys) if rng.random() < 0.1 else "",
                status,
                None if unassigned else rng.choice(agent_ids),
                current,
                peak,
                policy.pk,
                handoff or opened,
                handoff,
                handoff_ack,
                moves,
                max(0, moves - 1),
                is_open and rng.random() < 0.01,
                "",
                due,
                opened,
                acked,
                acked,
                resolved,
                closed,
                0,
                rng.choices((1, 2, 3, 4, 5), (5, 5, 10, 35, 45))[0] if rated else None,
                resolved + timedelta(days=1) if rated else None,
                fr_due,
                res_due,
                fr_breached,
                res_breached,
                warning,
                due,
                now,
                now,
            )

    copy_rows("incidents_incident", INCIDENT_COLUMNS, rows())
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        # One move up per escalated incident, a second for those that went to L3.
        cursor.execute(
            """
            INSERT INTO escalations_escalation (incident_id, from_level, to_level, trigger,
                category, reason, note, decision_sought, actor_id, at, clock, sla_percent,
                notify_groups, limited_distribution, acknowledged_at, decision_made,
                decision_at, resolution_summary)
            SELECT i.id, s.n, s.n + 1,
                   (ARRAY['sla','manual','severity','impact','manual'])[1 + (i.id % 5)],
                   (ARRAY['automatic','expertise','root_cause_unclear','cross_team',
                          'customer_request'])[1 + (i.id % 5)],
                   'Benchmark escalation', '{}'::jsonb,
                   CASE WHEN i.id % 3 = 0 THEN 'Approve the rollback?' ELSE '' END,
                   CASE WHEN i.id % 5 IN (1, 4) THEN i.assignee_id END,
                   i.handoff_at + (s.n - 1) * interval '1 hour', 'resolution', 80.0,
                   '[]'::jsonb, i.is_security, i.handoff_acknowledged_at,
                   CASE WHEN i.id % 3 = 0 AND i.id % 7 <> 0 THEN 'Approved' ELSE '' END,
                   CASE WHEN i.id % 3 = 0 AND i.id % 7 <> 0
                        THEN i.handoff_at + (s.n - 1) * interval '1 hour'
                             + (random() * 180) * interval '1 minute' END,
                   ''
            FROM incidents_incident i
            CROSS JOIN LATERAL generate_series(1, i.peak_level - 1) AS s(n)
            WHERE i.peak_level > 1
            """
        )
        # Five timeline events per incident: opened, acknowledged, a note or update,
        # two status changes.
        cursor.execute(
            """
            INSERT INTO incidents_incidentevent (incident_id, at, recorded_at, kind,
                                                 visibility, body, data)
            SELECT i.id,
                   i.opened_at + (s.n - 1) * interval '7 minutes',
                   now(),
                   (ARRAY['created','acknowledged','comment','status_changed',
                          'status_changed'])[s.n],
                   CASE WHEN s.n = 3 AND i.id % 2 = 0 THEN 'public' ELSE 'internal' END,
                   '',
                   CASE s.n WHEN 1 THEN jsonb_build_object('severity', i.severity)
                            WHEN 2 THEN '{"from": "new", "to": "acknowledged"}'::jsonb
                            WHEN 4 THEN '{"from": "acknowledged", "to": "investigating"}'::jsonb
                            WHEN 5 THEN jsonb_build_object('from', 'investigating',
                                                           'to', i.status)
                            ELSE '{}'::jsonb END
            FROM incidents_incident i CROSS JOIN generate_series(1, 5) AS s(n)
            """
        )
        cursor.execute(
            """
            INSERT INTO notifications_notification (incident_id, kind, channel, recipient,
                subject, body_text, body_html, payload, context, headers, message_id,
                dedup_key, urgent, status, attempts, next_attempt_at, last_error,
                provider_message_id, suppressed_reason, created_at, recipient_user_id,
                claim_token)
            SELECT i.id, 'sla_warning', 'email', 'agent' || (i.id % 60) || '@example.com',
                   'SLA warning', '', '', '{}'::jsonb, '{}'::jsonb, '{}'::jsonb, '',
                   'bench:' || i.id,
                   false, CASE WHEN i.id % 50 = 0 THEN 'failed' ELSE 'sent' END, 1,
                   i.opened_at, CASE WHEN i.id % 50 = 0 THEN '550 mailbox unavailable'
                   ELSE '' END, '', '', i.opened_at, NULL, ''
            FROM incidents_incident i WHERE i.id % 10 = 0
            """
        )
        # A review for every resolved incident that needs one (P0, or reached L3), due
        # 48 h after resolution: 80 % published (most within a day, some up to 3 days
        # later: late), the rest in review or a draft.
        cursor.execute(
            """
            INSERT INTO escalations_postincidentreview (incident_id, status, required,
                required_reasons, owner_id, due_at, next_reminder_at, business_impact,
                timeline, root_cause_what, root_cause_why, root_cause_not_caught,
                root_cause_key, contributing_factors, went_well, went_poorly,
                prevention_confidence, created_at, updated_at, submitted_at, published_at)
            SELECT p.id, p.status, true, '["P0 incident"]'::jsonb, p.owner_id, p.due_at, NULL,
                   '', '[]'::jsonb, '', '', '', '', '[]'::jsonb, '[]'::jsonb, '[]'::jsonb, '',
                   p.resolved_at, p.resolved_at,
                   CASE WHEN p.status <> 'draft' THEN p.published_at END,
                   CASE WHEN p.status = 'published' THEN p.published_at END
            FROM (
                SELECT i.id, COALESCE(i.assignee_id, %(fallback)s) AS owner_id, i.resolved_at,
                       i.resolved_at + interval '48 hours' AS due_at,
                       LEAST(%(now)s, i.resolved_at
                             + (CASE WHEN i.id %% 10 = 7 THEN 50 + random() * 30
                                     ELSE random() * 40 END) * interval '1 hour')
                           AS published_at,
                       CASE WHEN i.id %% 10 = 8 THEN 'in_review'
                            WHEN i.id %% 10 = 9 THEN 'draft'
                            ELSE 'published' END AS status
                FROM incidents_incident i
                WHERE i.resolved_at IS NOT NULL AND (i.severity = 'P0' OR i.peak_level >= 3)
            ) p
            """,
            {"fallback": agent_ids[0], "now": now},
        )
        # Two action items per review, due one and three weeks after it started (the
        # first is the permanent fix): of those due by now, most done by their due date,
        # some late, some dropped, some still open; later ones mostly open.
        cursor.execute(
            """
            INSERT INTO escalations_actionitem (review_id, incident_id, title, description,
                owner_id, due_date, due_at, status, is_permanent_fix, next_reminder_at,
                created_at, closed_at, closing_note)
            SELECT a.review_id, a.incident_id, a.title, '', a.owner_id, a.due_date,
                   a.due_at, a.status, a.permanent, NULL, a.created_at,
                   CASE a.status
                       WHEN 'done' THEN LEAST(%(now)s, a.due_at
                           + (CASE WHEN a.late THEN 1 + random() * 96
                                   ELSE -random() * 96 END) * interval '1 hour')
                       WHEN 'wont_do' THEN LEAST(%(now)s, a.created_at + interval '2 days')
                   END,
                   CASE WHEN a.status = 'wont_do' THEN 'Superseded' ELSE '' END
            FROM (
                SELECT r.id AS review_id, r.incident_id, r.owner_id, r.created_at,
                       'Benchmark action item ' || s.n AS title, s.n = 1 AS permanent,
                       (r.created_at + s.n * interval '7 days')::date AS due_date,
                       ((r.created_at + s.n * interval '7 days')::date + 1)::timestamp
                           AT TIME ZONE 'UTC' AS due_at,
                       (r.id + s.n) %% 10 = 0 AS late,
                       CASE WHEN (r.id + s.n) %% 20 = 1 THEN 'wont_do'
                            WHEN (r.created_at + s.n * interval '7 days')::date + 1
                                 > %(now)s::date
                                 AND (r.id + s.n) %% 3 <> 0 THEN 'open'
                            WHEN (r.id + s.n) %% 25 = 2 THEN 'in_progress'
                            ELSE 'done' END AS status
                FROM escalations_postincidentreview r CROSS JOIN generate_series(1, 2) AS s(n)
            ) a
            """,
            {"now": now},
        )
        # What autovacuum would have done by now: statistics and the visibility map.
        cursor.execute("VACUUM ANALYZE")


def measure(client, url, runs, params=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, counts = [], set()
    client.get(url, params or {})  # warm: templates, content types, policy specs
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, params or {})
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        counts.add(len(captured))
    return timings, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="reuse the last run's data")
    args = parser.parse_args()

    import os

    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    setup_database("bench", keep=args.keep)
    if args.keep:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # indexes added since the data was loaded
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from escalations.analytics import queues
    from escalations.models import ActionItem, Policy, PostIncidentReview
    from escalations.policies.services import policy_fork
    from incidents.models import Incident, IncidentEvent
    from portal.models import User

    now = timezone.now().replace(microsecond=0)
    if not args.keep:
        print(f"Loading {args.incidents:,} incidents and their timelines...", flush=True)
        started = time.perf_counter()
        load(args, now)
        print(f"  loaded in {time.perf_counter() - started:.0f} s", flush=True)
    print(
        f"{Incident.objects.count():,} incidents, {IncidentEvent.objects.count():,} timeline "
        f"events, {PostIncidentReview.objects.count():,} reviews, "
        f"{ActionItem.objects.count():,} action items",
        flush=True,
    )
    manager, _ = User.objects.get_or_create(
        username="bench-manager", defaults={"is_staff": True, "email": "m@example.com"}
    )
    manager.groups.add(Group.objects.get(name="Engineering Manager"))
    client = Client()
    client.force_login(manager)
    failures = []

    today = timezone.localdate(now)
    period = {"start": str(today - timedelta(days=89)), "end": str(today)}
    timings, counts = measure(client, reverse("metrics"), args.runs, period)
    median = statistics.median(timings)
    print(f"1. Metrics page, 90 days: {summary(timings)}; queries {sorted(counts)}")
    if median > TARGET_METRICS_S or len(counts) != 1:
        failures.append(f"metrics page median {median * 1000:.0f} ms or varying queries")

    for queue in queues.queues_for(manager):
        timings, counts = measure(client, reverse("queue", args=[queue.slug]), args.runs)
        median = statistics.median(timings)
        count = queues.queue_counts([queue], manager, now=timezone.now(), filters={})
        print(
            f"2. Queue {queue.title!r} ({count[queue.slug]} rows): "
            f"{summary(timings)}; queries {sorted(counts)}"
        )
        if median > TARGET_QUEUE_S or len(counts) != 1:
            failures.append(f"queue {queue.slug} median {median * 1000:.0f} ms")

    timings, counts = measure(client, "/admin/incidents/incident/", args.runs)
    median = statistics.median(timings)
    print(f"3. Admin incident list: {summary(timings)}; queries {sorted(counts)}")
    if median > TARGET_ADMIN_S or len(counts) != 1:
        failures.append(f"admin incident list median {median * 1000:.0f} ms")
    timings, counts = measure(
        client, "/admin/incidents/incident/", args.runs, {"severity__exact": "P1", "p": "3"}
    )
    print(f"   filtered (P1, page 4): {summary(timings)}; queries {sorted(counts)}")

    timings, counts = measure(client, reverse("weekly_report"), 3)
    print(f"4. Weekly report page (information): {summary(timings)}; queries {sorted(counts)}")

    live = Policy.objects.get(name="p0-p3-matrix", status="active")
    draft = Policy.objects.filter(name=live.name, status="draft").first() or policy_fork(
        policy=live
    )
    week = {"draft": draft.pk, "start": str(today - timedelta(days=6)), "end": str(today)}
    week["same_name"] = "on"
    timings, counts = measure(client, reverse("simulation"), 3, week)
    print(
        f"5. Simulation of the last 7 days, newest 2,000 incidents replayed (information): "
        f"{summary(timings)}"
    )

    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("OK: all targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
