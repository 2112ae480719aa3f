import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from incidents.models import EventKind, Incident, IncidentEvent
from incidents.rules import Status
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


def test_create_writes_the_incident_and_one_opening_event(agent):
    incident = make_incident(actor=agent, severity="high", description="Checkout is down")
    assert incident.status == Status.NEW
    assert incident.severity == "P1"
    assert incident.created_by == agent
    events = list(incident.events.all())
    assert [e.kind for e in events] == [EventKind.CREATED]
    assert events[0].actor == agent
    assert events[0].at == incident.opened_at
    assert events[0].data["severity"] == "P1"


@override_settings(INCIDENT_REFERENCE_PREFIX="QIW", TIME_ZONE="UTC")
def test_reference_is_prefix_channel_date_suffix(agent):
    now = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
    incident = make_incident(actor=agent, now=now)
    assert re.fullmatch(r"QIW-RUNTIME-20260114-[A-Z2-9]{3}", incident.reference)


@override_settings(TIME_ZONE="America/New_York")
def test_reference_date_is_the_portal_time_zone_day(agent):
    # 02:00 UTC on the 15th is still the 14th in New York.
    now = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)
    assert "-20260114-" in make_incident(actor=agent, now=now).reference


def test_imported_incident_keeps_its_past_opening_time(agent):
    now = timezone.now()
    opened = now - timedelta(days=3)
    incident = make_incident(actor=agent, opened_at=opened, now=now)
    assert incident.opened_at == opened
    assert incident.events.get().data["imported"] is True


def test_opening_time_in_the_future_is_refused_and_nothing_saved(agent):
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        make_incident(actor=agent, opened_at=now + timedelta(seconds=1), now=now)
    assert "opened_at" in error.value.error_dict
    assert not Incident.objects.exists()
    assert not IncidentEvent.objects.exists()


def test_naive_opening_time_is_refused(agent):
    with pytest.raises(ValidationError) as error:
        make_incident(actor=agent, opened_at=datetime(2026, 1, 1, 9, 0))
    assert "opened_at" in error.value.error_dict


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "   "}, "title"),
        ({"severity": "P9"}, "severity"),
        ({"users_affected": -1}, "users_affected"),
        ({"revenue_impact": -5}, "revenue_impact"),
    ],
)
def test_bad_values_name_their_field(agent, overrides, field):
    with pytest.raises(ValidationError) as error:
        make_incident(actor=agent, **overrides)
    assert field in error.value.error_dict
    assert not Incident.objects.exists()


def test_inactive_channel_is_refused(agent, channel):
    channel.is_active = False
    channel.save()
    with pytest.raises(ValidationError) as error:
        make_incident(actor=agent, channel=channel)
    assert "channel" in error.value.error_dict


def test_reference_collision_retries_with_a_new_suffix(agent, monkeypatch):
    suffixes = iter(["AAA", "AAA", "BBB"])
    monkeypatch.setattr("incidents.services.random_suffix", lambda length: next(suffixes))
    first = make_incident(actor=agent)
    second = make_incident(actor=agent)
    assert first.reference.endswith("-AAA")
    assert second.reference.endswith("-BBB")
    assert Incident.objects.count() == 2


def test_crowded_day_grows_the_suffix(agent, monkeypatch):
    lengths = []

    def suffix(length):
        lengths.append(length)
        return "A" * length

    monkeypatch.setattr("incidents.services.random_suffix", suffix)
    make_incident(actor=agent)  # takes AAA
    incident = make_incident(actor=agent)  # AAA x4 collide, then AAAA
    assert incident.reference.endswith("-AAAA")
    assert lengths == [3, 3, 3, 3, 3, 4]
