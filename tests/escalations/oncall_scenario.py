"""A demo-like on-call world for the page and feed tests: the demo's engineering
primary/secondary pair (weekly primary lucas, noah, emma handing over Mondays 10:00 Berlin;
daily secondary lead, kenji), with an evening swap to lucas and a four-hour gap with nobody,
at a fixed instant. Written out here (not loaded from portal.demo) so the expected shifts
below are worked out by hand from the spec and stay true whatever the demo becomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from escalations.models import OnCallSchedule
from escalations.schedules import services
from tests.factories import UserFactory

# A Wednesday. Mondays 10:00 Berlin (CET, 09:00 UTC) since 2026-01-05: the week of
# 2026-03-02 is turn 8, 8 % 3 = 2: emma; the next (03-09) lucas, then (03-16) noah.
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
SWAP = (datetime(2026, 3, 5, 17, 0, tzinfo=UTC), datetime(2026, 3, 5, 22, 0, tzinfo=UTC))
GAP = (datetime(2026, 3, 7, 1, 0, tzinfo=UTC), datetime(2026, 3, 7, 5, 0, tzinfo=UTC))
HANDOFF_TO_LUCAS = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
HANDOFF_TO_NOAH = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)

PEOPLE = {
    # username: (first, last, zone)
    "lucas": ("Lucas", "Martin", "Europe/Paris"),
    "noah": ("Noah", "Smith", "America/New_York"),
    "emma": ("Emma", "Schulz", "Europe/Berlin"),
    "lead": ("Lee", "Lead", "Europe/London"),
    "kenji": ("Kenji", "Sato", "Asia/Tokyo"),
}

SPEC = {
    "timezone": "Europe/Berlin",
    "layers": [
        {
            "name": "secondary",
            "people": ["lead", "kenji"],
            "recurrence": "daily",
            "start": "2026-01-05",
            "handoff": "09:00",
        },
        {
            "name": "primary",
            "people": ["lucas", "noah", "emma"],
            "recurrence": "weekly",
            "start": "2026-01-05",
            "handoff": "10:00",
        },
    ],
}

# The final shifts of [NOW, NOW + 14 days), by hand: the primary is round the clock, so the
# secondary never shows; the swap and the gap cut emma's week.
EXPECTED_14_DAYS = [
    ("emma", NOW, SWAP[0]),
    ("lucas", SWAP[0], SWAP[1]),
    ("emma", SWAP[1], GAP[0]),
    (None, GAP[0], GAP[1]),
    ("emma", GAP[1], HANDOFF_TO_LUCAS),
    ("lucas", HANDOFF_TO_LUCAS, HANDOFF_TO_NOAH),
    ("noah", HANDOFF_TO_NOAH, NOW + timedelta(days=14)),
]


@dataclass
class World:
    schedule: OnCallSchedule
    people: dict


def build(*, name="Engineering primary/secondary", team=None, people_roles=None) -> World:
    people_roles = people_roles or {}
    people = {
        username: UserFactory(
            username=username,
            first_name=first,
            last_name=last,
            time_zone=zone,
            role=people_roles.get(username),
        )
        for username, (first, last, zone) in PEOPLE.items()
    }
    schedule = services.schedule_create(actor=None, name=name, spec=SPEC, team=team)
    services.override_add(
        actor=None, schedule=schedule, person=None, start=GAP[0], end=GAP[1], reason="DC move"
    )
    services.override_add(
        actor=None,
        schedule=schedule,
        person=people["lucas"],
        start=SWAP[0],
        end=SWAP[1],
        reason="Swap",
    )
    schedule.refresh_from_db()
    return World(schedule, people)
