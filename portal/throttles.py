"""Rate limits on what anyone can send often: token-authenticated API calls (per user)
and the customer status page's forms (per link and per address), each of which
notifies a person.

DRF's sliding-window throttles, counted in Django's cache (CACHE_URL: shared by every
web process when it is Redis). Rates are read from settings at each request, so a
setting of "" turns a limit off.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from rest_framework.authentication import TokenAuthentication
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


class _SettingRateThrottle(SimpleRateThrottle):
    rate_setting = ""

    def get_rate(self) -> str | None:
        return getattr(settings, self.rate_setting) or None


class TokenUserRateThrottle(_SettingRateThrottle):
    """API calls authenticated by a token, counted per user; sessions and the alert
    webhooks (whose senders retry on 429 and must not lose alerts) are not counted."""

    scope = "api-token"
    rate_setting = "API_TOKEN_RATE"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(getattr(request, "successful_authenticator", None), TokenAuthentication):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class _StatusPageThrottle(_SettingRateThrottle):
    def __init__(self, ident: str):
        self.ident = ident
        super().__init__()

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


class StatusPageLinkThrottle(_StatusPageThrottle):
    scope = "status-link"
    rate_setting = "STATUS_PAGE_LINK_RATE"


class StatusPageAddressThrottle(_StatusPageThrottle):
    scope = "status-address"
    rate_setting = "STATUS_PAGE_ADDRESS_RATE"


def status_page_wait(request, *, incident_id: int, email: str) -> int | None:
    """Seconds before this status-page form may be sent again, or None: it may now.

    Counts the attempt when it is let through. A link is its incident and address (a
    fresh token for the same pair shares the count); the caller's address is DRF's
    client_address below."""
    link = hashlib.sha256(f"{incident_id}:{email}".encode()).hexdigest()[:32]
    throttles = (StatusPageAddressThrottle(client_address(request)), StatusPageLinkThrottle(link))
    for throttle in throttles:
        if not throttle.allow_request(request, None):
            return max(1, round(throttle.wait() or 1))
    return None


def client_address(request) -> str:
    """The caller's address as the throttles see it (also django-axes' sign-in lockout):
    REMOTE_ADDR, or the address our TLS proxy put last in X-Forwarded-For."""
    return BaseThrottle().get_ident(request)
