"""Review queues: what each holds, filters, sorting, visibility, a fixed query count."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from escalations import queues
from tests.escalations.review_scenario import NOW, build_world
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(roles):
    with time_machine.travel(NOW, tick=False):
        yield build_world()


def refs(user, slug, **filters):
    queue = queues.BY_SLUG[slug]
    rows = queues.sorted_rows(
        queue, queues.queue_rows(queue, user, now=NOW, filters=filters), queue.default_sort
    )
    return [queue.incident_of(row).reference for row in rows]


def test_each_queue_holds_what_its_name_says(world):
    w = world
    assert refs(w.manager, "breaching-soon") == [w.soon.reference]
    # Breached: most overdue first; the escalated one's L1 response clock was met.
    assert refs(w.manager, "breached") == [w.breached.reference]
    assert refs(w.manager, "handoffs") == [w.escalated.reference]
    assert refs(w.manager, "decisions") == [w.escalated.reference]
    assert set(refs(w.manager, "unassigned")) == {
        w.soon.reference,
        w.breached.reference,
        w.fresh.reference,
        w.escalated.reference,  # the receiving level owns it once it acknowledges
    }
    assert refs(w.manager, "security") == [w.secret.reference]
    assert refs(w.manager, "notifications") == [w.breached.reference]
    assert refs(w.manager, "ping-pong") == []
    assert w.resolved.reference not in {
        ref
        for slug in ("breaching-soon", "breached", "unassigned")
        for ref in refs(w.manager, slug)
    }


def test_time_passing_moves_incidents_between_queues_without_any_write(world):
    w = world
    later = NOW + timedelta(minutes=15)
    queue = queues.BY_SLUG["breached"]
    breached = queues.queue_rows(queue, w.manager, now=later, filters={})
    # 'soon' (opened 65 minutes earlier) is now past its one-hour first response.
    assert w.soon.pk in set(breached.values_list("pk", flat=True))


def test_filters_narrow_every_queue(world):
    w = world
    assert refs(w.manager, "unassigned", severity="P1") == [w.breached.reference]
    assert refs(w.manager, "unassigned", tier="enterprise") == [w.breached.reference]
    assert refs(w.manager, "breached", tier="standard") == []
    assert refs(w.manager, "decisions", level=2) == [w.escalated.reference]
    assert refs(w.manager, "decisions", level=1) == []
    assert refs(w.manager, "security", assignee=w.security) == [w.secret.reference]
    assert refs(w.manager, "security", policy="standard") == [w.secret.reference]
    assert refs(w.manager, "security", policy="other") == []


def test_security_incidents_stay_hidden_from_those_who_may_not_see_them(world):
    w = world
    assert "security" not in {q.slug for q in queues.queues_for(w.lead)}
    assert "security" in {q.slug for q in queues.queues_for(w.security)}
    assert w.secret.reference in refs(w.manager, "breaching-soon") + refs(w.manager, "security")
    for slug in ("breaching-soon", "breached", "unassigned", "handoffs"):
        assert w.secret.reference not in refs(w.lead, slug)


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_the_page_shows_counts_tabs_rows_and_links(client, world):
    w = world
    login(client, w.lead)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("queue", args=["unassigned"]))
    assert response.status_code == 200
    html = response.content.decode()
    counts = dict(
        re.findall(r'data-queue="([\w-]+)">\s*[^<]+<span class="count[^"]*">(\d+)<', html)
    )
    assert counts["unassigned"] == "4"
    assert counts["breached"] == "1"
    assert 'data-queue="security"' not in html  # the Security group's tab only
    assert reverse("incidents:detail", args=[w.breached.reference]) in html
    assert "overdue by 1h" in html  # the breached one's first response was due an hour ago
    assert "Not available yet" not in html
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("queue", args=["pirs"]))
    assert "Not available yet" in response.content.decode()


def test_sorting_and_filter_form_errors(client, world):
    w = world
    login(client, w.manager)
    with time_machine.travel(NOW, tick=False):
        newest = client.get(reverse("queue", args=["unassigned"]), {"sort": "opened"})
        oldest = client.get(reverse("queue", args=["unassigned"]), {"sort": "oldest"})
        bad = client.get(reverse("queue", args=["unassigned"]), {"severity": "P9"})
    order = [w.fresh.reference, w.soon.reference, w.breached.reference, w.escalated.reference]
    positions = [newest.content.decode().index(ref) for ref in order]
    assert positions == sorted(positions)
    positions = [oldest.content.decode().index(ref) for ref in order]
    assert positions == sorted(positions, reverse=True)
    assert bad.status_code == 200
    assert "Select a valid choice" in bad.content.decode()


def test_only_leads_and_up_see_the_queues(client, world):
    login(client, world.agent)
    assert client.get(reverse("queues")).status_code == 403
    client.logout()
    assert client.get(reverse("queues")).status_code == 302  # to the login page


def test_unknown_or_hidden_queue_is_404(client, world):
    login(client, world.lead)
    assert client.get(reverse("queue", args=["security"])).status_code == 404
    assert client.get(reverse("queue", args=["nope"])).status_code == 404


@pytest.mark.parametrize("slug", [q.slug for q in queues.QUEUES if q.slug != "security"])
def test_each_queue_page_takes_a_fixed_number_of_queries(
    client, world, django_assert_num_queries, slug
):
    login(client, world.manager)
    with time_machine.travel(NOW, tick=False):
        client.get(reverse("queue", args=[slug]))  # warm caches (content types, policies)
        # session, user, permissions (2), Security group membership (1), filter
        # choices (5), one count per available queue the manager sees (7), the rows
        # (1, none for a queue not available yet)
        expected = 2 + 2 + 1 + 5 + 7 + (1 if queues.BY_SLUG[slug].available else 0)
        with django_assert_num_queries(expected):
            response = client.get(reverse("queue", args=[slug]), {"severity": "P1"})
    assert response.status_code == 200
