"""A manager reads the escalation-based metrics of issue 19 on the metrics page (handoff
acknowledgement, time to escalate, rates by tier and agent, effectiveness, escalation
volume, MTTR trend), names shown as text, and the weekly report's "Action:" lines; at desk
and phone widths."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from escalations.models import Escalation
from escalations.policies.services import policy_create_from_spec
from incidents.models import Incident
from tests.e2e.browser import assert_fits_width, line_count
from tests.e2e.conftest import sign_in
from tests.escalations.conftest import simple_spec
from tests.factories import UserFactory, make_incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

H = timedelta(hours=1)


def rows_of(section) -> list[list[str]]:
    return [
        [text.strip() for text in row.locator("td").all_text_contents()]
        for row in section.locator("tbody tr").all()
    ]


def test_manager_sees_the_escalation_figures(page, width, roles):
    policy_create_from_spec(spec=simple_spec(), name="standard", make_default=True)
    manager = UserFactory(username="e2e-manager", role="Engineering Manager", is_staff=True)
    agent = UserFactory(
        username="ana", first_name="Ana", last_name="<i>Bold</i>", role="Support Agent"
    )
    # A week ago: in the last complete week, the weekly report's default.
    opened = timezone.now() - 7 * 24 * H
    # Escalated after 2 h, acknowledged by L2 in 30 min (its target: 2 h), resolved.
    helped = make_incident(actor=agent, severity="P2", opened_at=opened, now=opened)
    Escalation.objects.create(
        incident=helped,
        from_level=1,
        to_level=2,
        trigger="manual",
        reason="Needs the specialists",
        at=opened + 2 * H,
        acknowledged_at=opened + 2.5 * H,
    )
    Incident.objects.filter(pk=helped.pk).update(
        level_moves=1,
        current_level=2,
        peak_level=2,
        status="resolved",
        resolved_at=opened + 6 * H,
        csat_rating=5,
    )
    make_incident(actor=agent, severity="P2", opened_at=opened, now=opened)  # not escalated
    sign_in(page, manager.username)
    page.goto(f"{page.base_url}/metrics/")

    # The median is PostgreSQL's percentile_cont; SQLite has none, and the page says "—".
    median = "2h 00m" if connection.vendor == "postgresql" else "—"
    expected = {
        "handoff-compliance": (
            "Handoff acknowledgement compliance",
            [
                ["All", "1", "1", "0", "0", "0", "100.0 %"],
                ["L2", "1", "1", "0", "0", "0", "100.0 %"],
            ],
        ),
        "time-to-escalate": (
            "Time to escalate",
            [
                ["P0 Critical", "0", "0", "—", "—"],
                ["P1 High", "0", "0", "—", "—"],
                ["P2 Medium", "1", "0", median, "2h 00m"],
                ["P3 Low", "0", "0", "—", "—"],
            ],
        ),
        "escalation-rate-by-tier": (
            "Escalation rate by tier",
            [["L1", "2", "1", "50.0 %"], ["L2", "1", "0", "0.0 %"]],
        ),
        "escalation-rate-by-agent": (
            "Escalation rate by agent",
            [["Ana <i>Bold</i>", "2", "1", "50.0 %"]],
        ),
        "escalation-effectiveness": (
            "Effectiveness of escalations",
            [["All", "1", "1", "0", "0", "100.0 %"], ["L2", "1", "1", "0", "0", "100.0 %"]],
        ),
    }
    for slug, (title, rows) in expected.items():
        section = page.locator(f"#{slug}")
        section.scroll_into_view_if_needed()
        assert section.get_by_role("heading", name=title).is_visible()
        assert rows_of(section) == rows, slug
        assert section.get_by_role("link", name="CSV").is_visible()
    agents = page.locator("#escalation-rate-by-agent")
    assert agents.locator("td i").count() == 0  # the name is text, not markup
    for slug in ("escalation-volume", "mttr-trend"):
        section = page.locator(f"#{slug}")
        assert len(rows_of(section)) == 1 and section.locator("svg").count() == 1
        # A month ("2026-09") and the CSV link are never broken over two lines, on a phone too.
        assert line_count(section.locator("tbody td").first) == 1, slug
        assert line_count(section.get_by_role("link", name="CSV")) == 1, slug
    # The key figures above the tables carry the new targets, green when met.
    figures = page.locator(".figures")
    assert "Handoffs acknowledged in target" in figures.inner_text()
    assert "CSAT on escalations" in figures.inner_text()
    if width == "phone":
        assert_fits_width(page)
    figures.screenshot(path=f"/tmp/m19-figures-{width}.png")
    page.locator("#handoff-compliance").screenshot(path=f"/tmp/m19-handoff-{width}.png")
    agents.screenshot(path=f"/tmp/m19-agents-{width}.png")

    # The weekly report: each trend line followed by its action, set apart beneath it.
    page.goto(f"{page.base_url}/reports/weekly/")
    trends = page.locator("ul.trends")
    trends.scroll_into_view_if_needed()
    lines = [text.strip() for text in trends.locator("li").all_text_contents()]
    assert lines[:2] == [
        "Incidents: 2 this week vs 0 last week",
        "→ Action: Look for a common cause in the new incidents with the team leads",
    ]
    assert trends.locator("li.trend-action").count() == len(lines) // 2
    report = page.locator(".weekly-report").inner_text().lower()  # headers in capitals
    assert "handoffs acknowledged in target\t100.0 % (1 of 1)" in report
    assert "all escalations were acknowledged within their target" in report
    if width == "phone":
        assert_fits_width(page)
    trends.screenshot(path=f"/tmp/m19-trends-{width}.png")
