"""An exported `<policy>-v<N>.yaml` loads back as the next version of that policy,
from the command line and from the admin, never as a policy named after the file."""

import pytest
from django.core.management import call_command

from escalations.models import Policy, PolicyStatus
from escalations.policies.services import policy_name_for_file, policy_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported(tmp_path):
    call_command("load_workflow", "support-3-tier")
    policy = Policy.objects.get(name="support-3-tier")
    from escalations.policies.workflow_yaml import dump_workflow

    path = tmp_path / f"{policy.name}-v{policy.version}.yaml"  # as the admin names it
    path.write_text(dump_workflow(policy_spec(policy)))
    return path


def test_the_command_loads_an_exported_file_as_a_new_version(exported):
    call_command("load_workflow", str(exported))
    assert not Policy.objects.filter(name="support-3-tier-v1").exists()
    versions = dict(Policy.objects.filter(name="support-3-tier").values_list("version", "status"))
    assert versions == {1: PolicyStatus.RETIRED, 2: PolicyStatus.ACTIVE}


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("support-3-tier-v1.yaml", "support-3-tier"),
        ("support-3-tier-v12.yml", "support-3-tier"),
        ("support-3-tier-v1 (1).yaml", "support-3-tier"),  # a browser's second download
        ("support-3-tier.yaml", "support-3-tier"),
        ("night-shift.yaml", "night-shift"),
    ],
)
def test_the_policy_a_file_belongs_to(filename, name):
    assert policy_name_for_file(filename) == name


def test_a_policy_whose_own_name_ends_in_a_version_keeps_it(exported):
    call_command("load_workflow", str(exported), "--name", "api-v2")
    assert policy_name_for_file("api-v2.yaml") == "api-v2"
    assert policy_name_for_file("api-v2-v1.yaml") == "api-v2"
