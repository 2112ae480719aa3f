"""Policies that can reach someone: a level whose team and contacts resolve to no person
or address is an error on activation and a warning on load; the shipped presets reach
the demo's people; a customer reply nobody owns goes to the current level's people."""

from __future__ import annotations

from dataclasses import replace
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from escalations.engine import services as engine
from escalations.models import Policy, PolicyStatus
from escalations.policies.reach import level_reach, reach_problems
from escalations.policies.services import policy_activate, policy_create_from_spec, policy_spec
from escalations.policies.workflow_yaml import dump_workflow, load_workflow_file
from escalations.rules.handoff import CHECKLIST
from incidents import services
from notifications.models import Notification
from portal.demo import PRESETS as DEMO_PRESETS
from portal.demo import ensure_people
from tests.factories import AccountFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db

WORKFLOWS = Path(__file__).resolve().parents[2] / "escalations" / "workflows"


@pytest.mark.parametrize("preset", sorted(p.stem for p in WORKFLOWS.glob("*.yaml")))
def test_every_level_of_every_preset_reaches_the_demo_people(preset, roles):
    people = {user.email for user in ensure_people().values()}
    spec = load_workflow_file(WORKFLOWS / f"{preset}.yaml")
    assert reach_problems(spec) == []
    for level in spec.levels:
        # A person, not only a shared mailbox nobody in the portal reads.
        assert people & set(level_reach(level)), f"{preset} {level.label} reaches no person"
    assert preset in DEMO_PRESETS


def test_a_level_nobody_hears_is_named(roles):
    spec = load_workflow_file(WORKFLOWS / "engineering-5-level.yaml")
    nobody = replace(spec.levels[1], team="owning-team-lead")
    edited = replace(spec, levels=(spec.levels[0], nobody, *spec.levels[2:]))
    problems = reach_problems(edited)
    # Nobody is in any role yet: every level is named, with what to do.
    assert len(problems) == len(spec.levels)
    assert problems[1].startswith("L1 Team Lead reaches nobody: its team 'owning-team-lead'")
    assert "contacts.email" in problems[1]
    UserFactory(role="Team Lead")  # still not in the group the level names
    assert any(p.startswith("L1 ") for p in reach_problems(edited))
    assert not any(p.startswith("L1 ") for p in reach_problems(spec))


def test_activating_a_draft_that_reaches_nobody_is_refused(roles, tmp_path):
    spec = load_workflow_file(WORKFLOWS / "engineering-5-level.yaml")
    draft = policy_create_from_spec(spec=spec, name="eng", activate=False)
    with pytest.raises(ValidationError) as refused:
        policy_activate(policy=draft)
    assert any("L0 Assigned Engineer reaches nobody" in m for m in refused.value.messages)
    draft.refresh_from_db()
    assert draft.status == PolicyStatus.DRAFT

    ensure_people()  # the demo's people, one or more in each role
    assert policy_activate(policy=draft).status == PolicyStatus.ACTIVE


def test_loading_a_file_that_reaches_nobody_warns(roles, tmp_path):
    spec = load_workflow_file(WORKFLOWS / "engineering-5-level.yaml")
    levels = tuple(replace(level, team="owning-team") for level in spec.levels)
    path = tmp_path / "eng.yaml"
    path.write_text(dump_workflow(replace(spec, levels=levels)))
    err = StringIO()
    call_command("load_workflow", str(path), "--draft", stdout=StringIO(), stderr=err)
    assert Policy.objects.get(name="eng").status == PolicyStatus.DRAFT  # loaded anyway
    assert f"{path}: warning: L0 Assigned Engineer reaches nobody" in err.getvalue()
    assert err.getvalue().count("reaches nobody") == len(levels)


def test_a_reply_nobody_owns_goes_to_the_current_levels_people(roles):
    people = ensure_people()
    policy_create_from_spec(
        spec=load_workflow_file(WORKFLOWS / "engineering-5-level.yaml"),
        name="engineering-5-level",
        make_default=True,
    )
    account = AccountFactory(primary_contact_email="jane@acme.example")
    incident = make_incident(actor=people["agent"], account=account, severity="P2")
    assert (incident.current_level, incident.assignee) == (0, None)

    def told_of_reply():
        return set(
            Notification.objects.filter(incident=incident, kind="customer_reply").values_list(
                "recipient_user__username", flat=True
            )
        )

    services.incident_customer_reply(
        incident=incident, body="Any news?", from_email="jane@acme.example", via="status page"
    )
    assert {"agent", "priya", "lucas", "noah", "emma"} <= told_of_reply()

    Notification.objects.filter(kind="customer_reply").delete()
    engine.incident_escalate(
        incident=incident,
        to_level=1,
        actor=people["agent"],
        reason="Needs a lead",
        category="expertise",
        note=dict.fromkeys(policy_spec(incident.policy).level(1).handoff_fields, "See timeline."),
        checklist=list(CHECKLIST),
    )
    incident.refresh_from_db()
    assert incident.assignee is None
    services.incident_customer_reply(
        incident=incident, body="Still broken.", from_email="jane@acme.example", via="email"
    )
    assert told_of_reply() == {"lead", "kenji"}  # L1 is the Team Lead role
