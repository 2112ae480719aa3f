"""Seed 003's escalation tracking document: "## Communication Log [All customer/internal
communications]" and "## Resolution Plan [Next steps and ETA]", in the Markdown document
and in the JSON record, people's text escaped in both (issue 19)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from escalations.analytics.exports import INTERNAL_LOG
from escalations.engine import services as engine
from escalations.rules.handoff import CHECKLIST
from escalations.rules.spec import DEFAULT_HANDOFF_FIELDS
from incidents import services
from notifications.models import CUSTOMER_KINDS
from tests.escalations.test_export_text_safety import TEXT, assert_inert
from tests.factories import PASSWORD, AccountFactory, make_incident

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def incident(default_policy, agent, manager):
    account = AccountFactory(primary_contact_email="jane@acme.example")
    with time_machine.travel(T0, tick=False):
        incident = make_incident(actor=agent, severity="P2", account=account, assignee=agent)
    services.incident_post_public_update(
        incident=incident, actor=agent, body=f"We are on it {TEXT}", now=T0 + 0.2 * H
    )
    services.incident_customer_reply(
        incident=incident,
        body=f"Still broken {TEXT}",
        from_email="jane@acme.example",
        via="email",
        now=T0 + 0.5 * H,
    )
    services.incident_comment(
        incident=incident, actor=agent, body=f"DB looks slow {TEXT}", now=T0 + 0.7 * H
    )
    engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=agent,
        reason="Needs the database team",
        category="expertise",
        note={**dict.fromkeys(DEFAULT_HANDOFF_FIELDS, "x"), "suggested_next_step": f"Add {TEXT}"},
        checklist=list(CHECKLIST),
        now=T0 + H,
    )
    return incident


def get(client, user, incident, name):
    client.login(username=user.username, password=PASSWORD)
    response = client.get(reverse(f"escalations:{name}", args=[incident.reference]))
    assert response.status_code == 200
    return response


def test_seed_003_communication_log_all_customer_and_internal_communications(
    incident, manager, client
):
    """Seed 003 "## Communication Log [All customer/internal communications]": what we told
    the customer, what they wrote back, internal notes and what the portal sent, in order;
    what the customer never saw is marked internal, in both formats."""
    text = get(client, manager, incident, "tracking").content.decode()
    note, *log = text.split("## Communication Log\n")[1].split("\n\n")[0].splitlines()
    assert note == f"_{INTERNAL_LOG}_"
    kinds = [line.split(" (", 1)[1].split(")", 1)[0] for line in log[:3]]
    assert kinds == ["to customer", "from customer", "internal note"]
    assert ["**[internal]**:" in line for line in log[:3]] == [False, False, True]
    sent = [line for line in log if "] - Portal (" in line]
    assert sent and all(
        ("**[internal]**:" in line) == (not any(f" {k} (" in line for k in CUSTOMER_KINDS))
        for line in sent
    ), sent
    # The customer's reply is told to staff: that message is internal, customer_ in name only.
    replies = [line for line in sent if " customer_reply (" in line]
    assert replies and all("**[internal]**:" in line for line in replies), sent
    assert any("customer_ack" in line for line in log)  # the escalation email
    stamps = [line[1:17] for line in log]
    assert stamps == sorted(stamps)
    assert_inert(text)
    record = get(client, manager, incident, "json").json()
    assert [e["what"] for e in record["communication_log"][:3]] == kinds
    assert [e["internal"] for e in record["communication_log"][:3]] == [False, False, True]
    assert all("<img" not in e["text"] for e in record["communication_log"])
    assert "onerror" in record["communication_log"][1]["text"]


def test_seed_003_resolution_plan_next_steps_and_eta(incident, manager, client):
    """Seed 003 "## Resolution Plan [Next steps and ETA]": the handoff's suggested next step
    (a decision replaces it), what waits on whom, and the resolution target as the ETA."""
    with time_machine.travel(T0 + 2 * H, tick=False):
        text = get(client, manager, incident, "tracking").content.decode()
        record = get(client, manager, incident, "json").json()
    plan = text.split("## Resolution Plan\n")[1]
    assert "**Next steps**:\n- L2 to acknowledge the handoff.\n- Add " in plan
    eta = record["resolution_plan"]["eta"]
    assert record["resolution_plan"]["eta_is"] == "resolution target"
    assert f"**ETA**: {datetime.fromisoformat(eta):%Y-%m-%d %H:%M} (resolution target)" in plan
    assert record["resolution_plan"]["next_steps"][0] == "L2 to acknowledge the handoff."
    assert "<img" not in record["resolution_plan"]["next_steps"][1]
    assert_inert(text)
    escalation = incident.escalations.get()
    engine.handoff_acknowledge(incident=incident, actor=manager, now=T0 + 2 * H)
    engine.escalation_record_decision(
        escalation=escalation, actor=manager, decision="Add the index tonight", now=T0 + 3 * H
    )
    with time_machine.travel(T0 + 3 * H, tick=False):
        plan = get(client, manager, incident, "tracking").content.decode()
    assert "**Next steps**:\n- Add the index tonight\n" in plan.split("## Resolution Plan\n")[1]
