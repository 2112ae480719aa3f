"""The weekly escalation report (seed 004): a selector, read-only, figures in SQL.

`weekly_report` returns plain data (dicts, lists, strings, numbers): the same
report feeds the page, the YAML and JSON downloads and the email. A week runs
Monday 00:00 to the next Monday 00:00 in the reader's time zone; the figures
cover incidents opened that week (and escalations made that week), with the
same visibility rules and formulas as the metrics page.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q
from django.urls import reverse

from escalations.analytics import queues
from escalations.analytics.metrics import (
    CSAT_TARGET,
    HANDOFF_TARGET,
    SLA_TARGET,
    as_timedelta,
    elapsed_between,
    handoff_counts,
    handoff_share,
    pct,
    period_for,
    severity_summary,
)
from escalations.models import ActionItem, Escalation, Trigger
from escalations.rules.durations import humanize
from incidents.models import Incident
from incidents.rules import Severity
from incidents.selectors import visibility_q

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
SEV = {s.value: s.sev for s in Severity}  # P0 -> "Sev 1"


def week_start_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def last_complete_week(now: datetime, tz) -> date:
    """Monday of the week before the one `now` falls in (in `tz`)."""
    return week_start_of(now.astimezone(tz).date()) - timedelta(days=7)


def week_label(monday: date) -> str:
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def parse_week(text: str) -> date:
    """'2026-W10' -> the Monday of that ISO week; ValueError if not a week."""
    match = WEEK.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a week like 2026-W10")
    return date.fromisocalendar(int(match[1]), int(match[2]), 1)


def _bounds(monday: date, tz) -> tuple[datetime, datetime]:
    return (
        datetime.combine(monday, time.min, tzinfo=tz),
        datetime.combine(monday + timedelta(days=7), time.min, tzinfo=tz),
    )


def _rate(part, whole) -> float | None:
    value = pct(part, whole)
    return None if value is None else round(value, 1)


def _change(now: int, before: int) -> str:
    if now == before:
        return "same as last week"
    return f"{now} this week vs {before} last week"


# --- trends and their actions (seed 004's weekly report: each trend, then "Action: ...") ------


def trend_action(kind: str, now: int, before: int, *, owner: str = "") -> str:
    """The "Action:" line under a trend line: what a manager does about the figure.
    kind: "incidents", "escalations" or "component" (`owner`: its owning team). Rising
    escalations: seed 001's "review escalation reasons monthly; coach agents on issues
    they should be resolving at their tier"; a rising component: seed 004's "Action:
    Engaging engineering for investigation"."""
    if now > before:
        return {
            "incidents": "Action: Look for a common cause in the new incidents with the team leads",
            "escalations": "Action: Review this week's escalation reasons with the team "
            "leads; coach on issues the tier should resolve",
            "component": f"Action: Engaging {owner or 'engineering'} for investigation",
        }[kind]
    if now < before:
        return {
            "incidents": "Action: None; keep the current measures",
            "escalations": "Action: None; keep the current measures",
            "component": "Action: None; confirm the fix holds next week",
        }[kind]
    return "Action: None"


def trend_lines(
    incidents: tuple[int, int],
    escalations: tuple[int, int],
    components: list[dict],
    handoff_percent: float | None,
) -> list[str]:
    """Seed 004's `trends`: each trend line followed by its "Action:" line."""
    lines = [
        f"Incidents: {_change(*incidents)}",
        trend_action("incidents", *incidents),
        f"Escalations: {_change(*escalations)}",
        trend_action("escalations", *escalations),
    ]
    for row in components:
        direction = "increasing" if row["now"] > row["before"] else "decreasing"
        lines += [
            f"{row['component__name']} issues {direction} "
            f"({row['now']} this week vs {row['before']} last week)",
            trend_action(
                "component", row["now"], row["before"], owner=row["component__owning_team__name"]
            ),
        ]
    if handoff_percent is not None and handoff_percent <= HANDOFF_TARGET:
        lines += [
            f"Handoffs acknowledged in target: {handoff_percent:.0f}% "
            f"(target > {HANDOFF_TARGET:.0f}%)",
            "Action: Check the receiving levels' on-call schedules and paging",
        ]
    return lines


def weekly_report(
    *, user, monday: date, tz, now: datetime, site_url: str = "", with_queues: bool = False
) -> dict:
    """Seed 004's weekly_report for the week starting `monday`, as `user` may see it.

    `with_queues` adds the review queues as they stand at `now` (the same
    queries as the queues page): for the report of the week just ended.
    """
    tz = ZoneInfo(str(tz))
    start, end = _bounds(monday, tz)
    previous_start = start - timedelta(days=7)
    this = period_for(user, start=start, end=end, now=now, filters={}, levels=())
    before = period_for(user, start=previous_start, end=start, now=now, filters={}, levels=())
    summary, summary_before = severity_summary(this), severity_summary(before)

    # Escalations made during the week (any incident), by the incident's severity.
    made = _escalations_made(user, previous_start, start, end)
    escalations = {s: made[f"now_{s}"] for s in SEV}
    escalations_before = sum(made[f"before_{s}"] for s in SEV)
    # Seed 004 "All escalations met SLA response times": this week's handoffs against
    # the receiving level's acknowledgement target (one query).
    handoffs = handoff_counts(
        Escalation.objects.filter(visibility_q(user, "incident__"), at__gte=start, at__lt=end),
        now=now,
        by_level=False,
    )
    handoff_percent = handoff_share(handoffs)
    handoff_shown = None if handoff_percent is None else round(handoff_percent, 1)

    sev1 = list(
        this.incidents.filter(severity="P0")
        .annotate(took=elapsed_between("resolved_at", "opened_at"))
        .order_by("opened_at", "id")
        .values("reference", "title", "is_security", "opened_at", "resolved_at", "took")
    )
    highlights, critical = [], []
    for row in sev1:
        took = as_timedelta(row["took"])
        title = row["title"]
        if row["is_security"]:
            title = "Security incident (details in the portal)"
        outcome = (
            f"resolved in {humanize(took)}"
            if took is not None
            else f"still open after {humanize(now - row['opened_at'])}"
        )
        highlights.append(f"Sev 1: {title} - {outcome}")
        critical.append(
            {
                "reference": row["reference"],
                "title": title,
                "opened_at": row["opened_at"].isoformat(),
                "resolved_at": row["resolved_at"].isoformat() if row["resolved_at"] else None,
                "duration": humanize(took) if took is not None else None,
                "url": site_url + reverse("incidents:detail", args=[row["reference"]]),
            }
        )
    all_ = summary["all"]
    fr = _rate(all_["fr_met"], all_["fr_met"] + all_["fr_breached"])
    res = _rate(all_["res_met"], all_["res_met"] + all_["res_breached"])
    csat = _rate(all_["csat_satisfied"], all_["csat_rated"])
    if all_["fr_breached"] == 0 and all_["fr_met"]:
        highlights.append("All incidents met their first-response SLA")
    elif fr is not None:
        highlights.append(f"{fr:.0f}% of incidents met their first-response SLA")
    judged = handoffs["met"] + handoffs["late"] + handoffs["overdue"]
    if judged and handoffs["met"] == judged:
        highlights.append("All escalations were acknowledged within their target")
    elif judged:
        highlights.append(
            f"{handoff_percent:.0f}% of escalations were acknowledged within their target"
        )
    if csat is not None:
        highlights.append(f"{csat:.0f}% customer satisfaction on {all_['csat_rated']} rating(s)")
    csat_escalated = _rate(all_["csat_esc_satisfied"], all_["csat_esc_rated"])
    if csat_escalated is not None:
        highlights.append(
            f"{csat_escalated:.0f}% customer satisfaction on escalation handling "
            f"({all_['csat_esc_rated']} rating(s))"
        )

    trends = trend_lines(
        (all_["total"], summary_before["all"]["total"]),
        (sum(escalations.values()), escalations_before),
        _component_trends(user, previous_start, start, end),
        handoff_shown,
    )
    report = {
        "week": week_label(monday),
        "period": {
            "first_day": monday.isoformat(),
            "last_day": (monday + timedelta(days=6)).isoformat(),
            "start": start.isoformat(),
            "end": end.isoformat(),
            "time_zone": str(tz),
        },
        "generated_at": now.astimezone(tz).isoformat(timespec="seconds"),
        "summary": {
            "total_incidents": all_["total"],
            **{SEV[s].lower().replace(" ", "_"): summary[s]["total"] for s in SEV},
            "escalated_incidents": all_["escalated"],
            "total_escalations": sum(escalations.values()),
            "escalations_by_severity": {
                SEV[s].lower().replace(" ", "_"): escalations[s] for s in SEV
            },
        },
        "highlights": highlights,
        "sev_1_incidents": critical,
        "sla_compliance": {
            "first_response_percent": fr,
            "resolution_percent": res,
            "target_percent": SLA_TARGET,
            "first_response_met_target": None if fr is None else fr > SLA_TARGET,
            "resolution_met_target": None if res is None else res > SLA_TARGET,
        },
        "customer_satisfaction": {
            "rated": all_["csat_rated"],
            "satisfied": all_["csat_satisfied"],
            "percent": csat,
            "target_percent": CSAT_TARGET,
            "met_target": None if csat is None else csat > CSAT_TARGET,
            "escalations": {
                "rated": all_["csat_esc_rated"],
                "satisfied": all_["csat_esc_satisfied"],
                "percent": csat_escalated,
                "met_target": None if csat_escalated is None else csat_escalated > CSAT_TARGET,
            },
        },
        "handoff_acknowledgement": {
            "handoffs": handoffs["handoffs"],
            "met": handoffs["met"],
            "late": handoffs["late"],
            "overdue": handoffs["overdue"],
            "percent": handoff_shown,
            "target_percent": HANDOFF_TARGET,
            "met_target": None if handoff_percent is None else handoff_percent > HANDOFF_TARGET,
        },
        "trends": trends,
        "action_items": open_action_items(user, at=min(end, now), site_url=site_url),
    }
    if with_queues:
        report["queues_now"] = queues_snapshot(user, now=now, site_url=site_url)
    return report


ACTION_ITEMS_LISTED = 50
SECURITY_ITEM = "Security follow-up (details in the portal)"


def open_action_items(user, *, at: datetime, site_url: str = "") -> dict:
    """Review action items open at `at` (the week's end), with their owners, soonest
    due first (seed 004's weekly report `action_items`): created before it and not
    closed by then, whatever happened to them since. Two queries: the counts, and the
    first ACTION_ITEMS_LISTED rows with their owners and incidents.
    """

    open_then = ActionItem.objects.filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=at),
        visibility_q(user, "incident__"),
        created_at__lt=at,
    )
    counts = open_then.aggregate(open=Count("id"), overdue=Count("id", filter=Q(due_at__lte=at)))
    rows = open_then.select_related("owner", "incident").order_by("due_at", "id")
    items = [
        {
            # Like the Sev 1 highlights: no security detail travels by email.
            "title": SECURITY_ITEM if item.incident.is_security else item.title,
            "owner": str(item.owner),
            "due": item.due_date.isoformat(),
            "overdue": item.due_at <= at,
            "reference": item.incident.reference,
            "url": site_url + reverse("incidents:detail", args=[item.incident.reference]),
        }
        for item in rows[:ACTION_ITEMS_LISTED]
    ]
    return {
        "available": True,
        "open": counts["open"],
        "overdue": counts["overdue"],
        "note": "" if items else "No open action items.",
        "items": items,
        "more": counts["open"] > len(items),
    }


def queues_snapshot(user, *, now: datetime, site_url: str = "") -> list[dict]:

    visible = queues.queues_for(user)
    counts = queues.queue_counts(visible, user, now=now, filters={})
    return [
        {
            "queue": queue.title,
            "count": counts[queue.slug],
            "available": True,  # every queue has its data now; kept in the downloads
            "url": site_url + reverse("queue", args=[queue.slug]),
        }
        for queue in visible
    ]


def _escalations_made(user, previous_start, start, end) -> dict:
    """Moves up made this week and last week, by the incident's severity: one query."""

    this_week = Q(at__gte=start, at__lt=end)
    last_week = Q(at__gte=previous_start, at__lt=start)
    return (
        Escalation.objects.filter(
            visibility_q(user, "incident__"), at__gte=previous_start, at__lt=end
        )
        .exclude(trigger=Trigger.DE_ESCALATION)
        .aggregate(
            **{f"now_{s}": Count("id", filter=this_week & Q(incident__severity=s)) for s in SEV},
            **{f"before_{s}": Count("id", filter=last_week & Q(incident__severity=s)) for s in SEV},
        )
    )


def _component_trends(user, previous_start, start, end, limit: int = 5) -> list[dict]:
    """Components whose incident count changed most against last week."""

    rows = (
        Incident.objects.filter(
            visibility_q(user),
            opened_at__gte=previous_start,
            opened_at__lt=end,
            component__isnull=False,
        )
        .values("component__name", "component__owning_team__name")
        .annotate(
            now=Count("id", filter=Q(opened_at__gte=start)),
            before=Count("id", filter=Q(opened_at__lt=start)),
        )
        .exclude(now=F("before"))
        .order_by("-now", "component__name")
    )
    return list(rows[:limit])
