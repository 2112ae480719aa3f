"""On-call fairness on the metrics page, its CSV and the metrics API: hours per person and
month from the final shifts, nights and weekends apart, worked out by hand.

ana and ben hand over weekly on Mondays 09:00 Berlin (08:00 UTC) from 5 Jan 2026. January
read in UTC: nobody until 5 Jan 08:00; ana 5-12 and 19-26 Jan (2 x 168 h; nights 2 x 63,
weekends 2 x 48); ben 12-19 Jan (168 h, 63, 48) and 26 Jan 08:00 to 1 Feb 00:00 UTC: 136 h,
nights Mon-Fri 5 x 9 plus Saturday 22:00 to Sunday 01:00 Berlin 3 = 48, weekend Saturday
00:00 to Sunday 01:00 Berlin = 25."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from escalations.analytics.metrics import oncall_fairness, period_for
from tests.api_client import token_client
from tests.factories import PASSWORD, UserFactory, make_schedule

pytestmark = pytest.mark.django_db

JANUARY = {"start": "2026-01-01", "end": "2026-01-31"}
EXPECTED = [
    ["2026-01", "Ana <b>Bold</b>", 336.0, 126.0, 96.0, "Platform on-call"],
    ["2026-01", "ben", 304.0, 111.0, 73.0, "Platform on-call"],
]


@pytest.fixture
def rota(roles):
    UserFactory(username="ana", first_name="Ana", last_name="<b>Bold</b>")
    UserFactory(username="ben", first_name="", last_name="")
    return make_schedule(name="Platform on-call")


def test_the_table_counts_hours_nights_and_weekends_by_hand(rota, manager):
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    period = period_for(manager, start=start, end=end, now=end, filters={}, levels=())
    table = oncall_fairness(period, {})
    assert table.rows == EXPECTED


def test_a_second_schedule_adds_to_the_same_persons_month(rota, manager):
    spec = {
        "timezone": "UTC",
        "layers": [
            {"people": ["ana"], "recurrence": "daily", "start": "2026-01-03", "handoff": "00:00"}
        ],
    }
    make_schedule(name="Weekend extra", spec=spec)  # ana from Sat 3 Jan 00:00 UTC: 29 days
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    period = period_for(manager, start=start, end=end, now=end, filters={}, levels=())
    first = oncall_fairness(period, {}).rows[0]
    # 29 days: 29 x 24 h; 29 nights of 9 h in UTC; 4 weekends of 48 h + Sat 31 Jan 24 h.
    assert first == [
        "2026-01",
        "Ana <b>Bold</b>",
        336.0 + 29 * 24,
        126.0 + 29 * 9,
        96.0 + 4 * 48 + 24,
        "Platform on-call, Weekend extra",
    ]


def test_the_page_the_csv_and_the_api_show_it_escaped(rota, manager, client):
    assert client.login(username=manager.username, password=PASSWORD)
    html = client.get(reverse("metrics"), JANUARY).content.decode()
    section = html[html.index('id="oncall-fairness"') :]
    assert "Ana &lt;b&gt;Bold&lt;/b&gt;" in section and "<b>Bold</b>" not in section
    assert "336.0" in section and "111.0" in section
    response = client.get(reverse("metrics_csv", args=["oncall-fairness"]), JANUARY)
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1:] == [[str(cell) for cell in row] for row in EXPECTED]
    assert rows[1][2] == "336.0"
    data = token_client(manager).get("/api/metrics/", JANUARY).json()
    (table,) = [table for table in data["tables"] if table["slug"] == "oncall-fairness"]
    assert [[cell["number"] or cell["text"] for cell in row] for row in table["rows"]] == EXPECTED
