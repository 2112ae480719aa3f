"""Refusals and missing pages are pages of the site: its layout, a human sentence and a
way back, never a bare "403 Forbidden"."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_refused_page_is_styled_and_leads_back(client, agent):
    client.login(username=agent.username, password=PASSWORD)
    response = client.get(reverse("metrics"))  # agents do not read the metrics
    html = response.content.decode()
    assert response.status_code == 403
    assert 'class="topbar"' in html and "portal/portal.css" in html
    assert "You are not allowed to do this" in html
    assert f"You are signed in as <strong>{agent}</strong>" in html
    assert 'href="/incidents/?status=open">Back to open incidents</a>' in html


def test_a_missing_incident_is_a_styled_404(client, agent):
    client.login(username=agent.username, password=PASSWORD)
    response = client.get(reverse("incidents:detail", args=["INC-NOPE-20260101-XXX"]))
    html = response.content.decode()
    assert response.status_code == 404
    assert "We could not find this page" in html and "Back to open incidents" in html


def test_a_refused_form_says_what_to_do(agent):
    browser = Client(enforce_csrf_checks=True)
    browser.login(username=agent.username, password=PASSWORD)
    response = browser.post(reverse("incidents:create"), {"title": "x"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "This form could not be sent" in html
    assert "Go back, reload the page and send it again." in html
    assert 'class="topbar"' in html and "Back to open incidents" in html


def test_a_signed_out_visitor_is_offered_to_sign_in(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert 'href="/login/">Sign in</a>' in response.content.decode()
