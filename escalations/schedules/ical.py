"""Reading an iCal feed (RFC 5545) as on-call shifts: the events of a window, expanded.

No Django here: `parse_feed` turns the text into `FeedEvent`s (UTC instants, and the names
the event offers for its person, in the order they are asked), `fetch_feed` reads a feed
over http(s) with a size limit and a deadline. Which user a name means is the service's
question (`escalations.schedules.services.schedule_import_ical`).

Expansion is `recurring-ical-events`' (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides,
VTIMEZONE and X-WR-TIMEZONE zones): every occurrence that overlaps the window, whole (not
clipped), sorted by start. Rules repeating more often than hourly, hourly rules starting
years back, more than MAX_OCCURRENCES occurrences or PARSE_DEADLINE seconds of work are
refused: a feed is untrusted input. All-day events run from midnight to midnight, and
floating times are read, in the calendar's zone (X-WR-TIMEZONE, else its only VTIMEZONE
when that is an IANA name, else the zone the caller gives). Cancelled events are left out.
Anything the parser cannot read is a `FeedError` with a sentence a person can act on.
"""

from __future__ import annotations

import ipaddress
import socket
import time as clock
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from escalations.rules.oncall import utc_day_start

# An on-call export for a team is a few kilobytes; a megabyte is a mistake or an attack.
MAX_FEED_BYTES = 1024 * 1024
# Occurrences in one window: a daily rotation over four months is about 120.
MAX_OCCURRENCES = 5000
# The longest one occurrence may last (a typo such as DTEND a year late fails loudly).
MAX_EVENT_LENGTH = timedelta(days=62)
# Expanding the rules of one feed: a hostile one (thousands of series from the year 1900)
# is refused when it takes longer than this.
PARSE_DEADLINE = 10.0
HOURLY_HISTORY = timedelta(days=2 * 366)
FETCH_TIMEOUT = 10.0  # seconds to connect, and between two reads
FETCH_DEADLINE = 30.0  # seconds for the whole download, however slowly it drips
WINDOW_BEFORE = timedelta(days=30)
WINDOW_AFTER = timedelta(days=90)
USER_AGENT = "escalation-portal-ical-import/1"
MAX_REDIRECTS = 5


class FeedError(ValueError):
    """The feed cannot be read; the message says why, for the person who gave it."""


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    summary: str
    start: datetime  # aware, UTC
    end: datetime
    # What may name the event's person, in the order asked: attendees' addresses, the
    # organizer's, then the summary.
    names: tuple[str, ...]

    def label(self) -> str:
        what = f'"{self.summary}"' if self.summary else (self.uid or "an event")
        return f"{what} at {self.start:%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class Feed:
    timezone: str | None  # the calendar's own zone, when it names one
    events: tuple[FeedEvent, ...]


def window(now: datetime) -> tuple[datetime, datetime]:
    """The window imported around `now`: from the start of its UTC day 30 days back to 90
    days ahead, so importing the same feed twice on one day gives the same shifts."""
    day = utc_day_start(now)
    return day - WINDOW_BEFORE, day + WINDOW_AFTER


def parse_feed(
    data: bytes | str, *, start: datetime, end: datetime, default_zone: str = "UTC"
) -> Feed:
    import icalendar
    import recurring_ical_events

    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_FEED_BYTES:
        raise FeedError(f"The calendar is larger than {MAX_FEED_BYTES // 1024} KiB.")
    if not data.strip():
        raise FeedError("The calendar is empty.")
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as error:  # icalendar raises ValueError, and others on junk
        raise FeedError(f"This is not an iCalendar file ({_short(error)}).") from None
    if getattr(calendar, "name", None) != "VCALENDAR":
        raise FeedError("This is not an iCalendar file (it has no VCALENDAR).")
    zone_name = _calendar_zone(calendar)
    zone = ZoneInfo(zone_name or default_zone)
    events: list[FeedEvent] = []
    started = clock.monotonic()
    try:
        for event in calendar.walk("VEVENT"):
            _check_rules(event, start)
        # Series by series, each lazily, so that the limits below stop a hostile feed early.
        for series in recurring_ical_events.of(calendar).series:
            for occurrence in series.between(start, end):
                if clock.monotonic() - started > PARSE_DEADLINE:
                    raise FeedError(
                        f"The calendar took more than {PARSE_DEADLINE:g} seconds to expand."
                    )
                event = _event(occurrence.as_component(False), zone)
                if event is None or not (event.start < end and event.end > start):
                    continue
                if len(events) >= MAX_OCCURRENCES:
                    raise FeedError(
                        f"The calendar has more than {MAX_OCCURRENCES} events in the "
                        f"{(end - start).days} days imported."
                    )
                events.append(event)
    except FeedError:
        raise
    except Exception as error:  # a bad RRULE, DTSTART, zone...: the library's words
        raise FeedError(f"The calendar could not be read ({_short(error)}).") from None
    events.sort(key=lambda e: (e.start, e.end, e.uid))
    return Feed(zone_name, tuple(events))


def _check_rules(event, start: datetime) -> None:
    """Rules an on-call feed never has and that would cost minutes to expand: handoffs
    more often than hourly, and hourly ones from years before the window (expansion
    counts every occurrence from the first)."""
    rules = _many(event.get("RRULE"))
    if not rules:
        return
    name = " ".join(str(event.get("SUMMARY", "")).split()) or str(event.get("UID", "an event"))
    for rule in rules:
        freq = [str(value).upper() for value in rule.get("FREQ", [])]
        if {"SECONDLY", "MINUTELY"} & set(freq):
            raise FeedError(f'The event "{name}" repeats more often than every hour.')
        if "HOURLY" in freq:
            first = _instant(event.get("DTSTART"), ZoneInfo("UTC"))
            if first < start - HOURLY_HISTORY:
                raise FeedError(
                    f'The event "{name}" repeats hourly from {first:%Y-%m-%d}; give a start '
                    f"within {HOURLY_HISTORY.days // 366} years of today."
                )


def _calendar_zone(calendar) -> str | None:
    names = [str(calendar.get("X-WR-TIMEZONE", "")).strip()]
    zones = calendar.walk("VTIMEZONE")
    if len(zones) == 1:
        names.append(str(zones[0].get("TZID", "")).strip())
    for name in names:
        if (name and "/" in name) or name == "UTC":
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return name
    return None


def _event(occurrence, zone: ZoneInfo) -> FeedEvent | None:
    if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
        return None
    uid = str(occurrence.get("UID", "")).strip()
    summary = " ".join(str(occurrence.get("SUMMARY", "")).split())
    start = _instant(occurrence.get("DTSTART"), zone)
    end_prop = occurrence.get("DTEND")
    if end_prop is not None:
        end = _instant(end_prop, zone)
    elif occurrence.get("DURATION") is not None:
        end = start + occurrence["DURATION"].dt
    elif isinstance(occurrence["DTSTART"].dt, datetime):
        end = start  # a timed event without an end lasts no time (RFC 5545 3.6.1)
    else:
        end = _instant(occurrence["DTSTART"].dt + timedelta(days=1), zone)
    if end <= start:
        return None  # nobody is on call for no time
    if end - start > MAX_EVENT_LENGTH:
        raise FeedError(
            f'The event "{summary or uid}" lasts {(end - start).days} days (more than '
            f"{MAX_EVENT_LENGTH.days}); is its end right?"
        )
    names = [_address(value) for value in _many(occurrence.get("ATTENDEE"))]
    names.append(_address(occurrence.get("ORGANIZER")))
    names.append(summary)
    return FeedEvent(uid, summary, start, end, tuple(name for name in names if name))


def _instant(prop, zone: ZoneInfo) -> datetime:
    value = getattr(prop, "dt", prop)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=zone)  # floating: the calendar's wall clock
    elif isinstance(value, date):
        value = datetime(value.year, value.month, value.day, tzinfo=zone)
    else:
        raise FeedError(f"An event has an unreadable time ({value!r}).")
    return value.astimezone(UTC).replace(microsecond=0)


def _many(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _address(value) -> str:
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip()


def _short(error: Exception) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:199] + "…"


# ---------------------------------------------------------------------- fetching


def _refuse_private(hostname: str | None, address: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global:
        raise FeedError(
            f"{hostname} is an address inside this network; give the feed's public address."
        )


def _check_public(hostname: str | None, port: int | None) -> None:
    try:
        answers = socket.getaddrinfo(hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise FeedError(f"{hostname} could not be found.") from None
    for *_, address in answers:
        _refuse_private(hostname, address[0])


def _public_only_adapter():
    """A requests adapter whose connections check the address they actually reached:
    `_check_public` resolves the name before the request, and a name that answers
    differently when the connection resolves it again (DNS rebinding) would otherwise
    reach the portal's own network. Through a proxy the peer is the proxy, the
    operator's own egress, and only the name's check applies."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    def checked(connection, sock):
        if not connection.proxy:
            try:
                _refuse_private(connection.host, sock.getpeername()[0])
            except FeedError:
                sock.close()
                raise
        return sock

    class PublicHTTPConnection(HTTPConnection):
        def _new_conn(self):
            return checked(self, super()._new_conn())

    class PublicHTTPSConnection(HTTPSConnection):
        def _new_conn(self):
            return checked(self, super()._new_conn())

    class PublicHTTPPool(HTTPConnectionPool):
        ConnectionCls = PublicHTTPConnection

    class PublicHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = PublicHTTPSConnection

    class PublicOnly(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {
                "http": PublicHTTPPool,
                "https": PublicHTTPSPool,
            }

    return PublicOnly()


def check_url(url: str) -> str:
    """An http(s) URL with a host, or a `FeedError` (no file:, ftp:, data: or others)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FeedError("Give an https:// (or http://) address of the calendar.")
    if len(url) > 2000:
        raise FeedError("The address is longer than 2,000 characters.")
    return url


def fetch_feed(
    url: str,
    *,
    timeout: float = FETCH_TIMEOUT,
    deadline: float = FETCH_DEADLINE,
    max_bytes: int = MAX_FEED_BYTES,
    allow_private: bool = False,
) -> bytes:
    """The feed's bytes. Redirects are followed by hand, at most five, each to an http(s)
    address; unless `allow_private`, every host must resolve to public addresses only (no
    loopback, private, link-local or reserved ones: an import must not read the portal's own
    network), and so must the address each connection reaches, for a name that changes its
    answer between the check and the connection. A body over `max_bytes`, a status other
    than 2xx, a connection or read taking over `timeout` seconds, or a download over
    `deadline` seconds is a `FeedError` naming only the host (a feed URL may carry a secret
    token)."""
    import requests

    url = check_url(url)
    host = urlsplit(url).hostname
    session = requests.Session()
    if not allow_private:
        adapter = _public_only_adapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    started = clock.monotonic()
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            if not allow_private:
                _check_public(urlsplit(url).hostname, urlsplit(url).port)
            response = session.get(
                url,
                timeout=timeout,
                stream=True,
                allow_redirects=False,
                headers={"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.1"},
            )
            if not response.is_redirect:
                break
            location = response.headers.get("Location", "")
            response.close()
            url = check_url(urljoin(url, location))
        else:
            raise FeedError(f"{host} redirected more than {MAX_REDIRECTS} times.")
        with response:
            if not 200 <= response.status_code < 300:
                raise FeedError(f"{host} answered {response.status_code}.")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FeedError(f"The calendar at {host} is larger than {max_bytes // 1024} KiB.")
            body = bytearray()
            for chunk in response.iter_content(chunk_size=16 * 1024):
                body += chunk
                if len(body) > max_bytes:
                    raise FeedError(
                        f"The calendar at {host} is larger than {max_bytes // 1024} KiB."
                    )
                if clock.monotonic() - started > deadline:
                    raise FeedError(f"{host} took more than {deadline:g} seconds to send it.")
            return bytes(body)
    except FeedError:
        raise
    except requests.Timeout:
        raise FeedError(f"{host} did not answer within {timeout:g} seconds.") from None
    except requests.RequestException as error:
        # requests' messages carry the whole URL: name the kind of failure only.
        raise FeedError(f"{host} could not be reached ({type(error).__name__}).") from None
    finally:
        session.close()
