"""The demo shows a healthy organisation with a few real problems: about a tenth of the
incidents escalated, most targets met, a few breaches, queues with a handful of rows,
few overdue reviews, business hours in the teams' own zones, every level reaching people.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Q

from escalations.analytics.metrics import period_for, severity_summary
from escalations.analytics.queues import QUEUES, queue_counts
from escalations.models import Escalation, Policy, PolicyStatus, PostIncidentReview, Trigger
from escalations.policies.reach import level_reach, reach_problems
from escalations.policies.services import policy_spec
from incidents.models import Incident
from portal.demo import load_demo

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # a Monday afternoon


def demo_figures(now: datetime) -> dict:
    """What a manager sees first: the metrics page's figures and the queues' counts."""
    admin = get_user_model().objects.filter(is_superuser=True).first() or get_user_model()(
        is_superuser=True
    )
    start = Incident.objects.order_by("opened_at").values_list("opened_at", flat=True).first()
    summary = severity_summary(period_for(admin, start=start, end=now, now=now, filters={}))["all"]
    fr_judged = summary["fr_met"] + summary["fr_breached"]
    res_judged = summary["res_met"] + summary["res_breached"]
    return {
        "incidents": summary["total"],
        "escalated_pct": 100 * summary["escalated"] / summary["total"],
        "first_response_met_pct": 100 * summary["fr_met"] / fr_judged,
        "resolution_met_pct": 100 * summary["res_met"] / res_judged,
        "breached": Incident.objects.filter(
            Q(first_response_breached=True) | Q(resolution_breached=True)
        ).count(),
        "csat_rated": summary["csat_rated"],
        "queues": queue_counts(list(QUEUES), admin, now=now, filters={}),
        "reviews_overdue": PostIncidentReview.objects.filter(
            status__in=["draft", "in_review"], due_at__lt=now
        ).count(),
        "sla_clocks": Counter(
            Escalation.objects.filter(trigger=Trigger.SLA).values_list("clock", flat=True)
        ),
        "triggers": Counter(
            Escalation.objects.exclude(trigger=Trigger.DE_ESCALATION).values_list(
                "trigger", flat=True
            )
        ),
    }


def test_the_demo_looks_like_a_healthy_organisation_with_a_few_problems(roles):
    load_demo(now=NOW)
    demo = demo_figures(NOW)
    print(demo)  # the figures, for whoever tunes the demo next

    assert 8 <= demo["escalated_pct"] <= 12
    assert demo["first_response_met_pct"] >= 85
    assert demo["resolution_met_pct"] >= 85
    assert 1 <= demo["breached"] <= 0.1 * demo["incidents"]  # a few real problems
    for slug in ("breaching-soon", "breached", "handoffs", "decisions", "unassigned"):
        assert demo["queues"][slug] <= 12, (slug, demo["queues"])
    assert sum(demo["queues"][s] for s in ("breaching-soon", "breached", "unassigned")) >= 1
    assert 1 <= demo["reviews_overdue"] <= 4
    assert demo["csat_rated"] >= 10  # customers rate resolutions: CSAT is not "-"

    people = set(get_user_model().objects.values_list("email", flat=True))
    for policy in Policy.objects.filter(status=PolicyStatus.ACTIVE):
        spec = policy_spec(policy)
        for name, calendar in spec.calendars:
            # Business hours are the team's own: 09:00 means 09:00 where they sit.
            if calendar.get("hours") not in (None, "24/7"):
                assert calendar["timezone"] != "UTC", (policy.name, name)
        assert reach_problems(spec) == [], policy.name
        for level in spec.levels:
            assert people & set(level_reach(level)), (policy.name, level.label)
