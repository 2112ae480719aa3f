"""Durations as people write them in policies: 30m, 4h, 2d, 1h30m, 90s, 1w.

`d` is 24 hours and `w` seven days of the clock's own time: in a business
calendar "2d" is 48 business hours (write "16h" for two 8-hour business days).
Pure: no Django import.
"""

from __future__ import annotations

import re
from datetime import timedelta

UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)\s*(w|d|h|m|s)")
_WHOLE = re.compile(r"^\s*(?:\d+\s*[wdhms]\s*)+$")


def parse_duration(value: object) -> timedelta:
    """'4h30m' -> 4:30:00. Bare integers are minutes (as YAML writers often mean)."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration (use e.g. 30m, 4h, 2d)")
    elif isinstance(value, int):
        seconds = value * 60
    elif isinstance(value, str) and _WHOLE.match(value.lower()):
        seconds = sum(int(n) * UNITS[unit] for n, unit in _PART.findall(value.lower()))
    else:
        raise ValueError(f"{value!r} is not a duration (use e.g. 30m, 4h, 2d)")
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    if seconds != int(seconds):
        raise ValueError(f"{value!r} has fractions of a second")
    return timedelta(seconds=int(seconds))


def format_duration(value: timedelta) -> str:
    """An exact, readable form: 90 minutes -> '1h30m', 24 hours -> '24h', 3 days -> '3d'.

    Days only from two whole days up: in a business calendar "1d" reads like one
    business day, while it means 24 business hours.
    """
    seconds = int(value.total_seconds())
    if seconds <= 0 or seconds != value.total_seconds():
        raise ValueError(f"cannot write {value!r} as a duration")
    parts = []
    use_days = seconds >= 2 * 86400 and seconds % 86400 == 0
    for unit, size in UNITS.items():
        if unit == "w" or (unit == "d" and not use_days):
            continue  # weeks read oddly next to business calendars
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def humanize(value: timedelta) -> str:
    """For people: '2h 05m', '3d 4h', '45s'; negative values read as overdue elsewhere."""
    seconds = abs(int(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s" if minutes < 10 and secs else f"{minutes}m"
    return f"{secs}s"
