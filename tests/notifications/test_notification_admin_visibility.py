"""Who may read a notification in the admin (issue 15, finding 4).

A notification about an incident follows that incident's visibility. One about no
incident, the weekly report, counts what its recipient may see (security incidents
for a director), so it is shown only to its recipient and to people who may see
security incidents themselves; a team lead sees their own report, not a director's.
"""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from escalations.analytics.weekly_mail import weekly_report_send
from notifications.models import Notification, ReportSubscription
from tests.escalations.review_scenario import NOW, build_world
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MONDAY_9_UTC = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


def _report_for(user) -> Notification:
    subscription = ReportSubscription.objects.create(user=user, time_zone="UTC")
    ReportSubscription.objects.filter(pk=subscription.pk).update(created_at=NOW)
    subscription.refresh_from_db()
    with time_machine.travel(MONDAY_9_UTC, tick=False):
        return weekly_report_send(subscription=subscription, now=MONDAY_9_UTC)


@pytest.fixture
def world(roles):
    with time_machine.travel(NOW, tick=False):
        world = build_world()
    world.director = UserFactory(username="director1", role="Director", is_staff=True)
    world.director_report = _report_for(world.director)
    world.lead_report = _report_for(world.lead)
    return world


def _listed(client, user) -> set[int]:
    client.force_login(user)
    response = client.get(reverse("admin:notifications_notification_changelist"))
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_a_team_lead_sees_their_own_weekly_report_not_a_directors(client, world):
    listed = _listed(client, world.lead)
    assert world.lead_report.pk in listed
    assert world.director_report.pk not in listed
    change = client.get(
        reverse("admin:notifications_notification_change", args=[world.director_report.pk])
    )
    assert change.status_code == 302  # the admin's "does not exist" redirect


def test_people_who_may_see_security_incidents_see_every_report(client, world):
    listed = _listed(client, world.manager)
    assert {world.lead_report.pk, world.director_report.pk} <= listed


def test_notifications_about_incidents_still_follow_the_incident(client, world):
    assert world.failed.pk in _listed(client, world.lead)
