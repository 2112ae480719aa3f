"""A customer follows the emailed link, replies, gets the resolution email and rates it,
in real Chromium at desk and phone widths. Nothing here logs in: the link is the key."""

import re
from pathlib import Path

import pytest

from escalations.models import TriggerFiring
from escalations.policies.services import policy_create_from_spec
from escalations.policies.workflow_yaml import load_workflow_file
from incidents import services
from incidents.models import Channel
from notifications import rendering
from notifications.models import Notification
from tests.e2e.browser import assert_fits_width, screenshot
from tests.factories import AccountFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    # No serialized_rollback (see test_agent_journey.py): the test makes its rows.
    pytest.mark.django_db(transaction=True),
]

PRESETS = Path(__file__).resolve().parents[2] / "escalations" / "workflows"
CUSTOMER = "jane@acme.example"


def emailed_links(row: Notification) -> list[str]:
    """The links in an outbox row's text body, rendered as the worker renders it."""
    text = rendering.render_bodies(row)["body_text"]
    return re.findall(r"https?://\S+/status/\S+/(?:\?rating=\d)?", text)


def looks_right(page, width):
    if width == "phone":
        assert_fits_width(page)


def test_customer_replies_then_rates_the_resolution(page, width, live_server, roles, settings):
    settings.SITE_URL = live_server.url  # the links in emails point at this server
    # The demo's default policy, as shipped: its first level's people hear the reply.
    policy_create_from_spec(
        spec=load_workflow_file(PRESETS / "p0-p3-matrix.yaml"),
        name="p0-p3-matrix",
        make_default=True,
    )
    agent = UserFactory(username="e2e-agent", role="Support Agent", first_name="Sam")
    director = UserFactory(username="e2e-director", role="Director")
    account = AccountFactory(
        name="Acme Corp",
        primary_contact_name="Jane Doe",
        primary_contact_email=CUSTOMER,
        time_zone="America/New_York",
    )
    channel, _ = Channel.objects.update_or_create(
        code="CUSTOMER", defaults={"name": "Customer", "acknowledges_customer": True}
    )
    incident = services.incident_create(
        actor=agent,
        title="How do I export users to CSV?",
        severity="P3",
        channel=channel,
        account=account,
        description="The export button is greyed out.",
    )
    assert incident.assignee_id is None

    # 1. The acknowledgement email carries the personal status link.
    ack = Notification.objects.get(incident=incident, kind="customer_ack", recipient=CUSTOMER)
    [link] = emailed_links(ack)
    page.goto(link)
    assert page.get_by_role("heading", name="How do I export users to CSV?").is_visible()
    assert page.locator("[data-status]").inner_text() == "New"
    assert "America/New_York" in page.locator("main, body").first.inner_text()
    looks_right(page, width)

    # 2. A reply: the customer sees it taken; the level's people hear it (nobody owns it yet).
    page.fill("textarea[name=reply-body]", "It is still greyed out for <b>admins</b> too.")
    page.click(".customer-reply button")
    page.wait_for_selector("text=Thank you: we have your message.")
    reply = page.locator("li.event[data-kind=customer_reply]")
    assert "It is still greyed out for <b>admins</b> too." in reply.inner_text()
    looks_right(page, width)
    screenshot(page, f"customer-replied-{width}")
    notified = set(
        Notification.objects.filter(incident=incident, kind="customer_reply").values_list(
            "recipient", flat=True
        )
    )
    assert agent.email in notified  # a person of level 1's team, not only its mailbox

    # 3. The agent resolves it: the customer's resolution email, in the same thread.
    services.incident_acknowledge(incident=incident, actor=agent)
    services.incident_change_status(
        incident=incident, status="resolved", actor=agent, note="Granted the export permission."
    )
    resolved = Notification.objects.get(
        incident=incident, kind="customer_resolved", recipient=CUSTOMER
    )
    assert resolved.headers["In-Reply-To"] == ack.message_id
    assert resolved.headers["References"] == ack.message_id
    assert "Resolved" in resolved.subject
    links = emailed_links(resolved)
    assert any("?rating=" not in url for url in links)  # the status link itself
    rating_links = {int(url.rsplit("=", 1)[1]): url for url in links if "?rating=" in url}
    assert sorted(rating_links) == [1, 2, 3, 4, 5]

    # 4. The customer follows "2" from the email, sends it, and is thanked.
    page.goto(rating_links[2])
    assert page.locator("[data-status]").inner_text() == "Resolved"
    assert page.get_by_role("heading", name="How did we do?").is_visible()
    assert page.locator("input[name=rate-rating][value='2']").is_checked()
    looks_right(page, width)
    page.fill("textarea[name=rate-comment]", "Took two days for a permission.")
    page.click(".customer-rating button")
    page.wait_for_selector("text=Thank you for rating the resolution.")
    assert "2/5" in page.locator("dl").inner_text()
    assert page.locator(".customer-rating").count() == 0  # rated once
    looks_right(page, width)
    screenshot(page, f"customer-rated-{width}")

    # 5. A rating below the policy's csat_below is the executive trigger.
    incident.refresh_from_db()
    assert incident.csat_rating == 2
    firing = TriggerFiring.objects.get(incident=incident, trigger="executive", key="csat")
    assert firing is not None
    assert Notification.objects.filter(
        incident=incident, kind="trigger", recipient=director.email
    ).exists()
