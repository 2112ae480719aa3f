"""The path a new user takes: migrated database, demo data, login page, role logins."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from incidents.models import Incident, IncidentEvent
from portal.logins import ensure_role_logins
from portal.roles import ALL_ROLES

pytestmark = pytest.mark.django_db


def test_demo_data_then_login_page(client, roles):
    call_command("load_demo", count=40)
    assert Incident.objects.count() == 40
    assert IncidentEvent.objects.count() > 40  # histories, not just openings
    assert Incident.objects.open().exists()
    assert Incident.objects.exclude(
        status__in=[
            "new",
            "acknowledged",
            "investigating",
            "waiting_on_customer",
            "waiting_on_vendor",
            "mitigated",
        ]
    ).exists()
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_demo_is_deterministic(roles):
    from portal.demo import load_demo

    def batch():
        rows = Incident.objects.order_by("-pk").values_list("title", "severity", "status")[:15]
        return sorted(rows)

    load_demo(count=15, seed=7)
    first = batch()
    load_demo(count=15, seed=7)  # the same seed again: the same incidents once more
    assert batch() == first
    load_demo(count=15, seed=8)
    assert batch() != first


def test_demo_refuses_a_database_with_incidents(roles):
    call_command("load_demo", count=1)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--force"):
        call_command("load_demo", count=1)


def test_role_logins_are_made_once_and_work(client, roles):
    first = ensure_role_logins()
    assert {login.role for login in first} >= set(ALL_ROLES)
    assert all(login.password for login in first)
    again = ensure_role_logins()
    assert all(login.password is None for login in again)  # printed once only
    agent = next(login for login in first if login.role == "Support Agent")
    assert client.login(username=agent.username, password=agent.password)
    assert client.get(reverse("incidents:list")).status_code == 200


def test_health_check(client):
    assert client.get(reverse("healthz")).json() == {"status": "ok"}
