"""Absolute links into the portal for messages sent outside a request (emails, chat,
webhooks): SITE_URL and the page's path."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.urls import reverse

_ARG = "__arg__"


def site_link(name: str, arg: str) -> str:
    """The absolute URL of the page `name` for one path segment `arg` (a reference, a
    signed token: URL-safe, no slash). The path is reversed once per process and `arg`
    put in: a storm's sweep links thousands of notices, and reverse() was the costliest
    step of each."""
    return settings.SITE_URL + _path(name).replace(_ARG, arg)


@lru_cache(maxsize=64)
def _path(name: str) -> str:
    return reverse(name, args=[_ARG])
