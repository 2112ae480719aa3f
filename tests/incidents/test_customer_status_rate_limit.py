"""The status page's forms (a reply notifies the assignee) are rate-limited per link and
per address: past the limit, a friendly 429 page and nothing is recorded or sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from incidents import services
from incidents.customer_links import make_token
from incidents.models import EventKind
from tests.factories import AccountFactory, make_incident

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def account(db):
    return AccountFactory(primary_contact_email="jane@acme.example")


@pytest.fixture
def make_case(clock, default_policy, account, agent):
    def make(title="Invoices export times out"):
        incident = make_incident(actor=agent, account=account, title=title, assignee=agent)
        services.incident_acknowledge(incident=incident, actor=agent)
        token = make_token(incident_id=incident.pk, email="jane@acme.example")
        return incident, reverse("customer-status", args=[token])

    return make


def reply(client, url, text, address="203.0.113.7"):
    return client.post(url, {"action": "reply", "reply-body": text}, REMOTE_ADDR=address)


def replies(incident):
    return incident.events.filter(kind=EventKind.CUSTOMER_REPLY).count()


def test_a_link_sends_only_so_many_replies_then_gets_a_friendly_page(
    client, settings, make_case, clock
):
    settings.STATUS_PAGE_LINK_RATE = "3/hour"
    settings.STATUS_PAGE_ADDRESS_RATE = "100/hour"
    incident, url = make_case()
    for n in range(3):
        assert reply(client, url, f"Update {n}").status_code == 302
    answer = reply(client, url, "One more")
    assert answer.status_code == 429
    assert int(answer["Retry-After"]) == 3600
    assert answer["Cache-Control"] == "private, no-store"
    html = answer.content.decode()
    assert "Please wait a little before sending more" in html
    assert "about 60 minutes" in html
    assert f'href="{url}"' in html  # back to the status page
    assert replies(incident) == 3
    # A rating counts against the same link.
    answer = client.post(url, {"action": "rate", "rate-rating": "5"}, REMOTE_ADDR="203.0.113.7")
    assert answer.status_code == 429
    # Reading the page is never limited.
    assert client.get(url).status_code == 200

    # Another customer link from the same address is not held up.
    _, other_url = make_case("Another case")
    assert reply(client, other_url, "Hello").status_code == 302

    clock.shift(timedelta(hours=1, seconds=1))
    assert reply(client, url, "An hour later").status_code == 302
    assert replies(incident) == 4


def test_one_address_sends_only_so_many_across_links(client, settings, make_case):
    settings.STATUS_PAGE_LINK_RATE = "100/hour"
    settings.STATUS_PAGE_ADDRESS_RATE = "4/hour"
    (first, first_url), (second, second_url) = make_case("First"), make_case("Second")
    for url in (first_url, second_url, first_url, second_url):
        assert reply(client, url, "Hi").status_code == 302
    assert reply(client, first_url, "Again").status_code == 429
    assert reply(client, second_url, "Again").status_code == 429
    # The same link from another address still works.
    assert reply(client, first_url, "From my phone", address="198.51.100.9").status_code == 302
    assert (replies(first), replies(second)) == (3, 2)


def test_an_empty_rate_is_no_limit(client, settings, make_case):
    settings.STATUS_PAGE_LINK_RATE = ""
    settings.STATUS_PAGE_ADDRESS_RATE = ""
    incident, url = make_case()
    for n in range(15):
        assert reply(client, url, f"Update {n}").status_code == 302
    assert replies(incident) == 15
