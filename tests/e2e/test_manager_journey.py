"""A manager reads the queues, metrics, weekly report and what-if pages, assigns
incidents in bulk in the admin and loads a policy YAML there as a new version."""

import pytest
from django.core.management import call_command

from escalations.models import Policy, PolicyStatus
from escalations.policies.services import policy_spec
from escalations.policies.workflow_yaml import dump_workflow
from incidents.models import Channel, Incident
from tests.e2e.browser import assert_fits_width, screenshot
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory, make_incident

pytestmark = [
    pytest.mark.browser,
    # No serialized_rollback (see test_agent_journey.py): the test makes its rows.
    pytest.mark.django_db(transaction=True),
]


def test_manager_journey(page, width, roles, tmp_path):
    Channel.objects.get_or_create(code="CUSTOMER", defaults={"name": "Customer"})
    call_command("load_workflow", "support-3-tier", "--default")
    manager = UserFactory(
        username="e2e-manager", role="Engineering Manager", is_staff=True, first_name="Mia"
    )
    agent = UserFactory(username="e2e-agent", role="Support Agent", first_name="Arlo")
    incidents = [
        make_incident(actor=manager, title=f"Search is slow for tenant {n}") for n in range(3)
    ]
    sign_in(page, manager.username)
    base = page.base_url

    # Queues, metrics, the weekly report and what-if: each readable at this width.
    for path, heading in (
        ("/queues/", "Review queues"),
        ("/metrics/", "Escalation metrics"),
        ("/reports/weekly/", "Weekly escalation report"),
        ("/policies/what-if/", "Policy simulation"),
    ):
        page.goto(base + path)
        assert heading in page.locator("h1").inner_text()
        if width == "phone":
            assert_fits_width(page)
        screenshot(page, f"manager{path.replace('/', '-')}{width}")

    # The weekly report offers Markdown and a printable view.
    page.goto(base + "/reports/weekly/")
    assert page.get_by_role("link", name="Markdown").is_visible()
    page.get_by_role("link", name="Printable view").click()
    page.wait_for_url("**.html")
    assert "Weekly escalation report" in page.locator("h1").inner_text()
    assert page.locator(".topbar").count() == 0
    assert page.get_by_role("heading", name="Open action items").is_visible()

    # Admin: assign two incidents at once.
    page.goto(base + "/admin/incidents/incident/")
    for incident in incidents[:2]:
        page.check(f"input[name=_selected_action][value='{incident.pk}']")
    page.select_option("select[name=action]", "assign")
    page.click("button[name=index]")
    page.wait_for_selector("text=Assign 2 incidents")
    page.select_option("select[name=assignee]", str(agent.pk))
    page.click("input[type=submit][value='Assign 2 incidents']")
    page.wait_for_selector(".messagelist")
    assert f"Assigned 2 incident(s) to {agent}." in page.locator(".messagelist").inner_text()
    assert [
        i.assignee_id for i in Incident.objects.filter(pk__in=[i.pk for i in incidents[:2]])
    ] == [
        agent.pk,
        agent.pk,
    ]
    screenshot(page, f"manager-admin-bulk-assign-{width}")

    # Admin: load a broken file first (file:line errors), then the exported one.
    active = Policy.objects.get(name="support-3-tier")
    exported = dump_workflow(policy_spec(active))
    broken = tmp_path / "broken.yaml"
    broken.write_text(exported.replace("first_response: 4h", "first_response: soon", 1))
    good = tmp_path / "support-3-tier-v1.yaml"
    good.write_text(exported)
    page.goto(base + "/admin/escalations/policy/")
    upload = page.locator("#policy-upload")
    assert "Load a workflow YAML as a new version" in upload.inner_text()
    upload.locator("input[type=file]").set_input_files(str(broken))
    upload.locator("input[type=submit]").click()
    page.wait_for_selector("text=Nothing was loaded.")
    assert "broken.yaml:" in page.locator(".errorlist").inner_text()
    assert "is not a duration" in page.locator(".errorlist").inner_text()
    screenshot(page, f"manager-admin-yaml-errors-{width}")

    upload = page.locator("#policy-upload")
    upload.locator("input[type=file]").set_input_files(str(good))
    upload.locator("input[type=submit]").click()
    page.wait_for_selector(".messagelist")
    assert (
        "Loaded support-3-tier v2 (draft) from support-3-tier-v1.yaml."
        in page.locator(".messagelist").inner_text()
    )
    # The new version's settings are fields, durations as people write them.
    assert page.locator("input[name=review_due_after]").input_value() == "2d"
    screenshot(page, f"manager-admin-new-version-{width}")
    versions = dict(Policy.objects.filter(name="support-3-tier").values_list("version", "status"))
    assert versions == {1: PolicyStatus.ACTIVE, 2: PolicyStatus.DRAFT}
    assert not Policy.objects.filter(name="support-3-tier-v1").exists()
