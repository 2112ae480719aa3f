"""The admin's Escalate action on an incident with no higher level says why, offers no form."""

import pytest
from django.urls import reverse

from escalations.models import Escalation
from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, TargetSpec
from tests.escalations.conftest import H, simple_spec
from tests.factories import PASSWORD, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_level_policy(roles):
    spec = simple_spec(levels=(LevelSpec(1, "Everyone", sla=TargetSpec(H, 8 * H)),), matrix=())
    return policy_create_from_spec(spec=spec, name="flat", make_default=True)


def test_escalate_at_the_top_level_explains_and_shows_no_form(one_level_policy, manager, client):
    incident = make_incident(actor=manager)
    client.login(username=manager.username, password=PASSWORD)
    response = client.post(
        reverse("admin:incidents_incident_changelist"),
        {"action": "escalate", "_selected_action": [incident.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert "already at L1, the top level of policy flat v1" in html
    assert "no higher level to escalate to" in html
    assert "This field is required." not in html
    assert 'name="to_level"' not in html  # no form that cannot be submitted
    assert not Escalation.objects.exists()


def test_escalate_below_the_top_level_still_offers_the_form(default_policy, manager, client):
    incident = make_incident(actor=manager)
    client.login(username=manager.username, password=PASSWORD)
    response = client.post(
        reverse("admin:incidents_incident_changelist"),
        {"action": "escalate", "_selected_action": [incident.pk]},
    )
    assert 'name="to_level"' in response.content.decode()
    assert "L2 · Specialists" in response.content.decode()
