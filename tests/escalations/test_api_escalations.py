"""Escalation API: the engine's moves with the handoff note the target level requires,
acknowledgement, decisions, de-escalation, the records, and policies (read-only)."""

import pytest

from escalations.models import Escalation
from escalations.policies.services import policy_create_from_spec
from escalations.rules.handoff import CHECKLIST
from escalations.rules.spec import LevelSpec, TargetSpec, TriggerSettings
from tests.api_client import results, token_client
from tests.escalations.conftest import H, simple_spec
from tests.factories import AccountFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db

L2_NOTE = {"investigation_summary": "Token validation changed", "proposed_next_steps": "Ask Auth"}


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
            LevelSpec(
                3,
                "Manager",
                handoff_fields=("context", "business_impact", "decision_sought"),
                sla=TargetSpec(H, 4 * H),
            ),
        ),
        matrix=(),
        triggers=TriggerSettings(ping_pong_limit=2),
    )
    return policy_create_from_spec(spec=spec, name="ladder", make_default=True)


@pytest.fixture
def incident(policy, agent):
    return make_incident(actor=agent, title="Login loops")


@pytest.fixture
def lead(roles):
    return UserFactory(username="lead1", role="Team Lead")


def url(incident, action):
    return f"/api/incidents/{incident.reference}/{action}/"


def escalate_body(**changes):
    return {
        "to_level": 2,
        "category": "cross_team",
        "reason": "Root cause in the shared auth library",
        "note": L2_NOTE,
        "checklist": list(CHECKLIST),
        **changes,
    }


def test_options_list_the_note_fields_each_level_requires(agent, incident):
    body = token_client(agent).get(url(incident, "escalation-options")).json()
    assert body["policy"] == "ladder v1"
    assert body["current_level"] == 1
    assert [
        (lv["number"], [f["value"] for f in lv["handoff_fields"]]) for lv in body["escalate_to"]
    ] == [
        (2, ["investigation_summary", "proposed_next_steps"]),
        (3, ["context", "business_impact", "decision_sought"]),
    ]
    assert [c["value"] for c in body["checklist"]] == list(CHECKLIST)
    assert "pattern" not in {c["value"] for c in body["categories"]}  # management reasons
    assert body["context"]["reference"] == incident.reference


def test_escalate_needs_the_target_levels_note_and_the_checklist(agent, incident):
    api = token_client(agent)
    answer = api.post(
        url(incident, "escalate"),
        escalate_body(to_level=3, note={"context": "Auth"}, checklist=["documented"]),
        format="json",
    )
    assert answer.status_code == 400
    errors = answer.json()
    assert set(errors["note"]) == {"business_impact", "decision_sought"}
    assert errors["note"]["business_impact"] == ["L3 needs this in the handoff note."]
    assert len(errors["checklist"]) == len(CHECKLIST) - 1
    assert not Escalation.objects.exists()
    bad_level = api.post(url(incident, "escalate"), escalate_body(to_level=9), format="json")
    assert bad_level.json()["to_level"] == ["This policy has no L9."]


def test_escalate_acknowledge_decide_de_escalate(agent, lead, incident):
    api = token_client(agent)
    moved = api.post(
        url(incident, "escalate"),
        escalate_body(decision_sought="Roll back the auth library?"),
        format="json",
    )
    assert moved.status_code == 201, moved.content
    record = moved.json()
    assert (record["from_level"], record["to_level"], record["trigger"]) == (1, 2, "manual")
    assert record["actor"] == agent.username
    assert record["note"]["investigation_summary"] == "Token validation changed"
    assert record["note"]["facts"]["reference"] == incident.reference
    incident.refresh_from_db()
    assert incident.current_level == 2

    lead_api = token_client(lead)
    taken = lead_api.post(url(incident, "acknowledge-handoff"))
    assert taken.status_code == 200
    assert taken.json()["acknowledged_by"] == lead.username
    assert lead_api.post(url(incident, "acknowledge-handoff")).json() == {
        "non_field_errors": ["There is no handoff waiting for acknowledgement."]
    }

    # Agents may not record decisions (the web asks for escalations.record_decision).
    decide = f"/api/escalations/{record['id']}/decide/"
    assert api.post(decide, {"decision": "Roll back"}).status_code == 403
    decided = lead_api.post(decide, {"decision": "Roll back tonight"}, format="json")
    assert decided.json()["decision_made"] == "Roll back tonight"
    assert decided.json()["decision_by"] == lead.username
    twice = lead_api.post(decide, {"decision": "Changed my mind"}, format="json")
    assert twice.status_code == 400

    down = lead_api.post(
        url(incident, "de-escalate"),
        {"to_level": 1, "reason": "Fix deployed", "resolution_summary": "Rolled back"},
        format="json",
    )
    assert down.status_code == 201
    assert down.json()["trigger"] == "de_escalation"
    incident.refresh_from_db()
    assert incident.current_level == 1
    listed = results(api.get("/api/escalations/", {"incident": incident.reference}))
    assert [(e["from_level"], e["to_level"]) for e in listed] == [(2, 1), (1, 2)]
    assert results(api.get("/api/escalations/", {"direction": "up"}))[0]["id"] == record["id"]


def test_management_reasons_need_the_permission(agent, manager, incident):
    body = escalate_body(category="strategic")
    refused = token_client(agent).post(url(incident, "escalate"), body, format="json")
    assert refused.status_code == 403
    assert token_client(manager).post(
        url(incident, "escalate"), body, format="json"
    ).status_code == (201)
    assert Escalation.objects.get().trigger == "management"


def test_awaiting_and_undecided_filters(agent, incident):
    api = token_client(agent)
    api.post(url(incident, "escalate"), escalate_body(decision_sought="Which fix?"), format="json")
    awaiting = results(api.get("/api/escalations/", {"awaiting_acknowledgement": "true"}))
    undecided = results(api.get("/api/escalations/", {"undecided": "true"}))
    assert len(awaiting) == len(undecided) == 1
    assert results(api.get("/api/escalations/", {"undecided": "false"})) == []


def test_manager_request_only_for_enterprise_accounts(agent, policy):
    ordinary = make_incident(actor=agent, account=AccountFactory(tier="standard"))
    refused = token_client(agent).post(url(ordinary, "manager-request"), {}, format="json")
    assert refused.status_code == 400
    enterprise = make_incident(actor=agent, account=AccountFactory(tier="enterprise"))
    answer = token_client(agent).post(
        url(enterprise, "manager-request"), {"note": "Wants the VP"}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["escalation"]["trigger"] == "executive"


def test_escalation_records_of_hidden_incidents_are_hidden(agent, manager, policy):
    secret = make_incident(actor=manager, is_security=True, title="Leak")
    token_client(manager).post(url(secret, "escalate"), escalate_body(), format="json")
    [record] = Escalation.objects.filter(incident=secret)
    api = token_client(agent)
    assert results(api.get("/api/escalations/")) == []
    assert api.get(f"/api/escalations/{record.pk}/").status_code == 404
    assert token_client(manager).get(f"/api/escalations/{record.pk}/").status_code == 200


def test_policies_are_read_only_and_for_leads_and_up(agent, lead, policy):
    assert token_client(agent).get("/api/policies/").status_code == 403
    [body] = results(token_client(lead).get("/api/policies/"))
    assert (body["name"], body["version"], body["status"]) == ("ladder", 1, "active")
    assert [lv["number"] for lv in body["levels"]] == [1, 2, 3]
    assert body["levels"][1]["handoff_fields"] == ["investigation_summary", "proposed_next_steps"]
    assert token_client(lead).post("/api/policies/", {}).status_code == 405
    assert token_client(lead).get(f"/api/policies/{policy.pk}/").json()["id"] == policy.pk
