"""Removing a similar-incident link from a review (issue 15, finding 5): a link to an
incident the user may not see answers 404, exactly as an id that does not exist,
and stays."""

import pytest
from django.urls import reverse

from escalations.followup import reviews
from escalations.models import SimilarIncident
from incidents.permissions import NotVisible
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def links(agent, security_user):
    incident = make_incident(actor=agent, title="Checkout slow")
    review = reviews.review_create(incident=incident, actor=agent)
    visible = make_incident(actor=agent, title="Checkout slow again")
    secret = make_incident(actor=security_user, title="Card skimming", is_security=True)
    # A security user confirmed both, so the review links an incident the agent may not see.
    reviews.review_confirm_similar(review=review, actor=security_user, incidents=[visible, secret])
    return {
        "incident": incident,
        "review": review,
        "visible": SimilarIncident.objects.get(review=review, incident=visible),
        "secret": SimilarIncident.objects.get(review=review, incident=secret),
    }


def _unlink(client, reference, link):
    url = reverse("escalations:pir_action", args=[reference, "unlink-similar"])
    return client.post(url, {"link": link})


def test_a_link_to_a_hidden_incident_answers_404_like_a_missing_one(client, agent, links):
    client.force_login(agent)
    reference = links["incident"].reference
    missing = SimilarIncident.objects.order_by("-pk").first().pk + 1000

    hidden = _unlink(client, reference, links["secret"].pk)
    absent = _unlink(client, reference, missing)

    assert hidden.status_code == absent.status_code == 404
    assert SimilarIncident.objects.filter(pk=links["secret"].pk).exists()


def test_a_link_the_agent_may_see_is_removed(client, agent, links):
    client.force_login(agent)
    answer = _unlink(client, links["incident"].reference, links["visible"].pk)
    assert answer.status_code == 302
    assert not SimilarIncident.objects.filter(pk=links["visible"].pk).exists()


def test_the_service_refuses_it_too(agent, links):
    with pytest.raises(NotVisible):
        reviews.review_remove_similar(
            review=links["review"], actor=agent, incident=links["secret"].incident
        )
    assert SimilarIncident.objects.filter(pk=links["secret"].pk).exists()
