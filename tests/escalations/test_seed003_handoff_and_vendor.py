"""Seed 003's handoff checklist items the portal checks from facts, and the vendor case's
TAM/DSE/CE prompt and update cadence (issue 19)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from escalations.engine import services as engine
from escalations.followup.reminders import reminder_sweep
from escalations.followup.vendors import vendor_case_open, vendor_case_record_update
from escalations.models import VendorCaseStatus
from escalations.rules.followup import ASK_CADENCE, ENGAGE_TAM, vendor_case_prompts
from escalations.rules.handoff import CHECKLIST, after_handoff_items
from escalations.rules.spec import DEFAULT_HANDOFF_FIELDS
from notifications.models import Notification
from tests.factories import PASSWORD, AccountFactory, make_incident

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


def test_the_two_items_are_checked_from_what_happened():
    assert after_handoff_items(taken_by="", notice_status="pending") == [
        ("Next tier engineer assigned", False, "nobody has taken the handoff"),
        ("Customer notified of escalation", False, "escalation email queued"),
    ]
    assert [done for _, done, _ in after_handoff_items(taken_by="Ana", notice_status="sent")] == [
        True,
        True,
    ]
    assert after_handoff_items(taken_by="Ana", notice_status=None)[1][1] is False


def page(client, user, incident) -> str:
    client.login(username=user.username, password=PASSWORD)
    return client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()


def test_seed_003_handoff_checklist_next_tier_engineer_assigned_and_customer_notified(
    default_policy, agent, manager, client
):
    """Seed 003 Handoff Checklist: "- [ ] Next tier engineer assigned", "- [ ] Customer
    notified of escalation": ticked by the receiving level taking the handoff and by the
    customer's escalation email going out, not by the sender."""
    incident = make_incident(actor=agent, severity="P2", account=AccountFactory())
    escalation = engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=agent,
        reason="Needs the specialists",
        category="expertise",
        note=dict.fromkeys(DEFAULT_HANDOFF_FIELDS, "Slow queries"),
        checklist=list(CHECKLIST),
    )
    html = page(client, manager, incident)
    assert "&#9744; Next tier engineer assigned" in html
    assert "&#9744; Customer notified of escalation" in html
    assert "escalation email queued" in html
    Notification.objects.filter(
        incident=incident, dedup_key__startswith=f"customer_ack:escalation:{escalation.pk}"
    ).update(status="sent")
    engine.handoff_acknowledge(incident=incident, actor=manager)
    html = page(client, manager, incident)
    assert f'&#9745; Next tier engineer assigned <span class="muted small">({manager} took' in html
    assert "&#9745; Customer notified of escalation" in html
    tracking = client.get(reverse("escalations:tracking", args=[incident.reference])).content
    assert b"- [x] L2: Customer notified of escalation (escalation email sent)" in tracking


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(days=2)


def test_seed_003_vendor_escalation_engage_tam_dse_ce_prompt(default_policy, agent, client):
    """Seed 003 Vendor Escalation step 2, "Engage TAM/DSE/CE if Enterprise support", and
    step 4, "Request regular updates": prompted on the open form and on an open case
    until done."""
    assert vendor_case_prompts(contact="", update_every=None) == [ENGAGE_TAM, ASK_CADENCE]
    assert vendor_case_prompts(contact="Dana (TAM)", update_every=4 * H) == []
    incident = make_incident(actor=agent, severity="P1", assignee=agent)
    assert f"data-vendor-prompt>{ENGAGE_TAM} {ASK_CADENCE}<" in page(client, agent, incident)
    vendor_case_open(
        incident=incident, actor=agent, vendor="AWS", case_id="1", severity="Urgent", owner=agent
    )
    html = page(client, agent, incident)
    assert ENGAGE_TAM in html and ASK_CADENCE in html


def test_seed_003_vendor_escalation_request_regular_updates_cadence_reminds_per_missed_interval(
    default_policy, agent, t0
):
    """Seed 003 Vendor Escalation: "Request regular updates": with a cadence, the owner is
    reminded when an update is late and once more per further interval missed."""
    incident = make_incident(actor=agent, severity="P1", assignee=agent, opened_at=t0, now=t0)
    case = vendor_case_open(
        incident=incident,
        actor=agent,
        vendor="AWS",
        case_id="171234567800123",
        severity="Urgent",
        owner=agent,
        contact="Dana (TAM)",
        update_every=4 * H,
        now=t0,
    )
    assert case.next_update_expected_at == t0 + 4 * H and case.next_reminder_at == t0 + 4 * H

    def sent():
        return Notification.objects.filter(kind="vendor_update_overdue").count()

    assert reminder_sweep(now=t0 + 4 * H - timedelta(seconds=1)) == {}
    assert reminder_sweep(now=t0 + 4 * H)["vendor_update_due"] == 1
    assert reminder_sweep(now=t0 + 5 * H) == {} and sent() == 1
    reminder_sweep(now=t0 + 8 * H)
    reminder_sweep(now=t0 + 8 * H)  # a second run finds nothing new
    assert sent() == 2
    reminder_sweep(now=t0 + 12 * H)
    assert sent() == 3
    notice = Notification.objects.filter(kind="vendor_update_overdue").latest("pk")
    assert notice.context["case"]["cadence"] and notice.context["reminder"] == "update_overdue"
    # The vendor answers without a date: the cadence sets the next one.
    case = vendor_case_record_update(
        case=case,
        actor=agent,
        update="Mitigation in progress",
        status=VendorCaseStatus.ESCALATED,
        now=t0 + 13 * H,
    )
    assert case.next_update_expected_at == t0 + 17 * H and case.next_reminder_at == t0 + 17 * H


@pytest.mark.parametrize(
    ("minutes", "says"),
    [
        (0, "Ask for updates no more often than every 5 minutes."),
        (4, "Ask for updates no more often than every 5 minutes."),
        (7 * 24 * 60 + 1, "Ask for updates at least once a week."),
    ],
)
def test_seed_003_request_regular_updates_cadence_limits_are_the_services(
    default_policy, agent, client, minutes, says
):
    """Seed 003 "Request regular updates": the cadence's limits (5 minutes to a week) are
    the service's, and the web form shows the service's words beside the field."""
    from django.core.exceptions import ValidationError

    incident = make_incident(actor=agent, severity="P1", assignee=agent)
    with pytest.raises(ValidationError) as refused:
        vendor_case_open(
            incident=incident,
            actor=agent,
            vendor="AWS",
            case_id="1",
            severity="Urgent",
            owner=agent,
            update_every=timedelta(minutes=minutes),
        )
    assert refused.value.message_dict["update_every"] == [says]
    _the_form_says(client, agent, incident, minutes, says)


def _the_form_says(client, agent, incident, minutes, says):
    client.login(username=agent.username, password=PASSWORD)
    response = client.post(
        reverse("escalations:vendor", args=[incident.reference, "open"]),
        {
            "vendor": "AWS",
            "case_id": "1",
            "severity": "Urgent",
            "owner": agent.pk,
            "update_every": minutes,
        },
    )
    assert response.status_code == 400, response.status_code
    assert says in response.content.decode()
    assert not incident.vendor_cases.exists()


@pytest.mark.parametrize(
    ("minutes", "says"),
    [
        (10**15, "Ask for updates at least once a week."),
        (-(10**15), "Ask for updates no more often than every 5 minutes."),
    ],
)
def test_a_cadence_too_large_for_a_duration_is_refused_in_the_services_words(
    default_policy, agent, client, minutes, says
):
    """Hostile input: minutes past what a duration can hold were a 500 (OverflowError)."""
    incident = make_incident(actor=agent, severity="P1", assignee=agent)
    _the_form_says(client, agent, incident, minutes, says)


def test_seed_003_the_vendor_case_admin_lists_the_update_cadence(
    default_policy, agent, manager, client
):
    """Seed 003 "Request regular updates": the admin's list of vendor cases shows each
    case's cadence beside its next expected update."""
    incident = make_incident(actor=agent, severity="P1", assignee=agent)
    vendor_case_open(
        incident=incident,
        actor=agent,
        vendor="AWS",
        case_id="1",
        severity="Urgent",
        owner=agent,
        update_every=4 * H,
    )
    client.force_login(manager)
    html = client.get(reverse("admin:escalations_vendorcase_changelist")).content.decode()
    assert "column-update_every" in html and "4:00:00" in html
