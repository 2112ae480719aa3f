"""Draft -> in review -> published: each step through a service, publication only with
every paragraph of seed 004's template filled in, and nothing changes afterwards."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from escalations.followup.reviews import (
    action_item_add,
    review_create,
    review_publish,
    review_return_to_draft,
    review_submit,
    review_update,
)
from escalations.models import ReviewStatus
from incidents.models import EventKind
from tests.factories import make_incident

pytestmark = pytest.mark.django_db

COMPLETE = {
    "customers_impacted": 87,
    "business_impact": "Checkout down for all customers",
    "root_cause_what": "Database connection pool exhausted under load",
    "root_cause_why": "A code change leaked connections",
    "root_cause_not_caught": "Load tests did not simulate peak concurrency",
    "contributing_factors": ["Alert threshold too high"],
    "went_well": ["Fast detection"],
    "went_poorly": ["Initial hypothesis wrong"],
    "prevention_confidence": "high",
}


@pytest.fixture
def review(agent):
    incident = make_incident(actor=agent, severity="P0", assignee=agent)
    return review_create(incident=incident, actor=agent)


def test_submitting_an_empty_draft_names_every_missing_paragraph(review, agent):
    review_update(review=review, actor=agent, changes={"timeline": []})
    with pytest.raises(ValidationError) as caught:
        review_submit(review=review, actor=agent)
    missing = caught.value.message_dict
    assert set(missing) == {
        "customers_impacted",
        "business_impact",
        "timeline",
        "root_cause_what",
        "root_cause_why",
        "root_cause_not_caught",
        "contributing_factors",
        "went_well",
        "went_poorly",
        "prevention_confidence",
        "action_items",
    }
    assert missing["root_cause_not_caught"] == ["Say why it was not caught earlier."]
    review.refresh_from_db()
    assert review.status == ReviewStatus.DRAFT


def test_complete_review_goes_through_review_to_publication(review, agent, manager):
    review_update(review=review, actor=agent, changes=COMPLETE)
    action_item_add(
        review=review, actor=agent, title="Add pool monitoring", owner=agent, due_date=date.today()
    )
    with pytest.raises(ValidationError, match="Submit the review"):
        review_publish(review=review, actor=manager)
    review_submit(review=review, actor=agent)
    published = review_publish(review=review, actor=manager)
    assert published.status == ReviewStatus.PUBLISHED
    assert published.published_by == manager and published.published_at is not None
    assert published.next_reminder_at is None  # nothing left to remind about
    kinds = list(review.incident.events.values_list("kind", flat=True))
    assert EventKind.REVIEW_PUBLISHED in kinds
    with pytest.raises(ValidationError, match="published review"):
        review_update(review=review, actor=manager, changes={"business_impact": "changed"})


def test_a_reviewer_sends_it_back_with_a_reason(review, agent, manager):
    review_update(review=review, actor=agent, changes=COMPLETE)
    action_item_add(review=review, actor=agent, title="Fix", owner=agent, due_date=date.today())
    review_submit(review=review, actor=agent)
    with pytest.raises(ValidationError) as caught:
        review_return_to_draft(review=review, actor=manager, reason=" ")
    assert "reason" in caught.value.message_dict
    back = review_return_to_draft(review=review, actor=manager, reason="Timeline misses 14:52")
    assert back.status == ReviewStatus.DRAFT
    event = review.incident.events.filter(kind=EventKind.REVIEW).last()
    assert event.body.endswith("Timeline misses 14:52")


def test_edits_are_checked_and_nothing_is_half_saved(review, agent, security_user):
    with pytest.raises(ValidationError) as caught:
        review_update(
            review=review,
            actor=agent,
            changes={
                "business_impact": "should not stick",
                "prevention_confidence": "certain",
                "timeline": [{"at": "2026-01-14T14:23:00", "text": "naive time"}],
            },
        )
    assert set(caught.value.message_dict) == {"prevention_confidence", "timeline"}
    review.refresh_from_db()
    assert review.business_impact != "should not stick"
    with pytest.raises(ValidationError, match="cannot be edited"):
        review_update(review=review, actor=agent, changes={"status": "published"})


def test_times_and_dates_no_zone_can_hold_are_refused_as_typos(review, agent):
    """Year 1 or 9999 would crash the page and the exports (OverflowError) later."""
    now = timezone.now()
    for at in ("0001-01-01T00:00:00+00:00", (now + timedelta(days=2)).isoformat()):
        with pytest.raises(ValidationError) as caught:
            review_update(
                review=review, actor=agent, changes={"timeline": [{"at": at, "text": "x"}]}
            )
        assert caught.value.message_dict == {
            "timeline": ["Entry 1: pick a time from 1970 on, not in the future."]
        }
    review_update(
        review=review, actor=agent, changes={"timeline": [{"at": now.isoformat(), "text": "x"}]}
    )
    with pytest.raises(ValidationError) as caught:
        action_item_add(review=review, actor=agent, title="x", owner=agent, due_date=date.max)
    assert caught.value.message_dict == {"due_date": ["The due date is too far ahead."]}
    assert not review.action_items.exists()


def test_the_owner_must_be_able_to_see_the_incident(agent, other_agent, security_user):
    secret = make_incident(actor=security_user, severity="P0", is_security=True)
    review = review_create(incident=secret, actor=security_user)
    with pytest.raises(ValidationError) as caught:
        review_update(review=review, actor=security_user, changes={"owner": other_agent})
    assert "cannot see this incident" in caught.value.message_dict["owner"][0]
    review_update(review=review, actor=security_user, changes={"owner": security_user})


def test_similar_incidents_are_suggested_then_confirmed_by_a_person(agent):
    from escalations.followup.reviews import review_confirm_similar, similar_suggestions
    from tests.factories import ComponentFactory

    payments = ComponentFactory(name="Payments API")
    earlier = make_incident(actor=agent, component=payments, title="Pool exhausted")
    same_key = make_incident(actor=agent, root_cause_key="db-pool", title="Other component")
    unrelated = make_incident(actor=agent, title="Unrelated")
    incident = make_incident(actor=agent, severity="P0", component=payments)
    review = review_create(incident=incident, actor=agent, now=timezone.now())
    review = review_update(review=review, actor=agent, changes={"root_cause_key": "db-pool"})
    suggested = set(similar_suggestions(review, agent))
    assert suggested == {earlier, same_key}
    assert unrelated not in suggested
    review_confirm_similar(review=review, actor=agent, incidents=[earlier])
    assert set(similar_suggestions(review, agent)) == {same_key}
    link = review.similar_links.get()
    assert (link.incident, link.confirmed_by) == (earlier, agent)
    with pytest.raises(ValidationError):
        review_confirm_similar(review=review, actor=agent, incidents=[incident])
    assert timezone.now() - link.confirmed_at < timedelta(minutes=1)
