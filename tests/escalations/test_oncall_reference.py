"""Reference cases for escalations.rules.oncall, worked out by hand from a printed calendar.

March 2026: Monday the 2nd, 9th, 16th, 23rd, 30th; Sunday the 8th (the US springs forward:
02:00 EST -> 03:00 EDT, at 07:00 UTC) and the 29th (the EU springs forward: 02:00 CET ->
03:00 CEST, at 01:00 UTC). October 2026: Monday the 19th and 26th; Sunday the 25th (the EU
falls back: 03:00 CEST -> 02:00 CET, at 01:00 UTC). Sunday 1 November 2026: the US falls
back, 02:00 EDT -> 01:00 EST, at 06:00 UTC. CET = UTC+1, CEST = UTC+2, EST = UTC-5,
EDT = UTC-4. Each expected instant is written in UTC with the local reading beside it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from escalations.rules.oncall import (
    Gap,
    OnCall,
    Schedule,
    Shift,
    final_shifts,
    gaps,
    next_on_call,
    on_call,
    paging_order,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN, fold=fold)  # type: ignore[misc]


def new_york(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK, fold=fold)  # type: ignore[misc]


def layer(people: list[str], recurrence: str, start: str, handoff: str, **extra: object) -> dict:
    return {
        "people": people,
        "recurrence": recurrence,
        "start": start,
        "handoff": handoff,
        **extra,
    }


def schedule(zone: str, *layers: dict, overrides: list[dict] | None = None) -> Schedule:
    return Schedule.from_spec(
        {"timezone": zone, "layers": list(layers), "overrides": overrides or []}
    )


def who(s: Schedule, at: datetime) -> str | None:
    found = on_call(s, at)
    return None if found is None else found.person


# --------------------------------------------------------------------------- weekly, Berlin

# A, B, C hand over on Mondays at 09:00 Berlin time, A first on Monday 2 March 2026:
# 2 Mar A, 9 Mar B, 16 Mar C, 23 Mar A, 30 Mar B, 6 Apr C; 19 Oct is 231 days (33 weeks)
# after 2 March, so A again (33 % 3 == 0), 26 Oct B, 12 Oct C.
WEEKLY_BERLIN = schedule("Europe/Berlin", layer(["A", "B", "C"], "weekly", "2026-03-02", "09:00"))


def test_weekly_turn_across_spring_forward_is_167_hours() -> None:
    # 23 Mar 09:00 CET = 08:00Z; 30 Mar 09:00 CEST = 07:00Z.
    expected = OnCall("A", utc(2026, 3, 23, 8), utc(2026, 3, 30, 7), layer=0)
    assert on_call(WEEKLY_BERLIN, berlin(2026, 3, 29, 3, 0)) == expected  # Sunday 03:00 CEST
    assert on_call(WEEKLY_BERLIN, utc(2026, 3, 30, 6, 59, 59)) == expected  # Mon 08:59:59 CEST
    assert expected.end - expected.start == timedelta(hours=167)
    assert on_call(WEEKLY_BERLIN, berlin(2026, 3, 30, 9, 0)) == OnCall(
        "B", utc(2026, 3, 30, 7), utc(2026, 4, 6, 7), layer=0
    )


def test_weekly_turn_across_fall_back_is_169_hours() -> None:
    # 19 Oct 09:00 CEST = 07:00Z; 26 Oct 09:00 CET = 08:00Z.
    expected = OnCall("A", utc(2026, 10, 19, 7), utc(2026, 10, 26, 8), layer=0)
    assert on_call(WEEKLY_BERLIN, berlin(2026, 10, 25, 2, 30, fold=0)) == expected  # 00:30Z
    assert on_call(WEEKLY_BERLIN, berlin(2026, 10, 25, 2, 30, fold=1)) == expected  # 01:30Z
    assert on_call(WEEKLY_BERLIN, berlin(2026, 10, 26, 8, 59)) == expected
    assert expected.end - expected.start == timedelta(hours=169)
    assert who(WEEKLY_BERLIN, berlin(2026, 10, 19, 8, 59)) == "C"
    assert who(WEEKLY_BERLIN, berlin(2026, 10, 26, 9, 0)) == "B"


def test_weekly_final_shifts_are_clipped_to_the_range() -> None:
    assert final_shifts(WEEKLY_BERLIN, utc(2026, 3, 16), utc(2026, 4, 13)) == [
        Shift("B", utc(2026, 3, 16), utc(2026, 3, 16, 8)),  # from 9 Mar 09:00 CET
        Shift("C", utc(2026, 3, 16, 8), utc(2026, 3, 23, 8)),
        Shift("A", utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)),
        Shift("B", utc(2026, 3, 30, 7), utc(2026, 4, 6, 7)),
        Shift("C", utc(2026, 4, 6, 7), utc(2026, 4, 13)),
    ]
    assert gaps(WEEKLY_BERLIN, utc(2026, 3, 16), utc(2026, 4, 13)) == []


def test_nobody_before_the_first_handoff() -> None:
    assert on_call(WEEKLY_BERLIN, berlin(2026, 3, 2, 8, 59, 59)) is None
    assert gaps(WEEKLY_BERLIN, utc(2026, 3, 1), utc(2026, 3, 3)) == [
        Gap(utc(2026, 3, 1), utc(2026, 3, 2, 8))
    ]
    assert paging_order(WEEKLY_BERLIN, utc(2026, 3, 1)) == ()
    assert next_on_call(WEEKLY_BERLIN, utc(2026, 3, 1), "A") is None


# --------------------------------------------------------------------------- daily, New York


def test_daily_0900_in_new_york_lasts_23_hours_on_the_spring_forward_day() -> None:
    # ann 6 Mar, ben 7 Mar, cat 8 Mar, ann 9 Mar. 7 Mar 09:00 EST = 14:00Z, 8 Mar 09:00 EDT
    # = 13:00Z, 9 Mar 09:00 EDT = 13:00Z.
    s = schedule("America/New_York", layer(["ann", "ben", "cat"], "daily", "2026-03-06", "09:00"))
    assert on_call(s, new_york(2026, 3, 8, 3, 0)) == OnCall(
        "ben", utc(2026, 3, 7, 14), utc(2026, 3, 8, 13), layer=0
    )
    assert on_call(s, new_york(2026, 3, 8, 9, 0)) == OnCall(
        "cat", utc(2026, 3, 8, 13), utc(2026, 3, 9, 13), layer=0
    )
    # 31 Oct is 239 days after 6 Mar (239 % 3 == 2): cat, 09:00 EDT = 13:00Z, until 1 Nov
    # 09:00 EST = 14:00Z (25 hours); then ann.
    assert on_call(s, new_york(2026, 11, 1, 1, 30, fold=1)) == OnCall(
        "cat", utc(2026, 10, 31, 13), utc(2026, 11, 1, 14), layer=0
    )
    assert who(s, utc(2026, 11, 1, 14)) == "ann"


def test_daily_handoff_inside_the_spring_gap_happens_when_the_gap_ends() -> None:
    # 02:30 does not exist on 8 March in New York: the handoff is at 03:00 EDT = 07:00Z.
    # 7 Mar 02:30 EST = 07:30Z (ben), 9 Mar 02:30 EDT = 06:30Z (ben again).
    s = schedule("America/New_York", layer(["ann", "ben"], "daily", "2026-03-06", "02:30"))
    assert on_call(s, utc(2026, 3, 8, 6, 59, 59)) == OnCall(
        "ben", utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7), layer=0
    )
    assert on_call(s, new_york(2026, 3, 8, 3, 0)) == OnCall(
        "ann", utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30), layer=0
    )
    # In November 02:30 comes after the repeated hour: 31 Oct 02:30 EDT = 06:30Z (239 days:
    # ben) until 1 Nov 02:30 EST = 07:30Z, 25 hours.
    assert on_call(s, new_york(2026, 11, 1, 1, 59, fold=1)) == OnCall(
        "ben", utc(2026, 10, 31, 6, 30), utc(2026, 11, 1, 7, 30), layer=0
    )


def test_daily_handoff_in_the_repeated_hour_happens_at_its_first_occurrence() -> None:
    # 01:30 on 1 November happens twice; the handoff is the first, 01:30 EDT = 05:30Z.
    # 31 Oct (ben) 01:30 EDT = 05:30Z; 2 Nov 01:30 EST = 06:30Z.
    s = schedule("America/New_York", layer(["ann", "ben"], "daily", "2026-03-06", "01:30"))
    assert on_call(s, new_york(2026, 11, 1, 1, 15, fold=0)) == OnCall(  # 05:15Z
        "ben", utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), layer=0
    )
    ann = OnCall("ann", utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30), layer=0)
    assert on_call(s, new_york(2026, 11, 1, 1, 15, fold=1)) == ann  # 06:15Z, after the handoff
    assert on_call(s, new_york(2026, 11, 1, 1, 30, fold=1)) == ann
    assert ann.end - ann.start == timedelta(hours=25)
    # March: 01:30 EST exists on the 8th (06:30Z, turn 2: ann); 9 Mar 01:30 EDT = 05:30Z:
    # 23 hours.
    assert on_call(s, new_york(2026, 3, 8, 12, 0)) == OnCall(
        "ann", utc(2026, 3, 8, 6, 30), utc(2026, 3, 9, 5, 30), layer=0
    )


# --------------------------------------------------------------------------- two layers

# Bottom: sam and tia, weekly from Monday 2 March 09:00 (23 Mar tia, 30 Mar sam).
# Top: pia, quinn, ray, daily at 09:00 but only on weekdays 09:00-18:00; weekend turns are
# skipped. Weekday turns from 2 March: 18 before Thursday 26 March, so pia (18 % 3 == 0),
# Friday 27 quinn, Monday 30 ray, Tuesday 31 pia.
PRIMARY_SECONDARY = {
    "timezone": "Europe/Berlin",
    "layers": [
        layer(["sam", "tia"], "weekly", "2026-03-02", "09:00", name="secondary"),
        layer(
            ["pia", "quinn", "ray"],
            "daily",
            "2026-03-02",
            "09:00",
            name="primary",
            restrictions=[{"days": WEEKDAYS, "from": "09:00", "to": "18:00"}],
        ),
    ],
}


def primary_secondary(overrides: list[dict] | None = None) -> Schedule:
    return Schedule.from_spec({**PRIMARY_SECONDARY, "overrides": overrides or []})


def test_primary_in_business_hours_secondary_otherwise_across_spring_forward() -> None:
    s = primary_secondary()
    # Thursday 26 March 00:00 CET (25 Mar 23:00Z) to Wednesday 1 April 00:00 CEST (31 Mar 22:00Z).
    assert final_shifts(s, utc(2026, 3, 25, 23), utc(2026, 3, 31, 22)) == [
        Shift("tia", utc(2026, 3, 25, 23), utc(2026, 3, 26, 8)),
        Shift("pia", utc(2026, 3, 26, 8), utc(2026, 3, 26, 17)),  # 09:00-18:00 CET
        Shift("tia", utc(2026, 3, 26, 17), utc(2026, 3, 27, 8)),
        Shift("quinn", utc(2026, 3, 27, 8), utc(2026, 3, 27, 17)),
        # The weekend, through the change to summer time, until Monday 09:00 CEST.
        Shift("tia", utc(2026, 3, 27, 17), utc(2026, 3, 30, 7)),
        Shift("ray", utc(2026, 3, 30, 7), utc(2026, 3, 30, 16)),  # 09:00-18:00 CEST
        Shift("sam", utc(2026, 3, 30, 16), utc(2026, 3, 31, 7)),
        Shift("pia", utc(2026, 3, 31, 7), utc(2026, 3, 31, 16)),
        Shift("sam", utc(2026, 3, 31, 16), utc(2026, 3, 31, 22)),
    ]
    assert on_call(s, berlin(2026, 3, 27, 17, 59)) == OnCall(
        "quinn", utc(2026, 3, 27, 8), utc(2026, 3, 27, 17), layer=1
    )
    # At 18:00 the layer below shows through until the top layer's next window.
    assert on_call(s, berlin(2026, 3, 27, 18, 0)) == OnCall(
        "tia", utc(2026, 3, 27, 17), utc(2026, 3, 30, 7), layer=0
    )


def test_paging_order_pages_the_backup_then_the_layer_that_has_someone() -> None:
    s = primary_secondary()
    friday = berlin(2026, 3, 27, 10, 0)
    # quinn is on call; tia holds the secondary layer; then the rest of quinn's rota.
    assert paging_order(s, friday) == ("quinn", "tia", "ray", "pia")
    assert next_on_call(s, friday, "quinn") == "tia"
    assert next_on_call(s, friday, "tia") == "ray"
    assert next_on_call(s, friday, "pia") == "quinn"  # wraps round
    assert next_on_call(s, friday, "sam") == "quinn"  # not in the order: the first
    saturday = berlin(2026, 3, 28, 12, 0)
    assert paging_order(s, saturday) == ("tia", "sam")
    assert next_on_call(s, saturday, "tia") == "sam"


# --------------------------------------------------------------------------- overrides


def test_override_covers_0300_on_the_sunday_clocks_spring_forward() -> None:
    # dave from Sunday 00:00 CET (Sat 23:00Z) to 07:00 CEST (05:00Z); 03:00 CEST is 01:00Z,
    # the very instant the clocks jump from 02:00 CET.
    dave = {"person": "dave", "start": "2026-03-28T23:00:00Z", "end": "2026-03-29T07:00:00+02:00"}
    s = primary_secondary([dave])
    assert on_call(s, berlin(2026, 3, 29, 3, 0)) == OnCall(
        "dave", utc(2026, 3, 28, 23), utc(2026, 3, 29, 5), override=0
    )
    assert on_call(s, utc(2026, 3, 28, 22, 59, 59)) == OnCall(
        "tia", utc(2026, 3, 27, 17), utc(2026, 3, 28, 23), layer=0
    )
    assert on_call(s, utc(2026, 3, 29, 5)) == OnCall(
        "tia", utc(2026, 3, 29, 5), utc(2026, 3, 30, 7), layer=0
    )
    # Paging at 03:00: dave first, then the layer below's rotation from its holder.
    assert paging_order(s, berlin(2026, 3, 29, 3, 0)) == ("dave", "tia", "sam")
    assert next_on_call(s, berlin(2026, 3, 29, 3, 0), "dave") == "tia"


def test_a_later_override_wins_where_two_overlap() -> None:
    dave = {"person": "dave", "start": "2026-03-28T23:00:00Z", "end": "2026-03-29T05:00:00Z"}
    erin = {"person": "erin", "start": "2026-03-29T00:30:00Z", "end": "2026-03-29T01:30:00Z"}
    s = primary_secondary([dave, erin])
    assert final_shifts(s, utc(2026, 3, 28, 22), utc(2026, 3, 29, 6)) == [
        Shift("tia", utc(2026, 3, 28, 22), utc(2026, 3, 28, 23)),
        Shift("dave", utc(2026, 3, 28, 23), utc(2026, 3, 29, 0, 30)),
        Shift("erin", utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30)),
        Shift("dave", utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 5)),
        Shift("tia", utc(2026, 3, 29, 5), utc(2026, 3, 29, 6)),
    ]
    assert on_call(s, berlin(2026, 3, 29, 3, 0)) == OnCall(
        "erin", utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30), override=1
    )
    # Listed the other way round, dave (now the later) hides erin entirely.
    s = primary_secondary([erin, dave])
    assert [
        shift.person for shift in final_shifts(s, utc(2026, 3, 28, 22), utc(2026, 3, 29, 6))
    ] == [
        "tia",
        "dave",
        "tia",
    ]


def test_override_with_nobody_is_a_gap() -> None:
    leave = {"person": None, "start": "2026-03-29T05:00:00Z", "end": "2026-03-29T06:00:00Z"}
    s = primary_secondary([leave])
    assert on_call(s, utc(2026, 3, 29, 5, 30)) is None
    assert gaps(s, utc(2026, 3, 29), utc(2026, 3, 30)) == [
        Gap(utc(2026, 3, 29, 5), utc(2026, 3, 29, 6))
    ]


def test_override_covers_0300_on_the_sunday_new_york_falls_back() -> None:
    # Daily 09:00 from 6 March: 31 Oct cat (09:00 EDT = 13:00Z) until 1 Nov 09:00 EST = 14:00Z.
    # dan from 02:00 EST (07:00Z) to 04:00 EST (09:00Z); 03:00 EST is 08:00Z.
    s = schedule(
        "America/New_York",
        layer(["ann", "ben", "cat"], "daily", "2026-03-06", "09:00"),
        overrides=[
            {"person": "dan", "start": "2026-11-01T02:00:00-05:00", "end": "2026-11-01T09:00:00Z"}
        ],
    )
    assert on_call(s, new_york(2026, 11, 1, 3, 0)) == OnCall(
        "dan", utc(2026, 11, 1, 7), utc(2026, 11, 1, 9), override=0
    )
    assert on_call(s, new_york(2026, 11, 1, 1, 59, fold=1)) == OnCall(  # 06:59Z
        "cat", utc(2026, 10, 31, 13), utc(2026, 11, 1, 7), layer=0
    )
    assert next_on_call(s, new_york(2026, 11, 1, 3, 0), "dan") == "cat"
    assert next_on_call(s, new_york(2026, 11, 1, 3, 0), "cat") == "ann"


# --------------------------------------------------------------------------- restrictions


def test_turns_that_cover_no_window_are_skipped_and_consume_nobody() -> None:
    # Daily at 09:00 from Monday 23 March, on call only Tuesdays and Thursdays 10:00-12:00.
    # Mon's turn (to Tue 09:00) covers no window: skipped. Tue 24 A, Thu 26 B, Tue 31 C,
    # Thu 2 Apr A. Without the skipping, Tuesday's turn would have been B's.
    s = schedule(
        "Europe/Berlin",
        layer(
            ["A", "B", "C"],
            "daily",
            "2026-03-23",
            "09:00",
            restrictions=[{"days": ["tue", "thu"], "from": "10:00", "to": "12:00"}],
        ),
    )
    assert final_shifts(s, utc(2026, 3, 23), utc(2026, 4, 3)) == [
        Shift("A", utc(2026, 3, 24, 9), utc(2026, 3, 24, 11)),  # 10:00-12:00 CET
        Shift("B", utc(2026, 3, 26, 9), utc(2026, 3, 26, 11)),
        Shift("C", utc(2026, 3, 31, 8), utc(2026, 3, 31, 10)),  # 10:00-12:00 CEST
        Shift("A", utc(2026, 4, 2, 8), utc(2026, 4, 2, 10)),
    ]
    assert gaps(s, utc(2026, 3, 24), utc(2026, 3, 25)) == [
        Gap(utc(2026, 3, 24), utc(2026, 3, 24, 9)),
        Gap(utc(2026, 3, 24, 11), utc(2026, 3, 25)),
    ]
    assert on_call(s, berlin(2026, 3, 31, 11, 59)) == OnCall(
        "C", utc(2026, 3, 31, 8), utc(2026, 3, 31, 10), layer=0
    )


def test_weekend_window_in_the_weekly_form_across_spring_forward() -> None:
    # Weekend cover Friday 18:00 to Monday 08:00, weekly turns at Friday 12:00 from 20 March:
    # 20 Mar kim, 27 Mar lee. Fri 27 Mar 18:00 CET = 17:00Z; Mon 30 Mar 08:00 CEST = 06:00Z.
    s = schedule(
        "Europe/Berlin",
        layer(
            ["kim", "lee"],
            "weekly",
            "2026-03-20",
            "12:00",
            restrictions=[{"from": "fri 18:00", "to": "mon 08:00"}],
        ),
    )
    assert final_shifts(s, utc(2026, 3, 20), utc(2026, 4, 4)) == [
        Shift("kim", utc(2026, 3, 20, 17), utc(2026, 3, 23, 7)),  # 62 hours
        Shift("lee", utc(2026, 3, 27, 17), utc(2026, 3, 30, 6)),  # 61 hours
        Shift("kim", utc(2026, 4, 3, 16), utc(2026, 4, 4)),  # 18:00 CEST
    ]


# --------------------------------------------------------------------------- RRULE


def test_rrule_monday_and_thursday_handoffs_across_spring_forward() -> None:
    # FREQ=WEEKLY;BYDAY=MO,TH from Monday 2 March 09:00: x 2 Mar, y 5, z 9, x 12, y 16, z 19,
    # x 23, y 26, z 30 Mar, x 2 Apr. y: Thu 26 Mar 09:00 CET (08:00Z) to Mon 30 Mar 09:00
    # CEST (07:00Z), 95 hours.
    s = schedule(
        "Europe/Berlin",
        layer(["x", "y", "z"], "FREQ=WEEKLY;BYDAY=MO,TH", "2026-03-02", "09:00"),
    )
    assert on_call(s, berlin(2026, 3, 29, 3, 0)) == OnCall(
        "y", utc(2026, 3, 26, 8), utc(2026, 3, 30, 7), layer=0
    )
    assert final_shifts(s, utc(2026, 3, 23), utc(2026, 4, 3)) == [
        Shift("z", utc(2026, 3, 23), utc(2026, 3, 23, 8)),
        Shift("x", utc(2026, 3, 23, 8), utc(2026, 3, 26, 8)),
        Shift("y", utc(2026, 3, 26, 8), utc(2026, 3, 30, 7)),
        Shift("z", utc(2026, 3, 30, 7), utc(2026, 4, 2, 7)),
        Shift("x", utc(2026, 4, 2, 7), utc(2026, 4, 3)),
    ]
    # Far from the start: 29 Oct is a Thursday, 34 weeks after 5 March, so 2 * 34 + 1 = 69
    # handoffs after the first (69 % 3 == 0): x, from 09:00 CET (08:00Z) to Mon 2 Nov 08:00Z.
    assert on_call(s, utc(2026, 10, 30)) == OnCall(
        "x", utc(2026, 10, 29, 8), utc(2026, 11, 2, 8), layer=0
    )


def test_rrule_start_that_does_not_match_waits_for_the_first_occurrence() -> None:
    # Start Wednesday 4 March: the first handoff is Thursday 5 March 09:00 CET (08:00Z).
    s = schedule(
        "Europe/Berlin",
        layer(["x", "y"], "FREQ=WEEKLY;BYDAY=MO,TH", "2026-03-04", "09:00"),
    )
    assert on_call(s, berlin(2026, 3, 4, 12, 0)) is None
    assert on_call(s, berlin(2026, 3, 5, 9, 0)) == OnCall(
        "x", utc(2026, 3, 5, 8), utc(2026, 3, 9, 8), layer=0
    )


def test_rrule_turns_that_cover_no_window_are_skipped() -> None:
    # Monday and Thursday handoffs at 09:00 from 2 March, on call only Saturdays 10:00-14:00:
    # every Monday-to-Thursday turn covers no Saturday and is skipped, so x and y take the
    # Thursday-to-Monday turns in turn (counted over all turns, y would get every one).
    s = schedule(
        "Europe/Berlin",
        layer(
            ["x", "y"],
            "FREQ=WEEKLY;BYDAY=MO,TH",
            "2026-03-02",
            "09:00",
            restrictions=[{"days": ["sat"], "from": "10:00", "to": "14:00"}],
        ),
    )
    assert final_shifts(s, utc(2026, 3, 2), utc(2026, 4, 5)) == [
        Shift("x", utc(2026, 3, 7, 9), utc(2026, 3, 7, 13)),  # 10:00-14:00 CET
        Shift("y", utc(2026, 3, 14, 9), utc(2026, 3, 14, 13)),
        Shift("x", utc(2026, 3, 21, 9), utc(2026, 3, 21, 13)),
        Shift("y", utc(2026, 3, 28, 9), utc(2026, 3, 28, 13)),
        Shift("x", utc(2026, 4, 4, 8), utc(2026, 4, 4, 12)),  # 10:00-14:00 CEST
    ]


def test_rrule_every_third_day_on_mondays_and_thursdays() -> None:
    # Every third day from Monday 2 March, kept on Mondays and Thursdays: 2 Mar (Mon),
    # 5 (Thu), then 8 Sun, 11 Wed, 14 Sat, 17 Tue, 20 Fri are dropped, 23 (Mon), 26 (Thu),
    # then nothing until 13 April (Mon) and 16 (Thu): the pattern repeats every 21 days.
    s = schedule(
        "Europe/Berlin",
        layer(["p", "q"], "FREQ=DAILY;INTERVAL=3;BYDAY=MO,TH", "2026-03-02", "09:00"),
    )
    assert final_shifts(s, utc(2026, 3, 2), utc(2026, 4, 20)) == [
        Shift("p", utc(2026, 3, 2, 8), utc(2026, 3, 5, 8)),
        Shift("q", utc(2026, 3, 5, 8), utc(2026, 3, 23, 8)),
        Shift("p", utc(2026, 3, 23, 8), utc(2026, 3, 26, 8)),
        Shift("q", utc(2026, 3, 26, 8), utc(2026, 4, 13, 7)),  # 09:00 CEST
        Shift("p", utc(2026, 4, 13, 7), utc(2026, 4, 16, 7)),
        Shift("q", utc(2026, 4, 16, 7), utc(2026, 4, 20)),
    ]


@pytest.mark.parametrize(
    ("wkst", "days"),
    [
        # Weeks from Sunday: Wed 4 Mar's week is 1-7 March (Sunday the 1st is before the
        # start), then the weeks of 15 and 29 March: Sun 15, Wed 18, Sun 29, Wed 1 Apr.
        ("SU", [4, 15, 18, 29, 32]),
        # Weeks from Monday: 2-8 March holds Wed 4 and Sun 8, then the weeks of 16 and 30
        # March: Wed 18, Sun 22, Wed 1 Apr, Sun 5 Apr.
        ("MO", [4, 8, 18, 22, 32, 36]),
    ],
)
def test_rrule_fortnightly_weeks_start_on_wkst(wkst: str, days: list[int]) -> None:
    s = schedule(
        "UTC",
        layer(["a", "b"], f"FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,WE;WKST={wkst}", "2026-03-04", "09:00"),
    )
    shifts = final_shifts(s, utc(2026, 3, 1), utc(2026, 4, 7))
    march = [(shift.start - utc(2026, 2, 28)).days for shift in shifts]
    assert march == days
    assert [shift.person for shift in shifts] == ["a", "b"] * (len(days) // 2) + ["a"] * (
        len(days) % 2
    )
    assert all(shift.start.hour == 9 for shift in shifts)


def test_rrule_byhour_before_the_start_time_begins_the_next_day() -> None:
    # DTSTART Monday 2 March 09:00 with BYHOUR=7: 07:00 that Monday is before DTSTART, so
    # the first handoff is Tuesday 07:00 CET (06:00Z), then daily.
    s = schedule("Europe/Berlin", layer(["a", "b"], "FREQ=DAILY;BYHOUR=7", "2026-03-02", "09:00"))
    assert on_call(s, utc(2026, 3, 3, 5, 59, 59)) is None
    tuesday = OnCall("a", utc(2026, 3, 3, 6), utc(2026, 3, 4, 6), layer=0)
    assert on_call(s, utc(2026, 3, 3, 6)) == tuesday
    assert on_call(s, berlin(2026, 3, 4, 3, 0)) == tuesday  # before Wednesday's 07:00
    assert who(s, berlin(2026, 3, 30, 7, 0)) == "b"  # 28 days later: turn 28


def test_restricted_rule_starting_between_its_handoff_days() -> None:
    # Mondays and Thursdays at 09:00, first on Thursday 5 March (the start, Wednesday 4, is
    # between them), on call Tuesdays and Saturdays 10:00-12:00, so every turn covers a
    # window: Thu 5 x (Sat 7), Mon 9 y (Tue 10), Thu 12 x (Sat 14), Mon 16 y (Tue 17).
    s = schedule(
        "Europe/Berlin",
        layer(
            ["x", "y"],
            "FREQ=WEEKLY;BYDAY=MO,TH",
            "2026-03-04",
            "09:00",
            restrictions=[{"days": ["tue", "sat"], "from": "10:00", "to": "12:00"}],
        ),
    )
    assert [(s.person, s.start) for s in final_shifts(s, utc(2026, 3, 1), utc(2026, 3, 18))] == [
        ("x", utc(2026, 3, 7, 9)),
        ("y", utc(2026, 3, 10, 9)),
        ("x", utc(2026, 3, 14, 9)),
        ("y", utc(2026, 3, 17, 9)),
    ]


# The same handoffs written two ways: counted as a weekly pattern, and (MONTHLY) expanded by
# dateutil and cached.
@pytest.mark.parametrize(
    "rule", ["FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR"]
)
def test_weekday_handoffs_on_call_only_on_saturdays(rule: str) -> None:
    # Handoffs Monday to Friday at 09:00 from Monday 2 March, on call Saturdays
    # 10:00-14:00: only the Friday-to-Monday turns cover a window, so x, y, z take the
    # Saturdays in turn (counting every turn would give y, x, z, y).
    s = schedule(
        "Europe/Berlin",
        layer(
            ["x", "y", "z"],
            rule,
            "2026-03-02",
            "09:00",
            restrictions=[{"days": ["sat"], "from": "10:00", "to": "14:00"}],
        ),
    )
    assert final_shifts(s, utc(2026, 3, 2), utc(2026, 4, 5)) == [
        Shift("x", utc(2026, 3, 7, 9), utc(2026, 3, 7, 13)),
        Shift("y", utc(2026, 3, 14, 9), utc(2026, 3, 14, 13)),
        Shift("z", utc(2026, 3, 21, 9), utc(2026, 3, 21, 13)),
        Shift("x", utc(2026, 3, 28, 9), utc(2026, 3, 28, 13)),
        Shift("y", utc(2026, 4, 4, 8), utc(2026, 4, 4, 12)),
    ]


def test_twelve_hour_shifts_restricted_to_office_hours() -> None:
    # 12-hour turns at 08:00 and 20:00 from Monday 23 March, on call weekdays 09:00-17:00:
    # night and weekend turns are skipped, so a and b alternate over the weekday day turns:
    # Mon 23 a, Tue b, Wed a, Thu b, Fri a, Mon 30 b, Tue 31 a (the pattern repeats every
    # 14 turns, a week).
    s = schedule(
        "Europe/Berlin",
        layer(
            ["a", "b"],
            "FREQ=HOURLY;INTERVAL=12",
            "2026-03-23",
            "08:00",
            restrictions=[{"days": WEEKDAYS, "from": "09:00", "to": "17:00"}],
        ),
    )
    shifts = final_shifts(s, utc(2026, 3, 23), utc(2026, 4, 1))
    assert [(shift.person, shift.start.date().day) for shift in shifts] == [
        ("a", 23),
        ("b", 24),
        ("a", 25),
        ("b", 26),
        ("a", 27),
        ("b", 30),
        ("a", 31),
    ]
    assert shifts[-2] == Shift("b", utc(2026, 3, 30, 7), utc(2026, 3, 30, 15))  # CEST


@pytest.mark.parametrize(
    "at",
    [datetime(2026, 3, 29, 3, 0), "2026-03-29T03:00:00"],
    ids=["naive datetime", "string"],
)
def test_instants_must_be_aware_datetimes(at: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        on_call(WEEKLY_BERLIN, at)  # type: ignore[arg-type]
