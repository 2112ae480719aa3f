"""Web views that change state: one view per action, its rule declared once.

`@action_view("incident.comment")` is the web's counterpart of the API's
`required_permissions`: it sends the anonymous to sign in, asks
`incidents.permissions.require(user, rule)` before the view runs, then lets only a
POST through. A role that may not do the action hears 403 before anything about
the incident is looked up, as `require` and the API answer; the view then finds
the incident the user may see (404 otherwise) and calls the service, which asks
the same rule again with the incident. The declared rule is `view.rule`; a test
(tests/portal/test_web_actions_declare_rules.py) fails for a web view that takes
a POST and declares none.

`action_routes({...})` serves a URL that names its action (`.../<slug:action>/`,
the shape the templates post to) from one view per action; another name is a 404.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from incidents.permissions import RULES, require

View = Callable[..., HttpResponse]


def action_view(rule: str, *, shows_form: bool = False) -> Callable[[View], View]:
    """Declare the rule of a view that changes state.

    shows_form: the view also answers GET with its form (the form page and its
    POST share a URL); the rule is asked of the POST, the GET keeps its own checks.
    """
    if rule not in RULES:  # a typo fails at import, not on the first request
        raise KeyError(f"No rule {rule!r} in incidents.permissions.RULES.")

    def declare(view: View) -> View:
        answered = view if shows_form else require_POST(view)

        @wraps(view)
        def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST" or not shows_form:
                require(request.user, rule)
            return answered(request, *args, **kwargs)

        guarded = login_required(checked)
        guarded.rule = rule
        return guarded

    return declare


def action_routes(views: Mapping[str, View]) -> View:
    """One URL, `.../<slug:action>/`, served by one view per action name."""
    for name, view in views.items():
        if not hasattr(view, "rule"):
            raise TypeError(f"The {name!r} view declares no rule (use @action_view).")

    @login_required
    def route(request: HttpRequest, *args, action: str, **kwargs) -> HttpResponse:
        view = views.get(action)
        if view is None:
            raise Http404("No such action.")
        return view(request, *args, **kwargs)

    route.actions = dict(views)
    return route
