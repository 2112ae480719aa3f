"""A manager works the review queues and reads the metrics, in real Chromium."""

import pytest
import time_machine

from tests.conftest import chromium_path
from tests.e2e.browser import chromium_page, screenshot
from tests.escalations.review_scenario import NOW, build_world
from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.browser,
    # No serialized_rollback (see test_agent_journey.py): the test makes its rows.
    pytest.mark.django_db(transaction=True),
]


def test_manager_opens_a_queue_follows_an_incident_and_reads_the_charts(
    live_server, roles, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The incidents are made at fixed past instants; the pages are read now, when
    # every open one has long breached its first response.
    with time_machine.travel(NOW, tick=False):
        world = build_world()

    with chromium_page(chromium_path()) as page:
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", world.manager.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/incidents/**")

        page.click("nav[aria-label=Main] >> text=Queues")
        page.wait_for_selector(".tabs")
        page.click("[data-queue=breached]")
        page.wait_for_url("**/queues/breached/")
        rows = page.locator("table.queue-rows tbody tr")
        assert rows.count() == 5  # every open incident, the security one included
        assert "overdue by" in rows.first.inner_text()
        page.select_option("select[name=severity]", "P1")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**severity=P1**")
        assert page.locator("table.queue-rows tbody tr").count() == 2
        screenshot(page, "manager-queue")

        page.click(f"text={world.breached.reference}")
        page.wait_for_url(f"**/incidents/{world.breached.reference}/")
        assert "Late" in page.locator("h1").inner_text()

        page.click("nav[aria-label=Main] >> text=Metrics")
        page.wait_for_selector("[data-metric=escalation-rate] svg.chart")
        page.fill("input[name=start]", "2026-03-01")  # the month the incidents are in
        page.fill("input[name=end]", "2026-03-31")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**start=2026-03-01**")
        charts = page.locator("svg.chart")
        assert charts.count() >= 8
        assert page.locator("svg.chart rect.chart-bar").count() > 10
        box = page.locator("[data-metric=volume] svg.chart").bounding_box()
        assert box["width"] > 200 and box["height"] > 80  # drawn, not collapsed
        assert page.locator(".target.missed").count() >= 1
        screenshot(page, "manager-metrics")
