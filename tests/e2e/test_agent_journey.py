"""An agent signs in, opens an incident and finds it in the list, in real Chromium."""

import pytest

from incidents.models import Channel, Incident
from tests.e2e.browser import screenshot
from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.browser,
    # No serialized_rollback: restoring the migrations' rows after another
    # transactional test's flush collides with the content types that flush
    # recreates. The test makes the rows it needs instead.
    pytest.mark.django_db(transaction=True),
]


def test_agent_creates_an_incident_and_sees_it_in_the_list(page, width, live_server, roles):
    UserFactory(username="e2e-agent", role="Support Agent", first_name="Erin", last_name="Agent")
    Channel.objects.get_or_create(code="CUSTOMER", defaults={"name": "Customer"})
    title = "Checkout returns 502 for EU customers"

    page.goto(f"{live_server.url}/incidents/")
    assert "/login/" in page.url  # signed-out users are sent to sign in
    page.fill("input[name=username]", "e2e-agent")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert page.locator(".form-errors").is_visible()

    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/incidents/**")

    page.click("text=New incident")
    page.click("button:has-text('Open incident')")  # empty form first
    assert page.locator("#id_title_error, .errorlist").first.is_visible()

    page.fill("input[name=title]", title)
    page.select_option("select[name=severity]", "P1")
    page.select_option("select[name=channel]", label="Customer")
    page.fill("textarea[name=description]", "Started 09:40 UTC after the deploy.")
    page.click("button:has-text('Open incident')")
    page.wait_for_selector("text=opened.")
    reference = page.locator("p.mono").inner_text().strip()

    page.goto(f"{live_server.url}/incidents/?status=open")
    row = page.locator("table.list tbody tr", has_text=reference)
    assert row.count() == 1
    assert title in row.inner_text()
    screenshot(page, f"agent-incident-list-{width}")

    incident = Incident.objects.get(reference=reference)
    assert incident.title == title and incident.severity == "P1"
    assert incident.created_by.username == "e2e-agent"
