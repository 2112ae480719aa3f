"""Messages: seed 000 subject lines, channels by urgency, bodies rendered from snapshots."""

from pathlib import Path

import pytest

from escalations.notices import compose as notices
from escalations.policies import reach
from escalations.rules.clocks import ClockReading
from notifications import rendering
from notifications.models import Notification
from tests.factories import make_incident

pytestmark = pytest.mark.django_db

KINDS = [
    "escalation",
    "de_escalation",
    "sla_warning",
    "pre_escalation",
    "top_level_breach",
    "trigger",
    "review_flag",
    "pir_reminder",
    "action_item_reminder",
    "war_room_update_due",
    "war_room_role",
    "vendor_update_overdue",
]


def context_for(kind):
    from datetime import timedelta

    from django.utils import timezone

    reading = ClockReading(
        "resolution",
        timedelta(hours=8),
        "24/7",
        timezone.now(),
        timezone.now() + timedelta(hours=8),
        timedelta(hours=4),
        "running",
    )
    return {
        "escalation": {
            "trigger_display": "SLA threshold",
            "sla_percent": "100.0",
            "clock": "resolution",
            "reason": "Clock ran out <b>now</b>",
            "decision_sought": "Revert?",
            "resolution_summary": "Fixed",
        },
        "level": {"label": "L2", "name": "Specialists"},
        "from_label": "L1 · Front line",
        "to_label": "L2 · Specialists",
        "note_items": [["Steps taken", "Restarted <script>alert(1)</script>"]],
        "clock": notices.clock_snapshot(reading),
        "percent": 50,
        "reasons": ["Security incident"],
        "reason": "Bounced 4 times",
    }


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_from_its_snapshot_and_escapes_html(kind, agent):
    incident = make_incident(actor=agent, title="Checkout <img src=x onerror=alert(1)> broken")
    [row] = notices.build(
        kind=kind,
        incident=incident,
        recipients=[reach.Recipient("email", "a@example.com")],
        context=context_for(kind),
        dedup_base="t",
        urgent=False,
    )
    row.save()
    bodies = rendering.render_bodies(row)
    assert incident.reference in row.subject + bodies["body_text"]
    assert incident.reference in bodies["body_html"]
    html = bodies["body_html"]
    assert "<img src=x" not in html and "<script>" not in html
    assert "<!doctype html>" in html


@pytest.mark.parametrize(
    ("severity", "prefix"),
    [
        ("P0", "[URGENT ESCALATION] Critical INC Incident - "),
        ("P1", "[ESCALATION] High Priority INC Incident - "),
        ("P2", "[ESCALATION] INC Incident - "),
        ("P3", "[ESCALATION] INC Incident - "),
    ],
)
def test_subject_lines_follow_seed_000(agent, severity, prefix):
    incident = make_incident(actor=agent, severity=severity, title="Payments down")
    assert notices.subject_line(incident) == prefix + "Payments down"


def test_channels_by_urgency_and_override():
    assert notices.channels_for("P0") == ["pagerduty", "slack", "email"]
    assert notices.channels_for("P1") == ["slack", "email"]
    assert notices.channels_for("P2") == ["email"]
    assert notices.channels_for("P3", "slack_oncall") == ["slack_oncall", "email"]
    assert notices.channels_for("P1", "slack_channel") == ["slack", "email"]


def test_the_message_says_what_was_true_when_decided(agent):
    from incidents import services
    from notifications.services import deliver_due

    incident = make_incident(actor=agent, title="Old title", severity="P2")
    rows = notices.build(
        kind="trigger",
        incident=incident,
        recipients=[reach.Recipient("email", "a@example.com")],
        context={"reasons": ["x"]},
        dedup_base="t",
        urgent=False,
    )
    Notification.objects.bulk_create(rows)
    services.incident_update_details(incident=incident, actor=agent, changes={"title": "New title"})
    deliver_due()
    sent = Notification.objects.get(dedup_key__startswith="t:")
    assert "Old title" in sent.body_text and "New title" not in sent.body_text


# Every incident message kind that has templates, including those added later.
TEMPLATE_KINDS = sorted(
    folder.name
    for folder in (Path(__file__).resolve().parents[2] / "templates" / "notifications").iterdir()
    if (folder / "subject.txt").exists() and folder.name not in rendering.REPORT_KINDS
)


@pytest.mark.parametrize("kind", TEMPLATE_KINDS)
def test_admin_preview_renders_each_kind_against_a_sample_incident(kind, manager, client):
    from django.urls import reverse

    from tests.factories import PASSWORD

    incident = make_incident(actor=manager, title="Payments <b>down</b>")
    client.login(username=manager.username, password=PASSWORD)
    response = client.get(
        reverse("admin:notifications_notification_preview"),
        {"kind": kind, "reference": incident.reference},
    )
    assert response.status_code == 200
    rendered = response.context["rendered"]
    assert incident.reference in rendered["subject"] + rendered["body_text"]
    assert "<b>down</b>" not in rendered["body_html"]


def test_preview_of_an_incident_you_cannot_see_says_so(manager, client, roles):
    from django.urls import reverse

    from tests.factories import PASSWORD, UserFactory

    lead = UserFactory(username="lead-preview", role="Team Lead", is_staff=True)
    secret = make_incident(actor=manager, is_security=True)
    client.login(username=lead.username, password=PASSWORD)
    response = client.get(
        reverse("admin:notifications_notification_preview"),
        {"kind": "escalation", "reference": secret.reference},
    )
    assert response.status_code == 200
    assert response.context["rendered"] is None
    assert response.context["form"].errors["reference"]
