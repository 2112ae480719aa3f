"""Metrics API: the metrics page's figures and tables as JSON, for the page's own query
parameters, computed by the same selector (so the numbers agree with the page), with the
page's permission and bad parameters as 400 with field errors."""

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalations.analytics import metrics
from tests.api_client import token_client
from tests.escalations.review_scenario import NOW, build_follow_up, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(roles):
    with time_machine.travel(NOW, tick=False):
        world = build_world()
        build_follow_up(world)
        yield world


def api_get(user, **params):
    with time_machine.travel(NOW, tick=False):
        return token_client(user).get("/api/metrics/", params)


def page_get(client, user, **params):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(reverse("metrics"), params)


def cell_text(cell) -> str:
    return "" if cell is None else str(cell)


def target(value):
    return None if value is None else {"label": str(value.label), "met": value.met}


def assert_same_as_page(body: dict, context) -> None:
    assert body["start"] == context["first"].isoformat()
    assert body["end"] == context["last"].isoformat()
    assert [(f["label"], f["value"], f["target"]) for f in body["figures"]] == [
        (label, value, target(goal)) for label, value, goal in context["figures"]
    ]
    tables = context["tables"]
    assert [t["slug"] for t in body["tables"]] == [t.slug for t in tables]
    for table, shown in zip(body["tables"], tables, strict=True):
        assert table["headers"] == [str(h) for h in shown.headers]
        assert [[c["text"] for c in row] for row in table["rows"]] == [
            [cell_text(c) for c in row] for row in shown.rows
        ], table["slug"]
        assert [[c["target"] for c in row] for row in table["rows"]] == [
            [target(getattr(c, "target", None)) for c in row] for row in shown.rows
        ], table["slug"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"start": "2026-03-05", "end": "2026-03-11"},
        {"severity": "P1"},
        {"start": "2026-03-01", "end": "2026-03-11", "tier": "enterprise", "level": "2"},
    ],
)
def test_the_json_is_the_pages_figures_and_tables(client, world, params):
    body = api_get(world.manager, **params)
    assert body.status_code == 200, body.content
    page = page_get(client, world.manager, **params)
    assert_same_as_page(body.json(), page.context)


def test_figures_carry_numbers_and_targets(world):
    body = api_get(world.manager, start="2026-03-05", end="2026-03-11").json()
    assert (body["start"], body["end"]) == ("2026-03-05", "2026-03-11")
    assert body["as_of"] == "2026-03-11T12:00:00Z"
    figures = {f["label"]: f for f in body["figures"]}
    assert figures["PIRs published on time"]["value"] == "25.0 %"
    assert figures["PIRs published on time"]["target"] == {"label": "target 100 %", "met": False}
    assert figures["Action items done by the due date"]["value"] == "42.9 %"
    assert figures["Action items done by the due date"]["table"] == "action-item-closure"
    closure = next(t for t in body["tables"] if t["slug"] == "action-item-closure")
    rows = {row[0]["text"]: row[1] for row in closure["rows"]}
    assert rows["Still open"] == {"text": "2", "number": 2, "target": None}
    assert {t["slug"] for t in body["tables"]} == {m.slug for m in metrics.METRICS}


def test_the_users_time_zone_sets_the_days_as_on_the_page(client, world):
    # 11 March 12:00 UTC is already 12 March in Kiritimati (UTC+14): "today" moves.
    world.manager.time_zone = "Pacific/Kiritimati"
    world.manager.save()
    body = api_get(world.manager).json()
    assert body["end"] == "2026-03-12"
    assert_same_as_page(body, page_get(client, world.manager).context)


def test_visibility_applies_as_on_the_page(client, world):
    # A team lead sees the metrics but not the security incident: fewer incidents.
    lead = api_get(world.lead).json()
    manager = api_get(world.manager).json()
    assert_same_as_page(lead, page_get(client, world.lead).context)

    def incidents(body):
        rate = next(t for t in body["tables"] if t["slug"] == "escalation-rate")
        return rate["rows"][0][1]["number"]

    assert incidents(lead) == incidents(manager) - 2  # "secret" and "classified"


def test_bad_parameters_are_400_beside_the_field(world):
    answer = api_get(world.manager, start="2026-03-10", end="2026-03-01")
    assert answer.status_code == 400
    assert answer.json() == {"end": ["The end must not be before the start."]}
    answer = api_get(world.manager, severity="P9", start="yesterday")
    assert answer.status_code == 400
    assert set(answer.json()) == {"severity", "start"}
    assert api_get(world.manager, channel="999999").status_code == 400
    # Dates whose day arithmetic would overflow are refused, not a server error.
    assert api_get(world.manager, start="0001-01-01").json() == {
        "start": ["Pick a date from 1970 on."]
    }
    assert api_get(world.manager, end="9999-12-31").json() == {
        "end": ["Pick a date before the year 3000."]
    }


def test_only_those_who_may_see_metrics(world):
    assert api_get(world.agent).status_code == 403
    assert api_get(world.security).status_code == 403
    assert api_get(world.lead).status_code == 200


def test_a_fixed_number_of_queries_whatever_the_data(roles):
    with time_machine.travel(NOW, tick=False):
        world = build_world()
    api = token_client(world.manager)

    def count() -> int:
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
            assert api.get("/api/metrics/", {"severity": "P0"}).status_code == 200
        return len(queries)

    count()  # warm per-process caches
    without = count()
    with time_machine.travel(NOW, tick=False):
        build_follow_up(world)
    assert count() == without
