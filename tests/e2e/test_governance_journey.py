"""A governance liaison reads queues, metrics, the weekly report and incidents, sees
the policies, and may neither work incidents nor change policies."""

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


def test_governance_journey(page, width, roles, default_policy):
    agent = UserFactory(username="e2e-agent", role="Support Agent")
    incident = make_incident(
        actor=agent, title="Audit log export misses entries", severity="P2", is_compliance=True
    )
    UserFactory(username="e2e-gov", role="Governance Liaison", is_staff=True, first_name="Gil")
    sign_in(page, "e2e-gov")
    base = page.base_url

    for path, heading in (
        ("/queues/", "Review queues"),
        ("/metrics/", "Escalation metrics"),
        ("/reports/weekly/", "Weekly escalation report"),
        ("/policies/what-if/", "Policy simulation"),
    ):
        page.goto(base + path)
        assert heading in page.locator("h1").inner_text()
        if width == "phone":
            assert_fits_width(page)
        screenshot(page, f"governance{path.replace('/', '-')}{width}")

    page.goto(f"{base}/incidents/{incident.reference}/")
    assert "Audit log export misses entries" in page.locator("h1").inner_text()
    assert page.get_by_role("button", name="Acknowledge").count() == 0
    if width == "phone":
        assert_fits_width(page)

    # In the admin the incident list is readable, and offers no action that changes one.
    page.goto(f"{base}/admin/incidents/incident/")
    assert incident.reference in page.locator("#result_list").inner_text()
    for action in ("assign", "escalate", "change_status", "acknowledge"):
        assert page.locator(f"select[name=action] option[value={action}]").count() == 0

    # Policies: read, not loaded or changed.
    page.goto(f"{base}/admin/escalations/policy/")
    assert page.locator("#policy-upload").count() == 0
    response = page.goto(f"{base}/admin/escalations/policy/upload/")
    assert response.status == 403

    response = page.goto(f"{base}/incidents/new/")
    assert response.status == 403
    assert REFUSED.search(page.locator("body").inner_text())
    screenshot(page, f"governance-refused-{width}")
