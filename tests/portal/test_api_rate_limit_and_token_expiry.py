"""Token-authenticated API calls are throttled per user (429 with Retry-After), and a
token older than API_TOKEN_TTL_DAYS answers 401; sessions are not counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api_client import token_client

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_token_calls_are_limited_per_user(settings, clock, agent, other_agent):
    settings.API_TOKEN_RATE = "5/minute"
    client = token_client(agent)
    for _ in range(5):
        assert client.get("/api/incidents/").status_code == 200
    answer = client.get("/api/incidents/")
    assert answer.status_code == 429
    assert int(answer["Retry-After"]) == 60
    assert "throttled" in answer.json()["detail"].lower()

    # Another user's token has its own count.
    assert token_client(other_agent).get("/api/incidents/").status_code == 200

    # A browser session (already behind the sign-in throttle) is not counted.
    session = APIClient()
    session.force_login(agent)
    for _ in range(8):
        assert session.get("/api/incidents/").status_code == 200

    clock.shift(timedelta(seconds=61))
    assert client.get("/api/incidents/").status_code == 200


def test_an_empty_rate_is_no_limit(settings, clock, agent):
    settings.API_TOKEN_RATE = ""
    client = token_client(agent)
    for _ in range(30):
        assert client.get("/api/channels/").status_code == 200


def test_tokens_expire_after_the_ttl(settings, clock, agent):
    settings.API_TOKEN_TTL_DAYS = 30
    client = token_client(agent)  # made now
    clock.shift(timedelta(days=29, hours=23))
    assert client.get("/api/incidents/").status_code == 200

    clock.shift(timedelta(hours=1))
    answer = client.get("/api/incidents/")
    assert answer.status_code == 401
    assert answer.json()["detail"] == "Token has expired: ask an administrator for a new one."
    assert answer["WWW-Authenticate"] == "Token"

    # A new token (as `drf_create_token -r` or the admin makes) works again.
    Token.objects.filter(user=agent).delete()
    assert token_client(agent).get("/api/incidents/").status_code == 200


def test_tokens_do_not_expire_by_default(settings, clock, agent):
    assert settings.API_TOKEN_TTL_DAYS == 0
    client = token_client(agent)
    clock.shift(timedelta(days=3650))
    assert client.get("/api/incidents/").status_code == 200
