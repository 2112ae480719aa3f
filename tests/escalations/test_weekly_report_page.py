"""The weekly report as a page and as YAML/JSON, for any past week."""

import json

import pytest
import time_machine
import yaml
from django.urls import reverse

from escalations.reports import parse_week, week_label
from tests.escalations.review_scenario import NOW, build_world
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
    assert "Not available yet." in html  # open action items come with PIRs


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
    assert report["action_items"]["available"] is False
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
