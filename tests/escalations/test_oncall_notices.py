"""Never to nobody: the schedules a P0/P1 route can reach, their coverage gaps mailed to the
team lead once a week before, and each person told once when their shift starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group

from escalations.followup.oncall_notices import (
    coverage_gap_sweep,
    reachable_schedules,
    shift_start_sweep,
)
from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, OverrideSpec, TargetSpec
from escalations.schedules import services
from notifications.models import Notification
from notifications.rendering import render_bodies
from tests.escalations.conftest import H, simple_spec
from tests.factories import UserFactory, make_incident, make_schedule, oncall_spec

pytestmark = pytest.mark.django_db

SLA = TargetSpec(first_response=H, resolution=8 * H)
# Wednesday 14 Jan 2026, 12:00 UTC: ben's week (ana and ben hand over Mondays 09:00 Berlin).
NOW = datetime(2026, 1, 14, 12, tzinfo=UTC)


def level(number, **values) -> LevelSpec:
    return LevelSpec(number, f"Level {number}", sla=SLA, **values)


def policy(name, *levels, **changes):
    return policy_create_from_spec(spec=simple_spec(levels=levels, **changes), name=name)


def names(reached) -> dict[str, list[str]]:
    return {item.schedule.name: item.routes for item in reached}


# --- which schedules a P0/P1 route reaches ------------------------------------------------------


def test_schedules_named_by_a_level_or_sharing_its_team_are_reached(roles):
    platform, other = Group.objects.create(name="platform"), Group.objects.create(name="other")
    make_schedule(name="Named")
    make_schedule(name="By team", team=platform)
    make_schedule(name="Unreached", team=other)
    make_schedule(name="Drafted")
    policy("standard", level(1, team="platform"), level(2, schedule="Named"))
    policy_create_from_spec(
        spec=simple_spec(levels=(level(1, schedule="Drafted"),)), name="draft", activate=False
    )
    assert names(reachable_schedules()) == {
        "By team": ["standard v1 L1 (team platform)"],
        "Named": ["standard v1 L2 (schedule)"],
    }


def test_levels_below_where_p0_and_p1_enter_are_not_reached(roles):
    make_schedule(name="Low")
    make_schedule(name="High")
    routed = (OverrideSpec("P0", 2), OverrideSpec("P1", 2))
    policy("routed", level(1, schedule="Low"), level(2, schedule="High"), overrides=routed)
    assert names(reachable_schedules()) == {"High": ["routed v1 L2 (schedule)"]}
    # Only P0 routed past L1: a P1 still enters at L1, so Low is reached too.
    policy("routed", level(1, schedule="Low"), level(2, schedule="High"), overrides=routed[:1])
    assert set(names(reachable_schedules())) == {"Low", "High"}


def test_a_retired_version_counts_while_an_open_p0_or_p1_incident_follows_it(roles, agent):
    make_schedule(name="Old")
    make_schedule(name="Kept")
    first = policy_create_from_spec(
        spec=simple_spec(levels=(level(1, schedule="Old"),)), name="std", make_default=True
    )
    incident = make_incident(actor=agent, severity="P1")
    assert incident.policy_id == first.pk
    policy("std", level(1, schedule="Kept"))  # version 2: version 1 retires
    assert names(reachable_schedules()) == {
        "Kept": ["std v2 L1 (schedule)"],
        "Old": ["std v1 L1 (schedule)"],
    }
    incident.severity = "P2"
    incident.save(update_fields=["severity"])
    assert set(names(reachable_schedules())) == {"Kept"}


# --- gap emails ---------------------------------------------------------------------------------


@pytest.fixture
def gap_setup(roles):
    """A reached schedule of team platform with nobody on call Tue 20 Jan 10:00-14:00 UTC
    (six days ahead), and a Team Lead in the team and one outside it."""
    team = Group.objects.create(name="platform")
    schedule = make_schedule(name="Platform <b>on-call</b>", team=team)
    policy("standard", level(1, team="platform"))
    lead = UserFactory(username="lead", role="Team Lead", time_zone="Europe/Berlin")
    lead.groups.add(team)
    UserFactory(username="elsewhere", role="Team Lead")
    start = datetime(2026, 1, 20, 10, tzinfo=UTC)
    services.override_add(
        actor=None, schedule=schedule, person=None, start=start, end=start + 4 * H
    )
    return schedule, lead


def gap_mail():
    return Notification.objects.filter(kind="oncall_gap")


def test_a_gap_is_mailed_to_the_teams_lead_once_however_often_the_sweep_runs(gap_setup):
    schedule, lead = gap_setup
    assert coverage_gap_sweep(now=NOW)["gaps"] == 1
    assert coverage_gap_sweep(now=NOW + H)["gaps"] == 1  # the next hour: the same gap
    assert coverage_gap_sweep(now=NOW + 48 * H)["gaps"] == 1
    (row,) = gap_mail()
    assert (row.recipient, row.recipient_user_id) == ("lead@example.com", lead.pk)
    assert row.channel == "email" and row.incident_id is None
    assert row.urgent  # never capped or folded away: it is sent once only
    assert row.dedup_key.startswith(f"oncall_gap:{schedule.pk}:20260120T100000Z:20260120T140000Z")
    # In the lead's zone; the name is text, never markup.
    assert row.subject == (
        "[ON-CALL GAP] Platform <b>on-call</b>: nobody on call from 2026-01-20 11:00 CET"
    )
    bodies = render_bodies(row)
    assert "until 2026-01-20 15:00 CET" in bodies["body_text"]
    assert "standard v1 L1 (team platform)" in bodies["body_text"]
    assert "Platform &lt;b&gt;on-call&lt;/b&gt;" in bodies["body_html"]
    assert "<b>on-call</b>" not in bodies["body_html"]
    # The link opens the schedule's page, where its shifts and gaps are and the fixes start.
    assert f"/schedules/{schedule.pk}/\n" in bodies["body_text"]


def test_no_mail_for_a_gap_more_than_a_week_ahead_until_it_is_a_week_ahead(gap_setup):
    early = datetime(2026, 1, 13, 9, 59, tzinfo=UTC)  # 7 days and 1 minute before the gap
    assert coverage_gap_sweep(now=early).get("gaps") is None
    assert not gap_mail().exists()
    coverage_gap_sweep(now=early + timedelta(minutes=2))
    assert gap_mail().count() == 1


def test_a_changed_gap_is_a_new_gap_and_a_gap_under_way_is_still_mailed(gap_setup):
    schedule, _lead = gap_setup
    coverage_gap_sweep(now=NOW)
    later = datetime(2026, 1, 20, 12, tzinfo=UTC)  # half-way through the gap
    assert coverage_gap_sweep(now=later)["gaps"] == 1
    assert gap_mail().count() == 1  # under way, still the same gap: not mailed again
    services.override_add(
        actor=None,
        schedule=schedule,
        person=None,
        start=datetime(2026, 1, 20, 14, tzinfo=UTC),
        end=datetime(2026, 1, 20, 16, tzinfo=UTC),
    )
    coverage_gap_sweep(now=later)
    assert gap_mail().count() == 2
    assert gap_mail().first().subject.endswith("nobody on call now")


def test_every_team_lead_hears_when_the_team_has_none(gap_setup):
    _schedule, lead = gap_setup
    lead.groups.remove(Group.objects.get(name="Team Lead"))
    coverage_gap_sweep(now=NOW)
    assert sorted(gap_mail().values_list("recipient", flat=True)) == ["elsewhere@example.com"]


def test_a_long_gap_keeps_one_key_as_the_weeks_pass(gap_setup):
    schedule, _lead = gap_setup
    start = NOW - timedelta(days=1)
    services.override_add(
        actor=None, schedule=schedule, person=None, start=start, end=start + timedelta(days=200)
    )
    for days in (0, 3, 40, 150):
        coverage_gap_sweep(now=NOW + timedelta(days=days, minutes=17))
    keys = sorted(gap_mail().values_list("dedup_key", flat=True))
    assert keys == [
        f"oncall_gap:{schedule.pk}:20260113T120000Z:20260801T120000Z:email:lead@example.com"
    ]


def test_a_schedule_that_starts_later_has_a_gap_open_at_its_start(roles):
    team = Group.objects.create(name="platform")
    UserFactory(username="lead", role="Team Lead").groups.add(team)
    schedule = make_schedule(name="New rota", team=team, spec=oncall_spec(start="2026-01-19"))
    policy("standard", level(1, team="platform"))
    coverage_gap_sweep(now=NOW)
    coverage_gap_sweep(now=NOW + 24 * H)
    (row,) = gap_mail()
    # Nobody ever before Monday 19 Jan 09:00 Berlin.
    assert row.dedup_key.startswith(f"oncall_gap:{schedule.pk}:open:20260119T080000Z:")
    assert row.subject.endswith("nobody on call now")
    assert "until 2026-01-19 08:00 UTC" in render_bodies(row)["body_text"]


def test_a_gap_mail_waits_for_the_leads_working_hours(gap_setup):
    _schedule, lead = gap_setup
    lead.working_hours = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    lead.save(update_fields=["working_hours"])
    saturday = datetime(2026, 1, 17, 12, tzinfo=UTC)  # 13:00 in Berlin, the lead's zone
    coverage_gap_sweep(now=saturday)
    (row,) = gap_mail()
    assert row.next_attempt_at == datetime(2026, 1, 19, 8, tzinfo=UTC)  # Monday 09:00 CET


def test_a_gap_with_no_team_lead_anywhere_is_logged(gap_setup, caplog):
    Group.objects.get(name="Team Lead").user_set.clear()
    assert coverage_gap_sweep(now=NOW)["nobody_to_tell"] == 1
    assert not gap_mail().exists()
    assert "no Team Lead with an email address to tell" in caplog.text


def test_an_unreached_schedule_is_not_mailed(gap_setup):
    schedule, _lead = gap_setup
    schedule.team = Group.objects.create(name="someone-else")
    schedule.save(update_fields=["team"])
    assert coverage_gap_sweep(now=NOW) == {}
    assert not gap_mail().exists()


# --- shift-start notices ------------------------------------------------------------------------


def shift_mail():
    return Notification.objects.filter(kind="oncall_shift")


def test_a_person_hears_once_when_their_shift_starts(roles):
    make_schedule(name="Platform on-call", spec=oncall_spec(("ana", "ben")))
    handover = datetime(2026, 1, 19, 8, tzinfo=UTC)  # Monday 09:00 Berlin: ana again
    assert shift_start_sweep(now=handover - timedelta(minutes=10), interval=60) == {}
    assert shift_start_sweep(now=handover - timedelta(minutes=3), interval=60)["shifts"] == 1
    assert shift_start_sweep(now=handover + timedelta(minutes=1), interval=60)["shifts"] == 1
    assert shift_start_sweep(now=handover + timedelta(minutes=50), interval=60)["shifts"] == 1
    assert shift_start_sweep(now=handover + timedelta(minutes=61), interval=60) == {}
    (row,) = shift_mail()
    assert row.recipient == "ana@example.com" and row.urgent
    assert row.next_attempt_at == handover  # delivered when the shift starts
    assert row.subject == (
        "[ON CALL] You are on call for Platform on-call from 2026-01-19 08:00 UTC"
    )
    assert "from 2026-01-19 08:00 UTC to 2026-01-26 08:00 UTC." in render_bodies(row)["body_text"]


def test_an_override_starts_a_shift_of_its_own(roles):
    schedule = make_schedule(name="Platform on-call")
    cy = UserFactory(username="cy", time_zone="America/New_York")
    start = datetime(2026, 1, 14, 12, tzinfo=UTC)
    services.override_add(actor=None, schedule=schedule, person=cy, start=start, end=start + H)
    shift_start_sweep(now=start, interval=60)
    shift_start_sweep(now=start, interval=60)
    # cy's hour, then ben's week goes on: a new shift of ben's at 13:00.
    shift_start_sweep(now=start + H, interval=60)
    rows = {row.recipient: row for row in shift_mail()}
    assert set(rows) == {"cy@example.com", "ben@example.com"}
    assert (
        "from 2026-01-14 07:00 EST to 2026-01-14 08:00 EST"
        in (render_bodies(rows["cy@example.com"])["body_text"])
    )
