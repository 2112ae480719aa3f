"""The on-call pages: every schedule with who is on call, the next handoff and gap warnings;
a schedule's final shifts in its zone and the reader's; "my shifts"; admin links only for
those whose rule allows a change; names escaped; a fixed number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalations.schedules import feeds
from tests.escalations.oncall_scenario import NOW, build
from tests.factories import UserFactory, make_schedule, oncall_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(roles):
    return build(people_roles={"lead": "Team Lead", "emma": "Support Agent"})


def get(client, user, name, *args):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(reverse(name, args=args))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def text(response) -> str:
    assert response.status_code == 200
    return text_of(response.content.decode())


def test_pages_need_a_sign_in(client, world):
    for name, args in (("schedules", ()), ("my_shifts", ()), ("schedule", (world.schedule.pk,))):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_schedules_page_shows_who_is_on_call_the_handoff_and_the_gap(client, world):
    lead = world.people["lead"]  # Europe/London
    page = text(get(client, lead, "schedules"))
    assert "Engineering primary/secondary" in page
    assert "Team " not in page  # no team given
    assert "On call now Emma Schulz" in page
    # The next handoff in the schedule's zone, then the reader's.
    assert "Next handoff Thu 5 Mar, 18:00 CET Thu 5 Mar, 17:00 GMT to Lucas Martin" in page
    assert "Nobody on call 1 time in the next 14 days" in page
    # The gap: same day, so the end's date is left out; the reader's zone below.
    assert (
        "Sat 7 Mar, 02:00 \N{EN DASH} 06:00 CET Sat 7 Mar, 01:00 \N{EN DASH} 05:00 GMT (4 h)"
        in page
    )
    assert (
        "1 schedule with nobody on call at some time in the next 14 days: "
        "Engineering primary/secondary (1 gap)"
    ) in page


def test_a_team_lead_gets_admin_links_an_agent_does_not(client, world):
    lead, emma = world.people["lead"], world.people["emma"]
    lead.is_staff = True
    lead.save()
    edit = reverse("admin:escalations_oncallschedule_change", args=[world.schedule.pk])
    add_override = reverse("admin:escalations_oncalloverride_add")
    html = get(client, lead, "schedules").content.decode()
    assert edit in html and f"{add_override}?schedule={world.schedule.pk}" in html
    detail = get(client, lead, "schedule", world.schedule.pk).content.decode()
    assert edit in detail
    for response in (
        get(client, emma, "schedules"),
        get(client, emma, "schedule", world.schedule.pk),
    ):
        assert response.status_code == 200
        assert "/admin/" not in response.content.decode()


def test_the_schedule_page_lists_the_final_shifts_in_both_zones(client, world):
    noah = world.people["noah"]  # America/New_York
    page = text(get(client, noah, "schedule", world.schedule.pk))
    assert "Final shifts, next 14 days" in page
    assert "yours (America/New_York) beside them" in page
    rows = re.findall(
        r"<tr class=\"[^\"]*\">(.*?)</tr>",
        get(client, noah, "schedule", world.schedule.pk).content.decode(),
        re.S,
    )
    cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]
    assert cells[0].startswith("Emma Schulz Wed 4 Mar, 13:00 CET Wed 4 Mar, 07:00 EST")
    assert cells[3].startswith("Nobody on call Sat 7 Mar, 02:00 CET Fri 6 Mar, 20:00 EST")
    assert cells[3].endswith(" 4")
    assert [c.split(" ")[0] for c in cells] == [
        "Emma",
        "Lucas",
        "Emma",
        "Nobody",
        "Emma",
        "Lucas",
        "Noah",
    ]
    assert "Noah Smith you" in cells[6].replace("  ", " ")


def test_a_reader_in_the_schedules_zone_sees_each_time_once(client, world):
    emma = world.people["emma"]  # Europe/Berlin, the schedule's zone
    page = text(get(client, emma, "schedule", world.schedule.pk))
    assert "Wed 4 Mar, 13:00 CET Thu 5 Mar, 18:00 CET" in page
    assert "beside them" not in page


def test_the_schedule_page_shows_a_working_feed_link(client, world):
    response = get(client, world.people["lead"], "schedule", world.schedule.pk)
    url = re.search(r'id="feed-url"[^>]*value="([^"]+)"', response.content.decode())[1]
    path = url.split("://", 1)[1].split("/", 1)[1]
    assert feeds.schedule_for_token(path.rsplit("/", 1)[1].removesuffix(".ics")) == world.schedule
    client.logout()
    with time_machine.travel(NOW, tick=False):
        feed = client.get("/" + path)
    assert feed.status_code == 200 and b"BEGIN:VEVENT" in feed.content


def test_my_shifts_shows_the_next_shifts_hours_and_my_feed(client, world):
    emma = world.people["emma"]  # Europe/Berlin
    response = get(client, emma, "my_shifts")
    page = text(response)
    assert "On call this month so far 51 h" in page
    assert "since 1 Mar, 00:00 CET" in page
    assert "Engineering primary/secondary now Wed 4 Mar, 13:00 CET Thu 5 Mar, 18:00 CET" in page
    assert "Mon 23 Mar, 10:00 CET Mon 30 Mar, 10:00 CEST" in page  # the short DST week
    url = re.search(r'id="feed-url"[^>]*value="([^"]+)"', response.content.decode())[1]
    assert feeds.person_for_token(url.rsplit("/", 1)[1].removesuffix(".ics")) == emma


def test_my_shifts_for_someone_without_shifts(client, world):
    visitor = UserFactory(username="visitor", role="Support Agent")
    page = text(get(client, visitor, "my_shifts"))
    assert "On call this month so far 0 h" in page
    assert "No shifts in the next 30 days." in page


def test_names_are_text_not_markup(client, world):
    mallory = UserFactory(username="mallory", first_name="<img src=x onerror=alert(1)>")
    evil = make_schedule(name="<script>alert('x')</script> & co", spec=oncall_spec(["mallory"]))
    mallory.refresh_from_db()  # make_schedule set a new password: the session must know it
    response = get(client, mallory, "schedules")
    assert response.status_code == 200, response
    html = response.content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>alert" not in get(client, mallory, "my_shifts").content.decode()
    assert "<script>alert" not in get(client, mallory, "schedule", evil.pk).content.decode()


def test_the_schedules_page_runs_a_fixed_number_of_queries(client, world):
    lead = world.people["lead"]
    get(client, lead, "schedules")  # warm the built schedules
    with CaptureQueriesContext(connection) as few:
        get(client, lead, "schedules")
    for i in range(3):
        make_schedule(name=f"More {i}", spec=oncall_spec([f"p{i}", "emma"]))
    get(client, lead, "schedules")
    with CaptureQueriesContext(connection) as more:
        get(client, lead, "schedules")
    assert len(more) == len(few)


def test_an_unknown_schedule_is_a_404(client, world):
    lead = world.people["lead"]
    assert get(client, lead, "schedule", world.schedule.pk + 100).status_code == 404
    assert client.get("/schedules/99999999999999999999999/").status_code == 404


def test_a_gap_now_shows_nobody_on_call_now(client, world):
    from tests.escalations.oncall_scenario import GAP

    client.force_login(world.people["lead"])
    with time_machine.travel(GAP[0] + timedelta(minutes=30), tick=False):
        page = text(client.get(reverse("schedules")))
    assert "On call now Nobody" in page
    assert "to Emma Schulz" in page


def test_a_schedule_with_a_gap_every_night_lists_five_and_counts_the_rest(client, world):
    nights = oncall_spec(
        ["emma"],
        restrictions=[
            {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}
        ],
    )
    make_schedule(name="Business hours", spec=nights)
    html = get(client, world.people["lead"], "schedules").content.decode()
    card = html.split("Business hours", 1)[1].split("</section>", 1)[0]
    page = text_of(card)
    # 14 days from Wednesday noon: 10 working days, so 10 gaps (nights and weekends merged).
    assert "Nobody on call 10 times in the next 14 days" in page
    assert card.count("<li>") == 5
    assert "and 5 more (see the shifts)" in page


def test_the_gap_banner_lists_only_the_schedules_with_gaps(client, world):
    """A schedule without gaps, listed after the one with a gap, adds nothing to the
    banner (it once left a dangling "; " after the last name)."""
    make_schedule(name="Zulu round the clock", spec=oncall_spec(["zoe"]))
    page = text(get(client, world.people["lead"], "schedules"))
    banner = page[page.index("1 schedule with nobody on call") :]
    assert banner.startswith(
        "1 schedule with nobody on call at some time in the next 14 days: "
        "Engineering primary/secondary (1 gap) "
    )
    assert "Zulu round the clock (" not in banner
    assert "(1 gap);" not in page
