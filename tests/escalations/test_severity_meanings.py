"""Issue 19: what each severity means under the incident's policy (seed 002's definitions
and examples, seed 004's criteria), shown where a severity is chosen: the new incident
form, the change-severity form and the API schema."""

from pathlib import Path

import pytest

from escalations.policies.workflow_yaml import WorkflowError, dump_workflow, load_workflow_text
from escalations.rules.spec import SeverityDefinition
from incidents.lifecycle import registered as lifecycle
from tests.factories import make_incident

PRESETS = Path(__file__).resolve().parents[2] / "escalations" / "workflows"

BASE = """
escalation:
  tiers:
    - level: 1
      name: One
    - level: 2
      name: Two
"""


def load(extra: str):
    return load_workflow_text(BASE + extra)


def test_severities_load_by_any_name_and_dump_back_unchanged():
    spec = load(
        """
  severities:
    high:
      definition: "Major functionality impaired"
      examples: [Checkout down for one region]
    Sev 1:
      criteria: [Production system completely down, Security breach or data loss]
"""
    )
    assert spec.severities == (
        (
            "P0",
            SeverityDefinition(
                criteria=("Production system completely down", "Security breach or data loss")
            ),
        ),
        (
            "P1",
            SeverityDefinition(
                definition="Major functionality impaired",
                examples=("Checkout down for one region",),
            ),
        ),
    )
    assert load_workflow_text(dump_workflow(spec)) == spec


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("    P9: {definition: x}\n", "unknown severity 'P9'"),
        ("    P1: {meaning: x}\n", "meaning"),
        ("    P1: {definition: x}\n    High: {definition: y}\n", "severity P1 is given twice"),
        ("    P1: {examples: [a, a]}\n", "a"),
    ],
)
def test_a_bad_severities_block_is_refused_with_its_path(block, message):
    with pytest.raises(WorkflowError) as error:
        load("  severities:\n" + block)
    text = str(error.value)
    assert "severities." in text and message in text


def test_every_preset_defines_all_four_severities_in_its_seeds_words():
    for path in sorted(PRESETS.glob("*.yaml")):
        spec = load_workflow_text(path.read_text())
        assert [severity for severity, _ in spec.severities] == ["P0", "P1", "P2", "P3"], path
    matrix = dict(load_workflow_text((PRESETS / "p0-p3-matrix.yaml").read_text()).severities)
    # Seed 002: "P0 - Critical ... Definition: System down, business operations halted".
    assert "System down, business operations halted" in matrix["P0"].definition
    assert "Security breach" in matrix["P0"].examples
    engineering = dict(
        load_workflow_text((PRESETS / "engineering-5-level.yaml").read_text()).severities
    )
    # Seed 004: Severity 1 criteria.
    assert "Security breach or data loss" in engineering["P0"].criteria


@pytest.mark.django_db
def test_the_meanings_follow_the_incidents_policy_or_the_default(support_preset):
    meanings = lifecycle().severity_meanings()
    assert [m.severity for m in meanings] == ["P0", "P1", "P2", "P3"]
    assert meanings[0].label == "P0 · Critical · Sev 1"
    assert meanings[0].definition == "Production outage affecting all customers."
    incident = make_incident(severity="P3")
    assert lifecycle().severity_meanings(incident=incident) == meanings


@pytest.mark.django_db
def test_the_new_incident_form_and_the_api_schema_say_what_each_severity_means(
    support_preset, agent, client
):
    from tests.api_client import token_client

    client.force_login(agent)
    page = client.get("/incidents/new/").content.decode()
    assert "What each severity means" in page
    assert "Production outage affecting all customers" in page
    assert "Questions about functionality" in page  # seed 004's Sev 4 criteria
    schema = token_client(agent).get("/api/schema/", {"format": "json"}).json()
    create = schema["components"]["schemas"]["IncidentCreateRequest"]
    help_text = create["properties"]["severity"]["description"]
    assert "P0 · Critical · Sev 1: Production outage affecting all customers" in help_text
