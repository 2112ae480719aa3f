"""The clock summary stored on each incident row, which queues and metrics query in SQL."""

from datetime import UTC, datetime, timedelta

import pytest

from escalations.engine import services as engine
from escalations.rules.clocks import IncidentFacts, compute_clocks, stored_columns
from escalations.rules.handoff import CHECKLIST
from incidents import services
from incidents.models import Incident
from tests.escalations.conftest import H, simple_spec
from tests.factories import make_incident

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def facts(**changes):
    base = {
        "opened_at": T0,
        "severity": "P2",
        "level": 1,
        "level_entered_at": T0,
        "statuses": ((T0, "new"),),
    }
    return IncidentFacts(**{**base, **changes})


def test_running_clocks_give_the_earliest_warning_and_due_instants():
    readings = compute_clocks(
        facts(), simple_spec(), T0 + 10 * 60 * timedelta(seconds=1), warning_percent=75
    )
    values = stored_columns(readings, is_open=True)
    assert values["sla_warning_at"] == T0 + timedelta(minutes=45)  # 75 % of the 1h response
    assert values["sla_due_at"] == T0 + H
    assert values["first_response_due_at"] == T0 + H
    assert values["resolution_due_at"] == T0 + 8 * H
    assert values["first_response_breached"] is None
    assert values["resolution_breached"] is None


def test_met_clocks_leave_the_urgent_instants_and_record_on_time_or_late():
    answered = facts(first_response_at=T0 + 2 * H)
    readings = compute_clocks(answered, simple_spec(), T0 + 3 * H, warning_percent=75)
    values = stored_columns(readings, is_open=True)
    assert values["first_response_breached"] is True  # answered after the 1h target
    assert values["sla_due_at"] == T0 + 8 * H  # only resolution runs now
    assert values["sla_warning_at"] == T0 + 6 * H

    resolved = facts(
        first_response_at=T0 + 10 * timedelta(minutes=1),
        statuses=((T0, "new"), (T0 + 5 * H, "resolved")),
    )
    readings = compute_clocks(resolved, simple_spec(), T0 + 6 * H, warning_percent=75)
    values = stored_columns(readings, is_open=False)
    assert values["first_response_breached"] is False
    assert values["resolution_breached"] is False
    assert values["sla_due_at"] is None and values["sla_warning_at"] is None


def test_an_overdue_running_clock_counts_as_breached():
    readings = compute_clocks(facts(), simple_spec(), T0 + 2 * H, warning_percent=75)
    values = stored_columns(readings, is_open=True)
    assert values["first_response_breached"] is True
    assert values["sla_due_at"] == T0 + H


def test_a_pause_before_the_warning_leaves_no_warning_instant():
    waiting = facts(statuses=((T0, "new"), (T0 + timedelta(minutes=10), "waiting_on_customer")))
    readings = compute_clocks(waiting, simple_spec(), T0 + H, warning_percent=75)
    values = stored_columns(readings, is_open=True)
    assert values["sla_warning_at"] is None
    assert values["sla_due_at"] is None


@pytest.mark.django_db
def test_services_keep_the_columns_right(default_policy, agent):
    incident = make_incident(actor=agent, opened_at=T0, now=T0)
    incident.refresh_from_db()
    assert incident.sla_due_at == T0 + H
    assert incident.sla_warning_at == T0 + timedelta(minutes=45)
    assert incident.peak_level == 1

    services.incident_acknowledge(
        incident=incident, actor=agent, now=T0 + 30 * timedelta(minutes=1)
    )
    incident.refresh_from_db()
    assert incident.first_response_breached is False
    assert incident.sla_due_at == T0 + 8 * H

    engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=agent,
        reason="Needs specialists",
        category="expertise",
        note=dict.fromkeys(
            (
                "customer_context",
                "symptoms",
                "customer_impact",
                "business_impact",
                "steps_taken",
                "suggested_next_step",
            ),
            "x",
        ),
        checklist=list(CHECKLIST),
        now=T0 + H,
    )
    incident.refresh_from_db()
    assert incident.peak_level == 2
    # L2 resolves within 4h of the opening; its handoff must be acknowledged within 2h.
    assert incident.sla_due_at == T0 + 3 * H
    assert incident.resolution_due_at == T0 + 4 * H

    engine.incident_de_escalate(
        incident=incident,
        to_level=1,
        actor=agent,
        reason="Fixed",
        resolution_summary="Patched",
        now=T0 + 2 * H,
    )
    services.incident_change_status(
        incident=incident, status="resolved", actor=agent, note="Done", now=T0 + 9 * H
    )
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.peak_level == 2  # de-escalation keeps the highest level reached
    assert incident.resolution_breached is True  # 9h against L1's 8h
    assert incident.sla_due_at is None and incident.sla_warning_at is None
    assert incident.next_check_at is None


@pytest.mark.django_db
def test_backfill_command_fills_rows_written_without_the_columns(default_policy, agent):
    from django.core.management import call_command

    incident = make_incident(actor=agent, opened_at=T0, now=T0)
    Incident.objects.filter(pk=incident.pk).update(sla_due_at=None, first_response_due_at=None)
    call_command("sla_backfill", verbosity=0, stdout=__import__("io").StringIO())
    incident.refresh_from_db()
    assert incident.sla_due_at == T0 + H
    assert incident.first_response_due_at == T0 + H
