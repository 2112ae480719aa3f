"""The metrics page: figures with targets, SVG charts, CSV per table, fixed queries."""

import csv
import io
import re

import pytest
import time_machine
from django.templatetags.static import static
from django.urls import reverse

from escalations.analytics import metrics
from tests.escalations.review_scenario import NOW, build_follow_up, build_world
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(roles):
    with time_machine.travel(NOW, tick=False):
        yield build_world()


@pytest.fixture
def manager_client(client, world):
    assert client.login(username=world.manager.username, password=PASSWORD)
    return client


def get(client, name, *args, **params):
    with time_machine.travel(NOW, tick=False):
        return client.get(reverse(name, args=args), params)


def test_page_shows_each_table_with_targets_and_charts(manager_client):
    response = get(manager_client, "metrics")
    assert response.status_code == 200
    html = response.content.decode()
    for metric in metrics.METRICS:
        assert f'data-metric="{metric.slug}"' in html
    assert "Not available yet" not in html  # PIR completion and action items are real
    assert html.count("<svg") >= 10
    assert 'class="target missed"' in html  # escalation rate 33 % against < 10 %
    assert 'class="target met"' in html  # resolution compliance 100 %
    # Charts are server-drawn SVG: the only script is the portal's own static file.
    assert re.findall(r"<script[^>]*>", html) == [
        f'<script src="{static("portal/portal.js")}" defer>'
    ]
    assert "cdn" not in html.lower()


def test_each_table_downloads_as_csv_with_the_same_filters(manager_client):
    response = get(manager_client, "metrics_csv", "escalation-rate", severity="P1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Severity", "Incidents", "Escalated", "Rate"]
    assert rows[1][:3] == ["All", "2", "1"]  # "breached" and "secret"; the latter escalated
    reasons = get(manager_client, "metrics_csv", "reasons-list")
    lines = list(csv.reader(io.StringIO(reasons.content.decode())))
    assert len(lines) == 3 and "Needs the specialists" in {line[-1] for line in lines}
    pirs = get(manager_client, "metrics_csv", "pir-completion")
    assert pirs.status_code == 200
    lines = list(csv.reader(io.StringIO(pirs.content.decode())))
    assert lines[0][:2] == ["Severity", "Reviews due"] and len(lines) == 6  # All, P0-P3
    assert get(manager_client, "metrics_csv", "nope").status_code == 404


def test_follow_up_tables_on_the_page_and_as_csv(manager_client, world):
    with time_machine.travel(NOW, tick=False):
        build_follow_up(world)
    html = get(manager_client, "metrics").content.decode()
    assert "PIRs published on time" in html and "25.0 %" in html
    assert "Action items done by the due date" in html and "42.9 %" in html
    response = get(manager_client, "metrics_csv", "action-item-closure")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Action items", "Count"]
    assert ["Still open", "2"] in rows and ["Done late", "1"] in rows


def test_bad_dates_are_reported_beside_the_field(manager_client):
    response = get(manager_client, "metrics", start="2026-03-10", end="2026-03-01")
    assert response.status_code == 200
    assert "The end must not be before the start." in response.content.decode()
    # Dates whose day arithmetic would overflow (years 1 and 9999) are refused too.
    response = get(manager_client, "metrics", start="0001-01-01", end="9999-12-31")
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "start": ["Pick a date from 1970 on."],
        "end": ["Pick a date before the year 3000."],
    }


def test_a_date_range_narrows_the_figures(manager_client):
    response = get(manager_client, "metrics", start="2026-01-01", end="2026-01-31")
    html = response.content.decode()
    assert re.search(r"<td>All</td><td class=\"num\">0</td>", html)


def test_agents_cannot_see_metrics(client, world):
    assert client.login(username=world.agent.username, password=PASSWORD)
    assert get(client, "metrics").status_code == 403
    assert get(client, "metrics_csv", "csat").status_code == 403


def test_metrics_page_takes_a_fixed_number_of_queries(
    manager_client, world, django_assert_num_queries
):
    get(manager_client, "metrics")  # warm per-process caches
    # session, user, permissions (2), filter choices (5), level numbers (1), the
    # summary (2: by severity, overall) feeding five tables, one query for each of
    # the eight other incident and escalation tables, PIR completion (1: counts per
    # severity), action-item closure (2: counts, time to permanent fix), on-call fairness
    # (1: the schedules; their people's names in one more when there are shifts), and
    # one each for six escalation-based tables of issue 19 (escalation volume, handoff
    # compliance, time to escalate, rates by tier and by agent, effectiveness; the MTTR
    # trend reads the volume table's query)
    expected = 2 + 2 + 5 + 1 + 2 + 8 + 1 + 2 + 1 + 6
    with django_assert_num_queries(expected):
        response = get(manager_client, "metrics", severity="P2")
    assert response.status_code == 200
    # The same with reviews and action items to count.
    with time_machine.travel(NOW, tick=False):
        build_follow_up(world)
    with django_assert_num_queries(expected):
        response = get(manager_client, "metrics")
    assert "42.9 %" in response.content.decode()
