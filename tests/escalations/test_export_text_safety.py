"""Exports carry people's text as text: tracking.md, pir.md and pir.yaml rendered
with a hostile title, notes and review paragraphs hold no element, no event
handler and no javascript:/data:/vbscript: link (issue 15, finding 12)."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest
import yaml
from markdown_it import MarkdownIt

from escalations.engine import services as engine
from escalations.followup import reviews, vendors
from escalations.rules.handoff import CHECKLIST
from escalations.rules.text_safety import data_text, markdown_text
from incidents import services
from tests.factories import PASSWORD, AccountFactory, make_incident

pytestmark = pytest.mark.django_db

IMG = "<img src=x onerror=alert(1)>"
HOSTILE = [
    IMG,
    "[x](javascript:alert(1))",
    "[y](JavaScript :alert(2))",
    "![z](data:text/html;base64,PHNjcmlwdD4=)",
    "<vbscript:msgbox(1)>",
    "[r]\n\n[r]: javascript:alert(3)",
    "<script>alert(4)</script>",
]
TEXT = " ".join(HOSTILE)
SHORT = f"{IMG} [x](javascript:alert(1))"  # for fields of 200 characters or fewer


class Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.text += data


def rendered(markdown: str) -> Elements:
    parser = Elements()
    parser.feed(MarkdownIt("commonmark", {"linkify": False}).render(markdown))
    return parser


def assert_inert(markdown: str) -> None:
    page = rendered(markdown)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"img", "script", "a"}, tags
    for tag, attributes in page.tags:
        assert not [a for a in attributes if a.startswith("on")], (tag, attributes)
    assert IMG in page.text  # shown as the text it is, not dropped


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_text_renders_as_written(text):
    page = rendered(f"Note: {markdown_text(text)}")
    assert not [tag for tag, _ in page.tags if tag != "p"]
    assert page.text.replace("\n", "") == f"Note: {text}".replace("\n", "")


def test_data_text_closes_tags_but_keeps_comparisons():
    assert data_text(IMG) == "&lt;img src=x onerror=alert(1)>"
    assert data_text("latency < 5 s, 3<4") == "latency < 5 s, 3<4"


@pytest.fixture
def hostile(default_policy, manager, client):
    account = AccountFactory(name=f"Acme {IMG}")
    incident = make_incident(actor=manager, account=account, title=f"Checkout {SHORT}")
    services.incident_post_public_update(incident=incident, actor=manager, body=TEXT)
    escalation = engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=manager,
        reason=TEXT,
        category="expertise",
        note=dict.fromkeys(
            (
                "customer_context",
                "symptoms",
                "customer_impact",
                "business_impact",
                "steps_taken",
                "suggested_next_step",
            ),
            TEXT,
        ),
        checklist=list(CHECKLIST),
        decision_sought=TEXT,
    )
    engine.escalation_record_decision(escalation=escalation, actor=manager, decision=TEXT)
    vendors.vendor_case_open(
        incident=incident, actor=manager, vendor=SHORT, case_id=IMG, severity="S1", owner=manager
    )
    review = reviews.review_create(incident=incident, actor=manager)
    reviews.review_update(
        review=review,
        actor=manager,
        changes={
            "business_impact": TEXT,
            "root_cause_what": TEXT,
            "root_cause_why": TEXT,
            "root_cause_not_caught": TEXT,
            "contributing_factors": [TEXT],
            "went_well": [TEXT],
            "went_poorly": [TEXT],
        },
    )
    reviews.action_item_add(
        review=review, actor=manager, title=SHORT, owner=manager, due_date=date(2026, 12, 31)
    )
    client.login(username=manager.username, password=PASSWORD)
    return incident


@pytest.mark.parametrize("name", ["tracking.md", "pir.md"])
def test_markdown_exports_are_inert(hostile, client, name):
    response = client.get(f"/incidents/{hostile.reference}/{name}")
    assert response.status_code == 200
    markdown = response.content.decode()
    assert "onerror" in markdown  # the hostile text is there...
    assert_inert(markdown)  # ...as text


def test_the_yaml_export_holds_no_tag(hostile, client):
    response = client.get(f"/incidents/{hostile.reference}/pir.yaml")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)["post_incident_review"]

    def strings(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)
        elif isinstance(value, str):
            yield value

    found = list(strings(document))
    assert any("onerror" in text for text in found)
    for text in found:
        assert "<img" not in text and "<script" not in text, text
