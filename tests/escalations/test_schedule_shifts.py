"""The reads behind the on-call pages: who is on call now, the next handoff, the gaps of the
next 14 days and a person's shifts and hours, all from the final shifts (after overrides)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from escalations.schedules import services
from escalations.schedules.shifts import (
    PersonShift,
    hours_on_call,
    my_shifts,
    person_shifts,
    schedule_summary,
)
from tests.escalations.oncall_scenario import (
    EXPECTED_14_DAYS,
    GAP,
    HANDOFF_TO_LUCAS,
    NOW,
    SWAP,
    build,
)
from tests.factories import make_schedule, oncall_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(roles):
    return build()


def test_the_14_days_are_the_final_shifts_worked_out_by_hand(world):
    summary = schedule_summary(world.schedule, now=NOW)
    assert [(s.person or None, s.start, s.end) for s in summary.stretches] == EXPECTED_14_DAYS
    # Full names, not usernames, for people to read.
    assert [s.name for s in summary.stretches if not s.is_gap][:2] == [
        "Emma Schulz",
        "Lucas Martin",
    ]


def test_on_call_now_the_next_handoff_and_the_gap(world):
    summary = schedule_summary(world.schedule, now=NOW)
    assert (summary.current.person, summary.current.end) == ("emma", SWAP[0])
    assert (summary.next.person, summary.next_handoff) == ("lucas", SWAP[0])
    assert [(g.start, g.end, g.hours) for g in summary.gaps] == [(GAP[0], GAP[1], 4.0)]


def test_during_the_gap_nobody_is_on_call_and_the_next_handoff_ends_it(world):
    summary = schedule_summary(world.schedule, now=GAP[0] + timedelta(hours=1))
    assert summary.current is None
    assert (summary.next.person, summary.next_handoff) == ("emma", GAP[1])


def test_before_the_swap_ends_the_next_is_a_gap_when_nobody_follows(world):
    at = GAP[0] - timedelta(hours=2)
    summary = schedule_summary(world.schedule, now=at)
    assert summary.current.person == "emma"
    assert summary.next.is_gap and summary.next_handoff == GAP[0]


def test_a_persons_shifts_across_schedules_cut_to_the_window(world):
    other = make_schedule(name="Database on-call", spec=oncall_spec(["lucas", "emma"]))
    shifts = person_shifts("lucas", start=NOW, end=NOW + timedelta(days=14))
    assert [(s.schedule.name, s.start, s.end) for s in shifts] == [
        # Database on-call, weekly from 2026-01-05 09:00 Berlin: lucas has even weeks;
        # 03-02 is week 8 (lucas), until 03-09 09:00 CET = 08:00 UTC.
        ("Database on-call", NOW, datetime(2026, 3, 9, 8, tzinfo=UTC)),
        (world.schedule.name, SWAP[0], SWAP[1]),
        (world.schedule.name, HANDOFF_TO_LUCAS, HANDOFF_TO_LUCAS + timedelta(days=7)),
        ("Database on-call", datetime(2026, 3, 16, 8, tzinfo=UTC), NOW + timedelta(days=14)),
    ]
    assert other.pk != world.schedule.pk


def test_hours_on_call_count_an_hour_on_two_schedules_once(world):
    a, b = world.schedule, make_schedule(name="Other", spec=oncall_spec(["lucas"]))
    t = NOW
    shifts = [
        PersonShift(a, t, t + timedelta(hours=5)),
        PersonShift(b, t + timedelta(hours=3), t + timedelta(hours=8)),
        PersonShift(b, t + timedelta(hours=10), t + timedelta(hours=11)),
    ]
    assert hours_on_call(shifts) == 9.0
    assert hours_on_call([]) == 0.0


def test_my_shifts_lists_the_next_and_counts_this_months_past_hours(world):
    month_start = datetime(2026, 3, 1, tzinfo=UTC)
    mine = my_shifts("emma", now=NOW, month_start=month_start)
    # emma's week began Monday 03-02 09:00 UTC: 2 days 3 hours before Wednesday noon.
    assert mine.month_hours == 51.0
    assert [(s.start, s.end) for s in mine.upcoming] == [
        (NOW, SWAP[0]),
        (SWAP[1], GAP[0]),
        (GAP[1], HANDOFF_TO_LUCAS),
        # emma's next week: turn 11, 03-23 10:00 CET (09:00 UTC) to 03-30 10:00 CEST, which
        # is 08:00 UTC: the clocks went forward on 03-29, so the week is an hour short.
        (datetime(2026, 3, 23, 9, tzinfo=UTC), datetime(2026, 3, 30, 8, tzinfo=UTC)),
    ]
    assert mine.more == 0
    assert [(s.name, h) for s, h in mine.month_by_schedule] == [(world.schedule.name, 51.0)]


def test_my_shifts_shows_at_most_the_limit_and_counts_the_rest(world):
    daily = make_schedule(name="Daily", spec=oncall_spec(["solo"], recurrence="daily"))
    services.override_add(
        actor=None,
        schedule=daily,
        person=None,
        start=NOW + timedelta(hours=1),
        end=NOW + timedelta(hours=2),
    )
    # solo is on call round the clock; hourly gaps every day cut it into pieces.
    for day in range(1, 15):
        services.override_add(
            actor=None,
            schedule=daily,
            person=None,
            start=NOW + timedelta(days=day),
            end=NOW + timedelta(days=day, hours=1),
        )
    mine = my_shifts("solo", now=NOW, month_start=datetime(2026, 3, 1, tzinfo=UTC), limit=10)
    assert len(mine.upcoming) == 10
    assert mine.more == 16 - 10
