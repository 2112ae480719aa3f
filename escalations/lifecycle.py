"""Escalations' side of the incident lifecycle (incidents.lifecycle.IncidentLifecycle).

Incidents announce each step inside the transaction that makes the change;
this decides what follows in that same transaction: the policy a new incident
follows, the SLA clocks, triggers, war room cadence, reviews, executive
escalations, and which customer or owner hears about it. Registered in
EscalationsConfig.ready().
"""

from __future__ import annotations

from datetime import datetime

from escalations.engine.services import evaluate_incident_triggers, executive_escalate
from escalations.followup.reviews import incident_reopened_follow_up, incident_resolved_follow_up
from escalations.followup.war_room import war_room_refresh
from escalations.notices import compose as notices
from escalations.policies import reach
from escalations.policies.services import default_policy, policy_for_new_incident, policy_spec
from escalations.rules.clocks import ClockReading
from escalations.sla.services import sla_refresh
from incidents.lifecycle import SeverityMeaning, StartingPolicy
from incidents.models import Account, Channel, Component, EventKind, Incident, IncidentEvent
from incidents.rules import Severity
from notifications.services import notifications_enqueue_many


class EscalationsLifecycle:
    """What escalations does when an incident is created, changes, resolves,
    reopens, gets a public update, a customer reply or a rating."""

    def policy_for_new_incident(
        self, *, channel: Channel, account: Account | None, component: Component | None
    ) -> StartingPolicy:
        policy = policy_for_new_incident(channel=channel, account=account, component=component)
        level = policy_spec(policy).first_level.number if policy else 1
        return StartingPolicy(policy=policy, level=level)

    def created(self, *, incident: Incident, now: datetime) -> None:
        readings = self._refresh(incident=incident, now=now, triggers=True)
        if incident.opened_at != now:
            return  # an import: its past opening tells nobody now
        # The policy's notices of an opening (after any move its triggers made).
        notifications_enqueue_many(notices.policy_notices(incident=incident, now=now, opening=True))
        if readings is not None and incident.channel.acknowledges_customer:
            # An escalation at opening (readings None) has told the customer already;
            # imports never do.
            notifications_enqueue_many(
                notices.customer_acknowledgement(
                    incident=incident,
                    occasion="opened",
                    dedup_base=f"customer_ack:opened:{incident.pk}",
                    now=now,
                    readings=readings,
                )
            )

    def changed(
        self, *, incident: Incident, now: datetime, triggers: bool = False, actor=None
    ) -> list[ClockReading] | None:
        """Keep the SLA bookkeeping right in the same transaction as the change.

        With `triggers`, the escalation engine also checks the severity, impact and
        pattern triggers (severity raised, impact details edited). When the severity was
        raised just now, the policy's notices for it go out (once each: raised back to it,
        nobody hears twice). Returns the clock readings now, or None when a trigger moved
        the incident.
        """
        readings = self._refresh(incident=incident, now=now, triggers=triggers, actor=actor)
        raised = incident.events.filter(kind=EventKind.SEVERITY_CHANGED, at=now, data__raised=True)
        if triggers and raised.exists():
            notifications_enqueue_many(notices.policy_notices(incident=incident, now=now))
        return readings

    def _refresh(
        self, *, incident: Incident, now: datetime, triggers: bool = False, actor=None
    ) -> list[ClockReading] | None:
        # A public update restarts a war room's cadence; a pause stops it.
        war_room_refresh(incident=incident, now=now)
        if triggers and evaluate_incident_triggers(incident=incident, now=now, actor=actor):
            incident.refresh_from_db()
            return None  # the move refreshed the clocks
        return sla_refresh(incident=incident, now=now)

    def resolved(self, *, incident: Incident, event: IncidentEvent, actor, now: datetime) -> None:
        # The war room stands down and a required review opens, in this transaction.
        incident_resolved_follow_up(incident=incident, actor=actor, now=now)
        # The customer hears it in the incident's thread and is asked to rate it
        # (never for security incidents: notices decide who is a customer).
        notifications_enqueue_many(
            notices.customer_resolution(incident=incident, event=event, now=now)
        )

    def reopened(self, *, incident: Incident, event: IncidentEvent, actor, now: datetime) -> None:
        # An unpublished review waits for the next resolution to be due again.
        incident_reopened_follow_up(incident=incident, now=now)

    def public_update_posted(
        self, *, incident: Incident, event: IncidentEvent, now: datetime
    ) -> None:
        notifications_enqueue_many(notices.customer_update(incident=incident, event=event, now=now))

    def customer_replied(self, *, incident: Incident, event: IncidentEvent, now: datetime) -> None:
        """The assignee (or, with none, the current level) hears that the customer wrote."""
        recipients = reach.user_recipient(incident.assignee)
        if not recipients and incident.policy_id is not None:
            spec = policy_spec(incident.policy)
            try:
                level = spec.level(incident.current_level)
            except KeyError:
                level = None
            if level is not None:
                recipients = reach.level_recipients(level, channels=["email"])
        notifications_enqueue_many(
            notices.build(
                kind="customer_reply",
                incident=incident,
                recipients=recipients,
                context={
                    "reply": {
                        "from": event.data.get("from", ""),
                        "via": event.data.get("via", ""),
                        "text": event.body[:4000],
                    }
                },
                dedup_base=f"customer_reply:{event.pk}",
                urgent=incident.severity in (Severity.P0, Severity.P1),
                now=now,
            )
        )

    def rated(
        self, *, incident: Incident, event: IncidentEvent, rating: int, now: datetime
    ) -> None:
        """Below the policy's limit (seed 003: CSAT under 3) a rating is an
        executive escalation."""
        if incident.policy_id is None:
            return
        limit = policy_spec(incident.policy).triggers.csat_below
        if rating < limit:
            executive_escalate(
                incident=incident,
                key="csat",
                reason=f"The customer rated the resolution {rating}/5 (below {limit})",
                now=now,
            )

    def severity_meanings(self, *, incident: Incident | None = None) -> list[SeverityMeaning]:
        policy = incident.policy if incident is not None else default_policy()
        if policy is None:
            return []
        return [
            SeverityMeaning(
                severity,
                Severity(severity).label,
                meaning.definition,
                meaning.criteria,
                meaning.examples,
            )
            for severity, meaning in policy_spec(policy).severities
        ]
