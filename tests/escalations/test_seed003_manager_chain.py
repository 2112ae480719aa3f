"""Seed 003 "Executive Escalation (Customer -> Team Lead -> Manager -> Director -> VP)"
with its trigger "Enterprise customer requests manager": under the support preset a
manager request goes up the management chain, one rung per request, and never to the
L2 specialists (issue 19)."""

import pytest
from django.core.exceptions import ValidationError

from escalations.analytics.exports import tracking_markdown
from escalations.engine import services as engine
from escalations.policies.services import policy_spec
from escalations.rules.spec import TriggerSettings
from escalations.rules.triggers import manager_request_hit
from notifications.models import Notification
from tests.escalations.conftest import simple_spec
from tests.factories import AccountFactory, UserFactory, make_incident

CHAIN = ("Team Lead", "Engineering Manager", "Director", "VP")


def test_each_request_goes_one_rung_up_the_chain_and_moves_no_tier():
    spec = simple_spec(triggers=TriggerSettings(management_chain=CHAIN))
    rungs = [manager_request_hit(spec, 1, asked, "Customer asks") for asked in range(5)]
    assert [hit.notify_groups for hit in rungs[:4]] == [(rung,) for rung in CHAIN]
    assert {hit.target for hit in rungs[:4]} == {None}
    assert len({hit.key for hit in rungs[:4]}) == 4  # each rung fires once
    assert rungs[4] is None


def test_without_a_chain_the_executive_route_applies():
    hit = manager_request_hit(simple_spec(), 1, 0, "Customer asks")
    assert (hit.key, hit.target, hit.notify_groups) == ("manager_request", 2, ())


@pytest.mark.django_db
def test_seed_003_enterprise_customer_requests_manager_goes_team_lead_manager_director_vp(
    support_preset, agent
):
    """Seed 003: "Executive Escalation (Customer -> Team Lead -> Manager -> Director -> VP)",
    trigger "Enterprise customer requests manager"."""
    people = {rung: UserFactory(role=rung) for rung in CHAIN}
    incident = make_incident(actor=agent, severity="P3", account=AccountFactory(tier="enterprise"))
    assert policy_spec(incident.policy).triggers.management_chain == CHAIN
    for rung in CHAIN:
        before = set(Notification.objects.values_list("pk", flat=True))
        result = engine.customer_requests_manager(incident=incident, actor=agent, note="Angry")
        assert result is None  # no move between tiers: the L2 specialists are not the chain
        incident.refresh_from_db()
        assert incident.current_level == 1
        new = Notification.objects.filter(incident=incident, kind="trigger").exclude(pk__in=before)
        assert set(new.values_list("recipient", flat=True)) == {people[rung].email}, rung
    with pytest.raises(ValidationError, match="VP last"):
        engine.customer_requests_manager(incident=incident, actor=agent)
    assert incident.escalations.count() == 0
    bodies = list(
        incident.events.filter(kind="trigger").order_by("at", "id").values_list("body", flat=True)
    )
    assert [body.rsplit(": ", 1)[-1] for body in bodies] == [f"{rung})" for rung in CHAIN]
    assert "**Type**: Executive" in tracking_markdown(incident)
