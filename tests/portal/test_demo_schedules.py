"""The demo's on-call schedules (issue 18): a follow-the-sun rotation across two zones, a
primary/secondary pair, and a coverage gap in the next 14 days; made once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group

from escalations.models import OnCallSchedule
from escalations.schedules.selectors import coverage_gaps, who_is_on_call
from portal.demo import FOLLOW_THE_SUN, PRIMARY_SECONDARY, TEAMS, ensure_people, ensure_schedules

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def demo(roles):
    people = ensure_people()
    teams = {name: Group.objects.get_or_create(name=name)[0] for name in TEAMS}
    ensure_schedules(people=people, teams=teams, now=NOW)
    ensure_schedules(people=people, teams=teams, now=NOW)  # a second load adds nothing
    return people


def test_the_demo_has_the_two_schedules_once(demo):
    assert sorted(OnCallSchedule.objects.values_list("name", flat=True)) == sorted(
        [FOLLOW_THE_SUN, PRIMARY_SECONDARY]
    )


def test_the_sun_is_followed_europe_by_day_the_americas_by_night(demo):
    schedule = OnCallSchedule.objects.get(name=FOLLOW_THE_SUN)
    day = who_is_on_call(schedule, NOW)  # 12:00 London
    night = who_is_on_call(schedule, NOW + timedelta(hours=10))  # 22:00 London
    assert day.current.person in ("priya", "lucas", "emma")
    assert night.current.person in ("agent", "noah")
    # Two zones: the people on call by day and by night live on either side of the ocean.
    assert str(demo[day.current.person].time_zone).startswith("Europe/")
    assert str(demo[night.current.person].time_zone).startswith("America/")
    assert coverage_gaps(schedule, now=NOW) == []  # round the clock, every day


def test_the_primary_secondary_pair_has_a_gap_in_the_next_14_days(demo):
    schedule = OnCallSchedule.objects.get(name=PRIMARY_SECONDARY)
    assert [layer["name"] for layer in schedule.spec["layers"]] == ["secondary", "primary"]
    gaps = coverage_gaps(schedule, now=NOW)
    assert len(gaps) == 1
    assert gaps[0].end - gaps[0].start == timedelta(hours=4)
    assert NOW < gaps[0].start < NOW + timedelta(days=14)
    assert who_is_on_call(schedule, gaps[0].start).current is None


def test_the_default_policy_pages_engineering_on_call_at_its_expert_level(demo):
    from escalations.models import Policy, PolicyStatus
    from escalations.policies.services import policy_spec
    from portal.demo import DEFAULT_PRESET, ON_CALL_LEVEL, ensure_policies

    ensure_policies()
    spec = policy_spec(Policy.objects.get(name=DEFAULT_PRESET, status=PolicyStatus.ACTIVE))
    assert [level.number for level in spec.levels if level.schedule] == [ON_CALL_LEVEL]
    assert spec.level(ON_CALL_LEVEL).schedule == PRIMARY_SECONDARY
