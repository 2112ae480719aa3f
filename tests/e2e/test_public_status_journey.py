"""The public status page (seed 002, "Status Page: Update public status page"), in real
Chromium at desk (1280 px) and phone (390 px) widths: a team lead publishes an incident from
its page with a public title and posts an update; a visitor, signed in as nobody, sees the
public title (escaped), state and updates newest first, and nothing internal."""

import pytest

from incidents import services
from incidents.models import Incident
from tests.e2e.browser import assert_fits_width
from tests.e2e.conftest import sign_in
from tests.factories import AccountFactory, UserFactory, make_incident

pytestmark = [
    pytest.mark.browser,
    # No serialized_rollback (see test_agent_journey.py): the test makes its rows.
    pytest.mark.django_db(transaction=True),
]

INTERNAL_TITLE = "Globex EU pool exhausted after db-7 failover"
PUBLIC_TITLE = "<script>alert('x')</script> Slow checkout in Europe"


def visitor_sees(page):
    """The status page as someone who is not signed in reads it."""
    page.context.clear_cookies()
    page.goto(f"{page.base_url}/status/")
    return page.locator("main").inner_text()


def test_a_lead_publishes_and_a_visitor_reads_the_status_page(
    page, width, live_server, roles, default_policy
):
    lead = UserFactory(username="e2e-lead", role="Team Lead", first_name="Lee")
    agent = UserFactory(username="e2e-agent", role="Support Agent", first_name="Sam")
    account = AccountFactory(name="Globex Corporation", primary_contact_name="Hank Scorpio")
    incident = make_incident(actor=agent, title=INTERNAL_TITLE, account=account, severity="P1")
    services.incident_acknowledge(incident=incident, actor=agent)
    services.incident_comment(incident=incident, actor=agent, body="Internal: db-7 again")

    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # Before anything is published the visitor reads that all is well.
    text = visitor_sees(page)
    assert "All systems operational" in text
    assert page.locator("[data-public-incident]").count() == 0
    if width == "phone":
        assert_fits_width(page)

    # The lead publishes from the incident page, under More actions.
    sign_in(page, lead.username, next_path=f"/incidents/{incident.reference}/")
    page.locator("summary", has_text="Publish on the public status page").click()
    form = page.locator("#action-status-page-publish")
    form.locator("input[name=public_title]").fill(PUBLIC_TITLE)
    form.locator("select[name=state]").select_option("investigating")
    form.locator("textarea[name=body]").fill("Some payments in Europe are slow. We are on it.")
    form.locator("button", has_text="Publish").click()
    page.wait_for_url(f"**/incidents/{incident.reference}/")
    assert "Published on the public status page." in page.locator(".messages").inner_text()
    if width == "phone":
        assert_fits_width(page)

    # ...then posts what they found.
    page.locator("summary", has_text="Public status page: update").click()
    update = page.locator("#action-status-page-update")
    update.locator("select[name=state]").select_option("identified")
    update.locator("textarea[name=body]").fill("We found the cause & are fixing it.")
    update.locator("button", has_text="Post status page update").click()
    page.wait_for_url(f"**/incidents/{incident.reference}/")
    assert Incident.objects.get(pk=incident.pk).status_page_state == "identified"

    # The visitor: the public title as text (escaped, never run), the state, updates newest
    # first, and nothing internal.
    text = visitor_sees(page)
    assert "All systems operational" not in text
    assert "1 ongoing incident" in text
    [card] = page.locator("[data-public-incident]").all()
    assert card.locator(".public-title").inner_text() == PUBLIC_TITLE
    assert card.locator("[data-public-state]").inner_text() == "Identified"
    updates = card.locator("[data-public-update]").all_inner_texts()
    assert [u.split("\n")[0].split()[0] for u in updates] == ["Identified", "Investigating"]
    assert "We found the cause & are fixing it." in updates[0]
    for secret in (INTERNAL_TITLE, "Globex", "Hank", "db-7", "Lee", "Sam", incident.reference):
        assert secret not in text, secret
    assert dialogs == []  # the title's <script> never ran
    if width == "phone":
        assert_fits_width(page)
    else:
        box = card.bounding_box()
        assert box["width"] <= 800  # one readable column on a desk, not the full window
