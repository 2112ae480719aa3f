"""Two people on one on-call schedule, in real Chromium at desk and phone widths: the person
on call asks a colleague to cover the next hours, the colleague accepts, and the page then
says the colleague is on call; after the interval the first person is again (checked
through the selector)."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from escalations.models import OnCallOverrideRequest
from escalations.schedules.selectors import who_is_on_call
from tests.e2e.browser import assert_fits_width, screenshot
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory, schedule_held_by

pytestmark = [
    pytest.mark.browser,
    # No serialized_rollback (see test_agent_journey.py): the test makes its rows.
    pytest.mark.django_db(transaction=True),
]


def on_call_cell(page, schedule):
    return page.locator(f"#take-shift li[data-schedule='{schedule.pk}'] .on-call-now")


def test_one_person_asks_for_cover_another_accepts_and_who_is_on_call_changes(page, width, roles):
    ana = UserFactory(username="e2e-ana", first_name="Ana", last_name="Alves", role="Support Agent")
    ben = UserFactory(username="e2e-ben", first_name="Ben", last_name="Brown", role="Support Agent")
    # A known holder whatever the week: Ana is on call from an hour ago for a day.
    schedule = schedule_held_by(
        ana, people=("e2e-ana", "e2e-ben"), name="Payments on-call", hours=24
    )
    now = timezone.now()

    sign_in(page, "e2e-ana")
    page.get_by_role("link", name="Cover requests").click()
    page.wait_for_url("**/schedules/requests/")
    assert "Ana Alves (you)" in on_call_cell(page, schedule).inner_text()
    form = page.locator("#ask-cover form")
    form.locator("select[name=schedule]").select_option(label="Payments on-call")
    form.locator("select[name=to_person]").select_option(label="Ben Brown (e2e-ben)")
    start = now.astimezone(UTC)  # both read times in UTC (their profiles' zone)
    form.locator("input[name=start]").fill(start.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=end]").fill((start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=reason]").fill("School run <b>today</b>")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=Asked Ben Brown")
    mine = page.locator("#asked-by-me .cover-request").first
    assert "You asked Ben Brown to cover Payments on-call" in mine.inner_text()
    assert "School run <b>today</b>" in mine.inner_text()  # shown as text
    assert "Requested" in mine.inner_text()
    if width == "phone":
        assert_fits_width(page)
    screenshot(page, f"oncall-cover-asked-{width}")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "e2e-ben", next_path="/schedules/requests/")
    asked = page.locator("#asked-of-me .cover-request").first
    assert "Ana Alves asks you to cover Payments on-call" in asked.inner_text()
    assert "Ana Alves" in on_call_cell(page, schedule).inner_text()
    asked.get_by_role("button", name="Accept").click()
    page.wait_for_selector("text=Accepted: you are on call for that interval.")
    assert "Ben Brown (you)" in on_call_cell(page, schedule).inner_text()
    assert page.locator("#take-shift button", has_text="Take it now").count() == 0
    assert "Accepted" in page.locator("#asked-of-me .cover-request").first.inner_text()
    assert page.locator("#asked-of-me button", has_text="Accept").count() == 0
    if width == "phone":
        assert_fits_width(page)
    screenshot(page, f"oncall-cover-accepted-{width}")

    request = OnCallOverrideRequest.objects.get()
    assert request.status == "accepted" and request.override.person == ben
    schedule.refresh_from_db()
    assert who_is_on_call(schedule, timezone.now()).current.person == "e2e-ben"
    after = request.end + timedelta(minutes=1)
    assert who_is_on_call(schedule, after).current.person == "e2e-ana"
