"""Choosing a severity with the policy's meanings in view (issue 19), and seed 001's data
loss going straight to Tier 3, in real Chromium at desk and phone widths."""

import pytest
from django.core.management import call_command

from incidents.models import Channel
from tests.e2e.browser import assert_fits_width, screenshot
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def impact_tags(page) -> list[str]:
    """The impact tags in the incident's details, as a reader sees them."""
    impact = page.locator("dt:text-is('Impact') + dd")
    return impact.locator(".tag").all_inner_texts()


def test_seed_000_l4_legal_and_pr_crisis_filed_in_the_form_go_to_l4_and_show(page, width, roles):
    """Seed 000 Level 4: "Legal/regulatory implications", "Public relations crisis": an agent
    ticks both on a P2 in the form; the incident opens at L4 and says why and what it is."""
    for code, name in (("CUSTOMER", "Customer"), ("RUNTIME", "Runtime"), ("TEST", "Test")):
        Channel.objects.get_or_create(code=code, defaults={"name": name})  # the preset's match
    call_command("load_workflow", "engineering-5-level", "--default", verbosity=0)
    UserFactory(username="e2e-agent", role="Support Agent")
    sign_in(page, "e2e-agent", next_path="/incidents/new/")
    page.fill("#id_title", "Regulator asks about <b>exports</b>")
    page.select_option("#id_severity", "P2")
    page.select_option("#id_channel", label="Customer")
    page.locator("label[for=id_is_legal_exposure]").click()
    page.locator("label[for=id_is_pr_crisis]").click()
    page.get_by_role("button", name="Open incident").click()
    page.get_by_text("opened.").wait_for()
    assert "L4" in page.locator(".incident-head [data-now=level]").inner_text()
    timeline = page.locator(".timeline").inner_text().lower()
    assert "legal exposure" in timeline and "public relations crisis" in timeline
    assert impact_tags(page) == ["legal exposure", "PR crisis"]
    assert "Regulator asks about <b>exports</b>" in page.locator("h1").inner_text()
    if width == "phone":
        assert_fits_width(page)
    screenshot(page, f"legal-pr-l4-{width}")


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
    assert "data loss" in impact_tags(page)
    if width == "phone":
        assert_fits_width(page)
