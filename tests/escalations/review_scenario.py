"""A small world for the review queue, metrics and report tests, built through the
services at fixed instants (the pages are then read with time frozen at NOW)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from escalations import engine
from escalations.handoff import CHECKLIST
from escalations.policies import policy_create_from_spec
from incidents import services
from incidents.models import Incident
from notifications.models import Notification
from tests.escalations.conftest import simple_spec
from tests.factories import AccountFactory, UserFactory, make_incident

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # a Wednesday
M = timedelta(minutes=1)
H = timedelta(hours=1)
NOTE = dict.fromkeys(
    (
        "customer_context",
        "symptoms",
        "customer_impact",
        "business_impact",
        "steps_taken",
        "suggested_next_step",
    ),
    "See timeline.",
)


@dataclass
class World:
    lead: object
    manager: object
    agent: object
    security: object
    soon: Incident  # first response at 83 %
    breached: Incident  # first response past due
    fresh: Incident  # just opened, unassigned
    escalated: Incident  # handed to L2, awaiting acknowledgement and a decision
    secret: Incident  # security, assigned to the security user
    resolved: Incident
    failed: Notification


def build_world() -> World:
    policy_create_from_spec(spec=simple_spec(), name="standard", make_default=True)
    lead = UserFactory(username="lead1", role="Team Lead", is_staff=True)
    manager = UserFactory(username="manager1", role="Engineering Manager", is_staff=True)
    agent = UserFactory(username="agent1", role="Support Agent")
    security = UserFactory(username="sec1", role="Security")
    enterprise = AccountFactory(name="Acme Corp", tier="enterprise")

    soon = make_incident(
        actor=agent, title="Soon", severity="P2", opened_at=NOW - 50 * M, now=NOW - 50 * M
    )
    breached = make_incident(
        actor=agent,
        title="Late",
        severity="P1",
        account=enterprise,
        opened_at=NOW - 2 * H,
        now=NOW - 2 * H,
    )
    fresh = make_incident(actor=agent, title="Fresh", opened_at=NOW - 5 * M, now=NOW - 5 * M)
    escalated = make_incident(
        actor=agent, title="Escalated", severity="P2", opened_at=NOW - 150 * M, now=NOW - 150 * M
    )
    services.incident_acknowledge(incident=escalated, actor=agent, now=NOW - 140 * M)
    engine.incident_escalate(
        incident=escalated,
        to_level=2,
        actor=agent,
        reason="Needs the specialists",
        category="expertise",
        note=NOTE,
        checklist=list(CHECKLIST),
        decision_sought="Approve the rollback?",
        now=NOW - 30 * M,
    )
    secret = make_incident(
        actor=security,
        title="Credential leak",
        severity="P1",
        is_security=True,
        assignee=security,
        opened_at=NOW - 20 * M,
        now=NOW - 20 * M,
    )
    # The security trigger handed it to L2 at once; the security user takes it there.
    engine.handoff_acknowledge(incident=secret, actor=security, now=NOW - 15 * M)
    resolved = make_incident(
        actor=agent, title="Done", opened_at=NOW - 6 * H, now=NOW - 6 * H, assignee=agent
    )
    services.incident_acknowledge(incident=resolved, actor=agent, now=NOW - 350 * M)
    services.incident_change_status(
        incident=resolved, status="resolved", actor=agent, note="Fixed", now=NOW - 4 * H
    )
    failed = Notification.objects.create(
        incident=breached,
        kind="sla_warning",
        channel="email",
        recipient="someone@example.com",
        dedup_key="test-failed",
        status="failed",
        last_error="550 mailbox unavailable",
        next_attempt_at=NOW - H,
    )
    return World(
        lead=lead,
        manager=manager,
        agent=agent,
        security=security,
        soon=Incident.objects.get(pk=soon.pk),
        breached=Incident.objects.get(pk=breached.pk),
        fresh=Incident.objects.get(pk=fresh.pk),
        escalated=Incident.objects.get(pk=escalated.pk),
        secret=Incident.objects.get(pk=secret.pk),
        resolved=Incident.objects.get(pk=resolved.pk),
        failed=failed,
    )
