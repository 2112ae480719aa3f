"""Action-item API: added to a review, handed over, moved and closed only through
escalations.followup.reviews (timeline events, the owner's notice, who and when a close was
recorded), the web's permissions, bad input as 400 with nothing saved, and a security
incident's items invisible (404) to those who may not see it."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from escalations.followup import reviews
from escalations.models import ActionItem
from notifications.models import Notification
from tests.api_client import results, token_client
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 7, 12, 0, tzinfo=UTC)
TODAY = date(2026, 4, 7)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def executive(roles):
    return UserFactory(username="exec1", role="Executive")


@pytest.fixture
def incident(default_policy, agent):
    return make_incident(actor=agent, severity="P1", title="Checkout down", assignee=agent)


@pytest.fixture
def review(incident, agent):
    return reviews.review_create(incident=incident, actor=agent)


def add(review, owner, *, title="Add pool monitoring", due=TODAY + timedelta(days=7), **kw):
    return reviews.action_item_add(
        review=review, actor=owner, title=title, owner=owner, due_date=due, **kw
    )


def item_url(item, action=""):
    return f"/api/action-items/{item.pk}/" + (f"{action}/" if action else "")


def test_add_an_item_to_a_review(agent, other_agent, incident, review):
    answer = token_client(agent).post(
        "/api/action-items/",
        {
            "review": review.pk,
            "title": "Fix the connection leak",
            "owner": other_agent.username,
            "due_date": "2026-04-10",
            "is_permanent_fix": True,
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    item = ActionItem.objects.get()
    assert body["id"] == item.pk
    assert (body["review"], body["incident"], body["owner"]) == (
        review.pk,
        incident.reference,
        other_agent.username,
    )
    assert (body["status"], body["is_open"], body["overdue"]) == ("open", True, False)
    assert body["due_at"] == "2026-04-11T00:00:00Z"  # the end of the day where the owner lives
    assert body["created_by"] == agent.username and item.is_permanent_fix
    assert incident.events.filter(kind="action_item", data__item=item.pk).exists()
    # The owner hears about it through the outbox, as when added on the web.
    assert Notification.objects.filter(
        kind="action_item_reminder", recipient=other_agent.email
    ).exists()


def test_bad_input_is_400_beside_the_field_and_nothing_is_saved(
    agent, security_user, incident, review
):
    api = token_client(agent)
    good = {
        "review": review.pk,
        "title": "Fix it",
        "owner": agent.username,
        "due_date": "2026-04-10",
    }
    for changes, field in [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"owner": "nobody-such"}, "owner"),
        ({"due_date": "10/04/2026"}, "due_date"),
        ({"due_date": "2026-04-06"}, "due_date"),  # the service: not in the past
        ({"due_date": "9999-12-31"}, "due_date"),  # nor past what a datetime can hold
        ({"review": 99999}, "review"),
        ({"owner": security_user.username, "review": None}, "review"),
    ]:
        answer = api.post("/api/action-items/", {**good, **changes}, format="json")
        assert answer.status_code == 400, changes
        assert field in answer.json(), answer.json()
    # People given work must be able to see the incident (the service says so).
    secret = make_incident(actor=security_user, is_security=True, assignee=security_user)
    hidden = reviews.review_create(incident=secret, actor=security_user)
    refused = token_client(security_user).post(
        "/api/action-items/", {**good, "review": hidden.pk}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "owner": [f"{agent} cannot see this incident (limited distribution)."]
    }
    assert not ActionItem.objects.exists()
    assert not incident.events.filter(kind="action_item").exists()


def test_hand_over_move_and_start(agent, other_agent, incident, review):
    item = add(review, agent)
    api = token_client(agent)
    answer = api.patch(
        item_url(item),
        {"owner": other_agent.username, "due_date": "2026-04-20", "status": "in_progress"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    item.refresh_from_db()
    assert (item.owner, item.due_date, item.status) == (
        other_agent,
        date(2026, 4, 20),
        "in_progress",
    )
    event = incident.events.filter(kind="action_item", data__action="changed").get()
    assert "owner" in event.body and "2026-04-20" in event.body
    assert Notification.objects.filter(recipient=other_agent.email).exists()

    before = ActionItem.objects.values().get(pk=item.pk)
    for body, field in [
        ({}, "non_field_errors"),
        ({"status": "done"}, "status"),  # closing is its own action
        ({"status": "finished"}, "status"),
        ({"due_date": "2026-04-01"}, "due_date"),
        ({"owner": "nobody-such"}, "owner"),
    ]:
        refused = api.patch(item_url(item), body, format="json")
        assert refused.status_code == 400, body
        assert list(refused.json()) == [field], refused.json()
    assert api.patch(item_url(item), {"status": "done"}, format="json").json() == {
        "status": ["Close the item to mark it done or dropped."]
    }
    assert ActionItem.objects.values().get(pk=item.pk) == before


def test_close_records_who_and_when(agent, lead_user, incident, review):
    item = add(review, agent)
    api = token_client(lead_user)
    dropped = api.post(item_url(item, "close"), {"status": "wont_do"}, format="json")
    assert dropped.status_code == 400
    assert dropped.json() == {"note": ["Say why it will not be done."]}
    assert api.post(item_url(item, "close"), {"status": "open"}).status_code == 400
    item.refresh_from_db()
    assert item.is_open and item.closed_at is None

    closed = api.post(item_url(item, "close"), {"status": "done", "note": "Shipped"})
    assert closed.status_code == 200, closed.content
    body = closed.json()
    assert (body["status"], body["is_open"]) == ("done", False)
    assert (body["closed_by"], body["closed_at"]) == (lead_user.username, "2026-04-07T12:00:00Z")
    assert body["closing_note"] == "Shipped"
    item.refresh_from_db()
    assert (item.closed_by, item.closed_at) == (lead_user, NOW)
    twice = api.post(item_url(item, "close"), {"status": "done"})
    assert twice.json() == {"non_field_errors": ["The action item is closed already."]}
    # Closed items no longer change.
    assert api.patch(item_url(item), {"status": "open"}).status_code == 400


@pytest.fixture
def lead_user(roles):
    return UserFactory(username="lead1", role="Team Lead")


def test_filters(agent, other_agent, incident, review, default_policy):
    soon = add(review, agent, title="Soon", due=TODAY)
    later = add(review, other_agent, title="Later", due=TODAY + timedelta(days=30))
    done = add(review, agent, title="Done", due=TODAY)
    reviews.action_item_close(item=done, actor=agent, status="done")
    elsewhere = make_incident(actor=agent, title="Elsewhere")
    other_review = reviews.review_create(incident=elsewhere, actor=agent)
    far = add(other_review, agent, title="Far", due=TODAY + timedelta(days=3))
    api = token_client(agent)

    def titles(**params):
        return {i["title"] for i in results(api.get("/api/action-items/", params))}

    assert titles() == {"Soon", "Later", "Done", "Far"}
    assert titles(owner=other_agent.username) == {"Later"}
    assert titles(status="done") == {"Done"}
    assert titles(status=["open", "in_progress"]) == {"Soon", "Later", "Far"}
    assert titles(is_open="false") == {"Done"}
    assert titles(incident=elsewhere.reference) == {"Far"}
    assert titles(review=review.pk) == {"Soon", "Later", "Done"}
    assert titles(overdue="true") == set()
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert titles(overdue="true") == {"Soon"}  # due at the end of 7 April; "Done" is closed
        assert titles(overdue="false") == {"Later", "Done", "Far"}
        assert api.get(item_url(soon)).json()["overdue"] is True
    assert api.get("/api/action-items/", {"review": "1.5"}).status_code == 400
    assert {later.pk, far.pk} <= {i["id"] for i in results(api.get("/api/action-items/"))}


def test_read_only_roles_cannot_change_items(executive, agent, incident, review):
    item = add(review, agent)
    api = token_client(executive)
    assert api.get(item_url(item)).status_code == 200
    assert api.post(item_url(item, "close"), {"status": "done"}).status_code == 403
    assert api.patch(item_url(item), {"status": "in_progress"}).status_code == 403
    body = {"review": review.pk, "title": "x", "owner": agent.username, "due_date": "2026-04-10"}
    assert api.post("/api/action-items/", body).status_code == 403
    item.refresh_from_db()
    assert item.status == "open" and ActionItem.objects.count() == 1


def test_a_security_incidents_items_do_not_exist_for_those_who_cannot_see_it(
    agent, lead_user, security_user, manager, default_policy
):
    secret = make_incident(actor=security_user, is_security=True, assignee=security_user)
    review = reviews.review_create(incident=secret, actor=security_user)
    item = add(review, security_user, title="Rotate the leaked keys")
    for user in (agent, lead_user):
        api = token_client(user)
        assert results(api.get("/api/action-items/")) == []
        assert results(api.get("/api/action-items/", {"review": review.pk})) == []
        assert api.get(item_url(item)).status_code == 404
        assert api.patch(item_url(item), {"status": "in_progress"}).status_code == 404
        assert api.post(item_url(item, "close"), {"status": "done"}).status_code == 404
        body = {
            "review": review.pk,
            "title": "Peek",
            "owner": user.username,
            "due_date": "2026-04-10",
        }
        refused = api.post("/api/action-items/", body, format="json")
        # The same answer as for a review that does not exist at all.
        assert refused.status_code == 400
        assert refused.json() == {"review": [f'Invalid pk "{review.pk}" - object does not exist.']}
    item.refresh_from_db()
    assert item.status == "open" and ActionItem.objects.count() == 1
    assert token_client(security_user).get(item_url(item)).status_code == 200
    closed = token_client(manager).post(item_url(item, "close"), {"status": "done"})
    assert closed.status_code == 200 and closed.json()["closed_by"] == manager.username
