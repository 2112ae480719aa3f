"""The new-incident form: every label sits in the same box as its field, and an empty
submit puts each error in the box of the field it is about, with a summary on top."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


class FieldBoxes(HTMLParser):
    """For each `div.field`: the `for` of its labels, the ids of its controls, its errors."""

    def __init__(self):
        super().__init__()
        self.boxes, self.stack, self.summary_at = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if "error-summary" in classes and self.summary_at is None:
            self.summary_at = self.getpos()
        if tag == "div":
            box = {"labels": [], "controls": [], "errors": 0} if "field" in classes else None
            if box is not None:
                self.boxes.append(box)
            self.stack.append(box)
            return
        box = next((b for b in reversed(self.stack) if b is not None), None)
        if box is None:
            return
        if tag == "label":
            box["labels"].append(attrs.get("for"))
        elif tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            box["controls"].append(attrs.get("id"))
        elif tag == "ul" and "errorlist" in classes:
            box["errors"] += 1

    def handle_endtag(self, tag):
        if tag == "div" and self.stack:
            self.stack.pop()


def boxes_of(html: str) -> FieldBoxes:
    parser = FieldBoxes()
    parser.feed(html)
    return parser


@pytest.fixture
def web(client, agent):
    client.login(username=agent.username, password=PASSWORD)
    return client


def test_each_label_is_in_the_box_of_the_field_it_names(web, channel):
    html = web.get(reverse("incidents:create")).content.decode()
    boxes = boxes_of(html).boxes
    assert len(boxes) >= 14
    for box in boxes:
        assert box["controls"], box
        assert box["labels"] == [box["controls"][0]], box
    by_control = {box["controls"][0]: box for box in boxes}
    assert "id_severity" in by_control and "id_revenue_impact" in by_control


def test_an_empty_submit_puts_each_error_beside_its_own_field(web, channel):
    response = web.post(reverse("incidents:create"), {"severity": "P2"})
    assert response.status_code == 400
    parsed = boxes_of(response.content.decode())
    with_errors = {box["controls"][0] for box in parsed.boxes if box["errors"]}
    assert with_errors == {"id_title", "id_channel"}
    html = response.content.decode()
    assert parsed.summary_at is not None
    assert html.index("error-summary") < html.index('id="id_title"')  # the summary is on top
    assert '<a href="#id_channel">Channel</a>' in html
