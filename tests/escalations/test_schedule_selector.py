"""schedule_core builds the pure schedule from the stored layers and the override rows,
oldest first (so the latest wins where they overlap), and a change is seen at once although
built schedules are kept between reads. Overrides that ended over 90 days ago are archived:
left out of the built schedule unless a question is about an instant that old."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from escalations.models import OnCallOverride
from escalations.rules.oncall import Override, Schedule, on_call
from escalations.schedules import services
from escalations.schedules.selectors import (
    ARCHIVE_AFTER,
    coverage_gaps,
    schedule_core,
    who_is_on_call,
)
from tests.factories import UserFactory, make_schedule, oncall_spec

pytestmark = pytest.mark.django_db

T = datetime(2026, 1, 7, 12, tzinfo=UTC)  # ana's week (the first from 2026-01-05)


def at(hour: int) -> datetime:
    return T.replace(hour=hour)


@pytest.fixture(autouse=True)
def in_that_week():
    """The clock in the week the tests speak of (it ticks: each change is a new version)."""
    with time_machine.travel(datetime(2026, 1, 6, 9, tzinfo=UTC), tick=True) as traveller:
        yield traveller


def test_the_core_is_the_stored_layers_and_the_overrides_oldest_first(roles):
    schedule = make_schedule()
    cy, dee = UserFactory(username="cy"), UserFactory(username="dee")
    services.override_add(actor=None, schedule=schedule, person=cy, start=at(10), end=at(16))
    services.override_add(actor=None, schedule=schedule, person=dee, start=at(12), end=at(14))
    services.override_add(actor=None, schedule=schedule, person=None, start=at(20), end=at(22))
    expected = Schedule.from_spec(
        {
            **oncall_spec(),
            "overrides": [
                {"person": "cy", "start": at(10), "end": at(16)},
                {"person": "dee", "start": at(12), "end": at(14)},
                {"person": None, "start": at(20), "end": at(22)},
            ],
        }
    )
    core = schedule_core(schedule)
    assert core == expected
    assert core.overrides[1] == Override("dee", at(12), at(14))
    # The later override wins where they overlap.
    assert [on_call(core, at(h)).person for h in (11, 13, 15, 17)] == ["cy", "dee", "cy", "ana"]
    assert on_call(core, at(21)) is None


def test_who_is_on_call_names_the_override_row(roles):
    schedule = make_schedule()
    row = services.override_add(
        actor=None, schedule=schedule, person=UserFactory(username="cy"), start=at(10), end=at(16)
    )
    now = who_is_on_call(schedule, at(11))
    assert (now.current.person, now.source, now.override_id) == ("cy", "override", row.pk)
    assert now.paging_order[0] == "cy"


def test_a_change_is_seen_at_once_and_an_unchanged_schedule_is_reused(roles):
    schedule = make_schedule()
    first = schedule_core(schedule)
    assert schedule_core(schedule) is first  # kept: the core's own caches stay warm
    services.override_add(
        actor=None, schedule=schedule, person=UserFactory(username="cy"), start=at(10), end=at(16)
    )
    assert on_call(schedule_core(schedule), at(11)).person == "cy"
    schedule = services.schedule_update(
        actor=None, schedule=schedule, spec=oncall_spec(("ben", "ana"))
    )
    assert on_call(schedule_core(schedule), at(18)).person == "ben"


def test_coverage_gaps_are_the_stretches_with_nobody(roles):
    schedule = make_schedule()
    services.override_add(actor=None, schedule=schedule, person=None, start=at(20), end=at(22))
    assert [(g.start, g.end) for g in coverage_gaps(schedule, now=at(0))] == [(at(20), at(22))]


def test_overrides_over_90_days_old_are_archived_and_the_cache_follows_the_horizon(
    roles, in_that_week
):
    schedule = make_schedule()
    cy = UserFactory(username="cy")
    services.override_add(actor=None, schedule=schedule, person=cy, start=at(10), end=at(16))
    assert len(schedule_core(schedule).overrides) == 1
    # 90 days after its end, and a day for the horizon's daily step: archived. Nothing
    # changed the schedule, yet the kept build is not reused: the horizon is in its key.
    in_that_week.move_to(at(16) + ARCHIVE_AFTER + timedelta(days=1, hours=1))
    assert schedule_core(schedule).overrides == ()
    assert OnCallOverride.objects.filter(person=cy).exists()  # kept for history
    assert on_call(schedule_core(schedule), at(11)).person == "ana"
    # A question about that old instant still sees it.
    assert who_is_on_call(schedule, at(11)).current.person == "cy"
    assert on_call(schedule_core(schedule, since=at(11)), at(11)).person == "cy"
