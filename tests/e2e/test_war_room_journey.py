"""A commander opens a war room on a Sev 1 and, after resolution, finds the review with its
missing paragraphs marked, in real Chromium."""

import pytest

from escalations.models import PostIncidentReview, WarRoom
from incidents import services
from tests.conftest import chromium_path
from tests.e2e.browser import chromium_page, open_action, screenshot
from tests.factories import PASSWORD, UserFactory, make_incident

pytestmark = [
    pytest.mark.browser,
    # No serialized_rollback (see test_agent_journey.py): the test makes its rows.
    pytest.mark.django_db(transaction=True),
]


def test_commander_runs_a_war_room_then_meets_the_review(live_server, roles, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    commander = UserFactory(
        username="e2e-ic", role="Team Lead", first_name="Iris", last_name="Commander"
    )
    incident = make_incident(
        actor=commander, severity="P0", title="Payments down", assignee=commander
    )
    page_url = f"{live_server.url}/incidents/{incident.reference}/"

    with chromium_page(chromium_path()) as page:
        page.goto(page_url)
        page.fill("input[name=username]", "e2e-ic")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"**/incidents/{incident.reference}/")

        # War-room forms are one click away, in the incident page's "More actions".
        open_action(page, "war_room")
        form = page.locator("#action-war-room-activate")
        form.locator("select[name=commander]").select_option(label="Iris Commander")
        form.locator("input[name=channel]").fill("#inc-payments")
        form.locator("input[name=cadence_minutes]").fill("2")
        form.locator("button[type=submit]").click()
        error = "#action-war-room-activate #war_room_activate-cadence_minutes_error"
        assert page.locator(error).is_visible()  # the disclosure came back open

        form = page.locator("#action-war-room-activate")
        form.locator("input[name=cadence_minutes]").fill("")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("text=War room activated")
        assert page.locator("#war-room").get_by_text("#inc-payments").is_visible()
        open_action(page, "war_room")
        page.locator("#action-war-room-decide textarea").fill("Roll back release 42")
        page.click("#action-war-room-decide button")
        page.wait_for_selector("text=Decision logged on the timeline.")
        screenshot(page, "war-room")

        services.incident_change_status(
            incident=incident, status="resolved", actor=commander, note="Rolled back."
        )
        page.goto(page_url)
        page.click("text=Open the review")
        page.click("button:has-text('Submit for review')")
        assert page.locator("#id_root_cause_why_error").is_visible()
        assert page.locator("#action-items-error").is_visible()
        screenshot(page, "review-missing-paragraphs")

    room = WarRoom.objects.get()
    assert room.closed_at is not None and room.channel == "#inc-payments"
    assert PostIncidentReview.objects.get().status == "draft"
