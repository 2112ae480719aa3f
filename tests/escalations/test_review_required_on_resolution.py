"""A required review opens in the transaction that resolves the incident, due 48 h later:
P0 (seed 004), escalated to L3 or above (seed 001), and whatever the policy adds."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalations.engine.policy_moves import policy_move_open_incidents
from escalations.engine.services import incident_escalate
from escalations.followup.reviews import review_create, review_requirement
from escalations.followup.vendors import vendor_case_open
from escalations.followup.war_room import war_room_activate
from escalations.models import Policy, PostIncidentReview, ReviewStatus
from escalations.policies.services import policy_create_from_spec
from escalations.rules.handoff import CHECKLIST
from escalations.rules.spec import LevelSpec, ReviewSettings, TargetSpec, WorkflowSpec
from incidents import services
from incidents.models import EventKind
from notifications.models import Notification
from tests.factories import make_incident

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


def ladder(**reviews) -> WorkflowSpec:
    return WorkflowSpec(
        levels=tuple(
            LevelSpec(n, f"Level {n}", handoff_fields=(), sla=TargetSpec(resolution=8 * H))
            for n in (1, 2, 3)
        ),
        reviews=ReviewSettings(**reviews),
    )


@pytest.fixture
def policy(db):
    return policy_create_from_spec(spec=ladder(), name="ladder", make_default=True)


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(days=3)


def resolve(incident, actor, at):
    return services.incident_change_status(
        incident=incident, status="resolved", actor=actor, note="Rolled back.", now=at
    )


def test_resolving_a_p0_opens_the_review_due_48_hours_later(policy, agent, t0):
    incident = make_incident(actor=agent, severity="P0", assignee=agent, opened_at=t0, now=t0)
    services.incident_acknowledge(incident=incident, actor=agent, now=t0 + 0.1 * H)
    resolve(incident, agent, t0 + 3 * H)
    review = PostIncidentReview.objects.get(incident=incident)
    assert review.status == ReviewStatus.DRAFT
    assert review.required and review.required_reasons == ["P0 incident"]
    assert review.due_at == t0 + 3 * H + 48 * H
    assert review.owner == agent
    # Drafted from the incident: the timeline already tells the story.
    texts = [entry["text"] for entry in review.timeline]
    assert texts[0].startswith("Incident opened by")
    assert texts[-1] == "Resolved by " + str(agent) + ": Rolled back."
    event = incident.events.get(kind=EventKind.REVIEW)
    assert "Required: P0 incident" in event.body
    requested = Notification.objects.get(kind="pir_reminder")
    assert requested.recipient == agent.email
    assert requested.subject.startswith("[PIR DUE")


def test_a_p2_at_level_one_needs_no_review(policy, agent, t0):
    incident = make_incident(actor=agent, severity="P2", opened_at=t0, now=t0)
    resolve(incident, agent, t0 + H)
    assert not PostIncidentReview.objects.exists()


def test_an_incident_that_reached_level_three_needs_one_even_after_coming_down(policy, agent, t0):
    incident = make_incident(actor=agent, severity="P2", opened_at=t0, now=t0)
    incident_escalate(
        incident=incident,
        to_level=3,
        actor=agent,
        reason="Needs engineering",
        category="expertise",
        note={},
        checklist=list(CHECKLIST),
        now=t0 + H,
    )
    from escalations.engine.services import incident_de_escalate

    incident_de_escalate(
        incident=incident,
        to_level=1,
        actor=agent,
        reason="Fixed",
        resolution_summary="Patched",
        now=t0 + 2 * H,
    )
    resolve(incident, agent, t0 + 3 * H)
    review = PostIncidentReview.objects.get(incident=incident)
    assert review.required_reasons == ["escalated to L3 (reviews from L3)"]


def test_the_policy_decides_what_else_requires_one(agent, security_user, t0):
    spec = ladder(required_severities=(), required_from_level=None, required_when=("security",))
    policy_create_from_spec(spec=spec, name="strict", make_default=True)
    plain = make_incident(actor=agent, severity="P0", opened_at=t0, now=t0)
    secret = make_incident(actor=agent, severity="P3", is_security=True, opened_at=t0, now=t0)
    resolve(plain, agent, t0 + H)
    # The security trigger handed it up (unassigned): only Security and managers see it now.
    resolve(secret, security_user, t0 + H)
    assert list(PostIncidentReview.objects.values_list("incident", flat=True)) == [secret.pk]


def test_a_policy_move_onto_level_three_counts_as_reaching_it(policy, agent, manager, t0):
    incident = make_incident(actor=agent, severity="P2", opened_at=t0, now=t0)
    spec = WorkflowSpec(
        levels=(LevelSpec(3, "Level 3", handoff_fields=(), sla=TargetSpec(resolution=8 * H)),)
    )
    policy_create_from_spec(spec=spec, name="ladder")
    assert (
        policy_move_open_incidents(
            policy=Policy.objects.get(name="ladder", version=2), actor=manager
        )
        == 1
    )
    incident.refresh_from_db()
    assert incident.current_level == 3
    resolve(incident, agent, t0 + H)
    review = PostIncidentReview.objects.get(incident=incident)
    assert review.required_reasons == ["escalated to L3 (reviews from L3)"]


def test_a_war_room_or_vendor_case_requires_one_where_the_policy_says_so(agent, manager, t0):
    def flagged(policy_name, required_when):
        spec = ladder(required_severities=(), required_from_level=None, required_when=required_when)
        policy = policy_create_from_spec(spec=spec, name=policy_name, make_default=True)
        incident = make_incident(actor=agent, severity="P0", opened_at=t0, now=t0)
        assert incident.policy == policy
        war_room_activate(
            incident=incident, actor=agent, reason="sev1", commander=agent, now=t0 + 0.1 * H
        )
        vendor_case_open(
            incident=incident,
            actor=agent,
            vendor="Azure",
            case_id=policy_name,
            severity="Sev A",
            owner=agent,
            now=t0 + 0.2 * H,
        )
        with CaptureQueriesContext(connection) as queries:
            reasons = review_requirement(incident)
        tables = " ".join(q["sql"] for q in queries)
        return reasons, "warroom" in tables, "vendorcase" in tables

    assert flagged("both", ("vendor", "war_room")) == (
        ["a vendor case was opened", "a war room was activated"],
        True,
        True,
    )
    assert flagged("rooms", ("war_room",)) == (["a war room was activated"], True, False)
    assert flagged("neither", ("security",)) == ([], False, False)


def test_a_failing_resolution_leaves_no_review_behind(policy, agent, t0):
    incident = make_incident(actor=agent, severity="P0", opened_at=t0, now=t0)
    with (
        mock.patch("escalations.lifecycle.sla_refresh", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        resolve(incident, agent, t0 + H)
    incident.refresh_from_db()
    assert incident.status == "new"
    assert not PostIncidentReview.objects.exists()  # same transaction, rolled back together


def test_resolving_again_after_a_reopen_moves_the_due_time(policy, agent, t0):
    incident = make_incident(actor=agent, severity="P0", opened_at=t0, now=t0)
    resolve(incident, agent, t0 + H)
    services.incident_reopen(incident=incident, actor=agent, reason="Back", now=t0 + 2 * H)
    review = PostIncidentReview.objects.get(incident=incident)
    assert review.due_at is None and review.next_reminder_at is None  # not due while open
    resolve(incident, agent, t0 + 5 * H)
    review = PostIncidentReview.objects.get(incident=incident)
    assert review.due_at == t0 + 5 * H + 48 * H
    assert PostIncidentReview.objects.count() == 1


def test_a_review_started_by_hand_becomes_required_and_gets_its_due_time(policy, agent, t0):
    incident = make_incident(actor=agent, severity="P0", opened_at=t0, now=t0)
    review = review_create(incident=incident, actor=agent, now=t0 + H)
    assert review.due_at is None  # not resolved yet
    with pytest.raises(ValidationError):
        review_create(incident=incident, actor=agent, now=t0 + H)
    resolve(incident, agent, t0 + 2 * H)
    review.refresh_from_db()
    assert review.due_at == t0 + 50 * H and review.required
