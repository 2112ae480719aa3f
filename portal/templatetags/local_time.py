"""`local_times`: instants written into stored text as "YYYY-MM-DD HH:MM UTC" (timeline
event bodies, older messages) read in the reader's own zone, with the zone shown."""

import re
from datetime import UTC, datetime

from django import template
from django.utils import timezone

register = template.Library()

_UTC_STAMP = re.compile(r"\b(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC\b")


def localize_utc_stamps(text: str, zone) -> str:
    def local(match: re.Match) -> str:
        at = datetime.strptime(match[1], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        mine = timezone.localtime(at, zone)
        return mine.strftime("%Y-%m-%d %H:%M ") + (mine.tzname() or str(zone))

    return _UTC_STAMP.sub(local, text)


@register.filter(is_safe=True)
def local_times(value):
    """Keeps the text's safety: only digits and a zone name change."""
    if not value:
        return value
    result = localize_utc_stamps(str(value), timezone.get_current_timezone())
    return result
