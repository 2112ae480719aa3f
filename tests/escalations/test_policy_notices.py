"""Notices as policy data (issue 19): who is told, and at the latest when, per severity,
through the outbox; each level's escalation contact when nobody takes its handoff; the
customer told once when the incident is fixed. Each rule traced to its seed line."""

import importlib
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from escalations.engine.policy_moves import policy_move_open_incidents
from escalations.engine.services import sla_sweep
from escalations.lifecycle import EscalationsLifecycle
from escalations.models import Policy
from escalations.notices.compose import policy_notices
from escalations.policies.services import policy_create_from_spec, policy_spec, spec_problems
from escalations.policies.workflow_yaml import WorkflowError, dump_workflow, load_workflow_text
from escalations.rules.spec import LevelSpec, NoticeRule, TargetSpec, WorkflowSpec
from incidents import services
from incidents.models import Channel, EventKind, IncidentEvent
from notifications.models import Notification
from notifications.services import notifications_enqueue_many
from tests.api_client import token_client
from tests.factories import PASSWORD, AccountFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db

M = timedelta(minutes=1)
H = timedelta(hours=1)
T0 = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # a Monday, 03:00: outside anyone's office hours


def notices_to(address, incident=None):
    rows = Notification.objects.filter(kind="policy_notice", recipient=address)
    return rows.filter(incident=incident) if incident is not None else rows


@pytest.fixture
def engineering_preset(roles):
    """The engineering-5-level preset, where seed 004's Sev 1-4 live."""
    Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})
    call_command("load_workflow", "engineering-5-level", "--default", verbosity=0)
    return UserFactory(username="engineer", role="Support Agent")


@pytest.fixture
def matrix_preset(roles):
    """The p0-p3-matrix preset (seed 002)."""
    Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})
    call_command("load_workflow", "p0-p3-matrix", "--default", verbosity=0)
    return UserFactory(username="first-line", role="Support Agent")


def test_seed_004_sev_1_executive_notification_immediate(engineering_preset):
    """Seed 004 Sev 1: "Executive notification: Immediate": a P0 tells the executives at
    its opening, urgent and at once even at 03:00 (their working hours do not hold it)."""
    executive = UserFactory(
        username="exec", role="Executive", working_hours={"mon": ["09:00-17:00"]}
    )
    manager = UserFactory(username="em", role="Engineering Manager")
    incident = make_incident(severity="P0", actor=engineering_preset, now=T0)
    (row,) = notices_to(executive.email, incident)
    assert (row.urgent, row.next_attempt_at) == (True, T0)
    assert "executive notification" in row.context["notice"]["reason"]
    assert not notices_to(manager.email, incident).exists()  # the Sev 2 rule is not Sev 1's


def test_seed_004_sev_2_manager_notification_within_1_hour(engineering_preset):
    """Seed 004 Sev 2: "Manager notification: Within 1 hour": a P1 tells the engineering
    managers; outside their hours it may wait, but never beyond the hour."""
    manager = UserFactory(
        username="em",
        role="Engineering Manager",
        working_hours={"mon": ["09:00-17:00"]},
        urgent_severities=[],
    )
    office_hours = UserFactory(username="em2", role="Engineering Manager", urgent_severities=[])
    incident = make_incident(severity="P1", actor=engineering_preset, now=T0)
    (held,) = notices_to(manager.email, incident)
    assert held.next_attempt_at == T0 + H  # 09:00 would be 6 h late: the hour caps it
    (at_once,) = notices_to(office_hours.email, incident)  # reachable now (24/7)
    assert at_once.next_attempt_at == T0
    assert held.context["notice"]["within"] == "1 hour"


def test_seed_004_sev_2_managers_are_told_when_the_severity_is_raised_and_only_once(
    engineering_preset,
):
    """Raised to P1 later, the managers hear it then; lowered and raised again, nobody
    hears twice (one outbox row per incident and rule)."""
    manager = UserFactory(username="em", role="Engineering Manager")
    incident = make_incident(severity="P2", actor=engineering_preset, now=T0)
    assert not notices_to(manager.email, incident).exists()
    for at, severity in ((T0 + M, "P1"), (T0 + 2 * M, "P2"), (T0 + 3 * M, "P1")):
        services.incident_change_severity(
            incident=incident, severity=severity, actor=engineering_preset, reason="x", now=at
        )
    (row,) = notices_to(manager.email, incident)
    assert row.next_attempt_at == T0 + M


def test_seed_002_team_chat_immediate_notification_to_support_team_on_opening(
    matrix_preset, settings
):
    """Seed 002 Level 1 communication: "Team Chat: Immediate notification to support
    team": every incident's opening is posted to the support team's chat at once; an
    imported incident (a past opening) tells nobody."""
    settings.SLACK_WEBHOOK_URL = "https://hooks.slack.example/support"
    incident = make_incident(severity="P3", actor=matrix_preset, now=T0)
    (row,) = notices_to(settings.SLACK_WEBHOOK_URL, incident)
    assert (row.channel, row.next_attempt_at) == ("slack", T0)
    imported = make_incident(severity="P3", actor=matrix_preset, opened_at=T0 - H, now=T0)
    assert not Notification.objects.filter(incident=imported, kind="policy_notice").exists()


def test_seed_002_p0_pages_levels_1_to_4_at_once(matrix_preset):
    """Seed 002: a P0 goes straight to Level 4 at its opening, and levels 1-4 are told at
    once (P0 response times 5 minutes to 1 hour): L1-L3 by the policy's P0 notice, L4 by
    its escalation notice (not twice)."""
    incident = make_incident(severity="P0", actor=matrix_preset, now=T0)
    incident.refresh_from_db()
    assert incident.current_level == 4
    spec = policy_spec(incident.policy)
    told = {
        row.recipient: row.kind
        for row in Notification.objects.filter(incident=incident, next_attempt_at=T0)
    }
    for number, kind in ((1, "policy_notice"), (2, "policy_notice"), (3, "policy_notice")):
        assert told[dict(spec.level(number).contacts)["email"]] == kind
    assert told["executive@hotdash.com"] == "escalation"
    assert not notices_to("executive@hotdash.com", incident).exists()


def test_deciding_the_notices_twice_leaves_one_outbox_row_each(engineering_preset):
    """Idempotence: a second decision (a retried task, a replay) adds no row."""
    UserFactory(username="exec", role="Executive")
    incident = make_incident(severity="P0", actor=engineering_preset, now=T0)
    before = Notification.objects.filter(incident=incident, kind="policy_notice").count()
    assert before == 1
    assert notifications_enqueue_many(policy_notices(incident=incident, now=T0, opening=True))
    notifications_enqueue_many(policy_notices(incident=incident, now=T0 + M, opening=True))
    assert Notification.objects.filter(incident=incident, kind="policy_notice").count() == before


def two_levels_with_notices(*rules: NoticeRule) -> WorkflowSpec:
    return WorkflowSpec(
        levels=(
            LevelSpec(1, "Support", sla=TargetSpec(first_response=H, resolution=24 * H)),
            LevelSpec(2, "Engineering", sla=TargetSpec(first_response=H, resolution=24 * H)),
        ),
        notices=rules,
    )


MANAGERS = NoticeRule("P1", groups=("Engineering Manager",), reason="Managers within the hour")
EVERYONE = NoticeRule(
    "P1", groups=("Executive", "Engineering Manager"), reason="Executives and managers at once"
)


def raised_to_p1_under_v1(agent):
    """An incident raised to P1 under v1, whose only P1 rule is MANAGERS."""
    policy_create_from_spec(spec=two_levels_with_notices(MANAGERS), name="n", make_default=True)
    incident = make_incident(severity="P2", actor=agent, now=T0)
    services.incident_change_severity(
        incident=incident, severity="P1", actor=agent, reason="x", now=T0 + M
    )
    return incident


def moved_to_v2(incident, manager):
    """v2 puts EVERYONE before MANAGERS; the incident moves to it."""
    v2 = policy_create_from_spec(spec=two_levels_with_notices(EVERYONE, MANAGERS), name="n")
    assert policy_move_open_incidents(policy=v2, actor=manager) == 1
    incident.refresh_from_db()


def lowered_and_raised_again(incident, agent):
    for at, severity in ((T0 + 2 * M, "P2"), (T0 + 3 * M, "P1")):
        services.incident_change_severity(
            incident=incident, severity=severity, actor=agent, reason="x", now=at
        )


def test_a_rule_inserted_earlier_by_a_later_version_neither_resends_nor_silences(agent, manager):
    """Each rule is once per incident by what it says, not by its place in the list: after
    v2 inserts a rule before the managers' one, the second raise tells the managers the
    new rule (once) and not the old one again, and the executives hear it."""
    executive = UserFactory(username="exec", role="Executive")
    incident = raised_to_p1_under_v1(agent)
    moved_to_v2(incident, manager)
    lowered_and_raised_again(incident, agent)
    told = notices_to(manager.email, incident).order_by("created_at", "id")
    assert [row.context["notice"]["reason"] for row in told] == [
        "Managers within the hour",
        "Executives and managers at once",
    ]
    (row,) = notices_to(executive.email, incident)
    assert row.context["notice"]["reason"] == "Executives and managers at once"


def test_a_rule_key_is_its_content_whatever_the_order_and_spacing():
    rule = NoticeRule("P1", levels=(1, 2), groups=("A", "B"), reason="x y")
    assert NoticeRule("P1", levels=(2, 1), groups=("B", "A"), reason=" x  y").key == rule.key
    others = {
        NoticeRule("P2", levels=(1, 2), groups=("A", "B"), reason="x y").key,
        NoticeRule("P1", levels=(1,), groups=("A", "B"), reason="x y").key,
        NoticeRule("P1", levels=(1, 2), groups=("A", "B"), reason="x y", within=H).key,
        NoticeRule("P1", levels=(1, 2), groups=("A", "B"), channels=("slack",), reason="x y").key,
        NoticeRule("P1", levels=(1, 2), groups=("A", "B"), reason="other").key,
    }
    assert len(others) == 5 and rule.key not in others


def test_rows_keyed_by_position_before_the_upgrade_still_dedup(agent, manager):
    """Migration 0021: a row keyed by its rule's position (the old key) is rewritten to
    the rule's content key, reading the position in the version the incident was on when
    the row was written (v1's position 0: MANAGERS, though v2's is EVERYONE), so the raise
    after the upgrade does not tell the managers MANAGERS again."""
    from django.apps import apps

    rekey = importlib.import_module(
        "escalations.migrations.0021_policy_notice_content_keys"
    ).rekey_policy_notices
    incident = raised_to_p1_under_v1(agent)
    Notification.objects.filter(incident=incident, kind="policy_notice").update(
        dedup_key=f"notice:{incident.pk}:P1:0:email:{manager.email.lower()}",
        created_at=T0 + M,  # before the move below is recorded
    )
    moved_to_v2(incident, manager)
    rekey(apps, None)
    (old,) = notices_to(manager.email, incident)
    assert old.dedup_key == (
        f"policy_notice:{incident.pk}:{MANAGERS.key}:email:{manager.email.lower()}"
    )
    lowered_and_raised_again(incident, agent)
    reasons = sorted(r.context["notice"]["reason"] for r in notices_to(manager.email, incident))
    assert reasons == ["Executives and managers at once", "Managers within the hour"]


# --- each level's escalation contact ------------------------------------------------------------


def three_levels_with_contacts() -> WorkflowSpec:
    """Seed 002's directory: each level's escalation contact; no on-call schedules."""
    contacts = {1: "manager@hotdash.com", 2: "director@hotdash.com", 3: "ceo@hotdash.com"}
    return WorkflowSpec(
        levels=tuple(
            LevelSpec(
                n,
                f"Level {n}",
                contacts=(("email", f"l{n}@hotdash.com"), ("escalation", contacts[n])),
                sla=TargetSpec(first_response=H * n, resolution=24 * H),
            )
            for n in (1, 2, 3)
        )
    )


@pytest.mark.parametrize("set_based", [True, False], ids=["set-based sweep", "per incident"])
def test_seed_002_unscheduled_level_escalation_contact_emailed_once_on_unacknowledged_handoff(
    roles, agent, set_based
):
    """Seed 002 contacts: Level 2 "Escalation: director@hotdash.com". L2 names no on-call
    schedule, so when nobody there acknowledges the handoff by the acknowledgement
    clock's escalating threshold (L2's 2 h response target), the director is emailed
    once, with a timeline entry, and the incident moves on to L3 as before: the same
    with either sweep path."""
    policy_create_from_spec(spec=three_levels_with_contacts(), name="seed-002", make_default=True)
    incident = make_incident(severity="P2", actor=agent, now=T0)
    services.incident_acknowledge(incident=incident, actor=agent, now=T0 + M)
    # A production outage moves it to L2 (the default impact route: one level up).
    services.incident_update_details(
        incident=incident, actor=agent, changes={"is_production_outage": True}, now=T0 + 5 * M
    )
    incident.refresh_from_db()
    assert incident.current_level == 2
    sla_sweep(now=T0 + 5 * M + 2 * H - M, set_based=set_based)
    assert not notices_to("director@hotdash.com").exists()
    for _ in range(2):
        sla_sweep(now=T0 + 5 * M + 2 * H, set_based=set_based)
    (row,) = notices_to("director@hotdash.com", incident)
    assert row.urgent
    (event,) = IncidentEvent.objects.filter(incident=incident, data__address=row.recipient)
    assert event.kind == EventKind.PAGED
    assert "nobody acknowledged the handoff within 2h" in event.body
    incident.refresh_from_db()
    assert incident.current_level == 3
    assert not notices_to("manager@hotdash.com").exists()  # L1 took its own first response


# --- the customer -------------------------------------------------------------------------------


def test_seed_004_update_customers_immediately_when_fixed_once(roles, agent):
    """Seed 004 Phase 3: "Update customers immediately when fixed": resolving tells the
    customer at once, urgent; the same resolution decided twice is one email."""
    policy_create_from_spec(spec=three_levels_with_contacts(), name="support", make_default=True)
    account = AccountFactory(primary_contact_email="jane@acme.example")
    incident = make_incident(severity="P2", actor=agent, account=account, now=T0)
    services.incident_change_status(
        incident=incident, status="resolved", actor=agent, note="fixed", now=T0 + H
    )
    event = IncidentEvent.objects.filter(incident=incident, kind=EventKind.STATUS_CHANGED).last()
    incident.refresh_from_db()
    EscalationsLifecycle().resolved(incident=incident, event=event, actor=agent, now=T0 + H)
    (row,) = Notification.objects.filter(incident=incident, kind="customer_resolved")
    assert (row.recipient, row.urgent, row.next_attempt_at) == ("jane@acme.example", True, T0 + H)


def test_seed_004_follow_up_with_customer_on_prevention_once_the_review_is_published(
    roles, agent, manager
):
    """Seed 004 Phase 4: "Follow up with customer on prevention": publishing the review
    emails the customer that it is done and how many preventive actions came of it, in
    the incident's thread; the review's internal words (root cause) are not in it."""
    from escalations.followup import reviews
    from tests.escalations.test_review_publication import COMPLETE

    policy_create_from_spec(spec=three_levels_with_contacts(), name="support", make_default=True)
    account = AccountFactory(primary_contact_email="jane@acme.example")
    incident = make_incident(severity="P0", actor=agent, account=account, assignee=agent)
    review = reviews.review_create(incident=incident, actor=agent)
    reviews.review_update(review=review, actor=agent, changes=COMPLETE)
    reviews.action_item_add(
        review=review, actor=agent, title="Add pool monitoring", owner=agent, due_date=date.today()
    )
    reviews.review_submit(review=review, actor=agent)
    assert not Notification.objects.filter(kind="customer_follow_up").exists()
    reviews.review_publish(review=review, actor=manager)
    (row,) = Notification.objects.filter(incident=incident, kind="customer_follow_up")
    assert (row.recipient, row.urgent) == ("jane@acme.example", True)
    assert row.context["prevention"] == {"actions": 1, "permanent_fixes": 0}
    assert "leaked connections" not in str(row.context)


# --- the policy data ----------------------------------------------------------------------------


def test_notices_load_dump_back_and_store_equal():
    text = """
escalation:
  tiers:
    - {level: 1, name: Support}
    - {level: 2, name: Advanced}
  notices:
    all:
      - {levels: [1], channels: [slack], reason: Team chat}
    Sev 2:
      - {groups: [Engineering Manager], within: 1h}
    P0:
      - {levels: [1, 2]}
      - {groups: [Executive], reason: Executives at once}
"""
    spec = load_workflow_text(text)
    assert [(r.severity, r.levels, r.groups, r.within) for r in spec.notices] == [
        ("P0", (1, 2), (), timedelta(0)),
        ("P0", (), ("Executive",), timedelta(0)),
        ("P1", (), ("Engineering Manager",), H),
        ("all", (1,), (), timedelta(0)),
    ]
    assert load_workflow_text(dump_workflow(spec)) == spec
    stored = policy_create_from_spec(spec=spec, name="notices")
    assert policy_spec(stored).notices == spec.notices
    assert spec.notices_for("P0", opening=False) == list(spec.notices[:2])
    assert spec.notices_for("P3", opening=True) == [spec.notices[3]]


def test_a_notice_must_say_who_is_told_and_name_levels_the_policy_has():
    with pytest.raises(WorkflowError) as error:
        load_workflow_text(
            "escalation:\n  tiers:\n    - {level: 1, name: A}\n"
            "  notices:\n    P1: [{within: 1h}]\n    P2: [{levels: [4]}]\n"
        )
    assert "say who is told" in str(error.value)
    assert "there is no level 4" in str(error.value)
    broken = WorkflowSpec(levels=(LevelSpec(1, "A"),), notices=(NoticeRule("P1", levels=(5,)),))
    assert "The P1 notices name L5, which does not exist." in spec_problems(broken)


def test_the_policy_admin_and_api_show_who_is_told(matrix_preset, manager, client):
    policy = Policy.objects.get()
    client.login(username=manager.username, password=PASSWORD)
    page = client.get(reverse("admin:escalations_policy_change", args=[policy.pk]))
    assert "L1, L2, L3, L4 at once (P0: levels 1-4 are paged at once)" in page.content.decode()
    body = token_client(manager).get(f"/api/policies/{policy.pk}/").json()
    assert body["notices"]["all"][0]["channels"] == ["slack"]
