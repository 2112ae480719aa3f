"""The one reading of "now" that services share.

Services take an injectable `now` (imports, demo data and tests place changes in
time); without one they read the clock. All timestamps are stored aware, in UTC, so
a naive `now` is a caller's mistake and is refused rather than guessed.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def resolve_now(now: datetime | None) -> datetime:
    """`now` if given (aware), else the current time."""
    if now is None:
        return timezone.now()
    if timezone.is_naive(now):
        raise ValueError("now must be an aware datetime")
    return now
