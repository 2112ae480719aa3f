"""escalations.policies.workflow_yaml: loading, validation with lines and paths, canonical dump.

No database: everything here is pure data. Expected targets come from the seeds (001: support
tiers, 002: the P0-P3 matrix); error lines are marked in the YAML with ``#<`` so that the
expected line number sits next to the text it points at.
"""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalations.policies.workflow_yaml import (
    ACCOUNT_TIERS,
    CONTACT_KEYS,
    IMPACT_FLAGS,
    NOTIFY_GROUPS,
    Problem,
    WorkflowError,
    dump_workflow,
    load_workflow_file,
    load_workflow_text,
)
from escalations.rules.spec import (
    ACTIONS,
    CLOCKS,
    DEFAULT_HANDOFF_FIELDS,
    DEFAULT_PAUSE_STATUSES,
    DEFAULT_THRESHOLDS,
    HANDOFF_FIELDS,
    NEXT_LEVEL,
    NOTIFICATION_METHODS,
    REVIEW_FLAGS,
    SEVERITIES,
    SUPPORT_HANDOFF,
    LevelSpec,
    MatchSpec,
    OverrideSpec,
    ReviewSettings,
    TargetSpec,
    ThresholdSpec,
    TriggerSettings,
    WarRoomSettings,
    WorkflowSpec,
)
from incidents.rules import Status

ROOT = Path(__file__).resolve().parents[2]
PRESETS = ROOT / "escalations" / "workflows"
PRESET_NAMES = ("support-3-tier.yaml", "engineering-5-level.yaml", "p0-p3-matrix.yaml")
SEED_001 = Path(__file__).parent / "data" / "seed001_escalation.yaml"

M = timedelta(minutes=1)
H = timedelta(hours=1)
SLA_CLOCKS = ("first_response", "resolution", "handoff_ack")


def preset(name: str) -> WorkflowSpec:
    return load_workflow_file(PRESETS / name)


def problems_of(text: str, filename: str = "w.yaml") -> tuple[Problem, ...]:
    with pytest.raises(WorkflowError) as caught:
        load_workflow_text(textwrap.dedent(text), filename)
    return caught.value.problems


def marked_line(text: str) -> int:
    lines = textwrap.dedent(text).splitlines()
    return next(i for i, line in enumerate(lines, 1) if "#<" in line)


# ------------------------------------------------------------------------------ seed 001


def test_seed_001_block_loads_as_written():
    spec = load_workflow_file(SEED_001)

    assert [level.number for level in spec.levels] == [1, 2, 3]
    assert [level.name for level in spec.levels] == [
        "Front-Line Support",
        "Specialist Support",
        "Engineering / Executive",
    ]
    assert [level.team for level in spec.levels] == [
        "support-generalists",
        "support-specialists",
        "engineering-oncall",
    ]
    l1, l2, l3 = spec.levels
    assert l1.capabilities == (
        "known_issues",
        "how_to_questions",
        "account_management",
        "password_resets",
    )
    assert l1.sla == TargetSpec(first_response=4 * H, resolution=24 * H)
    assert l2.sla == TargetSpec(first_response=2 * H, resolution=8 * H)
    assert l3.sla == TargetSpec(first_response=1 * H, resolution=4 * H)
    assert l2.escalation_criteria[-1] == "SLA at 75% elapsed without resolution path"
    assert l3.escalation_criteria == ()
    assert spec.overrides == (
        OverrideSpec("P0", 3, "pagerduty", "Production outage affecting all customers"),
        OverrideSpec("P1", 3, "slack_oncall", "Production degradation or data integrity issue"),
        OverrideSpec("P2", 2, "slack_channel", "Feature broken for subset of customers"),
    )
    # everything the seed does not say takes the defaults
    assert all(level.handoff_fields == DEFAULT_HANDOFF_FIELDS for level in spec.levels)
    assert all(level.contacts == () and level.description == "" for level in spec.levels)
    assert spec.description == ""
    assert spec.clock_start == "incident"
    assert spec.default_calendar == "24/7"
    assert spec.calendars == ()
    assert spec.matrix == ()
    assert spec.thresholds == DEFAULT_THRESHOLDS
    assert spec.pause_statuses == DEFAULT_PAUSE_STATUSES
    assert spec.triggers == TriggerSettings()
    assert spec.match == MatchSpec()
    # and the lookups read the tier SLAs
    assert spec.targets("P3", 1) == TargetSpec(4 * H, 24 * H, None, "24/7")
    assert spec.override_for("P0").route_to == 3
    assert spec.override_for("P3") is None


def test_seed_001_block_is_a_verbatim_copy():
    text = SEED_001.read_text(encoding="utf-8")
    assert text.startswith("# Escalation Workflow Definition\nescalation:\n  tiers:\n")
    assert "resolution_target: 24h\n" in text
    seeds = sorted(Path("/work/shared/seeds").glob("001_*.txt"))
    if seeds:  # the seeds are only around in the workspace
        assert text in seeds[0].read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ presets


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_preset_loads_and_round_trips(name):
    spec = preset(name)
    text = dump_workflow(spec)
    assert load_workflow_text(text) == spec
    assert dump_workflow(load_workflow_text(text)) == text  # stable


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_preset_starts_with_a_comment_naming_its_seed(name):
    first = (PRESETS / name).read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ") and "seed 00" in first


def test_seed_001_block_round_trips():
    spec = load_workflow_file(SEED_001)
    text = dump_workflow(spec)
    assert load_workflow_text(text) == spec
    assert dump_workflow(spec) == text


def test_support_preset():
    spec = preset("support-3-tier.yaml")
    assert spec.clock_start == "level"
    assert [level.name for level in spec.levels] == [
        "Front-Line Support",
        "Specialist Support",
        "Engineering / Executive",
    ]
    assert [override.route_to for override in spec.overrides] == [3, 3, 2]
    business = spec.calendar_spec("business")
    assert business["timezone"] == "UTC"
    assert business["hours"] == {
        day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")
    }
    assert spec.targets("P2", 1) == TargetSpec(4 * H, 24 * H, None, "business")
    assert spec.targets("P2", 2) == TargetSpec(2 * H, 8 * H, None, "24/7")
    assert spec.targets("P0", 3).first_response == 30 * M
    assert all(level.handoff_fields == SUPPORT_HANDOFF for level in spec.levels)
    assert all(dict(level.contacts)["email"] for level in spec.levels)


def test_engineering_preset():
    spec = preset("engineering-5-level.yaml")
    assert [(level.number, level.name) for level in spec.levels] == [
        (0, "Assigned Engineer"),
        (1, "Team Lead"),
        (2, "Engineering Manager"),
        (3, "Engineering Director + Governance Liaison"),
        (4, "Executive Team"),
    ]
    assert spec.clock_start == "incident"
    # Seed 000's ladder on the resolution SLA; the response clocks keep warn/notify/escalate.
    assert [(t.percent, t.action, t.to_level, t.clocks) for t in spec.thresholds] == [
        (50, "escalate", 1, ("resolution",)),
        (50, "warn_assignee", None, ("first_response", "handoff_ack")),
        (75, "escalate", 2, ("resolution",)),
        (75, "pre_escalation_notice", None, ("first_response", "handoff_ack")),
        (100, "escalate", 3, ("resolution",)),
        (100, "escalate", None, ("first_response", "handoff_ack")),
        # seed 004: a missed status update warns the owner, then the level's lead
        (100, "warn_assignee", None, ("update",)),
        (200, "warn_lead", None, ("update",)),
    ]
    assert spec.level(1).handoff_fields == (
        "investigation_summary",
        "proposed_next_steps",
        "blocking_issues",
    )
    assert spec.level(2).handoff_fields == (
        "context",
        "resource_requirements",
        "business_impact",
        "recommendation",
        "decision_sought",
    )
    assert spec.level(3).handoff_fields == (
        "situation",
        "options",
        "stakeholder_impact",
        "technical_assessment",
        "governance_implications",
        "recommendation",
        "decision_sought",
    )
    assert spec.level(4).handoff_fields == (
        "business_impact",
        "financial_impact",
        "timeline",
        "recommendation",
        "decision_sought",
    )
    # seed 000: a Critical incident has a 4h SLA; seed 004: Sev 1 updates every 30-60 min
    critical = spec.targets("P0", 0)
    assert critical.resolution == 4 * H
    assert 30 * M <= critical.update_interval <= 60 * M
    # seed 004 Sev 2: "Status updates: Every 4 hours"
    assert spec.targets("P1", 2).update_interval == 4 * H
    for severity in SEVERITIES:
        for level in spec.levels:
            targets = spec.targets(severity, level.number)
            assert targets.first_response and targets.resolution
            assert targets.first_response < targets.resolution
    groups = dict(spec.triggers.notify_groups)
    assert groups["security"] == ("Engineering Manager", "Security", "Governance Liaison")
    # seed 000 Compliance Violation: "Legal may be involved"; Security Incident: "Coordinate
    # with legal if data breach"
    assert groups["compliance"] == ("Governance Liaison", "Engineering Manager", "Legal")
    assert groups["data_breach"] == ("Legal",)
    assert groups["customer_facing"] == ("Engineering Manager", "Product", "Customer Success")
    assert spec.triggers.route_for("security") == 2  # the Engineering Manager's level
    assert spec.triggers.route_for("production_outage") == NEXT_LEVEL


# seed 002, "Escalation Timelines": response per severity and level, resolution per severity
SEED_002_RESPONSE = {
    "P0": (5 * M, 15 * M, 30 * M, 1 * H),
    "P1": (15 * M, 30 * M, 1 * H, 2 * H),
    "P2": (1 * H, 2 * H, 4 * H, 8 * H),
    "P3": (4 * H, 8 * H, 24 * H, 48 * H),
}
SEED_002_RESOLUTION = {"P0": 2 * H, "P1": 4 * H, "P2": 8 * H, "P3": 24 * H}


def test_p0_p3_preset_targets_match_seed_002():
    spec = preset("p0-p3-matrix.yaml")
    assert spec.targets("P1", 3).first_response == 1 * H
    assert spec.targets("P0", 1).resolution == 2 * H
    for severity, responses in SEED_002_RESPONSE.items():
        for level, response in enumerate(responses, start=1):
            targets = spec.targets(severity, level)
            assert targets.first_response == response, (severity, level)
            assert targets.resolution == SEED_002_RESOLUTION[severity], (severity, level)
            assert targets.calendar == "24/7"
    assert spec.targets("P0", 2).update_interval == 30 * M
    assert spec.targets("P1", 4).update_interval == 1 * H
    assert spec.targets("P3", 1).update_interval is None


def test_p0_p3_preset_levels_contacts_and_routing():
    spec = preset("p0-p3-matrix.yaml")
    assert [level.name for level in spec.levels] == [
        "Basic Support",
        "Advanced Support",
        "Expert Support",
        "Executive Escalation",
    ]
    assert dict(spec.level(1).contacts) == {
        "email": "support@hotdash.com",
        "phone": "+1-555-SUPPORT",
        "chat": "#support-team",
        "escalation": "manager@hotdash.com",
    }
    assert dict(spec.level(4).contacts)["escalation"] == "CEO direct line"
    assert spec.override_for("P0").route_to == 4
    assert spec.clock_start == "incident"
    assert spec.calendars == () and spec.default_calendar == "24/7"
    assert "security_assessment" in spec.level(3).handoff_fields
    assert "financial_impact" in spec.level(4).handoff_fields


# ------------------------------------------------------------------------------ reading


FULL = """\
escalation:
  description: "All the extensions"
  clock_start: Level
  default_calendar: business
  calendars:
    business:
      timezone: Europe/Berlin
      hours: {Monday: ["09:00-12:00", "12:00-17:00"], fri: ["09:00-15:00"]}
      holidays: [2026-12-25, "2026-01-01"]
  pause_on: [Waiting on customer]
  thresholds:
    - {at: 80, action: pre_escalation_notice, clocks: [update]}
    - {at: "150%", action: escalate}
  tiers:
    - level: 2
      name: Second
      sla: {first_response: 90, resolution: 1h30m, update_every: 1d, calendar: "24/7"}
      handoff_fields: [timeline]
      contacts: {escalation: boss@example.com, email: two@example.com}
    - level: 1
      name: First
  matrix:
    Critical:
      2: {first_response: 5m}
    Sev 2:
      1: {resolution: 2h}
  severity_overrides:
    - {severity: sev1, route_to: 2}
  triggers:
    repeat: {window: 7d}
    burst: {severities: [high, critical]}
    csat_below: 2
    impact_routes: {security: 2, sla_violation: next}
    notify_groups: {security: [Security]}
    executive_route: Next
  match:
    channels: [Customer]
    account_tiers: [Enterprise, premium]
    priority: 10
"""


def test_every_extension_maps_onto_the_spec():
    spec = load_workflow_text(FULL)
    assert spec.description == "All the extensions"
    assert spec.clock_start == "level"
    assert spec.default_calendar == "business"
    assert spec.calendars == (
        (
            "business",
            {
                "timezone": "Europe/Berlin",
                "hours": {"mon": ["09:00-17:00"], "fri": ["09:00-15:00"]},
                "holidays": ["2026-01-01", "2026-12-25"],
            },
        ),
    )
    assert spec.pause_statuses == ("waiting_on_customer",)
    assert spec.thresholds == (
        ThresholdSpec(80, "pre_escalation_notice", ("update",)),
        ThresholdSpec(150, "escalate"),
    )
    assert [level.number for level in spec.levels] == [1, 2]  # level order, not file order
    second = spec.level(2)
    assert second.sla == TargetSpec(90 * M, 90 * M, timedelta(days=1), "24/7")
    assert second.handoff_fields == ("timeline",)
    assert second.contacts == (("email", "two@example.com"), ("escalation", "boss@example.com"))
    assert spec.level(1).sla is None
    assert spec.matrix == (
        (("P0", 2), TargetSpec(first_response=5 * M)),
        (("P1", 1), TargetSpec(resolution=2 * H)),
    )
    assert spec.overrides == (OverrideSpec("P0", 2),)
    assert spec.triggers == TriggerSettings(
        repeat_window=timedelta(days=7),
        burst_severities=("P1", "P0"),
        csat_below=2,
        impact_routes=(("security", 2), ("sla_violation", NEXT_LEVEL)),
        notify_groups=(("security", ("Security",)),),
        executive_route=NEXT_LEVEL,
    )
    assert spec.match == MatchSpec(("Customer",), ("enterprise", "premium"), (), 10)
    assert spec.targets("P0", 2) == TargetSpec(5 * M, 90 * M, timedelta(days=1), "24/7")
    assert spec.targets("P1", 1) == TargetSpec(None, 2 * H, None, "business")
    assert load_workflow_text(dump_workflow(spec)) == spec


def test_anchors_and_merge_keys_are_fine():
    spec = load_workflow_text(
        textwrap.dedent(
            """\
            escalation:
              tiers:
                - &base {level: 1, name: One, sla: {first_response: 1h}}
                - <<: *base
                  level: 2
                  name: Two
            """
        )
    )
    assert [(level.number, level.name, level.sla) for level in spec.levels] == [
        (1, "One", TargetSpec(first_response=H)),
        (2, "Two", TargetSpec(first_response=H)),
    ]


def test_unsafe_tags_are_refused_not_run(tmp_path):
    marker = tmp_path / "ran"
    problems = problems_of(
        f"""\
        escalation:
          description: !!python/object/apply:os.system ["touch {marker}"]
          tiers: [{{level: 1, name: One}}]
        """
    )
    assert not marker.exists()
    assert problems[0].line == 2 and problems[0].path == "escalation.description"


def test_load_workflow_file_names_the_path(tmp_path):
    path = tmp_path / "support.yaml"
    path.write_text("escalation:\n  tiers:\n    - level: 1\n      name: x\n      team: [a]\n")
    with pytest.raises(WorkflowError) as caught:
        load_workflow_file(path)
    assert str(caught.value) == (f"{path}:5: escalation.tiers[0].team: expected text, got a list")


# ------------------------------------------------------------------------------ problems


ERROR_CASES = {
    "bad duration": (
        """\
        escalation:
          tiers:
            - level: 1
              name: One
            - level: 2
              name: Two
              sla:
                first_response: 4x   #<
        """,
        "escalation.tiers[1].sla.first_response",
        "'4x' is not a duration (use e.g. 30m, 4h, 2d)",
    ),
    "unknown key with suggestion": (
        """\
        escalation:
          tiers:
            - level: 1
              name: One
              escalaton_criteria: [x]   #<
        """,
        "escalation.tiers[0].escalaton_criteria",
        "unknown key 'escalaton_criteria' (did you mean 'escalation_criteria'?); "
        "allowed here: level, name, team, description, capabilities, sla, "
        "escalation_criteria, deescalation_criteria, handoff_fields, contacts",
    ),
    "undefined route_to level": (
        """\
        escalation:
          tiers: [{level: 1, name: One}, {level: 2, name: Two}]
          severity_overrides:
            - severity: P0
              route_to: 3   #<
        """,
        "escalation.severity_overrides[0].route_to",
        "there is no level 3 (levels defined: 1, 2)",
    ),
    "duplicate level": (
        """\
        escalation:
          tiers:
            - level: 1
              name: One
            - name: Also one
              level: 1   #<
        """,
        "escalation.tiers[1].level",
        "level 1 is defined twice (also escalation.tiers[0])",
    ),
    "unknown calendar": (
        """\
        escalation:
          calendars:
            business: {timezone: UTC, hours: {mon: ["09:00-17:00"]}}
          tiers:
            - level: 1
              name: One
              sla: {first_response: 4h, calendar: busines}   #<
        """,
        "escalation.tiers[0].sla.calendar",
        "unknown calendar 'busines' (did you mean 'business'?); defined: business, 24/7",
    ),
    "undefined default calendar": (
        """\
        escalation:
          default_calendar: office   #<
          tiers: [{level: 1, name: One}]
        """,
        "escalation.default_calendar",
        "unknown calendar 'office'; defined: 24/7",
    ),
    "bad calendar spec": (
        """\
        escalation:
          calendars:
            business:
              timezone: UTC
              hours:
                mon: ["09:00-17:00"]
                tue: ["13:00-17:00", "13:00-12:00"]   #<
          tiers: [{level: 1, name: One}]
        """,
        "escalation.calendars.business.hours.tue[1]",
        '"13:00-12:00" ends before it starts',
    ),
    "bad calendar time zone": (
        """\
        escalation:
          calendars:
            business:
              timezone: Mars/Base   #<
              hours: 24/7
          tiers: [{level: 1, name: One}]
        """,
        "escalation.calendars.business.timezone",
        'unknown time zone "Mars/Base"',
    ),
    "unknown calendar key": (
        """\
        escalation:
          calendars:
            business:
              timezone: UTC
              hours: 24/7
              holiday: ["2026-12-25"]   #<
          tiers: [{level: 1, name: One}]
        """,
        "escalation.calendars.business.holiday",
        "unknown key 'holiday' (did you mean 'holidays'?)",
    ),
    "bad severity": (
        """\
        escalation:
          tiers: [{level: 1, name: One}]
          severity_overrides:
            - severity: P7   #<
              route_to: 1
        """,
        "escalation.severity_overrides[0].severity",
        "unknown severity 'P7': use P0-P3, Critical/High/Medium/Low or Sev 1-4",
    ),
    "bad severity as matrix key": (
        """\
        escalation:
          tiers: [{level: 1, name: One}]
          matrix:
            urgent:   #<
              1: {first_response: 5m}
        """,
        "escalation.matrix.urgent",
        "unknown severity 'urgent'",
    ),
    "bad percent": (
        """\
        escalation:
          thresholds:
            - at: 0%   #<
              action: escalate
          tiers: [{level: 1, name: One}]
        """,
        "escalation.thresholds[0].at",
        "percent must be between 1% and 1000%, got 0%",
    ),
    "percent too high": (
        """\
        escalation:
          thresholds:
            - {at: 1001, action: escalate}   #<
          tiers: [{level: 1, name: One}]
        """,
        "escalation.thresholds[0].at",
        "got 1001%",
    ),
    "unknown action": (
        """\
        escalation:
          thresholds:
            - {at: 50%, action: warn_asignee}   #<
          tiers: [{level: 1, name: One}]
        """,
        "escalation.thresholds[0].action",
        "unknown action 'warn_asignee' (did you mean 'warn_assignee'?); "
        "use one of: warn_assignee, pre_escalation_notice, escalate",
    ),
    "unknown clock": (
        """\
        escalation:
          thresholds:
            - at: 50%
              action: escalate
              clocks: [first_response, response]   #<
          tiers: [{level: 1, name: One}]
        """,
        "escalation.thresholds[0].clocks[1]",
        "unknown clock 'response'",
    ),
    "unknown status": (
        """\
        escalation:
          pause_on: [waiting_on_customer, on_hold]   #<
          tiers: [{level: 1, name: One}]
        """,
        "escalation.pause_on[1]",
        "unknown status 'on_hold'",
    ),
    "unknown notification method": (
        """\
        escalation:
          tiers: [{level: 1, name: One}]
          severity_overrides:
            - severity: P1
              route_to: 1
              notification: pager   #<
        """,
        "escalation.severity_overrides[0].notification",
        "unknown notification method 'pager'",
    ),
    "unknown handoff field": (
        """\
        escalation:
          tiers:
            - level: 1
              name: One
              handoff_fields:
                - symptoms
                - steps_tried   #<
        """,
        "escalation.tiers[0].handoff_fields[1]",
        "unknown handoff field 'steps_tried' (did you mean 'steps_taken'?)",
    ),
    "unknown account tier": (
        """\
        escalation:
          tiers: [{level: 1, name: One}]
          match:
            account_tiers: [gold]   #<
        """,
        "escalation.match.account_tiers[0]",
        "unknown account tier 'gold'; use one of: standard, premium, enterprise",
    ),
    "wrong type": (
        """\
        escalation:
          tiers:
            - level: 1
              name: One
              capabilities: known_issues   #<
        """,
        "escalation.tiers[0].capabilities",
        "expected a list, got 'known_issues'",
    ),
    "number where text is expected": (
        """\
        escalation:
          tiers:
            - level: 1
              name: 2024   #<
        """,
        "escalation.tiers[0].name",
        "expected text, got the number 2024 (put it in quotes if it is meant as text)",
    ),
    "level is not a number": (
        """\
        escalation:
          tiers:
            - level: L1   #<
              name: One
        """,
        "escalation.tiers[0].level",
        "expected a whole number, got 'L1'",
    ),
    "undefined level in matrix": (
        """\
        escalation:
          tiers: [{level: 1, name: One}]
          matrix:
            P0:
              4: {first_response: 5m}   #<
        """,
        "escalation.matrix.P0.4",
        "there is no level 4 (levels defined: 1)",
    ),
    "undefined level in impact route": (
        """\
        escalation:
          tiers: [{level: 1, name: One}]
          triggers:
            impact_routes:
              security: 3   #<
        """,
        "escalation.triggers.impact_routes.security",
        "there is no level 3",
    ),
    "route to a word that is not next": (
        """\
        escalation:
          tiers: [{level: 0, name: Zero}, {level: 1, name: One}]
          triggers:
            executive_route: up   #<
        """,
        "escalation.triggers.executive_route",
        "expected a level number or next",
    ),
    "unknown impact flag": (
        """\
        escalation:
          tiers: [{level: 1, name: One}]
          triggers:
            impact_routes:
              securty: next   #<
        """,
        "escalation.triggers.impact_routes.securty",
        "unknown key 'securty' (did you mean 'security'?)",
    ),
    "duplicate key": (
        """\
        escalation:
          tiers: [{level: 1, name: One}]
          clock_start: level
          clock_start: incident   #<
        """,
        "escalation.clock_start",
        "key given twice (first on line 3)",
    ),
    "missing required key": (
        """\
        escalation:
          tiers:
            - level: 1   #<
              team: one
        """,
        "escalation.tiers[0].name",
        "missing (required)",
    ),
    "both resolution names": (
        """\
        escalation:
          tiers:
            - level: 1
              name: One
              sla:
                resolution_target: 4h
                resolution: 8h   #<
        """,
        "escalation.tiers[0].sla.resolution",
        "give either resolution_target or resolution, not both",
    ),
    "missing escalation key": (
        """\
        tiers:   #<
          - level: 1
        """,
        "tiers",
        "unknown key 'tiers'; allowed here: escalation",
    ),
    "no tiers": (
        """\
        escalation:
          tiers: []   #<
        """,
        "escalation.tiers",
        "define at least one tier",
    ),
    "YAML syntax error": (
        """\
        escalation:
          tiers:
            - level: 1
              name: One
          description: Outage: all customers   #<
        """,
        "",
        "invalid YAML: mapping values are not allowed here",
    ),
    "YAML indentation error": (
        """\
        escalation:
          tiers:
            - level: 1
             name: One   #<
        """,
        "",
        "invalid YAML: ",
    ),
}


@pytest.mark.parametrize("case", ERROR_CASES, ids=list(ERROR_CASES))
def test_problem_has_file_line_and_path(case):
    text, path, message = ERROR_CASES[case]
    line = marked_line(text)
    problems = problems_of(text, "support.yaml")
    assert len(problems) >= 1
    problem = problems[0]
    assert (problem.filename, problem.line, problem.path) == ("support.yaml", line, path)
    assert message in problem.message
    prefix = f"support.yaml:{line}: {path}: " if path else f"support.yaml:{line}: "
    assert str(problem).startswith(prefix)
    assert str(WorkflowError(problems)).splitlines()[0] == str(problem)


def test_message_format_matches_the_documented_example():
    comments = "".join(f"# comment {n}\n" for n in range(15))
    text = (
        f"{comments}escalation:\n  tiers:\n    - level: 1\n      name: One\n"
        "    - level: 2\n      name: Two\n      sla:\n        first_response: 4x\n"
    )
    assert text.splitlines()[22] == "        first_response: 4x"  # line 23
    with pytest.raises(WorkflowError) as caught:
        load_workflow_text(text, "support.yaml")
    assert str(caught.value) == (
        "support.yaml:23: escalation.tiers[1].sla.first_response: "
        "'4x' is not a duration (use e.g. 30m, 4h, 2d)"
    )
    assert isinstance(caught.value, ValueError)


def test_several_problems_are_reported_together_in_line_order():
    text = """\
    escalation:
      clock_start: sometimes
      tiers:
        - level: 1
          name: One
          sla: {first_response: soon, resolution_target: 8h}
          handoff_fields: [symptoms, gossip]
        - level: 1
          name: Again
      thresholds:
        - {at: 2000%, action: escalate}
      severity_overrides:
        - {severity: P0, route_to: 9, notification: carrier_pigeon}
      matrix:
        P9:
          1: {first_response: 5m}
      triggers:
        colour: red
    """
    problems = problems_of(text)
    assert [(p.line, p.path) for p in problems] == [
        (2, "escalation.clock_start"),
        (6, "escalation.tiers[0].sla.first_response"),
        (7, "escalation.tiers[0].handoff_fields[1]"),
        (8, "escalation.tiers[1].level"),
        (11, "escalation.thresholds[0].at"),
        (13, "escalation.severity_overrides[0].route_to"),
        (13, "escalation.severity_overrides[0].notification"),
        (15, "escalation.matrix.P9"),
        (18, "escalation.triggers.colour"),
    ]
    with pytest.raises(WorkflowError) as caught:
        load_workflow_text(textwrap.dedent(text), "w.yaml")
    lines = str(caught.value).splitlines()
    assert len(lines) == len(problems)
    assert all(line.startswith("w.yaml:") for line in lines)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "the document is empty"),
        ("# only a comment\n", 1, "the document is empty"),
        ("- escalation\n", 1, "expected a mapping with an escalation: key, got a list"),
        ("just text\n", 1, "expected a mapping with an escalation: key, got 'just text'"),
        ("escalation: 3\n", 1, "expected a mapping, got the number 3"),
        ("escalation:\n  tiers: [{level: 1, name: One}]\n---\nx: 1\n", 3, "invalid YAML: "),
        ('escalation:\n  description: "\x07"\n', 2, "invalid YAML: "),
    ],
)
def test_documents_that_are_not_workflows(text, line, message):
    problems = problems_of(text)
    assert problems[0].line == line
    assert message in problems[0].message


def test_missing_escalation_key_in_an_otherwise_empty_mapping():
    problems = problems_of("{}\n")
    assert [(p.line, p.path) for p in problems] == [(1, "escalation")]
    assert "top-level escalation: key" in problems[0].message


# ------------------------------------------------------------------------------ dumping


def test_dump_is_readable_and_canonical():
    spec = load_workflow_text(FULL)
    text = dump_workflow(spec)
    assert text.startswith("escalation:\n  description: All the extensions\n  clock_start: level\n")
    assert "    - at: 80%\n      action: pre_escalation_notice\n      clocks: [update]\n" in text
    assert "resolution_target: 1h30m" in text  # tier SLAs use the seed's key
    assert "first_response: 1h30m" in text  # bare 90 was minutes
    assert "mon: ['09:00-17:00']" in text  # calendars in canonical form
    assert "holidays: ['2026-01-01', '2026-12-25']" in text
    assert "    P0:\n      2: {first_response: 5m}\n" in text
    assert "executive_route: next" in text
    assert "&" not in text and "*" not in text  # no anchors or aliases
    order = [text.index(f"\n  {key}:") for key in ("clock_start", "calendars", "tiers", "match")]
    assert order == sorted(order)


def test_multi_line_text_is_written_as_a_block():
    spec = WorkflowSpec(
        levels=(LevelSpec(1, "One", description="first line\nsecond line\n"),),
        description="ends without newline\n  indented",
    )
    text = dump_workflow(spec)
    assert "description: |" in text
    assert load_workflow_text(text) == spec


# ------------------------------------------------------------------------------ property


CALENDAR_SPECS = (
    {"timezone": "UTC", "hours": "24/7", "holidays": []},
    {
        "timezone": "Europe/Berlin",
        "hours": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": ["2026-12-25", "2026-12-26"],
    },
    {
        "timezone": "America/New_York",
        "hours": {"tue": ["08:00:30-12:00", "13:00-24:00"], "sun": ["00:00-06:00"]},
        "holidays": [],
    },
)

_chars = st.characters(exclude_categories=("Cs", "Cc", "Co", "Cn", "Cf", "Zl", "Zp"))
texts = st.text(_chars, max_size=12)
long_texts = st.text(st.one_of(_chars, st.sampled_from(" \n\t:#-'\"")), max_size=40)
words = texts.filter(lambda text: text.strip() != "")
durations = st.integers(1, 60 * 86400).map(lambda seconds: timedelta(seconds=seconds))
maybe_durations = st.none() | durations


def unique(elements, **kwargs):
    return st.lists(elements, unique=True, **kwargs).map(tuple)


@st.composite
def workflow_specs(draw):
    numbers = sorted(draw(st.lists(st.integers(0, 12), min_size=1, max_size=4, unique=True)))
    names = draw(unique(words.filter(lambda name: name != "24/7"), max_size=2))
    calendars = tuple(sorted((name, draw(st.sampled_from(CALENDAR_SPECS))) for name in names))
    calendar_refs = st.sampled_from((*names, "24/7"))
    targets = st.builds(
        TargetSpec,
        first_response=maybe_durations,
        resolution=maybe_durations,
        update_interval=maybe_durations,
        calendar=st.none() | calendar_refs,
    )
    levels = []
    for number in numbers:
        contacts = draw(st.fixed_dictionaries({}, optional=dict.fromkeys(CONTACT_KEYS, words)))
        levels.append(
            LevelSpec(
                number=number,
                name=draw(words),
                team=draw(texts),
                description=draw(long_texts),
                capabilities=draw(unique(words, max_size=3)),
                escalation_criteria=draw(unique(words, max_size=3)),
                deescalation_criteria=draw(unique(words, max_size=3)),
                handoff_fields=draw(unique(st.sampled_from(tuple(HANDOFF_FIELDS)), max_size=7)),
                contacts=tuple((key, contacts[key]) for key in CONTACT_KEYS if key in contacts),
                sla=draw(st.none() | targets),
            )
        )
    cells = draw(
        st.dictionaries(
            st.tuples(st.sampled_from(SEVERITIES), st.sampled_from(numbers)), targets, max_size=4
        )
    )
    routes = st.sampled_from([NEXT_LEVEL, *numbers])
    triggers = TriggerSettings(
        repeat_count=draw(st.integers(1, 50)),
        repeat_window=draw(durations),
        burst_count=draw(st.integers(1, 50)),
        burst_window=draw(durations),
        burst_severities=draw(unique(st.sampled_from(SEVERITIES))),
        users_affected=draw(st.integers(1, 10**6)),
        revenue_impact=draw(st.integers(0, 10**9)),
        csat_below=draw(st.integers(1, 10)),
        ping_pong_limit=draw(st.integers(1, 20)),
        impact_routes=tuple(
            (flag, draw(routes)) for flag in draw(unique(st.sampled_from(IMPACT_FLAGS)))
        ),
        notify_groups=tuple(
            (group, draw(unique(words, max_size=3)))
            for group in draw(unique(st.sampled_from(NOTIFY_GROUPS)))
        ),
        executive_route=draw(routes),
        management_chain=draw(unique(words, max_size=4)),
    )
    severities = draw(unique(st.sampled_from(SEVERITIES)))
    return WorkflowSpec(
        levels=tuple(levels),
        description=draw(long_texts),
        clock_start=draw(st.sampled_from(("incident", "level"))),
        calendars=calendars,
        default_calendar=draw(calendar_refs),
        matrix=tuple(sorted(cells.items())),
        thresholds=tuple(
            draw(
                st.lists(
                    st.builds(
                        ThresholdSpec,
                        percent=st.integers(1, 1000),
                        action=st.sampled_from(ACTIONS),
                        clocks=unique(st.sampled_from(CLOCKS), min_size=1),
                    ),
                    max_size=4,
                )
            )
        ),
        overrides=tuple(
            OverrideSpec(
                severity,
                draw(st.sampled_from(numbers)),
                draw(st.sampled_from(NOTIFICATION_METHODS)),
                draw(texts),
            )
            for severity in severities
        ),
        pause_statuses=draw(unique(st.sampled_from(tuple(s.value for s in Status)))),
        triggers=triggers,
        match=MatchSpec(
            channels=draw(unique(words, max_size=3)),
            account_tiers=draw(unique(st.sampled_from(ACCOUNT_TIERS))),
            components=draw(unique(words, max_size=3)),
            priority=draw(st.integers(0, 1000)),
        ),
        reviews=ReviewSettings(
            required_severities=draw(unique(st.sampled_from(SEVERITIES))),
            required_from_level=draw(st.none() | st.integers(0, 99)),
            required_when=draw(unique(st.sampled_from(REVIEW_FLAGS))),
            due_after=draw(durations),
            remind_before=draw(durations),
            action_item_remind_before=draw(durations),
        ),
        war_room=WarRoomSettings(
            update_every=tuple(
                (severity, draw(durations))
                for severity in draw(unique(st.sampled_from(SEVERITIES), min_size=1))
            )
        ),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflow_specs())
def test_round_trip_of_random_specs(spec):
    text = dump_workflow(spec)
    assert load_workflow_text(text) == spec
    assert dump_workflow(spec) == text
