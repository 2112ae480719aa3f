"""One time zone rule: every instant a person reads is in their zone, zone shown:
"[PIR DUE ...]" subjects in the recipient's zone, "due ..." on the timeline in the
reader's."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from escalations.models import PostIncidentReview
from incidents import services
from notifications.models import Notification
from portal.templatetags.local_time import localize_utc_stamps
from tests.factories import PASSWORD, UserFactory, make_incident

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # resolved; the review is due 48 h later


@pytest.fixture
def resolved(default_policy, roles):
    owner = UserFactory(username="ny1", role="Support Agent", time_zone="America/New_York")
    with time_machine.travel(T0, tick=False):
        incident = make_incident(actor=owner, severity="P0", assignee=owner)
    services.incident_change_status(
        incident=incident, status="resolved", actor=owner, note="Fixed", now=T0
    )
    return incident, owner


def test_the_pir_due_subject_is_in_the_recipients_zone(resolved):
    incident, owner = resolved
    assert PostIncidentReview.objects.get(incident=incident).due_at == datetime(
        2026, 3, 4, 15, 30, tzinfo=UTC
    )
    subjects = list(
        Notification.objects.filter(kind="pir_reminder", recipient=owner.email).values_list(
            "subject", flat=True
        )
    )
    assert subjects == [f"[PIR DUE 2026-03-04 10:30 EST] {incident.reference} - {incident.title}"]


def test_the_timeline_shows_the_due_time_in_the_readers_zone(resolved, roles, client):
    incident, _owner = resolved
    reader = UserFactory(
        username="paris1", role="Engineering Manager", is_staff=True, time_zone="Europe/Paris"
    )
    client.login(username=reader.username, password=PASSWORD)
    html = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert "Due 2026-03-04 16:30 CET." in html
    assert "15:30 UTC" not in html


def test_stamps_in_stored_text_are_rewritten_and_nothing_else():
    import zoneinfo

    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    assert (
        localize_utc_stamps("Due 2026-03-04 15:30 UTC. Call 2026-03-04 at noon.", tokyo)
        == "Due 2026-03-05 00:30 JST. Call 2026-03-04 at noon."
    )
