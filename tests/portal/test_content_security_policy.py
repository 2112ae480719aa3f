"""Every page carries a Content-Security-Policy that runs no inline script, and no page
or template has one to run: scripts come from our own static files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from incidents.customer_links import make_token
from tests.factories import AccountFactory, make_incident

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.fixture
def pages(manager, default_policy):
    account = AccountFactory(primary_contact_email="jane@acme.example")
    incident = make_incident(actor=manager, account=account)
    token = make_token(incident_id=incident.pk, email="jane@acme.example")
    return {
        "sign-in": ("/login/", None),
        "admin sign-in": ("/admin/login/", None),
        "incident list": ("/incidents/", manager),
        "incident": (reverse("incidents:detail", args=[incident.reference]), manager),
        "new incident": (reverse("incidents:create"), manager),
        "queues": ("/queues/", manager),
        "metrics": ("/metrics/", manager),
        "weekly report": ("/reports/weekly/", manager),
        "admin index": ("/admin/", manager),
        "admin incidents": ("/admin/incidents/incident/", manager),
        "api docs": ("/api/docs/", manager),
        "customer status": (reverse("customer-status", args=[token]), None),
    }


def test_every_main_page_has_a_policy_without_inline_script(client, pages):
    for name, (url, user) in pages.items():
        client.logout()
        if user:
            client.force_login(user)
        answer = client.get(url)
        assert answer.status_code == 200, (name, answer.status_code)
        header = answer.get("Content-Security-Policy")
        assert header, f"{name}: no Content-Security-Policy"
        policy = directives(header)
        script_src = policy.get("script-src", policy.get("default-src"))
        assert script_src == ["'self'"], (name, header)
        assert "'unsafe-inline'" not in header.split("style-src")[0], (name, header)
        assert "'unsafe-eval'" not in header, (name, header)
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        html = answer.content.decode()
        assert not INLINE_SCRIPT.search(html), (name, INLINE_SCRIPT.search(html).group())
        assert not HANDLER_ATTRIBUTE.search(html), (name, HANDLER_ATTRIBUTE.search(html).group())


def test_no_template_has_an_inline_script_or_handler_attribute():
    roots = [Path(settings.BASE_DIR) / "templates", *Path(settings.BASE_DIR).glob("*/templates")]
    found = []
    for root in roots:
        for path in root.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            for pattern in (INLINE_SCRIPT, HANDLER_ATTRIBUTE):
                found += [f"{path}: {m.group()}" for m in pattern.finditer(text)]
    assert found == []
