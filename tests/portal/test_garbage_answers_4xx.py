"""The five inputs that answered 500 in issue 15 (finding 7) answer 4xx or a form error."""

from __future__ import annotations

import pytest

from escalations.followup import reviews
from tests.factories import PASSWORD, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(default_policy, manager):
    return make_incident(actor=manager)


@pytest.fixture
def logged_in(client, manager):
    client.login(username=manager.username, password=PASSWORD)
    return client


def test_a_decision_on_a_garbage_escalation_id_is_a_404(logged_in, incident):
    url = f"/incidents/{incident.reference}/escalation/decide/"
    response = logged_in.post(url, {"escalation": "abc", "decision": "Go"})
    assert response.status_code == 404


def test_unlinking_a_garbage_link_id_is_a_404(logged_in, incident, manager):
    reviews.review_create(incident=incident, actor=manager)
    response = logged_in.post(
        f"/incidents/{incident.reference}/pir/unlink-similar/", {"link": "abc"}
    )
    assert response.status_code == 404


def test_a_number_too_big_for_the_column_is_a_form_error(logged_in, incident, manager):
    reviews.review_create(incident=incident, actor=manager)
    response = logged_in.post(
        f"/incidents/{incident.reference}/pir/edit/", {"customers_impacted": "2147483648"}
    )
    assert response.status_code == 400
    assert "Ensure this value is less than or equal to" in response.content.decode()


def test_a_page_past_the_end_shows_the_last_page(logged_in):
    response = logged_in.get("/queues/", {"page": "99999999999999999999999"})
    assert response.status_code == 200


@pytest.mark.parametrize("week", ["a/b", "2026-W99", "nonsense"])
def test_a_garbage_week_is_a_404(logged_in, week):
    assert logged_in.get("/reports/weekly/", {"week": week}).status_code == 404


def test_a_good_week_redirects_to_its_page(logged_in):
    response = logged_in.get("/reports/weekly/", {"week": "2026-W10"})
    assert response.status_code == 302 and response["Location"] == "/reports/weekly/2026-W10/"
