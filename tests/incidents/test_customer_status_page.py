"""The customer's status page: a signed, expiring link, no login. Status, public
timeline, a reply form and, once resolved, a 1-5 rating (below 3: executive)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from escalations.models import TriggerFiring
from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, TargetSpec, WorkflowSpec
from escalations.sla.services import incident_clocks
from incidents import services
from incidents.customer_links import make_token
from incidents.models import EventKind
from notifications.models import Notification
from tests.factories import AccountFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


@pytest.fixture
def policy(db):
    spec = WorkflowSpec(
        levels=(
            LevelSpec(1, "Front line", sla=TargetSpec(first_response=H, resolution=8 * H)),
            LevelSpec(2, "Specialists", sla=TargetSpec(first_response=H, resolution=4 * H)),
        )
    )
    return policy_create_from_spec(spec=spec, name="standard", make_default=True)


@pytest.fixture
def account(db):
    return AccountFactory(primary_contact_email="Jane@Acme.example", time_zone="America/New_York")


@pytest.fixture
def incident(policy, account, agent):
    incident = make_incident(actor=agent, account=account, title="Invoices export times out")
    services.incident_acknowledge(incident=incident, actor=agent)
    return incident


def page(incident, email="jane@acme.example"):
    return reverse("customer-status", args=[make_token(incident_id=incident.pk, email=email)])


def test_the_page_shows_status_and_only_public_updates(client, incident, agent):
    services.incident_comment(incident=incident, actor=agent, body="INTERNAL: blame the vendor")
    services.incident_post_public_update(
        incident=incident, actor=agent, body="We are looking at the export job."
    )
    response = client.get(page(incident))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Invoices export times out" in body
    assert "We are looking at the export job." in body
    assert "INTERNAL" not in body
    assert 'data-status="acknowledged"' in body
    assert "America/New_York" in body  # times in the customer's zone
    # The URL is the key: not cached, not indexed, not leaked in other sites' Referer
    # headers; same-origin still lets the browser send a real Origin with its forms.
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "same-origin"


def test_a_tampered_link_shows_nothing(client, incident):
    url = page(incident)
    token = url.rstrip("/").rsplit("/", 1)[1]
    other = make_token(incident_id=incident.pk + 1, email="jane@acme.example")
    forged = other.split(":")[0] + ":" + token.split(":", 1)[1]  # payload swapped
    for bad in (token[:-2] + "xx", forged, "garbage"):
        response = client.get(reverse("customer-status", args=[bad]))
        assert response.status_code == 404
        assert b"This link is not valid." in response.content
        assert b"Invoices export" not in response.content


def test_an_expired_link_says_so_and_shows_nothing(client, incident, settings):
    url = page(incident)
    with time_machine.travel(timezone.now() + timedelta(days=settings.CUSTOMER_LINK_DAYS, hours=1)):
        response = client.get(url)
    assert response.status_code == 410
    assert b"This link has expired." in response.content
    assert b"Invoices export" not in response.content
    with time_machine.travel(timezone.now() + timedelta(days=settings.CUSTOMER_LINK_DAYS - 1)):
        assert client.get(url).status_code == 200


def test_a_link_stops_working_when_the_contact_changes(client, incident, account):
    url = page(incident)
    account.primary_contact_email = "new.person@acme.example"
    account.save()
    response = client.get(url)
    assert response.status_code == 404
    assert b"Invoices export" not in response.content


def test_a_reply_goes_on_the_timeline_and_resumes_a_paused_clock(client, incident, agent):
    incident = services.incident_change_status(
        incident=incident, status="waiting_on_customer", actor=agent
    )
    [paused] = [c for c in incident_clocks(incident) if c.clock == "resolution"]
    assert paused.state == "paused"

    response = client.post(
        page(incident), {"action": "reply", "reply-body": "Here are the logs you asked for."}
    )
    assert response.status_code == 302

    incident.refresh_from_db()
    assert incident.status == "investigating"
    [reply] = incident.events.filter(kind=EventKind.CUSTOMER_REPLY)
    assert reply.is_public and reply.data["from"] == "jane@acme.example"
    assert reply.body == "Here are the logs you asked for."
    [running] = [c for c in incident_clocks(incident) if c.clock == "resolution"]
    assert running.state == "running"
    # The assignee hears about it.
    assert Notification.objects.filter(
        incident=incident, kind="customer_reply", recipient=agent.email
    ).exists()


def test_an_empty_reply_is_refused_beside_the_field(client, incident):
    before = incident.events.count()
    response = client.post(page(incident), {"action": "reply", "reply-body": "   "})
    assert response.status_code == 200
    assert "Write your message first." in response.context["reply_form"].errors["body"]
    assert incident.events.count() == before


def test_rating_is_offered_only_after_resolution(client, incident, agent):
    response = client.post(page(incident), {"action": "rate", "rate-rating": "5"})
    assert response.status_code == 200
    assert "once the incident is resolved" in str(response.context["rating_form"].errors)
    incident.refresh_from_db()
    assert incident.csat_rating is None

    services.incident_change_status(
        incident=incident, status="resolved", actor=agent, note="Index rebuilt"
    )
    assert b"How did we do?" in client.get(page(incident)).content
    response = client.post(
        page(incident), {"action": "rate", "rate-rating": "4", "rate-comment": "Quick, thanks"}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.csat_rating == 4 and incident.csat_at is not None
    [rating] = incident.events.filter(kind=EventKind.CUSTOMER_RATING)
    assert rating.data["rating"] == 4 and rating.body == "Quick, thanks"
    assert not TriggerFiring.objects.filter(incident=incident).exists()
    assert b"How did we do?" not in client.get(page(incident)).content

    again = client.post(page(incident), {"action": "rate", "rate-rating": "1"})
    assert "rated already" in str(again.context["rating_form"].errors)
    incident.refresh_from_db()
    assert incident.csat_rating == 4


def test_a_bad_rating_value_is_refused(client, incident, agent):
    services.incident_change_status(incident=incident, status="resolved", actor=agent, note="ok")
    for value in ("0", "6", "five", ""):
        response = client.post(page(incident), {"action": "rate", "rate-rating": value})
        assert response.status_code == 200
        assert response.context["rating_form"].errors["rating"]
    incident.refresh_from_db()
    assert incident.csat_rating is None


def test_a_rating_below_3_is_an_executive_escalation(client, incident, agent, roles):
    director = UserFactory(username="director1", role="Director")
    services.incident_change_status(incident=incident, status="resolved", actor=agent, note="ok")
    client.post(page(incident), {"action": "rate", "rate-rating": "2"})
    [firing] = TriggerFiring.objects.filter(incident=incident)
    assert (firing.trigger, firing.key) == ("executive", "csat")
    # Resolved already: nothing to move, so management hears of it.
    assert Notification.objects.filter(
        incident=incident, kind="trigger", recipient=director.email
    ).exists()


def test_security_incidents_show_no_title(client, policy, account, manager):
    secret = make_incident(
        actor=manager, account=account, is_security=True, title="Leaked API keys in logs"
    )
    response = client.get(page(secret))
    assert response.status_code == 200
    assert b"Leaked API keys" not in response.content
    assert secret.reference.encode() in response.content


def test_the_link_in_a_customer_email_opens_that_customers_page(client, incident, settings):
    """status_url builds the path once per process and puts each token in: the link a
    customer gets opens their incident's page."""
    from incidents.customer_links import read_token, status_url

    settings.SITE_URL = "https://portal.example"
    url = status_url(incident_id=incident.pk, email="Jane@Acme.example")
    assert url.startswith("https://portal.example/")
    path = url.removeprefix("https://portal.example")
    token = path.removeprefix("/status/").removesuffix("/")
    assert path == reverse("customer-status", args=[token])
    assert read_token(token).incident_id == incident.pk
    response = client.get(path)
    assert response.status_code == 200
    assert "Invoices export times out" in response.content.decode()


def test_status_page_posts_show_only_while_on_the_public_page(client, incident, manager):
    """Seed 002-29: posts on the public status page appear here labelled "On our public
    status page" only while the incident is published, since it was last published (the
    public page's own rule, incidents.selectors.status_page_posts_shown)."""
    now = timezone.now()
    services.status_page_publish(
        incident=incident,
        actor=manager,
        public_title="Slow exports",
        body="First public words",
        now=now - 2 * H,
    )
    text = client.get(page(incident)).content.decode()
    assert "First public words" in text and "On our public status page" in text
    services.status_page_withdraw(
        incident=incident, actor=manager, reason="Wrong incident", now=now - H
    )
    text = client.get(page(incident)).content.decode()
    assert "First public words" not in text and "On our public status page" not in text
    services.status_page_publish(
        incident=incident, actor=manager, public_title="Slow exports", body="Second words", now=now
    )
    text = client.get(page(incident)).content.decode()
    assert "Second words" in text and "First public words" not in text
