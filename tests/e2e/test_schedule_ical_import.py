"""A manager leaving another on-call tool brings the team's calendar in: Import iCal on the
schedule list, a broken file first (the problem beside the field), then the real export; the
schedule shows the problems and the coming shifts, and its layers are not editable."""

from datetime import UTC, datetime, timedelta

import pytest

from escalations.models import OnCallSchedule
from tests.e2e.browser import assert_fits_width, screenshot
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _feed() -> str:
    """Weekly turns from a Monday three weeks back (always inside the imported window) and
    an event tomorrow for someone the portal does not know."""
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday() + 21)
    tomorrow = today + timedelta(days=1)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//e2e//EN",
        "X-WR-TIMEZONE:Europe/Berlin",
        "BEGIN:VEVENT",
        "UID:ana@e2e",
        "SUMMARY:On call - Ana Schmidt - Primary",
        f"DTSTART;TZID=Europe/Berlin:{monday:%Y%m%d}T090000",
        f"DTEND;TZID=Europe/Berlin:{monday + timedelta(days=7):%Y%m%d}T090000",
        "RRULE:FREQ=WEEKLY;INTERVAL=2",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:ben@e2e",
        "SUMMARY:Primary",
        "ATTENDEE:mailto:BEN@example.com",
        f"DTSTART;TZID=Europe/Berlin:{monday + timedelta(days=7):%Y%m%d}T090000",
        f"DTEND;TZID=Europe/Berlin:{monday + timedelta(days=14):%Y%m%d}T090000",
        "RRULE:FREQ=WEEKLY;INTERVAL=2",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:ghost@e2e",
        "SUMMARY:Contractor <b>cover</b>",
        "ATTENDEE:mailto:ghost@elsewhere.test",
        f"DTSTART:{tomorrow:%Y%m%d}T100000Z",
        f"DTEND:{tomorrow:%Y%m%d}T120000Z",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def test_a_manager_imports_a_calendar(page, width, roles, tmp_path):
    manager = UserFactory(username="e2e-manager", role="Engineering Manager", is_staff=True)
    UserFactory(username="ana", first_name="Ana", last_name="Schmidt")
    UserFactory(username="ben", email="ben@example.com")
    broken = tmp_path / "broken.ics"
    broken.write_text("BEGIN:VCALENDAR\r\nthis is not iCal\r\n")
    good = tmp_path / "primary.ics"
    good.write_text(_feed())
    sign_in(page, manager.username)
    base = page.base_url

    page.goto(base + "/admin/escalations/oncallschedule/")
    page.get_by_role("link", name="Import iCal").click()
    form = page.locator("#ical-import")
    form.locator("input[name=name]").fill("Platform primary")
    form.locator("input[name=ics]").set_input_files(str(broken))
    form.locator("input[type=submit]").click()
    page.wait_for_selector("text=Nothing was imported.")
    assert "not an iCalendar file" in page.locator(".errorlist").first.inner_text()
    assert_fits_width(page)
    screenshot(page, f"ical-import-error-{width}")

    form = page.locator("#ical-import")
    form.locator("input[name=ics]").set_input_files(str(good))
    form.locator("input[type=submit]").click()
    page.wait_for_selector(".messagelist")
    said = page.locator(".messagelist").inner_text()
    assert "shifts into Platform primary." in said
    assert "Contractor <b>cover</b>" in said  # shown as text, not markup
    assert "ghost@elsewhere.test" in said
    # The change form: where it came from, the problem, the coming shifts; no layers to edit.
    body = page.locator("#content").inner_text()
    assert "an uploaded file (not refreshed)" in body
    assert "ana" in body and "ben" in body
    assert page.locator("textarea[name=spec_text]").count() == 0
    assert page.locator(".import-problems li").count() == 1
    assert_fits_width(page)
    screenshot(page, f"ical-import-done-{width}")

    schedule = OnCallSchedule.objects.get(name="Platform primary")
    assert schedule.is_imported and schedule.time_zone == "Europe/Berlin"
    people = {s["person"] for s in schedule.spec["layers"][0]["shifts"]}
    assert people == {"ana", "ben", None}
