"""Review API: reads with the web's visibility, every change through escalations.followup.reviews
(edit, submit, send back, publish), refusals as 400 with field errors and nothing saved,
and the Markdown and YAML exports identical to the web's downloads."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
import yaml
from django.urls import reverse

from escalations.followup import reviews
from escalations.models import PostIncidentReview
from incidents import services
from tests.api_client import results, token_client
from tests.escalations.review_scenario import COMPLETE
from tests.factories import PASSWORD, UserFactory, make_incident

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 4, 7, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
NOW = T0 + 3 * H  # the reviews below are due two days later


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def lead(roles):
    return UserFactory(username="lead1", role="Team Lead")


@pytest.fixture
def executive(roles):
    return UserFactory(username="exec1", role="Executive")


def resolved(actor, *, at=T0, **fields):
    incident = make_incident(actor=actor, opened_at=at, now=at, **fields)
    services.incident_acknowledge(incident=incident, actor=actor, now=at + H / 12)
    services.incident_change_status(
        incident=incident, status="resolved", actor=actor, note="Rolled back", now=at + 2 * H
    )
    return incident


@pytest.fixture
def p0(default_policy, agent):
    """A resolved P0: its required review opened on resolution, due 48 h later."""
    return resolved(agent, severity="P0", title="Checkout down", assignee=agent)


@pytest.fixture
def review(p0):
    return PostIncidentReview.objects.get(incident=p0)


def url(incident, action=""):
    return f"/api/reviews/{incident.reference}/" + (f"{action}/" if action else "")


def complete(review, actor):
    reviews.review_update(review=review, actor=actor, changes=COMPLETE)
    reviews.action_item_add(
        review=review,
        actor=actor,
        title="Add pool monitoring",
        owner=actor,
        due_date=date(2026, 4, 14),
    )


def test_list_and_retrieve_by_incident_reference(agent, p0, review):
    api = token_client(agent)
    listed = results(api.get("/api/reviews/"))
    assert [r["incident"] for r in listed] == [p0.reference]
    body = api.get(url(p0)).json()
    assert body["id"] == review.pk
    assert (body["status"], body["required"], body["owner"]) == ("draft", True, agent.username)
    assert body["required_reasons"] == ["P0 incident"]
    assert body["due_at"].startswith("2026-04-09T11:00")  # 48 h after the resolution
    assert body["severity"] == "P0" and body["incident_title"] == "Checkout down"
    assert body["timeline"][0]["text"].startswith("Incident opened by")
    assert body["web_url"].endswith(f"/incidents/{p0.reference}/pir/edit/")
    # What publication still needs, paragraph by paragraph (the drafted timeline is there).
    assert "timeline" not in body["missing_to_publish"]
    assert set(body["missing_to_publish"]) >= {"root_cause_why", "action_items"}
    assert api.get("/api/reviews/NOPE-1/").status_code == 404
    assert api.get(f"/api/reviews/{p0.reference}%00/").status_code == 404  # NUL: no lookup


def test_list_filters(agent, lead, p0, review):
    other = resolved(agent, severity="P2", title="Slow search")
    reviews.review_create(incident=other, actor=agent)  # not required: started by hand
    reviews.review_update(review=review, actor=agent, changes={"owner": lead})
    api = token_client(agent)

    def refs(**params):
        return {r["incident"] for r in results(api.get("/api/reviews/", params))}

    assert refs() == {p0.reference, other.reference}
    assert refs(required="true") == {p0.reference}
    assert refs(required="false") == {other.reference}
    assert refs(owner=lead.username) == {p0.reference}
    assert refs(incident=other.reference) == {other.reference}
    assert refs(status="draft") == {p0.reference, other.reference}
    assert refs(status="published") == set()
    assert refs(overdue="true") == set()
    assert refs(overdue="false") == {p0.reference, other.reference}
    # Both are due 48 h after their incident resolved (9 April 11:00).
    with time_machine.travel(T0 + 72 * H, tick=False):
        assert refs(overdue="true") == {p0.reference, other.reference}
        assert refs(overdue="false") == set()
    assert api.get("/api/reviews/", {"status": "nope"}).status_code == 400


def test_cursor_pages(agent, default_policy):
    for n in range(3):
        incident = make_incident(actor=agent, title=f"Incident {n}")
        reviews.review_create(incident=incident, actor=agent)
    api = token_client(agent)
    first = api.get("/api/reviews/", {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = api.get(first["next"]).json()
    seen = [r["incident"] for r in first["results"] + second["results"]]
    assert len(set(seen)) == 3 and second["next"] is None


def test_patch_edits_through_the_service(agent, other_agent, p0, review):
    api = token_client(agent)
    answer = api.patch(
        url(p0),
        {
            "owner": other_agent.username,
            "customers_impacted": 87,
            "root_cause_why": "  A leaked connection  ",
            "went_well": ["Fast detection", "  ", "Clear comms"],
            "prevention_confidence": "medium",
            "timeline": [
                {"at": "2026-04-07T11:00:00+02:00", "text": "Pager fired"},
                {"at": "2026-04-07T09:30:00Z", "text": "Rolled back"},
            ],
        },
        format="json",
    )
    assert answer.status_code == 200, answer.content
    review.refresh_from_db()
    assert review.owner == other_agent
    assert review.customers_impacted == 87
    assert review.root_cause_why == "A leaked connection"
    assert review.went_well == ["Fast detection", "Clear comms"]  # blanks dropped
    assert review.prevention_confidence == "medium"
    assert review.timeline == [
        {"at": "2026-04-07T09:00:00+00:00", "text": "Pager fired"},
        {"at": "2026-04-07T09:30:00+00:00", "text": "Rolled back"},
    ]
    assert answer.json()["owner"] == other_agent.username
    assert answer.json()["timeline"][1] == review.timeline[1]
    # No raw writes: fields outside the template are not part of the body.
    api.patch(url(p0), {"status": "published", "required": False}, format="json")
    review.refresh_from_db()
    assert (review.status, review.required) == ("draft", True)


def test_bad_input_is_400_beside_the_field_and_nothing_is_saved(agent, security_user, p0, review):
    api = token_client(agent)
    before = PostIncidentReview.objects.values().get(pk=review.pk)
    for body, field in [
        (
            {"business_impact": "Lost sales", "prevention_confidence": "certain"},
            "prevention_confidence",
        ),
        ({"business_impact": "Lost sales", "customers_impacted": -1}, "customers_impacted"),
        ({"business_impact": "Lost sales", "owner": "nobody-such"}, "owner"),
        ({"business_impact": "Lost sales", "owner": "agent1\x00"}, "owner"),
        (
            {"business_impact": "Lost sales", "timeline": [{"at": "yesterday", "text": "x"}]},
            "timeline",
        ),
        # The service: a time no zone can show, or one in the future, is a typo.
        (
            {
                "business_impact": "Lost sales",
                "timeline": [{"at": "0001-01-01T00:00Z", "text": "x"}],
            },
            "timeline",
        ),
        (
            {
                "business_impact": "Lost sales",
                "timeline": [{"at": "2026-04-09T12:00Z", "text": "x"}],
            },
            "timeline",
        ),
        ({"business_impact": "Lost sales", "went_well": "not a list"}, "went_well"),
        ({"business_impact": "Lost sales", "root_cause_key": "not a slug!"}, "root_cause_key"),
    ]:
        answer = api.patch(url(p0), body, format="json")
        assert answer.status_code == 400, body
        assert list(answer.json()) == [field], answer.json()
    # The service's own refusal: the owner must be able to see the incident.
    secret = resolved(security_user, severity="P0", is_security=True, assignee=security_user)
    hidden = PostIncidentReview.objects.get(incident=secret)
    refused = token_client(security_user).patch(
        url(secret), {"owner": agent.username, "business_impact": "x"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "owner": [f"{agent} cannot see this incident (limited distribution)."]
    }
    hidden.refresh_from_db()
    assert hidden.business_impact == "" and hidden.owner == security_user
    assert PostIncidentReview.objects.values().get(pk=review.pk) == before


def test_submit_and_publish_need_every_paragraph(agent, lead, p0, review):
    api, lead_api = token_client(agent), token_client(lead)
    refused = api.post(url(p0, "submit"))
    assert refused.status_code == 400
    errors = refused.json()
    assert errors["root_cause_why"] == ["Say why it happened."]
    assert errors["action_items"] == ["Add at least one action item with an owner and a due date."]
    review.refresh_from_db()
    assert review.status == "draft" and review.submitted_at is None

    complete(review, agent)
    submitted = api.post(url(p0, "submit"))
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "in_review"
    assert submitted.json()["missing_to_publish"] == {}

    # Still editable in review; emptying a paragraph blocks publication, beside its field.
    api.patch(url(p0), {"went_well": []}, format="json")
    blocked = lead_api.post(url(p0, "publish"))
    assert blocked.status_code == 400
    assert blocked.json() == {"went_well": ["List at least one thing that went well."]}
    review.refresh_from_db()
    assert review.status == "in_review" and review.published_at is None

    api.patch(url(p0), {"went_well": ["Fast detection"]}, format="json")
    published = lead_api.post(url(p0, "publish"))
    assert published.status_code == 200, published.content
    body = published.json()
    assert (body["status"], body["published_by"]) == ("published", lead.username)
    assert p0.events.filter(kind="review_published").count() == 1
    # Published reviews never change.
    frozen = api.patch(url(p0), {"business_impact": "Rewritten"}, format="json")
    assert frozen.status_code == 400
    assert frozen.json() == {"non_field_errors": ["A published review no longer changes."]}


def test_agents_cannot_publish_or_send_back(agent, lead, p0, review):
    complete(review, agent)
    reviews.review_submit(review=review, actor=agent)
    api = token_client(agent)
    assert api.post(url(p0, "publish")).status_code == 403
    assert api.post(url(p0, "return"), {"reason": "More detail"}).status_code == 403
    review.refresh_from_db()
    assert review.status == "in_review"

    lead_api = token_client(lead)
    blank = lead_api.post(url(p0, "return"), {"reason": ""}, format="json")
    assert blank.status_code == 400 and list(blank.json()) == ["reason"]
    back = lead_api.post(url(p0, "return"), {"reason": "Say why it was not caught"})
    assert back.status_code == 200 and back.json()["status"] == "draft"
    assert "Say why it was not caught" in p0.events.filter(kind="review").last().body


def test_start_a_review_by_hand(agent, executive, default_policy):
    incident = make_incident(actor=agent, severity="P3", title="Typo on the status page")
    assert (
        token_client(executive).post("/api/reviews/", {"incident": incident.reference}).status_code
        == 403
    )
    api = token_client(agent)
    started = api.post("/api/reviews/", {"incident": incident.reference}, format="json")
    assert started.status_code == 201, started.content
    assert started.json()["required"] is False and started.json()["incident"] == incident.reference
    again = api.post("/api/reviews/", {"incident": incident.reference}, format="json")
    assert again.status_code == 400
    assert again.json() == {
        "non_field_errors": ["This incident has a post-incident review already."]
    }
    missing = api.post("/api/reviews/", {"incident": "NOPE-1"}, format="json")
    assert missing.status_code == 400 and list(missing.json()) == ["incident"]
    assert PostIncidentReview.objects.count() == 1


def test_exports_are_the_web_downloads(client, agent, p0, review):
    agent.time_zone = "America/New_York"  # times in the export are the reader's
    agent.save()
    complete(review, agent)
    assert client.login(username=agent.username, password=PASSWORD)
    api = token_client(agent)
    for action, name, media in [
        ("markdown", "escalations:pir_md", "text/markdown"),
        ("yaml", "escalations:pir_yaml", "application/yaml"),
    ]:
        exported = api.get(url(p0, action))
        web = client.get(reverse(name, args=[p0.reference]))
        assert exported.status_code == 200
        assert exported["Content-Type"] == web["Content-Type"]
        assert exported["Content-Type"].startswith(media)
        assert exported["Content-Disposition"] == web["Content-Disposition"]
        assert exported.content.decode() == web.content.decode()
        # Asking for the export's own media type works too.
        assert api.get(url(p0, action), HTTP_ACCEPT=media).content == exported.content
    markdown = api.get(url(p0, "markdown")).content.decode()
    assert "## Timeline (America/New_York)" in markdown
    assert "Add pool monitoring [Owner: " in markdown
    data = yaml.safe_load(api.get(url(p0, "yaml")).content)
    assert data["post_incident_review"]["incident_id"] == p0.reference
    assert data["post_incident_review"]["customers_impacted"] == 87


def test_a_security_incidents_review_does_not_exist_for_those_who_cannot_see_it(
    agent, lead, security_user, manager, default_policy
):
    secret = resolved(security_user, severity="P0", is_security=True, assignee=security_user)
    review = PostIncidentReview.objects.get(incident=secret)
    complete(review, security_user)
    reviews.review_submit(review=review, actor=security_user)
    for user in (agent, lead):  # neither Security, a manager nor the assignee
        api = token_client(user)
        assert results(api.get("/api/reviews/")) == []
        assert results(api.get("/api/reviews/", {"incident": secret.reference})) == []
        for action in ("", "markdown", "yaml"):
            assert api.get(url(secret, action)).status_code == 404, action
        assert api.patch(url(secret), {"business_impact": "x"}, format="json").status_code == 404
        assert api.post(url(secret, "submit")).status_code == 404
        assert api.post("/api/reviews/", {"incident": secret.reference}).status_code == 400
    lead_api = token_client(lead)  # may publish, but not this one
    assert lead_api.post(url(secret, "publish")).status_code == 404
    assert lead_api.post(url(secret, "return"), {"reason": "x"}).status_code == 404
    review.refresh_from_db()
    assert review.status == "in_review" and review.business_impact == COMPLETE["business_impact"]
    # Those who may see it: Security (and the assignee), managers and up.
    assert token_client(security_user).get(url(secret)).status_code == 200
    published = token_client(manager).post(url(secret, "publish"))
    assert published.status_code == 200 and published.json()["status"] == "published"


def test_similar_incidents_hidden_from_the_reader_are_left_out(
    agent, manager, p0, review, default_policy
):
    twin = make_incident(actor=agent, title="Checkout down again")
    secret = make_incident(actor=manager, title="Card skimming", is_security=True)
    reviews.review_confirm_similar(review=review, actor=manager, incidents=[twin, secret])
    assert token_client(agent).get(url(p0)).json()["similar_incidents"] == [twin.reference]
    assert token_client(manager).get(url(p0)).json()["similar_incidents"] == [
        twin.reference,
        secret.reference,
    ]


def test_list_takes_a_fixed_number_of_queries(agent, p0, review):
    complete(review, agent)
    api = token_client(agent)
    api.get("/api/reviews/")  # warm per-process caches

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/reviews/").status_code == 200
        return len(queries)

    one = count()
    for n in range(3):
        incident = resolved(agent, severity="P0", title=f"Outage {n}", at=T0 - (n + 1) * H)
        complete(PostIncidentReview.objects.get(incident=incident), agent)
    assert count() == one


def test_the_web_page_and_exports_leave_hidden_similar_incidents_out(
    agent, manager, p0, review, default_policy, client
):
    from django.urls import reverse

    from tests.factories import PASSWORD

    twin = make_incident(actor=agent, title="Checkout down again")
    secret = make_incident(actor=manager, title="Card skimming", is_security=True)
    reviews.review_confirm_similar(review=review, actor=manager, incidents=[twin, secret])
    assert client.login(username=agent.username, password=PASSWORD)
    page = client.get(reverse("escalations:pir", args=[p0.reference])).content.decode()
    assert twin.reference in page and secret.reference not in page
    for name in ("pir.md", "pir.yaml"):
        text = client.get(f"/incidents/{p0.reference}/{name}").content.decode()
        assert twin.reference in text and secret.reference not in text, name
    assert client.login(username=manager.username, password=PASSWORD)
    text = client.get(f"/incidents/{p0.reference}/pir.md").content.decode()
    assert secret.reference in text
