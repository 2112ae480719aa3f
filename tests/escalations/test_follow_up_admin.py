"""Managers' admin for the follow-up work: inlines on the incident, queues filtered by
what is overdue, state changes through actions that call the services, visibility."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from escalations.followup.reviews import action_item_add, action_item_close, review_create
from escalations.followup.vendors import vendor_case_open
from escalations.followup.war_room import war_room_activate
from escalations.models import ActionItem, PostIncidentReview
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def followed_up(manager, agent):
    incident = make_incident(actor=agent, severity="P0", assignee=agent)
    war_room_activate(incident=incident, actor=manager, reason="sev1", commander=manager)
    vendor_case_open(
        incident=incident, actor=agent, vendor="GCP", case_id="42", severity="P1", owner=agent
    )
    review = review_create(incident=incident, actor=agent)
    action_item_add(
        review=review, actor=agent, title="Tune alerts", owner=agent, due_date=date.today()
    )
    return incident


def test_the_incident_change_page_shows_the_follow_up_inlines(staff, followed_up):
    response = staff.get(reverse("admin:incidents_incident_change", args=[followed_up.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("post-incident review", "war rooms", "vendor cases", "action items"):
        assert text in html.lower()
    assert "Tune alerts" in html and "GCP" in html


def test_publishing_from_the_admin_goes_through_the_service(staff, followed_up):
    review = PostIncidentReview.objects.get()
    PostIncidentReview.objects.filter(pk=review.pk).update(status="in_review")
    response = staff.post(
        reverse("admin:escalations_postincidentreview_changelist"),
        {"action": "publish", "_selected_action": [review.pk]},
        follow=True,
    )
    # The service refuses an incomplete review and says why; nothing changes.
    messages = [str(m) for m in response.context["messages"]]
    assert any("Say why it happened." in m for m in messages)
    review.refresh_from_db()
    assert review.status == "in_review"


def test_a_team_lead_does_not_see_security_reviews_in_the_admin(client, roles, security_user):
    lead = UserFactory(username="lead", role="Team Lead", is_staff=True)
    secret = make_incident(actor=security_user, severity="P0", is_security=True)
    review_create(incident=secret, actor=security_user)
    visible = make_incident(actor=lead, severity="P0")
    review_create(incident=visible, actor=lead)
    client.force_login(lead)
    response = client.get(reverse("admin:escalations_postincidentreview_changelist"))
    assert response.status_code == 200
    listed = {r.incident_id for r in response.context["cl"].result_list}
    assert listed == {visible.pk}


def test_action_item_queue_shows_closure_within_target(staff, followed_up, agent):
    review = PostIncidentReview.objects.get()
    late = action_item_add(
        review=review, actor=agent, title="Late one", owner=agent, due_date=date.today()
    )
    action_item_close(item=late, actor=agent, status="done", now=late.due_at + timedelta(days=1))
    on_time = ActionItem.objects.get(title="Tune alerts")
    action_item_close(item=on_time, actor=agent, status="done")
    response = staff.get(reverse("admin:escalations_actionitem_changelist"))
    metrics = response.context["metrics"]
    assert (metrics["closed"], metrics["closed_on_time"]) == (2, 1)
    assert metrics["on_time_percent"] == 50.0
    assert b"Closure within target" in response.content


def test_the_overdue_filter_lists_only_open_items_past_due(staff, followed_up, agent):
    review = PostIncidentReview.objects.get()
    overdue = action_item_add(
        review=review, actor=agent, title="Overdue", owner=agent, due_date=date.today()
    )
    ActionItem.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timedelta(hours=1))
    response = staff.get(reverse("admin:escalations_actionitem_changelist") + "?due=overdue")
    assert [i.title for i in response.context["cl"].result_list] == ["Overdue"]


def test_admin_edits_are_checked_beside_the_field(staff, followed_up, security_user):
    item = ActionItem.objects.get()
    response = staff.post(
        reverse("admin:escalations_actionitem_change", args=[item.pk]),
        {"owner": item.owner_id, "due_date": "2000-01-01"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["due_date"] == [
        "The due date cannot be in the past."
    ]
    item.refresh_from_db()
    assert item.due_date == date.today()
