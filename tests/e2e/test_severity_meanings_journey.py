"""Choosing a severity with the policy's meanings in view (issue 19), and seed 001's data
loss going straight to Tier 3, in real Chromium at desk and phone widths."""

import pytest
from django.core.management import call_command

from incidents.models import Channel
from tests.e2e.browser import assert_fits_width, screenshot
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_reads_what_each_severity_means_and_files_a_data_loss(page, width, roles):
    Channel.objects.get_or_create(code="CUSTOMER", defaults={"name": "Customer"})
    call_command("load_workflow", "support-3-tier", "--default", verbosity=0)
    UserFactory(username="e2e-agent", role="Support Agent")
    sign_in(page, "e2e-agent", next_path="/incidents/new/")

    guide = page.locator("details.severity-meanings")
    assert guide.locator("summary").inner_text() == "What each severity means"
    assert not guide.locator("dl").is_visible()  # folded until asked for
    guide.locator("summary").click()
    terms = guide.locator("dt").all_inner_texts()
    assert terms == [
        "P0 · Critical · Sev 1",
        "P1 · High · Sev 2",
        "P2 · Medium · Sev 3",
        "P3 · Low · Sev 4",
    ]
    p0 = guide.locator("dd").first
    assert "Production outage affecting all customers" in p0.inner_text()
    assert "Security breach or data loss" in p0.inner_text()  # seed 004 Sev 1 criteria
    if width == "phone":
        assert_fits_width(page)
    screenshot(page, f"severity-meanings-{width}")

    page.fill("#id_title", "Customer exports lost since the migration")
    page.select_option("#id_severity", "P3")
    page.select_option("#id_channel", label="Customer")
    page.locator("label[for=id_is_data_loss]").click()
    page.get_by_role("button", name="Open incident").click()
    page.get_by_text("opened.").wait_for()
    # Data loss goes directly to Tier 3, whatever the severity (seed 001).
    assert "L3" in page.locator(".incident-head [data-now=level]").inner_text()
    assert "data loss" in page.locator(".timeline").inner_text().lower()
    if width == "phone":
        assert_fits_width(page)
