"""Incidents announce their lifecycle through incidents.lifecycle, and know no other app.

Each service announces its step to the registered implementation inside the
transaction of the change (after the timeline event is written); an
implementation that raises rolls the change back. With nothing registered,
incidents work alone.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from escalations.lifecycle import EscalationsLifecycle
from incidents import lifecycle, services
from incidents.lifecycle import NoLifecycle, StartingPolicy
from incidents.models import EventKind, Incident, IncidentEvent
from incidents.rules import Status
from tests.factories import make_incident

# Another step of the redesign moves these two off escalations and notifications.


class Recorder:
    """Records each announcement, how deep in transactions it came, and what it was told."""

    def __init__(self, *, fail_on: str | None = None):
        self.calls: list[tuple[str, dict, int]] = []
        self.fail_on = fail_on

    def _record(self, name: str, **kwargs):
        self.calls.append((name, kwargs, len(connection.atomic_blocks)))
        if name == self.fail_on:
            raise RuntimeError(f"{name} failed")

    def names(self) -> list[str]:
        return [name for name, _, _ in self.calls]

    def policy_for_new_incident(self, *, channel, account, component) -> StartingPolicy:
        self._record("policy_for_new_incident", channel=channel)
        return StartingPolicy(policy=None, level=3)

    def created(self, *, incident, now) -> None:
        self._record("created", incident=incident, now=now)

    def changed(self, *, incident, now, triggers=False, actor=None):
        self._record("changed", incident=incident, now=now, triggers=triggers, actor=actor)
        return []

    def resolved(self, *, incident, event, actor, now) -> None:
        self._record("resolved", incident=incident, event=event, actor=actor, now=now)

    def reopened(self, *, incident, event, actor, now) -> None:
        self._record("reopened", incident=incident, event=event, actor=actor, now=now)

    def public_update_posted(self, *, incident, event, now) -> None:
        self._record("public_update_posted", incident=incident, event=event, now=now)

    def customer_replied(self, *, incident, event, now) -> None:
        self._record("customer_replied", incident=incident, event=event, now=now)

    def rated(self, *, incident, event, rating, now) -> None:
        self._record("rated", incident=incident, event=event, rating=rating, now=now)

    def severity_meanings(self, *, incident=None) -> list:
        return []  # a read, not a step: nothing to record


@pytest.fixture
def swap_lifecycle():
    """Register another implementation for one test; the real one comes back after."""
    real = lifecycle.registered()

    def swap(implementation):
        lifecycle.register(implementation)
        return implementation

    yield swap
    lifecycle.register(real)


@pytest.fixture
def t0():
    return timezone.now() - timedelta(hours=5)


def test_escalations_registers_its_implementation_at_startup():
    assert isinstance(lifecycle.registered(), EscalationsLifecycle)


def test_register_refuses_what_does_not_implement_the_interface(swap_lifecycle):
    with pytest.raises(TypeError):
        lifecycle.register(object())


@pytest.mark.django_db
def test_each_step_is_announced_inside_the_transaction_of_the_change(agent, swap_lifecycle, t0):
    recorder = swap_lifecycle(Recorder())
    outside = len(connection.atomic_blocks)

    incident = make_incident(actor=agent, opened_at=t0, now=t0)
    assert recorder.names() == ["policy_for_new_incident", "created"]
    # The test runs in a transaction; each announcement came from one level deeper.
    assert all(depth > outside for _, _, depth in recorder.calls)
    assert incident.current_level == incident.peak_level == 3  # the implementation chose it
    _, told, _ = recorder.calls[1]
    assert told["incident"].pk == incident.pk
    assert incident.events.get().kind == EventKind.CREATED  # written before `created`

    def step(service, expected, **kwargs):
        recorder.calls.clear()
        result = service(**kwargs)
        assert recorder.names() == expected, service.__name__
        assert all(depth > outside for _, _, depth in recorder.calls), service.__name__
        return result

    at = t0 + timedelta(minutes=5)
    step(services.incident_acknowledge, ["changed"], incident=incident, actor=agent, now=at)
    step(
        services.incident_change_severity,
        ["changed"],
        incident=incident,
        severity="P1",
        actor=agent,
        reason="More customers",
        now=at,
    )
    assert recorder.calls[0][1]["triggers"] is True  # raised: triggers are checked
    assert recorder.calls[0][1]["actor"] == agent
    step(
        services.incident_change_severity,
        ["changed"],
        incident=incident,
        severity="P3",
        actor=agent,
        reason="Fewer customers",
        now=at,
    )
    assert recorder.calls[0][1]["triggers"] is False  # lowered: no triggers
    step(
        services.incident_update_details,
        ["changed"],
        incident=incident,
        actor=agent,
        changes={"users_affected": 40},
        now=at,
    )
    assert recorder.calls[0][1]["triggers"] is True
    update = step(
        services.incident_post_public_update,
        ["changed", "public_update_posted"],
        incident=incident,
        actor=agent,
        body="We are on it.",
        now=at,
    )
    assert recorder.calls[1][1]["event"] == update
    step(
        services.incident_change_status,
        ["changed"],
        incident=incident,
        status=Status.WAITING_ON_CUSTOMER,
        actor=agent,
        now=at,
    )
    reply = step(
        services.incident_customer_reply,
        ["changed", "customer_replied"],
        incident=incident,
        body="Still broken here.",
        from_email="jane@customer.example",
        via="email",
        now=at,
    )
    assert recorder.calls[1][1]["event"] == reply
    # Announced after the status went back to investigating.
    assert recorder.calls[1][1]["incident"].status == Status.INVESTIGATING
    step(
        services.incident_change_status,
        ["resolved", "changed"],
        incident=incident,
        status=Status.RESOLVED,
        actor=agent,
        note="Restarted the gateway.",
        now=at,
    )
    resolved = recorder.calls[0][1]
    assert resolved["incident"].status == Status.RESOLVED
    assert resolved["event"].kind == EventKind.STATUS_CHANGED
    assert resolved["event"].pk is not None
    assert resolved["actor"] == agent
    step(
        services.incident_customer_rate,
        ["rated"],
        incident=incident,
        rating=2,
        now=at,
    )
    assert recorder.calls[0][1]["rating"] == 2
    assert recorder.calls[0][1]["event"].kind == EventKind.CUSTOMER_RATING
    step(
        services.incident_reopen,
        ["reopened", "changed"],
        incident=incident,
        actor=agent,
        reason="It came back.",
        now=at,
    )
    assert recorder.calls[0][1]["event"].kind == EventKind.REOPENED
    # Comments and assignment change nothing that follows.
    step(services.incident_comment, [], incident=incident, actor=agent, body="Note.", now=at)
    step(services.incident_assign, [], incident=incident, assignee=None, actor=agent, now=at)


@pytest.mark.django_db
def test_an_implementation_that_raises_rolls_the_change_back(agent, swap_lifecycle, t0):
    incident = make_incident(actor=agent, opened_at=t0, now=t0)
    swap_lifecycle(Recorder(fail_on="resolved"))

    with pytest.raises(RuntimeError, match="resolved failed"):
        services.incident_change_status(
            incident=incident, status=Status.RESOLVED, actor=agent, note="Fixed.", now=t0
        )
    incident.refresh_from_db()
    assert incident.status == Status.NEW
    assert incident.resolved_at is None
    assert list(incident.events.values_list("kind", flat=True)) == [EventKind.CREATED]


@pytest.mark.django_db
def test_a_failing_creation_announcement_leaves_no_incident(agent, swap_lifecycle, t0):
    swap_lifecycle(Recorder(fail_on="created"))
    with pytest.raises(RuntimeError):
        make_incident(actor=agent, opened_at=t0, now=t0)
    assert not Incident.objects.exists()
    assert not IncidentEvent.objects.exists()


@pytest.mark.django_db
def test_with_nothing_registered_incidents_work_alone(agent, swap_lifecycle, t0):
    swap_lifecycle(NoLifecycle())
    incident = make_incident(actor=agent, opened_at=t0, now=t0)
    assert incident.policy is None
    assert incident.current_level == 1
    services.incident_acknowledge(incident=incident, actor=agent, now=t0)
    incident = services.incident_change_status(
        incident=incident, status=Status.RESOLVED, actor=agent, note="Fixed.", now=t0
    )
    assert incident.status == Status.RESOLVED
    services.incident_customer_rate(incident=incident, rating=1, now=t0)
    with pytest.raises(ValidationError):
        services.incident_customer_rate(incident=incident, rating=1, now=t0)
