"""The escalation engine: every move between levels, every trigger, the SLA sweep.

All functions here are services: they lock the incident row, change it, append
the escalation record, timeline events and outbox rows, and recompute the
incident's next_check_at, in one transaction. Notifications go out after it
commits (see notifications.services).
"""

from __future__ import annotations

import gc
import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime
from types import SimpleNamespace
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, prefetch_related_objects

from escalations.engine import moves, paging
from escalations.engine.audience import Audience
from escalations.engine.storm import Crossing, escalate_crossings
from escalations.models import (
    ENGINEER_CATEGORIES,
    MANAGEMENT_CATEGORIES,
    Escalation,
    Page,
    ReasonCategory,
    ThresholdFiring,
    Trigger,
    TriggerFiring,
)
from escalations.notices import compose as notices
from escalations.policies import reach
from escalations.policies.services import policy_spec
from escalations.rules.clocks import (
    compute_clocks,
    due_thresholds,
    firing_key,
    interval_start,
    next_check_at,
)
from escalations.rules.durations import humanize
from escalations.rules.handoff import (
    CHECKLIST,
    HandoffContext,
    generated_note,
    missing_checklist,
    missing_fields,
)
from escalations.rules.spec import (
    MAXIMUM_CLOCKS,
    TIME_AT_LEVEL_CLOCK,
    TriggerSettings,
    WorkflowSpec,
)
from escalations.rules.triggers import (
    Hit,
    TriggerFacts,
    combined_target,
    crossing_target,
    evaluate,
    executive_hit,
    manager_request_hit,
)
from escalations.sla.services import STATUS_EVENTS, clock_columns, incident_facts, sla_refresh
from incidents.models import EventKind, Incident, IncidentEvent, Visibility
from incidents.permissions import allowed, require
from incidents.services import (
    incident_event_append,
    incident_events_append_many,
    incident_lock,
    incident_save,
    incidents_store_clocks_many,
    incidents_store_next_checks,
)
from notifications import rendering
from notifications.services import notifications_enqueue_many
from portal.bulk import append_dicts, loaded
from portal.clock import resolve_now
from portal.lookups import AnyOf
from portal.roles import DIRECTOR, EXECUTIVE, VP

log = logging.getLogger(__name__)


def _spec(incident: Incident) -> WorkflowSpec:
    if incident.policy_id is None:
        raise ValidationError("This incident has no escalation policy.")
    return policy_spec(incident.policy)


def handoff_context(
    incident: Incident, spec: WorkflowSpec, to_level: int, now: datetime
) -> HandoffContext:
    """Everything the sender would otherwise retype: facts, SLA position, steps logged."""
    readings = compute_clocks(incident_facts(incident), spec, now)
    steps = moves.recent_steps([incident.pk]).get(incident.pk, [])
    return moves.handoff_context(incident, spec, to_level, readings, steps)


# --- moves -------------------------------------------------------------------------------------


def _move(
    incident: Incident,
    spec: WorkflowSpec,
    *,
    to_level: int,
    trigger: str,
    reason: str,
    actor,
    now: datetime,
    note: dict | None = None,
    category: str = ReasonCategory.AUTOMATIC,
    decision_sought: str = "",
    clock: str = "",
    sla_percent: float | None = None,
    notify_groups: tuple[str, ...] = (),
    limited: bool = False,
    override_method: str = "",
) -> Escalation:
    """Move a locked incident to `to_level`: the record, the incident, the timeline, notices."""
    if sla_percent is None:
        urgent_clock = moves.most_urgent(compute_clocks(incident_facts(incident), spec, now))
        if urgent_clock is not None:
            sla_percent, clock = urgent_clock.percent, clock or urgent_clock.clock
    if note is None:
        required = spec.level(to_level).handoff_fields if to_level > incident.current_level else ()
        note = generated_note(required, handoff_context(incident, spec, to_level, now), reason)
    # The moves so far, oldest first, read once: the bounce check and the first arrival.
    history = moves.move_history([incident.pk]).get(incident.pk, [])
    escalation = moves.escalation_record(
        incident,
        to_level=to_level,
        trigger=trigger,
        reason=reason,
        note=note,
        actor=actor,
        now=now,
        category=category,
        decision_sought=decision_sought,
        clock=clock,
        sla_percent=sla_percent,
        notify_groups=notify_groups,
        limited=limited,
    )
    escalation.save()
    audience = Audience()
    page = moves.first_page(incident, spec, escalation, now, audience)
    if page is not None:
        page.save()
    flag_reason = moves.apply_move(incident, spec, escalation, history)
    incident_save(incident=incident, fields=moves.MOVE_FIELDS)
    incident_events_append_many(
        rows=moves.move_events(incident, spec, escalation, flag_reason, page)
    )
    readings = sla_refresh(incident=incident, now=now)
    rows = moves.move_notices(incident, spec, escalation, override_method, now, audience, page)
    if escalation.is_up:
        # Seed 001: tell the customer, with the new expected response time.
        rows += notices.customer_acknowledgement(
            incident=incident,
            occasion="escalated",
            dedup_base=f"customer_ack:escalation:{escalation.pk}",
            now=now,
            readings=readings,
        )
    if flag_reason:
        rows += moves.flag_notices(incident, now, audience)
    notifications_enqueue_many(rows)
    return escalation


def _check_open(incident: Incident) -> None:
    if not incident.is_open:
        raise ValidationError("Resolved and closed incidents are not escalated; reopen first.")


def allowed_categories(user) -> list[ReasonCategory]:
    """The reasons `user` may escalate for: engineer categories for everyone,
    management categories with the escalations.escalate_as_management permission."""
    management = allowed(user, "escalation.escalate_as_management")
    return ENGINEER_CATEGORIES + (MANAGEMENT_CATEGORIES if management else [])


def escalation_problems(
    *,
    incident: Incident,
    spec: WorkflowSpec,
    to_level: int | None,
    category: str | None,
    reason: str | None,
    note: dict,
    checklist: list[str],
) -> dict[str, list[str]]:
    """Everything wrong with an escalation request, by form field, all at once
    (the web form shows them in one round, not field by field)."""
    errors: dict[str, list[str]] = defaultdict(list)
    numbers = [level.number for level in spec.levels]
    if to_level not in numbers:
        errors["to_level"].append(f"This policy has no L{to_level}.")
    elif to_level <= incident.current_level:
        errors["to_level"].append("Pick a higher level; moving down is a de-escalation.")
    if category not in ENGINEER_CATEGORIES + MANAGEMENT_CATEGORIES:
        errors["category"].append("Pick why you escalate.")
    if not (reason or "").strip():
        errors["reason"].append("Say why you escalate.")
    if to_level in numbers and to_level > incident.current_level:
        for name in missing_fields(spec.level(to_level).handoff_fields, note):
            errors[f"note_{name}"].append(f"L{to_level} needs this in the handoff note.")
    for key in missing_checklist(checklist):
        errors[f"check_{key}"].append(f"Confirm: {CHECKLIST[key]}.")
    return dict(errors)


def _escalate_rule(category: str) -> str:
    return (
        "escalation.escalate_as_management"
        if category in MANAGEMENT_CATEGORIES
        else "escalation.escalate"
    )


@transaction.atomic
def incident_escalate(
    *,
    incident: Incident,
    to_level: int,
    actor,
    reason: str,
    category: str,
    note: dict,
    checklist: list[str],
    decision_sought: str = "",
    now: datetime | None = None,
) -> Escalation:
    """A person escalates, with the handoff note the target level requires.

    Engineer categories are for anyone who works the incident; management
    categories also need the escalations.escalate_as_management permission.
    """
    require(actor, _escalate_rule(category), incident=incident)
    now = resolve_now(now)
    incident = incident_lock(incident=incident)
    _check_open(incident)
    spec = _spec(incident)
    errors = escalation_problems(
        incident=incident,
        spec=spec,
        to_level=to_level,
        category=category,
        reason=reason,
        note=note,
        checklist=checklist,
    )
    if errors:
        raise ValidationError(errors)
    trigger = Trigger.MANAGEMENT if category in MANAGEMENT_CATEGORIES else Trigger.MANUAL
    facts = handoff_context(incident, spec, to_level, now).as_dict()
    note = {**{k: v.strip() if isinstance(v, str) else v for k, v in note.items()}, "facts": facts}
    decision_sought = decision_sought.strip() or str(note.get("decision_sought", ""))
    return _move(
        incident,
        spec,
        to_level=to_level,
        trigger=trigger,
        reason=reason.strip(),
        actor=actor,
        now=now,
        note=note,
        category=category,
        decision_sought=decision_sought,
    )


def pending_handoff(incident: Incident) -> Escalation | None:
    """The last move up into the current level, if not yet acknowledged."""
    escalation = incident.escalations.order_by("-at", "-id").first()
    if (
        escalation
        and escalation.is_up
        and escalation.acknowledged_at is None
        and (escalation.to_level == incident.current_level)
    ):
        return escalation
    return None


@transaction.atomic
def handoff_acknowledge(*, incident: Incident, actor, now: datetime | None = None) -> Escalation:
    """The receiving level takes the incident: it is theirs (and the acknowledger's)."""
    require(actor, "escalation.acknowledge_handoff", incident=incident)
    now = resolve_now(now)
    incident = incident_lock(incident=incident)
    escalation = pending_handoff(incident)
    if escalation is None:
        raise ValidationError("There is no handoff waiting for acknowledgement.")
    updated = Escalation.objects.filter(pk=escalation.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=actor
    )
    if not updated:
        raise ValidationError("Someone acknowledged this handoff already.")
    # Whoever acknowledged, nobody else is paged for this handoff.
    Page.objects.filter(escalation=escalation, next_due_at__isnull=False).update(next_due_at=None)
    incident.handoff_acknowledged_at = now
    if incident.assignee_id is None:
        incident.assignee = actor
    if incident.first_response_at is None:
        incident.first_response_at = now
    incident_save(
        incident=incident,
        fields=["handoff_acknowledged_at", "assignee", "first_response_at"],
    )
    incident_event_append(
        incident=incident,
        kind=EventKind.HANDOFF_ACKNOWLEDGED,
        actor=actor,
        at=now,
        data={
            "escalation": escalation.pk,
            "level": incident.current_level,
            "after_seconds": int((now - escalation.at).total_seconds()),
        },
    )
    sla_refresh(incident=incident, now=now)
    escalation.refresh_from_db()
    return escalation


@transaction.atomic
def escalation_record_decision(
    *, escalation: Escalation, actor, decision: str, now: datetime | None = None
) -> Escalation:
    """The receiver records the decision made (seed 000: decision_made, by, at)."""
    require(actor, "escalation.record_decision", incident=escalation.incident)
    now = resolve_now(now)
    if not decision.strip():
        raise ValidationError({"decision": "Write the decision."})
    incident = incident_lock(incident=escalation.incident)
    updated = Escalation.objects.filter(pk=escalation.pk, decision_at__isnull=True).update(
        decision_made=decision.strip(), decision_by=actor, decision_at=now
    )
    if not updated:
        raise ValidationError(
            "A decision was recorded for this escalation already; "
            "record a correction as a note or a new escalation."
        )
    incident_event_append(
        incident=incident,
        kind=EventKind.DECISION,
        actor=actor,
        at=now,
        body=decision.strip(),
        data={
            "escalation": escalation.pk,
            "after_seconds": int((now - escalation.at).total_seconds()),
        },
    )
    escalation.refresh_from_db()
    # Seed 000 step 5: "Communicate decision to team" (once: the decision is written once).
    notifications_enqueue_many(moves.decision_notices(incident, _spec(incident), escalation, now))
    return escalation


@transaction.atomic
def incident_de_escalate(
    *,
    incident: Incident,
    to_level: int,
    actor,
    reason: str,
    resolution_summary: str,
    now: datetime | None = None,
) -> Escalation:
    """Hand follow-up back to a lower level once the critical phase is over (seed 001)."""
    require(actor, "escalation.de_escalate", incident=incident)
    now = resolve_now(now)
    incident = incident_lock(incident=incident)
    spec = _spec(incident)
    errors = {}
    numbers = [level.number for level in spec.levels]
    if to_level not in numbers or to_level >= incident.current_level:
        errors["to_level"] = "Pick a lower level of this policy."
    if not resolution_summary.strip():
        errors["resolution_summary"] = "Summarise the outcome for the lower level."
    if not reason.strip():
        errors["reason"] = "Say why it goes back down."
    if errors:
        raise ValidationError(errors)
    # Close the escalations that brought it above `to_level`: written once.
    closing = list(
        Escalation.objects.filter(
            incident=incident, to_level__gt=to_level, de_escalated_at__isnull=True
        )
        .exclude(trigger=Trigger.DE_ESCALATION)
        .select_related("acknowledged_by", "decision_by")
    )
    Escalation.objects.filter(pk__in=[e.pk for e in closing]).update(
        de_escalated_at=now, resolution_summary=resolution_summary.strip()
    )
    note = {"resolution_summary": resolution_summary.strip()}
    de_escalation = _move(
        incident,
        spec,
        to_level=to_level,
        trigger=Trigger.DE_ESCALATION,
        reason=reason.strip(),
        actor=actor,
        now=now,
        note=note,
    )
    # Seed 000 De-Escalation: the escalated party hears the outcome, with thanks, once.
    notifications_enqueue_many(moves.thanks_notices(incident, spec, de_escalation, closing, now))
    return de_escalation


# --- triggers ---------------------------------------------------------------------------------


def _trigger_facts(incident: Incident, spec: WorkflowSpec) -> TriggerFacts:
    settings_ = spec.triggers
    same_root = same_account = burst = 0
    window_start = incident.opened_at - settings_.repeat_window
    recent = Incident.objects.filter(opened_at__gte=window_start, opened_at__lte=incident.opened_at)
    if incident.root_cause_key:
        same_root = recent.filter(root_cause_key=incident.root_cause_key).count()
    if incident.account_id:
        same_account = recent.filter(account_id=incident.account_id).count()
    if incident.component_id and incident.severity in settings_.burst_severities:
        burst = Incident.objects.filter(
            component_id=incident.component_id,
            severity__in=settings_.burst_severities,
            opened_at__gte=incident.opened_at - settings_.burst_window,
            opened_at__lte=incident.opened_at,
        ).count()
    return TriggerFacts(
        severity=incident.severity,
        level=incident.current_level,
        is_production_outage=incident.is_production_outage,
        is_security=incident.is_security,
        is_compliance=incident.is_compliance,
        is_data_loss=incident.is_data_loss,
        is_legal_exposure=incident.is_legal_exposure,
        is_pr_crisis=incident.is_pr_crisis,
        is_customer_facing=incident.is_customer_facing,
        users_affected=incident.users_affected,
        revenue_impact=float(incident.revenue_impact) if incident.revenue_impact else None,
        account_tier=incident.account.tier if incident.account_id else None,
        root_cause_key=incident.root_cause_key,
        same_root_cause=same_root,
        same_account=same_account,
        component_burst=burst,
    )


# Impacts a policy may route (`triggers.impact_routes`); the others (customer-facing, a
# data breach) only ever notify, by design, and are no gap in any policy.
ROUTABLE_IMPACTS = frozenset(flag for flag, _ in TriggerSettings().impact_routes)


def _no_route(hit: Hit, *, moved: bool) -> str:
    """What a manager reading the timeline needs of an impact the policy does not route
    (support-3-tier has no legal-exposure route): that it moved nobody (the incident may
    still move for another trigger firing with it), and who, if anyone, was told, so that
    they handle it by hand."""
    told = f"{', '.join(hit.notify_groups)} told" if hit.notify_groups else "nobody told"
    if moved:
        return f". This policy has no route for it: it moves nothing itself ({told})."
    return f". This policy has no route for it: the incident stays where it is ({told})."


def _fire(
    incident: Incident, spec: WorkflowSpec, hits: list[Hit], *, actor, now: datetime
) -> Escalation | None:
    """Record hits not fired before (once each), then make one move for all of them."""
    new_hits = []
    for hit in hits:
        try:
            with transaction.atomic():
                firing = TriggerFiring.objects.create(
                    incident=incident, trigger=hit.trigger, key=hit.key, fired_at=now
                )
        except IntegrityError:
            continue  # fired before: once per incident and key
        new_hits.append((hit, firing))
    if not new_hits:
        return None
    hits_now = [hit for hit, _ in new_hits]
    target = combined_target(hits_now) if incident.is_open else None
    for hit in hits_now:
        unrouted = (
            hit.trigger == Trigger.IMPACT
            and hit.key in ROUTABLE_IMPACTS
            and spec.triggers.route_for(hit.key) is None
        )
        data = {"trigger": hit.trigger, "key": hit.key, "target": hit.target}
        if unrouted:
            data["no_route"] = True
        incident_event_append(
            incident=incident,
            kind=EventKind.TRIGGER,
            at=now,
            body=hit.reason + (_no_route(hit, moved=target is not None) if unrouted else ""),
            data=data,
        )
    groups = tuple(dict.fromkeys(g for hit in hits_now for g in hit.notify_groups))
    if not incident.is_open and any(hit.trigger == Trigger.EXECUTIVE for hit in hits_now):
        # Nothing left to move (e.g. a low rating after resolution): management hears of it,
        # up to seed 003's VP (the last rung of its executive path).
        groups = tuple(dict.fromkeys((*groups, DIRECTOR, EXECUTIVE, VP)))
    if target is None:
        if groups:  # notify-only scenario (e.g. customer-facing, already high enough)
            notifications_enqueue_many(
                notices.build(
                    kind="trigger",
                    incident=incident,
                    recipients=reach.told(incident, reach.group_recipients(groups)),
                    context={"reasons": [h.reason for h in hits_now]},
                    dedup_base=f"trigger:{incident.pk}:{new_hits[0][1].pk}",
                    urgent=incident.severity in ("P0", "P1"),
                    now=now,
                )
            )
        return None
    mover = max(hits_now, key=lambda hit: hit.target or -1)
    escalation = _move(
        incident,
        spec,
        to_level=target,
        trigger=mover.trigger,
        reason="; ".join(hit.reason for hit in hits_now),
        actor=actor,
        now=now,
        notify_groups=groups,
        limited=any(hit.limited_distribution for hit in hits_now),
        override_method=next((h.notification for h in hits_now if h.notification), ""),
    )
    TriggerFiring.objects.filter(pk__in=[firing.pk for _, firing in new_hits]).update(
        escalation=escalation
    )
    return escalation


@transaction.atomic
def evaluate_incident_triggers(
    *, incident: Incident, now: datetime | None = None, actor=None
) -> Escalation | None:
    """Severity, impact, pattern and revenue triggers; call in the changing transaction."""
    now = resolve_now(now)
    if incident.policy_id is None or not incident.is_open:
        return None
    incident = incident_lock(incident=incident)
    spec = _spec(incident)
    return _fire(
        incident, spec, evaluate(spec, _trigger_facts(incident, spec)), actor=actor, now=now
    )


@transaction.atomic
def executive_escalate(
    *, incident: Incident, key: str, reason: str, actor=None, now: datetime | None = None
) -> Escalation | None:
    """Seed 003's executive triggers: CSAT below the policy's limit, an enterprise
    customer asking for a manager. Once per incident and key."""
    now = resolve_now(now)
    incident = incident_lock(incident=incident)
    if incident.policy_id is None:
        return None
    spec = _spec(incident)
    return _fire(
        incident,
        spec,
        [executive_hit(spec, incident.current_level, key, reason)],
        actor=actor,
        now=now,
    )


@transaction.atomic
def customer_requests_manager(
    *, incident: Incident, actor, note: str = "", now: datetime | None = None
) -> Escalation | None:
    require(actor, "escalation.manager_request", incident=incident)
    incident = incident_lock(incident=incident)
    if incident.account_id is None or incident.account.tier != "enterprise":
        raise ValidationError(
            "Only enterprise accounts go straight to management; escalate "
            "with the reason 'Customer requested escalation' instead."
        )
    if incident.policy_id is None:
        return None
    spec = _spec(incident)
    asked_before = TriggerFiring.objects.filter(
        incident=incident, trigger=Trigger.EXECUTIVE, key__startswith="manager_request:"
    ).count()
    reason = "Enterprise customer asked for a manager" + (
        f": {note.strip()}" if note.strip() else ""
    )
    hit = manager_request_hit(spec, incident.current_level, asked_before, reason)
    if hit is None:
        chain = spec.triggers.management_chain
        raise ValidationError(
            f"Every rung of the management chain has this request already ({chain[-1]} last)."
        )
    return _fire(incident, spec, [hit], actor=actor, now=resolve_now(now))


# --- the sweep --------------------------------------------------------------------------------


def _breach_reason(reading, instant, level: int) -> str:
    if reading.clock == TIME_AT_LEVEL_CLOCK:
        return (
            f"Time at level: not resolved within {humanize(reading.target)} of its arrival "
            f"at L{level} ({humanize(reading.elapsed)} passed)."
        )
    if reading.clock in MAXIMUM_CLOCKS:
        return f"{reading.label} passed: {humanize(reading.elapsed)} of {humanize(reading.target)}."
    if reading.to_level is not None:
        return (
            f"Level deadline: to be at L{reading.to_level} within {humanize(reading.target)} "
            f"of the opening ({humanize(reading.elapsed)} passed)."
        )
    return (
        f"{reading.label} clock reached {instant.percent}% "
        f"({humanize(reading.elapsed)} of {humanize(reading.target)})."
    )


def _top_level_event(incident, reading, instant, now) -> dict:
    return {
        "incident_id": incident.pk,
        "kind": EventKind.SLA_THRESHOLD.value,
        "at": now,
        "visibility": Visibility.INTERNAL.value,
        "body": _breach_reason(reading, instant, incident.current_level)
        + " Already at the top level: management is told.",
        "data": {
            "clock": reading.clock,
            "percent": instant.percent,
            "action": "escalate",
            "level": incident.current_level,
            "top_level": True,
        },
    }


def _not_the_war_room_commander(incident, recipients: list, audience: Audience) -> list:
    """A missed status update's warnings, less the incident's war-room commander: the
    war room reminds its commander of the same missed update at its own cadence
    (followup.reminders), so one missed update reminds each person once. Its owner (when
    someone else) and the level's lead are still warned by the update clock."""
    commander = audience.war_room_commander(incident.pk)
    if commander is None:
        return recipients
    return [r for r in recipients if r.user_id != commander]


def _threshold_notices(incident, spec, action, reading, percent, now, audience):
    context = {"clock": notices.clock_snapshot(reading), "percent": percent}
    base = f"threshold:{incident.pk}:{reading.clock}:{incident.current_level}:{percent}"
    interval = interval_start(reading)
    if interval is not None:
        # Once per interval between status updates, as the firing.
        base += f":{interval.timestamp():.0f}"
    urgent = incident.severity in ("P0", "P1")
    # A missed status update is a message of its own: a customer update is due (seed 004).
    kind = "update_overdue" if reading.clock == "update" else "sla_warning"
    if reading.clock == "update":
        context.update(
            since=reading.start, owner=str(incident.assignee) if incident.assignee else ""
        )
    level = spec.level(incident.current_level)
    if action == "warn_lead":
        # The level's lead (its Team Leads), after the owner; with none, the level.
        recipients = reach.lead_warning_recipients(
            audience.leads(level),
            assignee_id=incident.assignee_id,
            level_email=lambda: audience.level(level, ["email"]),
        )
        if reading.clock == "update":
            recipients = _not_the_war_room_commander(incident, recipients, audience)
        return notices.build(
            kind=kind,
            incident=incident,
            recipients=recipients,
            context={**context, "to_lead": True},
            dedup_base=base,
            urgent=urgent,
            now=now,
        )
    if action == "warn_assignee":
        recipients = reach.user_recipient(incident.assignee) or audience.level(level, ["email"])
        if reading.clock == "update":
            recipients = _not_the_war_room_commander(incident, recipients, audience)
        return notices.build(
            kind=kind,
            incident=incident,
            recipients=recipients,
            context=context,
            dedup_base=base,
            urgent=urgent,
            now=now,
        )
    # Warn the level the breach will go to (the policy's route, or a level deadline's
    # level), not merely the next.
    target = crossing_target(spec, incident.current_level, reading, account_tier=_tier(incident))
    if target is None:
        return []
    above = spec.level(target)
    context["level"] = notices.level_snapshot(above)
    return notices.build(
        kind="pre_escalation",
        incident=incident,
        recipients=audience.level(above, ["email"]),
        context=context,
        dedup_base=base,
        urgent=urgent,
        now=now,
    )


def _maximum_passed(incident, spec, reading, instant, by_clock, now, out) -> None:
    """A target's maximum passed (seed 002: "Target: 4 hours, Maximum: 8 hours"): the
    policy's maximum route is told, once per incident (the firing's own constraint), with
    a timeline entry; a move, if the route asks for one, is the caller's."""
    route = spec.maximum
    top = max(spec.levels, key=lambda level: level.number)
    recipients = (
        out["audience"].groups(route.notify)
        if route.notify
        else out["audience"].level(top, notices.channels_for(incident.severity))
    )
    recipients = reach.told(incident, recipients)
    target = by_clock[MAXIMUM_CLOCKS[reading.clock]].target
    told = ", ".join(route.notify) if route.notify else f"{top.label} {top.name}"
    out["events"].append(
        {
            "incident_id": incident.pk,
            "kind": EventKind.SLA_THRESHOLD.value,
            "at": now,
            "visibility": Visibility.INTERNAL.value,
            "body": f"{reading.label} passed ({humanize(reading.target)}; target "
            f"{humanize(target)}): {told} told.",
            "data": {
                "clock": reading.clock,
                "percent": instant.percent,
                "action": instant.action,
                "level": incident.current_level,
                "due_at": instant.at.isoformat(),
            },
        }
    )
    out["notifications"] += notices.build(
        kind="sla_maximum",
        incident=incident,
        recipients=recipients,
        context={"clock": notices.clock_snapshot(reading), "target": humanize(target)},
        dedup_base=f"maximum:{incident.pk}:{reading.clock}",
        urgent=True,
        now=now,
    )


def _tier(incident: Incident) -> str | None:
    """The incident's account tier (key accounts' breaches have a route of their own)."""
    return incident.account.tier if incident.account_id else None


def _sweep_incident(incident, events, fired, now, out, set_based) -> None:
    """Apply what is due on one claimed incident; bulk rows go to `out`."""
    spec = policy_spec(incident.policy)
    facts = incident_facts(incident, events)
    readings = compute_clocks(facts, spec, now)
    by_clock = {r.clock: r for r in readings}
    entered = incident.level_entered_at or incident.opened_at
    due = due_thresholds(
        readings, level=incident.current_level, level_entered_at=entered, fired=fired, now=now
    )
    escalate = None
    top_level = False
    for clock, instant in due:
        reading = by_clock[clock]
        interval = interval_start(reading)
        out["firings"].append(
            {
                "incident_id": incident.pk,
                "clock": clock,
                "level": incident.current_level,
                "percent": instant.percent,
                "action": instant.action,
                "due_at": instant.at,
                "fired_at": now,
                "interval_start": interval,
            }
        )
        fired.add(firing_key(clock, incident.current_level, instant.percent, interval))
        out["fired"] += 1
        if instant.action == "maximum":
            _maximum_passed(incident, spec, reading, instant, by_clock, now, out)
            target = crossing_target(spec, incident.current_level, reading)
            if target is not None:
                escalate = (reading, instant, target)
                break  # as an escalating threshold: the rest belongs to the old level
            continue
        if instant.action == "escalate" and clock == "handoff_ack":
            told, rows = paging.unacknowledged_contact(incident, spec, reading, now)
            out["events"] += told
            out["notifications"] += rows
        action = instant.action
        if action == "escalate":
            target = crossing_target(
                spec, incident.current_level, reading, instant, account_tier=_tier(incident)
            )
            if target is not None:
                escalate = (reading, instant, target)
                break  # the move changes the level; the rest belongs to the old one
            if instant.to_level is not None and instant.percent < 100:
                # The ladder's level is reached already (e.g. escalated by hand): the
                # seed's 50 % "warning to assignee" is what is left to do. (At 100 % with
                # no level above, management hears of the breach, as below.)
                action = "warn_assignee"
        if action == "escalate":
            # Already at the top: management is told, and the level's other due
            # thresholds still fire now (the level does not change).
            top_level = True
            out["events"].append(_top_level_event(incident, reading, instant, now))
            out["notifications"] += notices.build(
                kind="top_level_breach",
                incident=incident,
                recipients=out["audience"].level(
                    spec.level(incident.current_level),
                    notices.channels_for(incident.severity),
                ),
                context={"clock": notices.clock_snapshot(reading), "percent": instant.percent},
                dedup_base=f"top:{incident.pk}:{reading.clock}:{instant.percent}",
                urgent=True,
                now=now,
            )
            continue
        out["events"].append(
            {
                "incident_id": incident.pk,
                "kind": EventKind.SLA_THRESHOLD.value,
                "at": now,
                "visibility": Visibility.INTERNAL.value,
                "body": f"{reading.label} clock at {instant.percent}%: {action.replace('_', ' ')}.",
                "data": {
                    "clock": clock,
                    "percent": instant.percent,
                    "action": action,
                    "level": incident.current_level,
                    "due_at": instant.at.isoformat(),
                },
            }
        )
        out["notifications"] += _threshold_notices(
            incident, spec, action, reading, instant.percent, now, out["audience"]
        )
    if escalate is None:
        if top_level:
            # A breach changes the clock summary (breached flags) as well as next_check_at.
            _, columns = clock_columns(incident, now, fired=fired, events=events)
            for name, value in columns.items():
                setattr(incident, name, value)
            out["clocks"].append(incident)
            return
        value = next_check_at(
            readings, level=incident.current_level, level_entered_at=entered, fired=fired
        )
        if value != incident.next_check_at:
            incident.next_check_at = value
            out["next_checks"].append(incident)
        return
    reading, instant, target = escalate
    reason = _breach_reason(reading, instant, incident.current_level)
    if not set_based:
        # The firing row must exist before sla_refresh recomputes next_check_at.
        append_dicts(ThresholdFiring, out["firings"])
        out["firings"].clear()
    out["escalated"] += 1
    if set_based:
        out["crossings"].append(
            Crossing(
                incident=incident,
                spec=spec,
                readings=readings,
                reading=reading,
                to_level=target,
                reason=reason,
                status_events=events,
                fired=fired,
            )
        )
        return
    _move(
        incident,
        spec,
        to_level=target,
        trigger=Trigger.SLA,
        reason=reason,
        actor=None,
        now=now,
        clock=reading.clock,
        sla_percent=reading.percent,
    )


class StatusEvent(NamedTuple):
    """A timeline row as the clocks read it, without building a model instance."""

    kind: str
    at: datetime
    data: dict
    pk: int


def _claimed_incidents(ids: list[int]) -> list[Incident]:
    """The claimed batch's incidents, as list(Incident.objects.filter(pk__in=ids)) gives
    them, built from their rows (portal.bulk.loaded): Model.__init__ was half the cost of
    reading a batch."""
    return loaded(Incident.objects.filter(AnyOf(F("pk"), ids)))


def _sweep_batch(ids: list[int], now: datetime, *, set_based: bool, audience: Audience) -> Counter:
    out = {
        "firings": [],
        "events": [],
        "notifications": [],
        "next_checks": [],
        "clocks": [],
        "crossings": [],
        "audience": audience,
        "fired": 0,
        "escalated": 0,
    }
    counts = Counter()
    incidents = _claimed_incidents(ids)
    # Few policies and assignees serve many incidents: one query each, not one per row.
    prefetch_related_objects(incidents, "policy", "assignee", "account")
    events = defaultdict(list)
    for incident_id, *fields in IncidentEvent.objects.filter(
        AnyOf(F("incident_id"), ids), kind__in=list(STATUS_EVENTS)
    ).values_list("incident_id", "kind", "at", "data", "id"):
        events[incident_id].append(StatusEvent(*fields))
    fired = defaultdict(set)
    for incident_id, *key in ThresholdFiring.objects.filter(
        AnyOf(F("incident_id"), ids)
    ).values_list("incident_id", "clock", "level", "percent", "interval_start"):
        fired[incident_id].add(firing_key(*key))
    for incident in incidents:
        if incident.policy_id is None or not incident.is_open:
            incident.next_check_at = None
            out["next_checks"].append(incident)
            continue
        _sweep_incident(incident, events[incident.pk], fired[incident.pk], now, out, set_based)
    append_dicts(ThresholdFiring, out["firings"])
    incident_events_append_many(rows=out["events"])
    escalate_crossings(out["crossings"], now, out["audience"])
    notifications_enqueue_many(out["notifications"])
    incidents_store_next_checks(incidents=out["next_checks"])
    incidents_store_clocks_many(incidents=out["clocks"])
    counts.update(
        {
            "incidents": len(incidents),
            "fired": out["fired"],
            "escalated": out["escalated"],
            "notifications": len(out["notifications"]),
        }
    )
    return counts


def sweep_warm_up() -> None:
    """Load now what a process's first storm batch would otherwise load while
    incidents wait (about half a second): the URL map every notice links into, and
    the subject templates of the incident messages.

    Then everything loaded so far (modules, URL patterns, templates: about a million
    objects) is moved out of the garbage collector's sight. A storm's batch allocates
    enough to start full collections, and each walked all of it, about 0.15 s: 13 %
    of a batch's time. What is loaded at start lives as long as the process, and a
    worker freezes it before its pool forks (the children share the pages)."""
    notices.incident_url(SimpleNamespace(reference="warm-up"))
    for kind in rendering.template_kinds():
        rendering.template(f"notifications/{kind}/subject.txt")
    gc.collect()
    gc.freeze()


def seconds_to_next_check(*, now: datetime | None = None) -> float | None:
    """Seconds until the next incident is due for a sweep (0 if one is due already),
    None if none is. One read of the partial index on next_check_at: the scheduler
    asks after each sweep, to wake when the next clock crosses."""
    first = (
        Incident.objects.filter(next_check_at__isnull=False)
        .order_by("next_check_at")
        .values_list("next_check_at", flat=True)
        .first()
    )
    if first is None:
        return None
    return max(0.0, (first - resolve_now(now)).total_seconds())


@contextmanager
def _collector_paused():
    """No cyclic garbage collection while a batch is built: its few thousand rows
    would start dozens of young-generation collections that find nothing to free
    (the batch's objects are all alive until it is written). What it leaves is
    collected after, as usual."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def sla_sweep(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    only: list[int] | None = None,
    set_based: bool = True,
    on_backlog: Callable[[], None] | None = None,
) -> dict:
    """Claim incidents whose next_check_at has come and apply what is due.

    `only` limits the sweep to some incidents (demo data plays histories one
    incident at a time). `set_based=False` makes each escalation through `_move`,
    one incident at a time, as manual escalations do: the reference the
    differential test compares the set-based path with.

    `on_backlog` is called once, as soon as the first claim comes back full: more
    may be due than one batch (a storm), and other processes can sweep beside this
    one from the start (a hint only: it changes nothing, so it need not wait for
    the commit).

    Reads only the partial index on next_check_at, so its cost follows what is
    due, not what is open. Rows are claimed with FOR UPDATE SKIP LOCKED:
    concurrent sweeps split the work, and the unique firing constraint is the
    guarantee that nothing fires twice.
    """
    now = resolve_now(now)
    batch_size = batch_size or settings.SLA_SWEEP_BATCH
    totals = Counter()
    # Who hears what is read once per sweep (a sweep is one instant), not per batch.
    audience = Audience()
    for _ in range(settings.SLA_SWEEP_MAX_BATCHES):
        with transaction.atomic():
            due = Incident.objects.filter(next_check_at__lte=now)
            if only is not None:
                due = due.filter(pk__in=only)
            ids = list(
                due.order_by("next_check_at", "id")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            if on_backlog is not None and not totals["batches"] and len(ids) == batch_size:
                on_backlog()  # now: helpers skip these locked rows and claim the next ones
            with _collector_paused():
                totals.update(_sweep_batch(ids, now, set_based=set_based, audience=audience))
            totals["batches"] += 1
        if len(ids) < batch_size:
            break
    return dict(totals)
