"""A small world for the review queue, metrics and report tests, built through the
services at fixed instants (the pages are then read with time frozen at NOW).

`build_world` holds incidents and escalations; `build_follow_up` adds post-incident
reviews and action items in every state to it (only the tests that read them call it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from escalations.engine import services as engine
from escalations.followup import reviews
from escalations.models import ActionItem, PostIncidentReview
from escalations.policies.services import policy_create_from_spec
from escalations.rules.handoff import CHECKLIST
from escalations.rules.spec import ReviewSettings
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
    # Reviews required for P0 (seed 004's default) and P1, so the follow-up world has
    # required reviews in two severities; nothing in this world resolves a P1.
    policy_create_from_spec(
        spec=simple_spec(reviews=ReviewSettings(required_severities=("P0", "P1"))),
        name="standard",
        make_default=True,
    )
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


# --- post-incident reviews and action items ---------------------------------------------------


def at(day: int, hour: int) -> datetime:
    """An instant of March 2026 (UTC, the users' zone): NOW is at(11, 12)."""
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


def due(day: int) -> date:
    """A due date in March 2026; the item is due at the end of it (the next midnight, UTC)."""
    return date(2026, 3, day)


COMPLETE = {
    "customers_impacted": 87,
    "business_impact": "Checkout down for all customers",
    "root_cause_what": "Database connection pool exhausted under load",
    "root_cause_why": "A code change leaked connections",
    "root_cause_not_caught": "Load tests did not simulate peak concurrency",
    "contributing_factors": ["Alert threshold too high"],
    "went_well": ["Fast detection"],
    "went_poorly": ["Initial hypothesis wrong"],
    "prevention_confidence": "high",
}


@dataclass
class FollowUp:
    """Incidents opened 5-10 March (the metrics' 7 days up to NOW, and W10/W11)."""

    on_time: Incident  # P0, review due 7 Mar 12:00, published 6 Mar
    late: Incident  # P1, review due 8 Mar 10:00, published 9 Mar
    unpublished: Incident  # P0, review due 9 Mar 10:00, still a draft
    pending: Incident  # P0, review due 12 Mar 20:00 (after NOW), a draft
    unrequired: Incident  # P2, review started by hand, due 8 Mar 12:00, a draft
    classified: Incident  # P1 security, review due 10 Mar 12:00, a draft
    monitoring: ActionItem  # on_time's, permanent fix, due 8 Mar, done 7 Mar 10:00
    runbook: ActionItem  # on_time's, due 9 Mar, done 10 Mar 08:00 (late)
    flag: ActionItem  # late's, due 8 Mar, dropped 8 Mar 12:00
    leak: ActionItem  # late's, permanent fix, due 9 Mar, open (overdue at NOW)
    pool: ActionItem  # late's, permanent fix, due 7 Mar, done 7 Mar 18:00
    breaker: ActionItem  # unpublished's, due 20 Mar, open (not overdue at NOW)
    load_test: ActionItem  # unpublished's, permanent fix, due 10 Mar, done 10 Mar 12:00
    keys: ActionItem  # classified's (security), due 9 Mar, open (overdue at NOW)


def _resolved(actor, *, opened: datetime, resolved: datetime, **fields) -> Incident:
    incident = make_incident(actor=actor, opened_at=opened, now=opened, **fields)
    if fields.get("is_security"):
        engine.handoff_acknowledge(incident=incident, actor=actor, now=opened + 5 * M)
    else:
        services.incident_acknowledge(incident=incident, actor=actor, now=opened + 5 * M)
    services.incident_change_status(
        incident=incident, status="resolved", actor=actor, note="Fixed", now=resolved
    )
    return Incident.objects.get(pk=incident.pk)


def _publish(review, *, author, publisher, submitted: datetime, published: datetime):
    reviews.review_submit(review=review, actor=author, now=submitted)
    return reviews.review_publish(review=review, actor=publisher, now=published)


def build_follow_up(world: World) -> FollowUp:
    """Reviews and action items through the services of escalations.followup.reviews."""
    agent, lead, manager, security = world.agent, world.lead, world.manager, world.security

    def add(review, title, owner, due_date, added, *, permanent=False):
        return reviews.action_item_add(
            review=review,
            actor=owner,
            title=title,
            owner=owner,
            due_date=due_date,
            is_permanent_fix=permanent,
            now=added,
        )

    def close(item, when, status="done", note=""):
        return reviews.action_item_close(
            item=item, actor=item.owner, status=status, note=note, now=when
        )

    on_time = _resolved(
        agent, severity="P0", title="Checkout down", opened=at(5, 10), resolved=at(5, 12)
    )
    review = PostIncidentReview.objects.get(incident=on_time)  # required: opened on resolution
    reviews.review_update(review=review, actor=agent, changes=COMPLETE, now=at(5, 13))
    monitoring = add(
        review, "Add connection pool monitoring", agent, due(8), at(5, 13), permanent=True
    )
    runbook = add(review, "Update the runbook", lead, due(9), at(5, 13))
    _publish(review, author=agent, publisher=manager, submitted=at(6, 10), published=at(6, 12))

    late = _resolved(agent, severity="P1", title="API latency", opened=at(6, 8), resolved=at(6, 10))
    review = PostIncidentReview.objects.get(incident=late)
    reviews.review_update(review=review, actor=agent, changes=COMPLETE, now=at(6, 11))
    flag = add(review, "Remove the feature flag", agent, due(8), at(6, 11))
    leak = add(review, "Fix the connection leak", agent, due(9), at(6, 11), permanent=True)
    pool = add(review, "Raise the pool size", agent, due(7), at(6, 11), permanent=True)
    _publish(review, author=agent, publisher=manager, submitted=at(9, 8), published=at(9, 10))

    unpublished = _resolved(
        agent, severity="P0", title="Login outage", opened=at(7, 9), resolved=at(7, 10)
    )
    review = PostIncidentReview.objects.get(incident=unpublished)
    breaker = add(review, "Add a circuit breaker", lead, due(20), at(7, 11))
    load_test = add(review, "Load-test peak concurrency", agent, due(10), at(7, 11), permanent=True)

    pending = _resolved(
        agent, severity="P0", title="Search outage", opened=at(10, 8), resolved=at(10, 20)
    )
    unrequired = _resolved(
        agent, severity="P2", title="Slow reports", opened=at(6, 9), resolved=at(6, 12)
    )
    reviews.review_create(incident=unrequired, actor=agent, now=at(6, 13))
    classified = _resolved(
        security,
        severity="P1",
        title="Token exposure",
        is_security=True,
        assignee=security,
        opened=at(8, 9),
        resolved=at(8, 12),
    )
    review = PostIncidentReview.objects.get(incident=classified)
    keys = add(review, "Rotate the leaked keys", security, due(9), at(8, 13))

    close(pool, at(7, 18))
    close(monitoring, at(7, 10))
    close(flag, at(8, 12), status="wont_do", note="Superseded by the leak fix")
    close(runbook, at(10, 8))
    close(load_test, at(10, 12))
    return FollowUp(
        on_time=on_time,
        late=late,
        unpublished=unpublished,
        pending=pending,
        unrequired=unrequired,
        classified=classified,
        **{
            name: ActionItem.objects.get(pk=item.pk)
            for name, item in {
                "monitoring": monitoring,
                "runbook": runbook,
                "flag": flag,
                "leak": leak,
                "pool": pool,
                "breaker": breaker,
                "load_test": load_test,
                "keys": keys,
            }.items()
        },
    )
