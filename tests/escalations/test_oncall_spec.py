"""Specs of escalations.rules.oncall: canonical form, both restriction forms, YAML input,
strict validation with errors that name the offending part, and direct construction."""

from __future__ import annotations

import copy
import pickle
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import yaml

from escalations.rules.oncall import (
    Override,
    Restriction,
    Rotation,
    Schedule,
    on_call,
)

# Canonical: every key present, days in weekday order, times as HH:MM, instants in UTC.
SPEC: dict[str, Any] = {
    "timezone": "Europe/Berlin",
    "layers": [
        {
            "name": "round the clock",
            "people": ["sam", "tia"],
            "recurrence": "weekly",
            "interval": 1,
            "start": "2026-01-05",
            "handoff": "09:00",
            "restrictions": [],
        },
        {
            "name": "business hours",
            "people": ["pia", "quinn", "ray"],
            "recurrence": "daily",
            "interval": 1,
            "start": "2026-01-05",
            "handoff": "09:00",
            "restrictions": [
                {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"},
                {"from": "sat 10:00", "to": "mon 06:00"},
            ],
        },
        {
            "name": "",
            "people": ["x", "y"],
            "recurrence": "FREQ=WEEKLY;BYDAY=MO,TH",
            "start": "2026-01-05",
            "handoff": "08:30:15",
            "restrictions": [],
        },
    ],
    "overrides": [
        {
            "person": "dave",
            "start": "2026-03-28T23:00:00+00:00",
            "end": "2026-03-29T05:00:00+00:00",
        },
        {"person": None, "start": "2026-04-01T00:00:00+00:00", "end": "2026-04-02T00:00:00+00:00"},
    ],
}

MINIMAL_LAYER = {"people": ["a"], "recurrence": "daily", "start": "2026-01-05", "handoff": "09:00"}


def with_layer(**changes: object) -> dict[str, Any]:
    layer = {**MINIMAL_LAYER, **changes}
    layer = {k: v for k, v in layer.items() if v is not DROP}
    return {"timezone": "UTC", "layers": [layer]}


def with_restriction(restriction: object) -> dict[str, Any]:
    return with_layer(restrictions=[restriction])


def with_override(**changes: object) -> dict[str, Any]:
    override = {"person": "a", "start": "2026-01-05T00:00:00Z", "end": "2026-01-06T00:00:00Z"}
    override = {k: v for k, v in {**override, **changes}.items() if v is not DROP}
    return {"timezone": "UTC", "layers": [MINIMAL_LAYER], "overrides": [override]}


DROP = object()


# --------------------------------------------------------------------------- canonical form


def test_canonical_spec_round_trips_unchanged() -> None:
    schedule = Schedule.from_spec(SPEC)
    assert schedule.to_spec() == SPEC
    assert Schedule.from_spec(schedule.to_spec()) == schedule


def test_defaults_are_written_out() -> None:
    schedule = Schedule.from_spec({"timezone": "UTC", "layers": [MINIMAL_LAYER]})
    assert schedule.to_spec() == {
        "timezone": "UTC",
        "layers": [
            {
                "name": "",
                "people": ["a"],
                "recurrence": "daily",
                "interval": 1,
                "start": "2026-01-05",
                "handoff": "09:00",
                "restrictions": [],
            }
        ],
        "overrides": [],
    }


@pytest.mark.parametrize(
    ("given", "canonical", "days", "start", "length"),
    [
        (
            {"days": ["Friday", "MON"], "from": "9:00", "to": "18:00"},
            {"days": ["mon", "fri"], "from": "09:00", "to": "18:00"},
            (0, 4),
            time(9),
            timedelta(hours=9),
        ),
        (  # to before from: ends the next morning
            {"days": ["sat"], "from": "22:00", "to": "06:00"},
            {"days": ["sat"], "from": "22:00", "to": "06:00"},
            (5,),
            time(22),
            timedelta(hours=8),
        ),
        (  # to equal to from: 24 hours
            {"days": ["sun"], "from": "09:00", "to": "09:00"},
            {"days": ["sun"], "from": "09:00", "to": "09:00"},
            (6,),
            time(9),
            timedelta(hours=24),
        ),
        (
            {"days": ["sun"], "from": "00:00", "to": "24:00"},
            {"days": ["sun"], "from": "00:00", "to": "24:00"},
            (6,),
            time(0),
            timedelta(hours=24),
        ),
        (
            {"days": ["wed"], "from": "09:00:30", "to": "17:00"},
            {"days": ["wed"], "from": "09:00:30", "to": "17:00"},
            (2,),
            time(9, 0, 30),
            timedelta(hours=8) - timedelta(seconds=30),
        ),
        (  # the weekly form over a weekend
            {"from": "fri 18:00", "to": "Monday 09:00"},
            {"from": "fri 18:00", "to": "mon 09:00"},
            (4,),
            time(18),
            timedelta(hours=63),
        ),
        (  # a weekly form within one day is written in the daily form
            {"from": "Tuesday 10:00", "to": "tue 12:00"},
            {"days": ["tue"], "from": "10:00", "to": "12:00"},
            (1,),
            time(10),
            timedelta(hours=2),
        ),
        (  # the weekly form wraps into the next week; equal ends are a whole week
            {"from": "mon 09:00", "to": "mon 09:00"},
            {"from": "mon 09:00", "to": "mon 09:00"},
            (0,),
            time(9),
            timedelta(days=7),
        ),
        (
            {"from": "sun 20:00", "to": "mon 04:00"},
            {"days": ["sun"], "from": "20:00", "to": "04:00"},
            (6,),
            time(20),
            timedelta(hours=8),
        ),
    ],
)
def test_restriction_forms(
    given: dict, canonical: dict, days: tuple[int, ...], start: time, length: timedelta
) -> None:
    schedule = Schedule.from_spec(with_restriction(given))
    (restriction,) = schedule.layers[0].restrictions
    assert restriction == Restriction(days=days, start=start, length=length)
    assert schedule.to_spec()["layers"][0]["restrictions"] == [canonical]
    assert Schedule.from_spec(schedule.to_spec()) == schedule


def test_yaml_dates_and_instants_are_accepted() -> None:
    loaded = yaml.safe_load(
        """
        timezone: America/New_York
        layers:
          - people: [ann, ben]
            recurrence: daily
            start: 2026-03-06        # a date object
            handoff: "09:00"         # quoted: YAML 1.1 reads 9:00 as 540
        overrides:
          - person: cat
            start: 2026-03-08T07:00:00Z
            end: 2026-03-08 12:00:00-04:00
        """
    )
    schedule = Schedule.from_spec(loaded)
    assert schedule.layers[0].start == date(2026, 3, 6)
    assert schedule.overrides[0] == Override(
        "cat", datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 3, 8, 16, tzinfo=UTC)
    )


def test_override_instants_are_stored_in_utc_to_the_second() -> None:
    schedule = Schedule.from_spec(
        with_override(start="2026-03-29T03:00:00.75+02:00", end="2026-03-29T05:00:00Z")
    )
    (override,) = schedule.overrides
    assert override.start == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert override.start.tzinfo is UTC
    assert schedule.to_spec()["overrides"][0]["start"] == "2026-03-29T01:00:00+00:00"


def test_equal_hashable_picklable_and_repr_evaluates() -> None:
    first = Schedule.from_spec(SPEC)
    on_call(first, datetime(2026, 6, 1, tzinfo=UTC))  # warm its cache
    second = Schedule.from_spec(copy.deepcopy(SPEC))
    assert first == second
    assert hash(first) == hash(second)
    assert {first: 1}[second] == 1
    restored = pickle.loads(pickle.dumps(first))
    assert restored == first
    at = datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert on_call(restored, at) == on_call(first, at)
    assert eval(repr(first), {"Schedule": Schedule}) == first
    different = copy.deepcopy(SPEC)
    different["layers"][0]["people"] = ["tia", "sam"]
    assert Schedule.from_spec(different) != first


def test_a_schedule_of_overrides_only_is_allowed() -> None:
    # An imported calendar can be all overrides.
    schedule = Schedule.from_spec({"timezone": "UTC", "layers": [], "overrides": SPEC["overrides"]})
    assert on_call(schedule, datetime(2026, 3, 29, 1, tzinfo=UTC)).person == "dave"  # type: ignore[union-attr]
    assert on_call(schedule, datetime(2026, 3, 30, tzinfo=UTC)) is None


# --------------------------------------------------------------------------- strict errors

BAD_SPECS = [
    (["not", "a", "mapping"], "spec: expected a mapping, got list"),
    ({"timezone": "UTC", "layers": [], "layer": []}, 'spec: unknown key "layer"'),
    ({"layers": []}, 'spec: missing "timezone"'),
    ({"timezone": "UTC"}, 'spec: missing "layers"'),
    ({"timezone": "Mars/Base", "layers": []}, 'timezone: unknown time zone "Mars/Base"'),
    ({"timezone": "", "layers": []}, "timezone: expected an IANA zone name"),
    ({"timezone": "UTC", "layers": {"a": 1}}, "layers: expected a list, got dict"),
    ({"timezone": "UTC", "layers": ["daily"]}, "layers[0]: expected a mapping, got str"),
    (with_layer(handover="09:00"), 'layers[0]: unknown key "handover"'),
    (with_layer(people=DROP), 'layers[0]: missing "people"'),
    (with_layer(people=[]), "layers[0].people: at least one person is needed"),
    (with_layer(people="ann"), "layers[0].people: expected a list, got str"),
    (with_layer(people=["ann", 3]), "layers[0].people[1]: expected a non-empty name, got 3"),
    (with_layer(people=["ann", " "]), "layers[0].people[1]: expected a non-empty name"),
    (with_layer(people=[" ann"]), "layers[0].people[0]: ' ann' has spaces around it"),
    (with_layer(name=3), "layers[0].name: expected a string, got int"),
    (with_layer(recurrence="fortnightly"), 'layers[0].recurrence: "fortnightly" is not "daily"'),
    (with_layer(recurrence=7), 'layers[0].recurrence: expected "daily", "weekly" or an RRULE'),
    (with_layer(interval=0), "layers[0].interval: must be 1 to 1000, got 0"),
    (with_layer(interval="2"), "layers[0].interval: expected a whole number, got '2'"),
    (with_layer(interval=True), "layers[0].interval: expected a whole number, got True"),
    (
        with_layer(recurrence="FREQ=DAILY", interval=2),
        "layers[0].interval: not used with an RRULE; put INTERVAL= in the rule",
    ),
    (
        with_layer(recurrence="FREQ=DAILY;COUNT=3"),
        'layers[0].recurrence: "FREQ=DAILY;COUNT=3" has COUNT',
    ),
    (
        with_layer(recurrence="FREQ=DAILY;UNTIL=20270101T000000"),
        'layers[0].recurrence: "FREQ=DAILY;UNTIL=20270101T000000" has UNTIL',
    ),
    (with_layer(recurrence="BYDAY=MO"), 'layers[0].recurrence: "BYDAY=MO" has no FREQ'),
    (
        with_layer(recurrence="FREQ=DAILY;BYDAY"),
        'layers[0].recurrence: "FREQ=DAILY;BYDAY" is not an RRULE ("BYDAY" is not NAME=VALUE)',
    ),
    (
        with_layer(recurrence="FREQ=WEEKLY;BYDAY=XX"),
        'layers[0].recurrence: "FREQ=WEEKLY;BYDAY=XX" is not a valid RRULE',
    ),
    (
        with_layer(recurrence="FREQ=FORTNIGHTLY"),
        'layers[0].recurrence: "FREQ=FORTNIGHTLY" is not a valid RRULE',
    ),
    (
        with_layer(recurrence="FREQ=DAILY\nEXDATE:20260106T090000"),
        'layers[0].recurrence: "FREQ=DAILY\nEXDATE:20260106T090000" has several lines',
    ),
    (
        with_layer(recurrence="FREQ=MINUTELY;INTERVAL=30"),
        'layers[0].recurrence: "FREQ=MINUTELY;INTERVAL=30" hands off more often than hourly',
    ),
    (
        with_layer(recurrence="FREQ=HOURLY;BYMINUTE=0,20,40"),
        'layers[0].recurrence: "FREQ=HOURLY;BYMINUTE=0,20,40" hands off more than 3000 times '
        "a year",
    ),
    (
        # February never has a 30th; dateutil alone would search until the year 9999.
        with_layer(recurrence="FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"),
        'layers[0].recurrence: "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30" has no handoff in the five '
        "years after start",
    ),
    (
        with_layer(start="2026-3-2"),
        "layers[0].start: '2026-3-2' is not a date (expected YYYY-MM-DD)",
    ),
    (with_layer(start="2026-02-30"), 'layers[0].start: "2026-02-30" is not a date'),
    (
        with_layer(start=datetime(2026, 3, 2, 9)),
        "layers[0].start: datetime.datetime(2026, 3, 2, 9, 0) is a datetime",
    ),
    (with_layer(start="1850-01-01"), "layers[0].start: 1850-01-01 is outside the years 1900-2199"),
    (with_layer(start=DROP), 'layers[0]: missing "start"'),
    (
        with_layer(handoff="25:00"),
        'layers[0].handoff: "25:00" is not a time of day (00:00 to 23:59:59)',
    ),
    (with_layer(handoff="24:00"), 'layers[0].handoff: "24:00" is not a time of day'),
    (with_layer(handoff="09:60"), 'layers[0].handoff: "09:60" is not a time of day'),
    (with_layer(handoff="9am"), 'layers[0].handoff: "9am" is not a time such as "09:00"'),
    (
        with_layer(handoff=540),
        'layers[0].handoff: expected a "HH:MM" string, got int (quote times in YAML)',
    ),
    (
        with_layer(restrictions={"days": ["mon"]}),
        "layers[0].restrictions: expected a list, got dict",
    ),
    (with_restriction("weekdays"), "layers[0].restrictions[0]: expected a mapping, got str"),
    (
        with_restriction({"days": ["mon"], "from": "09:00", "to": "17:00", "tz": "UTC"}),
        'layers[0].restrictions[0]: unknown key "tz"',
    ),
    (
        with_restriction({"days": ["mon"], "from": "09:00"}),
        'layers[0].restrictions[0]: missing "to"',
    ),
    (
        with_restriction({"days": ["mon", "fry"], "from": "09:00", "to": "17:00"}),
        "layers[0].restrictions[0].days[1]: unknown day 'fry'",
    ),
    (
        with_restriction({"days": ["mon", "Monday"], "from": "09:00", "to": "17:00"}),
        'layers[0].restrictions[0].days[1]: "Monday" given twice',
    ),
    (
        with_restriction({"days": [], "from": "09:00", "to": "17:00"}),
        "layers[0].restrictions[0].days: at least one day is needed",
    ),
    (
        with_restriction({"days": "mon", "from": "09:00", "to": "17:00"}),
        "layers[0].restrictions[0].days: expected a list, got str",
    ),
    (
        with_restriction({"days": ["mon"], "from": "24:00", "to": "17:00"}),
        'layers[0].restrictions[0].from: "24:00" is not a time of day (00:00 to 23:59:59)',
    ),
    (
        with_restriction({"days": ["mon"], "from": "09:00", "to": "24:01"}),
        'layers[0].restrictions[0].to: "24:01" is not a time of day (00:00 to 24:00)',
    ),
    (
        with_restriction({"from": "friday", "to": "mon 09:00"}),
        'layers[0].restrictions[0].from: "friday" is not a day and time such as "fri 18:00"',
    ),
    (
        with_restriction({"from": "fri 18:00", "to": "someday 09:00"}),
        'layers[0].restrictions[0].to: "someday 09:00" is not a day and time',
    ),
    (
        with_restriction({"from": "fri 18:00", "to": "mon 24:00"}),
        'layers[0].restrictions[0].to: "24:00" is not a time of day',
    ),
    (
        with_restriction({"from": "fri 18:00", "to": "mon 09:00", "days": None}),
        "layers[0].restrictions[0].days: expected a list, got NoneType",
    ),
    (with_restriction({"from": "fri 18:00"}), 'layers[0].restrictions[0]: missing "to"'),
    ({"timezone": "UTC", "layers": [], "overrides": {}}, "overrides: expected a list, got dict"),
    (with_override(end=DROP), 'overrides[0]: missing "end"'),
    (with_override(person=3), "overrides[0].person: expected a name or null (nobody), got int"),
    (with_override(person=""), "overrides[0].person: expected a non-empty name, got ''"),
    (
        with_override(start="2026-01-05T00:00:00"),
        'overrides[0].start: "2026-01-05T00:00:00" has no UTC offset (add "+00:00" or "Z")',
    ),
    (with_override(start="next monday"), 'overrides[0].start: "next monday" is not an ISO instant'),
    (
        with_override(start=date(2026, 1, 5)),
        "overrides[0].start: expected an ISO instant string, got date",
    ),
    (
        with_override(end="2026-01-05T00:00:00Z"),
        "overrides[0].end: 2026-01-05T00:00:00+00:00 is not after start",
    ),
    (
        with_override(end="3026-01-05T00:00:00Z"),
        "overrides[0].end: 3026-01-05T00:00:00+00:00 is outside",
    ),
]


@pytest.mark.parametrize(("spec", "message"), BAD_SPECS, ids=[m for _, m in BAD_SPECS])
def test_bad_specs_name_the_offending_part(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        Schedule.from_spec(spec)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- constructors


def rotation(**changes: Any) -> Rotation:
    fields: dict[str, Any] = {
        "people": ("a", "b"),
        "recurrence": "daily",
        "start": date(2026, 1, 5),
        "handoff": time(9),
    }
    return Rotation(**{**fields, **changes})


def test_constructors_normalise_lists_to_tuples() -> None:
    made = rotation(
        people=["a", "b"], restrictions=[Restriction([4, 0], time(9), timedelta(hours=8))]
    )
    assert made.people == ("a", "b")
    assert made.restrictions == (Restriction((0, 4), time(9), timedelta(hours=8)),)
    schedule = Schedule("UTC", [made], [])  # type: ignore[arg-type]
    assert schedule.layers == (made,)
    assert hash(schedule) == hash(Schedule("UTC", (made,)))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Restriction((), time(9), timedelta(hours=1)), "days: at least one day is needed"),
        (lambda: Restriction((7,), time(9), timedelta(hours=1)), "days: 7 is not a weekday number"),
        (lambda: Restriction((1, 1), time(9), timedelta(hours=1)), "days: [1, 1] repeats a day"),
        (
            lambda: Restriction((0, 1), time(9), timedelta(hours=25)),
            "length: 1 day, 1:00:00 is longer than a day (write a window per day)",
        ),
        (
            lambda: Restriction((0,), time(9), timedelta(days=7, seconds=1)),
            "length: 7 days, 0:00:01 is longer than a week",
        ),
        (lambda: Restriction((0,), time(9), timedelta(0)), "length: must be positive"),
        (
            lambda: Restriction((0,), time(9), timedelta(hours=1, microseconds=5)),
            "length: 1:00:00.000005 is not a whole number of seconds",
        ),
        (
            lambda: Restriction((0,), time(9, tzinfo=UTC), timedelta(hours=1)),
            "start: 09:00:00+00:00 carries a time zone",
        ),
        (lambda: rotation(people="ab"), "people: expected a list of names, got str"),
        (lambda: rotation(handoff="09:00"), "handoff: expected a time of day, got str"),
        (lambda: rotation(handoff=time(9, 0, 0, 5)), "handoff: 09:00:00.000005 has microseconds"),
        (lambda: rotation(start=datetime(2026, 1, 5)), "start: expected a date, got datetime"),
        (
            lambda: rotation(restrictions=[{"days": [0]}]),
            "restrictions[0]: expected a Restriction, got dict",
        ),
        (
            lambda: Override("a", datetime(2026, 1, 5), datetime(2026, 1, 6, tzinfo=UTC)),
            "start: naive datetime 2026-01-05T00:00:00",
        ),
        (
            lambda: Schedule("UTC", [MINIMAL_LAYER]),  # type: ignore[list-item]
            "layers[0]: expected a Rotation or ShiftLayer, got dict",
        ),
        (lambda: Schedule("UTC", overrides="none"), "overrides: expected a list, got str"),  # type: ignore[arg-type]
        (lambda: Schedule("Nowhere/Land"), 'timezone: unknown time zone "Nowhere/Land"'),
    ],
)
def test_constructors_validate(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        make()
