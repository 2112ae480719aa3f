"""Time-based triggers: 50 % warns, 75 % pre-notifies, 100 % escalates; once each."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from escalations.engine.services import sla_sweep
from escalations.models import Escalation, ThresholdFiring
from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, TargetSpec
from incidents import services
from incidents.models import EventKind
from notifications.models import Notification
from tests.escalations.conftest import H, simple_spec
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(roles):
    UserFactory(username="l2-person", email="l2@example.com", role="Team Lead")
    from django.contrib.auth.models import Group

    Group.objects.get_or_create(name="specialists")[0].user_set.add(
        UserFactory(username="specialist", email="specialist@example.com")
    )
    spec = simple_spec(
        levels=(
            LevelSpec(
                1,
                "Front line",
                contacts=(("email", "frontline@example.com"),),
                sla=TargetSpec(resolution=8 * H),
            ),
            LevelSpec(
                2,
                "Specialists",
                team="specialists",
                contacts=(("email", "specialists@example.com"),),
                sla=TargetSpec(resolution=16 * H),
            ),
        ),
        matrix=(),
    )
    return policy_create_from_spec(spec=spec, name="standard", make_default=True)


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(days=1)


def kinds(incident):
    return list(incident.events.order_by("at", "id").values_list("kind", flat=True))


def test_fifty_percent_warns_the_assignee_once(policy, agent, t0):
    incident = make_incident(actor=agent, assignee=agent, opened_at=t0, now=t0)
    assert incident.next_check_at == t0 + 4 * H
    assert sla_sweep(now=t0 + 4 * H - timedelta(seconds=1)) == {}  # not yet
    result = sla_sweep(now=t0 + 4 * H)
    assert result["fired"] == 1 and result.get("escalated", 0) == 0
    firing = ThresholdFiring.objects.get()
    assert (firing.clock, firing.level, firing.percent, firing.action) == (
        "resolution",
        1,
        50,
        "warn_assignee",
    )
    warning = Notification.objects.get(kind="sla_warning")
    assert warning.recipient == agent.email
    assert "[SLA 50%]" in warning.subject
    assert kinds(incident).count(EventKind.SLA_THRESHOLD) == 1
    incident.refresh_from_db()
    assert incident.next_check_at == t0 + 6 * H
    assert sla_sweep(now=t0 + 4 * H) == {}  # a second run finds nothing: fired once


def test_seventy_five_percent_tells_the_next_level(policy, agent, t0):
    incident = make_incident(actor=agent, assignee=agent, opened_at=t0, now=t0)
    sla_sweep(now=t0 + 6 * H)
    notice = Notification.objects.filter(kind="pre_escalation")
    assert set(notice.values_list("recipient", flat=True)) == {
        "specialists@example.com",
        "specialist@example.com",
    }
    assert ThresholdFiring.objects.filter(incident=incident).count() == 2  # 50 and 75


def test_one_hundred_percent_escalates_and_the_new_levels_targets_apply(policy, agent, t0):
    incident = make_incident(actor=agent, assignee=agent, opened_at=t0, now=t0)
    result = sla_sweep(now=t0 + 8 * H)
    assert result["escalated"] == 1
    incident.refresh_from_db()
    assert incident.current_level == 2 and incident.level_entered_at == t0 + 8 * H
    assert incident.assignee is None  # the receiving level owns it now
    escalation = Escalation.objects.get()
    assert (escalation.trigger, escalation.from_level, escalation.to_level) == ("sla", 1, 2)
    assert escalation.actor is None and escalation.clock == "resolution"
    assert float(escalation.sla_percent) == 100.0
    assert escalation.note["generated"] is True
    assert "Resolution clock reached 100%" in escalation.reason
    # L2's 16h target counts from the opening: 50 % (8h) passed on arrival and
    # does not fire at L2; 75 % (12h) is next.
    assert incident.next_check_at == t0 + 12 * H
    assert EventKind.ESCALATED in kinds(incident)
    assert Notification.objects.filter(kind="escalation").exists()


def test_late_sweep_fires_everything_due_in_order_and_escalates_once(policy, agent, t0):
    incident = make_incident(actor=agent, assignee=agent, opened_at=t0, now=t0)
    sla_sweep(now=t0 + 13 * H)  # far behind: 50, 75, 100 at L1, all at once
    firings = list(
        ThresholdFiring.objects.filter(incident=incident)
        .order_by("id")
        .values_list("level", "percent")
    )
    # Arriving at L2 at 13h, L2's 50 % (8h) and 75 % (12h) were reached before.
    assert firings == [(1, 50), (1, 75), (1, 100)]
    assert Escalation.objects.count() == 1
    incident.refresh_from_db()
    assert incident.next_check_at == t0 + 16 * H
    sla_sweep(now=t0 + 13 * H)
    assert ThresholdFiring.objects.filter(incident=incident).count() == 3


def test_top_level_breach_tells_management_and_stays(policy, agent, t0):
    incident = make_incident(actor=agent, opened_at=t0, now=t0)
    sla_sweep(now=t0 + 8 * H)
    sla_sweep(now=t0 + 16 * H)
    incident.refresh_from_db()
    assert incident.current_level == 2
    assert Escalation.objects.count() == 1
    assert Notification.objects.filter(kind="top_level_breach").exists()
    assert incident.next_check_at is None


def test_paused_and_resolved_incidents_do_not_fire(policy, agent, t0):
    waiting = make_incident(actor=agent, opened_at=t0, now=t0)
    services.incident_change_status(
        incident=waiting, status="waiting_on_customer", actor=agent, now=t0 + H
    )
    done = make_incident(actor=agent, opened_at=t0, now=t0)
    services.incident_change_status(
        incident=done, status="resolved", actor=agent, note="ok", now=t0 + H
    )
    assert sla_sweep(now=t0 + 20 * H) == {}
    assert not ThresholdFiring.objects.exists()


def test_sweep_command_runs_the_same_code(policy, agent, t0):
    make_incident(actor=agent, assignee=agent, opened_at=t0 - 5 * H, now=t0 - 5 * H)
    out = StringIO()
    call_command("sla_sweep", stdout=out)
    assert "threshold(s) fired" in out.getvalue()
    assert ThresholdFiring.objects.exists()
    out = StringIO()
    call_command("sla_sweep", stdout=out)
    assert "Nothing was due" in out.getvalue()


def test_the_unique_constraint_refuses_a_second_firing(policy, agent, t0):
    from django.db import IntegrityError, transaction

    incident = make_incident(actor=agent, opened_at=t0, now=t0)
    fields = {
        "incident": incident,
        "clock": "resolution",
        "level": 1,
        "percent": 50,
        "action": "warn_assignee",
        "due_at": t0,
        "fired_at": t0,
    }
    ThresholdFiring.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        ThresholdFiring.objects.create(**fields)


@pytest.fixture
def seed_002_matrix(roles):
    """The shipped P0-P3 preset without its level deadlines and its tiers' own times: these
    tests follow the resolution and handoff ladders alone (test_level_deadlines replays
    the deadlines, which move a P1 to L3 within the hour, and test_time_at_level the
    tiers' "not resolved in 30 minutes / 2 hours / 8 hours", which move it sooner)."""
    from dataclasses import replace
    from pathlib import Path

    from escalations.policies.workflow_yaml import load_workflow_file

    preset = Path(__file__).resolve().parents[2] / "escalations/workflows/p0-p3-matrix.yaml"
    spec = load_workflow_file(preset)
    spec = replace(spec.without_time_limits(), deadlines=())
    policy_create_from_spec(spec=spec, name="p0-p3-matrix", make_default=True)


def test_an_acknowledged_p1_keeps_climbing_one_level_per_target(seed_002_matrix, agent, t0):
    """Seed 002: P1 resolution 4h. Each level that cannot resolve it in its 4h
    hands it up; the ladder neither stalls after one move nor jumps to the top."""
    from escalations.engine import services as engine

    incident = make_incident(actor=agent, severity="P1", opened_at=t0, now=t0)
    services.incident_acknowledge(incident=incident, actor=agent, now=t0 + timedelta(minutes=5))
    levels = []
    for hours in (4, 8, 12):
        sla_sweep(now=t0 + hours * H - timedelta(seconds=1))
        sla_sweep(now=t0 + hours * H)
        incident.refresh_from_db()
        levels.append(incident.current_level)
        engine.handoff_acknowledge(
            incident=incident, actor=agent, now=t0 + hours * H + timedelta(minutes=1)
        )
    assert levels == [2, 3, 4]
    assert list(Escalation.objects.order_by("at").values_list("from_level", "to_level")) == [
        (1, 2),
        (2, 3),
        (3, 4),
    ]


def test_an_unacknowledged_handoff_moves_on_after_the_receivers_response_target(
    seed_002_matrix, agent, t0
):
    """Seed 002: L2 answers a P1 within 30 minutes; a handoff nobody takes is
    escalated when that target runs out (warned and pre-notified before)."""
    incident = make_incident(actor=agent, severity="P1", opened_at=t0, now=t0)
    services.incident_acknowledge(incident=incident, actor=agent, now=t0 + timedelta(minutes=5))
    sla_sweep(now=t0 + 4 * H)
    incident.refresh_from_db()
    assert incident.current_level == 2 and incident.next_check_at == t0 + 4 * H + timedelta(
        minutes=15
    )
    sla_sweep(now=t0 + 4 * H + timedelta(minutes=29))
    incident.refresh_from_db()
    assert incident.current_level == 2
    assert set(
        ThresholdFiring.objects.filter(incident=incident, clock="handoff_ack").values_list(
            "percent", flat=True
        )
    ) == {50, 75}
    sla_sweep(now=t0 + 4 * H + timedelta(minutes=30))
    incident.refresh_from_db()
    assert incident.current_level == 3
    last = Escalation.objects.order_by("-at").first()
    assert last.clock == "handoff_ack" and (last.from_level, last.to_level) == (2, 3)
