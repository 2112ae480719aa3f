"""An agent's day on one incident, in real Chromium at desk and phone widths: open it
(bad input, then good), acknowledge, log a step, escalate with a complete handoff,
and post a customer update, reading what the page says after each step."""

import re

import pytest
from django.core.management import call_command

from incidents.models import Channel, Incident
from tests.e2e.browser import assert_fits_width, in_view, open_action, screenshot
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    # No serialized_rollback: restoring the migrations' rows after another
    # transactional test's flush collides with the content types that flush
    # recreates. The test makes the rows it needs instead.
    pytest.mark.django_db(transaction=True),
]

HANDOFF = {
    "customer_context": "Enterprise customer, renewal next month.",
    "symptoms": "Checkout returns 502 for EU users since 09:40.",
    "customer_impact": "About 300 users cannot pay.",
    "business_impact": "Lost orders, roughly $4k an hour.",
    "steps_taken": "Restarted the gateway pods; no change.",
    "suggested_next_step": "Specialists to check the payment provider's TLS change.",
}


def fits(page, width):
    if width == "phone":
        assert_fits_width(page)


def test_agent_opens_acknowledges_logs_escalates_and_updates(page, width, roles):
    Channel.objects.get_or_create(code="CUSTOMER", defaults={"name": "Customer"})
    call_command("load_workflow", "support-3-tier", "--default", verbosity=0)
    UserFactory(username="e2e-agent", role="Support Agent", first_name="Erin", last_name="Agent")

    page.goto(f"{page.base_url}/login/")
    fits(page, width)
    sign_in(page, "e2e-agent", next_path="/incidents/")
    fits(page, width)
    page.locator("nav[aria-label=Main]").get_by_text("New incident").click()
    page.wait_for_url("**/incidents/new/")
    fits(page, width)

    # Each label sits with its own field: the one that says Severity is the severity select.
    assert page.locator("label[for=id_severity]").inner_text().startswith("Severity")
    assert page.locator("#id_severity_group select[name=severity]").count() == 1
    assert page.locator("#id_channel_group label").inner_text().startswith("Channel")
    assert page.locator("#id_revenue_impact_group input[name=revenue_impact]").count() == 1

    # Empty form: a summary on top, each error beside the field it is about.
    page.get_by_role("button", name="Open incident").click()
    summary = page.locator("[data-error-summary]")
    summary.wait_for()
    assert in_view(page, summary)
    assert "Title" in summary.inner_text() and "Channel" in summary.inner_text()
    assert page.locator("#id_title_group .errorlist").is_visible()
    assert page.locator("#id_channel_group .errorlist").is_visible()
    assert page.locator("#id_severity_group .errorlist").count() == 0
    fits(page, width)

    page.fill("#id_title", "Checkout returns 502 for EU customers")
    page.select_option("#id_severity", "P3")
    page.select_option("#id_channel", label="Customer")
    page.fill("#id_description", "Started **09:40 UTC** after the deploy.")
    page.get_by_role("button", name="Open incident").click()
    page.get_by_text("opened.").wait_for()
    reference = page.locator(".incident-head .reference").inner_text().strip()
    head = page.locator(".incident-head")
    assert head.locator("[data-now=status]").inner_text() == "New"
    assert "L1" in head.locator("[data-now=level]").inner_text()
    # The description's Markdown is formatted, not shown raw.
    assert page.locator(".facts .prose strong").inner_text() == "09:40 UTC"
    assert "**" not in page.locator(".facts .prose").inner_text()
    fits(page, width)
    screenshot(page, f"agent-new-incident-{width}")

    # One Acknowledge, saying what it does.
    assert page.get_by_role("button", name=re.compile("Acknowledge")).count() == 1
    page.get_by_role("button", name="Acknowledge incident").click()
    page.get_by_text("Acknowledged: the incident is yours.").wait_for()
    assert head.locator("[data-now=status]").inner_text() == "Acknowledged"
    assert head.locator("[data-now=owner]").inner_text() == "Erin Agent"
    fits(page, width)

    # Log a step: the note form is up front.
    page.fill("#comment-body", "Restarted the **gateway pods**; no change.")
    page.get_by_role("button", name="Add note").click()
    page.get_by_text("Internal note added.").wait_for()
    note = page.locator(".timeline .kind-comment .prose").last
    assert note.locator("strong").inner_text() == "gateway pods"
    fits(page, width)

    # Seed 001: the agent sees when their level escalates.
    criteria = page.locator("#level-criteria")
    assert "When to escalate from L1" in criteria.inner_text()
    assert "Issue not in runbook or knowledge base" in criteria.inner_text()

    # Escalate: an empty submit lists everything to fix in one round, at the top.
    open_action(page, "escalate")
    page.locator("#action-escalate").get_by_role("button", name="Escalate").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert in_view(page, summary)
    assert page.evaluate("document.activeElement.id") == "error-summary"
    text = summary.inner_text()
    for label in ("Reason for escalation", "Customer context", "Suggested next step"):
        assert label in text
    assert "Confirm: Diagnostic data collected." in text
    assert summary.locator("li").count() == 1 + len(HANDOFF) + 9
    assert page.locator("#escalate-reason_group .errorlist").is_visible()
    assert page.locator("#escalate-note_symptoms_group .errorlist").is_visible()
    fits(page, width)
    screenshot(page, f"agent-escalate-errors-{width}")

    form = page.locator("#action-escalate")
    form.locator("#escalate-to_level").select_option("2")
    form.locator("#escalate-reason").fill("Needs backend access to the payment gateway.")
    for name, value in HANDOFF.items():
        form.locator(f"#escalate-note_{name}").fill(value)
    form.locator("#escalate-decision_sought").fill("Roll back the TLS change or wait?")
    for box in form.locator("fieldset.checklist input[type=checkbox]").all():
        box.check()
    form.get_by_role("button", name="Escalate").click()
    page.get_by_text("Escalated. The receiving level has been notified.").wait_for()
    assert "L2" in head.locator("[data-now=level]").inner_text()
    assert "waiting for L2" in head.locator("[data-now=owner]").inner_text()
    # The handoff note shows its labels, not its keys.
    page.locator("#escalations details > summary").last.click()
    handoff = page.locator("#escalations dl.note").last
    assert "Customer context" in handoff.inner_text()
    assert "customer_context" not in handoff.inner_text()
    # Seed 001: L2's criteria, both ways; seed 003: the checklist items the portal checks.
    assert "When to de-escalate from L2" in page.locator("#level-criteria").inner_text()
    after = page.locator("#escalations ul.after-handoff").last
    assert (
        after.locator("li[data-done=no]")
        .first.inner_text()
        .startswith("\u2610 Next tier engineer assigned")
    )
    fits(page, width)

    # Tell the customer.
    open_action(page, "update")
    page.fill("#update-body", "We have escalated to our specialists; next update in 1 hour.")
    page.get_by_role("button", name="Post update").click()
    page.get_by_text("Customer update posted.").wait_for()
    public = page.locator(".timeline .event.public").last
    assert "next update in 1 hour" in public.inner_text()
    fits(page, width)
    screenshot(page, f"agent-incident-page-{width}")

    incident = Incident.objects.get(reference=reference)
    assert incident.current_level == 2 and incident.severity == "P3"
    escalation = incident.escalations.get()
    assert escalation.note["symptoms"] == HANDOFF["symptoms"]
