"""Secrets that travel in URLs never reach the logs.

An alert integration's secret is its webhook URL (`/api/alerts/<secret>/`),
PagerDuty-style senders may put `routing_key=` in a query string, and a
customer's status link (`/status/<signed token>/`) is a bearer credential.
Web servers log request lines, paths and referrers: runserver on
`django.server`, Django's 4xx/5xx warnings on `django.request`, gunicorn on
`gunicorn.access` and `gunicorn.error`. This filter masks them on each of those
loggers (installed in PortalConfig.ready, so gunicorn keeps its own handlers)
(issue 15, finding 11).
"""

from __future__ import annotations

import logging
import re

MASK = "***"
LOGGERS = ("django.server", "django.request", "gunicorn.access", "gunicorn.error")

_PATH_SECRET = re.compile(r"(/api/alerts/|/status/)(?!v2/enqueue)([^/?#\s\"']+)")
_QUERY_SECRET = re.compile(r"([?&](?:routing_key|token|secret)=)([^&#\s\"']+)", re.IGNORECASE)


def mask_secrets(text: str) -> str:
    text = _PATH_SECRET.sub(lambda m: m[1] + MASK, text)
    return _QUERY_SECRET.sub(lambda m: m[1] + MASK, text)


def _masked(value):
    return mask_secrets(value) if isinstance(value, str) else value


class SecretUrlFilter(logging.Filter):
    """Masks secrets in a record's message and its arguments (tuple or mapping,
    as gunicorn's access log passes them); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_secrets(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: _masked(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_masked(value) for value in record.args)
        return True


def install() -> None:
    """Attach the filter once to each logger that writes request lines."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretUrlFilter) for f in logger.filters):
            logger.addFilter(SecretUrlFilter())
