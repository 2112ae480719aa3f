from django import template
from django.utils import timezone

from escalations.rules.durations import humanize

register = template.Library()


@register.filter
def duration(value):
    """A timedelta for people: 2h 05m, 3d 4h."""
    return "—" if value is None else humanize(value)


@register.filter
def time_left(reading):
    """'1h 20m left', 'overdue by 3h 02m', 'met', 'paused'."""
    if reading.met_at is not None:
        return "met late" if reading.state == "breached" else "met"
    if reading.due_at is None:
        return "paused"
    left = reading.due_at - timezone.now()
    if left.total_seconds() < 0:
        return f"overdue by {humanize(-left)}"
    return f"{humanize(left)} left"


@register.filter
def bar_percent(reading):
    return max(0, min(100, round(reading.percent)))
