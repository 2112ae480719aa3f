"""Escalating from the incident page reports every problem in one round: the reason,
the target level's handoff fields and the checklist together, not one after the other."""

from datetime import timedelta

import pytest
from django.urls import reverse

from escalations.policies.services import policy_create_from_spec
from escalations.rules.handoff import CHECKLIST
from escalations.rules.spec import LevelSpec, TargetSpec
from tests.escalations.conftest import simple_spec
from tests.factories import PASSWORD, make_incident

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
L2_NOTE = ("customer_context", "symptoms", "customer_impact", "steps_taken")


@pytest.fixture
def policy(roles):
    spec = simple_spec(
        levels=(
            LevelSpec(1, "Front line", handoff_fields=(), sla=TargetSpec(H, 8 * H)),
            LevelSpec(2, "Specialists", handoff_fields=L2_NOTE, sla=TargetSpec(2 * H, 8 * H)),
        ),
        matrix=(),
    )
    return policy_create_from_spec(spec=spec, name="ladder", make_default=True)


def test_an_empty_escalation_lists_every_problem_at_once(client, policy, agent):
    incident = make_incident(actor=agent)
    client.login(username=agent.username, password=PASSWORD)
    url = reverse("escalations:action", args=[incident.reference, "escalate"])

    response = client.post(url, {"to_level": 2, "category": "expertise", "reason": ""})

    assert response.status_code == 400
    errors = response.context["escalate_form"].errors
    expected = {"reason"} | {f"note_{n}" for n in L2_NOTE} | {f"check_{k}" for k in CHECKLIST}
    assert set(errors) == expected
    html = response.content.decode()
    # One summary at the top of the page, linking to each field of the (reopened) form.
    assert html.index('id="error-summary"') < html.index('class="card incident-head"')
    assert f"{len(expected)} things to fix" in html
    assert '<a href="#escalate-note_symptoms">Symptoms</a>' in html
    assert 'id="do-escalate" data-action="escalate" open' in html
    assert incident.escalations.count() == 0


def test_one_complete_submit_escalates(client, policy, agent):
    incident = make_incident(actor=agent)
    client.login(username=agent.username, password=PASSWORD)
    data = {"to_level": 2, "category": "expertise", "reason": "Needs backend access"}
    data |= {f"note_{n}": f"{n} text" for n in L2_NOTE}
    data |= {f"check_{k}": "on" for k in CHECKLIST}
    response = client.post(
        reverse("escalations:action", args=[incident.reference, "escalate"]), data
    )
    assert response.status_code == 302
    assert incident.escalations.get().note["symptoms"] == "symptoms text"
