"""Seed 004's weekly report: each trend followed by its "Action:" line; the escalations'
acknowledgement and satisfaction beside the incidents'. In the page, the downloads and
the email alike."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from escalations.analytics.reports import trend_action, trend_lines, weekly_report
from escalations.analytics.weekly_mail import weekly_reports_send
from incidents.models import Incident
from notifications.models import Notification, ReportSubscription
from tests.escalations.review_scenario import NOW, build_world
from tests.factories import PASSWORD, ComponentFactory

A_WEEK_LATER = NOW.replace(day=18)


def test_seed_004_a_rising_component_is_followed_by_engaging_its_team():
    lines = trend_lines(
        (4, 4),
        (3, 1),
        [
            {
                "component__name": "API",
                "component__owning_team__name": "Platform",
                "now": 3,
                "before": 1,
            },
            {
                "component__name": "Billing",
                "component__owning_team__name": None,
                "now": 1,
                "before": 2,
            },
        ],
        None,
    )
    assert lines == [
        "Incidents: same as last week",
        "Action: None",
        "Escalations: 3 this week vs 1 last week",
        "Action: Review this week's escalation reasons with the team leads; coach on "
        "issues the tier should resolve",
        "API issues increasing (3 this week vs 1 last week)",
        "Action: Engaging Platform for investigation",
        "Billing issues decreasing (1 this week vs 2 last week)",
        "Action: None; confirm the fix holds next week",
    ]


def test_seed_004_every_trend_has_an_action_and_missed_handoffs_get_one_too():
    assert trend_action("component", 2, 0) == "Action: Engaging engineering for investigation"
    assert trend_action("incidents", 1, 5) == "Action: None; keep the current measures"
    lines = trend_lines((1, 0), (0, 0), [], 50.0)
    assert lines[-2:] == [
        "Handoffs acknowledged in target: 50% (target > 95%)",
        "Action: Check the receiving levels' on-call schedules and paging",
    ]
    assert trend_lines((1, 0), (0, 0), [], 100.0)[-1] == "Action: None"  # escalations same
    for case in (lines, trend_lines((0, 3), (2, 2), [], None)):
        assert all(line.startswith("Action: ") for line in case[1::2])
        assert not any(line.startswith("Action: ") for line in case[0::2])


@pytest.fixture
def world(roles):
    with time_machine.travel(NOW, tick=False):
        world = build_world()
        team = Group.objects.create(name="Payments team")
        component = ComponentFactory(name="Checkout <api>", owning_team=team)
        Incident.objects.filter(pk__in=[world.soon.pk, world.breached.pk]).update(
            component=component
        )
        # A rating on each side: the escalated incident's customer is unhappy.
        Incident.objects.filter(pk=world.escalated.pk).update(csat_rating=2)
        Incident.objects.filter(pk=world.resolved.pk).update(csat_rating=5)
    return world


@pytest.mark.django_db
def test_seed_004_weekly_report_trends_actions_and_escalation_figures(world):
    report = weekly_report(user=world.manager, monday=date(2026, 3, 9), tz="UTC", now=A_WEEK_LATER)
    trends = report["trends"]
    assert trends[:2] == [
        "Incidents: 6 this week vs 0 last week",
        "Action: Look for a common cause in the new incidents with the team leads",
    ]
    at = trends.index("Checkout <api> issues increasing (2 this week vs 0 last week)")
    assert trends[at + 1] == "Action: Engaging Payments team for investigation"
    # Handoffs: 'secret' acknowledged in 5 minutes (met); 'escalated' never acknowledged,
    # overdue a week later against L2's 2 h target.
    assert report["handoff_acknowledgement"] == {
        "handoffs": 2,
        "met": 1,
        "late": 0,
        "overdue": 1,
        "percent": 50.0,
        "target_percent": 95.0,
        "met_target": False,
    }
    assert trends[-2:] == [
        "Handoffs acknowledged in target: 50% (target > 95%)",
        "Action: Check the receiving levels' on-call schedules and paging",
    ]
    assert "50% of escalations were acknowledged within their target" in report["highlights"]
    assert report["customer_satisfaction"]["escalations"] == {
        "rated": 1,
        "satisfied": 0,
        "percent": 0.0,
        "met_target": False,
    }
    assert "0% customer satisfaction on escalation handling (1 rating(s))" in (report["highlights"])


@pytest.mark.django_db
def test_seed_004_action_lines_in_the_page_markdown_and_email(client, world):
    assert client.login(username=world.manager.username, password=PASSWORD)
    with time_machine.travel(A_WEEK_LATER, tick=False):
        page = client.get(reverse("weekly_report_week", args=["2026-W11"])).content.decode()
        markdown = client.get(
            reverse("weekly_report_download", args=["2026-W11", "md"])
        ).content.decode()
        printable = client.get(
            reverse("weekly_report_download", args=["2026-W11", "html"])
        ).content.decode()
    for html in (page, printable):
        assert (
            '<li class="trend-action" style="list-style: none; margin: 0 0 6px 14px; '
            'color: #344054;">&rarr; Action: Engaging Payments team for investigation</li>'
        ) in html
        assert "Checkout &lt;api&gt; issues increasing" in html  # escaped
        assert "Handoffs acknowledged in target" in html and "CSAT on escalations" in html
    # Escaped as the Markdown filter does it: no raw tag reaches a Markdown renderer.
    assert "\n- Checkout &lt;api> issues increasing (2 this week vs 0 last week)\n" in markdown
    assert "\n  - Action: Engaging Payments team for investigation\n" in markdown
    assert "| Handoffs acknowledged in target | 50.0 % (1 of 2) | > 95 % |" in markdown

    subscription = ReportSubscription.objects.create(user=world.manager, time_zone="UTC")
    ReportSubscription.objects.filter(pk=subscription.pk).update(created_at=NOW)
    weekly_reports_send(now=datetime(2026, 3, 16, 8, 0, tzinfo=UTC))
    text = Notification.objects.get(kind="weekly_report").body_text
    assert (
        "  - Checkout <api> issues increasing (2 this week vs 0 last week)\n"
        "    Action: Engaging Payments team for investigation\n"
    ) in text
    assert "Handoffs acknowledged in target: 50.0% (1 of 2)" in text
    assert "On escalations: 0.0% satisfied (0 of 1 ratings)" in text
