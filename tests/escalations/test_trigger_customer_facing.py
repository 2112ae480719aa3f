"""Seed 000 "Customer-Facing Incident": Engineering Manager + Product + Customer Success are told,
whether the incident moves or not, and those groups exist as roles so the notice reaches people."""

import pytest

from escalations.policies.services import policy_create_from_spec
from escalations.policies.workflow_yaml import load_workflow_file
from escalations.rules.spec import OverrideSpec, TriggerSettings
from notifications.models import Notification
from portal.demo import PRESETS
from portal.roles import ALL_ROLES
from tests.escalations.conftest import simple_spec
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(roles):
    # The policy's trigger settings are the defaults: the groups come from there.
    spec = simple_spec(overrides=(OverrideSpec("P1", 2),))
    assert spec.triggers == TriggerSettings()
    return policy_create_from_spec(spec=spec, name="standard", make_default=True)


@pytest.fixture
def people(roles):
    return {
        "product": UserFactory(username="pm", role="Product"),
        "success": UserFactory(username="csm", role="Customer Success"),
        "manager": UserFactory(username="em", role="Engineering Manager"),
        "lead": UserFactory(username="lead", role="Team Lead"),
    }


def told(incident, kind):
    return set(
        Notification.objects.filter(incident=incident, kind=kind).values_list(
            "recipient_user_id", flat=True
        )
    )


def test_customer_facing_without_a_move_tells_product_and_customer_success(policy, people, agent):
    incident = make_incident(actor=agent, is_customer_facing=True)
    assert incident.current_level == 1 and not incident.escalations.exists()
    assert told(incident, "trigger") == {
        people["product"].pk,
        people["success"].pk,
        people["manager"].pk,
    }


def test_customer_facing_with_a_move_tells_them_in_the_escalation_notice(policy, people, agent):
    incident = make_incident(actor=agent, severity="P1", is_customer_facing=True)
    assert incident.current_level == 2
    assert {people["product"].pk, people["success"].pk, people["manager"].pk} <= told(
        incident, "escalation"
    )
    assert people["lead"].pk not in told(incident, "escalation")


def test_an_ordinary_incident_does_not_tell_them(policy, people, agent):
    incident = make_incident(actor=agent, severity="P1")
    assert not ({people["product"].pk, people["success"].pk} & told(incident, "escalation"))


def test_every_group_a_trigger_notifies_is_a_role():
    # A group nobody can be put in (no role, no migration) would swallow the notice.
    named = {group for _, groups in TriggerSettings().notify_groups for group in groups}
    assert {"Product", "Customer Success"} <= named
    assert named <= set(ALL_ROLES)


def test_the_shipped_workflows_notify_only_existing_roles():
    from pathlib import Path

    presets = Path(__file__).resolve().parents[2] / "escalations" / "workflows"
    for name in PRESETS:
        spec = load_workflow_file(presets / f"{name}.yaml")
        named = {group for _, groups in spec.triggers.notify_groups for group in groups}
        assert named <= set(ALL_ROLES), name
