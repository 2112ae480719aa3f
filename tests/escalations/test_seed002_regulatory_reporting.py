"""Seed 002 Public Communication: "Regulatory Reporting: Report to regulatory bodies if
required" (002-30, issue 19). Legal or a manager marks an incident as needing a report,
due per its policy (72 hours by default, the GDPR's for a personal data breach); Legal is
told at once, a day before and when it is overdue, once each however often the reminder
sweep runs; recording it filed stops the reminders."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from escalations.followup.regulatory import regulatory_report_file, regulatory_report_require
from escalations.followup.reminders import reminder_sweep
from escalations.policies.services import policy_create_from_spec, policy_spec
from escalations.policies.workflow_yaml import WorkflowError, dump_workflow, load_workflow_text
from escalations.rules.spec import RegulatoryReportSettings
from incidents.models import Channel, EventKind
from incidents.permissions import ActionNotAllowed, NotVisible
from notifications.models import Notification
from tests.escalations.conftest import simple_spec
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


@pytest.fixture
def people(roles):
    return {
        role: UserFactory(username=role.split()[0].lower(), role=role)
        for role in ("Support Agent", "Engineering Manager", "Legal", "Security")
    }


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(days=5)


@pytest.fixture
def incident(people, t0):
    policy_create_from_spec(spec=simple_spec(), name="standard", make_default=True)
    return make_incident(actor=people["Support Agent"], severity="P1", opened_at=t0, now=t0)


def legal_notices(incident, legal):
    rows = Notification.objects.filter(
        incident=incident, kind="regulatory_report", recipient=legal.email
    )
    return sorted(rows.values_list("context__reminder", flat=True))


# --- the policy setting -------------------------------------------------------------------------


def test_seed002_regulatory_report_due_time_is_policy_data_with_a_72h_default():
    """Seed 002 "Report to regulatory bodies if required": no time in the seed; the default
    is the GDPR's 72 hours, and a policy may say otherwise (YAML in and out)."""
    assert RegulatoryReportSettings() == RegulatoryReportSettings(
        due_after=72 * H, remind_before=24 * H, notify=("Legal",)
    )
    text = """
escalation:
  tiers: [{level: 1, name: Support}]
  regulatory_report: {due_after: 24h, remind_before: 6h, notify: [Legal, Director]}
"""
    spec = load_workflow_text(text, "custom.yaml")
    assert spec.regulatory_report == RegulatoryReportSettings(
        due_after=24 * H, remind_before=6 * H, notify=("Director", "Legal")
    )
    assert load_workflow_text(dump_workflow(spec), "again.yaml") == spec
    with pytest.raises(WorkflowError, match=r"regulatory_report\.due_after"):
        load_workflow_text(text.replace("due_after: 24h", "due_after: 0m"), "bad.yaml")


@pytest.mark.parametrize(
    "setting, problem",
    [
        ("{due_after: 24h, remind_before: 24h}", "remind_before must be shorter than due_after"),
        ("{due_after: 24h, remind_before: 30h}", "remind_before must be shorter than due_after"),
        ("{notify: []}", "notify names no group"),
    ],
)
def test_seed002_regulatory_report_setting_that_cannot_work_is_refused(roles, setting, problem):
    """Seed 002 "Regulatory Reporting": a 'due soon' reminder no earlier than the mark, or
    nobody to tell, is refused in the workflow YAML and when a policy is saved (one check,
    `regulatory_report_problems`)."""
    text = f"escalation:\n  tiers: [{{level: 1, name: Support}}]\n  regulatory_report: {setting}\n"
    with pytest.raises(WorkflowError, match=problem):
        load_workflow_text(text, "bad.yaml")
    bad = {
        "{due_after: 24h, remind_before: 24h}": RegulatoryReportSettings(
            due_after=24 * H, remind_before=24 * H
        ),
        "{due_after: 24h, remind_before: 30h}": RegulatoryReportSettings(
            due_after=24 * H, remind_before=30 * H
        ),
        "{notify: []}": RegulatoryReportSettings(notify=()),
    }[setting]
    with pytest.raises(ValidationError, match=problem):
        policy_create_from_spec(spec=simple_spec(regulatory_report=bad), name="bad")


def test_a_partial_stored_setting_takes_the_defaults():
    from escalations.policies.services import regulatory_report_from_json

    assert regulatory_report_from_json({"notify": ["VP"]}) == RegulatoryReportSettings(
        notify=("VP",)
    )
    assert regulatory_report_from_json({"due_after": 48 * 3600}) == RegulatoryReportSettings(
        due_after=48 * H
    )


def test_the_setting_survives_the_database(roles):
    settings = RegulatoryReportSettings(due_after=48 * H, remind_before=12 * H, notify=("VP",))
    policy = policy_create_from_spec(
        spec=simple_spec(regulatory_report=settings), name="custom", make_default=True
    )
    assert policy_spec(policy).regulatory_report == settings


def test_seed002_preset_carries_the_regulatory_report_setting(roles):
    Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})
    call_command("load_workflow", "p0-p3-matrix", "--default", verbosity=0)
    incident = make_incident(severity="P2")
    assert policy_spec(incident.policy).regulatory_report.due_after == 72 * H


# --- marking and filing: who may --------------------------------------------------------------


def test_seed002_regulatory_report_required_tells_legal_at_once(incident, people, t0):
    """Seed 002 "Regulatory Reporting": a manager marks it; Legal is told, the timeline
    says so, the report is due 72 hours later."""
    manager, legal = people["Engineering Manager"], people["Legal"]
    at = t0 + H
    report = regulatory_report_require(
        incident=incident, actor=manager, reason="Personal data breach", now=at
    )
    assert report.due_at == at + 72 * H
    assert report.next_reminder_at == at + 48 * H
    assert legal_notices(incident, legal) == ["required"]
    event = incident.events.get(kind=EventKind.REGULATORY_REPORT)
    assert "Personal data breach" in event.body and f"told: {legal.email}" in event.body
    with pytest.raises(ValidationError, match="already"):
        regulatory_report_require(incident=incident, actor=manager, reason="Again", now=at)


def test_only_legal_and_managers_mark_and_file(incident, people, t0):
    agent, legal = people["Support Agent"], people["Legal"]
    with pytest.raises(ActionNotAllowed):
        regulatory_report_require(incident=incident, actor=agent, reason="Breach", now=t0)
    regulatory_report_require(incident=incident, actor=legal, reason="Breach", now=t0)
    with pytest.raises(ActionNotAllowed):
        regulatory_report_file(incident=incident, actor=agent, now=t0 + H)
    report = regulatory_report_file(
        incident=incident, actor=legal, reference="ICO-2026-0042", now=t0 + H
    )
    assert (report.filed_by, report.filed_reference, report.next_reminder_at) == (
        legal,
        "ICO-2026-0042",
        None,
    )
    with pytest.raises(ValidationError, match="filed already"):
        regulatory_report_file(incident=incident, actor=legal, now=t0 + 2 * H)


def test_legal_cannot_mark_a_security_incident_it_may_not_read(people, t0):
    """Seed 000 limited distribution holds: a security incident without data loss is not
    Legal's to see, so not to mark (404, as if it did not exist)."""
    policy_create_from_spec(spec=simple_spec(), name="standard", make_default=True)
    incident = make_incident(actor=people["Security"], is_security=True, now=t0)
    with pytest.raises(NotVisible):
        regulatory_report_require(incident=incident, actor=people["Legal"], reason="?", now=t0)


def test_marking_a_security_incident_nobody_told_may_read_is_refused(people, t0):
    """Seed 000 limited distribution with seed 002 "Regulatory Reporting": a security
    incident without data loss is not Legal's to read, so Legal (the policy's `notify`)
    cannot be told; the mark is refused with the reason rather than recorded as "Legal
    told" with nothing sent."""
    policy_create_from_spec(spec=simple_spec(), name="standard", make_default=True)
    incident = make_incident(actor=people["Security"], is_security=True, now=t0)
    manager = people["Engineering Manager"]
    with pytest.raises(ValidationError, match="may read this security incident"):
        regulatory_report_require(incident=incident, actor=manager, reason="Breach", now=t0)
    assert not incident.events.filter(kind=EventKind.REGULATORY_REPORT).exists()
    assert not Notification.objects.filter(kind="regulatory_report").exists()


def test_the_timeline_names_who_was_told_not_the_policys_groups(people, t0):
    """Seed 002 "Regulatory Reporting" on a security incident whose `notify` names Legal
    and a security reader (Director): the Director is told, Legal is not (seed 000), and
    the timeline says exactly that."""
    settings = RegulatoryReportSettings(notify=("Director", "Legal"))
    policy_create_from_spec(
        spec=simple_spec(regulatory_report=settings), name="custom", make_default=True
    )
    director = UserFactory(username="director", role="Director")
    incident = make_incident(actor=people["Security"], is_security=True, now=t0)
    regulatory_report_require(
        incident=incident, actor=people["Engineering Manager"], reason="Breach", now=t0
    )
    body = incident.events.get(kind=EventKind.REGULATORY_REPORT).body
    assert f"told: {director.email}" in body and people["Legal"].email not in body
    assert legal_notices(incident, people["Legal"]) == []


def test_a_data_breach_tells_legal(people, t0):
    """Seed 000 "Coordinate with legal if data breach": with data loss Legal may read it."""
    policy_create_from_spec(spec=simple_spec(), name="standard", make_default=True)
    incident = make_incident(actor=people["Security"], is_security=True, is_data_loss=True, now=t0)
    regulatory_report_require(
        incident=incident, actor=people["Engineering Manager"], reason="Breach", now=t0
    )
    assert legal_notices(incident, people["Legal"]) == ["required"]


def test_a_security_incidents_report_reason_stays_out_of_email(people, t0):
    """Seed 000 limited distribution: Legal told of a data breach's report reads that one is
    due, not why (the reason may name what leaked); the page has it. The template hides it
    too, like the other security emails (`{% if not limited %}`)."""
    from notifications.rendering import render_bodies, render_text, template

    policy_create_from_spec(spec=simple_spec(), name="standard", make_default=True)
    incident = make_incident(actor=people["Security"], is_security=True, is_data_loss=True, now=t0)
    regulatory_report_require(
        incident=incident, actor=people["Legal"], reason="Payroll table leaked", now=t0
    )
    row = Notification.objects.get(kind="regulatory_report", recipient=people["Legal"].email)
    bodies = render_bodies(row)
    assert "Payroll" not in str(row.context) + bodies["body_text"] + bodies["body_html"]
    assert "see the incident page" in bodies["body_text"]
    context = {**row.context, "report": {**row.context["report"], "reason": "Payroll leak"}}
    html = template("notifications/regulatory_report/body.html").render(context)
    text = render_text("notifications/regulatory_report/body.txt", context)
    assert "Payroll" not in html + text
    shown = render_text("notifications/regulatory_report/body.txt", {**context, "limited": False})
    assert "Why: Payroll leak" in shown


def test_with_nobody_to_tell_the_timeline_and_sweep_say_so(incident, people, t0):
    """Seed 002 "Regulatory Reporting": an empty Legal group is not reported as told; the
    sweep counts a reminder that reached nobody apart from those it queued."""
    legal = people["Legal"]
    legal.is_active = False
    legal.save()
    report = regulatory_report_require(
        incident=incident, actor=people["Engineering Manager"], reason="Breach", now=t0
    )
    body = incident.events.get(kind=EventKind.REGULATORY_REPORT).body
    assert "nobody could be told" in body and "; told: " not in body
    counts = reminder_sweep(now=report.due_at - 24 * H)
    assert "regulatory_report_due_soon" not in counts
    assert counts["regulatory_report_due_soon_nobody"] == 1


def test_the_page_message_says_who_was_told(client, incident, people):
    client.force_login(people["Engineering Manager"])
    url = f"/incidents/{incident.reference}/regulatory-report/require/"
    page = client.post(url, {"reason": "Breach"}, follow=True).content.decode()
    assert f"told: {people['Legal'].email}" in page and "Legal has been told" not in page


# --- reminders through the sweep ------------------------------------------------------------


def test_seed002_regulatory_report_reminded_before_and_overdue_once_each(incident, people, t0):
    """Seed 002 "Regulatory Reporting": unfiled, Legal hears a day before the due time and
    when it passes, once each however often the sweep runs."""
    legal = people["Legal"]
    report = regulatory_report_require(
        incident=incident, actor=people["Engineering Manager"], reason="Breach", now=t0
    )
    due = report.due_at
    assert (
        reminder_sweep(now=due - 24 * H - timedelta(seconds=1)).get("regulatory_report_due_soon")
        is None
    )
    assert reminder_sweep(now=due - 24 * H)["regulatory_report_due_soon"] == 1
    reminder_sweep(now=due - 24 * H)  # twice: nothing more
    assert legal_notices(incident, legal) == ["due_soon", "required"]
    assert reminder_sweep(now=due + H)["regulatory_report_overdue"] == 1
    assert "regulatory_report_overdue" not in reminder_sweep(now=due + 2 * H)
    assert legal_notices(incident, legal) == ["due_soon", "overdue", "required"]
    overdue = Notification.objects.get(
        incident=incident, recipient=legal.email, context__reminder="overdue"
    )
    assert overdue.urgent and "OVERDUE" in overdue.subject


def test_a_report_filed_in_time_is_never_overdue(incident, people, t0):
    legal = people["Legal"]
    report = regulatory_report_require(incident=incident, actor=legal, reason="Breach", now=t0)
    regulatory_report_file(incident=incident, actor=legal, now=t0 + H)
    reminder_sweep(now=report.due_at + H)
    assert legal_notices(incident, legal) == ["required"]


def test_regulatory_notices_are_urgent_and_not_held_for_working_hours(incident, people, t0):
    """Seed 002 "Regulatory Reporting" (a statutory deadline): Legal's notices go at once
    even outside their working hours, and are urgent (never folded or capped)."""
    legal = people["Legal"]
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    other_day = days[(t0.weekday() + 3) % 7]  # Legal works neither today nor tomorrow
    legal.working_hours = {other_day: ["09:00-10:00"]}
    legal.time_zone = "UTC"
    legal.urgent_severities = []
    legal.save()
    report = regulatory_report_require(incident=incident, actor=legal, reason="Breach", now=t0)
    due_soon = report.due_at - 24 * H
    reminder_sweep(now=due_soon)
    rows = Notification.objects.filter(kind="regulatory_report", recipient=legal.email)
    assert sorted((r.context["reminder"], r.next_attempt_at, r.urgent) for r in rows) == [
        ("due_soon", due_soon, True),
        ("required", t0, True),
    ]


def test_filing_withdraws_reminders_still_held(incident, people, t0):
    """Seed 002 "Regulatory Reporting": a reminder queued but not yet sent (held for working
    hours or a retry) does not go out once the report is filed; the outbox says why. Other
    notices of the incident stay queued."""
    legal = people["Legal"]
    report = regulatory_report_require(incident=incident, actor=legal, reason="Breach", now=t0)
    reminder_sweep(now=report.due_at - 24 * H)
    held = Notification.objects.filter(kind="regulatory_report", recipient=legal.email)
    assert held.count() == 2 and {r.status for r in held} == {"pending"}
    others = Notification.objects.filter(incident=incident).exclude(kind="regulatory_report")
    before = sorted(others.values_list("pk", "status"))
    regulatory_report_file(incident=incident, actor=legal, now=report.due_at - 23 * H)
    assert {
        (r.status, r.suppressed_reason.startswith("regulatory report filed")) for r in held.all()
    } == {("suppressed", True)}
    assert sorted(others.values_list("pk", "status")) == before


# --- where people see it: the incident page, the admin, the API -------------------------------


def test_seed002_incident_page_marks_shows_and_files_the_report(client, incident, people):
    """Seed 002 "Regulatory Reporting" on the incident page: a manager marks it, the page
    shows why and when it is due; Legal records it filed; an agent sees it but no form."""
    manager, legal, agent = people["Engineering Manager"], people["Legal"], people["Support Agent"]
    page = f"/incidents/{incident.reference}/"
    client.force_login(agent)
    assert b'id="regulatory-report"' not in client.get(page).content  # nothing to show yet
    client.force_login(manager)
    assert b"Mark as needing a regulatory report" in client.get(page).content
    url = f"/incidents/{incident.reference}/regulatory-report/require/"
    assert client.post(url, {"reason": ""}).status_code == 400  # the reason is required
    client.post(url, {"reason": "Personal data breach <script>"})
    client.force_login(agent)
    html = client.get(page).content.decode()
    assert "Personal data breach &lt;script&gt;" in html and "data-regulatory-due" in html
    assert "Record the report as filed" not in html
    assert (
        client.post(f"/incidents/{incident.reference}/regulatory-report/file/").status_code == 403
    )
    client.force_login(legal)
    assert "Record the report as filed" in client.get(page).content.decode()
    client.post(f"/incidents/{incident.reference}/regulatory-report/file/", {"reference": "ICO-42"})
    html = client.get(page).content.decode()
    assert "ICO-42" in html and "Record the report as filed" not in html


def test_the_api_shows_the_report_to_whoever_may_see_the_incident(incident, people, t0):
    from tests.api_client import token_client

    url = f"/api/incidents/{incident.reference}/regulatory-report/"
    assert token_client(people["Legal"]).get(url).status_code == 404  # none yet
    regulatory_report_require(
        incident=incident, actor=people["Legal"], reason="Personal data breach", now=t0
    )
    body = token_client(people["Support Agent"]).get(url).json()
    assert body["reason"] == "Personal data breach"
    assert body["is_overdue"] is True and body["filed_at"] is None  # t0 is 5 days ago
    assert body["required_by"] == "legal"


def test_seed002_the_api_marks_and_files_through_the_services(incident, people, t0):
    """Seed 002 "Regulatory Reporting" over the API: the same services, rules and refusals
    as the page (Legal and managers; a reason; a security incident nobody told may read)."""
    from tests.api_client import token_client

    base = f"/api/incidents/{incident.reference}/regulatory-report/"
    agent, legal = token_client(people["Support Agent"]), token_client(people["Legal"])
    assert agent.post(f"{base}require/", {"reason": "Breach"}, format="json").status_code == 403
    assert legal.post(f"{base}require/", {"reason": ""}, format="json").status_code == 400
    made = legal.post(f"{base}require/", {"reason": "Personal data breach"}, format="json")
    assert made.status_code == 201 and made.json()["reason"] == "Personal data breach"
    assert legal_notices(incident, people["Legal"]) == ["required"]
    filed = legal.post(f"{base}file/", {"reference": "ICO-7"}, format="json")
    assert filed.status_code == 200 and filed.json()["filed_reference"] == "ICO-7"
    assert legal.post(f"{base}file/", {}, format="json").status_code == 400  # filed already
    secret = make_incident(actor=people["Security"], is_security=True, now=t0)
    refused = token_client(people["Engineering Manager"]).post(
        f"/api/incidents/{secret.reference}/regulatory-report/require/",
        {"reason": "Breach"},
        format="json",
    )
    assert refused.status_code == 400 and "may read" in str(refused.json())


def test_one_rule_shows_the_report_on_the_page_the_api_and_the_admin(client, incident, people):
    """Whoever sees the incident sees its report (`regulatory_report.view`): the admin asks
    the same rule as the page and the API, so a Product user reads it everywhere."""
    from django.contrib.auth.models import Group

    from incidents.permissions import allowed
    from tests.api_client import token_client

    product = UserFactory(username="product", role="Product", is_staff=True)
    assert allowed(product, "regulatory_report.view", incident=incident)
    regulatory_report_require(incident=incident, actor=people["Legal"], reason="Breach")
    api = token_client(product).get(f"/api/incidents/{incident.reference}/regulatory-report/")
    assert api.status_code == 200
    client.force_login(product)
    assert b'id="regulatory-report"' in client.get(f"/incidents/{incident.reference}/").content
    assert client.get("/admin/escalations/regulatoryreport/").status_code == 200
    assert (
        Group.objects.get(name="Product")
        .permissions.filter(codename="view_regulatoryreport")
        .exists()
        is False
    )


def test_the_policy_admin_says_when_a_report_is_due(client, people):
    """Seed 002 "Regulatory Reporting": the policy's setting as a sentence in the admin, for
    an active version (read-only) as for a draft."""
    from django.urls import reverse

    from tests.factories import PASSWORD

    settings = RegulatoryReportSettings(due_after=48 * H, remind_before=12 * H, notify=("Legal",))
    policy = policy_create_from_spec(
        spec=simple_spec(regulatory_report=settings), name="custom", make_default=True
    )
    manager = people["Engineering Manager"]
    manager.is_staff = True
    manager.save()
    client.login(username=manager.username, password=PASSWORD)
    html = client.get(reverse("admin:escalations_policy_change", args=[policy.pk])).content
    assert b"Due 2 days after it is marked; Legal told then, 12 hours before" in html


def test_an_overdue_report_is_on_the_page_still_to_do_list(client, incident, people, t0):
    """Seed 002 "Regulatory Reporting": past its due time and unfiled, the top of the
    incident page says so, until it is filed."""
    legal = people["Legal"]
    regulatory_report_require(incident=incident, actor=legal, reason="Breach", now=t0)
    client.force_login(people["Support Agent"])
    page = f"/incidents/{incident.reference}/"
    overdue = "The regulatory report is overdue"
    assert overdue in client.get(page).content.decode()  # due t0 + 72h, days ago
    regulatory_report_file(incident=incident, actor=legal)
    assert overdue not in client.get(page).content.decode()
