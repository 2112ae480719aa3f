"""Review queues: what each holds, filters, sorting, visibility, a fixed query count."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from escalations.analytics import queues
from escalations.followup import reviews
from tests.escalations.review_scenario import NOW, at, build_follow_up, build_world
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(roles):
    with time_machine.travel(NOW, tick=False):
        yield build_world()


@pytest.fixture
def follow_up(world):
    with time_machine.travel(NOW, tick=False):
        return build_follow_up(world)


def queue_list(user, slug, *, now=NOW, **filters):
    queue = queues.BY_SLUG[slug]
    rows = queues.sorted_rows(
        queue, queues.queue_rows(queue, user, now=now, filters=filters), queue.default_sort
    )
    return list(rows)


def refs(user, slug, **filters):
    queue = queues.BY_SLUG[slug]
    return [queue.incident_of(row).reference for row in queue_list(user, slug, **filters)]


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
    assert refs(w.manager, "pirs") == [] and refs(w.manager, "action-items") == []
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
    assert counts["pirs"] == "0" and counts["action-items"] == "0"
    assert "Not available yet" not in html and "n/a" not in html  # every queue has its data


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
    # session, user, permissions (2), Security group membership (1), filter choices
    # (5), one count per queue the manager sees (9: all but security), the rows (1:
    # owners, incidents, assignees and accounts joined in)
    expected = 2 + 2 + 1 + 5 + 9 + 1
    with time_machine.travel(NOW, tick=False):
        client.get(reverse("queue", args=[slug]))  # warm caches (content types, policies)
        with django_assert_num_queries(expected):
            response = client.get(reverse("queue", args=[slug]))
        assert response.status_code == 200
        # The same with reviews and action items in every queue that lists them.
        build_follow_up(world)
        with django_assert_num_queries(expected):
            response = client.get(reverse("queue", args=[slug]), {"sort": "severity"})
        with django_assert_num_queries(expected):
            response = client.get(reverse("queue", args=[slug]))
    assert response.status_code == 200
    if slug in ("pirs", "action-items"):
        assert len(re.findall(r"<tr>\s*<td><a href=", response.content.decode())) >= 2


# --- post-incident reviews and action items ----------------------------------------------------


def test_pirs_lists_unpublished_reviews_due_soonest_first(world, follow_up):
    f = follow_up
    rows = queue_list(world.manager, "pirs")
    # Published ones (on_time, late) are done; the pending one is not due yet but listed.
    assert [row.incident.reference for row in rows] == [
        f.unrequired.reference,  # due 8 Mar 12:00 (started by hand: due all the same)
        f.unpublished.reference,  # due 9 Mar 10:00
        f.classified.reference,  # due 10 Mar 12:00
        f.pending.reference,  # due 12 Mar 20:00
    ]
    assert [row.due_at for row in rows] == sorted(row.due_at for row in rows)
    assert {row.status for row in rows} == {"draft"}


def test_a_review_leaves_the_pirs_queue_when_published(world, follow_up):
    from escalations.models import PostIncidentReview
    from tests.escalations.review_scenario import COMPLETE

    review = PostIncidentReview.objects.get(incident=follow_up.unpublished)
    reviews.review_update(review=review, actor=world.agent, changes=COMPLETE, now=at(11, 9))
    reviews.review_submit(review=review, actor=world.agent, now=at(11, 10))
    assert follow_up.unpublished.reference in refs(world.manager, "pirs")  # in review: listed
    reviews.review_publish(review=review, actor=world.manager, now=at(11, 11))
    assert follow_up.unpublished.reference not in refs(world.manager, "pirs")


def test_a_reopened_incidents_review_is_not_due_until_it_resolves_again(world, follow_up):
    from incidents import services

    services.incident_reopen(
        incident=follow_up.pending, actor=world.agent, reason="It is back", now=at(11, 9)
    )
    assert follow_up.pending.reference not in refs(world.manager, "pirs")


def test_action_items_lists_open_items_past_their_due_date_only(world, follow_up):
    f = follow_up
    rows = queue_list(world.manager, "action-items")
    # Due 9 March (end of day: 10 Mar 00:00) and open; done, dropped and the breaker
    # (due 20 March) are not listed.
    assert [row.pk for row in rows] == [f.leak.pk, f.keys.pk]
    # Time passing brings the breaker in; marking it in progress keeps it there.
    reviews.action_item_update(
        item=f.breaker, actor=world.lead, status="in_progress", now=at(11, 13)
    )
    later = at(21, 0)
    assert [row.pk for row in queue_list(world.manager, "action-items", now=later)] == [
        f.leak.pk,
        f.keys.pk,
        f.breaker.pk,
    ]
    assert f.breaker.pk not in {row.pk for row in queue_list(world.manager, "action-items")}
    # Closing one takes it out, done or dropped.
    reviews.action_item_close(item=f.leak, actor=world.agent, status="done", now=at(11, 14))
    assert [row.pk for row in queue_list(world.manager, "action-items")] == [f.keys.pk]


def test_reviews_and_items_of_security_incidents_stay_with_those_who_may_see_them(world, follow_up):
    f = follow_up
    assert f.classified.reference in refs(world.manager, "pirs")
    assert f.classified.reference in refs(world.security, "pirs")
    assert f.classified.reference not in refs(world.lead, "pirs")
    assert refs(world.lead, "pirs") == [
        f.unrequired.reference,
        f.unpublished.reference,
        f.pending.reference,
    ]
    assert refs(world.lead, "action-items") == [f.late.reference]
    assert refs(world.security, "action-items") == [f.late.reference, f.classified.reference]
    counts = queues.queue_counts(queues.queues_for(world.lead), world.lead, now=NOW, filters={})
    assert counts["pirs"] == 3 and counts["action-items"] == 1


def test_filters_and_sorting_apply_to_the_follow_up_queues(world, follow_up):
    f = follow_up
    assert refs(world.manager, "pirs", severity="P0") == [
        f.unpublished.reference,
        f.pending.reference,
    ]
    assert refs(world.manager, "action-items", assignee=world.security) == [f.classified.reference]
    queue = queues.BY_SLUG["pirs"]
    newest = queues.sorted_rows(
        queue, queues.queue_rows(queue, world.manager, now=NOW, filters={}), "opened"
    )
    assert [row.incident.reference for row in newest] == [
        f.pending.reference,  # opened 10 Mar
        f.classified.reference,  # 8 Mar
        f.unpublished.reference,  # 7 Mar
        f.unrequired.reference,  # 6 Mar
    ]


def test_the_follow_up_pages_show_owners_and_time_left(client, world, follow_up):
    login(client, world.lead)
    with time_machine.travel(NOW, tick=False):
        pirs = client.get(reverse("queue", args=["pirs"])).content.decode()
        items = client.get(reverse("queue", args=["action-items"])).content.decode()
    # The unpublished review was due 9 Mar 10:00: 2 days 2 hours before NOW.
    assert "overdue by 2d 2h" in pirs
    assert "Draft" in pirs and str(world.agent) in pirs
    assert follow_up.classified.reference not in pirs
    assert "Fix the connection leak" in items and "Rotate the leaked keys" not in items
    assert "overdue by 1d 12h" in items  # due at the end of 9 March
    assert reverse("incidents:detail", args=[follow_up.late.reference]) in items
