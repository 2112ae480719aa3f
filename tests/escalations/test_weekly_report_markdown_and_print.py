"""The weekly report as Markdown and as a printable page, beside YAML and JSON."""

import pytest
import time_machine
from django.urls import reverse

from escalations.templatetags.markdown_text import md
from tests.escalations.review_scenario import NOW, build_follow_up, build_world
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(roles):
    with time_machine.travel(NOW, tick=False):
        yield build_world()


@pytest.fixture
def follow_up(world):
    with time_machine.travel(NOW, tick=False):
        return build_follow_up(world)


@pytest.fixture
def manager_client(client, world):
    assert client.login(username=world.manager.username, password=PASSWORD)
    return client


def get(client, name, *args):
    with time_machine.travel(NOW.replace(day=18), tick=False):
        return client.get(reverse(name, args=args))


def test_the_page_offers_markdown_and_a_printable_view(manager_client):
    html = get(manager_client, "weekly_report_week", "2026-W11").content.decode()
    assert reverse("weekly_report_download", args=["2026-W11", "md"]) in html
    assert reverse("weekly_report_download", args=["2026-W11", "html"]) in html
    assert ">Markdown</a>" in html and ">Printable view</a>" in html


def test_markdown_has_every_section_and_the_open_items(manager_client, world, follow_up):
    response = get(manager_client, "weekly_report_download", "2026-W11", "md")
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert 'filename="weekly-report-2026-W11.md"' in response["Content-Disposition"]
    text = response.content.decode()
    assert text.startswith("# Weekly escalation report 2026-W11\n")
    for heading in (
        "## Summary",
        "## Highlights",
        "## SLA compliance and satisfaction",
        "## Trends against the previous week",
        "## Open action items",
        "## Review queues now",
    ):
        assert f"\n{heading}\n" in text
    report = get(manager_client, "weekly_report_download", "2026-W11", "json").json()
    total = report["weekly_report"]["summary"]["total_incidents"]
    assert f"| Incidents opened | {total} |" in text
    assert "3 open at the end of the week, 2 of them overdue." in text
    assert f"- [ ] Fix the connection leak · owner {md(str(world.agent))} · due 2026-03-09" in text
    assert "&lt;" not in text and "&#x27;" not in text  # Markdown, not HTML-escaped


def test_untrusted_text_stays_text_in_markdown():
    from markdown_it import MarkdownIt

    hostile = "[link](javascript:alert(1)) <b>bold</b> <img src=x onerror=alert(1)>\n# heading"
    html = MarkdownIt("commonmark").render(f"- {md(hostile)}")
    assert "<a" not in html and "<b>" not in html and "<img" not in html and "<h1" not in html
    assert "[link]" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    table = MarkdownIt("commonmark").enable("table").render(f"| a |\n|---|\n| {md('x | y')} |")
    assert table.count("<td>") == 1 and "x | y" in table
    assert "\n" not in md("two\nlines") and md("two\nlines").startswith("two")


def test_the_printable_view_is_the_report_without_the_portal_chrome(manager_client, follow_up):
    response = get(manager_client, "weekly_report_download", "2026-W11", "html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "attachment" not in response.get("Content-Disposition", "")
    html = response.content.decode()
    assert "Weekly escalation report 2026-W11" in html
    assert "Open action items" in html and "Fix the connection leak" in html
    assert 'class="topbar"' not in html and "Sign out" not in html
    assert "Back to the report" in html


def test_agents_cannot_read_either(client, world):
    assert client.login(username=world.agent.username, password=PASSWORD)
    assert get(client, "weekly_report_download", "2026-W11", "md").status_code == 403
    assert get(client, "weekly_report_download", "2026-W11", "html").status_code == 403
