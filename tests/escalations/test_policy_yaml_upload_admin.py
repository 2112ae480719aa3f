"""Loading workflow YAML from the policy list in the admin: a new version, or every
problem as `file:line: path: problem`, exactly like `load_workflow`."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from escalations.models import Policy, PolicyStatus
from escalations.policies.services import policy_spec
from escalations.policies.workflow_yaml import dump_workflow
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"


@pytest.fixture
def staff(client, manager):
    client.login(username=manager.username, password=PASSWORD)
    return client


def upload(client, name: str, text: str, **fields):
    return client.post(
        reverse("admin:escalations_policy_upload"),
        {"file": SimpleUploadedFile(name, text.encode()), "activate": "draft", **fields},
        follow=True,
    )


def test_the_policy_list_offers_the_upload_form(staff):
    html = staff.get(reverse("admin:escalations_policy_changelist")).content.decode()
    assert "Load a workflow YAML as a new version" in html
    assert 'enctype="multipart/form-data"' in html
    assert reverse("admin:escalations_policy_upload") in html


def test_an_exported_file_loads_back_as_a_draft_of_the_same_policy(staff):
    call_command("load_workflow", "support-3-tier")
    active = Policy.objects.get(name="support-3-tier")
    text = dump_workflow(policy_spec(active)).replace("(seed 001)", "(seed 001, edited)")
    response = upload(staff, "support-3-tier-v1.yaml", text)
    html = response.content.decode()
    assert "Loaded support-3-tier v2 (draft) from support-3-tier-v1.yaml." in html
    assert not Policy.objects.filter(name="support-3-tier-v1").exists()
    draft = Policy.objects.get(name="support-3-tier", version=2)
    assert draft.status == PolicyStatus.DRAFT and draft.source == "support-3-tier-v1.yaml"
    assert response.redirect_chain[-1][0] == reverse(
        "admin:escalations_policy_change", args=[draft.pk]
    )
    active.refresh_from_db()
    assert active.status == PolicyStatus.ACTIVE  # a draft retires nothing


def test_activate_now_retires_the_previous_version(staff):
    call_command("load_workflow", "support-3-tier")
    text = dump_workflow(policy_spec(Policy.objects.get(name="support-3-tier")))
    upload(staff, "support-3-tier-v1.yaml", text, activate="activate")
    versions = dict(Policy.objects.filter(name="support-3-tier").values_list("version", "status"))
    assert versions == {1: PolicyStatus.RETIRED, 2: PolicyStatus.ACTIVE}


def test_a_broken_file_loads_nothing_and_names_file_line_and_field(staff):
    text = (
        (DATA / "seed001_escalation.yaml")
        .read_text()
        .replace("first_response: 2h", "first_response: 2 hours")
    )
    line = text.splitlines().index(next(ln for ln in text.splitlines() if "2 hours" in ln)) + 1
    html = upload(staff, "broken.yaml", text).content.decode()
    assert "Nothing was loaded." in html
    assert f"broken.yaml:{line}: escalation.tiers[1].sla.first_response:" in html
    assert not Policy.objects.exists()


def test_a_file_that_is_not_text_is_refused(staff):
    response = staff.post(
        reverse("admin:escalations_policy_upload"),
        {"file": SimpleUploadedFile("x.yaml", b"\xff\xfe\x00bad"), "activate": "draft"},
    )
    assert "x.yaml: not UTF-8 text." in response.content.decode()
    assert not Policy.objects.exists()
