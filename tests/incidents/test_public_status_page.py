"""The public status page, /status/ (seed 002, Public Communication: "Status Page: Update
public status page"; README Seed rules row 002-29).

Anyone may read it without signing in. It lists the incidents a manager or commander
published, each with its public title (never the internal one), public state and public
updates, newest first; "All systems operational" when nothing published is ongoing;
resolved ones for STATUS_PAGE_RESOLVED_DAYS. Publishing, the public title, each update and
withdrawing are services with one rule each; security incidents are refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import EventKind, Incident
from incidents.permissions import ActionNotAllowed, NotVisible
from tests.factories import AccountFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db

PAGE = "/status/"


@pytest.fixture
def lead(roles):
    return UserFactory(username="lead1", role="Team Lead")


@pytest.fixture
def incident(default_policy, agent):
    account = AccountFactory(name="Globex Corporation", primary_contact_name="Hank Scorpio")
    incident = make_incident(
        actor=agent, title="Globex checkout pool exhausted (db-7 leak)", account=account
    )
    services.incident_acknowledge(incident=incident, actor=agent)
    services.incident_comment(incident=incident, actor=agent, body="INTERNAL: blame db-7")
    services.incident_post_public_update(
        incident=incident, actor=agent, body="Dear Hank, we are on your checkout issue."
    )
    return Incident.objects.get(pk=incident.pk)


def publish(incident, actor, **kw):
    values = {"public_title": "Checkout is slow", "body": "We are investigating.", **kw}
    return services.status_page_publish(incident=incident, actor=actor, **values)


def post_update(incident, actor, state, body, **kw):
    return services.status_page_post_update(
        incident=incident, actor=actor, state=state, body=body, **kw
    )


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- the page, as anyone sees it -------------------------------------------------------------


def test_nothing_published_reads_all_systems_operational(client, incident):
    """Seed 002-29: an unpublished incident is not on the public page."""
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "All systems operational" in text_of(response)
    assert "checkout" not in text_of(response).lower()


def test_a_published_incident_shows_public_title_state_and_updates_newest_first(
    client, incident, manager
):
    """Seed 002-29 "Update public status page": public title, state, updates newest first;
    nothing internal (title, notes, customer update, customer, assignee)."""
    now = timezone.now()
    publish(incident, manager, now=now - timedelta(minutes=30))
    post_update(
        incident,
        manager,
        "identified",
        "We found the cause.",
        now=now - timedelta(minutes=10),
    )
    response = client.get(PAGE)
    page = text_of(response)
    assert response.status_code == 200
    assert "All systems operational" not in page
    assert "1 ongoing incident" in page
    assert "Checkout is slow" in page
    assert 'data-public-state="identified"' in page
    assert page.index("We found the cause.") < page.index("We are investigating.")
    for secret in (
        "pool exhausted",
        "db-7",
        "INTERNAL",
        "Dear Hank",
        "Globex",
        "Hank Scorpio",
        str(incident.assignee),
        incident.reference,
    ):
        assert secret not in page, secret


def test_the_page_needs_no_sign_in_is_cacheable_and_reads_a_fixed_number_of_queries(
    client, default_policy, manager
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(PAGE).status_code == 200
        return len(queries)

    incidents = [make_incident(title=f"Internal {n}") for n in range(3)]
    publish(incidents[0], manager)
    few = count()
    for n, incident in enumerate(incidents[1:]):
        publish(incident, manager, public_title=f"Public {n}")
        for m in range(3):
            post_update(incident, manager, "monitoring", f"Update {m}")
    assert count() == few
    response = client.get(PAGE)
    assert response["Cache-Control"] == "public, max-age=0, s-maxage=30"
    assert client.get(PAGE, headers={"if-none-match": response["ETag"]}).status_code == 304
    assert client.post(PAGE).status_code == 405


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_page_leaves_the_session_alone_so_shared_caches_may_keep_it(
    client, incident, manager, signed_in
):
    """No `Vary: Cookie` (which defeats `s-maxage` in a CDN) and no cookie set, whoever
    asks; a signed-in visitor costs no session or user query either."""
    publish(incident, manager)
    if signed_in:
        client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PAGE)
    assert response.status_code == 200
    assert "cookie" not in response.get("Vary", "").lower()
    assert not response.cookies
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "django_session" not in tables and "portal_user" not in tables


def test_the_etag_follows_the_data_not_the_clock_and_a_304_skips_the_render(
    client, incident, manager
):
    """The body says "Checked HH:MM", yet an unchanged page stays a 304 minutes later (no
    template rendered); a new public update makes it a 200 with a new ETag."""
    import time_machine

    now = timezone.now()
    publish(incident, manager, now=now - timedelta(minutes=5))
    with time_machine.travel(now, tick=False):
        etag = client.get(PAGE)["ETag"]
    with time_machine.travel(now + timedelta(minutes=3), tick=False):
        again = client.get(PAGE, headers={"if-none-match": etag})
        assert again.status_code == 304
        assert not again.templates
        assert again["Cache-Control"] == "public, max-age=0, s-maxage=30"
        post_update(incident, manager, "identified", "Found it.")
        changed = client.get(PAGE, headers={"if-none-match": etag})
    assert changed.status_code == 200 and "Found it." in changed.content.decode()
    assert changed["ETag"] != etag


def test_hostile_public_text_is_shown_escaped(client, incident, manager):
    publish(
        incident,
        manager,
        public_title="<script>alert('t')</script>",
        body="<img src=x onerror=alert(1)>",
    )
    page = client.get(PAGE).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_resolved_incidents_stay_for_the_configured_days_then_leave(
    client, incident, manager, settings
):
    settings.STATUS_PAGE_RESOLVED_DAYS = 3
    now = timezone.now()
    publish(incident, manager, now=now - timedelta(days=2, hours=1))
    post_update(
        incident,
        manager,
        "resolved",
        "Fixed.",
        now=now - timedelta(days=2),
    )
    page = text_of(client.get(PAGE))
    assert "All systems operational" in page
    assert "Recently resolved" in page and "Checkout is slow" in page
    settings.STATUS_PAGE_RESOLVED_DAYS = 1
    page = text_of(client.get(PAGE))
    assert "Checkout is slow" not in page


def test_an_incident_resolved_inside_shows_resolved_not_ongoing(client, incident, manager):
    publish(incident, manager)
    services.incident_change_status(
        incident=incident, status="resolved", actor=manager, note="Fixed"
    )
    page = text_of(client.get(PAGE))
    assert "All systems operational" in page
    assert 'data-public-state="resolved"' in page
    services.incident_reopen(incident=incident, actor=manager, reason="Back again")
    page = text_of(client.get(PAGE))
    assert 'data-public-state="investigating"' in page


def test_a_resolved_or_closed_incident_is_not_published(client, incident, manager):
    """Seed 002-29: publishing an incident resolved long ago would "succeed" yet show nothing
    (or show "Resolved" whatever state the publisher chose): refused, with the reason."""
    services.incident_change_status(
        incident=incident, status="resolved", actor=manager, note="Fixed"
    )
    with pytest.raises(ValidationError, match="resolved or closed"):
        publish(incident, manager, state="identified")
    assert Incident.objects.get(pk=incident.pk).status_page_published_at is None
    assert "Checkout is slow" not in text_of(client.get(PAGE))


def test_an_internal_resolution_from_before_publishing_does_not_override_the_public_state(
    client, incident, manager
):
    """The selector decides "publicly resolved" alone: the incident's own resolution
    counts only when it came after the publication (rows from before the refusal above)."""
    now = timezone.now()
    publish(incident, manager, state="identified", now=now)
    Incident.objects.filter(pk=incident.pk).update(
        status="resolved", resolved_at=now - timedelta(days=30)
    )
    page = text_of(client.get(PAGE))
    assert 'data-public-state="identified"' in page and "1 ongoing incident" in page
    Incident.objects.filter(pk=incident.pk).update(resolved_at=now + timedelta(minutes=1))
    assert 'data-public-state="resolved"' in text_of(client.get(PAGE))


def test_withdrawn_incidents_leave_and_a_new_publication_shows_only_what_follows(
    client, incident, manager
):
    now = timezone.now()
    publish(incident, manager, body="First words", now=now - timedelta(hours=2))
    services.status_page_withdraw(
        incident=incident, actor=manager, reason="Wrong incident", now=now - timedelta(hours=1)
    )
    assert "All systems operational" in text_of(client.get(PAGE))
    publish(incident, manager, body="Second words", now=now)
    page = text_of(client.get(PAGE))
    assert "Second words" in page and "First words" not in page


def test_withdrawing_clears_the_public_state_so_publishing_again_as_resolved_shows_it(
    client, incident, manager, settings
):
    """Seed 002-29: withdrawn long ago after a "Resolved" update, then published again as
    resolved: the new publication is resolved now, not at the old time (which had left it
    off the page although the service said "Published")."""
    settings.STATUS_PAGE_RESOLVED_DAYS = 3
    now = timezone.now()
    publish(incident, manager, now=now - timedelta(days=10))
    post_update(
        incident,
        manager,
        "resolved",
        "Fixed.",
        now=now - timedelta(days=9),
    )
    services.status_page_withdraw(
        incident=incident, actor=manager, reason="Wrong incident", now=now - timedelta(days=8)
    )
    incident.refresh_from_db()
    assert (incident.status_page_state, incident.status_page_resolved_at) == ("", None)
    publish(incident, manager, state="resolved", body="All fine again.", now=now)
    incident.refresh_from_db()
    assert incident.status_page_resolved_at == now
    page = text_of(client.get(PAGE))
    assert "Recently resolved" in page and "All fine again." in page


# --- security incidents ------------------------------------------------------------------------


def test_a_security_incident_cannot_be_published(default_policy, manager):
    secret = make_incident(title="Credential stuffing", is_security=True)
    with pytest.raises(ValidationError, match="Security incidents are never published"):
        publish(secret, manager)
    assert Incident.objects.get(pk=secret.pk).status_page_published_at is None


def test_an_incident_marked_security_after_publishing_leaves_the_page(client, incident, manager):
    publish(incident, manager)
    services.incident_update_details(
        incident=incident, actor=manager, changes={"is_security": True}
    )
    assert "Checkout is slow" not in text_of(client.get(PAGE))
    with pytest.raises(ValidationError, match="Security incidents"):
        post_update(incident, manager, "monitoring", "x")
    services.status_page_withdraw(incident=incident, actor=manager, reason="Security")


# --- the services' checks ----------------------------------------------------------------------


def test_publishing_needs_a_title_an_update_and_a_known_state(incident, manager):
    with pytest.raises(ValidationError) as error:
        publish(incident, manager, public_title="  ", body="", state="on fire")
    assert set(error.value.error_dict) == {"public_title", "body", "state"}


def test_updates_and_titles_need_a_published_incident(incident, manager):
    with pytest.raises(ValidationError, match="publish it first"):
        post_update(incident, manager, "identified", "x")
    with pytest.raises(ValidationError, match="publish it first"):
        services.status_page_set_title(incident=incident, actor=manager, public_title="x")
    publish(incident, manager)
    with pytest.raises(ValidationError, match="already"):
        publish(incident, manager)


def test_each_change_is_one_timeline_entry_public_only_where_the_public_reads_it(incident, manager):
    before = incident.events.count()
    publish(incident, manager)
    services.status_page_set_title(incident=incident, actor=manager, public_title="Slow checkout")
    post_update(incident, manager, "monitoring", "Watching")
    services.status_page_withdraw(incident=incident, actor=manager, reason="Done")
    kinds = list(incident.events.order_by("id").values_list("kind", "visibility")[before:])
    assert kinds == [
        (EventKind.STATUS_PAGE_PUBLISHED, "public"),
        (EventKind.STATUS_PAGE_TITLE, "internal"),
        (EventKind.STATUS_PAGE_UPDATE, "public"),
        (EventKind.STATUS_PAGE_WITHDRAWN, "internal"),
    ]
    incident.refresh_from_db()
    assert incident.status_page_title == "Slow checkout"
    assert incident.title == "Globex checkout pool exhausted (db-7 leak)"


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        (services.status_page_publish, {"public_title": "T", "body": "B"}),
        (services.status_page_set_title, {"public_title": "T2"}),
        (services.status_page_post_update, {"state": "monitoring", "body": "B"}),
        (services.status_page_withdraw, {"reason": "R"}),
    ],
)
def test_agents_may_not_but_team_leads_and_managers_may(
    call, kwargs, incident, agent, lead, manager
):
    """One rule per action (incidents.permissions: status_page.*), asked by the service."""
    if call is not services.status_page_publish:
        publish(incident, manager, public_title="T0")
    with pytest.raises(ActionNotAllowed):
        call(incident=incident, actor=agent, **kwargs)
    call(incident=incident, actor=lead, **kwargs)


def test_someone_who_may_not_see_the_incident_gets_not_found(default_policy, lead, manager):
    secret = make_incident(title="Credential stuffing", is_security=True)
    with pytest.raises(NotVisible):
        publish(secret, lead)


# --- the incident page's controls --------------------------------------------------------------


def test_the_incident_page_offers_the_controls_only_where_the_rule_allows(
    client, incident, agent, manager
):
    url = reverse("incidents:detail", args=[incident.reference])
    client.force_login(agent)
    assert "status-page-publish" not in client.get(url).content.decode()
    refused = client.post(
        reverse("incidents:action", args=[incident.reference, "status-page-publish"]),
        {"public_title": "T", "state": "investigating", "body": "B"},
    )
    assert refused.status_code == 403
    client.force_login(manager)
    assert "status-page-publish" in client.get(url).content.decode()
    done = client.post(
        reverse("incidents:action", args=[incident.reference, "status-page-publish"]),
        {"public_title": "Slow checkout", "state": "investigating", "body": "Looking"},
    )
    assert done.status_code == 302
    page = client.get(url).content.decode()
    assert "status-page-update" in page and "status-page-withdraw" in page
    bad = client.post(
        reverse("incidents:action", args=[incident.reference, "status-page-update"]),
        {"state": "on fire", "body": ""},
    )
    assert bad.status_code == 400
    assert "Not saved" in bad.content.decode()


def test_the_incident_page_does_not_offer_publishing_a_security_incident(
    client, default_policy, manager
):
    secret = make_incident(title="Credential stuffing", is_security=True)
    client.force_login(manager)
    page = client.get(reverse("incidents:detail", args=[secret.reference])).content.decode()
    assert "status-page-publish" not in page
    assert "Publish on the public status page" not in page


def test_a_published_incident_marked_security_offers_only_withdrawing(client, incident, manager):
    """It is off the public page already: the page does not claim it is "on the public
    status page since", and offers no update or new title."""
    publish(incident, manager)
    Incident.objects.filter(pk=incident.pk).update(is_security=True)
    client.force_login(manager)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert "data-status-page-refused" in page
    assert "On the <a" not in page and "public status page</a> since" not in page
    assert "action-status-page-withdraw" in page
    assert "action-status-page-update" not in page and "action-status-page-title" not in page


def test_each_status_page_form_is_offered_by_its_own_rule(client, incident, manager, monkeypatch):
    """The publish rule alone does not bring the other three forms: each asks its rule."""
    from incidents import views

    publish(incident, manager)
    refused = {"status_page.withdraw", "status_page.set_title"}
    real = views.allowed
    monkeypatch.setattr(
        views, "allowed", lambda user, rule, **kw: rule not in refused and real(user, rule, **kw)
    )
    client.force_login(manager)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert "action-status-page-update" in page
    assert "action-status-page-withdraw" not in page and "action-status-page-title" not in page


def test_the_tracking_document_logs_what_the_public_was_told(client, incident, manager):
    """Seed 003 "Communication Log [All customer/internal communications]" with seed 002's
    status page posts among them."""
    publish(incident, manager, body="Checkout is slow for some.")
    client.force_login(manager)
    text = client.get(reverse("escalations:tracking", args=[incident.reference])).content.decode()
    log = text.split("## Communication Log\n")[1].split("\n\n")[0]
    assert "(public status page)" in log
    assert "Checkout is slow for some." in log


def test_web_admin_and_api_refuse_a_security_incident_alike(client, default_policy, manager):
    """Seed 000 limited distribution: the publish service refuses, and each route says so."""
    from django.contrib import admin
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory

    from tests.api_client import token_client

    secret = make_incident(title="Credential stuffing", is_security=True)
    said = "Security incidents are never published on the public status page"
    body = {"public_title": "Sign-in trouble", "state": "investigating", "body": "Looking"}

    client.force_login(manager)
    web = client.post(
        reverse("incidents:action", args=[secret.reference, "status-page-publish"]), body
    )
    assert web.status_code == 400 and said in web.content.decode()

    api = token_client(manager).post(
        f"/api/incidents/{secret.reference}/status-page/publish/", body, format="json"
    )
    assert api.status_code == 400 and said in api.content.decode()

    request = RequestFactory().post("/admin/", {"apply": "1", **body})
    request.user, request.session = manager, {}
    request._messages = FallbackStorage(request)
    model_admin = admin.site._registry[Incident]
    response = model_admin.status_page_publish(request, Incident.objects.filter(pk=secret.pk))
    assert said in response.rendered_content

    assert Incident.objects.get(pk=secret.pk).status_page_published_at is None


def test_no_incident_admin_action_shares_a_name_with_a_model_field():
    """An admin action named like a field (status_page_title) is ambiguous to the admin's
    lookups and checks: the action is status_page_set_title."""
    from django.contrib import admin

    fields = {f.name for f in Incident._meta.get_fields()}
    actions = set(admin.site._registry[Incident].actions)
    assert "status_page_set_title" in actions
    assert not actions & fields
