"""The weekly report as a page and as YAML/JSON, for any past week."""

import json

import pytest
import time_machine
import yaml
from django.urls import reverse

from escalations.analytics.reports import parse_week, week_label
from escalations.followup import reviews
from tests.escalations.review_scenario import NOW, at, build_follow_up, build_world
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(roles):
    with time_machine.travel(NOW, tick=False):
        yield build_world()


def get(client, name, *args, **params):
    # A week after NOW: 2026-W11 (NOW's week) is the latest complete one.
    with time_machine.travel(NOW.replace(day=18), tick=False):
        return client.get(reverse(name, args=args), params)


@pytest.fixture
def follow_up(world):
    with time_machine.travel(NOW, tick=False):
        return build_follow_up(world)


@pytest.fixture
def manager_client(client, world):
    assert client.login(username=world.manager.username, password=PASSWORD)
    return client


def test_week_labels_are_iso_weeks():
    monday = parse_week("2026-W11")
    assert monday.isoformat() == "2026-03-09" and week_label(monday) == "2026-W11"
    assert week_label(parse_week("2026-W01")) == "2026-W01"  # 2025-12-29
    with pytest.raises(ValueError):
        parse_week("2026-11")


def test_latest_complete_week_by_default(manager_client):
    response = get(manager_client, "weekly_report")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Weekly escalation report 2026-W11" in html
    assert "Review queues now" in html  # the week just ended also shows the queues
    assert "No open action items." in html
    assert "not available yet" not in html.lower()


def test_any_past_week_and_its_downloads_agree(manager_client):
    page = get(manager_client, "weekly_report_week", "2026-W11")
    assert page.status_code == 200
    as_yaml = yaml.safe_load(
        get(manager_client, "weekly_report_download", "2026-W11", "yaml").content
    )
    as_json = json.loads(get(manager_client, "weekly_report_download", "2026-W11", "json").content)
    assert as_yaml == as_json
    report = as_json["weekly_report"]
    assert report["week"] == "2026-W11"
    assert report["summary"]["total_incidents"] == 6
    assert report["summary"]["sev_2"] == 2 and report["summary"]["sev_3"] == 4
    assert report["summary"]["total_escalations"] == 2
    assert report["action_items"] == {
        "available": True,
        "open": 0,
        "overdue": 0,
        "note": "No open action items.",
        "items": [],
        "more": False,
    }
    earlier = json.loads(get(manager_client, "weekly_report_download", "2026-W08", "json").content)
    assert earlier["weekly_report"]["summary"]["total_incidents"] == 0
    assert "queues_now" not in earlier["weekly_report"]
    assert get(manager_client, "weekly_report_week", "2026-W30").status_code == 404  # future
    assert get(manager_client, "weekly_report_week", "soon").status_code == 404
    assert get(manager_client, "weekly_report_download", "2026-W11", "xml").status_code == 404


def test_visibility_applies_to_the_report(client, world):
    assert client.login(username=world.lead.username, password=PASSWORD)
    report = json.loads(get(client, "weekly_report_download", "2026-W11", "json").content)
    assert report["weekly_report"]["summary"]["total_incidents"] == 5  # no security incident


def test_agents_cannot_read_reports(client, world):
    assert client.login(username=world.agent.username, password=PASSWORD)
    assert get(client, "weekly_report").status_code == 403


# --- open action items with owners ------------------------------------------------------------


def action_items(client, week):
    report = json.loads(get(client, "weekly_report_download", week, "json").content)
    return report["weekly_report"]["action_items"]


def test_the_report_lists_items_open_at_the_end_of_its_week(manager_client, world, follow_up):
    f = follow_up
    # 2026-W11 ends 16 Mar 00:00. Done during the week (runbook 10 Mar, load test 10 Mar)
    # or before it: not listed. Soonest due first; the security one without its title.
    w11 = action_items(manager_client, "2026-W11")
    assert [(i["title"], i["owner"], i["due"], i["overdue"]) for i in w11["items"]] == [
        ("Fix the connection leak", str(world.agent), "2026-03-09", True),
        ("Security follow-up (details in the portal)", str(world.security), "2026-03-09", True),
        ("Add a circuit breaker", str(world.lead), "2026-03-20", False),
    ]
    assert w11["items"][0]["reference"] == f.late.reference
    assert w11["items"][0]["url"].endswith(f"/incidents/{f.late.reference}/")
    assert (w11["open"], w11["overdue"], w11["more"]) == (3, 2, False)
    # 2026-W10 ends 9 Mar 00:00: the runbook and the load test were still open then,
    # and nothing was overdue yet; items created later (none here) would be left out.
    w10 = action_items(manager_client, "2026-W10")
    assert [i["title"] for i in w10["items"]] == [
        "Update the runbook",
        "Fix the connection leak",
        "Security follow-up (details in the portal)",
        "Load-test peak concurrency",
        "Add a circuit breaker",
    ]
    assert w10["overdue"] == 0
    # 2026-W09 ends 2 Mar, before any of them existed.
    assert action_items(manager_client, "2026-W09")["items"] == []


def test_an_item_closed_after_the_weeks_end_stays_in_that_weeks_report(
    manager_client, world, follow_up
):
    reviews.action_item_close(
        item=follow_up.breaker, actor=world.lead, status="done", now=at(17, 9)
    )
    titles = [i["title"] for i in action_items(manager_client, "2026-W11")["items"]]
    assert "Add a circuit breaker" in titles  # open when W11 ended
    with time_machine.travel(at(25, 9), tick=False):
        report = manager_client.get(reverse("weekly_report_download", args=["2026-W12", "json"]))
    items = json.loads(report.content)["weekly_report"]["action_items"]["items"]
    titles = [i["title"] for i in items]
    assert "Add a circuit breaker" not in titles and "Fix the connection leak" in titles


def test_the_page_and_downloads_show_the_same_items(manager_client, world, follow_up):
    html = get(manager_client, "weekly_report_week", "2026-W11").content.decode()
    assert "3 open at the end of the week, 2 of them overdue" in html
    assert f"Fix the connection leak [Owner: {world.agent}] · due 2026-03-09" in html
    assert f"Add a circuit breaker [Owner: {world.lead}] · due 2026-03-20" in html
    assert "Rotate the leaked keys" not in html  # a security incident's item
    assert reverse("incidents:detail", args=[follow_up.late.reference]) in html
    as_yaml = yaml.safe_load(
        get(manager_client, "weekly_report_download", "2026-W11", "yaml").content
    )
    assert as_yaml["weekly_report"]["action_items"] == action_items(manager_client, "2026-W11")


def test_items_follow_the_readers_visibility(client, world, follow_up):
    assert client.login(username=world.lead.username, password=PASSWORD)
    items = action_items(client, "2026-W11")
    assert [i["title"] for i in items["items"]] == [
        "Fix the connection leak",
        "Add a circuit breaker",
    ]
    assert (items["open"], items["overdue"]) == (2, 1)


def test_a_long_list_is_cut_with_the_count_kept(manager_client, world, follow_up, monkeypatch):
    from escalations.analytics import reports

    monkeypatch.setattr(reports, "ACTION_ITEMS_LISTED", 2)
    items = action_items(manager_client, "2026-W11")
    assert len(items["items"]) == 2 and items["open"] == 3 and items["more"] is True
    html = get(manager_client, "weekly_report_week", "2026-W11").content.decode()
    assert "the 2 due soonest" in html and "The others are in the portal." in html


def test_the_report_page_takes_a_fixed_number_of_queries(
    manager_client, world, django_assert_num_queries
):
    # session, user, permissions (2), the summaries of the week and the one before
    # (4: by severity and overall each), escalations made (1), Sev 1 incidents (1),
    # component trends (1), open action items (2: the counts, the listed rows with
    # owners and incidents joined in), the week's handoffs against their acknowledgement
    # targets (1)
    past_week = 2 + 2 + 4 + 1 + 1 + 1 + 2 + 1
    # the week just ended also shows the queues: Security group membership (1), one
    # count per queue the manager sees (9)
    latest_week = past_week + 1 + 9
    for data in ("without", "with reviews and action items"):
        for week, expected in (("2026-W10", past_week), ("2026-W11", latest_week)):
            get(manager_client, "weekly_report_week", week)  # warm caches
            with django_assert_num_queries(expected):
                response = get(manager_client, "weekly_report_week", week)
            assert response.status_code == 200
        if data == "without":
            assert "Fix the connection leak" not in response.content.decode()
            with time_machine.travel(NOW, tick=False):
                build_follow_up(world)
    assert "Fix the connection leak" in response.content.decode()
