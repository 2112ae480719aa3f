"""Admin actions ask the same rule as the web and the API (issue 15, findings 2 and 3):
an executive may not acknowledge handoffs or record decisions, a governance liaison
may not publish a review. The admin does not offer the action, and posting it
anyway changes nothing."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from escalations.engine import services as engine
from escalations.followup import reviews
from escalations.models import Escalation, PostIncidentReview
from escalations.policies.services import policy_create_from_spec, policy_spec
from escalations.rules.handoff import CHECKLIST
from incidents import services
from tests.escalations.conftest import simple_spec
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db

COMPLETE = {
    "customers_impacted": 3,
    "business_impact": "Checkout slow",
    "root_cause_what": "Pool exhausted",
    "root_cause_why": "A leak",
    "root_cause_not_caught": "No load test",
    "contributing_factors": ["High threshold"],
    "went_well": ["Fast detection"],
    "went_poorly": ["Slow rollback"],
    "prevention_confidence": "high",
}


@pytest.fixture
def escalation(agent):
    policy = policy_create_from_spec(spec=simple_spec(), name="standard", make_default=True)
    incident = make_incident(actor=agent)
    note = dict.fromkeys(policy_spec(policy).level(2).handoff_fields, "See timeline")
    return engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=agent,
        reason="Needs specialists",
        category="expertise",
        note=note,
        checklist=list(CHECKLIST),
    )


def _post_action(client, changelist: str, action: str, pk: int, **data):
    return client.post(
        reverse(changelist),
        {"action": action, "_selected_action": [pk], "apply": "1", **data},
        follow=True,
    )


def _offered(client, changelist: str) -> set[str]:
    response = client.get(reverse(changelist))
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action is offered at all
    return set() if form is None else {value for value, _ in form.fields["action"].choices}


def test_an_executive_is_not_offered_and_cannot_run_acknowledge_or_decide(
    client, roles, escalation
):
    executive = UserFactory(username="exec1", role="Executive", is_staff=True)
    client.force_login(executive)
    changelist = "admin:escalations_escalation_changelist"
    assert {"acknowledge", "decide"}.isdisjoint(_offered(client, changelist))

    _post_action(client, changelist, "acknowledge", escalation.pk)
    _post_action(client, changelist, "decide", escalation.pk, decision="Roll back")

    escalation = Escalation.objects.get(pk=escalation.pk)
    assert escalation.acknowledged_at is None and escalation.acknowledged_by is None
    assert escalation.decision_at is None and escalation.decision_made == ""
    assert escalation.incident.assignee is None


def test_a_team_lead_still_acknowledges_and_decides_from_the_admin(client, roles, escalation):
    lead = UserFactory(username="lead1", role="Team Lead", is_staff=True)
    client.force_login(lead)
    changelist = "admin:escalations_escalation_changelist"
    assert {"acknowledge", "decide"} <= _offered(client, changelist)

    _post_action(client, changelist, "acknowledge", escalation.pk)
    _post_action(client, changelist, "decide", escalation.pk, decision="Roll back")

    escalation = Escalation.objects.get(pk=escalation.pk)
    assert escalation.acknowledged_by == lead
    assert escalation.decision_by == lead and escalation.decision_made == "Roll back"


@pytest.fixture
def review_in_review(agent):
    incident = make_incident(actor=agent)
    services.incident_acknowledge(incident=incident, actor=agent)
    services.incident_change_status(incident=incident, status="resolved", actor=agent, note="x")
    review = reviews.review_create(incident=incident, actor=agent)
    reviews.review_update(review=review, actor=agent, changes=COMPLETE)
    reviews.action_item_add(
        review=review,
        actor=agent,
        title="Load test",
        owner=agent,
        due_date=date.today() + timedelta(days=7),
    )
    return reviews.review_submit(review=review, actor=agent)


def test_governance_is_not_offered_and_cannot_run_publish(client, roles, review_in_review):
    governance = UserFactory(username="gov1", role="Governance Liaison", is_staff=True)
    client.force_login(governance)
    changelist = "admin:escalations_postincidentreview_changelist"
    assert "publish" not in _offered(client, changelist)

    _post_action(client, changelist, "publish", review_in_review.pk)

    review = PostIncidentReview.objects.get(pk=review_in_review.pk)
    assert review.status == "in_review" and review.published_at is None


def test_a_manager_still_publishes_from_the_admin(client, manager, review_in_review):
    client.force_login(manager)
    changelist = "admin:escalations_postincidentreview_changelist"
    assert "publish" in _offered(client, changelist)

    _post_action(client, changelist, "publish", review_in_review.pk)

    review = PostIncidentReview.objects.get(pk=review_in_review.pk)
    assert review.status == "published" and review.published_by == manager
