"""Resolving an incident emails the customer in the incident's thread, with the status
link and the 1-5 rating; security incidents never email customers. Through anymail."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail

from escalations.analytics.metrics import metrics_tables, period_for
from escalations.analytics.reports import weekly_report
from escalations.models import TriggerFiring
from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, TargetSpec, WorkflowSpec
from incidents import services
from incidents.models import Channel
from notifications.models import Notification
from notifications.services import deliver_due
from tests.factories import AccountFactory, make_incident

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # 10:00 in Berlin (CET)
JANE = "jane@acme.example"


@pytest.fixture(autouse=True)
def anymail_test_backend(settings):
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    settings.EMAIL_REPLY_TO = "replies@support.example"


@pytest.fixture
def policy(db):
    spec = WorkflowSpec(
        levels=(
            LevelSpec(1, "Front line", sla=TargetSpec(first_response=4 * H, resolution=24 * H)),
            LevelSpec(2, "Specialists", sla=TargetSpec(first_response=2 * H, resolution=8 * H)),
        )
    )
    return policy_create_from_spec(spec=spec, name="support", make_default=True)


@pytest.fixture
def account(db):
    return AccountFactory(
        name="Acme Corp",
        primary_contact_name="Jane <b>Doe</b>",
        primary_contact_email=JANE,
        time_zone="Europe/Berlin",
    )


def opened_by_customer(agent, account, **extra):
    customer, _ = Channel.objects.update_or_create(
        code="CUSTOMER", defaults={"name": "Customer", "acknowledges_customer": True}
    )
    return make_incident(
        actor=agent,
        account=account,
        channel=customer,
        title="Export fails <script>x</script> & more",
        now=MONDAY,
        **extra,
    )


def resolve(incident, agent, at):
    return services.incident_change_status(
        incident=incident,
        status="resolved",
        actor=agent,
        note="INTERNAL: the vendor's cache again",
        now=at,
    )


def delivered_to_jane():
    return [m for m in mail.outbox if m.to == [JANE]]


def test_resolution_emails_the_customer_in_the_same_thread_with_rating_links(
    policy, account, agent, client
):
    incident = opened_by_customer(agent, account)
    services.incident_acknowledge(incident=incident, actor=agent, now=MONDAY + H)
    resolve(incident, agent, MONDAY + 3 * H)
    ack, resolved = Notification.objects.filter(incident=incident, recipient=JANE).order_by("id")
    assert (ack.kind, resolved.kind) == ("customer_ack", "customer_resolved")
    assert resolved.urgent  # customers hear it at once, never folded or held

    deliver_due(now=MONDAY + 3 * H)
    first, message = delivered_to_jane()
    assert message.subject == f"RE: [{incident.title}] - Resolved ({incident.reference})"
    assert message.extra_headers["In-Reply-To"] == first.extra_headers["Message-ID"]
    assert message.extra_headers["References"] == first.extra_headers["Message-ID"]
    assert message.reply_to == ["replies@support.example"]  # answers come back in
    text = message.body
    assert "We have resolved" in text and "Monday 30 November 2026, 13:00 CET" in text
    assert "INTERNAL" not in text  # the resolution note is the team's, not the customer's
    ratings = dict(re.findall(r"(\d) - \w[\w ]*: (https?://\S+\?rating=\d)", text))
    assert sorted(ratings) == ["1", "2", "3", "4", "5"]
    [html] = [body for body, kind in message.alternatives if kind == "text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Jane &lt;b&gt;Doe&lt;/b&gt;" in html
    assert html.count("?rating=") == 5

    # The "2" link opens the status page with 2 chosen; only the POST rates.
    response = client.get(urlsplit(ratings["2"]).path + "?rating=2")
    assert response.status_code == 200
    assert response.context["rating_form"].initial == {"rating": 2}
    incident.refresh_from_db()
    assert incident.csat_rating is None
    response = client.post(urlsplit(ratings["2"]).path, {"action": "rate", "rate-rating": "2"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.csat_rating == 2
    assert TriggerFiring.objects.filter(incident=incident, trigger="executive", key="csat").exists()


def test_the_rating_shows_in_metrics_and_the_weekly_report(policy, account, agent, manager):
    incident = opened_by_customer(agent, account)
    resolve(incident, agent, MONDAY + H)
    services.incident_customer_rate(incident=incident, rating=5, now=MONDAY + 2 * H)
    later = MONDAY + timedelta(days=8)
    period = period_for(manager, start=MONDAY, end=later, now=later, filters={})
    [csat_table] = [t for t in metrics_tables(period) if t.slug == "csat"]
    assert "100.0 %" in str(csat_table.figures)
    report = weekly_report(user=manager, monday=MONDAY.date(), tz="UTC", now=later)
    assert report["customer_satisfaction"]["rated"] == 1
    assert report["customer_satisfaction"]["percent"] == 100


def test_resolving_again_after_a_reopen_emails_again(policy, account, agent):
    incident = opened_by_customer(agent, account)
    resolve(incident, agent, MONDAY + H)
    services.incident_reopen(incident=incident, actor=agent, reason="Back", now=MONDAY + 2 * H)
    resolve(incident, agent, MONDAY + 3 * H)
    assert Notification.objects.filter(incident=incident, kind="customer_resolved").count() == 2


def test_security_incidents_never_email_the_customer_on_resolution(policy, account, security_user):
    # Worked by Security: an agent may not even see a security incident.
    incident = make_incident(actor=security_user, account=account, is_security=True)
    resolve(incident, security_user, None)
    assert not Notification.objects.filter(incident=incident, recipient=JANE).exists()


def test_no_account_or_no_contact_means_no_email(policy, agent):
    for account in (None, AccountFactory(primary_contact_email="")):
        incident = make_incident(actor=agent, account=account)
        resolve(incident, agent, None)
        assert not Notification.objects.filter(incident=incident, kind="customer_resolved").exists()
