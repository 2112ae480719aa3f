"""No garbage answers 5xx: every web form and query parameter, as a manager.

The test crawls the portal's own pages (not the admin, not the API, which
schemathesis covers) from a world with escalations, a war room, a vendor case,
reviews, action items and similar links, collects every form it finds (its
action, method and fields) and every page with a query string, checks that
every route of the URLconf was reached, then posts garbage: ids, huge and
negative numbers, text, unicode, NUL, empty values, to every field, and to the
integer parts of the URLs. Nothing may answer 5xx (issue 15, finding 7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalations.followup import reviews, vendors, war_room
from escalations.schedules import services as schedules
from incidents.customer_links import status_url
from tests.escalations.review_scenario import build_world
from tests.factories import PASSWORD, UserFactory, make_schedule, oncall_spec

pytestmark = pytest.mark.django_db

# Routes this test does not own: the admin, the API (schemathesis), the ESP
# webhooks (their own test), logging out, and static files.
SKIPPED_PREFIXES = ("/admin/", "/api/", "/anymail/", "/logout/", "/static/")
# Bounded so the test stays well under a minute on a busy machine.
MAX_PAGES = 60
PAGES_PER_SHAPE = 1
EXAMPLES = 50

GARBAGE = [
    "",
    " ",
    "abc",
    "0",
    "-1",
    "1.5",
    "1e309",
    "NaN",
    "2147483648",
    "-9223372036854775809",
    "99999999999999999999999",
    "\x00",
    "a\x00b",
    "a/b",
    "../../etc/passwd",
    "%",
    "' OR 1=1 --",
    "2026-13-45",
    "0001-01-01",
    "9999-12-31",
    "9999-W99",
    "<img src=x onerror=alert(1)>",
    "ﬀ" * 300,
    "x" * 5000,
]
garbage = st.one_of(
    st.sampled_from(GARBAGE),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
)


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> offered values

    @property
    def key(self) -> tuple:
        return (self.method, route_of(self.action), tuple(sorted(self.fields)))


class PageParser(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            action = a.get("action") or self.page
            self._form = Form(self.page, action, a.get("method", "get").lower())
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select", "button"):
            name = a.get("name")
            if not name or name == "csrfmiddlewaretoken":
                return
            values = self._form.fields.setdefault(name, [])
            if a.get("value"):
                values.append(a["value"])
            if tag == "select":
                self._select = name
        elif tag == "option" and self._form is not None and self._select:
            self._form.fields[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def route_of(url: str) -> str | None:
    path = urlsplit(url).path
    try:
        return resolve(path).route
    except Resolver404:
        return None


def web_routes() -> set[str]:
    """Every route of the URLconf outside the skipped areas."""
    found = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found.add(route)

    walk(get_resolver().url_patterns)
    return {r for r in found if not ("/" + r.lstrip("^")).startswith(SKIPPED_PREFIXES)}


def local(url: str, page: str) -> str | None:
    parts = urlsplit(url)
    ours = ("testserver", urlsplit(django_settings.SITE_URL).netloc)
    if parts.netloc and parts.netloc not in ours:
        return None  # another site
    path = parts.path if parts.path.startswith("/") else None
    if path is None or path.startswith(SKIPPED_PREFIXES):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def crawled(client, roles):
    world = build_world()
    manager = world.manager
    war_room.war_room_activate(
        incident=world.escalated, actor=manager, reason="unclear_scope", commander=manager
    )
    vendors.vendor_case_open(
        incident=world.escalated,
        actor=manager,
        vendor="AWS",
        case_id="123",
        severity="Production system down",
        owner=manager,
    )
    review = reviews.review_create(incident=world.resolved, actor=manager)
    reviews.action_item_add(
        review=review, actor=manager, title="Add monitoring", owner=manager, due_date=date.today()
    )
    reviews.review_confirm_similar(review=review, actor=manager, incidents=[world.soon])
    # An on-call schedule the manager is on: its page, and both calendar feeds linked there;
    # and a cover request the manager made, with its buttons on the requests page.
    team = Group.objects.create(name="fuzz-oncall")
    peer = UserFactory(username="fuzz-peer")
    peer.groups.add(team)
    schedule = make_schedule(name="Fuzz on-call", spec=oncall_spec([manager.username]), team=team)
    soon = timezone.now() + timedelta(hours=1)
    schedules.cover_request(
        actor=manager, schedule=schedule, to_person=peer, start=soon, end=soon + timedelta(hours=1)
    )
    client.login(username=manager.username, password=PASSWORD)

    start = [
        "/",
        "/login/",
        "/healthz",
        "/incidents/",
        "/incidents/new/",
        "/profile/",
        "/queues/",
        "/metrics/",
        "/reports/weekly/",
        "/policies/what-if/",
        "/status/",  # the public status page (seed 002)
        f"/incidents/{world.escalated.reference}/",
        f"/incidents/{world.resolved.reference}/pir/edit/",
        local(
            status_url(
                incident_id=world.breached.pk, email=world.breached.account.primary_contact_email
            ),
            "",
        ),
    ]
    seen_routes: dict[tuple, int] = {}
    pages, forms, queue = [], {}, list(start)
    visited = set()
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        # A few pages per route and query shape are enough.
        shape = (route_of(url), tuple(sorted(k for k, _ in parse_qsl(urlsplit(url).query))))
        if seen_routes.get(shape, 0) >= PAGES_PER_SHAPE:
            continue
        seen_routes[shape] = seen_routes.get(shape, 0) + 1
        response = client.get(url)
        assert response.status_code < 500, url
        pages.append(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = PageParser(urlsplit(url).path)
        parser.feed(response.content.decode())
        for link in parser.links:
            target = local(link, url)
            if target and target not in visited:
                queue.append(target)
        for form in parser.forms:
            target = local(form.action, url)
            if target:
                form.action = target
                forms.setdefault(form.key, form)
    return pages, list(forms.values())


def test_every_web_route_is_reached_and_survives_garbage(client, crawled):
    pages, forms = crawled
    reached = {route_of(url) for url in pages} | {route_of(f.action) for f in forms}
    missing = web_routes() - reached
    assert not missing, f"routes the crawl never reached: {sorted(missing)}"
    assert len(forms) >= 25, [f.action for f in forms]

    def send(form: Form, data: dict, action: str | None = None):
        url = action or form.action
        if form.method == "post":
            response = client.post(url, data)
        else:
            response = client.get(url.split("?")[0], data)
        assert response.status_code < 500, (form.method, url, data)

    # Every form once with each kind of garbage in all of its fields...
    for form in forms:
        for value in ("abc", "99999999999999999999999"):
            send(form, dict.fromkeys(form.fields, value))
    # ...every page's query string with garbage in each parameter...
    one_per_route = {route_of(url): url for url in pages}
    for url in one_per_route.values():
        path, query = url.partition("?")[::2]
        names = {k for k, _ in parse_qsl(query)} | {"page", "sort", "week"}
        for value in ("99999999999999999999999", "a/b\x00"):
            response = client.get(path, dict.fromkeys(names, value))
            assert response.status_code < 500, (path, value)

    # ...then random mixes of valid offered values and garbage, and garbage ids in URLs.
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def fuzz(data):
        form = data.draw(st.sampled_from(forms))
        values = {}
        for name, offered in form.fields.items():
            choices = st.sampled_from(offered) if offered else garbage
            values[name] = data.draw(st.one_of(choices, garbage, st.just(None)), label=name)
        values = {k: v for k, v in values.items() if v is not None}
        action = form.action
        segments = action.split("?")[0].split("/")
        if any(s.isdigit() for s in segments) and data.draw(st.booleans(), label="id"):
            huge = data.draw(st.sampled_from(["0", "2147483648", "99999999999999999999999"]))
            action = "/".join(huge if s.isdigit() else s for s in segments)
        send(form, values, action)

    fuzz()
