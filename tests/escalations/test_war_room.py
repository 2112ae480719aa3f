"""War rooms (seed 004): activation assigns the roles and starts the status-update cadence;
the commander is reminded when an update is due, a public update restarts it, a pause
stops it; decisions are the commander's; roles are handed over with a note."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from escalations.followup.reminders import reminder_sweep
from escalations.followup.war_room import (
    current_holders,
    war_room_activate,
    war_room_assign,
    war_room_close,
    war_room_log_decision,
    war_room_release,
    war_room_set_cadence,
)
from escalations.models import WarRoom, WarRoomAssignment, WarRoomHandover, WarRoomRole
from incidents import services
from incidents.models import EventKind
from notifications.models import Notification
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db
M = timedelta(minutes=1)


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(days=2)


@pytest.fixture
def people(roles):
    return {
        "commander": UserFactory(username="ic", role="Team Lead"),
        "tech": UserFactory(username="tech", role="Support Agent"),
        "liaison": UserFactory(username="csm", role="Support Agent"),
        "exec": UserFactory(username="vp", role="Director"),
        "scribe": UserFactory(username="scribe", role="Support Agent"),
        "dba": UserFactory(username="dba", role="Support Agent"),
    }


@pytest.fixture
def sev1(people, t0):
    incident = make_incident(actor=people["tech"], severity="P0", opened_at=t0, now=t0)
    services.incident_acknowledge(incident=incident, actor=people["tech"], now=t0 + 2 * M)
    return incident


def activate(incident, people, at, **extra):
    return war_room_activate(
        incident=incident,
        actor=people["commander"],
        reason="sev1",
        commander=people["commander"],
        technical_lead=people["tech"],
        customer_liaison=people["liaison"],
        executive=people["exec"],
        scribe=people["scribe"],
        smes=[people["dba"]],
        channel="#inc-payments",
        now=at,
        **extra,
    )


def update_due_notices():
    return list(
        Notification.objects.filter(kind="war_room_update_due")
        .order_by("created_at", "id")
        .values_list("recipient", "subject")
    )


def test_activation_assigns_roles_tells_everyone_and_starts_a_30_minute_cadence(sev1, people, t0):
    room = activate(sev1, people, t0 + 5 * M)
    assert room.cadence == 30 * M  # seed 004: Sev 1 updates every 30-60 minutes
    assert room.update_due_at == t0 + 35 * M
    assert room.next_reminder_at == t0 + 35 * M
    holders = current_holders(room)
    assert holders[WarRoomRole.COMMANDER] == [people["commander"]]
    assert holders[WarRoomRole.SME] == [people["dba"]]
    told = set(
        Notification.objects.filter(kind="war_room_role").values_list("recipient", flat=True)
    )
    assert told == {p.email for p in people.values()}
    event = sev1.events.get(kind=EventKind.WAR_ROOM_ACTIVATED)
    assert "Incident commander: " + str(people["commander"]) in event.body
    assert "#inc-payments" in event.body


def test_commander_is_reminded_when_an_update_is_due_and_while_it_stays_late(sev1, people, t0):
    room = activate(sev1, people, t0 + 5 * M)
    assert reminder_sweep(now=t0 + 34 * M) == {}
    assert reminder_sweep(now=t0 + 35 * M)["war_room_update_due"] == 1
    assert reminder_sweep(now=t0 + 40 * M) == {}
    assert reminder_sweep(now=t0 + 65 * M)["war_room_update_overdue"] == 1
    notices = update_due_notices()
    assert [r for r, _ in notices] == [people["commander"].email] * 2
    assert notices[0][1].startswith("[STATUS UPDATE DUE]")
    assert notices[1][1].startswith("[STATUS UPDATE 30 MIN LATE]")
    room.refresh_from_db()
    assert room.next_reminder_at == t0 + 95 * M


def test_a_public_update_restarts_the_cadence(sev1, people, t0):
    room = activate(sev1, people, t0 + 5 * M)
    services.incident_post_public_update(
        incident=sev1, actor=people["liaison"], body="We are investigating.", now=t0 + 20 * M
    )
    room.refresh_from_db()
    assert room.update_due_at == t0 + 50 * M
    assert reminder_sweep(now=t0 + 35 * M) == {}
    assert reminder_sweep(now=t0 + 50 * M)["war_room_update_due"] == 1


def test_waiting_on_the_vendor_pauses_the_cadence_and_resuming_restarts_the_count(sev1, people, t0):
    room = activate(sev1, people, t0 + 5 * M)
    services.incident_change_status(
        incident=sev1, status="waiting_on_vendor", actor=people["tech"], now=t0 + 15 * M
    )
    room.refresh_from_db()
    assert room.update_due_at is None and room.next_reminder_at is None
    services.incident_change_status(
        incident=sev1, status="investigating", actor=people["tech"], now=t0 + 75 * M
    )
    room.refresh_from_db()
    # 10 of 30 minutes were used before the pause: 20 are left.
    assert room.update_due_at == t0 + 95 * M


def test_the_policy_sets_the_default_cadence_and_the_commander_can_change_it(people, t0):
    from escalations.policies.services import policy_create_from_spec
    from escalations.rules.spec import LevelSpec, WarRoomSettings, WorkflowSpec

    policy_create_from_spec(
        spec=WorkflowSpec(
            levels=(LevelSpec(1, "One"),),
            war_room=WarRoomSettings(update_every=(("P1", 45 * M),)),
        ),
        name="calm",
        make_default=True,
    )
    incident = make_incident(actor=people["tech"], severity="P1", opened_at=t0, now=t0)
    room = war_room_activate(
        incident=incident,
        actor=people["commander"],
        reason="unclear_scope",
        commander=people["commander"],
        now=t0 + M,
    )
    assert room.cadence == 45 * M
    with pytest.raises(ValidationError) as caught:
        war_room_set_cadence(war_room=room, actor=people["commander"], cadence=2 * M)
    assert "cadence" in caught.value.message_dict
    room = war_room_set_cadence(
        war_room=room, actor=people["commander"], cadence=20 * M, now=t0 + 2 * M
    )
    assert room.update_due_at == t0 + 21 * M


def test_activation_is_checked_field_by_field(people, t0, security_user):
    p2 = make_incident(actor=people["tech"], severity="P2", opened_at=t0, now=t0)
    with pytest.raises(ValidationError) as caught:
        war_room_activate(incident=p2, actor=people["tech"], reason="sev1", commander=None, now=t0)
    errors = caught.value.message_dict
    assert errors["reason"] == ["The incident is not Severity 1 (P0); raise the severity first."]
    assert errors["commander"] == ["A war room needs an incident commander."]
    secret = make_incident(
        actor=security_user, severity="P0", is_security=True, opened_at=t0, now=t0
    )
    with pytest.raises(ValidationError) as caught:
        war_room_activate(
            incident=secret,
            actor=security_user,
            reason="security",
            commander=security_user,
            scribe=people["scribe"],  # an agent who may not see security incidents
            now=t0,
        )
    assert "cannot see this incident" in caught.value.message_dict["scribe"][0]
    assert not WarRoom.objects.exists()


def test_one_active_war_room_per_incident(sev1, people, t0):
    activate(sev1, people, t0 + 5 * M)
    with pytest.raises(ValidationError, match="active war room already"):
        activate(sev1, people, t0 + 6 * M)


def test_only_the_commander_logs_decisions_on_the_timeline(sev1, people, t0):
    room = activate(sev1, people, t0 + 5 * M)
    with pytest.raises(ValidationError, match="Only the incident commander"):
        war_room_log_decision(war_room=room, actor=people["tech"], decision="Roll back")
    event = war_room_log_decision(
        war_room=room, actor=people["commander"], decision="Roll back now", now=t0 + 20 * M
    )
    assert event.kind == EventKind.COMMANDER_DECISION and event.body == "Roll back now"


def test_handing_over_needs_a_note_and_keeps_the_history(sev1, people, t0):
    room = activate(sev1, people, t0 + 5 * M)
    night = UserFactory(username="night-ic", role="Team Lead")
    with pytest.raises(ValidationError) as caught:
        war_room_assign(war_room=room, role="commander", user=night, actor=people["commander"])
    assert "note" in caught.value.message_dict
    war_room_assign(
        war_room=room,
        role="commander",
        user=night,
        actor=people["commander"],
        note="Rollback done; waiting on AWS case 123; next update 02:00.",
        now=t0 + 12 * 60 * M,
    )
    assert current_holders(room)[WarRoomRole.COMMANDER] == [night]
    handover = WarRoomHandover.objects.get()
    assert (handover.from_user, handover.to_user) == (people["commander"], night)
    old = WarRoomAssignment.objects.get(user=people["commander"], role="commander")
    assert old.until == t0 + 12 * 60 * M
    # The new commander gets the reminders and the decisions.
    war_room_log_decision(war_room=room, actor=night, decision="Keep the feature flag off")
    reminder_sweep(now=t0 + 13 * 60 * M)
    assert {r for r, _ in update_due_notices()} == {night.email}
    # Experts rotate in and out without a note; the commander role is never left empty.
    war_room_release(war_room=room, role="sme", user=people["dba"], actor=night)
    with pytest.raises(ValidationError):
        war_room_release(war_room=room, role="commander", user=night, actor=night)


def test_resolution_stands_the_war_room_down_and_stops_the_reminders(sev1, people, t0):
    room = activate(sev1, people, t0 + 5 * M)
    services.incident_change_status(
        incident=sev1, status="resolved", actor=people["tech"], note="Fixed", now=t0 + 60 * M
    )
    room.refresh_from_db()
    assert room.closed_at == t0 + 60 * M and room.next_reminder_at is None
    assert not WarRoomAssignment.objects.filter(until__isnull=True).exists()
    assert sev1.events.filter(kind=EventKind.WAR_ROOM_CLOSED).count() == 1
    with pytest.raises(ValidationError, match="stood down"):
        war_room_close(war_room=room, actor=people["commander"], note="again")


def test_a_sweep_reads_every_open_war_rooms_commander_once(
    sev1, people, t0, django_assert_num_queries
):
    """The update clock's warnings leave the commander out; a sweep asks for all open
    war rooms' commanders in one query, not once per warned incident. A closed room's
    commander is no longer one."""
    from escalations.engine.audience import Audience

    activate(sev1, people, t0 + 5 * M)
    closed = make_incident(actor=people["tech"], severity="P0", opened_at=t0, now=t0)
    services.incident_acknowledge(incident=closed, actor=people["tech"], now=t0 + 2 * M)
    room = activate(closed, people, t0 + 5 * M)
    war_room_close(war_room=room, actor=people["commander"], note="Stable.", now=t0 + 9 * M)
    audience = Audience()
    with django_assert_num_queries(1):
        assert audience.war_room_commander(sev1.pk) == people["commander"].pk
        assert audience.war_room_commander(closed.pk) is None
        assert audience.war_room_commander(10**9) is None
