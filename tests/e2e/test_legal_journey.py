"""Legal's path (issue 19), at 1280 and 390 px: seed 000 "Coordinate with legal if data
breach" (Legal opens a security incident with data loss, hidden from it otherwise) and seed
002 "Regulatory Reporting: Report to regulatory bodies if required" (a manager marks the
report required with its due time; Legal sees it due and records it filed)."""

import pytest

from tests.e2e.browser import assert_fits_width, screenshot
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory, make_incident

pytestmark = [
    pytest.mark.browser,
    # No serialized_rollback (see test_agent_journey.py): the test makes its rows.
    pytest.mark.django_db(transaction=True),
]


def test_legal_journey(page, width, roles, default_policy):
    agent = UserFactory(username="e2e-agent", role="Support Agent")
    UserFactory(username="e2e-manager", role="Engineering Manager", is_staff=True)
    UserFactory(username="e2e-legal", role="Legal", first_name="Lena")
    breach = make_incident(
        actor=agent,
        title="Customer export bucket was public",
        severity="P1",
        is_security=True,
        is_data_loss=True,
    )
    other = make_incident(actor=agent, title="Port scan from one address", is_security=True)

    # A manager marks the breach as needing a regulatory report.
    sign_in(page, "e2e-manager")
    base = page.base_url
    page.goto(f"{base}/incidents/{breach.reference}/")
    card = page.locator("#regulatory-report")
    assert "due within 3 days" in card.inner_text()
    card.get_by_label("Why a report is required").fill("Personal data breach (GDPR Art. 33)")
    card.get_by_role("button", name="Mark as needing a regulatory report").click()
    card = page.locator("#regulatory-report")
    assert "Personal data breach (GDPR Art. 33)" in card.inner_text()
    assert "required" in card.locator(".page-head").inner_text()
    # The message names who was told (Legal may read a data breach), not the policy's wish.
    assert "told: e2e-legal@example.com" in page.locator("body").inner_text()
    page.get_by_role("button", name="Sign out").click()

    # Legal sees the breach, not the other security incident, and records the report.
    sign_in(page, "e2e-legal")
    page.goto(f"{base}/incidents/")
    listed = page.locator("main").inner_text()
    assert "Customer export bucket was public" in listed
    assert "Port scan from one address" not in listed
    assert page.goto(f"{base}/incidents/{other.reference}/").status == 404

    page.goto(f"{base}/incidents/{breach.reference}/")
    card = page.locator("#regulatory-report")
    assert card.locator("[data-regulatory-due]").inner_text().strip()
    assert "not yet" in card.locator("[data-regulatory-filed]").inner_text()
    if width == "phone":
        assert_fits_width(page)
    screenshot(page, f"legal-regulatory-due-{width}")
    card.get_by_label("Regulator's reference").fill("ICO-2026-0042")
    card.get_by_role("button", name="Record the report as filed").click()
    card = page.locator("#regulatory-report")
    filed = card.locator("[data-regulatory-filed]").inner_text()
    assert "ICO-2026-0042" in filed and "Lena" in filed
    assert "filed" in card.locator(".page-head").inner_text()
    assert card.get_by_role("button", name="Record the report as filed").count() == 0
    if width == "phone":
        assert_fits_width(page)
    screenshot(page, f"legal-regulatory-filed-{width}")
