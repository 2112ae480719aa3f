from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, make_incident

pytestmark = pytest.mark.django_db


def test_times_show_in_the_users_zone_and_are_stored_in_utc(client, agent):
    opened = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    incident = make_incident(actor=agent, opened_at=opened, now=opened)
    client.login(username=agent.username, password=PASSWORD)
    url = reverse("incidents:detail", args=[incident.reference])
    assert b"2026-03-01 12:00:00 UTC" in client.get(url).content

    response = client.post(
        reverse("profile"),
        {
            "first_name": "A",
            "last_name": "B",
            "email": "a@example.com",
            "phone": "",
            "time_zone": "Asia/Tokyo",
        },
    )
    assert response.status_code == 302
    assert b"2026-03-01 21:00:00 JST" in client.get(url).content
    incident.refresh_from_db()
    assert incident.opened_at == opened


def test_unknown_time_zone_is_refused_in_the_profile(client, agent):
    client.login(username=agent.username, password=PASSWORD)
    response = client.post(reverse("profile"), {"time_zone": "Mars/Base", "email": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["time_zone"]
    agent.refresh_from_db()
    assert str(agent.time_zone) == "UTC"
