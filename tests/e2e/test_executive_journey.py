"""An executive reads what the portal knows (metrics, weekly report, queues, an
incident, the policies) and is offered nothing they may not do."""

import re

import pytest

from tests.e2e.browser import assert_fits_width, screenshot
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory, make_incident

pytestmark = [
    pytest.mark.browser,
    # No serialized_rollback (see test_agent_journey.py): the test makes its rows.
    pytest.mark.django_db(transaction=True),
]
REFUSED = re.compile(r"403|forbidden|not allowed|permission", re.IGNORECASE)


def test_executive_journey(page, width, roles, default_policy):
    agent = UserFactory(username="e2e-agent", role="Support Agent")
    incident = make_incident(actor=agent, title="Payments page times out", severity="P1")
    UserFactory(username="e2e-exec", role="Executive", is_staff=True, first_name="Eve")
    sign_in(page, "e2e-exec")
    base = page.base_url

    nav = page.locator("nav[aria-label=Main]")
    for allowed in ("Queues", "Metrics", "Weekly report"):
        assert nav.get_by_role("link", name=allowed).count() == 1
    assert nav.get_by_role("link", name="New incident").count() == 0

    for path, heading in (
        ("/metrics/", "Escalation metrics"),
        ("/reports/weekly/", "Weekly escalation report"),
        ("/queues/", "Review queues"),
    ):
        page.goto(base + path)
        assert heading in page.locator("h1").inner_text()
        if width == "phone":
            assert_fits_width(page)

    # The incident reads in full, with no action to take on it.
    page.goto(f"{base}/incidents/{incident.reference}/")
    assert "Payments page times out" in page.locator("h1").inner_text()
    assert page.locator("main form[method=post]").count() == 0
    if width == "phone":
        assert_fits_width(page)
    screenshot(page, f"executive-incident-{width}")

    # Opening an incident is not theirs to do: refused, with a page that says so.
    response = page.goto(f"{base}/incidents/new/")
    assert response.status == 403
    assert REFUSED.search(page.locator("body").inner_text())
    assert page.locator("input[name=title]").count() == 0

    # Policies: readable in the admin, but no upload form and no actions that change them.
    page.goto(f"{base}/admin/escalations/policy/")
    assert "standard" in page.locator("#result_list").inner_text()
    assert page.locator("#policy-upload").count() == 0
    assert page.locator("select[name=action] option[value=activate]").count() == 0
    response = page.goto(f"{base}/admin/escalations/policy/upload/")
    assert response.status == 403
    screenshot(page, f"executive-policy-upload-refused-{width}")
