"""A post-incident review as seed 004's YAML (`post_incident_review:`) and as Markdown.

The renderings are pure: they work on a `ReviewDoc` of plain values
(escalations.followup.reviews builds it from the database), so the shape is tested without
one. `review_file` at the end is the download the web and the API both send.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo

import yaml
from django.http import HttpResponse

from escalations.rules.followup import spoken_duration
from escalations.rules.text_safety import data_text, markdown_text
from incidents.rules import Severity


@dataclass(frozen=True)
class ItemLine:
    title: str
    owner: str
    due_date: date
    status: str  # display word
    closed: bool


@dataclass(frozen=True)
class ReviewDoc:
    incident_id: str
    title: str
    severity: str  # P0..P3
    status: str  # display word
    duration: timedelta
    customers_impacted: int | None
    business_impact: str
    timeline: tuple[tuple[datetime, str], ...]
    what_happened: str
    why_happened: str
    why_not_caught: str
    contributing_factors: tuple[str, ...] = ()
    went_well: tuple[str, ...] = ()
    went_poorly: tuple[str, ...] = ()
    action_items: tuple[ItemLine, ...] = ()
    prevention_confidence: str = ""
    similar_incidents: tuple[str, ...] = ()
    published_at: datetime | None = None
    required_reasons: tuple[str, ...] = field(default_factory=tuple)


def _as_text(doc: ReviewDoc, safe) -> ReviewDoc:
    """The doc with every piece of people's text passed through `safe`."""
    texts = lambda values: tuple(safe(v) for v in values)  # noqa: E731
    return replace(
        doc,
        title=safe(doc.title),
        business_impact=safe(doc.business_impact),
        timeline=tuple((at, safe(text)) for at, text in doc.timeline),
        what_happened=safe(doc.what_happened),
        why_happened=safe(doc.why_happened),
        why_not_caught=safe(doc.why_not_caught),
        contributing_factors=texts(doc.contributing_factors),
        went_well=texts(doc.went_well),
        went_poorly=texts(doc.went_poorly),
        action_items=tuple(
            replace(item, title=safe(item.title), owner=safe(item.owner))
            for item in doc.action_items
        ),
        prevention_confidence=safe(doc.prevention_confidence),
        similar_incidents=texts(doc.similar_incidents),
        required_reasons=texts(doc.required_reasons),
    )


def _timeline(doc: ReviewDoc, zone: tzinfo) -> list[str]:
    """Seed 004 writes '14:23 - ...'; a review spanning days gives each line its date."""
    local = [(at.astimezone(zone), text) for at, text in doc.timeline]
    one_day = len({at.date() for at, _ in local}) <= 1
    shape = "%H:%M" if one_day else "%Y-%m-%d %H:%M"
    return [f"{at.strftime(shape)} - {text}" for at, text in local]


def _item(item: ItemLine) -> str:
    """Seed 004's 'Do this [Owner: SRE]', with the due date and the state."""
    return f"{item.title} [Owner: {item.owner}] [Due: {item.due_date.isoformat()}] [{item.status}]"


def review_mapping(doc: ReviewDoc, zone: tzinfo) -> dict:
    doc = _as_text(doc, data_text)
    return {
        "post_incident_review": {
            "incident_id": doc.incident_id,
            "severity": Severity(doc.severity).sev,
            "duration": spoken_duration(doc.duration),
            "customers_impacted": doc.customers_impacted,
            "business_impact": doc.business_impact,
            "timeline": _timeline(doc, zone),
            "root_cause": {
                "what_happened": doc.what_happened,
                "why_happened": doc.why_happened,
                "why_not_caught": doc.why_not_caught,
            },
            "contributing_factors": list(doc.contributing_factors),
            "what_went_well": list(doc.went_well),
            "what_went_poorly": list(doc.went_poorly),
            "action_items": [_item(item) for item in doc.action_items],
            "prevention_confidence": doc.prevention_confidence,
            "similar_incidents": list(doc.similar_incidents),
        }
    }


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)  # lists indented as in the seed


def review_yaml(doc: ReviewDoc, zone: tzinfo) -> str:
    return yaml.dump(
        review_mapping(doc, zone),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def _bullets(items, empty: str = "- (none)") -> list[str]:
    return [f"- {item}" for item in items] or [empty]


def review_markdown(doc: ReviewDoc, zone: tzinfo) -> str:
    doc = _as_text(doc, markdown_text)
    severity = Severity(doc.severity)
    status = doc.status
    if doc.published_at is not None:
        status += f" ({doc.published_at.astimezone(zone):%Y-%m-%d %H:%M})"
    customers = "unknown" if doc.customers_impacted is None else str(doc.customers_impacted)
    lines = [
        f"# Post-incident review: {doc.incident_id}",
        "",
        f"**Incident**: {doc.incident_id} - {doc.title}",
        f"**Status**: {status}",
        f"**Severity**: {severity.sev} ({severity.value} · {severity.word})",
        f"**Duration**: {spoken_duration(doc.duration)}",
        f"**Customers impacted**: {customers}",
        f"**Business impact**: {doc.business_impact or '-'}",
    ]
    if doc.required_reasons:
        lines.append(f"**Required because**: {'; '.join(doc.required_reasons)}")
    lines += ["", f"## Timeline ({zone})", ""]
    lines += _bullets(_timeline(doc, zone))
    lines += [
        "",
        "## Root cause",
        "",
        f"**What happened**: {doc.what_happened or '-'}",
        "",
        f"**Why it happened**: {doc.why_happened or '-'}",
        "",
        f"**Why it was not caught**: {doc.why_not_caught or '-'}",
        "",
        "## Contributing factors",
        "",
        *_bullets(doc.contributing_factors),
        "",
        "## What went well",
        "",
        *_bullets(doc.went_well),
        "",
        "## What went poorly",
        "",
        *_bullets(doc.went_poorly),
        "",
        "## Action items",
        "",
    ]
    lines += [f"- [{'x' if item.closed else ' '}] {_item(item)}" for item in doc.action_items] or [
        "- (none)"
    ]
    lines += [
        "",
        "## Prevention confidence",
        "",
        doc.prevention_confidence or "-",
        "",
        "## Similar incidents",
        "",
        *_bullets(doc.similar_incidents),
    ]
    return "\n".join(lines) + "\n"


# --- the downloads ----------------------------------------------------------------------------

FILE_KINDS = {
    "md": (review_markdown, "text/markdown; charset=utf-8"),
    "yaml": (review_yaml, "application/yaml; charset=utf-8"),
}


def download(text: str, content_type: str, filename: str) -> HttpResponse:
    """`text` as an attachment named `filename`, as the download links send files."""
    response = HttpResponse(text, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
