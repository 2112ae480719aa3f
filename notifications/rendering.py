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
from django.template import Context
from django.template.base import TextNode, Variable, VariableDoesNotExist, VariableNode
from django.template.defaulttags import AutoEscapeControlNode, IfNode
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
    name = f"notifications/{kind}/subject.txt"
    text = _plain_text(template(name).template.nodelist, context)
    if text is None:
        text = render_text(name, context)
    return text.strip()


class _NotPlain(Exception):
    """A node _plain_text leaves to the template engine."""


def _plain_text(nodelist, snapshot: dict) -> str | None:
    """What the engine renders from `nodelist` with `snapshot`, when the template is
    text, {% autoescape off %}, {% if %} and unfiltered variables whose values are
    text reached through dicts (a subject line from a notice's snapshot); else None,
    and the caller renders it with the engine. A sweep decides thousands of subjects
    a second, and the engine's context and node machinery was most of each."""
    try:
        return _plain_nodes(nodelist, snapshot, escaping=True, conditions=[])
    except _NotPlain:
        return None


def _plain_nodes(nodelist, snapshot: dict, *, escaping: bool, conditions: list) -> str:
    parts = []
    for node in nodelist:
        kind = type(node)
        if kind is TextNode:
            parts.append(node.s)
        elif kind is VariableNode and not escaping:
            expression = node.filter_expression
            variable = expression.var
            if expression.filters or type(variable) is not Variable or not variable.lookups:
                raise _NotPlain
            if variable.translate or variable.message_context:
                raise _NotPlain
            value = snapshot
            for bit in variable.lookups:
                if type(value) is not dict or bit not in value:
                    raise _NotPlain
                value = value[bit]
            if type(value) is not str:  # numbers, dates, safe strings: the engine formats them
                raise _NotPlain
            parts.append(value)
        elif kind is AutoEscapeControlNode:
            parts.append(
                _plain_nodes(node.nodelist, snapshot, escaping=node.setting, conditions=conditions)
            )
        elif kind is IfNode:
            # The engine's own conditions, on a Context made once per subject.
            if not conditions:
                conditions.append(Context(snapshot, autoescape=escaping))
            for condition, branch in node.conditions_nodelists:
                if condition is not None:
                    try:
                        match = condition.eval(conditions[0])
                    except VariableDoesNotExist:
                        match = None
                else:
                    match = True
                if match:
                    parts.append(
                        _plain_nodes(branch, snapshot, escaping=escaping, conditions=conditions)
                    )
                    break
        else:
            raise _NotPlain
    return "".join(parts)


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
