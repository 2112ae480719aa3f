from django import template

from escalations.rules.durations import humanize

register = template.Library()


@register.filter
def left_until(due, now):
    """Time left to a due instant: '1h 20m left', 'overdue by 3h 02m', '—' when none."""
    if due is None or now is None:
        return "—"
    left = due - now
    if left.total_seconds() < 0:
        return f"overdue by {humanize(-left)}"
    return f"{humanize(left)} left"


@register.filter
def is_overdue(due, now) -> bool:
    return due is not None and now is not None and due <= now


@register.simple_tag
def query_with(query, **changes):
    """The current query string with some parameters replaced (empty value: removed)."""
    query = query.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value not in (None, ""):
            query[name] = value
    return query.urlencode()
