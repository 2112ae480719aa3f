"""Signed iCal feeds (RFC 5545) of final shifts: a person's own across every schedule, and
one schedule's with each person's name (issue 18, "people's side").

Calendar apps fetch a feed without a session, so its URL carries a token signed with
`django.core.signing` under a salt of its own per kind of feed: a token for one feed is no
token for another, and a changed character is a bad signature (the view answers 404). A
personal token names the person; a schedule token names the schedule and the reader it was
shown to, and both stop working when that person is deactivated or resets their calendar
links (`User.feed_generation`, signed into the token once it is above zero, so links made
before resets existed are the ones of generation zero).

The text is built by the `icalendar` library, which escapes what RFC 5545 asks (commas,
semicolons, backslashes, newlines) in names and schedule names. Each event's UID is derived
from the feed kind, schedule, person and the shift's real start (not the window's edge), so
it stays the same from one fetch to the next while the shift does."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse
from icalendar import Calendar, Event, vDuration, vText

from escalations.models import OnCallSchedule
from escalations.rules.oncall import final_shifts, utc_day_start
from escalations.schedules.selectors import full_names, schedule_core
from escalations.schedules.shifts import person_shifts

PERSON_SALT = "escalations.schedules.feed.person"
SCHEDULE_SALT = "escalations.schedules.feed.schedule"

#: A feed holds the final shifts that overlap [today - DAYS_BACK, today + DAYS_AHEAD).
DAYS_BACK = 30
DAYS_AHEAD = 90
# Shifts are computed from this much earlier still, so one that began before the window keeps
# its real start (and so its UID) instead of being cut at an edge that moves every day.
_LOOK_BEHIND = timedelta(days=35)
#: How often calendar apps are asked to fetch again.
REFRESH = timedelta(hours=1)

PRODID = "-//Escalation portal//On-call shifts//EN"


# --- tokens ------------------------------------------------------------------------------------


# No timestamp in the token: the same person (and schedule) always gets the same URL, so a
# calendar subscribed yesterday and the link shown today are one feed, until a reset.
def person_feed_token(user) -> str:
    generation = user.feed_generation
    return signing.Signer(salt=PERSON_SALT).sign_object(
        [user.pk, generation] if generation else user.pk
    )


def schedule_feed_token(schedule: OnCallSchedule, reader) -> str:
    generation = reader.feed_generation
    return signing.Signer(salt=SCHEDULE_SALT).sign_object(
        [schedule.pk, reader.pk, generation] if generation else [schedule.pk, reader.pk]
    )


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _active_user(pk, generation):
    if not (_whole(pk) and _whole(generation)):
        return None
    return (
        get_user_model().objects.filter(pk=pk, is_active=True, feed_generation=generation).first()
    )


def person_for_token(token: str):
    """The active person a personal-feed token names, or None (bad, tampered, another
    feed's token, a deactivated person, or a link from before their last reset)."""
    try:
        payload = signing.Signer(salt=PERSON_SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    if isinstance(payload, list) and len(payload) == 2:
        return _active_user(*payload)
    return _active_user(payload, 0)


def schedule_for_token(token: str) -> OnCallSchedule | None:
    """The schedule a schedule-feed token names while the reader it was made for is active
    and has not reset their calendar links since."""
    try:
        payload = signing.Signer(salt=SCHEDULE_SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    if not (isinstance(payload, list) and len(payload) in (2, 3)):
        return None
    schedule_pk, reader_pk, generation = (*payload, 0)[:3]
    if not _whole(schedule_pk) or _active_user(reader_pk, generation) is None:
        return None
    return OnCallSchedule.objects.filter(pk=schedule_pk).first()


# --- feeds -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedWindow:
    start: datetime
    end: datetime

    @classmethod
    def around(cls, now: datetime) -> FeedWindow:
        # Whole UTC days, so the window (and the file) changes once a day, not every fetch.
        today = utc_day_start(now)
        return cls(today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD + 1))


def _uid(kind: str, schedule: OnCallSchedule, person: str, start: datetime) -> str:
    key = f"{kind}|{schedule.pk}|{person}|{start.astimezone(UTC).isoformat()}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":")[0] or "portal"
    return f"oncall-{digest}@{host}"


def _calendar(name: str, description: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # icalendar types NAME (RFC 7986) and the X-WR- properties as unknown, which it writes
    # as they are: say they are text, so a newline or comma in a name is escaped.
    calendar.add("name", vText(name))
    calendar.add("x-wr-calname", vText(name))  # what most calendar apps read
    calendar.add("x-wr-caldesc", vText(description))
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    return calendar


def _event(*, uid, summary, description, start, end, url, stamp) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", url)
    # Being on call is not being busy: the shift shows without blocking the day.
    event.add("transp", "TRANSPARENT")
    return event


def _schedule_url(schedule: OnCallSchedule) -> str:
    return settings.SITE_URL + reverse("schedule", args=[schedule.pk])


def person_feed(user, *, now: datetime) -> bytes:
    """The person's final shifts on every schedule; the schedule's name in each SUMMARY."""
    window = FeedWindow.around(now)
    username = user.get_username()
    shifts = [
        shift
        for shift in person_shifts(username, start=window.start - _LOOK_BEHIND, end=window.end)
        if shift.end > window.start
    ]
    name = str(user)
    calendar = _calendar(f"On call: {name}", "Your on-call shifts (final, after overrides).")
    for shift in shifts:
        schedule = shift.schedule
        calendar.add_component(
            _event(
                uid=_uid("person", schedule, username, shift.start),
                summary=f"On call: {schedule.name}",
                description=f"{name} is on call for {schedule.name} ({schedule.time_zone}).",
                start=shift.start,
                end=shift.end,
                url=_schedule_url(schedule),
                stamp=now,
            )
        )
    return calendar.to_ical()


def schedule_feed(schedule: OnCallSchedule, *, now: datetime) -> bytes:
    """Every final shift of the schedule; the person's name in each SUMMARY."""
    window = FeedWindow.around(now)
    shifts = [
        shift
        for shift in final_shifts(
            schedule_core(schedule, since=window.start - _LOOK_BEHIND),
            window.start - _LOOK_BEHIND,
            window.end,
        )
        if shift.end > window.start
    ]
    names = full_names(shift.person for shift in shifts)
    calendar = _calendar(
        schedule.name, f"Who is on call for {schedule.name} (final shifts, after overrides)."
    )
    for shift in shifts:
        name = names.get(shift.person, shift.person)
        calendar.add_component(
            _event(
                uid=_uid("schedule", schedule, shift.person, shift.start),
                summary=f"{name} on call",
                description=f"{name} is on call for {schedule.name} ({schedule.time_zone}).",
                start=shift.start,
                end=shift.end,
                url=_schedule_url(schedule),
                stamp=now,
            )
        )
    return calendar.to_ical()
