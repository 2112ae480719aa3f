"""The workflow YAML's reviews: and war_room: blocks: when reviews are required, when
reminders go out, the war-room cadence; loaded, checked with lines, dumped back, and
stored on a policy version."""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest

from escalations.policies.services import policy_create_from_spec, policy_spec
from escalations.policies.workflow_yaml import WorkflowError, dump_workflow, load_workflow_text
from escalations.rules.spec import ReviewSettings, WarRoomSettings

M = timedelta(minutes=1)
H = timedelta(hours=1)

WORKFLOW = """\
escalation:
  tiers:
    - level: 1
      name: Support
    - level: 3
      name: Engineering
  reviews:
    required_for: [P0, high]
    required_from_level: 3
    required_when: [security, war room]
    due_after: 24h
    remind_before: 6h
    action_items:
      remind_before: 3d
  war_room:
    update_every: {P0: 15m, Sev 2: 45m}
"""


def test_blocks_load_into_the_spec():
    spec = load_workflow_text(WORKFLOW)
    assert spec.reviews == ReviewSettings(
        required_severities=("P0", "P1"),
        required_from_level=3,
        required_when=("security", "war_room"),
        due_after=24 * H,
        remind_before=6 * H,
        action_item_remind_before=72 * H,
    )
    assert spec.war_room == WarRoomSettings(update_every=(("P0", 15 * M), ("P1", 45 * M)))


def test_without_the_blocks_the_seed_defaults_apply():
    spec = load_workflow_text("escalation:\n  tiers:\n    - level: 1\n      name: One\n")
    assert spec.reviews.required_severities == ("P0",)
    assert spec.reviews.required_from_level == 3
    assert spec.reviews.due_after == 48 * H
    assert spec.reviews.action_item_remind_before == 48 * H
    assert spec.war_room.cadence("P0") == 30 * M


def test_never_switches_the_level_rule_off_and_round_trips():
    text = WORKFLOW.replace("required_from_level: 3", "required_from_level: never")
    spec = load_workflow_text(text)
    assert spec.reviews.required_from_level is None
    dumped = dump_workflow(spec)
    assert "required_from_level: never" in dumped
    assert load_workflow_text(dumped) == spec
    assert dump_workflow(load_workflow_text(dumped)) == dumped


def test_dump_writes_both_blocks_readably():
    dumped = dump_workflow(load_workflow_text(WORKFLOW))
    assert "  reviews:\n    required_for: [P0, P1]\n" in dumped
    assert "    action_items:\n      remind_before: 3d\n" in dumped
    assert "  war_room:\n    update_every: {P0: 15m, P1: 45m}\n" in dumped


@pytest.mark.parametrize(
    ("bad", "line", "path", "words"),
    [
        ("required_for: [P9]", 8, "escalation.reviews.required_for[0]", "unknown severity"),
        ("required_from_level: soon", 9, "escalation.reviews.required_from_level", "whole number"),
        ("required_when: [pager]", 10, "escalation.reviews.required_when[0]", "review trigger"),
        ("due_after: 2 weeks", 11, "escalation.reviews.due_after", "not a duration"),
        ("remind_before: 0m", 12, "escalation.reviews.remind_before", "longer than zero"),
    ],
)
def test_bad_values_name_line_and_path(bad, line, path, words):
    key = bad.split(":")[0]
    lines = WORKFLOW.splitlines()
    index = next(i for i, text in enumerate(lines) if text.strip().startswith(key + ":"))
    lines[index] = "    " + bad
    with pytest.raises(WorkflowError) as caught:
        load_workflow_text("\n".join(lines) + "\n", "w.yaml")
    [problem] = caught.value.problems
    assert (problem.line, problem.path) == (line, path)
    assert words in problem.message


def test_war_room_cadence_problems():
    text = textwrap.dedent(
        """\
        escalation:
          tiers:
            - level: 1
              name: One
          war_room:
            update_every: {P0: 30m, Sev 1: 1h, P2: often}
            extra: 1
        """
    )
    with pytest.raises(WorkflowError) as caught:
        load_workflow_text(text, "w.yaml")
    messages = [(p.path, p.message) for p in caught.value.problems]
    assert ("escalation.war_room.update_every.Sev 1", "severity P0 is given twice") in messages
    assert any(path == "escalation.war_room.update_every.P2" for path, _ in messages)
    assert any(path == "escalation.war_room.extra" for path, _ in messages)


@pytest.mark.django_db
def test_a_policy_version_stores_the_blocks():
    spec = load_workflow_text(WORKFLOW)
    policy = policy_create_from_spec(spec=spec, name="reviewed")
    policy.refresh_from_db()
    assert policy_spec(policy) == spec
    assert policy.reviews["due_after"] == 24 * 3600


def test_the_engineering_preset_asks_for_post_mortems_as_seed_000_does():
    from pathlib import Path

    from escalations.policies.workflow_yaml import load_workflow_file

    preset = Path(__file__).resolve().parents[2] / "escalations" / "workflows"
    spec = load_workflow_file(preset / "engineering-5-level.yaml")
    assert spec.reviews.required_when == ("compliance", "production_outage", "security")
    assert spec.reviews.required_from_level == 3
