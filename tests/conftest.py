"""Shared fixtures, and the rule for tests that need a real server.

Tests marked `postgres`, `redis` or `browser` skip on a laptop without that
server; under CI=true a missing server is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
from urllib.parse import urlsplit

import pytest

UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(available: bool, what: str) -> None:
    if available:
        return
    if UNDER_CI:
        pytest.fail(f"{what} is required when CI=true (the CI script provides it)")
    pytest.skip(f"{what} is not available here")


def _redis_reachable() -> bool:
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return False
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or 6379), 2):
            return True
    except OSError:
        return False


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_runtest_setup(item):
    from django.db import connection

    if item.get_closest_marker("postgres"):
        require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL=postgres://...)")
    if item.get_closest_marker("redis"):
        require(_redis_reachable(), "Redis (CELERY_BROKER_URL=redis://...)")
    if item.get_closest_marker("redis_server"):
        require(shutil.which("redis-server") is not None, "redis-server (Debian package redis)")
    if item.get_closest_marker("browser"):
        require(chromium_path() is not None, "Chromium (Debian package chromium)")


@pytest.fixture
def roles(db):
    """Role groups, recreated if a transactional test flushed them."""
    from django.apps import apps

    from portal.roles import sync_roles

    sync_roles(apps)


@pytest.fixture
def agent(roles):
    from tests.factories import UserFactory

    return UserFactory(username="agent1", role="Support Agent")


@pytest.fixture
def other_agent(roles):
    from tests.factories import UserFactory

    return UserFactory(username="agent2", role="Support Agent")


@pytest.fixture
def manager(roles):
    from tests.factories import UserFactory

    return UserFactory(username="manager1", role="Engineering Manager", is_staff=True)


@pytest.fixture
def security_user(roles):
    from tests.factories import UserFactory

    return UserFactory(username="sec1", role="Security")


@pytest.fixture
def default_policy(db):
    """Two round-the-clock levels (tests/escalations/conftest.py), the default policy."""
    from escalations.policies.services import policy_create_from_spec
    from tests.escalations.conftest import simple_spec

    return policy_create_from_spec(spec=simple_spec(), name="standard", make_default=True)


@pytest.fixture
def channel(db):
    from incidents.models import Channel

    return Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})[0]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness buys nothing in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_delivery_settings():
    # The settings row is cached per process; each test starts from its own database.
    from notifications.models import _settings_cache

    _settings_cache.clear()
    yield
    _settings_cache.clear()


@pytest.fixture(autouse=True)
def _no_login_throttling(settings):
    # Django's test client signs in without a request, which django-axes refuses, and many
    # tests sign in often: throttling is off except where a test turns it on.
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Throttle counters live in the cache, which outlives a test's database.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
