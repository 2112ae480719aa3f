"""Small database helpers shared by the apps."""

from __future__ import annotations

import contextlib

from django.db import connection


@contextlib.contextmanager
def asynchronous_commit():
    """Commits in this block do not wait for PostgreSQL's WAL flush.

    For writes whose loss in a crash of PostgreSQL itself (a fraction of a second
    of commits) costs a repeat, never lost work: outbox outcome marks (a re-send)
    and alert counters (a count). Each caller says why it qualifies. Outside
    PostgreSQL or inside a transaction (the setting would outlive the block) it
    changes nothing.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")
