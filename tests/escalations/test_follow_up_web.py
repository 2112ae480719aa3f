"""The follow-up web forms: visibility (a hidden incident's review is a 404), errors beside
their fields with nothing saved, and who may do what."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from escalations.followup.reviews import action_item_add, review_create
from escalations.followup.war_room import war_room_activate
from escalations.models import ActionItem, PostIncidentReview, VendorCase, WarRoom
from tests.factories import PASSWORD, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, agent):
    assert client.login(username=agent.username, password=PASSWORD)
    return client


@pytest.fixture
def p0(agent):
    return make_incident(actor=agent, severity="P0", assignee=agent)


def test_a_security_incidents_review_does_not_exist_for_those_who_cannot_see_it(
    web, client, security_user, agent
):
    secret = make_incident(actor=security_user, severity="P0", is_security=True)
    review_create(incident=secret, actor=security_user)
    for name in ("escalations:pir", "escalations:pir_md", "escalations:pir_yaml"):
        assert web.get(reverse(name, args=[secret.reference])).status_code == 404
    for action in ("submit", "add-item", "start"):
        url = reverse("escalations:pir_action", args=[secret.reference, action])
        assert web.post(url).status_code == 404
    url = reverse("escalations:war_room", args=[secret.reference, "activate"])
    assert web.post(url, {"reason": "security"}).status_code == 404
    client.logout()
    client.force_login(security_user)
    assert client.get(reverse("escalations:pir", args=[secret.reference])).status_code == 200


def test_the_incident_page_offers_the_war_room_where_seed_004_recommends_it(web, p0):
    page = web.get(reverse("incidents:detail", args=[p0.reference]))
    html = page.content.decode()
    assert "Activate a war room" in html
    assert "Severity 1 incident" in html  # the recommended reason
    assert "Start a review now" in html
    assert page.context["war_room_activate_form"].initial["commander"] is not None


def test_vendor_case_errors_are_shown_beside_the_fields(web, p0, agent):
    url = reverse("escalations:vendor", args=[p0.reference, "open"])
    response = web.post(
        url,
        {
            "vendor": "",
            "case_id": "123",
            "severity": "Sev A",
            "owner": agent.pk,
            "contact_email": "not an email",
            "next_update_expected_at": (timezone.now() - timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
        },
    )
    assert response.status_code == 400
    errors = response.context["vendor_form"].errors
    assert set(errors) == {"vendor", "contact_email"}
    html = response.content.decode()
    # The vendor disclosure comes back open, the failed form marked, a summary on top.
    assert 'id="do-vendor" data-action="vendor" open' in html
    assert 'class="action failed" id="action-vendor-open"' in html
    assert 'id="error-summary"' in html
    # Valid form, but the service refuses a deadline in the past: beside that field.
    response = web.post(
        url,
        {
            "vendor": "Azure",
            "case_id": "123",
            "severity": "Sev A",
            "owner": agent.pk,
            "next_update_expected_at": (timezone.now() - timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
        },
    )
    assert response.status_code == 400
    assert response.context["vendor_form"].errors["next_update_expected_at"] == [
        "The next update is expected after now."
    ]
    assert not VendorCase.objects.exists()


def test_war_room_reason_must_match_the_incident(web, agent):
    p2 = make_incident(actor=agent, severity="P2")
    response = web.post(
        reverse("escalations:war_room", args=[p2.reference, "activate"]),
        {"reason": "sev1", "commander": agent.pk},
    )
    assert response.status_code == 400
    assert response.context["war_room_activate_form"].errors["reason"] == [
        "The incident is not Severity 1 (P0); raise the severity first."
    ]
    assert not WarRoom.objects.exists()


def test_handover_without_a_note_is_refused_beside_the_note(web, p0, agent, other_agent):
    war_room_activate(incident=p0, actor=agent, reason="sev1", commander=agent)
    response = web.post(
        reverse("escalations:war_room", args=[p0.reference, "assign"]),
        {"role": "commander", "user": other_agent.pk, "note": ""},
    )
    assert response.status_code == 400
    assert "handoff note" in response.context["war_room_assign_form"].errors["note"][0]


def test_action_item_close_errors_stay_on_the_review_page(web, p0, agent):
    review = review_create(incident=p0, actor=agent)
    item = action_item_add(
        review=review, actor=agent, title="Fix", owner=agent, due_date=date.today()
    )
    response = web.post(
        reverse("escalations:item", args=[p0.reference, item.pk, "close"]),
        {f"close{item.pk}-status": "wont_do", f"close{item.pk}-note": ""},
    )
    assert response.status_code == 400
    [shown] = [i for i in response.context["items"] if i.pk == item.pk]
    assert shown.close_form.errors["note"] == ["Say why it will not be done."]
    item.refresh_from_db()
    assert item.is_open


def test_publishing_with_gaps_marks_each_missing_paragraph(client, p0, agent, manager):
    review = review_create(incident=p0, actor=agent)
    PostIncidentReview.objects.filter(pk=review.pk).update(status="in_review")
    client.force_login(manager)
    response = client.post(reverse("escalations:pir_action", args=[p0.reference, "publish"]))
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["root_cause_why"] == ["Say why it happened."]
    assert form.errors["went_well"] == ["List at least one thing that went well."]
    assert response.context["items_error"]
    review.refresh_from_db()
    assert review.status == "in_review"


def test_readers_without_change_permission_see_the_document_but_no_forms(client, p0, agent, roles):
    from tests.factories import UserFactory

    executive = UserFactory(username="exec", role="Executive")
    review_create(incident=p0, actor=agent)
    client.force_login(executive)
    response = client.get(reverse("escalations:pir", args=[p0.reference]))
    assert response.status_code == 200
    assert "form" not in response.context
    assert client.post(reverse("escalations:pir", args=[p0.reference]), {}).status_code == 403
    assert not ActionItem.objects.exists()
