"""Pure rules of the follow-up work: when a post-incident review is required, when
reminders are due, when a war room fits, and the action-item metrics.

No Django import: tested without a database, used by the services in
escalations.followup.reviews, escalations.followup.war_room, escalations.followup.vendors and the
reminder sweep in escalations.followup.reminders.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from statistics import median

from escalations.rules.spec import ReviewSettings

# --- when a post-incident review is required ----------------------------------------------

FLAG_WORDS = {
    "production_outage": "production outage",
    "security": "security incident",
    "compliance": "regulatory or compliance impact",
    "customer_facing": "customer-facing incident",
    "war_room": "a war room was activated",
    "vendor": "a vendor case was opened",
}


def review_required_reasons(
    *, severity: str, highest_level: int, flags: Iterable[str], settings: ReviewSettings
) -> list[str]:
    """Why this incident needs a review, by the policy's rules; empty: it does not.

    seed 004: every Sev 1 (P0); seed 001: every issue that reached L3; and whatever
    incident facts the policy lists (`required_when`).
    """
    reasons = []
    if severity in settings.required_severities:
        reasons.append(f"{severity} incident")
    level = settings.required_from_level
    if level is not None and highest_level >= level:
        reasons.append(f"escalated to L{highest_level} (reviews from L{level})")
    present = set(flags)
    for flag in settings.required_when:
        if flag in present:
            reasons.append(FLAG_WORDS[flag])
    return reasons


def review_due_at(resolved_at: datetime, settings: ReviewSettings) -> datetime:
    """Seed 004: 100 % of reviews within 48 hours of resolution (policy: due_after)."""
    return resolved_at + settings.due_after


# --- reminders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """One reminder of one object: its type and the instant it becomes due.

    `due` is the deadline it is about; (object, type, due) is its identity, so a
    moved deadline brings new reminders and an unchanged one never repeats.
    """

    type: str
    at: datetime
    due: datetime


def deadline_reminders(due: datetime, before: timedelta | None) -> list[Reminder]:
    """Before the deadline (if `before` is given) and when it passes."""
    points = []
    if before:
        points.append(Reminder("due_soon", due - before, due))
    points.append(Reminder("overdue", due, due))
    return points


# A cadence's reminder after the due one, once per further interval missed: all are about the
# same deadline, so each one's dedup key carries its own instant.
UPDATE_OVERDUE = "update_overdue"


def cadence_reminders(due: datetime, every: timedelta, *, until: datetime) -> list[Reminder]:
    """An update is due at `due`; while none comes, again every `every` (all about `due`)."""
    points = [Reminder("update_due", due, due)]
    at = due + every
    while at <= until:
        points.append(Reminder(UPDATE_OVERDUE, at, due))
        at += every
    return points


def reminder_to_send(points: Sequence[Reminder], now: datetime) -> Reminder | None:
    """The latest reminder whose instant has come.

    Earlier ones that were missed (a sweep that did not run) are skipped: an
    overdue notice makes a "due soon" one pointless.
    """
    reached = [p for p in points if p.at <= now]
    return max(reached, key=lambda p: p.at) if reached else None


def next_reminder_at(points: Sequence[Reminder], now: datetime) -> datetime | None:
    """The first reminder still to come after `now`."""
    later = [p.at for p in points if p.at > now]
    return min(later) if later else None


def next_visit(points: Sequence[Reminder], now: datetime) -> datetime | None:
    """What the indexed column holds after a change: a reminder whose instant has
    come but that may not have gone out yet (the sweep sends it; its dedup key
    makes a second visit harmless), else the next one to come."""
    pending = reminder_to_send(points, now)
    return pending.at if pending is not None else next_reminder_at(points, now)


# --- vendor cases (seed 003 "Vendor Escalation") ------------------------------------------

ENGAGE_TAM = "Engage the TAM/DSE/CE if you have Enterprise support, and name them as the contact."
ASK_CADENCE = "Request regular updates: agree an update cadence with the vendor."


def vendor_case_prompts(*, contact: str, update_every: timedelta | None) -> list[str]:
    """Seed 003 steps 2 and 4 still to do on an open case: no TAM/DSE/CE named, no cadence."""
    prompts = []
    if not (contact or "").strip():
        prompts.append(ENGAGE_TAM)
    if not update_every:
        prompts.append(ASK_CADENCE)
    return prompts


def vendor_update_expected(
    *, promised: datetime | None, last: datetime, every: timedelta | None
) -> datetime | None:
    """When the vendor's next update is due: what they promised, else one cadence
    interval after their last update (or the opening)."""
    if promised is not None:
        return promised
    return last + every if every else None


# --- war rooms ------------------------------------------------------------------------------

WAR_ROOM_REASONS = {
    "sev1": "Severity 1 incident",
    "multi_customer": "Several customers affected",
    "security": "Security issue",
    "regulatory": "Regulatory or compliance issue",
    "public": "Media attention or public outage",
    "unclear_scope": "Unclear scope or timeline",
}


def war_room_reasons(
    *,
    severity: str,
    is_security: bool,
    is_compliance: bool,
    is_production_outage: bool,
    users_affected: int | None,
    many_users: int,
) -> list[str]:
    """Seed 004's "when to activate": the reasons the incident's facts support."""
    reasons = []
    if severity == "P0":
        reasons.append("sev1")
    if (users_affected or 0) >= many_users or is_production_outage:
        reasons.append("multi_customer")
    if is_security:
        reasons.append("security")
    if is_compliance:
        reasons.append("regulatory")
    return reasons


def check_war_room_reason(reason: str, supported: Sequence[str]) -> str | None:
    """A problem with the reason given for activation, or None.

    Facts the incident records (severity, security, compliance) must back the
    reason; judgement calls (public attention, unclear scope, several customers)
    are the activator's to make.
    """
    if reason not in WAR_ROOM_REASONS:
        return "Pick why the war room is needed."
    checked = {
        "sev1": "The incident is not Severity 1 (P0); raise the severity first.",
        "security": "The incident is not marked as a security incident.",
        "regulatory": "The incident is not marked as having compliance impact.",
    }
    if reason in checked and reason not in supported:
        return checked[reason]
    return None


# --- the review document ------------------------------------------------------------------


def outage_duration(statuses: Sequence[tuple[datetime, str]], now: datetime) -> timedelta:
    """Time from opening to (last) resolution, without stretches spent resolved.

    `statuses` is (at, status) for every status the incident entered, oldest
    first, starting with the opening; an open incident counts until `now`.
    """
    if not statuses:
        return timedelta(0)
    total = timedelta(0)
    for index, (at, status) in enumerate(statuses):
        if status in ("resolved", "closed"):
            continue
        end = statuses[index + 1][0] if index + 1 < len(statuses) else now
        if end > at:
            total += end - at
    return total


def spoken_duration(value: timedelta) -> str:
    """Seed 004's form: '3 hours 42 minutes', '2 days 1 hour', '12 minutes'."""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)

    def part(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    parts = []
    if days:
        parts.append(part(days, "day"))
    if hours:
        parts.append(part(hours, "hour"))
    if minutes and not days:
        parts.append(part(minutes, "minute"))
    return " ".join(parts) or "less than a minute"


# Each paragraph of the seed's template and how publication checks it.
REQUIRED_TO_PUBLISH = {
    "customers_impacted": "Say how many customers were impacted (0 if none).",
    "business_impact": "Describe the business impact.",
    "timeline": "Give the timeline: at least one entry.",
    "root_cause_what": "Say what happened.",
    "root_cause_why": "Say why it happened.",
    "root_cause_not_caught": "Say why it was not caught earlier.",
    "contributing_factors": "List at least one contributing factor.",
    "went_well": "List at least one thing that went well.",
    "went_poorly": "List at least one thing that went poorly.",
    "prevention_confidence": "Rate the confidence that this will not happen again.",
    "action_items": "Add at least one action item with an owner and a due date.",
}


def missing_for_publication(values: dict) -> dict[str, str]:
    """Field name -> message for every required paragraph left empty."""
    missing = {}
    for name, message in REQUIRED_TO_PUBLISH.items():
        value = values.get(name)
        empty = value is None or (isinstance(value, str | list | tuple) and not value)
        if empty or (isinstance(value, str) and not value.strip()):
            missing[name] = message
    return missing


# --- action-item metrics (seed 004: > 90 % closed within target) --------------------------


@dataclass(frozen=True)
class ItemFacts:
    due_at: datetime
    closed_at: datetime | None
    done: bool  # closed as done (not dropped)
    permanent_fix: bool
    incident_opened_at: datetime


@dataclass(frozen=True)
class ItemMetrics:
    total: int
    closed: int
    closed_on_time: int
    overdue_open: int
    on_time_percent: float | None  # of items whose due date has passed or that are closed
    median_time_to_permanent_fix: timedelta | None


def action_item_metrics(items: Iterable[ItemFacts], now: datetime) -> ItemMetrics:
    """Closure within target: items done by their due date, out of those done or
    past their due date (an open item not yet due has not succeeded or failed yet)."""
    items = list(items)
    closed = [i for i in items if i.closed_at is not None]
    done = [i for i in closed if i.done]
    on_time = [i for i in done if i.closed_at <= i.due_at]
    overdue_open = [i for i in items if i.closed_at is None and i.due_at < now]
    # Dropped items (won't do) are neither a success nor a miss.
    judged = len(done) + len(overdue_open)
    fixes = [
        i.closed_at - i.incident_opened_at
        for i in closed
        if i.done and i.permanent_fix and i.closed_at is not None
    ]
    return ItemMetrics(
        total=len(items),
        closed=len(closed),
        closed_on_time=len(on_time),
        overdue_open=len(overdue_open),
        on_time_percent=100 * len(on_time) / judged if judged else None,
        median_time_to_permanent_fix=median(fixes) if fixes else None,
    )


# --- the review's timeline, drafted from the incident's --------------------------------------

# Timeline kinds worth a line in a review; internal notes, SLA ticks and the
# review's own events stay out (the author can add anything by hand).
TIMELINE_KINDS = (
    "created",
    "acknowledged",
    "status_changed",
    "severity_changed",
    "assigned",
    "escalated",
    "de_escalated",
    "handoff_acknowledged",
    "decision",
    "public_update",
    "reopened",
    "war_room_activated",
    "war_room_changed",
    "war_room_closed",
    "commander_decision",
    "vendor_case",
)


def _first_line(text: str, limit: int = 160) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _status_word(value: object) -> str:
    return str(value or "").replace("_", " ")


def timeline_text(kind: str, *, actor: str, body: str, data: dict) -> str:
    """One line of a review's timeline for one incident event, in plain words."""
    who = actor or "System"
    note = _first_line(body)
    tail = f": {note}" if note else ""
    if kind == "created":
        return f"Incident opened by {who} ({data.get('severity', '')})".replace(" ()", "")
    if kind == "acknowledged":
        return f"Acknowledged by {who}"
    if kind == "status_changed":
        to = _status_word(data.get("to"))
        if data.get("to") == "resolved":
            return f"Resolved by {who}{tail}"
        return f"Status {_status_word(data.get('from'))} -> {to} ({who}){tail}"
    if kind == "severity_changed":
        return f"Severity {data.get('from')} -> {data.get('to')} ({who}){tail}"
    if kind == "assigned":
        return f"Assigned to {data.get('to') or 'nobody'}"
    if kind == "escalated":
        return f"Escalated {data.get('from')} -> {data.get('to')}{tail}"
    if kind == "de_escalated":
        return f"De-escalated {data.get('from')} -> {data.get('to')}{tail}"
    if kind == "handoff_acknowledged":
        return f"L{data.get('level')} acknowledged the handoff ({who})"
    if kind == "decision":
        return f"Decision by {who}{tail}"
    if kind == "public_update":
        return f"Customer update{tail}"
    if kind == "reopened":
        return f"Reopened by {who}{tail}"
    if kind == "commander_decision":
        return f"Incident commander decided{tail}"
    return note or kind.replace("_", " ").capitalize()


# --- editing the timeline as lines of text ---------------------------------------------------

# "2026-01-14 14:23 - text" or "14:23 - text"; a hyphen, en dash or em dash.
_LINE = re.compile(
    r"^\s*(?:(?P<date>\d{4}-\d{2}-\d{2})[ T]+)?(?P<time>\d{1,2}:\d{2})"
    r"\s*[-\u2013\u2014]\s*(?P<text>\S.*)$"
)


def timeline_lines(entries: Sequence[dict], zone: tzinfo) -> str:
    """Entries as 'YYYY-MM-DD HH:MM - text' lines in `zone`, for editing."""
    lines = []
    for entry in entries:
        at = datetime.fromisoformat(entry["at"]).astimezone(zone)
        lines.append(f"{at:%Y-%m-%d %H:%M} - {entry['text']}")
    return "\n".join(lines)


def parse_timeline(text: str, zone: tzinfo, first_day: date) -> tuple[list[dict], list[str]]:
    """Lines back to entries (UTC ISO times), or the problems, one per bad line.

    A line may give only a time ('14:23 - ...'): it takes the previous line's
    date, or `first_day` for the first. Entries keep their order as written.
    """
    entries, problems = [], []
    day = first_day
    for number, raw in enumerate((text or "").splitlines(), start=1):
        if not raw.strip():
            continue
        match = _LINE.match(raw)
        if match is None:
            problems.append(
                f"Line {number}: start with a time like 14:23 or 2026-01-14 14:23, "
                f"then ' - ' and what happened."
            )
            continue
        try:
            if match["date"]:
                day = date.fromisoformat(match["date"])
            hour, minute = (int(part) for part in match["time"].split(":"))
            at = datetime.combine(day, time(hour, minute), tzinfo=zone)
        except ValueError:
            problems.append(f"Line {number}: {match['date'] or ''} {match['time']} is not a time.")
            continue
        entries.append({"at": at.astimezone(UTC).isoformat(), "text": match["text"].strip()})
    return entries, problems


def text_items(text: str) -> list[str]:
    """A textarea with one item per line (leading bullets dropped) as a list."""
    items = []
    for line in (text or "").splitlines():
        item = line.strip().lstrip("-*•").strip()
        if item:
            items.append(item)
    return items
