"""The sweep's escalations, set-based: when a region goes down, hundreds of incidents
cross 100 % of their clock in the same minute, and each must be escalated within
seconds of it.

The sweep claims a batch and decides, per incident, which clock crossed (a
`Crossing`). Here the whole batch's crossings become escalations at once: everything
they need is read in a fixed number of queries (accounts, channels, earlier moves,
the steps the handoff note lists, the customers' mail threads, the levels'
recipients), the moves are decided in memory by the same parts the per-incident
path uses (`moves`), and the records, incident rows, timeline entries and outbox
rows are written with one bulk statement each, in the sweep's transaction.
`sla_sweep(set_based=False)` takes the per-incident path instead, the reference
`tests/escalations/test_sweep_set_based_matches_per_incident.py` compares with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import prefetch_related_objects

from escalations.engine import moves
from escalations.engine.audience import Audience
from escalations.models import Escalation, Page, Trigger
from escalations.notices import compose as notices
from escalations.rules.clocks import ClockReading
from escalations.rules.handoff import generated_note
from escalations.rules.spec import WorkflowSpec
from escalations.sla.services import clock_columns
from incidents.models import Incident
from incidents.services import CLOCK_COLUMNS, incident_events_append_many, incidents_save_many
from notifications.services import notifications_enqueue_many
from portal.bulk import append_rows


@dataclass
class Crossing:
    """A claimed incident whose clock crossed the percent that escalates it."""

    incident: Incident
    spec: WorkflowSpec
    readings: list[ClockReading]  # its clocks at the sweep's `now`, before the move
    reading: ClockReading  # the clock that crossed
    to_level: int
    reason: str
    status_events: list  # the status rows its clocks are computed from
    fired: set  # its threshold firings, this sweep's included


def escalate_crossings(crossings: list[Crossing], now: datetime, audience: Audience) -> int:
    """Escalate every crossing one level up its policy's route, in the sweep's
    transaction (the incidents are locked by its claim). Returns the outbox rows offered.
    `audience`: the sweep's, so each team is read once per sweep."""
    if not crossings:
        return 0
    incidents = [c.incident for c in crossings]
    ids = [incident.pk for incident in incidents]
    prefetch_related_objects(incidents, "account", "channel")
    history = moves.move_history(ids)
    steps = moves.recent_steps(ids)
    threads = notices.first_customer_message_ids(
        [i.pk for i in incidents if notices.customer_recipient(i) is not None]
    )

    records = [
        moves.escalation_record(
            c.incident,
            to_level=c.to_level,
            trigger=Trigger.SLA,
            reason=c.reason,
            note=generated_note(
                c.spec.level(c.to_level).handoff_fields,
                moves.handoff_context(
                    c.incident, c.spec, c.to_level, c.readings, steps.get(c.incident.pk, ())
                ),
                c.reason,
            ),
            actor=None,
            now=now,
            clock=c.reading.clock,
            sla_percent=c.reading.percent,
        )
        for c in crossings
    ]
    append_rows(Escalation, records, with_ids=True)

    events, rows, pages = [], [], []
    for crossing, escalation in zip(crossings, records, strict=True):
        incident, spec = crossing.incident, crossing.spec
        page = moves.first_page(incident, spec, escalation, now, audience)
        if page is not None:
            pages.append(page)
        flag_reason = moves.apply_move(incident, spec, escalation, history.get(incident.pk, []))
        readings, columns = clock_columns(
            incident, now, fired=crossing.fired, events=crossing.status_events
        )
        for name, value in columns.items():
            setattr(incident, name, value)
        events += moves.move_events(incident, spec, escalation, flag_reason, page)
        rows += moves.move_notices(incident, spec, escalation, "", now, audience, page)
        # Seed 001: tell the customer, with the new expected response time.
        rows += notices.customer_acknowledgement(
            incident=incident,
            occasion="escalated",
            dedup_base=f"customer_ack:escalation:{escalation.pk}",
            now=now,
            readings=readings,
            first_message_id=threads.get(incident.pk, ""),
        )
        if flag_reason:
            rows += moves.flag_notices(incident, now, audience)
    append_rows(Page, pages)
    incidents_save_many(incidents=incidents, fields=[*moves.MOVE_FIELDS, *sorted(CLOCK_COLUMNS)])
    incident_events_append_many(rows=events)
    return notifications_enqueue_many(rows)
