"""Every web view that takes a POST declares the rule it asks (incidents.actions), as
the API's viewsets declare `required_permissions`; and the declared rule is what
lets a role through, for every role and every web action.

A new dispatcher (`@require_POST def thing_action(request, reference, action)`)
without a declared rule fails `test_every_web_view_that_takes_a_post_declares_its_rule`.
"""

from __future__ import annotations

import inspect
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.decorators.http import require_POST

from incidents.actions import action_routes, action_view
from incidents.permissions import RULES
from portal.roles import ALL_ROLES
from tests.portal.permission_world import expected

# Routes with rules of their own: the admin (tests/portal/test_permission_rules.py walks
# its actions), the API (the same test, through required_permissions), the ESP webhooks
# (the system, behind basic auth) and signing in and out.
OTHER_RULES = ("admin/", "api/", "anymail/", "login/", "logout/")

# Views that take a POST yet change nothing a rule governs, and why.
NO_RULE = {
    "incidents.views.customer_status": (
        "the customer, on a signed link: the system acts (no actor, never refused), throttled"
    ),
    "portal.views.profile": "a user's own name, phone and time zone, not the domain",
    "escalations.web.schedules.feed_links_reset": "a user's own calendar links, not the domain",
}


def web_patterns(patterns=None, prefix=""):
    """(route, URLPattern) of the web pages, outside the routes with rules of their own."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if route.lstrip("^").startswith(OTHER_RULES):
            continue
        if isinstance(pattern, URLResolver):
            yield from web_patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def takes_post(view) -> bool:
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return hasattr(view_class, "post")
    # Its source, decorators included: request.POST, request.method == "POST", @require_POST.
    return "POST" in inspect.getsource(inspect.unwrap(view))


def qualified(view) -> str:
    original = inspect.unwrap(view)
    return f"{original.__module__}.{original.__qualname__}"


def undeclared(patterns) -> list[str]:
    """Web views that take a POST and declare no rule (or one the table lacks)."""
    found = []
    for route, pattern in patterns:
        view = pattern.callback
        routed = getattr(view, "actions", None)
        if routed is not None:  # action_routes: one view per action name
            found += [
                f"{route} [{name}]"
                for name, action in routed.items()
                if getattr(action, "rule", None) not in RULES
            ]
        elif hasattr(view, "rule"):
            if view.rule not in RULES:
                found.append(route)
        elif takes_post(view) and qualified(view) not in NO_RULE:
            found.append(route)
    return found


def test_every_web_view_that_takes_a_post_declares_its_rule():
    assert undeclared(web_patterns()) == []


def test_a_dispatcher_without_a_rule_is_found():
    """The check itself: a view branching on its action, as the old ones did, is reported."""
    from django.urls import path

    @require_POST
    def thing_action(request, reference, action):
        return None

    def thing_page(request, reference):
        return None

    patterns = [
        ("t/<str:reference>/<slug:action>/", path("x", thing_action)),
        ("t/<str:reference>/", path("y", thing_page)),
    ]
    assert undeclared(patterns) == ["t/<str:reference>/<slug:action>/"]


def test_the_no_rule_list_names_views_that_exist():
    views = {qualified(pattern.callback) for _, pattern in web_patterns()}
    assert set(NO_RULE) <= views


def test_routes_and_declarations_refuse_what_has_no_rule():
    with pytest.raises(KeyError):
        action_view("incident.explode")

    def bare(request, reference):
        return None

    with pytest.raises(TypeError):
        action_routes({"bare": bare})


# --- the declared rule is the gate ------------------------------------------------------------


def fill(route: str, values: dict) -> str:
    return "/" + re.sub(r"<\w+:(\w+)>", lambda part: values[part[1]], route)


def declared_posts() -> list[tuple[str, str]]:
    """(URL, rule) of every declared web action, on an incident that does not exist."""
    values = {"reference": "NO-SUCH-1", "pk": "1"}
    found = []
    for route, pattern in web_patterns():
        view = pattern.callback
        routed = getattr(view, "actions", None) or ({None: view} if hasattr(view, "rule") else {})
        for name, action in routed.items():
            found.append((fill(route, {**values, "action": name}), action.rule))
    return found


def test_the_walk_covers_each_old_dispatcher():
    urls = {url for url, _ in declared_posts()}
    for url in (
        "/incidents/NO-SUCH-1/comment/",
        "/incidents/NO-SUCH-1/escalation/decide/",
        "/incidents/NO-SUCH-1/war-room/activate/",
        "/incidents/NO-SUCH-1/vendor-cases/open/",
        "/incidents/NO-SUCH-1/vendor-cases/1/update/",
        "/incidents/NO-SUCH-1/pir/publish/",
        "/incidents/NO-SUCH-1/pir/items/1/close/",
        "/incidents/NO-SUCH-1/pir/edit/",
        "/incidents/new/",
    ):
        assert url in urls


@pytest.mark.django_db
@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_role_gets_through_exactly_where_its_rules_allow(roles, role):
    """A refused role hears 403 before the (missing) incident is looked up; an allowed one
    gets as far as looking it up (404), or the form's errors (400) on the create page."""
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory(role=role))
    for url, rule in declared_posts():
        status = client.post(url).status_code
        if expected(role, RULES[rule]):
            assert status in (400, 404), (role, url, rule, status)
        else:
            assert status == 403, (role, url, rule, status)


@pytest.mark.django_db
def test_anyone_else_signs_in_first_and_a_get_is_refused(client, agent):
    url = "/incidents/NO-SUCH-1/escalation/escalate/"
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    client.force_login(agent)
    assert client.get(url).status_code == 405
    assert client.post("/incidents/NO-SUCH-1/escalation/explode/").status_code == 404
