"""Subjects rendered without the template engine's context (render_subject walks plain
templates itself, issue 17) are the engine's subjects, for every kind's subject template:
text, {% if %} branches, untrusted text left as it is (subjects are text), and values the
engine formats itself (numbers, missing keys, safe strings) handed back to the engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.utils.safestring import mark_safe

from notifications import rendering

TEMPLATES = Path(settings.BASE_DIR) / "templates" / "notifications"
KINDS = sorted(path.parent.name for path in TEMPLATES.glob("*/subject.txt"))
UNTRUSTED = 'A <b>&amp; "quoted" {{ not.a.tag }} %s'


def contexts():
    base = {
        "incident": {"reference": "INC-20261204-ABC", "title": UNTRUSTED},
        "subject_line": f"[ESCALATION] {UNTRUSTED}",
        "to_label": "L2 <x>",
        "level": {"label": "L3", "name": "Engineering"},
        "page": {"level": "L2 · Engineering on-call"},
        "item": {"title": UNTRUSTED, "due_date": "2026-12-01"},
        "case": {"vendor": "AWS", "case_id": "1712"},
        "role": "Incident commander",
        "schedule": {"name": "Primary <on-call>"},
        "shift": {"start": "Monday 08:00"},
        "gap": {"under_way": True, "start": "Monday 08:00"},
        "actor": "Ann",
        "start": "Monday",
        "end": "Tuesday",
        "due": "Friday",
        "late_minutes": "12",
    }
    for occasion in ("escalated", "opened"):
        for reminder in ("overdue", "assigned", "requested", "update_overdue", "due_soon"):
            for event in ("requested", "accepted", "declined", "cancelled", "taken"):
                for swap in (True, False):
                    yield {
                        **base,
                        "occasion": occasion,
                        "reminder": reminder,
                        "event": event,
                        "swap": swap,
                    }
    # What the walk leaves to the engine: numbers, missing keys, safe strings, non-dicts.
    yield {"incident": {"reference": 7, "title": None}, "percent": 75, "subject_line": 3}
    yield {}
    yield {"incident": {"reference": mark_safe("<i>INC</i>"), "title": "t"}, "subject_line": "x"}
    yield {"incident": "not a dict", "subject_line": mark_safe("<b>s</b>")}


@pytest.mark.parametrize("kind", KINDS)
def test_subjects_are_the_engines(kind):
    name = f"notifications/{kind}/subject.txt"
    for context in contexts():
        engine = rendering.render_text(name, context).strip()
        assert rendering.render_subject(kind, context) == engine, context


def test_plain_templates_are_walked_and_the_rest_left_to_the_engine():
    """The walk is taken for the storm's kinds (escalation, customer_ack with its if);
    a number is formatted by the engine."""
    assert {"escalation", "customer_ack", "sla_warning"} <= set(KINDS)
    nodes = rendering.template("notifications/escalation/subject.txt").template.nodelist
    assert rendering._plain_text(nodes, {"subject_line": UNTRUSTED}).strip() == UNTRUSTED
    ack = rendering.template("notifications/customer_ack/subject.txt").template.nodelist
    context = {"occasion": "escalated", "incident": {"reference": "INC-1", "title": UNTRUSTED}}
    assert rendering._plain_text(ack, context).strip() == (
        f"RE: [{UNTRUSTED}] - Escalation Acknowledged (INC-1)"
    )
    warning = rendering.template("notifications/sla_warning/subject.txt").template.nodelist
    assert rendering._plain_text(warning, {"percent": 75, "incident": context["incident"]}) is None
