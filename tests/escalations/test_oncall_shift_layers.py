"""Layers of explicit shifts (escalations.rules.oncall.ShiftLayer, e.g. an imported iCal feed).

Convention under test: a shift puts its person on call in [start, end); where shifts of one
layer overlap, the one listed last wins; outside every shift, and in a shift of nobody
(person None), the layer has nobody and the layers below show through; overrides stay on
top. An oracle scans the shifts newest first.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalations.rules.oncall import (
    Override,
    Rotation,
    Schedule,
    Shift,
    ShiftLayer,
    final_shifts,
    gaps,
    on_call,
    paging_order,
)

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Berlin's spring change (01:00 UTC) sits inside the range: instants do not care.
BASE = datetime(2026, 3, 28, tzinfo=UTC)
PEOPLE = ["ann", "ben", "cat", "dan"]
MINUTES = 5 * 24 * 60


@st.composite
def shift_lists(draw, max_size=8):
    shifts = []
    for _ in range(draw(st.integers(0, max_size))):
        start = draw(st.integers(0, MINUTES - 1))
        length = draw(st.integers(1, 36 * 60))
        shifts.append(
            Shift(
                draw(st.sampled_from([*PEOPLE, None])),
                BASE + timedelta(minutes=start),
                BASE + timedelta(minutes=start + length),
            )
        )
    return shifts


def oracle(shifts, overrides, below, t):
    for item in reversed(overrides):
        if item.start <= t < item.end:
            return item.person
    for shift in reversed(shifts):
        if shift.start <= t < shift.end:
            return below if shift.person is None else shift.person
    return below


instants = st.integers(-60, MINUTES + 48 * 60).map(lambda m: BASE + timedelta(minutes=m))


@SETTINGS
@given(shift_lists(), st.lists(instants, min_size=1, max_size=20))
def test_on_call_is_the_last_listed_shift_covering_the_instant(shifts, moments):
    schedule = Schedule("Europe/Berlin", [ShiftLayer(tuple(shifts), name="feed")])
    for t in moments:
        found = on_call(schedule, t)
        expected = oracle(shifts, [], None, t)
        assert (found.person if found else None) == expected, t
        if found:
            assert found.layer == 0 and found.override is None
            assert found.start <= t < found.end
            # the stretch is one person's all along
            for probe in (found.start, found.end - timedelta(seconds=1)):
                assert oracle(shifts, [], None, probe) == found.person


@SETTINGS
@given(shift_lists(), st.lists(instants, min_size=1, max_size=10), st.booleans())
def test_a_rotation_below_shows_through_and_overrides_win(shifts, moments, with_override):
    rotation = Rotation(("zed",), "daily", BASE.date() - timedelta(days=1), datetime.min.time())
    overrides = []
    if with_override and shifts:
        first = shifts[0]
        overrides = [Override(None, first.start, first.start + timedelta(hours=2))]
    schedule = Schedule(
        "Europe/Berlin", [rotation, ShiftLayer(tuple(shifts))], overrides=tuple(overrides)
    )
    for t in moments:
        found = on_call(schedule, t)
        assert (found.person if found else None) == oracle(shifts, overrides, "zed", t), t


@SETTINGS
@given(shift_lists(), instants, st.integers(1, 6 * 24 * 60))
def test_final_shifts_and_gaps_tile_the_range_and_agree_with_on_call(shifts, start, minutes):
    schedule = Schedule("America/New_York", [ShiftLayer(tuple(shifts))])
    end = start + timedelta(minutes=minutes)
    pieces = sorted(
        [(s.start, s.end, s.person) for s in final_shifts(schedule, start, end)]
        + [(g.start, g.end, None) for g in gaps(schedule, start, end)]
    )
    assert pieces[0][0] == start and pieces[-1][1] == end
    for (_, a_end, _), (b_start, _, _) in itertools.pairwise(pieces):
        assert a_end == b_start
    for lo, hi, person in pieces:
        for probe in (lo, hi - timedelta(seconds=1), lo + (hi - lo) / 2):
            probe = probe.replace(microsecond=0)
            assert oracle(shifts, [], None, probe) == person


@SETTINGS
@given(shift_lists(), st.lists(instants, min_size=1, max_size=10))
def test_paging_order_starts_with_the_person_on_call_and_is_empty_only_for_nobody(shifts, moments):
    rotation = Rotation(("zed", "yan"), "daily", BASE.date(), datetime.min.time())
    schedule = Schedule("Europe/Berlin", [rotation, ShiftLayer(tuple(shifts))])
    for t in moments:
        found = on_call(schedule, t)
        order = paging_order(schedule, t)
        assert bool(order) == (found is not None)
        if found:
            assert order[0] == found.person
            assert len(set(order)) == len(order)
            # the rotation below is a backup whenever it has someone
            below = on_call(Schedule("Europe/Berlin", [rotation]), t)
            if below:
                assert below.person in order


@SETTINGS
@given(shift_lists(max_size=12))
def test_the_spec_round_trips(shifts):
    schedule = Schedule("Europe/Berlin", [ShiftLayer(tuple(shifts), name="imported")])
    spec = schedule.to_spec()
    assert Schedule.from_spec(spec) == schedule
    assert Schedule.from_spec(spec).to_spec() == spec


def test_paging_order_is_the_person_on_call_then_the_next_shifts_in_turn():
    def h(hours):
        return BASE + timedelta(hours=hours)

    layer = ShiftLayer(
        (
            Shift("ann", h(0), h(8)),
            Shift("cat", h(8), h(16)),
            Shift("ben", h(16), h(24)),
            Shift("dan", h(-24), h(-16)),  # in the past: last
        )
    )
    schedule = Schedule("UTC", [layer])
    assert paging_order(schedule, h(1)) == ("ann", "cat", "ben", "dan")
    # a rotation below: its holder is a backup, paged before the rest of the shifts' people
    rotation = Rotation(("zed",), "daily", BASE.date(), datetime.min.time())
    both = Schedule("UTC", [rotation, layer])
    assert paging_order(both, h(1)) == ("ann", "zed", "cat", "ben", "dan")
    assert paging_order(schedule, h(9)) == ("cat", "ben", "ann", "dan")
    assert paging_order(schedule, h(30)) == ()
    assert layer.people == ("ann", "cat", "ben", "dan")


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ({"shifts": "x"}, "layers[0].shifts: expected a list, got str"),
        (
            {"shifts": [{"person": "ann", "start": "2026-01-01T00:00:00+00:00"}]},
            'layers[0].shifts[0]: missing "end"',
        ),
        (
            {
                "shifts": [
                    {
                        "person": "ann",
                        "start": "2026-01-02T00:00:00+00:00",
                        "end": "2026-01-01T00:00:00+00:00",
                    }
                ]
            },
            "layers[0].shifts[0].end: 2026-01-01T00:00:00+00:00 is not after start",
        ),
        (
            {
                "shifts": [
                    {"person": "ann", "start": "2026-01-01T00:00:00", "end": "2026-01-02T00:00"}
                ]
            },
            'layers[0].shifts[0].start: "2026-01-01T00:00:00" has no UTC offset',
        ),
        (
            {
                "shifts": [
                    {
                        "person": " ann",
                        "start": "2026-01-01T00:00:00Z",
                        "end": "2026-01-02T00:00:00Z",
                    }
                ]
            },
            "layers[0].shifts[0].person: ' ann' has spaces around it",
        ),
        ({"shifts": [], "people": ["ann"]}, 'layers[0]: unknown key "people"'),
    ],
)
def test_bad_shift_layers_are_refused_naming_the_part(layer, message):
    with pytest.raises(ValueError) as error:
        Schedule.from_spec({"timezone": "UTC", "layers": [layer]})
    assert message in str(error.value)
