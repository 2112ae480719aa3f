"""JSON nested deeper than Python's decoder can go ("[[[[...]]]]", a few hundred
kilobytes) is a malformed body or a form error like any other: found answering 500
on the API's JSON bodies and on the admin's JSON fields."""

from __future__ import annotations

import pytest
from django.urls import reverse

from escalations.models import Calendar
from incidents.models import Incident, Integration
from tests.api_client import token_client

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def superuser_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(user)
    return client


def test_the_api_answers_400_to_a_body_nested_too_deeply(agent, channel):
    response = token_client(agent).post(
        "/api/incidents/", data=DEEP, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert not Incident.objects.exists()


def test_the_api_still_reads_an_ordinary_body(agent, channel):
    response = token_client(agent).post(
        "/api/incidents/", data="{nonsense", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_an_admin_calendar_with_a_deeply_nested_spec_is_a_form_error(superuser_client):
    response = superuser_client.post(
        reverse("admin:escalations_calendar_add"),
        {"name": "deep", "description": "", "spec": DEEP},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["spec"] == ["Enter a valid JSON."]
    assert not Calendar.objects.filter(name="deep").exists()


def test_an_admin_integration_with_a_deeply_nested_severity_map_is_a_form_error(
    superuser_client, channel
):
    response = superuser_client.post(
        reverse("admin:incidents_integration_add"),
        {"name": "deep", "kind": "alertmanager", "severity_map": DEEP},
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["severity_map"] == ["Enter a valid JSON."]
    assert not Integration.objects.filter(name="deep").exists()
