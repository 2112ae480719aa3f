"""Seed 001: "Production outages, security incidents, and data loss go directly to Tier 3
regardless of the normal flow" (Severity-Based Triggers), with the data-loss flag it needs
(issue 19)."""

import pytest

from escalations.rules.spec import NEXT_LEVEL, TriggerSettings
from escalations.rules.triggers import TriggerFacts, evaluate
from tests.escalations.conftest import simple_spec
from tests.factories import make_incident


def test_data_loss_is_an_impact_trigger_routed_like_the_others():
    assert TriggerSettings().route_for("data_loss") == NEXT_LEVEL
    spec = simple_spec(matrix=())
    hits = evaluate(spec, TriggerFacts(severity="P2", level=1, is_data_loss=True))
    assert [(hit.key, hit.target) for hit in hits] == [("data_loss", 2)]
    assert evaluate(spec, TriggerFacts(severity="P2", level=1)) == []


@pytest.mark.django_db
@pytest.mark.parametrize("flag", ["is_production_outage", "is_security", "is_data_loss"])
def test_seed_001_outages_security_and_data_loss_go_directly_to_tier_3(support_preset, flag):
    """Seed 001, Severity-Based Triggers: "Production outages, security incidents, and
    data loss go directly to Tier 3 regardless of the normal flow" (a P3 as well)."""
    incident = make_incident(severity="P3", **{flag: True})
    incident.refresh_from_db()
    assert incident.current_level == 3
    escalation = incident.escalations.get()
    assert (escalation.from_level, escalation.to_level, escalation.trigger) == (1, 3, "impact")


@pytest.mark.django_db
def test_a_p3_without_those_flags_stays_at_tier_1(support_preset):
    incident = make_incident(severity="P3")
    incident.refresh_from_db()
    assert incident.current_level == 1


@pytest.mark.django_db
def test_the_handoff_note_names_data_loss_among_the_impacts(support_preset):
    incident = make_incident(severity="P3", is_data_loss=True)
    note = incident.escalations.get().note
    assert note["facts"]["impact"] == ["data loss"]
    assert note["business_impact"] == "- data loss"
