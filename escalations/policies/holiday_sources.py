"""Fill a calendar's ``holidays`` list from the ``holidays`` package or an ``.ics`` upload.

Both helpers are pure (no Django) and return sorted, de-duplicated ``datetime.date`` lists,
ready for ``BusinessCalendar.with_holidays`` or for the ``"holidays"`` key of a spec. The
third-party packages are imported lazily so that ``escalations.rules.business_time`` never needs
them.

Recurring iCalendar events: only yearly rules (``RRULE:FREQ=YEARLY...``, e.g. "Christmas
every year" or "4th Thursday of November") are supported, because a holiday calendar has no
business with weekly or monthly rules; anything else is a ``ValueError``. Expansion needs a
bound: occurrences are generated within ``years`` when given, otherwise up to the rule's own
``UNTIL``/``COUNT``; an endless rule without ``years`` is a ``ValueError`` asking for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

__all__ = ["holidays_from_country", "holidays_from_ics"]

#: Upper bound on the days one event may span (a typo such as DTEND in the wrong year
#: should fail loudly instead of closing a calendar for years).
MAX_EVENT_DAYS = 366


def holidays_from_country(country: str, subdiv: str | None, years: Iterable[int]) -> list[date]:
    """Public holidays of ``country`` (ISO 3166-1 alpha-2, e.g. ``"DE"``) and optionally a
    subdivision (e.g. ``"BY"``) for the given years, using the ``holidays`` package.

    Codes are matched case-insensitively. Only dates inside ``years`` are returned, so the
    result does not depend on how the package attributes observed days to years. Raises
    ``ValueError`` for an unknown country or subdivision, listing what is available.
    """
    import holidays as holidays_pkg

    year_list = _years(years)
    if not isinstance(country, str) or not country.strip():
        raise ValueError(f"country: expected an ISO 3166 code such as 'DE', got {country!r}")
    supported = holidays_pkg.list_supported_countries()
    code = country.strip().upper()
    if code not in supported:
        raise ValueError(f'country: unknown country "{country}" (not in the holidays package)')
    subdivision: str | None = None
    if subdiv is not None:
        if not isinstance(subdiv, str) or not subdiv.strip():
            raise ValueError(f"subdiv: expected a subdivision code such as 'BY', got {subdiv!r}")
        known = {name.upper(): name for name in supported[code]}
        subdivision = known.get(subdiv.strip().upper())
        if subdivision is None:
            available = ", ".join(supported[code]) or "none"
            raise ValueError(
                f'subdiv: unknown subdivision "{subdiv}" for {code} (available: {available})'
            )
    if not year_list:
        return []
    calendar = holidays_pkg.country_holidays(code, subdiv=subdivision, years=year_list)
    wanted = set(year_list)
    return sorted(day for day in calendar if day.year in wanted)


def holidays_from_ics(data: bytes | str, *, years: Iterable[int] | None = None) -> list[date]:
    """Dates closed by the events of an iCalendar file (e.g. an upload exported from
    Outlook or Google Calendar).

    * All-day events close their date; multi-day events close every date from ``DTSTART``
      up to, not including, ``DTEND`` (the iCalendar convention), or per ``DURATION``.
    * Timed events close the date of their start, as written in the file (its own zone).
    * Cancelled events (``STATUS:CANCELLED``) are ignored.
    * Yearly ``RRULE``s are expanded (see the module docstring); ``EXDATE`` is honoured.
    * With ``years``, only dates in those years are returned.

    A malformed file, an event without a usable ``DTSTART`` or an unsupported rule raises
    ``ValueError`` with a message that names the event.
    """
    import icalendar

    wanted = set(_years(years)) if years is not None else None
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, bytes | bytearray):
        raise ValueError(f"ics: expected bytes, got {type(data).__name__}")
    if not data.strip():
        raise ValueError("ics: the file is empty")
    try:
        calendar = icalendar.Calendar.from_ical(bytes(data))
    except Exception as exc:  # icalendar raises ValueError, but also others on junk
        raise ValueError(f"ics: not a valid iCalendar file ({exc})") from None
    if getattr(calendar, "name", None) != "VCALENDAR":
        raise ValueError("ics: not a valid iCalendar file (no VCALENDAR)")

    days: set[date] = set()
    for index, event in enumerate(calendar.walk("VEVENT")):
        label = _event_label(event, index)
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start = _event_date(event, "DTSTART", label)
        if start is None:
            raise ValueError(f"ics: {label} has no DTSTART")
        length = _event_days(event, start, label)
        for first in _occurrences(event, start, label, wanted):
            for offset in range(length):
                day = first + timedelta(days=offset)
                if wanted is None or day.year in wanted:
                    days.add(day)
    return sorted(days)


# ---------------------------------------------------------------------- helpers


def _years(years: Iterable[int] | None) -> list[int]:
    if years is None or isinstance(years, str | bytes):
        raise ValueError(f"years: expected an iterable of years, got {years!r}")
    result = []
    for year in years:
        if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
            raise ValueError(f"years: {year!r} is not a year")
        result.append(year)
    return sorted(set(result))


def _event_label(event: object, index: int) -> str:
    get = getattr(event, "get", None)
    summary = get("SUMMARY") if get else None
    uid = get("UID") if get else None
    name = str(summary) if summary else (str(uid) if uid else "")
    return f"event #{index + 1}" + (f' "{name}"' if name else "")


def _event_date(event: object, key: str, label: str) -> date | None:
    """The calendar date of a DTSTART/DTEND-like property, or ``None`` when absent."""
    prop = event.get(key)  # type: ignore[attr-defined]
    if prop is None:
        return None
    value = _decoded(prop)
    if isinstance(value, datetime):
        return value.date()  # timed: the date as written, in the event's own zone
    if isinstance(value, date):
        return value
    raw = prop.to_ical().decode("utf-8", "replace") if hasattr(prop, "to_ical") else prop
    raise ValueError(f'ics: {label} has an invalid {key} "{raw}"')


def _event_days(event: object, start: date, label: str) -> int:
    """How many dates one occurrence covers (at least one)."""
    if isinstance(event.get("DTSTART").dt, datetime):  # type: ignore[attr-defined]
        # Timed events take their start date only ("the offsite is on the 12th").
        return 1
    end = _event_date(event, "DTEND", label)
    if end is None and event.get("DURATION") is not None:  # type: ignore[attr-defined]
        duration = _decoded(event.get("DURATION"))  # type: ignore[attr-defined]
        if not isinstance(duration, timedelta):
            raise ValueError(f"ics: {label} has an invalid DURATION")
        end = start + timedelta(days=duration.days)
    if end is None:
        return 1
    length = (end - start).days
    if length > MAX_EVENT_DAYS:
        raise ValueError(f"ics: {label} spans {length} days; is DTEND right?")
    return max(length, 1)


def _occurrences(event: object, start: date, label: str, wanted: set[int] | None) -> list[date]:
    """Start dates of every occurrence of the event (just ``start`` without an RRULE)."""
    rule = event.get("RRULE")  # type: ignore[attr-defined]
    if rule is None:
        return [start]
    from dateutil.rrule import rrulestr

    text = rule.to_ical().decode("ascii", "replace")
    parts = dict(part.split("=", 1) for part in text.upper().split(";") if "=" in part)
    if parts.get("FREQ") != "YEARLY":
        raise ValueError(
            f'ics: {label} recurs with "{text}"; only yearly rules are supported for holidays'
        )
    bounded = "UNTIL" in parts or "COUNT" in parts
    if not bounded and wanted is None:
        raise ValueError(f"ics: {label} recurs every year without end; pass years=... to expand it")
    dtstart = datetime.combine(start, time())
    try:
        # UNTIL may be a UTC datetime while DTSTART is floating; compare on dates instead.
        if "UNTIL" in parts:
            until = parts["UNTIL"][:8]
            text = ";".join(
                f"UNTIL={until}T235959" if part.upper().startswith("UNTIL=") else part
                for part in text.split(";")
            )
        recurrence = rrulestr(text, dtstart=dtstart, ignoretz=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f'ics: {label} has an invalid RRULE "{text}" ({exc})') from None
    if wanted is not None:
        first = datetime(min(wanted), 1, 1)
        last = datetime(max(wanted), 12, 31, 23, 59, 59)
        occurrences = [moment.date() for moment in recurrence.between(first, last, inc=True)]
        # An occurrence starting in December may spill over into a wanted January.
        occurrences += [
            moment.date()
            for moment in recurrence.between(first - timedelta(days=MAX_EVENT_DAYS), first)
        ]
    else:
        occurrences = [moment.date() for moment in recurrence]
    excluded = _exdates(event)
    return [day for day in occurrences if day not in excluded]


def _exdates(event: object) -> set[date]:
    raw = event.get("EXDATE")  # type: ignore[attr-defined]
    if raw is None:
        return set()
    entries = raw if isinstance(raw, list) else [raw]
    result: set[date] = set()
    for entry in entries:
        for item in getattr(entry, "dts", []):
            value = _decoded(item)
            if isinstance(value, datetime):
                result.add(value.date())
            elif isinstance(value, date):
                result.add(value)
    return result


def _decoded(prop: object) -> object:
    """A property's Python value, or ``None`` when icalendar could not parse it (recent
    versions keep unparsable values as "broken" properties that raise on access)."""
    try:
        return getattr(prop, "dt", None)
    except Exception:
        return None
