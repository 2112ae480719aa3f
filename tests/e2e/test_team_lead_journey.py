"""A team lead receives an escalation, in real Chromium at desk and phone widths: takes
the handoff, records the decision sought, and hands the incident back down."""

import re

import pytest
from django.core.management import call_command

from escalations.engine import services as engine
from escalations.rules.handoff import CHECKLIST
from incidents.models import Channel
from tests.e2e.browser import assert_fits_width, open_action, screenshot
from tests.e2e.conftest import sign_in
from tests.e2e.test_agent_journey import HANDOFF
from tests.factories import UserFactory, make_incident

pytestmark = [
    pytest.mark.browser,
    # No serialized_rollback (see test_agent_journey.py): the test makes its rows.
    pytest.mark.django_db(transaction=True),
]


def fits(page, width):
    if width == "phone":
        assert_fits_width(page)


def test_team_lead_takes_the_handoff_decides_and_de_escalates(page, width, roles):
    Channel.objects.get_or_create(code="CUSTOMER", defaults={"name": "Customer"})
    call_command("load_workflow", "support-3-tier", "--default", verbosity=0)
    agent = UserFactory(username="e2e-agent", role="Support Agent", first_name="Erin")
    UserFactory(username="e2e-lead", role="Team Lead", first_name="Lee", last_name="Lead")
    incident = make_incident(
        actor=agent,
        severity="P3",
        channel=Channel.objects.get(code="CUSTOMER"),
        title="Exports time out for one workspace",
    )
    engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=agent,
        reason="Needs backend access.",
        category="expertise",
        note=dict(HANDOFF),
        checklist=list(CHECKLIST),
        decision_sought="Raise the export limit for this workspace?",
    )

    sign_in(page, "e2e-lead", next_path=f"/incidents/{incident.reference}/")
    head = page.locator(".incident-head")
    assert "waiting for L2" in head.locator("[data-now=owner]").inner_text()
    assert "Decision sought: Raise the export limit" in head.locator(".to-do").inner_text()
    # Two different acknowledgements, each saying what it means.
    buttons = page.get_by_role("button", name=re.compile("Acknowledge|handoff"))
    assert sorted(buttons.all_inner_texts()) == ["Acknowledge incident", "Take the handoff (L2)"]
    fits(page, width)
    screenshot(page, f"lead-before-handoff-{width}")

    page.get_by_role("button", name="Take the handoff (L2)").click()
    page.get_by_text("You took the handoff at L2").wait_for()
    assert head.locator("[data-now=owner]").inner_text() == "Lee Lead"
    assert page.get_by_role("button", name="Take the handoff (L2)").count() == 0
    fits(page, width)

    # The decision: empty first (the error sits beside the field), then written.
    open_action(page, "decide")
    page.locator("#action-decide").get_by_role("button", name="Record decision").click()
    page.locator("#error-summary").wait_for()
    assert page.locator("#decide-decision_group .errorlist").is_visible()
    page.fill("#decide-decision", "Raise the limit to 2 GB for this workspace.")
    page.locator("#action-decide").get_by_role("button", name="Record decision").click()
    page.get_by_text("Decision recorded.").wait_for()
    assert "Decision by Lee Lead" in page.locator("#escalations").inner_text()
    assert "Decision sought" not in head.inner_text()
    fits(page, width)

    # Hand it back down with a resolution summary.
    open_action(page, "de_escalate")
    form = page.locator("#action-de-escalate")
    form.locator("#de_escalate-to_level").select_option("1")
    form.locator("#de_escalate-reason").fill("Limit raised; the agent can follow up.")
    form.locator("#de_escalate-resolution_summary").fill(
        "Export limit raised to **2 GB**; customer to retry tonight."
    )
    form.get_by_role("button", name="De-escalate").click()
    page.get_by_text("De-escalated; the lower level has the follow-up.").wait_for()
    assert "L1" in head.locator("[data-now=level]").inner_text()
    fits(page, width)
    screenshot(page, f"lead-after-de-escalation-{width}")

    incident.refresh_from_db()
    assert incident.current_level == 1
    up = incident.escalations.order_by("at", "id").first()
    assert up.acknowledged_by.username == "e2e-lead"
    assert up.decision_made == "Raise the limit to 2 GB for this workspace."
