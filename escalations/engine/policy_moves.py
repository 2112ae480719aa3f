"""Moving open incidents to a newer version of their policy: a change to incidents,
so it lives with the engine, above policies and SLA."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from escalations.models import Policy, PolicyStatus
from escalations.sla.services import sla_refresh
from incidents.models import EventKind, Incident
from incidents.permissions import require
from incidents.services import incident_event_append, incident_lock, incident_save


def policy_move_open_incidents(*, policy: Policy, actor, now: datetime | None = None) -> int:
    """Move open incidents on older versions of this policy to it, one by one.

    Each move is logged on the incident's timeline and its clocks recomputed.
    A level the new version lacks maps to the nearest level below it.
    """
    require(actor, "policy.move_open_incidents")
    if policy.status != PolicyStatus.ACTIVE:
        raise ValidationError("Open incidents can only move to an active version.")
    now = now or timezone.now()
    numbers = sorted(policy.levels.values_list("number", flat=True))
    moved = 0
    candidates = Incident.objects.open().filter(
        policy__name=policy.name, policy__version__lt=policy.version
    )
    for candidate in candidates.only("pk"):
        with transaction.atomic():
            incident = incident_lock(incident=candidate)
            if not incident.is_open or incident.policy_id == policy.pk:
                continue
            previous = incident.policy
            level = max([n for n in numbers if n <= incident.current_level] or numbers[:1])
            data = {"from": str(previous), "to": str(policy), "level": level}
            incident.policy = policy
            if level != incident.current_level:
                data["level_from"] = incident.current_level
                incident.current_level = level
                incident.level_entered_at = now
                incident.level_clock_started_at = now
            incident_save(
                incident=incident,
                fields=["policy", "current_level", "level_entered_at", "level_clock_started_at"],
            )
            incident_event_append(
                incident=incident,
                kind=EventKind.POLICY_CHANGED,
                actor=actor,
                at=now,
                body=f"Moved to policy {policy}.",
                data=data,
            )
            sla_refresh(incident=incident, now=now)
            moved += 1
    return moved
