"""On-call pages in real Chromium at desk and phone widths: a team lead reads who is on call
and sees the coverage gap as a warning, a person finds their next shifts and calendar feed
on "my shifts", and a schedule named with markup shows as text."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from escalations.schedules import services
from escalations.schedules.shifts import person_shifts, schedule_summary
from tests.e2e.browser import assert_fits_width, screenshot
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVIL = "<script>alert('owned')</script> Night desk"


def weekly(people, zone="Europe/Berlin"):
    return {
        "timezone": zone,
        "layers": [
            {
                "name": "primary",
                "people": people,
                "recurrence": "weekly",
                "start": "2026-01-05",
                "handoff": "09:00",
            }
        ],
    }


@pytest.fixture
def world(roles):
    lead = UserFactory(
        username="e2e-lead", role="Team Lead", first_name="Lee", last_name="Lead", is_staff=True
    )
    emma = UserFactory(
        username="e2e-emma",
        role="Support Agent",
        first_name="Emma",
        last_name="Schulz",
        time_zone="Europe/Berlin",
    )
    lucas = UserFactory(
        username="e2e-lucas", role="Support Agent", first_name="Lucas", last_name="Martin"
    )
    schedule = services.schedule_create(
        actor=None, name="Platform on-call", spec=weekly([emma.username, lucas.username])
    )
    now = timezone.now()
    gap_start = (now + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    services.override_add(
        actor=None,
        schedule=schedule,
        person=None,
        start=gap_start,
        end=gap_start + timedelta(hours=3),
        reason="Nobody found yet",
    )
    services.schedule_create(actor=None, name=EVIL, spec=weekly([lucas.username]))
    schedule.refresh_from_db()
    return {"lead": lead, "emma": emma, "lucas": lucas, "schedule": schedule}


def dialogs(page):
    seen = []
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
    return seen


def test_a_team_lead_sees_who_is_on_call_and_the_gap(page, width, world):
    seen = dialogs(page)
    schedule = world["schedule"]
    summary = schedule_summary(schedule, now=timezone.now())
    expected = {"e2e-emma": "Emma Schulz", "e2e-lucas": "Lucas Martin"}[summary.current.person]

    sign_in(page, "e2e-lead", next_path="/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="On call").click()
    page.get_by_role("heading", name="On call", level=1).wait_for()
    card = page.locator(f"section[data-schedule='{schedule.pk}']")
    assert card.locator("[data-now=person]").inner_text().strip() == expected
    warning = card.locator(".gap-warning")
    assert warning.is_visible()
    assert "Nobody on call 1 time in the next 14 days" in warning.inner_text()
    assert "(3 h)" in warning.inner_text()
    assert card.get_by_role("link", name="Edit in admin").is_visible()
    assert page.get_by_text("1 schedule with nobody on call").is_visible()
    # The markup in a schedule's name is its text.
    assert page.get_by_role("link", name=EVIL).is_visible()
    assert seen == []
    if width == "phone":
        assert_fits_width(page)
    screenshot(page, f"oncall-schedules-{width}")

    card.get_by_role("link", name="Shifts and calendar feed").click()
    page.get_by_role("heading", name="Final shifts, next 14 days").wait_for()
    assert page.locator("tr.gap-row").count() == 1
    assert "Nobody on call" in page.locator("tr.gap-row").inner_text()
    assert page.locator("#feed-url").input_value().endswith(".ics")
    if width == "phone":
        assert_fits_width(page)
    screenshot(page, f"oncall-schedule-{width}")


def test_a_person_sees_their_next_shifts_and_their_feed(page, width, world):
    now = timezone.now()
    mine = person_shifts("e2e-emma", start=now, end=now + timedelta(days=30))
    assert mine  # two people weekly: emma is on call within any 30 days

    sign_in(page, "e2e-emma", next_path="/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My shifts").click()
    page.get_by_role("heading", name="My shifts").wait_for()
    rows = page.locator(".my-shifts tbody tr")
    assert rows.count() == min(len(mine), 10)
    first = rows.first.inner_text()
    assert "Platform on-call" in first
    # In emma's own zone (Berlin), as she reads everything.
    berlin = mine[0].start.astimezone(world["emma"].time_zone)
    assert berlin.strftime("%-d %b, %H:%M") in first, first
    assert "On call this month so far" in page.locator("[data-figure=month-hours]").inner_text()
    feed = page.locator("#feed-url")
    assert "/schedules/feed/person/" in feed.input_value()
    # The copy button is there once the script runs.
    copy = page.get_by_role("button", name="Copy")
    copy.wait_for()
    copy.click()
    page.get_by_role("button", name="Copied").wait_for()
    # The evil-named schedule is not emma's: it is not listed.
    assert "Night desk" not in page.locator(".my-shifts").inner_text()
    if width == "phone":
        assert_fits_width(page)
    screenshot(page, f"oncall-my-shifts-{width}")

    # The feed URL works without the session (a calendar app has none).
    path = re.sub(r"^https?://[^/]+", "", feed.input_value())
    response = page.request.get(page.base_url + path)
    assert response.status == 200
    assert "BEGIN:VCALENDAR" in response.text()
    assert "SUMMARY:On call: Platform on-call" in response.text()
    bad = page.request.get(page.base_url + path.replace(".ics", "x.ics"))
    assert bad.status == 404

    # Shared by mistake: a reset shows a new link and the old one stops working.
    page.get_by_role("button", name="Reset my calendar links").click()
    page.get_by_role("status").get_by_text("Your calendar links were reset").wait_for()
    page.get_by_role("heading", name="My shifts").wait_for()
    new_path = re.sub(r"^https?://[^/]+", "", page.locator("#feed-url").input_value())
    assert new_path != path and "/schedules/feed/person/" in new_path
    assert page.request.get(page.base_url + path).status == 404
    assert "BEGIN:VCALENDAR" in page.request.get(page.base_url + new_path).text()
    if width == "phone":
        assert_fits_width(page)
