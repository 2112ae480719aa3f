"""Seed 003's "Escalation Acknowledged" email to the account's contact (seed 001:
notify the customer with the new expected response time), through anymail."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail

from escalations.engine import services as engine
from escalations.policies.services import policy_create_from_spec
from escalations.rules.handoff import CHECKLIST
from escalations.rules.spec import LevelSpec, OverrideSpec, TargetSpec, WorkflowSpec
from incidents import services
from incidents.models import Channel
from notifications.models import Notification
from notifications.services import deliver_due
from tests.factories import AccountFactory, make_incident

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
# A Monday, 09:00 UTC = 10:00 in Berlin (CET).
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


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
                "Specialist Support",
                contacts=(("email", "advanced@support.example"), ("phone", "+1-555-0102")),
                sla=TargetSpec(first_response=2 * H, resolution=8 * H, update_interval=4 * H),
            ),
            LevelSpec(3, "Engineering", sla=TargetSpec(first_response=H, resolution=4 * H)),
        ),
        overrides=(OverrideSpec("P0", 3, "pagerduty"),),
    )
    return policy_create_from_spec(spec=spec, name="support", make_default=True)


@pytest.fixture
def account(db):
    return AccountFactory(
        name="Acme Corp",
        primary_contact_name="Jane Doe",
        primary_contact_email="jane@acme.example",
        time_zone="Europe/Berlin",
    )


def customer_rows(incident):
    return Notification.objects.filter(incident=incident, recipient="jane@acme.example")


def escalate_to_l2(incident, actor, at):
    return engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=actor,
        reason="Needs backend access",
        category="expertise",
        note={
            "customer_context": "Acme, enterprise",
            "symptoms": "SAML errors",
            "customer_impact": "50 users",
            "business_impact": "Exec review next week",
            "steps_taken": "Re-uploaded the certificate",
            "suggested_next_step": "Check the certificate cache",
        },
        checklist=list(CHECKLIST),
        now=at,
    )


def sent_to_customer():
    [message] = [m for m in mail.outbox if m.to == ["jane@acme.example"]]
    return message


def test_escalation_sends_the_customer_the_new_expected_response_time(
    policy, account, agent, settings
):
    settings.EMAIL_REPLY_TO = "replies@support.example"
    incident = make_incident(actor=agent, account=account, now=MONDAY)
    escalate_to_l2(incident, agent, MONDAY + H)
    [row] = customer_rows(incident)
    assert row.kind == "customer_ack" and row.urgent and row.message_id

    deliver_due(now=MONDAY + H)
    message = sent_to_customer()
    assert message.subject == (
        f"RE: [{incident.title}] - Escalation Acknowledged ({incident.reference})"
    )
    assert message.reply_to == ["replies@support.example"]
    assert message.extra_headers["Message-ID"] == row.message_id
    text = message.body
    # L2's first-response target (2 h) from the escalation at 10:00 UTC (11:00 in Berlin).
    assert "Expected response by: Monday 30 November 2026, 13:00 CET" in text
    # L2's 4-hour update cadence counts from the opening (09:00 UTC, 10:00 in Berlin).
    assert "Updates every 4 hours" in text
    assert "Next update: Monday 30 November 2026, 14:00 CET" in text
    assert "Your point of contact: Specialist Support team, advanced@support.example" in text
    assert "escalated it to Specialist Support (L2)" in text
    assert "Dear Jane Doe," in text
    [html] = [body for body, kind in message.alternatives if kind == "text/html"]
    assert "Expected response by: <strong>Monday 30 November 2026, 13:00 CET</strong>" in html


def test_the_status_link_in_the_email_opens_the_customer_page(policy, account, agent, client):
    incident = make_incident(actor=agent, account=account, title="SSO logins fail")
    escalate_to_l2(incident, agent, None)
    deliver_due()
    message = sent_to_customer()
    [url] = re.findall(r"https?://\S+/status/\S+/", message.body)
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200
    assert b"SSO logins fail" in response.content


def test_user_supplied_text_is_escaped_in_the_html_and_kept_in_the_text(policy, agent, account):
    account.primary_contact_name = "Jane <b>Doe</b>"
    account.save()
    title = 'Export fails <script>alert("x")</script> & more'
    incident = make_incident(actor=agent, account=account, title=title)
    escalate_to_l2(incident, agent, None)
    deliver_due()
    message = sent_to_customer()
    [html] = [body for body, kind in message.alternatives if kind == "text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Jane &lt;b&gt;Doe&lt;/b&gt;" in html
    assert title in message.body  # plain text is not HTML: no entities there


def test_opening_from_the_customer_channel_acknowledges_once(policy, account, agent):
    customer = Channel.objects.get(code="CUSTOMER")
    assert customer.acknowledges_customer  # set by the migration for the shipped channel
    incident = make_incident(actor=agent, account=account, channel=customer, now=MONDAY)
    [row] = customer_rows(incident)
    deliver_due(now=MONDAY)
    message = sent_to_customer()
    assert message.subject == f"[{incident.reference}] We have your request: {incident.title}"
    # L1's first response is due 4 h after opening (09:00 UTC = 10:00 Berlin).
    assert "Expected response by: Monday 30 November 2026, 14:00 CET" in message.body
    assert row.dedup_key.startswith(f"customer_ack:opened:{incident.pk}")


def test_other_channels_and_imports_do_not_email_the_customer(policy, account, agent):
    runtime = make_incident(actor=agent, account=account)
    customer = Channel.objects.get(code="CUSTOMER")
    imported = make_incident(
        actor=agent,
        account=account,
        channel=customer,
        opened_at=MONDAY - timedelta(days=3),
        now=MONDAY,
    )
    assert not customer_rows(runtime).exists()
    assert not customer_rows(imported).exists()


def test_an_escalation_at_opening_sends_one_email_not_two(policy, account, agent):
    customer = Channel.objects.get(code="CUSTOMER")
    incident = make_incident(actor=agent, account=account, channel=customer, severity="P0")
    assert incident.current_level == 3  # the P0 override routed it straight up
    [row] = customer_rows(incident)
    assert row.context["occasion"] == "escalated"


def test_security_incidents_never_email_the_customer(policy, account, agent):
    incident = make_incident(actor=agent, account=account, is_security=True)
    assert incident.escalations.exists()  # the security trigger moved it up at once
    assert not customer_rows(incident).exists()


def test_no_contact_address_means_no_email(policy, agent):
    silent = AccountFactory(primary_contact_email="")
    incident = make_incident(actor=agent, account=silent)
    escalate_to_l2(incident, agent, None)
    assert not Notification.objects.filter(incident=incident, kind="customer_ack").exists()


def test_public_updates_reach_the_customer_in_the_same_thread(policy, account, agent):
    incident = make_incident(actor=agent, account=account)
    escalate_to_l2(incident, agent, None)
    services.incident_post_public_update(
        incident=incident, actor=agent, body="We found the cause & are testing a fix."
    )
    ack, update = customer_rows(incident).order_by("id")
    assert update.kind == "customer_update"
    assert update.headers["In-Reply-To"] == ack.message_id
    deliver_due()
    [message] = [m for m in mail.outbox if m.subject.startswith("RE: [") and "Update" in m.subject]
    assert "We found the cause & are testing a fix." in message.body
    assert message.extra_headers["References"] == ack.message_id


def test_de_escalation_does_not_email_the_customer(policy, account, agent):
    incident = make_incident(actor=agent, account=account)
    escalate_to_l2(incident, agent, None)
    engine.incident_de_escalate(
        incident=incident,
        to_level=1,
        actor=agent,
        reason="Fix deployed",
        resolution_summary="Certificate cache cleared",
    )
    assert customer_rows(incident).count() == 1
