"""Seed 003's tracking.md: the timeline in time order, and the review's open
action items under "Actions & Owners"."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from escalations.engine import services as engine
from escalations.followup import reviews
from escalations.models import ActionItem
from escalations.rules.handoff import CHECKLIST
from escalations.rules.spec import DEFAULT_HANDOFF_FIELDS
from incidents import services
from tests.factories import PASSWORD, UserFactory, make_incident

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def incident(default_policy, agent, manager):
    with time_machine.travel(T0, tick=False):
        incident = make_incident(actor=agent, severity="P1")
    services.incident_acknowledge(incident=incident, actor=agent, now=T0 + 0.25 * H)
    services.incident_change_status(
        incident=incident, status="investigating", actor=agent, now=T0 + H
    )
    engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=agent,
        reason="Needs the database team",
        category="expertise",
        note=dict.fromkeys(DEFAULT_HANDOFF_FIELDS, "Slow queries; add an index"),
        checklist=list(CHECKLIST),
        now=T0 + 2 * H,
    )
    services.incident_change_status(
        incident=incident, status="waiting_on_customer", actor=agent, now=T0 + 3 * H
    )
    return incident


def tracking(client, user, incident) -> str:
    client.login(username=user.username, password=PASSWORD)
    response = client.get(reverse("escalations:tracking", args=[incident.reference]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_timeline_reads_in_time_order(incident, manager, client):
    text = tracking(client, manager, incident)
    timeline = text.split("## Timeline\n")[1].split("\n\n")[0].splitlines()
    stamps = [line[1:17] for line in timeline]
    assert stamps == sorted(stamps), timeline
    escalated = next(i for i, line in enumerate(timeline) if "escalated L1 -> L2" in line)
    investigating = next(i for i, line in enumerate(timeline) if "-> investigating" in line)
    waiting = next(i for i, line in enumerate(timeline) if "-> waiting_on_customer" in line)
    assert investigating < escalated < waiting


def test_open_action_items_are_listed_with_their_owners(incident, manager, client):
    owner = UserFactory(username="dba1", role="Engineering Manager")
    review = reviews.review_create(incident=incident, actor=manager, now=T0 + 4 * H)
    reviews.action_item_add(
        review=review,
        actor=manager,
        title="Add the missing index",
        owner=owner,
        due_date=date(2026, 3, 9),
        now=T0 + 4 * H,
    )
    text = tracking(client, manager, incident)
    actions = text.split("## Actions & Owners\n")[1].split("\n\n")[0]
    assert "(none open)" not in actions
    assert "- [ ] Add the missing index (open, due 2026-03-09) - @" in actions
    assert str(owner) in actions
    assert "- [ ] Post-incident review (draft" in actions
    assert ActionItem.objects.filter(review=review).count() == 1


def test_times_are_in_the_readers_zone_and_say_which(incident, manager, client):
    manager.time_zone = "America/New_York"
    manager.save(update_fields=["time_zone"])
    text = tracking(client, manager, incident)
    assert "**Times**: America/New_York" in text
    assert "[2026-03-02 07:00] - Status investigating -> waiting_on_customer" in text
