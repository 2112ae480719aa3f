"""A manager reads on-call fairness on the metrics page: hours per person and month, nights
and weekends apart, names shown as text; at desk and phone widths."""

import pytest

from tests.e2e.browser import assert_fits_width
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory, make_schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_sees_the_fairness_table(page, width, roles):
    manager = UserFactory(username="e2e-manager", role="Engineering Manager", is_staff=True)
    UserFactory(username="ana", first_name="Ana", last_name="<i>Bold</i>")
    UserFactory(username="ben", first_name="Ben", last_name="Ode")
    make_schedule(name="Platform on-call")  # ana and ben, weekly, Mondays 09:00 Berlin
    sign_in(page, manager.username)

    page.goto(f"{page.base_url}/metrics/?start=2026-01-01&end=2026-01-31")
    section = page.locator("#oncall-fairness")
    section.scroll_into_view_if_needed()
    assert section.get_by_role("heading", name="On-call fairness").is_visible()
    headers = [text.strip() for text in section.locator("thead th").all_text_contents()]
    assert headers == ["Month", "Person", "Hours", "Nights", "Weekends", "Schedules"]
    rows = [
        [text.strip() for text in row.locator("td").all_text_contents()]
        for row in section.locator("tbody tr").all()
    ]
    assert rows == [
        ["2026-01", "Ana <i>Bold</i>", "336.0", "126.0", "96.0", "Platform on-call"],
        ["2026-01", "Ben Ode", "304.0", "111.0", "73.0", "Platform on-call"],
    ]
    assert section.locator("td i").count() == 0  # the name is text, not markup
    assert section.get_by_role("link", name="CSV").is_visible()
    if width == "phone":
        assert_fits_width(page)
    section.screenshot(path=f"/tmp/gm/fairness-{width}.png")
