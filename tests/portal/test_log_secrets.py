"""Secrets in URLs (alert webhook secrets, routing keys, status-page tokens) are
masked in every log that writes request lines (issue 15, finding 11)."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import pytest

from portal.log_filters import mask_secrets

SECRET = "Zk3vQ9xW2mP7rT4yU8iO1aS5dF6gH0jK"
GUNICORN_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextmanager
def written_by(name: str):
    """What the logger's own handlers receive (after the logger's filters)."""
    logger, handler = logging.getLogger(name), Collect()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"POST /api/alerts/{SECRET}/ HTTP/1.1", "POST /api/alerts/***/ HTTP/1.1"),
        (f"/api/alerts/{SECRET}", "/api/alerts/***"),
        (f"/status/{SECRET}:1xZ:abc/?x=1", "/status/***/?x=1"),
        (
            f"/api/alerts/v2/enqueue?routing_key={SECRET}&a=1",
            "/api/alerts/v2/enqueue?routing_key=***&a=1",
        ),
        ("POST /api/alerts/v2/enqueue HTTP/1.1", "POST /api/alerts/v2/enqueue HTTP/1.1"),
        ("GET /incidents/INC-1/ HTTP/1.1", "GET /incidents/INC-1/ HTTP/1.1"),
    ],
)
def test_secrets_are_masked_and_nothing_else(text, expected):
    assert mask_secrets(text) == expected


@pytest.mark.django_db
def test_djangos_request_log_masks_the_alert_secret(client, caplog):
    with caplog.at_level(logging.INFO):
        response = client.post(f"/api/alerts/{SECRET}/", "{}", content_type="application/json")
    assert response.status_code in (401, 403, 404)
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert logged, "django.request logged nothing"
    assert all(SECRET not in record.getMessage() for record in caplog.records)
    assert any("/api/alerts/***/" in record.getMessage() for record in logged)


def test_runservers_request_lines_are_masked():
    with written_by("django.server") as messages:
        logging.getLogger("django.server").info(
            '"%s" %s %s',
            f"POST /api/alerts/{SECRET}/ HTTP/1.1",
            "202",
            "17",
            extra={"status_code": 202, "request": None},
        )
    assert messages == ['"POST /api/alerts/***/ HTTP/1.1" 202 17']


@pytest.mark.parametrize("name", ["gunicorn.access", "gunicorn.error"])
def test_gunicorns_logs_are_masked(name):
    atoms = {
        "h": "10.0.0.1",
        "l": "-",
        "u": "-",
        "t": "[03/Dec/2026:15:00:00 +0000]",
        "r": f"POST /api/alerts/{SECRET}/ HTTP/1.1",
        "s": "202",
        "b": "17",
        "f": f"https://portal.example.com/status/{SECRET}/",
        "a": "curl/8",
    }
    with written_by(name) as messages:
        logging.getLogger(name).info(GUNICORN_FORMAT, atoms)
    [message] = messages
    assert SECRET not in message
    assert '"POST /api/alerts/***/ HTTP/1.1" 202 17 "https://portal.example.com/status/***/"' in (
        message
    )
