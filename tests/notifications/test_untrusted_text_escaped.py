"""Untrusted text (incident titles, notes, account names, customer replies) never
becomes markup in any HTML the portal serves about a message: the admin preview
of every kind, the admin page of every stored notification, and the HTML emails.

The plain-text templates render with autoescape off (they are text); whoever
shows that text in a page must escape it (issue 15, finding 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.urls import reverse

from escalations.engine import services as engine
from escalations.policies.services import policy_create_from_spec
from escalations.rules.handoff import CHECKLIST
from escalations.rules.spec import LevelSpec, TargetSpec, WorkflowSpec
from incidents import services
from notifications import rendering
from notifications.models import Notification
from notifications.services import deliver_due
from tests.factories import PASSWORD, AccountFactory, make_incident

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PAYLOAD = "<img src=x onerror=alert(1)>"
LINK = '<a href="javascript:alert(2)">click</a>'


class Elements(HTMLParser):
    """Every element and attribute of a page, and of any iframe's srcdoc."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        self.found.append((tag, attributes))
        if tag == "iframe" and attributes.get("srcdoc"):
            self.found += elements(attributes["srcdoc"])


def elements(html: str) -> list[tuple[str, dict]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.found


def assert_no_injected_markup(html: str, where: str) -> None:
    for tag, attributes in elements(html):
        assert not (tag == "img" and attributes.get("src") == "x"), f"{where}: injected <img>"
        handlers = [name for name in attributes if name.startswith("on")]
        assert not handlers, f"{where}: <{tag}> has event handler attributes {handlers}"
        assert not attributes.get("href", "").startswith("javascript:"), f"{where}: {tag}"


@pytest.fixture(autouse=True)
def anymail_test_backend(settings):
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}


@pytest.fixture
def policy(db):
    spec = WorkflowSpec(
        levels=(
            LevelSpec(1, "Front line", sla=TargetSpec(first_response=4 * H, resolution=24 * H)),
            LevelSpec(
                2,
                "Specialists",
                contacts=(("email", "specialists@support.example"),),
                sla=TargetSpec(first_response=2 * H, resolution=8 * H),
            ),
        ),
    )
    return policy_create_from_spec(spec=spec, name="support", make_default=True)


@pytest.fixture
def hostile_incident(policy, agent):
    account = AccountFactory(
        name=f"Acme {PAYLOAD}",
        primary_contact_name=f"Jane {PAYLOAD}",
        primary_contact_email="jane@acme.example",
    )
    return make_incident(
        actor=agent, account=account, title=f"Checkout {PAYLOAD} {LINK}", now=MONDAY
    )


@pytest.fixture
def staff_client(client, manager):
    client.login(username=manager.username, password=PASSWORD)
    return client


@pytest.mark.parametrize("kind", rendering.template_kinds())
def test_the_admin_preview_of_every_kind_shows_hostile_text_as_text(
    kind, hostile_incident, staff_client
):
    url = reverse("admin:notifications_notification_preview")
    response = staff_client.get(url, {"kind": kind, "reference": hostile_incident.reference})
    assert response.status_code == 200
    page = response.content.decode()
    assert hostile_incident.reference in page  # the preview did render
    assert_no_injected_markup(page, f"preview of {kind}")


def test_every_kind_is_previewed():
    # The preview covers every kind of message about an incident (~15).
    assert len(rendering.template_kinds()) >= 15


def test_stored_notifications_and_sent_emails_show_hostile_text_as_text(
    hostile_incident, agent, staff_client
):
    incident = hostile_incident
    services.incident_post_public_update(
        incident=incident, actor=agent, body=f"We restarted it {PAYLOAD}", now=MONDAY + H
    )
    engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=agent,
        reason=f"Needs backend access {PAYLOAD}",
        category="expertise",
        note={
            "customer_context": f"Acme {PAYLOAD}",
            "symptoms": f"SAML errors {LINK}",
            "customer_impact": "50 users",
            "business_impact": "Exec review",
            "steps_taken": f"Re-uploaded the certificate {PAYLOAD}",
            "suggested_next_step": "Check the cache",
        },
        checklist=list(CHECKLIST),
        decision_sought=f"Approve? {PAYLOAD}",
        now=MONDAY + 2 * H,
    )
    services.incident_assign(incident=incident, assignee=agent, actor=agent, now=MONDAY + 2 * H)
    services.incident_customer_reply(
        incident=incident,
        body=f"Still failing {PAYLOAD} {LINK}",
        from_email="jane@acme.example",
        via="email",
        now=MONDAY + 3 * H,
    )
    deliver_due(now=MONDAY + 4 * H)

    rows = list(Notification.objects.filter(incident=incident, channel="email"))
    kinds = {row.kind for row in rows}
    assert {"customer_ack", "customer_update", "escalation", "customer_reply"} <= kinds
    for row in rows:
        assert PAYLOAD in row.body_text or PAYLOAD in row.subject, row.kind  # really hostile
        url = reverse("admin:notifications_notification_change", args=[row.pk])
        response = staff_client.get(url)
        assert response.status_code == 200
        assert_no_injected_markup(response.content.decode(), f"admin page of {row.kind}")

    htmls = [
        content
        for message in mail.outbox
        for content, mimetype in getattr(message, "alternatives", [])
        if mimetype == "text/html"
    ]
    assert len(htmls) >= len(rows)
    for html in htmls:
        assert_no_injected_markup(html, "HTML email")
