"""Only the configured ESP's inbound webhook answers; garbage answers 4xx, never 500
(issue 15, finding 8)."""

from __future__ import annotations

import base64

import pytest

from notifications.webhooks import inbound_views

pytestmark = pytest.mark.django_db

UNCONFIGURED = ["mailgun", "amazon_ses", "brevo", "resend", "postal", "mailersend", "sendgrid"]


@pytest.fixture(autouse=True)
def postmark_inbound(settings):
    settings.INBOUND_EMAIL_ESP = "postmark"


def basic_auth(settings) -> dict:
    secret = settings.ANYMAIL["WEBHOOK_SECRET"]
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


@pytest.mark.parametrize("esp", UNCONFIGURED)
def test_other_esps_inbound_webhooks_are_not_there(client, esp):
    response = client.post(f"/anymail/{esp}/inbound/", "{}", content_type="application/json")
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["mailgun/inbound_mime/", "postmark/tracking/", "nope/inbound/"])
def test_tracking_and_unknown_webhooks_are_not_there(client, path):
    response = client.post(f"/anymail/{path}", "{}", content_type="application/json")
    assert response.status_code == 404


def test_with_no_inbound_esp_configured_even_postmark_is_not_there(client, settings):
    settings.INBOUND_EMAIL_ESP = ""
    response = client.post("/anymail/postmark/inbound/", "{}", content_type="application/json")
    assert response.status_code == 404


def test_the_configured_esp_refuses_an_anonymous_post(client):
    response = client.post("/anymail/postmark/inbound/", "{}", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body", ["{not json", "", "[]", '"text"', '{"Headers": 5}', "\x00\xff", '{"FromFull": 1}']
)
def test_unreadable_bodies_answer_400(client, settings, body):
    response = client.post(
        "/anymail/postmark/inbound/", body, content_type="application/json", **basic_auth(settings)
    )
    assert response.status_code == 400


def test_every_inbound_esp_setting_has_a_webhook(settings):
    assert set(settings.INBOUND_ESPS) <= set(inbound_views())
