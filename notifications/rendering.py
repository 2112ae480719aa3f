"""Rendering a stored message: its kind's templates, filled from its snapshot.

Templates live under templates/notifications/<kind>/ (subject.txt, body.txt,
body.html). Who hears what, and the snapshot a message carries, are decided by
the domain app that decides the change (its notices module); this module only
turns a kind and a context into words, at queueing time (subjects) or at
delivery (bodies).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.template.loader import get_template

from notifications.models import Channel, Notification

# Messages about no single incident: previewed on their own pages, not in the admin preview
# (the weekly report; on-call coverage gaps and shift starts, issue 18; cover requests,
# their answers and taken shifts: escalations.schedules.notices).
REPORT_KINDS = frozenset({"weekly_report", "oncall_gap", "oncall_shift", "oncall_cover"})


@lru_cache(maxsize=64)
def template(name: str):
    """A compiled template, once per process: sweeps render thousands of subjects."""
    return get_template(name)


def render_text(name: str, context: dict) -> str:
    """A plain-text template's output as plain text.

    The .txt templates render with autoescape off (they are not HTML), and
    Django marks what a template renders as safe. Dropping that mark makes
    every page that shows the text (the admin preview, the outbox) escape it:
    a title like `<img onerror=...>` stays text (issue 15, finding 1).
    """
    return str.__str__(template(name).render(context))


def render_subject(kind: str, context: dict) -> str:
    return render_text(f"notifications/{kind}/subject.txt", context).strip()


def render_message(kind: str, context: dict) -> tuple[str, str, str]:
    """Subject, text and HTML of a message that is about no single incident (the
    weekly report), rendered when it is queued: it is a snapshot anyway."""
    subject = render_subject(kind, context)
    text = render_text(f"notifications/{kind}/body.txt", context)
    html = template(f"notifications/{kind}/body.html").render(context)
    return subject[:255], text, html


def render_bodies(row: Notification) -> dict:
    """Text, HTML and (Slack) payload for a row, from its snapshot: run at delivery."""
    if not row.context:
        return {}
    text = render_text(f"notifications/{row.kind}/body.txt", row.context)
    fields = {"body_text": text}
    if row.channel == Channel.EMAIL:
        fields["body_html"] = template(f"notifications/{row.kind}/body.html").render(row.context)
    if row.channel == Channel.SLACK and "blocks" not in row.payload:
        url = row.context.get("incident", {}).get("url", "")
        subject = slack_escape(row.subject)
        fields["payload"] = {
            **row.payload,
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*{subject}*"}},
                {"type": "section", "text": {"type": "plain_text", "text": text[:2900]}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": url}]},
            ],
        }
    return fields


def slack_escape(text: str) -> str:
    """Slack mrkdwn's control characters (its docs: escape &, < and >), so a
    title cannot forge a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def template_kinds() -> list[str]:
    """The kinds of incident messages that have templates (the admin preview's list)."""
    root = Path(settings.BASE_DIR) / "templates" / "notifications"
    return sorted(
        p.name
        for p in root.iterdir()
        if (p / "subject.txt").exists() and p.name not in REPORT_KINDS
    )
