"""Property tests for escalations.rules.oncall over random schedules in DST weeks.

Random schedules: 1-3 layers of 1-5 people (names may repeat), daily, weekly, every N days
or weeks and RRULE recurrences, handoffs on a quarter-hour grid with extra weight on 00:00-
03:00 (inside the spring gap and the repeated autumn hour), random restriction windows in
both forms, 0-3 overrides (overlapping ones, and some with nobody), in Europe/Berlin and
America/New_York, looked at within five days of 2026's four clock changes.

An independent oracle works out who is on call the slow, obvious way: naive local datetimes
and zoneinfo, every turn enumerated from the start (dateutil iterated for RRULEs), windows
checked day by day, overrides scanned newest first. Wall time ``x`` happens at the first
instant whose local clock reads ``x`` or later (found by walking minutes; all walls here are
whole minutes, as are the zones' offsets and changes).
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalations.rules.oncall import (
    OnCall,
    Override,
    Restriction,
    Rotation,
    Schedule,
    final_shifts,
    gaps,
    next_on_call,
    on_call,
    paging_order,
)

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,  # no example database; set HYPOTHESIS_STORAGE_DIRECTORY for the rest
    suppress_health_check=[HealthCheck.too_slow],
)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
CHANGES = {
    "Europe/Berlin": [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)],
    "America/New_York": [datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)],
}
PEOPLE = ["ann", "ben", "cat", "dan", "eve", "fay"]
RRULES = [
    # Fixed patterns, which the module counts arithmetically; the oracle still asks dateutil.
    "FREQ=WEEKLY;BYDAY=MO,TH",
    "FREQ=WEEKLY;BYDAY=FR",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SA",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,WE;WKST=SU",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=2,14",
    "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30",  # inside the gap, or twice, on change days
    "FREQ=WEEKLY;INTERVAL=2",
    "FREQ=DAILY;INTERVAL=2",
    "FREQ=DAILY;BYHOUR=8,20",
    "FREQ=DAILY;BYHOUR=1",
    "FREQ=HOURLY;INTERVAL=12",
    "FREQ=HOURLY;INTERVAL=5",
    "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
    "FREQ=DAILY;INTERVAL=3;BYDAY=MO,WE,SA;BYHOUR=7",
    # Expanded by dateutil, cached.
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR",  # the same handoffs as DAILY;BYDAY=MO,...,FR
    "FREQ=MONTHLY;BYDAY=1MO,3MO",
    "FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=-1",
]
RANGE = timedelta(days=5)


# --------------------------------------------------------------------------- the oracle


def local(zone: ZoneInfo, t: datetime) -> datetime:
    return t.astimezone(zone).replace(tzinfo=None)


def first_instant(zone: ZoneInfo, wall: datetime) -> datetime:
    """The first instant whose local clock reads ``wall`` or later."""
    t = min(
        wall.replace(tzinfo=zone, fold=0).astimezone(UTC),
        wall.replace(tzinfo=zone, fold=1).astimezone(UTC),
    )
    while local(zone, t) < wall:  # only in a gap, where t reads before it
        t += MINUTE
    return t


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


class OracleLayer:
    def __init__(self, zone: ZoneInfo, rotation: Rotation, horizon: datetime) -> None:
        self.zone = zone
        self.rotation = rotation
        first = datetime.combine(rotation.start, rotation.handoff)
        if rotation.is_rrule:
            walls = iter(rrulestr(rotation.recurrence, dtstart=first))
        else:
            step = timedelta(days=rotation.interval * (7 if rotation.recurrence == "weekly" else 1))
            walls = (first + k * step for k in itertools.count())
        self.walls: list[datetime] = []
        self.instants: list[datetime] = []
        for wall in walls:
            self.walls.append(wall)
            self.instants.append(first_instant(zone, wall))
            if self.instants[-1] > horizon:
                break
        # Whether each turn's wall-clock span overlaps a window (then it consumes a person).
        self.active = [self.covers(a, b) for a, b in itertools.pairwise(self.walls)]

    def windows_near(self, first: date, last: date) -> list[tuple[datetime, datetime]]:
        found = []
        for day in days_between(first - timedelta(days=8), last + timedelta(days=1)):
            for item in self.rotation.restrictions:
                if day.weekday() in item.days:
                    opens = datetime.combine(day, item.start)
                    found.append((opens, opens + item.length))
        return found

    def covers(self, a: datetime, b: datetime) -> bool:
        if not self.rotation.restrictions:
            return True
        return any(ws < b and we > a for ws, we in self.windows_near(a.date(), b.date()))

    def person(self, t: datetime) -> str | None:
        k = sum(1 for instant in self.instants if instant <= t) - 1
        if k < 0:
            return None
        assert k < len(self.instants) - 1, "oracle horizon too short"
        people = self.rotation.people
        if not self.rotation.restrictions:
            return people[k % len(people)]
        day = local(self.zone, t).date()
        inside = any(
            first_instant(self.zone, ws) <= t < first_instant(self.zone, we)
            for ws, we in self.windows_near(day, day)
        )
        if not inside:
            return None
        return people[sum(self.active[:k]) % len(people)]


class Oracle:
    def __init__(self, schedule: Schedule, horizon: datetime) -> None:
        zone = ZoneInfo(schedule.timezone)
        self.schedule = schedule
        self.layers = [OracleLayer(zone, rotation, horizon) for rotation in schedule.layers]

    def at(self, t: datetime) -> tuple[str | None, int | None, int | None]:
        """(person, layer, override)."""
        overrides = self.schedule.overrides
        for index in range(len(overrides) - 1, -1, -1):
            if overrides[index].start <= t < overrides[index].end:
                return overrides[index].person, None, index
        for index in range(len(self.layers) - 1, -1, -1):
            person = self.layers[index].person(t)
            if person is not None:
                return person, index, None
        return None, None, None


# --------------------------------------------------------------------------- strategies


def quarter_hours(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high).map(lambda n: n * 900)


handoffs = st.one_of(
    st.sampled_from([time(0), time(1), time(1, 30), time(2), time(2, 30), time(2, 45), time(3)]),
    quarter_hours(0, 95).map(lambda s: time(s // 3600, s // 60 % 60)),
)


@st.composite
def restrictions(draw: st.DrawFn) -> Restriction:
    start = draw(handoffs)
    if draw(st.booleans()):  # daily form: several days, up to a day long
        days = tuple(sorted(draw(st.sets(st.integers(0, 6), min_size=1))))
        return Restriction(days, start, timedelta(seconds=draw(quarter_hours(1, 96))))
    day = draw(st.integers(0, 6))  # weekly form: one day, up to three days long
    return Restriction((day,), start, timedelta(seconds=draw(quarter_hours(1, 3 * 96))))


@st.composite
def rotations(draw: st.DrawFn, around: date, restricted: bool = True) -> Rotation:
    people = draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=5))
    kind = draw(st.sampled_from(["daily", "daily", "weekly", "rrule"]))
    start = around - timedelta(days=draw(st.integers(-2, 50)))
    windows = draw(st.lists(restrictions(), max_size=3)) if restricted else []
    if kind == "rrule":
        return Rotation(
            tuple(people), draw(st.sampled_from(RRULES)), start, draw(handoffs), 1, tuple(windows)
        )
    interval = draw(st.sampled_from([1, 1, 1, 2, 3] if kind == "daily" else [1, 1, 2]))
    return Rotation(tuple(people), kind, start, draw(handoffs), interval, tuple(windows))


@st.composite
def override_lists(draw: st.DrawFn, focus: datetime) -> list[Override]:
    found = []
    for _ in range(draw(st.integers(0, 3))):
        start = focus + timedelta(minutes=draw(st.integers(-5 * 1440, 5 * 1440)))
        length = timedelta(minutes=draw(st.integers(15, 3 * 1440)))
        person = draw(st.one_of(st.sampled_from(PEOPLE), st.none()))
        found.append(Override(person, start, start + length))
    return found


@st.composite
def scenarios(
    draw: st.DrawFn, restricted: bool = True, overrides: bool = True, layers: int = 3
) -> tuple[Schedule, datetime]:
    zone = draw(st.sampled_from(sorted(CHANGES)))
    focus = draw(st.sampled_from(CHANGES[zone]))
    around = focus.astimezone(ZoneInfo(zone)).date()
    rotation_list = draw(st.lists(rotations(around, restricted), min_size=1, max_size=layers))
    override_list = draw(override_lists(focus)) if overrides else []
    return Schedule(zone, tuple(rotation_list), tuple(override_list)), focus


@st.composite
def instants(draw: st.DrawFn, focus: datetime, count: int = 20) -> list[datetime]:
    """Instants within five days of a clock change, to the second, some right at it."""
    found = [focus, focus - SECOND]
    for _ in range(count):
        found.append(focus + timedelta(seconds=draw(st.integers(-5 * 86_400, 5 * 86_400 - 1))))
    return found


def key(found: OnCall | None) -> tuple[str | None, int | None, int | None]:
    if found is None:
        return None, None, None
    return found.person, found.layer, found.override


# --------------------------------------------------------------------------- properties


@SETTINGS
@given(scenarios(), st.data())
def test_on_call_matches_the_oracle(scenario: tuple[Schedule, datetime], data: Any) -> None:
    schedule, focus = scenario
    oracle = Oracle(schedule, focus + RANGE + timedelta(days=1))
    for t in data.draw(instants(focus)):
        person, layer, override = oracle.at(t)
        expected = (None, None, None) if person is None else (person, layer, override)
        assert key(on_call(schedule, t)) == expected, t


# Turns shorter than a day, where windows leave many turns uncovered.
SHORT_TURNS = [
    "daily",
    "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR",  # dateutil's
    "FREQ=DAILY;BYHOUR=8,20",
    "FREQ=HOURLY;INTERVAL=12",
    "FREQ=HOURLY;INTERVAL=5",
    "FREQ=WEEKLY;BYDAY=MO,TU,TH",
]


@settings(SETTINGS, max_examples=100)
@given(st.sampled_from(sorted(CHANGES)), st.data())
def test_restricted_rotations_skip_turns_like_the_oracle(zone_key: str, data: Any) -> None:
    # One restricted rotation of distinct people with short turns, looked at inside its
    # windows, where the count of skipped turns decides who it is.
    zone = ZoneInfo(zone_key)
    focus = data.draw(st.sampled_from(CHANGES[zone_key]))
    around = focus.astimezone(zone).date()
    rotation = Rotation(
        tuple(data.draw(st.lists(st.sampled_from(PEOPLE), min_size=2, max_size=5, unique=True))),
        data.draw(st.sampled_from(SHORT_TURNS)),
        around - timedelta(days=data.draw(st.integers(0, 40))),
        data.draw(handoffs),
        1,
        tuple(data.draw(st.lists(restrictions(), min_size=1, max_size=2))),
    )
    schedule = Schedule(zone_key, (rotation,))
    span = Oracle(schedule, focus).layers[0].windows_near(around - timedelta(days=4), around)
    # Windows last up to three days: look far enough ahead for the last one to close.
    oracle = Oracle(schedule, focus + timedelta(days=5)).layers[0]
    for opens, closes in data.draw(st.lists(st.sampled_from(span), min_size=1, max_size=8)):
        begins, ends = first_instant(zone, opens), first_instant(zone, closes)
        if begins == ends:
            continue  # a window inside a gap
        t = begins + (ends - begins) * data.draw(st.floats(0, 0.999))
        assert key(on_call(schedule, t))[0] == oracle.person(t), t


@SETTINGS
@given(scenarios(), st.data())
def test_on_call_holds_over_its_whole_stretch(
    scenario: tuple[Schedule, datetime], data: Any
) -> None:
    schedule, focus = scenario
    for t in data.draw(instants(focus, count=10)):
        found = on_call(schedule, t)
        if found is None:
            continue
        assert found.start <= t < found.end
        assert found.start.tzinfo is UTC and found.end.tzinfo is UTC
        assert (found.layer is None) != (found.override is None)
        inside = found.start + (found.end - found.start) * data.draw(st.floats(0, 0.999))
        for probe in (found.start, found.end - SECOND, inside):
            assert on_call(schedule, probe) == found, probe


@SETTINGS
@given(scenarios(), st.data())
def test_final_shifts_and_gaps_tile_the_range_and_agree_with_on_call(
    scenario: tuple[Schedule, datetime], data: Any
) -> None:
    schedule, focus = scenario
    start, end = focus - RANGE, focus + RANGE
    shifts = final_shifts(schedule, start, end)
    holes = gaps(schedule, start, end)
    for shift in shifts:
        assert start <= shift.start < shift.end <= end
    for previous, following in itertools.pairwise(shifts):
        assert previous.end <= following.start
        if previous.end == following.start:
            assert previous.person != following.person  # touching pieces of one person merge
    for previous, following in itertools.pairwise(holes):
        assert previous.end < following.start  # touching gaps merge
    tiles = sorted([(s.start, s.end) for s in shifts] + [(g.start, g.end) for g in holes])
    assert tiles[0][0] == start and tiles[-1][1] == end
    for (_, a_end), (b_start, _) in itertools.pairwise(tiles):
        assert a_end == b_start
    for t in data.draw(instants(focus)):
        if not start <= t < end:
            continue
        found = on_call(schedule, t)
        covering = [s for s in shifts if s.start <= t < s.end]
        if found is None:
            assert not covering
            assert any(g.start <= t < g.end for g in holes)
        else:
            (shift,) = covering
            assert shift.person == found.person
            # The stretch lies within the final shift (which may merge several).
            assert shift.start <= max(found.start, start) and min(found.end, end) <= shift.end


@SETTINGS
@given(scenarios(), st.data())
def test_an_override_always_wins_inside_its_interval(
    scenario: tuple[Schedule, datetime], data: Any
) -> None:
    schedule, _ = scenario
    overrides = schedule.overrides
    for index, override in enumerate(overrides):
        for fraction in (0.0, data.draw(st.floats(0, 0.999)), None):
            t = (
                override.end - SECOND
                if fraction is None
                else override.start + (override.end - override.start) * fraction
            )
            winner = max(i for i, o in enumerate(overrides) if o.start <= t < o.end)
            assert winner >= index
            found = on_call(schedule, t)
            if overrides[winner].person is None:
                assert found is None
            else:
                assert found is not None
                assert (found.person, found.override) == (overrides[winner].person, winner)


@SETTINGS
@given(scenarios(restricted=False, overrides=False, layers=1))
def test_an_unrestricted_rotation_has_no_gaps_after_its_first_handoff(
    scenario: tuple[Schedule, datetime],
) -> None:
    schedule, focus = scenario
    first = Oracle(schedule, focus).layers[0].instants[0]
    start, end = focus - RANGE, focus + RANGE
    expected = [] if first <= start else [(start, min(first, end))]
    assert [(g.start, g.end) for g in gaps(schedule, start, end)] == expected


# Zones with unusual changes exercise the offset table: a 30-minute change (Lord Howe),
# a skipped calendar day (Samoa, 30 December 2011), a skipped midnight (Sao Paulo, 2018),
# Dublin's negative-DST rules, and the two zones above.
TURN_ZONES = [
    ("Europe/Berlin", date(2026, 3, 29)),
    ("Europe/Berlin", date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("Australia/Lord_Howe", date(2026, 4, 5)),
    ("Australia/Lord_Howe", date(2026, 10, 4)),
    ("Pacific/Apia", date(2011, 12, 30)),
    ("America/Sao_Paulo", date(2018, 11, 4)),
    ("Europe/Dublin", date(2026, 10, 25)),
]


@SETTINGS
@given(
    st.sampled_from(TURN_ZONES),
    st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4),
    st.sampled_from([("daily", 1), ("daily", 1), ("daily", 2), ("weekly", 1)]),
    handoffs,
    st.integers(0, 12),
)
def test_each_turn_lasts_the_wall_clock_recurrence(
    zone_and_day: tuple[str, date],
    people: list[str],
    recurrence: tuple[str, int],
    handoff: time,
    days_before: int,
) -> None:
    key_, change_day = zone_and_day
    zone = ZoneInfo(key_)
    kind, interval = recurrence
    period = timedelta(days=interval * (7 if kind == "weekly" else 1))
    rotation = Rotation(
        tuple(people), kind, change_day - timedelta(days=days_before), handoff, interval
    )
    schedule = Schedule(key_, (rotation,))
    wall = datetime.combine(rotation.start, handoff)
    for k in range(days_before // (7 if kind == "weekly" else 1) + 4):
        begins, ends = first_instant(zone, wall), first_instant(zone, wall + period)
        wall += period
        if begins == ends:
            continue  # both handoffs fall into one gap (Samoa's lost day): no real time
        found = on_call(schedule, begins)
        assert found is not None
        assert found.person == people[k % len(people)]
        assert (found.start, found.end) == (begins, ends)
        # A turn starts at the first instant whose local clock reads its handoff or later
        # (a handoff in a gap happens when the gap ends; in a repeated hour, the first time).
        assert local(zone, begins) >= wall - period > local(zone, begins - SECOND)
        assert begins.astimezone(zone).fold == 0
        if local(zone, begins) == wall - period and local(zone, ends) == wall:
            # Both handoffs exist: a wall-clock day (or week) less the change of offset.
            offset_after = ends.astimezone(zone).utcoffset()
            offset_before = begins.astimezone(zone).utcoffset()
            assert offset_after is not None and offset_before is not None
            assert ends - begins == period - (offset_after - offset_before)


def layers_alone(schedule: Schedule) -> list[Schedule]:
    """Each layer of `schedule` as a schedule of its own, without overrides."""
    return [Schedule(schedule.timezone, (layer,)) for layer in schedule.layers]


@SETTINGS
@given(scenarios(), st.data())
def test_paging_order_starts_with_the_person_on_call_and_cycles(
    scenario: tuple[Schedule, datetime], data: Any
) -> None:
    schedule, focus = scenario
    for t in data.draw(instants(focus, count=8)):
        order = paging_order(schedule, t)
        found = on_call(schedule, t)
        assert len(set(order)) == len(order)
        if found is None:
            assert order == ()
            assert next_on_call(schedule, t, "ann") is None
            continue
        assert order[0] == found.person
        everyone = {p for rotation in schedule.layers for p in rotation.people}
        assert set(order[1:]) <= everyone
        # Every layer's holder (the backups) comes before the rest of the rota.
        holders = {
            holder.person
            for holder in (on_call(alone, t) for alone in layers_alone(schedule))
            if holder is not None
        }
        assert holders <= set(order[: 1 + len(holders)])
        # Not acknowledging, one after another: everyone in the order once, then round again.
        seen = [order[0]]
        for _ in range(len(order)):
            following = next_on_call(schedule, t, seen[-1])
            if following is None:
                break
            assert following != seen[-1]
            seen.append(following)
        assert seen[: len(order)] == list(order)
        assert len(order) == 1 or seen[len(order)] == order[0]


@SETTINGS
@given(scenarios())
def test_spec_round_trip_is_identity(scenario: tuple[Schedule, datetime]) -> None:
    schedule, _ = scenario
    spec = schedule.to_spec()
    again = Schedule.from_spec(spec)
    assert again == schedule
    assert hash(again) == hash(schedule)
    assert again.to_spec() == spec
