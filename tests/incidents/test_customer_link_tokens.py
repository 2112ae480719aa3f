"""The signed customer link's token: made by a signer kept per secret key, it is the
token signing.dumps makes (uncompressed), read back by read_token, bound to its
incident and address; compressed tokens sent earlier still read."""

from __future__ import annotations

import pytest
import time_machine
from django.core import signing

from incidents.customer_links import SALT, LinkError, make_token, read_token


@time_machine.travel("2026-12-04 12:00:00+00:00", tick=False)
@pytest.mark.parametrize(
    "email", ["Jane@Acme.example", "  zoë@bücher.example ", "a" * 60 + "@a.example"]
)
def test_the_token_is_what_signing_dumps_makes(settings, email):
    payload = {"i": 42, "e": email.strip().lower()}
    expected = signing.dumps(payload, salt=SALT)
    assert make_token(incident_id=42, email=email) == expected
    link = read_token(expected)
    assert (link.incident_id, link.email) == (42, email.strip().lower())
    # Links sent compressed (before tokens were made uncompressed) still open.
    compressed = signing.dumps(payload, salt=SALT, compress=True)
    assert read_token(compressed) == link


def test_a_new_secret_key_signs_with_the_new_key(settings):
    before = make_token(incident_id=7, email="jane@acme.example")
    settings.SECRET_KEY = "another secret key, long enough to be a real one " * 2
    after = make_token(incident_id=7, email="jane@acme.example")
    assert read_token(after).incident_id == 7
    with pytest.raises(LinkError):
        read_token(before)  # the old key is no longer trusted (no fallback given)


def test_an_altered_token_is_refused():
    token = make_token(incident_id=7, email="jane@acme.example")
    other = make_token(incident_id=8, email="jane@acme.example")
    payload, rest = token.split(":", 1)
    with pytest.raises(LinkError):
        read_token(other.split(":", 1)[0] + ":" + rest)
    assert read_token(token).incident_id == 7 and payload
