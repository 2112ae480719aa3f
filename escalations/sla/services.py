"""SLA clocks of real incidents: facts from the timeline, readings, next_check_at."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from escalations.models import ThresholdFiring
from escalations.policies.services import policy_spec
from escalations.rules.clocks import (
    WARNING_PERCENT,
    ClockReading,
    IncidentFacts,
    compute_clocks,
    firing_key,
    next_check_at,
    stored_columns,
)
from incidents.models import EventKind, Incident, IncidentEvent
from incidents.services import incident_store_clocks

# Timeline events that carry a status change, and the key holding the new status.
STATUS_EVENTS = {
    EventKind.CREATED: None,  # the incident is new from its opening
    EventKind.ACKNOWLEDGED: "to",
    EventKind.STATUS_CHANGED: "to",
    EventKind.REOPENED: "to",
}


def incident_facts(incident: Incident, events: Iterable[IncidentEvent] | None = None):
    """What the clocks need, from the incident row and its timeline.

    Pass `events` (already loaded, any order) to avoid a query, e.g. in sweeps.
    """
    if events is None:
        events = incident.events.filter(kind__in=list(STATUS_EVENTS)).only(
            "kind", "at", "data", "id"
        )
    statuses = [(incident.opened_at, "new")]
    for event in sorted(events, key=lambda e: (e.at, e.pk or 0)):
        key = STATUS_EVENTS.get(event.kind, "absent")
        if key in (None, "absent"):
            continue
        statuses.append((event.at, event.data.get(key, "")))
    # Rows written without their events (bulk imports) still end where the row is.
    if statuses[-1][1] != incident.status:
        statuses.append(
            (max(incident.updated_at or statuses[-1][0], statuses[-1][0]), incident.status)
        )
    return IncidentFacts(
        opened_at=incident.opened_at,
        severity=incident.severity,
        level=incident.current_level,
        level_entered_at=incident.level_entered_at or incident.opened_at,
        level_clock_started_at=incident.level_clock_started_at,
        statuses=tuple(statuses),
        first_response_at=incident.first_response_at,
        last_public_update_at=incident.last_public_update_at,
        handoff=handoff_facts(incident),
        peak_level=incident.peak_level,
    )


def handoff_facts(incident: Incident):
    """The current level's handoff: (escalated at, acknowledged at or None), if any."""
    if incident.handoff_at is None:
        return None
    return (incident.handoff_at, incident.handoff_acknowledged_at)


def fired_keys(incident: Incident) -> set[tuple]:
    """The incident's threshold firings as clocks.firing_key()s."""
    return {
        firing_key(*key)
        for key in ThresholdFiring.objects.filter(incident=incident).values_list(
            "clock", "level", "percent", "interval_start"
        )
    }


def incident_clocks(incident: Incident, now: datetime | None = None) -> list[ClockReading]:
    """Readings for display (incident page, admin); empty without a policy."""
    if incident.policy_id is None:
        return []
    now = now or timezone.now()
    return compute_clocks(incident_facts(incident), policy_spec(incident.policy), now)


def clock_columns(
    incident: Incident, now: datetime, *, fired: set | None = None, events: Iterable | None = None
) -> tuple[list[ClockReading], dict]:
    """The readings at `now` (with warning_at) and the columns to store: next_check_at
    and the clock summary. `fired` (the incident's threshold firings as fired_keys()
    gives them) and `events` (its status events): pass them if already loaded, else
    they are read when needed."""
    readings, next_check = [], None
    if incident.policy_id is not None:
        readings = compute_clocks(
            incident_facts(incident, events),
            policy_spec(incident.policy),
            now,
            warning_percent=WARNING_PERCENT,
        )
        if incident.is_open:
            next_check = next_check_at(
                readings,
                level=incident.current_level,
                level_entered_at=incident.level_entered_at or incident.opened_at,
                fired=fired_keys(incident) if fired is None else fired,
            )
    # Without a policy no clock runs: every summary column is empty.
    return readings, {
        "next_check_at": next_check,
        **stored_columns(readings, is_open=incident.is_open),
    }


def sla_refresh(*, incident: Incident, now: datetime) -> list[ClockReading]:
    """Recompute and store next_check_at and the clock summary columns (queues,
    metrics); call in the transaction that changed things. Returns the readings
    (those of incident_clocks, with warning_at), so callers need not compute them again."""
    readings, values = clock_columns(incident, now)
    incident_store_clocks(incident=incident, values=values)
    return readings
