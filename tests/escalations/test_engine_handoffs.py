"""Manual escalation with structured handoffs, acknowledgement, decisions, de-escalation."""

import json
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from escalations.engine import services as engine
from escalations.followup.war_room import war_room_activate
from escalations.models import Escalation
from escalations.policies.services import policy_create_from_spec
from escalations.rules.handoff import CHECKLIST
from escalations.rules.spec import LevelSpec, TargetSpec, TriggerSettings
from escalations.sla.services import incident_clocks
from incidents import services
from incidents.models import EventKind
from tests.escalations.conftest import H, simple_spec
from tests.factories import PASSWORD, AccountFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db

L2_FIELDS = ("context", "business_impact", "recommendation", "decision_sought")


@pytest.fixture
def policy(roles):
    spec = simple_spec(
        levels=(
            LevelSpec(1, "Engineer", handoff_fields=(), sla=TargetSpec(H, 8 * H)),
            LevelSpec(
                2,
                "Team lead",
                handoff_fields=("investigation_summary", "proposed_next_steps"),
                sla=TargetSpec(2 * H, 8 * H),
            ),
            LevelSpec(3, "Manager", handoff_fields=L2_FIELDS, sla=TargetSpec(H, 4 * H)),
        ),
        matrix=(),
        triggers=TriggerSettings(ping_pong_limit=2),
    )
    return policy_create_from_spec(spec=spec, name="ladder", make_default=True)


ALL_CHECKS = list(CHECKLIST)


def escalate(incident, actor, to_level=2, **overrides):
    kwargs = {
        "incident": incident,
        "to_level": to_level,
        "actor": actor,
        "reason": "Root cause in shared auth library",
        "category": "cross_team",
        "note": {
            "investigation_summary": "Token validation changed",
            "proposed_next_steps": "Coordinate with Auth team",
        },
        "checklist": ALL_CHECKS,
    }
    kwargs.update(overrides)
    return engine.incident_escalate(**kwargs)


def test_the_target_levels_required_fields_and_the_checklist(policy, agent):
    incident = make_incident(actor=agent)
    with pytest.raises(ValidationError) as error:
        escalate(incident, agent, to_level=3, note={"context": "x"}, checklist=ALL_CHECKS[:3])
    problems = error.value.message_dict
    assert {"note_business_impact", "note_recommendation", "note_decision_sought"} <= set(problems)
    assert "note_context" not in problems
    assert "check_recommendation" in problems
    assert not Escalation.objects.exists()
    incident.refresh_from_db()
    assert incident.current_level == 1


def test_manual_escalation_carries_the_context(policy, agent):
    incident = make_incident(
        actor=agent, account=AccountFactory(name="Acme", tier="premium"), users_affected=12
    )
    services.incident_comment(incident=incident, actor=agent, body="Checked the IdP logs")
    escalation = escalate(incident, agent, decision_sought="Approve the revert")
    assert escalation.trigger == "manual" and escalation.actor == agent
    facts = escalation.note["facts"]
    assert facts["account"]["account"] == "Acme"
    assert "12 users affected" in facts["impact"]
    assert any("Checked the IdP logs" in step for step in facts["steps_logged"])
    assert "resolution SLA" in facts["elapsed"]
    assert escalation.decision_sought == "Approve the revert"
    incident.refresh_from_db()
    assert (incident.current_level, incident.assignee, incident.handoff_at) == (
        2,
        None,
        escalation.at,
    )


def test_only_upwards_and_only_open(policy, agent):
    incident = make_incident(actor=agent)
    with pytest.raises(ValidationError, match="higher level"):
        escalate(incident, agent, to_level=1)
    services.incident_change_status(incident=incident, status="resolved", actor=agent, note="ok")
    with pytest.raises(ValidationError, match="reopen"):
        escalate(incident, agent)


def test_receiver_acknowledges_within_its_own_response_target(policy, agent, other_agent):
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    incident = make_incident(actor=agent, opened_at=t0, now=t0)
    escalate(incident, agent, now=t0 + H)
    incident.refresh_from_db()
    ack_clock = next(r for r in incident_clocks(incident, now=t0 + H) if r.clock == "handoff_ack")
    assert ack_clock.due_at == t0 + 3 * H  # L2's 2h first-response target
    escalation = engine.handoff_acknowledge(incident=incident, actor=other_agent, now=t0 + 2 * H)
    assert escalation.acknowledged_by == other_agent
    incident.refresh_from_db()
    assert incident.assignee == other_agent
    assert incident.events.filter(kind=EventKind.HANDOFF_ACKNOWLEDGED).count() == 1
    met = next(r for r in incident_clocks(incident, now=t0 + 2 * H) if r.clock == "handoff_ack")
    assert met.state == "met"
    with pytest.raises(ValidationError):
        engine.handoff_acknowledge(incident=incident, actor=agent)


def test_decision_is_recorded_once_with_its_time(policy, agent, manager):
    incident = make_incident(actor=agent)
    escalation = escalate(incident, agent, decision_sought="Revert or fix forward?")
    later = escalation.at + timedelta(minutes=25)
    escalation = engine.escalation_record_decision(
        escalation=escalation, actor=manager, decision="Revert", now=later
    )
    assert escalation.time_to_decision == timedelta(minutes=25)
    with pytest.raises(ValidationError, match="already"):
        engine.escalation_record_decision(escalation=escalation, actor=manager, decision="No")
    escalation.refresh_from_db()
    assert escalation.decision_made == "Revert"


def test_de_escalation_hands_follow_up_back(policy, agent, manager):
    incident = make_incident(actor=agent)
    up = escalate(incident, agent)
    with pytest.raises(ValidationError) as error:
        engine.incident_de_escalate(
            incident=incident, to_level=1, actor=manager, reason="x", resolution_summary=" "
        )
    assert "resolution_summary" in error.value.message_dict
    down = engine.incident_de_escalate(
        incident=incident,
        to_level=1,
        actor=manager,
        reason="Fix deployed",
        resolution_summary="Reverted; monitor for a day",
    )
    up.refresh_from_db()
    assert up.de_escalated_at == down.at and up.resolution_summary.startswith("Reverted")
    assert (down.from_level, down.to_level, down.trigger) == (2, 1, "de_escalation")
    incident.refresh_from_db()
    assert incident.current_level == 1 and incident.handoff_at is None


def test_ping_pong_flags_the_incident_for_review(policy, agent, manager):
    incident = make_incident(actor=agent)
    for _ in range(2):
        escalate(incident, agent)
        engine.incident_de_escalate(
            incident=incident, to_level=1, actor=manager, reason="back", resolution_summary="again"
        )
    incident.refresh_from_db()
    assert incident.bounces == 3 and incident.flagged_for_review
    assert incident.events.filter(kind=EventKind.FLAGGED).count() == 1
    assert "3 times" in incident.review_reason


def test_records_are_append_only_in_the_orm_and_the_database(policy, agent, manager):
    incident = make_incident(actor=agent)
    escalation = escalate(incident, agent)
    escalation.reason = "rewritten"
    with pytest.raises(TypeError):
        escalation.save()
    with pytest.raises(TypeError):
        escalation.delete()
    table = Escalation._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET reason = 'x' WHERE id = %s", [escalation.pk])
    engine.handoff_acknowledge(incident=incident, actor=manager)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET acknowledged_by_id = %s WHERE id = %s", [agent.pk, escalation.pk]
        )
    escalation.refresh_from_db()
    assert escalation.reason.startswith("Root cause") and escalation.acknowledged_by == manager


def test_json_export_has_seed_000s_shape(policy, agent, manager, client):
    incident = make_incident(actor=agent)
    escalation = escalate(
        incident,
        agent,
        to_level=3,
        note={
            "context": "c",
            "business_impact": "b",
            "recommendation": "r",
            "decision_sought": "Approve",
        },
    )
    engine.escalation_record_decision(escalation=escalation, actor=manager, decision="Approved")
    client.login(username=agent.username, password=PASSWORD)
    data = json.loads(client.get(reverse("escalations:json", args=[incident.reference])).content)
    record = data["escalation"]
    assert record["escalated"] is True and record["escalation_level"] == 3
    assert record["escalated_to"] == "manager"
    assert record["escalated_at"].endswith("Z")
    assert record["decision_made"] == "Approved" and record["decision_by"] == manager.email
    assert {"escalation_reason", "decision_at", "de_escalated_at", "resolution_summary"} <= set(
        record
    )


def test_tracking_document_has_seed_003s_sections(policy, agent, client):
    incident = make_incident(actor=agent)
    escalate(incident, agent)
    client.login(username=agent.username, password=PASSWORD)
    text = client.get(reverse("escalations:tracking", args=[incident.reference])).content.decode()
    for heading in (
        "# Escalation Tracking:",
        "**Type**: Technical",
        "**Status**: ESCALATED",
        "## Timeline",
        "## Actions & Owners",
        "## Communication Log",
        "## Resolution Plan",
    ):
        assert heading in text
    assert "- [ ] L2: Next tier engineer assigned (nobody has taken the handoff)" in text


def post(client, incident, action, data):
    return client.post(reverse("escalations:action", args=[incident.reference, action]), data)


def test_escalate_form_shows_errors_beside_fields_and_saves_nothing(policy, agent, client):
    incident = make_incident(actor=agent)
    client.login(username=agent.username, password=PASSWORD)
    page = client.get(reverse("incidents:detail", args=[incident.reference]))
    assert b"Context carried with the handoff" in page.content
    response = post(
        client,
        incident,
        "escalate",
        {"to_level": 2, "category": "expertise", "reason": "Need help"},
    )
    assert response.status_code == 400
    errors = response.context["escalate_form"].errors
    assert "note_investigation_summary" in errors and "check_documented" in errors
    assert not Escalation.objects.exists()


def test_escalate_acknowledge_decide_de_escalate_through_the_page(policy, agent, client, roles):
    lead = UserFactory(username="lead1", role="Team Lead")
    incident = make_incident(actor=agent)
    client.login(username=agent.username, password=PASSWORD)
    data = {
        "to_level": 2,
        "category": "expertise",
        "reason": "Need help",
        "note_investigation_summary": "Looked at logs",
        "note_proposed_next_steps": "Pair with the auth team",
        "decision_sought": "Who fixes it?",
        **{f"check_{key}": "on" for key in CHECKLIST},
    }
    assert post(client, incident, "escalate", data).status_code == 302
    client.login(username=lead.username, password=PASSWORD)
    assert post(client, incident, "acknowledge", {}).status_code == 302
    escalation = Escalation.objects.get()
    assert (
        post(
            client, incident, "decide", {"escalation": escalation.pk, "decision": "Auth team fixes"}
        ).status_code
        == 302
    )
    assert (
        post(
            client,
            incident,
            "de-escalate",
            {"to_level": 1, "reason": "Fixed", "resolution_summary": "Auth patched"},
        ).status_code
        == 302
    )
    escalation.refresh_from_db()
    assert escalation.acknowledged_by == lead and escalation.decision_made == "Auth team fixes"
    assert escalation.de_escalated_at is not None


def test_management_reasons_need_the_permission(policy, agent, manager, client):
    incident = make_incident(actor=agent)
    client.login(username=agent.username, password=PASSWORD)
    data = {
        "to_level": 2,
        "category": "strategic",
        "reason": "Key account",
        "note_investigation_summary": "x",
        "note_proposed_next_steps": "y",
        **{f"check_{key}": "on" for key in CHECKLIST},
    }
    response = post(client, incident, "escalate", data)
    assert response.status_code == 400  # not a choice for an agent
    assert "category" in response.context["escalate_form"].errors
    client.login(username=manager.username, password=PASSWORD)
    assert post(client, incident, "escalate", data).status_code == 302
    assert Escalation.objects.get().trigger == "management"


def test_agent_cannot_record_decisions(policy, agent, client):
    incident = make_incident(actor=agent)
    escalation = escalate(incident, agent)
    client.login(username=agent.username, password=PASSWORD)
    response = post(client, incident, "decide", {"escalation": escalation.pk, "decision": "x"})
    assert response.status_code == 403


def _form_action(html, form_id):
    """The URL the form with `form_id` posts to, or None without that form."""
    found = re.search(rf'<form[^>]*action="([^"]*)"[^>]*id="{form_id}"', html)
    return found and found.group(1)


def test_each_decision_form_shows_where_it_belongs_on_the_incident_page(
    policy, agent, manager, client
):
    incident = make_incident(actor=agent, severity="P0")
    ref = incident.reference
    decide_url = reverse("escalations:action", args=[ref, "decide"])
    escalate(incident, agent, decision_sought="Revert or fix forward?")
    client.login(username=manager.username, password=PASSWORD)
    html = client.get(reverse("incidents:detail", args=[ref])).content.decode()
    assert "Record the decision" in html
    assert _form_action(html, "action-decide") == decide_url
    assert _form_action(html, "action-war-room-decide") is None  # no war room, no such form

    war_room_activate(incident=incident, actor=manager, reason="sev1", commander=manager)
    html = client.get(reverse("incidents:detail", args=[ref])).content.decode()
    assert _form_action(html, "action-decide") == decide_url
    assert _form_action(html, "action-war-room-decide") == reverse(
        "escalations:war_room", args=[ref, "decide"]
    )


def test_admin_actions_escalate_acknowledge_decide_and_de_escalate(policy, agent, manager, client):
    incident = make_incident(actor=agent)
    client.login(username=manager.username, password=PASSWORD)
    incidents_url = reverse("admin:incidents_incident_changelist")
    form_page = client.post(
        incidents_url, {"action": "escalate", "_selected_action": [incident.pk]}
    )
    assert b"Investigation summary" in form_page.content  # the target level's note fields
    bad = client.post(
        incidents_url,
        {
            "action": "escalate",
            "_selected_action": [incident.pk],
            "apply": "1",
            "to_level": 2,
            "category": "expertise",
            "reason": "help",
        },
    )
    assert bad.status_code == 200 and bad.context["form"].errors
    assert not Escalation.objects.exists()
    client.post(
        incidents_url,
        {
            "action": "escalate",
            "_selected_action": [incident.pk],
            "apply": "1",
            "to_level": 2,
            "category": "expertise",
            "reason": "help",
            "decision_sought": "Who owns it?",
            "note_investigation_summary": "logs",
            "note_proposed_next_steps": "pair",
            **{f"check_{key}": "on" for key in CHECKLIST},
        },
    )
    escalation = Escalation.objects.get()
    escalations_url = reverse("admin:escalations_escalation_changelist")
    client.post(escalations_url, {"action": "acknowledge", "_selected_action": [escalation.pk]})
    client.post(
        escalations_url,
        {
            "action": "decide",
            "_selected_action": [escalation.pk],
            "apply": "1",
            "decision": "Team A owns it",
        },
    )
    client.post(
        incidents_url,
        {
            "action": "de_escalate",
            "_selected_action": [incident.pk],
            "apply": "1",
            "to_level": 1,
            "reason": "done",
            "resolution_summary": "Fixed by team A",
        },
    )
    escalation.refresh_from_db()
    assert escalation.acknowledged_by == manager
    assert escalation.decision_made == "Team A owns it"
    assert escalation.resolution_summary == "Fixed by team A"


def test_bouncing_away_and_back_never_buys_a_fresh_level_clock(roles, agent, manager):
    """Seed 001 "SLA clock games": with per-level budgets, escalating and then
    de-escalating returns to the level's running clock, not a new one."""
    spec = simple_spec(
        clock_start="level",
        levels=(
            LevelSpec(1, "Front line", handoff_fields=(), sla=TargetSpec(H, 8 * H)),
            LevelSpec(2, "Specialists", handoff_fields=(), sla=TargetSpec(H, 4 * H)),
        ),
        matrix=(),
    )
    policy_create_from_spec(spec=spec, name="tiers", make_default=True)
    start = timezone.now() - 6 * H
    incident = make_incident(actor=agent, opened_at=start, now=start)
    services.incident_acknowledge(incident=incident, actor=agent, now=start + H)
    engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=agent,
        reason="Needs a specialist",
        category="expertise",
        note={},
        checklist=ALL_CHECKS,
        now=start + 3 * H,
    )
    engine.incident_de_escalate(
        incident=incident,
        to_level=1,
        actor=manager,
        reason="Back to the front line",
        resolution_summary="Config fixed; L1 follows up",
        now=start + 4 * H,
    )
    incident.refresh_from_db()
    [resolution] = [c for c in incident_clocks(incident, start + 5 * H) if c.clock == "resolution"]
    assert resolution.start == start
    assert resolution.elapsed == 5 * H  # not 1 h: L1's clock never restarted

    engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=agent,
        reason="Again",
        category="expertise",
        note={},
        checklist=ALL_CHECKS,
        now=start + 5 * H,
    )
    incident.refresh_from_db()
    [resolution] = [c for c in incident_clocks(incident, start + 6 * H) if c.clock == "resolution"]
    assert resolution.start == start + 3 * H  # L2 first took it at +3 h
