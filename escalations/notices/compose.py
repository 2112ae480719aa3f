"""Who hears about what, on which channel, in which words.

Seed 000 step 2: critical -> page + Slack + email; high -> Slack + email;
medium -> email + a mention on the incident; low -> email. A severity
override's method (seed 001) adds its channel. The words come from the kind's
templates (notifications.rendering): subjects when a message is decided, bodies
at delivery from the snapshot taken here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db.models import F, Min
from django.utils import timezone

from escalations.policies import reach
from escalations.policies.reach import (
    Recipient,
)
from escalations.policies.services import policy_spec
from escalations.rules.durations import humanize
from escalations.sla.services import incident_clocks
from incidents.customer_links import status_url
from incidents.rules import Severity, Status, display_title
from notifications.models import CUSTOMER_KINDS, Channel, DeliverySettings, Notification
from notifications.rendering import render_subject
from notifications.services import headers_with_message_id
from portal.links import site_link
from portal.lookups import AnyOf

METHODS_BY_SEVERITY = {
    "P0": ("pagerduty", "slack", "email"),
    "P1": ("slack", "email"),
    "P2": ("email",),
    "P3": ("email",),
}
OVERRIDE_CHANNEL = {
    "pagerduty": "pagerduty",
    "slack_oncall": "slack_oncall",  # its own webhook (reach.team_channels)
    "slack_channel": "slack",
    "email": "email",
    "webhook": "webhook",
}
PD_SEVERITY = {"P0": "critical", "P1": "error", "P2": "warning", "P3": "info"}


def channels_for(severity: str, override_method: str = "") -> list[str]:
    wanted = list(METHODS_BY_SEVERITY.get(severity, ("email",)))
    extra = OVERRIDE_CHANNEL.get(override_method)
    if extra == "slack_oncall" and "slack" in wanted:
        wanted.remove("slack")  # the on-call channel instead of the team channel
    if extra and extra not in wanted:
        wanted.insert(0, extra)
    return wanted


def subject_line(incident, *, urgent_words: bool = True) -> str:
    """Seed 000's subject lines, by severity."""
    prefix = settings.INCIDENT_REFERENCE_PREFIX
    title = display_title(incident)
    if incident.severity == "P0":
        return f"[URGENT ESCALATION] Critical {prefix} Incident - {title}"
    if incident.severity == "P1":
        return f"[ESCALATION] High Priority {prefix} Incident - {title}"
    return f"[ESCALATION] {prefix} Incident - {title}"


def incident_url(incident) -> str:
    return site_link("incidents:detail", incident.reference)


def when(value, zone=UTC) -> str:
    """An instant as a person reads it: in their zone (UTC by default), zone shown."""
    if value is None:
        return ""
    if isinstance(zone, str):
        zone = _zone(zone)
    local = timezone.localtime(value, zone)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or str(zone))


@lru_cache(maxsize=256)
def _zone(name: str):
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


# Most of a snapshot is text: these are answered before any isinstance check (a
# storm walks a few dozen values per notice, thousands of notices a second).
_LEAVES = frozenset({str, int, float, bool, type(None)})


def _in_zone(value, zone: str, instants: list):
    """A context with its instants (datetimes, at any depth) written in `zone`, each
    instant met appended to `instants`. Leaves are answered before a call is made for
    them: most values are text."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is dict:
        return {
            key: item if type(item) in _LEAVES else _in_zone(item, zone, instants)
            for key, item in value.items()
        }
    if kind is list or kind is tuple:
        return [item if type(item) in _LEAVES else _in_zone(item, zone, instants) for item in value]
    if isinstance(value, datetime):
        instants.append(value)
        return when(value, zone)
    if isinstance(value, dict):
        return {key: _in_zone(item, zone, instants) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_in_zone(item, zone, instants) for item in value]
    return value


# Labels by value, made once: Severity(value) and its label are Python-level enum
# work, and every notice of a storm asks for them.
_SEVERITY_LABELS = {severity.value: severity.label for severity in Severity}
_STATUS_LABELS = {status.value: status.label for status in Status}
_PRIORITY_WORDS = {severity.value: severity.word.lower() for severity in Severity}


def incident_snapshot(incident) -> dict:
    """What a message may say about an incident, frozen when it was decided."""
    severity, status = incident.severity, incident.status
    return {
        "reference": incident.reference,
        "title": display_title(incident),
        "severity": severity,
        "severity_display": _SEVERITY_LABELS.get(severity) or Severity(severity).label,
        "status_display": _STATUS_LABELS.get(status) or Status(status).label,
        "url": incident_url(incident),
    }


def clock_snapshot(reading) -> dict:
    return {
        "label": reading.label,
        "target": humanize(reading.target),
        "due": reading.due_at,  # written in each recipient's zone by build()
        "explanation": reading.explanation,
    }


def level_snapshot(level) -> dict:
    return {"label": level.label, "name": level.name}


def build(
    *,
    kind: str,
    incident,
    recipients: Iterable[Recipient],
    context: dict,
    dedup_base: str,
    urgent: bool,
    now=None,
    pagerduty_action: str = "trigger",
    headers: dict | None = None,
    at_any_hour: bool = False,
) -> list[Notification]:
    """Unsaved outbox rows, one per recipient.

    `urgent` rows are never folded or capped (notifications.services._apply_limits);
    `at_any_hour` rows are not held for the recipient's working hours either (a statutory
    deadline does not wait for the morning).

    The subject is rendered now; the bodies are rendered by the worker at
    delivery from `context`, a JSON snapshot taken now (so the message says
    what was true when it was decided). Keeping rendering out of the deciding
    transaction is what lets a sweep queue thousands of notices a second.
    """
    now = now or timezone.now()
    quiet_hours = not at_any_hour and DeliverySettings.current().respect_working_hours
    shared = {
        "incident": incident_snapshot(incident),
        "limited": incident.is_security,
        "subject_line": subject_line(incident),
        **context,
    }
    url = shared["incident"]["url"]
    # Instants passed as datetimes are written in each recipient's zone: one
    # snapshot and one subject per zone, not per recipient. The UTC snapshot, made
    # first, tells whether there is any: without, it is every recipient's.
    instants: list = []
    in_utc = _in_zone(shared, "UTC", instants)
    zoned = bool(instants)
    by_zone: dict[str, tuple[dict, str]] = {}
    # What every row of the call shares is given once; each row adds its own.
    new_row = Notification.unsaved_maker(incident=incident, kind=kind, urgent=urgent)
    headers = headers or {}
    with_id = headers_with_message_id(headers)
    rows = []
    for recipient in recipients:
        zone = (recipient.time_zone or "UTC") if zoned else "UTC"
        if zone not in by_zone:
            snapshot = in_utc if zone == "UTC" else _in_zone(shared, zone, [])
            by_zone[zone] = (
                snapshot,
                render_subject(kind, snapshot),
            )
        snapshot, subject = by_zone[zone]
        channel = recipient.channel
        payload: dict = {}
        if channel == Channel.PAGERDUTY:
            payload = {
                "event_action": pagerduty_action,
                "summary": subject[:1024],
                "severity": PD_SEVERITY.get(incident.severity, "warning"),
                "source": "escalation-portal",
                "custom_details": {"reference": incident.reference, "url": url},
                # PagerDuty groups every event of an incident under its reference.
                "dedup_key": incident.reference,
            }
        elif channel == Channel.WEBHOOK:
            payload = {
                "kind": kind,
                "reference": incident.reference,
                "severity": incident.severity,
                "subject": subject,
                "url": url,
            }
        row_headers = with_id() if channel == Channel.EMAIL else dict(headers)
        dedup = f"{dedup_base}:{channel}:{recipient.address.lower()}"
        rows.append(
            new_row(
                channel=channel,
                recipient=recipient.address,
                recipient_user_id=recipient.user_id,
                subject=subject[:255],
                context=snapshot,
                payload=payload,
                dedup_key=dedup[:255],
                headers=row_headers,
                message_id=row_headers.get("Message-ID", ""),
                next_attempt_at=recipient.not_before(incident.severity, now)
                if quiet_hours
                else now,
            )
        )
    return rows


def sample_context(kind: str, incident) -> dict:
    """Plausible values for previewing a kind's templates against a real incident."""

    clocks = incident_clocks(incident)
    account = incident.account if incident.account_id else None
    clock = clocks[0] if clocks else None
    return {
        "escalation": {
            "trigger_display": "SLA threshold",
            "sla_percent": "100.0",
            "clock": "resolution",
            "reason": "Resolution clock reached 100%.",
            "decision_sought": "Approve the rollback?",
            "resolution_summary": "Rolled back; monitoring for a day.",
        },
        "level": {"label": f"L{incident.current_level + 1}", "name": "Next level"},
        "from_label": f"L{incident.current_level}",
        "to_label": f"L{incident.current_level + 1}",
        "note_items": [["Steps taken", "Checked logs; restarted the consumer."]],
        "incident_channel": str(incident.channel),
        "elapsed": "12h (50% of the resolution SLA of 24h)",
        "decision": {
            "text": "Roll back now; fix forward tomorrow.",
            "by": "Maria Garcia",
            "at": "",
        },
        "levels": [f"L{incident.current_level + 1}"],
        "resolution_summary": "Rolled back; monitoring for a day.",
        "clock": clock_snapshot(clock)
        if clock
        else {"label": "Resolution", "target": "8h", "due": "", "explanation": ""},
        "percent": 75,
        # A missed status update (update_overdue).
        "since": when(timezone.now()),
        "owner": "Sam Rivera",
        "to_lead": False,
        "reasons": ["Customer-facing incident: product and customer success informed"],
        "reason": "Bounced between levels 4 times (limit 3).",
        # customer messages
        "customer": {
            "name": account.primary_contact_name if account else "Jane Customer",
            "account": account.name if account else "Acme Corp",
            "time_zone": str(account.time_zone) if account else "UTC",
        },
        "status_url": settings.SITE_URL + "/status/preview-only/",
        "link_days": settings.CUSTOMER_LINK_DAYS,
        "occasion": "escalated",
        "team": "Specialist Support (L2)",
        "done": [
            "Reviewed the complete case history",
            "Assigned it to Specialist Support (L2)",
            "Established priority tracking at high priority",
        ],
        "contact": {
            "name": "Specialist Support team",
            "title": "Specialist Support",
            "email": "advanced-support@example.com",
            "phone": "+1-555-0100",
        },
        "update_every": "4 hours",
        "next_update": "Monday 30 November 2026, 16:00 UTC",
        "expected_response": "Monday 30 November 2026, 14:00 UTC",
        "update": {"text": "We found the cause and are testing a fix.", "at": "Monday 12:00 UTC"},
        "reply": {"from": "jane@customer.example", "via": "email", "text": "Still failing."},
        "resolved_at": "Monday 30 November 2026, 17:10 UTC",
        "prevention": {"actions": 3, "permanent_fixes": 1},
        "ratings": [
            {"value": value, "label": label, "url": f"{settings.SITE_URL}/status/preview-only/"}
            for value, label in RATINGS
        ],
        # Follow-up reminders (reminders.py) and war-room roles.
        "reminder": "due_soon",
        "due": when(timezone.now()),
        "review_status": "Draft",
        "review_url": incident_url(incident),
        "item": {
            "title": "Add connection pool monitoring",
            "owner": "Sam Rivera",
            "due": when(timezone.now()),
            "due_date": timezone.localdate().isoformat(),
            "status": "Open",
        },
        "case": {
            "vendor": "AWS",
            "case_id": "171234567800123",
            "severity": "Production system down",
            "contact": "Dana (TAM)",
            "contact_email": "dana@aws.example",
            "status": "Waiting on the vendor",
            "expected": when(timezone.now()),
            "last_update": "",
        },
        "role": "Incident commander",
        "channel": "#inc-payments",
        "cadence_minutes": 30,
        "late_minutes": 12,
        "note": "",
        # The policy's notices (policy_notices) and an escalation contact's notice.
        "notice": {"reason": "Executive notification: Immediate", "within": ""},
        # On-call pages (engine.paging).
        "page": {
            "schedule": "Engineering primary/secondary",
            "step": 1,
            "who": "Ben Okafor",
            "level": "L2 · Engineering on-call",
            "waiting_since": when(timezone.now()),
        },
    }


# --- the customer's side -----------------------------------------------------------------------

# How often customers hear from us when the policy sets no status-update cadence
# (seed 004: Sev 1 every 30-60 minutes, Sev 2 every 4 hours, Sev 3 daily).
DEFAULT_UPDATE_CADENCE = {
    "P0": timedelta(hours=1),
    "P1": timedelta(hours=4),
    "P2": timedelta(days=1),
}


def customer_recipient(incident) -> Recipient | None:
    """The account's contact, when a customer should hear about this incident.

    Security incidents never email customers automatically (seed 000: limited
    distribution; the security team decides what is said and when).
    """
    account = incident.account if incident.account_id else None
    if account is None or not account.primary_contact_email or incident.is_security:
        return None
    return Recipient(
        "email",
        account.primary_contact_email,
        name=account.primary_contact_name,
        time_zone=str(account.time_zone),
    )


def in_words(value: timedelta) -> str:
    """4 hours, 30 minutes, 1 day 2 hours: how a customer reads a cadence."""
    minutes = int(value.total_seconds() // 60)
    parts = []
    for size, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts) or "less than a minute"


def customer_time(value: datetime | None, zone: str) -> str:
    """A time as the customer reads it: their zone, named."""
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    local = timezone.localtime(value, ZoneInfo(zone))
    return f"{local:%A %-d %B %Y, %H:%M} {local.tzname()}"


def first_customer_message_ids(incident_ids) -> dict[int, str]:
    """The Message-ID of each incident's first customer email, where there is one:
    later customer mail answers it, so mail clients keep one thread."""
    first = (
        Notification.objects.filter(
            AnyOf(F("incident_id"), incident_ids), kind__in=CUSTOMER_KINDS, channel=Channel.EMAIL
        )
        .exclude(message_id="")
        .values("incident_id")
        .annotate(first=Min("id"))
        .values("first")
    )
    return dict(Notification.objects.filter(id__in=first).values_list("incident_id", "message_id"))


def _thread_headers(incident, first: str | None = None) -> dict:
    """Headers that put a customer email in the incident's thread. `first`: the
    thread's first Message-ID if already looked up ("" for none)."""
    if first is None:
        first = first_customer_message_ids([incident.pk]).get(incident.pk, "")
    return {"In-Reply-To": first, "References": first} if first else {}


def _customer_context(incident, recipient: Recipient) -> dict:

    return {
        "customer": {
            "name": recipient.name,
            "account": incident.account.name,
            "time_zone": recipient.time_zone,
        },
        "status_url": status_url(incident_id=incident.pk, email=recipient.address),
        "link_days": settings.CUSTOMER_LINK_DAYS,
    }


def _point_of_contact(incident, level) -> dict:
    """Who the customer deals with: the assignee, else the level's own contacts."""
    contacts = dict(level.contacts) if level is not None else {}
    if incident.assignee_id and incident.assignee.email:
        return {
            "name": incident.assignee.get_full_name() or str(incident.assignee),
            "title": level.name if level is not None else "",
            "email": incident.assignee.email,
            "phone": contacts.get("phone", ""),
        }
    return {
        "name": f"{level.name} team" if level is not None else "Support team",
        "title": level.name if level is not None else "",
        "email": contacts.get("email", ""),
        "phone": contacts.get("phone", ""),
    }


def customer_acknowledgement(
    *,
    incident,
    occasion: str,
    dedup_base: str,
    now: datetime,
    readings,
    first_message_id: str | None = None,
) -> list[Notification]:
    """Seed 003's "Escalation Acknowledged" email (and its twin when a customer's
    request is opened): what has been done, the point of contact, the update
    cadence, the next update and the new expected response time, in the
    customer's time zone, with a signed link to their status page.

    `readings`: the incident's clocks at `now`, as escalations.sla.services.sla_refresh
    returns them (the caller has just stored their summary). `first_message_id`: its
    first customer email's Message-ID ("" for none) when the caller looked it up for
    many incidents at once (first_customer_message_ids)."""
    recipient = customer_recipient(incident)
    if recipient is None:
        return []

    level = None
    if incident.policy_id is not None:
        try:
            level = policy_spec(incident.policy).level(incident.current_level)
        except KeyError:
            level = None
    by_clock = {reading.clock: reading for reading in readings}
    response_clock = by_clock.get("handoff_ack") or by_clock.get("first_response")
    expected = response_clock.due_at if response_clock and response_clock.met_at is None else None
    update = by_clock.get("update")
    if update is not None and update.due_at is not None:
        cadence, next_update = update.target, update.due_at
    else:
        cadence = DEFAULT_UPDATE_CADENCE.get(incident.severity)
        next_update = now + cadence if cadence else None
    team = f"{level.name} ({level.label})" if level is not None else "our support team"
    priority = _PRIORITY_WORDS.get(incident.severity) or Severity(incident.severity).word.lower()
    if occasion == "escalated":
        done = [
            "Reviewed the complete case history",
            f"Assigned it to {team}",
            f"Established priority tracking at {priority} priority",
        ]
    else:
        done = [
            f"Logged your request as {incident.reference}",
            f"Assigned it to {team}",
            f"Set its priority to {priority}",
        ]
    context = {
        **_customer_context(incident, recipient),
        "occasion": occasion,
        "team": team,
        "done": done,
        "contact": _point_of_contact(incident, level),
        "update_every": in_words(cadence) if cadence else "",
        "next_update": customer_time(next_update, recipient.time_zone),
        "expected_response": customer_time(expected, recipient.time_zone),
    }
    return build(
        kind="customer_ack",
        incident=incident,
        recipients=[recipient],
        context=context,
        dedup_base=dedup_base,
        urgent=True,
        now=now,
        headers=_thread_headers(incident, first_message_id),
    )


def customer_update(*, incident, event, now: datetime) -> list[Notification]:
    """A public update, emailed to the customer in the incident's thread."""
    recipient = customer_recipient(incident)
    if recipient is None:
        return []
    context = {
        **_customer_context(incident, recipient),
        "update": {"text": event.body, "at": customer_time(event.at, recipient.time_zone)},
    }
    return _in_customer_thread(
        "customer_update", incident, recipient, context, key=event.pk, now=now
    )


def _in_customer_thread(kind, incident, recipient, context, *, key, now) -> list[Notification]:
    """A message to the customer in the incident's own mail thread, once per `key`."""
    return build(
        kind=kind,
        incident=incident,
        recipients=[recipient],
        context=context,
        dedup_base=f"{kind}:{key}",
        urgent=True,
        now=now,
        headers=_thread_headers(incident),
    )


RATINGS = ((5, "Excellent"), (4, "Good"), (3, "Fair"), (2, "Poor"), (1, "Very poor"))


def customer_resolution(*, incident, event, now: datetime) -> list[Notification]:
    """The incident is resolved: tell the customer in the incident's thread, with the
    status link and the 1-5 rating (each a link to the status page with it chosen).

    The resolution note is the team's own words and stays internal; the customer
    reads the public updates on the status page."""
    recipient = customer_recipient(incident)
    if recipient is None:
        return []
    context = _customer_context(incident, recipient)
    context.update(
        {
            "resolved_at": customer_time(event.at, recipient.time_zone),
            "ratings": [
                {"value": value, "label": label, "url": f"{context['status_url']}?rating={value}"}
                for value, label in RATINGS
            ],
        }
    )
    return _in_customer_thread(
        "customer_resolved", incident, recipient, context, key=event.pk, now=now
    )


def customer_follow_up(*, review, now: datetime) -> list[Notification]:
    """Seed 004 Phase 4: "Follow up with customer on prevention": when the post-incident
    review is published, the customer hears, in the incident's thread, that it is done and
    how many preventive actions came of it (the review's own words stay internal). Once
    per review."""
    incident = review.incident
    recipient = customer_recipient(incident)
    if recipient is None:
        return []
    items = list(review.action_items.values_list("is_permanent_fix", flat=True))
    context = {
        **_customer_context(incident, recipient),
        "prevention": {"actions": len(items), "permanent_fixes": sum(items)},
    }
    return _in_customer_thread(
        "customer_follow_up", incident, recipient, context, key=review.pk, now=now
    )


# --- the policy's own notices (issue 19) -------------------------------------------------------

# Outbox rows of a policy notice rule: "policy_notice:<incident>:<rule key>:<channel>:<address>".
# (Until migration 0021, "notice:<incident>:<severity>:<position in the list>:...", which
# that migration rewrote.)
POLICY_NOTICE_KEY = "policy_notice"


def policy_notices(*, incident, now: datetime, opening: bool = False) -> list[Notification]:
    """The policy's notices for the incident's severity (at its opening, also those for
    every severity): seed 004's "Executive notification: Immediate" and "Manager
    notification: Within 1 hour", seed 002's "Team Chat: Immediate notification to
    support team" and its P0 paging levels 1-4 at once.

    Once per incident and rule (the dedup key, by the rule's content: a later policy
    version that inserts rules before it changes nothing): deciding again (a second
    raise to the severity, a retried task) adds nothing. A rule `within` zero goes at once, urgent;
    a later one may wait for the recipient's working hours, never beyond `within`. A
    level that took the incident's handoff at this instant has its escalation notice
    already and is not told twice."""
    if incident.policy_id is None:
        return []
    spec = policy_spec(incident.policy)
    numbers = {level.number for level in spec.levels}
    just_handed = incident.current_level if incident.handoff_at == now else None
    rows: list[Notification] = []
    for rule in spec.notices_for(incident.severity, opening=opening):
        channels = list(rule.channels) or channels_for(incident.severity)
        recipients = [
            recipient
            for number in rule.levels
            if number in numbers and number != just_handed
            for recipient in reach.level_recipients(spec.level(number), channels=channels)
        ]
        if rule.groups and "email" in channels:
            recipients += reach.group_recipients(rule.groups)
        built = build(
            kind="policy_notice",
            incident=incident,
            recipients=reach.told(incident, recipients),
            context={
                "notice": {
                    "reason": rule.reason,
                    "within": in_words(rule.within) if rule.within else "",
                }
            },
            dedup_base=f"{POLICY_NOTICE_KEY}:{incident.pk}:{rule.key}",
            urgent=not rule.within or incident.severity in ("P0", "P1"),
            now=now,
        )
        for row in built:
            row.next_attempt_at = min(row.next_attempt_at, now + rule.within)
        rows += built
    return rows
