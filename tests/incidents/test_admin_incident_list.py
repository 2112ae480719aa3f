"""The admin incident list: cheap filters and a fixed number of queries per page."""

import pytest
import time_machine

from tests.escalations.review_scenario import NOW, build_world
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
URL = "/admin/incidents/incident/"


@pytest.fixture
def world(roles):
    with time_machine.travel(NOW, tick=False):
        yield build_world()


@pytest.fixture
def manager_client(client, world):
    assert client.login(username=world.manager.username, password=PASSWORD)
    return client


def listed(response):
    return {obj.reference for obj in response.context["cl"].result_list}


def test_filters_by_period_level_and_account_tier(manager_client, world):
    with time_machine.travel(NOW, tick=False):
        all_ = manager_client.get(URL)
        level_2 = manager_client.get(URL, {"current_level": "2"})
        enterprise = manager_client.get(URL, {"account__tier": "enterprise"})
    with time_machine.travel(NOW.replace(day=20), tick=False):
        last_week = manager_client.get(URL, {"opened": "7"})
        last_month = manager_client.get(URL, {"opened": "30"})
    assert len(listed(all_)) == 6
    assert listed(level_2) == {world.escalated.reference, world.secret.reference}
    assert listed(enterprise) == {world.breached.reference}
    assert listed(last_week) == set()
    assert len(listed(last_month)) == 6


def test_the_list_takes_a_fixed_number_of_queries(manager_client, django_assert_num_queries):
    manager_client.get(URL)  # warm the content-type and permission caches
    # session, user, permissions (2), channel, component, assignee and level choices,
    # the filtered count, the sidebar's delivery-settings check, the page of
    # incidents (assignees joined)
    with django_assert_num_queries(11):
        response = manager_client.get(URL, {"severity__exact": "P2"})
    assert response.status_code == 200
    with django_assert_num_queries(11):
        manager_client.get(URL, {"status__exact": "new", "opened": "90"})
