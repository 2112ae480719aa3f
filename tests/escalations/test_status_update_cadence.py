"""Seed 004's status-update cadences on every incident whose severity sets one, under the
preset that carries seed 004 (engineering-5-level: P0-P3 are Sev 1-4): a missed customer
update warns the owner when due and the level's lead a whole interval later, once per
interval; a customer update restarts the clock. Also Sev 3's business days, and the
prompt to activate a Sev 1's war room."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from escalations.engine.services import sla_sweep
from escalations.followup.war_room import active_war_room
from escalations.models import ThresholdFiring
from escalations.policies import reach
from escalations.sla.services import incident_clocks
from incidents import services
from notifications.models import Notification
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
SECOND = timedelta(seconds=1)
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def preset(roles):
    """The shipped engineering-5-level workflow (seeds 000 and 004) as the default policy."""
    call_command("load_workflow", "engineering-5-level", "--default", verbosity=0)


@pytest.fixture
def lead(roles):
    return UserFactory(username="lead1", role="Team Lead")


def sev2(agent, at=T0):
    """A Sev 2 (P1) its owner acknowledged at once: only the update clock is due soon."""
    incident = make_incident(actor=agent, assignee=agent, severity="P1", opened_at=at, now=at)
    return services.incident_acknowledge(incident=incident, actor=agent, now=at)


def warned(incident) -> list[str]:
    """Who was warned of a missed customer update, in order (owner or lead)."""
    rows = Notification.objects.filter(incident=incident, kind="update_overdue").order_by("id")
    return [f"{'lead' if row.context.get('to_lead') else 'owner'}:{row.recipient}" for row in rows]


def test_seed_004_sev_2_every_4_hours_warns_the_owner_at_4h_and_the_lead_later_not_before(
    preset, agent, lead
):
    """seed 004 Sev 2: "Status updates: Every 4 hours". No customer update for 4 h warns the
    owner at the threshold; the level's lead hears a whole interval later, not before."""
    incident = sev2(agent)
    sla_sweep(now=T0 + 4 * H - SECOND)
    assert warned(incident) == []
    sla_sweep(now=T0 + 4 * H)
    owner = f"owner:{agent.email}"
    assert warned(incident) == [owner]
    sla_sweep(now=T0 + 8 * H - SECOND)
    assert warned(incident) == [owner]  # the lead hears nothing before the second interval
    sla_sweep(now=T0 + 8 * H)
    assert warned(incident) == [owner, f"lead:{lead.email}"]
    lead_row = Notification.objects.get(
        incident=incident, kind="update_overdue", recipient=lead.email
    )
    assert lead_row.subject.startswith("[CUSTOMER UPDATE MISSED, LEAD]")
    assert lead_row.context["owner"] == str(agent)
    firings = ThresholdFiring.objects.filter(incident=incident, clock="update")
    assert sorted(firings.values_list("percent", "action", "interval_start")) == [
        (100, "warn_assignee", T0),
        (200, "warn_lead", T0),
    ]


def test_seed_004_a_customer_update_restarts_the_every_4_hours_clock(preset, agent, lead):
    """seed 004 Sev 2 "Status updates: Every 4 hours": the clock counts from the last
    customer-visible update; each missed interval warns the owner, then the lead, once."""
    incident = sev2(agent)
    sla_sweep(now=T0 + 4 * H)
    services.incident_post_public_update(
        incident=incident, actor=agent, body="We found the cause; fix at 15:00.", now=T0 + 5 * H
    )
    incident.refresh_from_db()
    assert incident.next_check_at == T0 + 9 * H  # 4 h from the update
    sla_sweep(now=T0 + 8 * H)
    owner = f"owner:{agent.email}"
    assert warned(incident) == [owner]  # the old interval's lead warning never comes
    sla_sweep(now=T0 + 9 * H)
    assert warned(incident) == [owner, owner]  # the new interval's own warning
    # Seed 000's ladder moves the P1 to L1 at 50 % of its 24 h resolution (12 h), before
    # the lead's warning (13 h) was due at L0: L1 counts the missed update afresh from its
    # arrival, as every breached clock does for a new level (4 h from 12 h for its owner).
    sla_sweep(now=T0 + 12 * H)
    incident.refresh_from_db()
    assert incident.current_level == 1
    sla_sweep(now=T0 + 13 * H)
    assert warned(incident) == [owner, owner]
    assert set(
        ThresholdFiring.objects.filter(incident=incident, clock="update").values_list(
            "interval_start", flat=True
        )
    ) == {T0, T0 + 5 * H}


def test_missed_update_warnings_are_queued_once_and_sent_only_after_commit(
    preset, agent, lead, django_capture_on_commit_callbacks
):
    """seed 004 Sev 2 "Every 4 hours", run twice (and by both sweep paths): each warning
    once; the rows wait in the outbox and delivery is kicked only when the sweep commits."""
    incident = sev2(agent)
    with django_capture_on_commit_callbacks() as kicks:
        first = sla_sweep(now=T0 + 8 * H)
    assert first["fired"] == 2
    rows = Notification.objects.filter(incident=incident, kind="update_overdue")
    assert set(rows.values_list("status", flat=True)) == {"pending"}
    assert kicks  # the delivery task goes on commit, not before
    assert sla_sweep(now=T0 + 8 * H) == {}
    assert sla_sweep(now=T0 + 8 * H, set_based=False) == {}
    assert warned(incident) == [f"owner:{agent.email}", f"lead:{lead.email}"]


def test_an_update_threshold_fires_once_per_interval_by_constraint(preset, agent):
    incident = sev2(agent)
    row = {
        "incident": incident,
        "clock": "update",
        "level": 0,
        "percent": 100,
        "action": "warn_assignee",
        "due_at": T0 + 4 * H,
        "fired_at": T0 + 4 * H,
    }
    ThresholdFiring.objects.create(**row, interval_start=T0)
    ThresholdFiring.objects.create(**row, interval_start=T0 + 5 * H)  # the next interval
    with pytest.raises(IntegrityError), transaction.atomic():
        ThresholdFiring.objects.create(**row, interval_start=T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        ThresholdFiring.objects.create(**row)  # an update firing names its interval


def test_the_levels_lead_is_its_teams_team_leads_or_every_team_lead(roles, lead):
    """The lead of a level whose team has Team Leads among its members is them; a team
    without (the agents' own group) has every Team Lead as its lead."""
    own = UserFactory(username="payments-lead", role="Team Lead")
    Group.objects.create(name="payments").user_set.add(own)
    assert list(reach.team_leads("payments")) == [own]
    assert set(reach.team_leads("Support Agent")) == {lead, own}


def test_seed_004_sev_3_resolution_in_2_3_business_days_counts_business_hours(preset, agent):
    """seed 004 Sev 3: "Resolution target: 2-3 business days" counts three 8-hour business
    days, not 72 hours round the clock; "Status updates: Daily" is one business day."""
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    incident = make_incident(
        actor=agent, assignee=agent, severity="P2", opened_at=friday, now=friday
    )
    incident.refresh_from_db()
    # Friday 16-17 (1 h), Monday and Tuesday (16 h), Wednesday 9-16 (7 h).
    assert incident.resolution_due_at == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    clocks = {reading.clock: reading for reading in incident_clocks(incident, now=friday)}
    assert clocks["resolution"].calendar == "business"
    assert clocks["resolution"].moved_by["closed"] > timedelta(0)
    # Friday 16-17, then Monday 9-16: the next business day's update.
    assert clocks["update"].due_at == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


def test_seed_004_activate_war_room_if_sev_1_is_a_prompt_with_one_click(client, preset, agent):
    """seed 004 Phase 1 "Activate war room if Sev 1": the escalation manager's step (the
    seed's timeline: "Escalation-manager activated war room"), so a Sev 1 without a war room
    prompts on its page, and one click opens it with the clicker as commander."""
    sev1 = make_incident(actor=agent, assignee=agent, severity="Sev 1")
    sev3 = make_incident(actor=agent, assignee=agent, severity="Sev 3")
    client.force_login(agent)
    page = client.get(reverse("incidents:detail", args=[sev1.reference])).content.decode()
    assert 'id="war-room-sev1-prompt"' in page
    assert 'id="war-room-sev1-prompt"' not in (
        client.get(reverse("incidents:detail", args=[sev3.reference])).content.decode()
    )
    response = client.post(
        reverse("escalations:war_room", args=[sev1.reference, "activate"]),
        {"reason": "sev1", "commander": agent.pk},
    )
    assert response.status_code == 302
    room = active_war_room(sev1)
    assert room.reason == "sev1" and room.commander() == agent
    page = client.get(reverse("incidents:detail", args=[sev1.reference])).content.decode()
    assert 'id="war-room-sev1-prompt"' not in page


@pytest.mark.parametrize("another_lead", [True, False], ids=["another lead", "owner only lead"])
def test_the_what_if_lead_warning_reaches_whom_the_sweep_warns(preset, agent, another_lead):
    """seed 004 Sev 2 "Every 4 hours", the lead's warning a whole interval later: the
    what-if simulation's replay of it reaches the people the sweep warns, never the owner
    (a Team Lead who owns the incident had the first warning); with no other lead, the
    level by email, in both."""
    from escalations.policies.services import policy_spec
    from escalations.rules.simulation import HistoryEvent, IncidentHistory, replay
    from escalations.simulation.runs import _Recipients

    owner = UserFactory(username="lead-owner", role="Team Lead")
    if another_lead:
        UserFactory(username="lead2", role="Team Lead")
    incident = sev2(owner)
    sla_sweep(now=T0 + 8 * H)
    swept = {
        row.recipient
        for row in Notification.objects.filter(incident=incident, kind="update_overdue")
        if row.context.get("to_lead")
    }
    spec = policy_spec(incident.policy)
    history = IncidentHistory(
        opened_at=T0, severity="P1", events=(HistoryEvent(T0, "first_response"),)
    )
    (lead_notice,) = [n for n in replay(history, spec, until=T0 + 8 * H).notices if n.lead]
    assert lead_notice.at == T0 + 8 * H
    simulated = {r.address for r in _Recipients(spec, {owner.pk: owner}).of(lead_notice, owner.pk)}
    assert simulated == swept == {"lead2@example.com" if another_lead else agent.email}


@pytest.mark.parametrize("commander_is_owner", [True, False], ids=["owner commands", "another"])
def test_seed_004_sev_1_war_room_one_missed_update_reminds_each_person_once(
    preset, agent, lead, commander_is_owner
):
    """seed 004 Sev 1 "Status updates: Every 30-60 minutes" with its war room ("Activate war
    room if Sev 1", 30-minute cadence): one missed update reminds each person once. The
    commander hears from the war room (its cadence, its channel); the update clock's
    warnings leave the commander out but still warn an owner who is someone else, and the
    level's lead a whole interval later."""
    from collections import Counter

    from escalations.engine.services import handoff_acknowledge
    from escalations.followup.reminders import reminder_sweep
    from escalations.followup.war_room import war_room_activate

    commander = agent if commander_is_owner else UserFactory(username="ic", role="Support Agent")
    incident = make_incident(actor=agent, assignee=agent, severity="P0", opened_at=T0, now=T0)
    services.incident_acknowledge(incident=incident, actor=agent, now=T0)
    handoff_acknowledge(incident=incident, actor=lead, now=T0)  # P0 starts at L1, its lead's
    war_room_activate(incident=incident, actor=agent, reason="sev1", commander=commander, now=T0)

    def reminded():
        rows = Notification.objects.filter(
            incident=incident, kind__in=("update_overdue", "war_room_update_due")
        )
        return Counter(rows.values_list("recipient", flat=True))

    for at in (T0 + H / 2 - SECOND, T0 + H / 2):
        sla_sweep(now=at)
        reminder_sweep(now=at)
    expected = Counter({agent.email: 1, commander.email: 1})
    if commander_is_owner:
        expected = Counter({agent.email: 1})
    assert reminded() == expected
    (own,) = Notification.objects.filter(incident=incident, recipient=commander.email).filter(
        kind__in=("update_overdue", "war_room_update_due")
    )
    assert own.kind == "war_room_update_due"
    sla_sweep(now=T0 + H)
    reminder_sweep(now=T0 + H)
    # The next interval: the war room reminds its commander again, the lead is warned.
    assert reminded() == expected + Counter({commander.email: 1, lead.email: 1})
