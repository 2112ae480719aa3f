"""Conventions of escalations.rules.oncall: instants, ranges, supported years, odd zones,
repeated people, and caches that never change an answer (lazily, in any order, in threads)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from escalations.rules.oncall import (
    OnCall,
    Rotation,
    Schedule,
    Shift,
    final_shifts,
    gaps,
    next_on_call,
    on_call,
    paging_order,
)

BERLIN = ZoneInfo("Europe/Berlin")
# A, B, C weekly from Monday 2 March 2026 09:00 Berlin (08:00Z); 30 March is B's (07:00Z).
WEEKLY = Schedule(
    "Europe/Berlin", (Rotation(("A", "B", "C"), "weekly", date(2026, 3, 2), time(9)),)
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    "call",
    [
        lambda at: on_call(WEEKLY, at),
        lambda at: paging_order(WEEKLY, at),
        lambda at: next_on_call(WEEKLY, at, "A"),
        lambda at: final_shifts(WEEKLY, at, utc(2026, 4, 1)),
        lambda at: gaps(WEEKLY, utc(2026, 3, 1), at),
    ],
    ids=["on_call", "paging_order", "next_on_call", "final_shifts", "gaps"],
)
def test_naive_instants_are_refused(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="naive datetime 2026-03-29T03:00:00"):
        call(datetime(2026, 3, 29, 3, 0))


def test_instants_are_floored_to_the_second() -> None:
    handoff = utc(2026, 3, 30, 7)
    assert on_call(WEEKLY, handoff - timedelta(microseconds=1)).person == "A"  # type: ignore[union-attr]
    assert on_call(WEEKLY, handoff + timedelta(microseconds=999_999)).person == "B"  # type: ignore[union-attr]
    shifts = final_shifts(
        WEEKLY, handoff - timedelta(seconds=1.5), handoff + timedelta(seconds=0.5)
    )
    # [07:00:00 - 1.5 s, 07:00:00 + 0.5 s) is floored to [06:59:58, 07:00:00).
    assert shifts == [Shift("A", handoff - timedelta(seconds=2), handoff)]


def test_ranges() -> None:
    at = utc(2026, 3, 30, 7)
    assert final_shifts(WEEKLY, at, at) == []
    assert gaps(WEEKLY, at, at) == []
    with pytest.raises(ValueError, match="is before start"):
        final_shifts(WEEKLY, at, at - timedelta(seconds=1))


def test_supported_years() -> None:
    with pytest.raises(
        ValueError, match=re.escape("at: 2200-01-01T00:00:00+00:00 is outside the years 1900-2199")
    ):
        on_call(WEEKLY, utc(2200, 1, 1))
    with pytest.raises(ValueError, match="outside the years 1900-2199"):
        on_call(WEEKLY, utc(1899, 12, 31, 23, 59, 59))
    # The last supported week: 2199-12-30 is a Monday, 9,070 weeks after 2 March 2026
    # (9070 % 3 == 1: B); the turn would end on 6 January 2200 but the stretch stops at 2200.
    last = on_call(WEEKLY, utc(2199, 12, 31, 23, 59, 59))
    assert last == OnCall("B", utc(2199, 12, 30, 8), utc(2200, 1, 1), layer=0)
    assert final_shifts(WEEKLY, utc(2199, 12, 31), utc(2199, 12, 31, 23, 59, 59)) == [
        Shift("B", utc(2199, 12, 31), utc(2199, 12, 31, 23, 59, 59))
    ]


def test_samoa_lost_day() -> None:
    # Samoa jumped from 29 December 2011 24:00 (UTC-10) to 31 December 00:00 (UTC+14), at
    # 10:00Z on the 30th. Daily 09:00 from the 28th: ann 28th, ben 29th 09:00 (19:00Z), the
    # 30th's handoff does not exist and falls at the end of the gap, 10:00Z (cat, 9 hours,
    # to 31 Dec 09:00 +14 = 19:00Z on the 30th), ann from then.
    s = Schedule(
        "Pacific/Apia", (Rotation(("ann", "ben", "cat"), "daily", date(2011, 12, 28), time(9)),)
    )
    assert final_shifts(s, utc(2011, 12, 29, 12), utc(2011, 12, 31)) == [
        Shift("ann", utc(2011, 12, 29, 12), utc(2011, 12, 29, 19)),
        Shift("ben", utc(2011, 12, 29, 19), utc(2011, 12, 30, 10)),  # 15 hours
        Shift("cat", utc(2011, 12, 30, 10), utc(2011, 12, 30, 19)),  # 9 hours
        Shift("ann", utc(2011, 12, 30, 19), utc(2011, 12, 31)),
    ]


def test_repeated_people_take_their_turns_and_are_paged_once() -> None:
    # ann, ben, ann, cat daily from Monday 2 March: 5 March (turn 3) is cat's.
    s = Schedule(
        "UTC", (Rotation(("ann", "ben", "ann", "cat"), "daily", date(2026, 3, 2), time(9)),)
    )
    assert [shift.person for shift in final_shifts(s, utc(2026, 3, 2, 9), utc(2026, 3, 7, 9))] == [
        "ann",
        "ben",
        "ann",
        "cat",
        "ann",
    ]
    assert paging_order(s, utc(2026, 3, 4, 12)) == ("ann", "cat", "ben")
    assert next_on_call(s, utc(2026, 3, 4, 12), "cat") == "ben"
    assert next_on_call(s, utc(2026, 3, 4, 12), "ben") == "ann"


def test_single_person_has_nobody_to_page_next() -> None:
    s = Schedule("UTC", (Rotation(("solo",), "weekly", date(2026, 3, 2), time(9)),))
    assert paging_order(s, utc(2026, 3, 10)) == ("solo",)
    assert next_on_call(s, utc(2026, 3, 10), "solo") is None
    assert next_on_call(s, utc(2026, 3, 10), "someone else") == "solo"
    # Its turns all merge into one final shift.
    assert final_shifts(s, utc(2026, 3, 1), utc(2026, 4, 1)) == [
        Shift("solo", utc(2026, 3, 2, 9), utc(2026, 4, 1))
    ]


def rrule_schedule(zone: str = "Europe/Berlin") -> Schedule:
    return Schedule(
        zone,
        (Rotation(("x", "y", "z"), "FREQ=WEEKLY;BYDAY=MO,TH", date(2026, 3, 2), time(9)),),
    )


INSTANTS = [utc(2026, 3, 2) + timedelta(hours=37 * i + 0.25) for i in range(0, 2000, 7)]


def test_lazy_caches_answer_the_same_in_any_order() -> None:
    forwards = [on_call(rrule_schedule(), at) for at in INSTANTS]
    schedule = rrule_schedule()
    backwards = [on_call(schedule, at) for at in reversed(INSTANTS)]
    assert backwards[::-1] == forwards
    assert {found.person for found in forwards if found} == {"x", "y", "z"}


def test_caches_filled_by_threads_answer_as_one_thread_does() -> None:
    expected = [on_call(rrule_schedule("America/Halifax"), at) for at in INSTANTS]
    # The same zone under another name no other test uses: its offset table, like the
    # schedule's handoffs, is built by the threads racing each other.
    shared = rrule_schedule("Canada/Atlantic")
    with ThreadPoolExecutor(max_workers=4) as pool:
        chunks = list(pool.map(lambda part: [on_call(shared, at) for at in part], [INSTANTS] * 4))
    assert all(chunk == expected for chunk in chunks)
