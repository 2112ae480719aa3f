"""War rooms (seed 004): roles, a channel, the status-update cadence, the commander's
decisions and handovers between people.

Services: each locks the incident (so war-room changes and incident changes
queue up behind each other), changes the war room, appends a timeline event,
queues notices and stores the next reminder instant, in one transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from escalations.followup import reminders
from escalations.followup.people import check_person
from escalations.models import (
    SINGLE_HOLDER_ROLES,
    WarRoom,
    WarRoomAssignment,
    WarRoomHandover,
    WarRoomRole,
)
from escalations.notices import compose as notices
from escalations.policies import reach
from escalations.rules.followup import WAR_ROOM_REASONS, check_war_room_reason, war_room_reasons
from incidents.models import EventKind, Incident, IncidentEvent
from incidents.permissions import require
from incidents.services import incident_event_append, incident_lock
from notifications.services import notifications_enqueue_many
from portal.clock import resolve_now

MIN_CADENCE = timedelta(minutes=5)
MAX_CADENCE = timedelta(hours=24)


def supported_reasons(incident: Incident) -> list[str]:
    """Seed 004's "when to activate" reasons the incident's facts support."""
    return war_room_reasons(
        severity=incident.severity,
        is_security=incident.is_security,
        is_compliance=incident.is_compliance,
        is_production_outage=incident.is_production_outage,
        users_affected=incident.users_affected,
        many_users=reminders.incident_spec(incident).triggers.users_affected,
    )


def active_war_room(incident: Incident) -> WarRoom | None:
    return incident.war_rooms.filter(closed_at__isnull=True).first()


def current_holders(war_room: WarRoom) -> dict[str, list]:
    """role -> [people holding it now]."""
    holders: dict[str, list] = {}
    for assignment in war_room.assignments.filter(until__isnull=True).select_related("user"):
        holders.setdefault(assignment.role, []).append(assignment.user)
    return holders


def _check_cadence(cadence: timedelta | None, errors: dict) -> None:
    if cadence is not None and not MIN_CADENCE <= cadence <= MAX_CADENCE:
        errors["cadence"] = "Status updates every 5 minutes to 24 hours."


def _role_notices(war_room, incident, assignments, *, now, note: str = "") -> list:
    rows = []
    for assignment in assignments:
        rows += notices.build(
            kind="war_room_role",
            incident=incident,
            recipients=reach.user_recipient(assignment.user),
            context={
                "role": assignment.get_role_display(),
                "channel": war_room.channel,
                "cadence_minutes": int(war_room.cadence.total_seconds() // 60),
                "reason": war_room.get_reason_display(),
                "note": note,
            },
            dedup_base=f"warroom-role:{assignment.pk}",
            urgent=incident.severity in ("P0", "P1"),
            now=now,
        )
    return rows


def _role_words(assignments) -> str:
    return "; ".join(f"{a.get_role_display()}: {a.user}" for a in assignments)


@transaction.atomic
def war_room_activate(
    *,
    incident: Incident,
    actor,
    reason: str,
    commander,
    technical_lead=None,
    customer_liaison=None,
    executive=None,
    scribe=None,
    smes: list | tuple = (),
    channel: str = "",
    cadence: timedelta | None = None,
    now: datetime | None = None,
) -> WarRoom:
    """Open the war room: people in their roles, the channel, the update cadence.

    The cadence defaults to the policy's for the severity (seed 004: 30-60
    minutes); the commander is reminded whenever a status update is due.
    """
    require(actor, "war_room.activate", incident=incident)
    now = resolve_now(now)
    incident = incident_lock(incident=incident)
    if not incident.is_open:
        raise ValidationError("A resolved or closed incident needs no war room; reopen it first.")
    if active_war_room(incident) is not None:
        raise ValidationError("This incident has an active war room already.")
    errors: dict[str, str] = {}
    problem = check_war_room_reason(reason, supported_reasons(incident))
    if problem:
        errors["reason"] = problem
    if commander is None:
        errors["commander"] = "A war room needs an incident commander."
    people = {
        WarRoomRole.COMMANDER: commander,
        WarRoomRole.TECHNICAL_LEAD: technical_lead,
        WarRoomRole.CUSTOMER_LIAISON: customer_liaison,
        WarRoomRole.EXECUTIVE: executive,
        WarRoomRole.SCRIBE: scribe,
    }
    for role, person in people.items():
        check_person(person, incident, role.value, errors)
    for person in smes:
        check_person(person, incident, "smes", errors)
    _check_cadence(cadence, errors)
    if errors:
        raise ValidationError(errors)
    cadence = cadence or reminders.war_room_settings(incident).cadence(incident.severity)
    war_room = WarRoom.objects.create(
        incident=incident,
        reason=reason,
        channel=(channel or "").strip(),
        cadence=cadence,
        activated_at=now,
        activated_by=actor if getattr(actor, "pk", None) else None,
    )
    assignments = [
        WarRoomAssignment(
            war_room=war_room, role=role, user=person, since=now, assigned_by=war_room.activated_by
        )
        for role, person in people.items()
        if person is not None
    ] + [
        WarRoomAssignment(
            war_room=war_room,
            role=WarRoomRole.SME,
            user=person,
            since=now,
            assigned_by=war_room.activated_by,
        )
        for person in dict.fromkeys(smes)
    ]
    assignments = WarRoomAssignment.objects.bulk_create(assignments)
    minutes = int(cadence.total_seconds() // 60)
    channel_words = f" Channel: {war_room.channel}." if war_room.channel else ""
    incident_event_append(
        incident=incident,
        kind=EventKind.WAR_ROOM_ACTIVATED,
        actor=actor,
        at=now,
        body=f"War room activated ({WAR_ROOM_REASONS[reason].lower()}). "
        f"{_role_words(assignments)}.{channel_words} Status updates every {minutes} minutes.",
        data={
            "war_room": war_room.pk,
            "reason": reason,
            "cadence_minutes": minutes,
            "roles": {a.role: str(a.user) for a in assignments if a.role != WarRoomRole.SME},
        },
    )
    notifications_enqueue_many(_role_notices(war_room, incident, assignments, now=now))
    reminders.war_room_schedule(war_room, incident, now)
    return war_room


def _locked_war_room(war_room: WarRoom) -> tuple[WarRoom, Incident]:
    incident = incident_lock(incident=war_room.incident)
    war_room = WarRoom.objects.select_for_update().get(pk=war_room.pk)
    if not war_room.is_active:
        raise ValidationError("The war room has stood down.")
    return war_room, incident


@transaction.atomic
def war_room_assign(
    *, war_room: WarRoom, role: str, user, actor, note: str = "", now: datetime | None = None
) -> WarRoomAssignment:
    """Give a role to someone: a handover (with a handoff note) when someone holds it,
    or one more subject-matter expert."""
    require(actor, "war_room.assign", incident=war_room.incident)
    now = resolve_now(now)
    war_room, incident = _locked_war_room(war_room)
    errors: dict[str, str] = {}
    if role not in WarRoomRole.values:
        errors["role"] = "Pick a war-room role."
    if user is None:
        errors["user"] = "Pick who takes the role."
    check_person(user, incident, "user", errors)
    if errors:
        raise ValidationError(errors)
    current = list(
        war_room.assignments.select_for_update()
        .filter(role=role, until__isnull=True)
        .select_related("user")
    )
    if any(a.user_id == user.pk for a in current):
        raise ValidationError({"user": f"{user} already holds this role."})
    previous = current[0] if role in SINGLE_HOLDER_ROLES and current else None
    if previous is not None and not note.strip():
        raise ValidationError(
            {"note": "Write the handoff note: state, open threads, next decisions."}
        )
    if previous is not None:
        WarRoomAssignment.objects.filter(pk=previous.pk).update(until=now)
    try:
        with transaction.atomic():
            assignment = WarRoomAssignment.objects.create(
                war_room=war_room,
                role=role,
                user=user,
                since=now,
                assigned_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        raise ValidationError("Someone changed this role at the same time; try again.") from None
    label = WarRoomRole(role).label
    if previous is not None or note.strip():
        WarRoomHandover.objects.create(
            war_room=war_room,
            role=role,
            from_user=previous.user if previous else None,
            to_user=user,
            note=note.strip(),
            at=now,
            actor=actor if getattr(actor, "pk", None) else None,
        )
    if previous is not None:
        body = f"{label} handed over from {previous.user} to {user}. Handoff note: {note.strip()}"
    else:
        body = f"{label}: {user} joins the war room." + (f" {note.strip()}" if note.strip() else "")
    incident_event_append(
        incident=incident,
        kind=EventKind.WAR_ROOM_CHANGED,
        actor=actor,
        at=now,
        body=body,
        data={
            "war_room": war_room.pk,
            "role": role,
            "from": str(previous.user) if previous else None,
            "to": str(user),
        },
    )
    notifications_enqueue_many(
        _role_notices(war_room, incident, [assignment], now=now, note=note.strip())
    )
    return assignment


@transaction.atomic
def war_room_release(
    *, war_room: WarRoom, role: str, user, actor, now: datetime | None = None
) -> WarRoomAssignment:
    """Someone leaves a role (experts rotating out). The commander hands over instead."""
    require(actor, "war_room.release", incident=war_room.incident)
    now = resolve_now(now)
    war_room, incident = _locked_war_room(war_room)
    if role == WarRoomRole.COMMANDER:
        raise ValidationError({"role": "Hand the commander role over; it is never empty."})
    assignment = (
        war_room.assignments.select_for_update()
        .filter(role=role, user=user, until__isnull=True)
        .first()
    )
    if assignment is None:
        raise ValidationError({"user": f"{user} does not hold this role."})
    WarRoomAssignment.objects.filter(pk=assignment.pk).update(until=now)
    incident_event_append(
        incident=incident,
        kind=EventKind.WAR_ROOM_CHANGED,
        actor=actor,
        at=now,
        body=f"{WarRoomRole(role).label}: {user} leaves the war room.",
        data={"war_room": war_room.pk, "role": role, "from": str(user), "to": None},
    )
    assignment.refresh_from_db()
    return assignment


@transaction.atomic
def war_room_log_decision(
    *, war_room: WarRoom, actor, decision: str, now: datetime | None = None
) -> IncidentEvent:
    """One voice (seed 004): the incident commander's decisions go on the timeline."""
    require(actor, "war_room.log_decision", incident=war_room.incident)
    now = resolve_now(now)
    if not (decision or "").strip():
        raise ValidationError({"decision": "Write the decision."})
    war_room, incident = _locked_war_room(war_room)
    holder = war_room.commander()
    if holder is None or holder.pk != getattr(actor, "pk", None):
        raise ValidationError(
            f"Only the incident commander ({holder or 'nobody'}) records decisions; "
            "hand the role over first."
        )
    return incident_event_append(
        incident=incident,
        kind=EventKind.COMMANDER_DECISION,
        actor=actor,
        at=now,
        body=decision.strip(),
        data={"war_room": war_room.pk},
    )


@transaction.atomic
def war_room_set_cadence(
    *, war_room: WarRoom, actor, cadence: timedelta, now: datetime | None = None
) -> WarRoom:
    require(actor, "war_room.set_cadence", incident=war_room.incident)
    now = resolve_now(now)
    errors: dict[str, str] = {}
    if cadence is None:
        errors["cadence"] = "Give the cadence."
    _check_cadence(cadence, errors)
    if errors:
        raise ValidationError(errors)
    war_room, incident = _locked_war_room(war_room)
    if cadence == war_room.cadence:
        raise ValidationError({"cadence": "That is the cadence already."})
    previous = war_room.cadence
    war_room.cadence = cadence
    war_room.save(update_fields=["cadence"])
    incident_event_append(
        incident=incident,
        kind=EventKind.WAR_ROOM_CHANGED,
        actor=actor,
        at=now,
        body=f"Status updates every {int(cadence.total_seconds() // 60)} minutes "
        f"(was {int(previous.total_seconds() // 60)}).",
        data={"war_room": war_room.pk, "cadence_minutes": int(cadence.total_seconds() // 60)},
    )
    reminders.war_room_schedule(war_room, incident, now)
    return war_room


@transaction.atomic
def war_room_close(*, war_room: WarRoom, actor, note: str, now: datetime | None = None) -> WarRoom:
    """Stand the war room down: roles end, reminders stop."""
    require(actor, "war_room.close", incident=war_room.incident)
    now = resolve_now(now)
    if not (note or "").strip():
        raise ValidationError({"note": "Say why the war room stands down."})
    war_room, incident = _locked_war_room(war_room)
    war_room.closed_at = now
    war_room.closed_by = actor if getattr(actor, "pk", None) else None
    war_room.closing_note = note.strip()
    war_room.save(update_fields=["closed_at", "closed_by", "closing_note"])
    war_room.assignments.filter(until__isnull=True).update(until=now)
    incident_event_append(
        incident=incident,
        kind=EventKind.WAR_ROOM_CLOSED,
        actor=actor,
        at=now,
        body=f"War room stood down: {note.strip()}",
        data={"war_room": war_room.pk},
    )
    reminders.war_room_schedule(war_room, incident, now)
    return war_room


def war_room_refresh(*, incident: Incident, now: datetime) -> None:
    """After any incident change (a public update restarts the cadence, a pause stops
    it): recompute when the next update is due. Call in the changing transaction."""
    war_room = active_war_room(incident)
    if war_room is not None:
        reminders.war_room_schedule(war_room, incident, now)
