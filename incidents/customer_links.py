"""Signed, expiring links to an incident's customer status page (no login).

A link names the incident and the address it was sent to, signed with the
site's secret and timestamped. It stops working when it expires, when it is
altered, and when the account's contact changes (someone who left keeps no
access).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.core import signing

from portal.links import site_link

SALT = "incidents.customer-status"


class LinkError(Exception):
    """A link that shows nothing; `expired` tells the two cases apart for the reader."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class CustomerLink:
    incident_id: int
    email: str


def max_age() -> timedelta:
    return timedelta(days=settings.CUSTOMER_LINK_DAYS)


def make_token(*, incident_id: int, email: str) -> str:
    """What signing.dumps(..., salt=SALT) makes, from a signer made once per secret key
    (a storm's sweep signs a link for every customer it tells).

    Not compressed: an incident number and an address seldom shrink under zlib (a long,
    repetitive address by a few bytes), and trying cost half of each signature's work.
    read_token (signing.loads) reads both forms, so links sent compressed still open."""
    signer = _signer(settings.SECRET_KEY)
    return signer.sign_object({"i": incident_id, "e": email.strip().lower()})


@lru_cache(maxsize=4)
def _signer(key: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(key=key, salt=SALT)


def read_token(token: str) -> CustomerLink:
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
    except signing.SignatureExpired:
        raise LinkError("This link has expired.", expired=True) from None
    except signing.BadSignature:
        raise LinkError("This link is not valid.") from None
    if not isinstance(data, dict) or not isinstance(data.get("i"), int) or "e" not in data:
        raise LinkError("This link is not valid.")
    return CustomerLink(incident_id=data["i"], email=str(data["e"]))


def status_url(*, incident_id: int, email: str) -> str:
    token = make_token(incident_id=incident_id, email=email)
    return site_link("customer-status", token)
