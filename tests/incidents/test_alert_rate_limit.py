"""Each integration has its own fixed-window rate limit (default 300 per 5 minutes),
counted in the database so every web process shares it: 429 with Retry-After."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from incidents import alerts
from incidents.models import Integration, IntegrationRateWindow
from tests.incidents.alert_helpers import (
    events_v2,
    make_integration,
    make_token,
    post_json,
    webhook_url,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 23, 10, 0, 10, tzinfo=UTC)  # 10 s into a 5-minute window


def test_default_is_300_per_five_minutes():
    integration, _ = make_integration("alertmanager")
    assert (integration.rate_limit, integration.rate_window) == (300, 300)


def test_over_the_limit_answers_429_with_retry_after_until_the_window_ends(client):
    token = make_token("alertmanager", rate_limit=3, rate_window=300)
    bad_body = {"version": "4"}  # cheap requests: every request counts, valid or not
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(3):
            assert post_json(client, webhook_url(token), bad_body).status_code == 400
        limited = post_json(client, webhook_url(token), bad_body)
        assert limited.status_code == 429
        assert limited["Retry-After"] == "290"
        assert "3 requests per 300 s" in limited.json()["detail"]
        clock.move_to(START + timedelta(seconds=289))
        assert post_json(client, webhook_url(token), bad_body).status_code == 429
        clock.move_to(START + timedelta(seconds=290))  # the next window
        assert post_json(client, webhook_url(token), bad_body).status_code == 400
    # Old windows are forgotten when a new one starts.
    assert list(IntegrationRateWindow.objects.values_list("hits", flat=True)) == [1]


def test_each_integration_has_its_own_budget(client):
    first_token = make_token("alertmanager", name="a", rate_limit=1)
    second_token = make_token("alertmanager", name="b", rate_limit=1)
    with time_machine.travel(START, tick=False):
        assert post_json(client, webhook_url(first_token), {}).status_code == 400
        assert post_json(client, webhook_url(first_token), {}).status_code == 429
        assert post_json(client, webhook_url(second_token), {}).status_code == 400


def test_events_v2_throttle_answer(client):
    token = make_token("events-v2", rate_limit=1, rate_window=60)
    with time_machine.travel(START, tick=False):
        assert events_v2(client, token, "pagerduty_resolve.json").status_code == 202
        limited = events_v2(client, token, "pagerduty_resolve.json")
    assert limited.status_code == 429
    assert limited["Retry-After"] == "50"
    assert limited.json()["status"] == "throttle event"


def test_the_counter_is_one_atomic_upsert_shared_by_all_processes():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    integration = make_integration("alertmanager", rate_limit=2)[0]
    other_process_copy = Integration.objects.get(pk=integration.pk)
    first = alerts.rate_limit_hit(integration=integration, now=START)
    with CaptureQueriesContext(connection) as queries:
        second = alerts.rate_limit_hit(integration=other_process_copy, now=START)
    third = alerts.rate_limit_hit(integration=integration, now=START)
    assert [d.hits for d in (first, second, third)] == [1, 2, 3]
    assert [d.allowed for d in (first, second, third)] == [True, True, False]
    data = [q["sql"] for q in queries if "ratewindow" in q["sql"]]
    assert len(data) == 1  # no read-then-write: one statement decides
    assert "ON CONFLICT" in data[0] and "RETURNING" in data[0]
