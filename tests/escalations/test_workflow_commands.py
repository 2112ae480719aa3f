"""load_workflow / export_workflow on the database: versions, defaults, round trips."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from escalations.models import Level, Policy, PolicyStatus
from escalations.policies.services import policy_spec
from escalations.policies.workflow_yaml import load_workflow_text

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
PRESETS = ["support-3-tier", "engineering-5-level", "p0-p3-matrix"]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_load_by_name_and_round_trip(preset):
    assert "Loaded" in run("load_workflow", preset)
    policy = Policy.objects.get(name=preset)
    assert policy.status == PolicyStatus.ACTIVE and policy.version == 1
    exported = run("export_workflow", preset)
    # Exported YAML loads back to an identical policy, also through the database.
    assert load_workflow_text(exported) == policy_spec(policy)
    path = DATA.parent / "copy.yaml"
    try:
        path.write_text(exported)
        run("load_workflow", str(path), "--name", f"{preset}-copy")
    finally:
        path.unlink()
    assert policy_spec(Policy.objects.get(name=f"{preset}-copy")) == policy_spec(policy)
    assert run("export_workflow", f"{preset}-copy") == exported


def test_seed_001_block_loads_verbatim():
    run("load_workflow", str(DATA / "seed001_escalation.yaml"), "--name", "seed")
    policy = Policy.objects.get(name="seed")
    levels = list(policy.levels.order_by("number").values_list("number", "name", "team"))
    assert levels == [
        (1, "Front-Line Support", "support-generalists"),
        (2, "Specialist Support", "support-specialists"),
        (3, "Engineering / Executive", "engineering-oncall"),
    ]
    l1 = policy.levels.get(number=1)
    assert (l1.first_response.total_seconds(), l1.resolution.total_seconds()) == (
        4 * 3600,
        24 * 3600,
    )
    overrides = list(policy.overrides.values_list("severity", "route_to", "notification"))
    assert overrides == [
        ("P0", 3, "pagerduty"),
        ("P1", 3, "slack_oncall"),
        ("P2", 2, "slack_channel"),
    ]


def test_loading_the_same_name_again_makes_a_new_version():
    run("load_workflow", "support-3-tier", "--default")
    run("load_workflow", "support-3-tier")
    versions = dict(Policy.objects.filter(name="support-3-tier").values_list("version", "status"))
    assert versions == {1: "retired", 2: "active"}
    assert Policy.objects.get(version=2).is_default  # the default moves with the name


def test_name_defaults_to_the_file_name(tmp_path):
    path = tmp_path / "night-shift.yaml"
    path.write_text((DATA / "seed001_escalation.yaml").read_text())
    run("load_workflow", str(path))
    assert Policy.objects.filter(name="night-shift").exists()


def test_bad_file_loads_nothing_and_names_file_line_and_field(tmp_path):
    text = (
        (DATA / "seed001_escalation.yaml")
        .read_text()
        .replace("first_response: 2h", "first_response: 2 hours")
    )
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    line = text.splitlines().index(next(ln for ln in text.splitlines() if "2 hours" in ln)) + 1
    with pytest.raises(CommandError) as error:
        run("load_workflow", str(path))
    message = str(error.value)
    assert f"broken.yaml:{line}:" in message
    assert "escalation.tiers[1].sla.first_response" in message
    assert not Policy.objects.exists() and not Level.objects.exists()


def test_unknown_match_channel_loads_nothing(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text(
        (DATA / "seed001_escalation.yaml").read_text()
        + "  match:\n    channels: [Carrier pigeon]\n"
    )
    with pytest.raises(CommandError, match="Carrier pigeon"):
        run("load_workflow", str(path))
    assert not Policy.objects.exists()


def test_draft_and_default_options():
    run("load_workflow", "p0-p3-matrix", "--draft")
    assert Policy.objects.get().status == PolicyStatus.DRAFT
    run("load_workflow", "engineering-5-level")
    run("load_workflow", "--name", "engineering-5-level", "--default")
    assert Policy.objects.get(is_default=True).name == "engineering-5-level"
    with pytest.raises(CommandError, match="No active policy"):
        run("load_workflow", "--name", "p0-p3-matrix", "--default")


def test_default_by_name_loads_a_preset_never_loaded():
    run("load_workflow", "--name", "support-3-tier", "--default")
    policy = Policy.objects.get()
    assert (policy.name, policy.status, policy.is_default) == (
        "support-3-tier",
        PolicyStatus.ACTIVE,
        True,
    )
    with pytest.raises(CommandError, match="No active policy named 'nothing-like-it'"):
        run("load_workflow", "--name", "nothing-like-it", "--default")


def test_missing_file_lists_presets():
    with pytest.raises(CommandError, match="support-3-tier"):
        run("load_workflow", "no-such-thing")


def test_export_unknown_policy():
    with pytest.raises(CommandError, match="No policy"):
        run("export_workflow", "nope")
