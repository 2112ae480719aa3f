"""One move between levels, in the parts both paths share: the per-incident move
(`services._move`, for people, triggers and the reference sweep) and the set-based
sweep (`storm`), which makes hundreds at once. Each part either builds rows or changes
an incident in memory; the callers decide how the rows reach the database.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone, translation

from escalations.engine import paging
from escalations.engine.audience import Audience
from escalations.models import Escalation, Page, ReasonCategory, Trigger
from escalations.notices import compose as notices
from escalations.policies import reach
from escalations.rules.clocks import CLOCK_LABELS, SLA_CLOCKS, ClockReading, move_measure
from escalations.rules.durations import humanize
from escalations.rules.handoff import HandoffContext, field_label
from escalations.rules.moves import level_move
from escalations.rules.spec import DEADLINE_CLOCK, MAXIMUM_CLOCKS, TIME_AT_LEVEL_CLOCK, WorkflowSpec
from incidents.models import AccountTier, EventKind, Incident, IncidentEvent, Visibility
from incidents.rules import Severity, Status
from portal.bulk import unsaved
from portal.lookups import AnyOf

# The incident columns a move changes.
MOVE_FIELDS = (
    "bounces",
    "level_moves",
    "current_level",
    "peak_level",
    "level_entered_at",
    "level_clock_started_at",
    "assignee",
    "handoff_at",
    "handoff_acknowledged_at",
    "flagged_for_review",
    "review_reason",
)
# Who hears that an incident bounced too often.
FLAG_READERS = ("Team Lead", "Engineering Manager")
# The timeline entries the handoff note lists as steps taken, newest STEPS_SHOWN of them.
STEP_KINDS = (EventKind.COMMENT, EventKind.PUBLIC_UPDATE)
STEPS_SHOWN = 15


def level_label(spec: WorkflowSpec, number: int) -> str:
    try:
        return spec.level(number).title
    except KeyError:
        return f"L{number}"


def most_urgent(readings: list[ClockReading]) -> ClockReading | None:
    """The SLA clock furthest along, for a move that names no clock of its own."""
    live = [r for r in readings if r.met_at is None and r.clock in SLA_CLOCKS]
    return max(live, key=lambda r: r.percent) if live else None


def step_line(at: datetime, body: str) -> str:
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M} {body}"


def move_history(ids: list[int]) -> dict[int, list[tuple]]:
    """Each incident's moves so far as (from_level, to_level, at), oldest first: the
    bounce check and the first arrival read them. One query for all of `ids`."""
    history = defaultdict(list)
    for incident_id, *move in (
        Escalation.objects.filter(AnyOf(F("incident_id"), ids))
        .order_by("at", "id")
        .values_list("incident_id", "from_level", "to_level", "at")
    ):
        history[incident_id].append(tuple(move))
    return history


def recent_steps(ids: list[int]) -> dict[int, list[str]]:
    """Each incident's newest STEPS_SHOWN comments and public updates, oldest first,
    as the handoff note lists them (step_line). One query for all of `ids`."""
    newest_first = Window(
        RowNumber(), partition_by=[F("incident_id")], order_by=[F("at").desc(), F("id").desc()]
    )
    rows = (
        IncidentEvent.objects.filter(AnyOf(F("incident_id"), ids), kind__in=STEP_KINDS)
        .annotate(rank=newest_first)
        .filter(rank__lte=STEPS_SHOWN)
        .values_list("incident_id", "at", "id", "body")
    )
    steps = defaultdict(list)
    for incident_id, at, _id, body in sorted(rows, key=lambda row: (row[0], row[1], row[2])):
        steps[incident_id].append(step_line(at, body))
    return steps


# Choice labels by (choices class, value, language): translating a lazy label costs more
# than anything else in a level notice's context or a handoff note's account line, and a
# storm's notices and notes all ask for one.
_LABELS: dict[tuple[type, str, str | None], str] = {}


def _label(choices: type, value: str) -> str:
    """str(choices(value).label) in the active language, translated once per language."""
    key = (choices, value, translation.get_language())
    label = _LABELS.get(key)
    if label is None:
        label = _LABELS[key] = str(choices(value).label)
    return label


def tier_label(tier: str) -> str:
    return _label(AccountTier, tier)


def handoff_context(
    incident: Incident,
    spec: WorkflowSpec,
    to_level: int,
    readings: list[ClockReading],
    steps: Sequence[str],
) -> HandoffContext:
    """Everything the sender would otherwise retype: facts, SLA position, steps logged.
    `readings`: the clocks before the move; `steps`: step_line()s, oldest first.

    Labels come from the choices' enums: get_FOO_display() translates every choice to
    find one, a cost a storm pays thousands of times."""
    resolution = next((r for r in readings if r.clock == "resolution"), None)
    elapsed = ""
    if resolution is not None:
        elapsed = (
            f"{humanize(resolution.elapsed)} ({resolution.percent:.0f}% of the "
            f"resolution SLA of {humanize(resolution.target)})"
        )
    account = {}
    if incident.account_id:
        a = incident.account
        account = {
            "account": a.name,
            "tier": tier_label(a.tier),
            "health score": "" if a.health_score is None else str(a.health_score),
            "ARR": "" if a.arr is None else f"${a.arr:,.0f}",
            "primary contact": a.primary_contact_email,
        }
    impact = []
    for flag, words in (
        ("is_production_outage", "production outage"),
        ("is_security", "security incident"),
        ("is_compliance", "compliance impact"),
        ("is_data_loss", "data loss"),
        ("is_legal_exposure", "legal exposure"),
        ("is_pr_crisis", "PR crisis"),
        ("is_customer_facing", "customer-facing"),
    ):
        if getattr(incident, flag):
            impact.append(words)
    if incident.users_affected:
        impact.append(f"{incident.users_affected} users affected")
    if incident.revenue_impact:
        impact.append(f"estimated revenue impact ${incident.revenue_impact:,.0f}")
    return HandoffContext(
        reference=incident.reference,
        title=incident.title,
        severity=Severity(incident.severity).label,
        channel=str(incident.channel),
        status=Status(incident.status).label,
        level_from=level_label(spec, incident.current_level),
        level_to=level_label(spec, to_level),
        description=incident.description,
        elapsed=elapsed,
        account=account,
        impact=impact,
        steps=list(steps),
        root_cause=incident.root_cause,
    )


def escalation_record(
    incident: Incident,
    *,
    to_level: int,
    trigger: str,
    reason: str,
    note: dict,
    actor,
    now: datetime,
    category: str = ReasonCategory.AUTOMATIC,
    decision_sought: str = "",
    clock: str = "",
    sla_percent: float | None = None,
    notify_groups: tuple[str, ...] = (),
    limited: bool = False,
) -> Escalation:
    """The unsaved record of a move from the incident's current level (built without
    Model.__init__: a storm makes thousands)."""
    return unsaved(
        Escalation,
        {"incident": incident, "actor": actor if getattr(actor, "pk", None) else None},
        from_level=incident.current_level,
        to_level=to_level,
        trigger=trigger,
        category=category,
        reason=reason,
        note=note,
        decision_sought=decision_sought,
        at=now,
        clock=clock,
        sla_percent=None if sla_percent is None else Decimal(f"{sla_percent:.1f}"),
        notify_groups=list(notify_groups),
        limited_distribution=limited or incident.is_security,
    )


def apply_move(
    incident: Incident, spec: WorkflowSpec, escalation: Escalation, history: list[tuple]
) -> str:
    """Change the incident in memory as `escalation` moves it (store MOVE_FIELDS after).
    `history`: the earlier moves as (from_level, to_level, at), ordered by (at, id).
    Returns why the move flags the incident for review, or ""."""
    now = escalation.at
    move = level_move(
        from_level=escalation.from_level,
        to_level=escalation.to_level,
        previous_move_up=(history[-1][1] > history[-1][0]) if history else None,
        bounces=incident.bounces,
        level_moves=incident.level_moves,
        peak_level=incident.peak_level,
        already_flagged=incident.flagged_for_review,
        ping_pong_limit=spec.triggers.ping_pong_limit,
    )
    incident.bounces = move.bounces
    incident.level_moves = move.level_moves
    incident.current_level = escalation.to_level
    incident.peak_level = move.peak_level
    incident.level_entered_at = now
    incident.level_clock_started_at = first_arrival(incident, history, escalation)
    if move.up:
        # The receiving level owns it now (seed 001): whoever acknowledges takes it.
        # By its id: the relation's setter (checks, caches) cost a storm more than the
        # rest of the move; the cached assignee goes with the id, none is read again.
        incident.assignee_id = None
        incident.handoff_at = now
    else:
        incident.handoff_at = None
    incident.handoff_acknowledged_at = None
    if move.flag_reason:
        incident.flagged_for_review = True
        incident.review_reason = move.flag_reason
    return move.flag_reason


def first_arrival(incident: Incident, history: list[tuple], escalation: Escalation) -> datetime:
    """When the incident first reached the level `escalation` moves it to: a level's
    own budget (clock_start: level) counts from there, so bouncing away and back
    never buys a fresh clock (seed 001, "SLA clock games"). `history`: the earlier
    moves as (from_level, to_level, at), ordered by (at, id)."""
    level = escalation.to_level
    # In (at, id) order: the stable sort keeps the new move after earlier ones at its time.
    records = sorted(
        [*history, (escalation.from_level, level, escalation.at)], key=lambda record: record[2]
    )
    if records[0][0] == level:
        return incident.opened_at  # it started at this level
    return next(at for _from, to, at in records if to == level)


def move_events(
    incident: Incident,
    spec: WorkflowSpec,
    escalation: Escalation,
    flag_reason: str,
    page: Page | None = None,
) -> list[dict]:
    """The timeline rows of a saved move (incident_events_append_many's form), with
    its first page when the level it moves to names an on-call schedule."""
    sla_percent = escalation.sla_percent
    rows = [
        {
            "incident_id": incident.pk,
            "kind": EventKind.ESCALATED if escalation.is_up else EventKind.DE_ESCALATED,
            "actor_id": escalation.actor_id,
            "at": escalation.at,
            "body": escalation.reason,
            "visibility": Visibility.INTERNAL,
            "data": {
                "from": level_label(spec, escalation.from_level),
                "to": level_label(spec, escalation.to_level),
                "trigger": escalation.trigger,
                "category": escalation.category,
                "escalation": escalation.pk,
                "sla_percent": None if sla_percent is None else round(float(sla_percent), 1),
            },
        }
    ]
    if flag_reason:
        rows.append(
            {
                "incident_id": incident.pk,
                "kind": EventKind.FLAGGED,
                "at": escalation.at,
                "body": flag_reason,
                "visibility": Visibility.INTERNAL,
                "data": {"bounces": incident.bounces},
            }
        )
    if page is not None:
        rows.append(
            paging.page_event(incident, page, escalation, level_label(spec, escalation.to_level))
        )
    return rows


def first_page(
    incident: Incident, spec: WorkflowSpec, escalation: Escalation, now: datetime, audience
) -> Page | None:
    """The unsaved first page of a saved move up into a level with an on-call schedule:
    whoever is on call now (None in the row: nobody, so the whole team hears)."""
    if not escalation.is_up:
        return None
    level = spec.level(escalation.to_level)
    if not level.schedule:
        return None
    return paging.first_page(
        escalation,
        level,
        audience.rota.on_call(level.schedule, now),
        paging.page_after(spec, incident.severity, level),
        now,
    )


def trigger_display(trigger: str) -> str:
    return _label(Trigger, trigger)


def notice_measure(incident: Incident, spec: WorkflowSpec, escalation: Escalation) -> dict:
    """The escalation notice's trigger and clock, in words (move_measure): a move by a
    level's time limit or a level deadline is triggered by that limit, not "SLA threshold"."""
    trigger = trigger_display(escalation.trigger)
    clock = escalation.clock
    if escalation.sla_percent is None:
        return {"trigger_display": trigger, "measure_heading": "", "measure": ""}
    limit = None
    with contextlib.suppress(KeyError):
        if clock == TIME_AT_LEVEL_CLOCK:
            limit = spec.level(escalation.from_level).escalate_after
        elif clock == DEADLINE_CLOCK:
            deadline = spec.deadline_for(incident.severity)
            limit = deadline.within if deadline else None
        elif clock in MAXIMUM_CLOCKS:
            limit = spec.targets(incident.severity, escalation.from_level).for_clock(clock)
    heading, measure = move_measure(
        clock,
        str(escalation.sla_percent),
        from_level=escalation.from_level,
        to_level=escalation.to_level,
        limit=limit,
    )
    if escalation.trigger == Trigger.SLA and clock and clock not in SLA_CLOCKS:
        trigger = CLOCK_LABELS.get(clock, trigger)
    return {"trigger_display": trigger, "measure_heading": heading, "measure": measure}


def move_notices(
    incident: Incident,
    spec: WorkflowSpec,
    escalation: Escalation,
    override_method: str,
    now: datetime,
    audience: Audience,
    page: Page | None = None,
) -> list:
    """The receiving level's notices of a saved move (unsaved outbox rows). With a first
    `page` that found someone on call, they go to that person and the team channel."""
    level = spec.level(escalation.to_level)
    channels = notices.channels_for(incident.severity, override_method)
    sla_percent = escalation.sla_percent
    context = {
        "escalation": {
            **notice_measure(incident, spec, escalation),
            "sla_percent": None if sla_percent is None else str(sla_percent),
            "clock": escalation.clock,
            "reason": escalation.reason,
            "decision_sought": escalation.decision_sought,
            "resolution_summary": escalation.note.get("resolution_summary", ""),
        },
        "level": notices.level_snapshot(level),
        "from_label": level_label(spec, escalation.from_level),
        "to_label": level_label(spec, escalation.to_level),
        "note_items": [
            (field_label(k), str(v))
            for k, v in escalation.note.items()
            if k not in ("generated", "facts")
        ],
    }
    # Seed 000's escalation template: "Channel", "Time Elapsed: 8 hours (50% of SLA)",
    # as the handoff's facts had them when the move was decided.
    facts = escalation.note.get("facts") or {}
    context["incident_channel"] = facts.get("channel") or str(incident.channel)
    context["elapsed"] = facts.get("elapsed") or (
        f"{humanize(escalation.at - incident.opened_at)} since the opening"
    )
    kind = "escalation" if escalation.is_up else "de_escalation"
    if page is not None and page.person is not None:
        recipients = audience.on_call(level, page.person, channels)
    else:
        recipients = audience.level(level, channels)
    if escalation.notify_groups:
        recipients += audience.groups(escalation.notify_groups)
    if escalation.limited_distribution:
        recipients = reach.limited_to_readers(recipients, audience.security_readers(incident))
    return notices.build(
        kind=kind,
        incident=incident,
        recipients=recipients,
        context=context,
        dedup_base=f"escalation:{escalation.pk}",
        urgent=incident.severity in ("P0", "P1"),
        now=now,
    )


def flag_notices(incident: Incident, now: datetime, audience: Audience) -> list:
    """Team leads and engineering managers hear that an incident bounced too often."""
    return notices.build(
        kind="review_flag",
        incident=incident,
        recipients=audience.groups(FLAG_READERS),
        context={"reason": incident.review_reason},
        dedup_base=f"flag:{incident.pk}",
        urgent=False,
        now=now,
    )


def decision_notices(
    incident: Incident, spec: WorkflowSpec, escalation: Escalation, now: datetime
) -> list:
    """Seed 000 step 5, "Communicate decision to team": the level that escalated (its
    team), whoever escalated and the assignee hear the decision (not the decider), once
    per escalation."""
    audience = Audience()
    # A decision is news, not a page: chat and email as the severity asks, never paging.
    channels = [c for c in notices.channels_for(incident.severity) if c != "pagerduty"]
    recipients = []
    with contextlib.suppress(KeyError):  # a level the policy's current version dropped
        recipients = audience.level(spec.level(escalation.from_level), channels)
    for user in (escalation.actor, incident.assignee):
        recipients += reach.user_recipient(user)
    decided_by = escalation.decision_by
    if decided_by is not None:
        recipients = [r for r in recipients if r.user_id != decided_by.pk]
    return notices.build(
        kind="decision",
        incident=incident,
        recipients=reach.told(incident, recipients, audience.security_readers),
        context={
            "decision": {
                "text": escalation.decision_made,
                "by": (decided_by.get_full_name() or str(decided_by)) if decided_by else "",
                "at": escalation.decision_at,
            },
            "from_label": level_label(spec, escalation.from_level),
            "to_label": level_label(spec, escalation.to_level),
        },
        dedup_base=f"decision:{escalation.pk}",
        urgent=incident.severity in ("P0", "P1"),
        now=now,
    )


def thanks_notices(
    incident: Incident,
    spec: WorkflowSpec,
    de_escalation: Escalation,
    closed: Sequence[Escalation],
    now: datetime,
) -> list:
    """Seed 000 De-Escalation: "Notify escalated party of resolution; Thank them for their
    involvement; Summarize outcome". The levels the `closed` escalations had brought the
    incident to, and the people who took or decided them, hear it once."""
    audience = Audience()
    levels = sorted({e.to_level for e in closed if e.to_level > de_escalation.to_level})
    recipients = []
    for number in levels:
        with contextlib.suppress(KeyError):  # a level a later version dropped
            recipients += audience.level(spec.level(number), ["email"])
    for escalation in closed:
        for user in (escalation.acknowledged_by, escalation.decision_by):
            recipients += reach.user_recipient(user)
    return notices.build(
        kind="de_escalation_thanks",
        incident=incident,
        recipients=reach.told(incident, recipients, audience.security_readers),
        context={
            "from_label": level_label(spec, de_escalation.from_level),
            "to_label": level_label(spec, de_escalation.to_level),
            "levels": [level_label(spec, number) for number in levels],
            "resolution_summary": de_escalation.note.get("resolution_summary", ""),
        },
        dedup_base=f"de_escalation_thanks:{de_escalation.pk}",
        urgent=False,
        now=now,
    )
