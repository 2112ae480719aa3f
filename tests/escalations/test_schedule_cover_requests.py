"""Cover requests and taking the shift now (issue 18, people's side): a person on call asks
another member of the schedule to cover part of their shift; only the person asked accepts
or declines, only the person asking cancels; accepting makes exactly one override (and
the on-call person changes); each step tells the other person through the outbox, in the
same transaction. Anyone in the schedule's team or rotations takes the shift now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from escalations.models import CoverRequestStatus, OnCallOverride, OnCallOverrideRequest
from escalations.schedules import services
from escalations.schedules.selectors import cover_requests_for, who_is_on_call
from incidents.permissions import ActionNotAllowed
from notifications.models import Notification
from tests.concurrency import run_together
from tests.factories import UserFactory, make_schedule, oncall_spec

pytestmark = pytest.mark.django_db

# The first week from Monday 2026-01-05 09:00 Berlin (08:00 UTC) is ana's, the next ben's.
NOW = datetime(2026, 1, 6, 9, tzinfo=UTC)
T0 = datetime(2026, 1, 7, 10, tzinfo=UTC)
T1 = datetime(2026, 1, 7, 14, tzinfo=UTC)
INSIDE = datetime(2026, 1, 7, 12, tzinfo=UTC)


@pytest.fixture
def ana(roles):
    return UserFactory(username="ana", role="Support Agent")


@pytest.fixture
def ben(roles):
    return UserFactory(username="ben", role="Support Agent")


@pytest.fixture
def schedule(ana, ben):
    return make_schedule()


def ask(schedule, ana, ben, **kwargs):
    values = {"start": T0, "end": T1, "reason": "Dentist", "now": NOW, **kwargs}
    return services.cover_request(actor=ana, schedule=schedule, to_person=ben, **values)


def on_call(schedule, at=INSIDE) -> str | None:
    schedule.refresh_from_db()
    current = who_is_on_call(schedule, at).current
    return current.person if current else None


def mails(event: str) -> list[Notification]:
    return list(
        Notification.objects.filter(kind="oncall_cover", context__event=event).order_by("id")
    )


def test_a_request_accepted_makes_one_override_and_the_on_call_person_changes(schedule, ana, ben):
    request = ask(schedule, ana, ben)
    assert request.status == CoverRequestStatus.REQUESTED
    [asked] = mails("requested")
    assert (asked.recipient, asked.recipient_user_id) == ("ben@example.com", ben.pk)
    assert "asks you to cover Platform on-call" in asked.subject
    assert on_call(schedule) == "ana"

    accepted = services.cover_accept(actor=ben, request=request, now=NOW)
    assert accepted.status == CoverRequestStatus.ACCEPTED and accepted.answered_at == NOW
    override = OnCallOverride.objects.get()
    assert (override.person, override.start, override.end) == (ben, T0, T1)
    assert override.created_by == ben and accepted.override == override
    assert override.reason == "covers ana: Dentist"
    assert on_call(schedule) == "ben"
    assert on_call(schedule, T1 + timedelta(minutes=1)) == "ana"  # only the interval
    [told] = mails("accepted")
    assert told.recipient == "ana@example.com"


def test_accepting_twice_is_harmless_one_override(schedule, ana, ben):
    request = ask(schedule, ana, ben)
    services.cover_accept(actor=ben, request=request, now=NOW)
    again = services.cover_accept(actor=ben, request=request, now=NOW)
    assert again.status == CoverRequestStatus.ACCEPTED
    assert OnCallOverride.objects.count() == 1
    assert len(mails("accepted")) == 1


def test_only_the_person_asked_accepts_or_declines(schedule, ana, ben, roles):
    carl = UserFactory(username="carl", role="Team Lead")  # a lead, but not the one asked
    request = ask(schedule, ana, ben)
    for actor in (ana, carl):
        for call in (services.cover_accept, services.cover_decline):
            with pytest.raises(ActionNotAllowed, match="Only the person asked"):
                call(actor=actor, request=request, now=NOW)
    assert OnCallOverrideRequest.objects.get().status == CoverRequestStatus.REQUESTED
    assert not OnCallOverride.objects.exists()


def test_only_the_person_asking_cancels(schedule, ana, ben):
    request = ask(schedule, ana, ben)
    with pytest.raises(ActionNotAllowed, match="Only the person asking"):
        services.cover_cancel(actor=ben, request=request, now=NOW)
    cancelled = services.cover_cancel(actor=ana, request=request, now=NOW)
    assert cancelled.status == CoverRequestStatus.CANCELLED
    [told] = mails("cancelled")
    assert told.recipient == "ben@example.com"


def test_a_cancelled_or_declined_request_cannot_be_accepted(schedule, ana, ben):
    cancelled = ask(schedule, ana, ben)
    services.cover_cancel(actor=ana, request=cancelled, now=NOW)
    with pytest.raises(ValidationError, match="cancelled already"):
        services.cover_accept(actor=ben, request=cancelled, now=NOW)
    declined = ask(schedule, ana, ben)
    services.cover_decline(actor=ben, request=declined, now=NOW)
    assert mails("declined")[0].recipient == "ana@example.com"
    with pytest.raises(ValidationError, match="declined already"):
        services.cover_accept(actor=ben, request=declined, now=NOW)
    with pytest.raises(ValidationError, match="declined already"):
        services.cover_cancel(actor=ana, request=declined, now=NOW)
    assert not OnCallOverride.objects.exists()
    assert on_call(schedule) == "ana"


def test_an_interval_that_is_over_cannot_be_accepted(schedule, ana, ben):
    request = ask(schedule, ana, ben)
    with pytest.raises(ValidationError, match="over"):
        services.cover_accept(actor=ben, request=request, now=T1)
    assert not OnCallOverride.objects.exists()


def test_only_a_member_asks_and_only_a_member_is_asked(schedule, ana, ben, roles):
    outsider = UserFactory(username="olga", role="Support Agent")
    with pytest.raises(ActionNotAllowed, match="Only the schedule member"):
        ask(schedule, outsider, ben)
    with pytest.raises(ValidationError) as caught:
        ask(schedule, ana, outsider)
    assert "not an active member" in caught.value.message_dict["to_person"][0]
    # A member of the schedule's team counts, rotation or not.
    team = Group.objects.create(name="Platform")
    schedule.team = team
    schedule.save()
    outsider.groups.add(team)
    assert ask(schedule, ana, outsider).to_person == outsider
    assert not OnCallOverrideRequest.objects.filter(to_person=ben).exists()


def test_a_request_must_be_for_the_askers_own_shift(schedule, ana, ben):
    next_week = datetime(2026, 1, 13, 10, tzinfo=UTC)  # ben's week
    with pytest.raises(ValidationError) as caught:
        ask(schedule, ana, ben, start=next_week, end=next_week + timedelta(hours=2))
    assert caught.value.message_dict["start"] == ["You are not on call for all of that interval."]
    with pytest.raises(ValidationError) as caught:
        ask(schedule, ana, ben, start=T1, end=T0)
    assert "end" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        ask(schedule, ana, ana)
    assert caught.value.message_dict["to_person"] == ["Ask someone else."]
    assert not OnCallOverrideRequest.objects.exists()


def test_the_notice_is_written_with_the_change_and_not_without_it(schedule, ana, ben):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        ask(schedule, ana, ben)
        assert mails("requested")  # in the same transaction as the request...
        raise Boom
    assert not OnCallOverrideRequest.objects.exists()
    assert not mails("requested")  # ...and gone with it


def test_the_requests_page_selector_lists_to_and_from_me(schedule, ana, ben, roles):
    mine = ask(schedule, ana, ben)
    carl = UserFactory(username="carl", role="Support Agent")
    assert list(cover_requests_for(ana, now=NOW)) == [mine]
    assert list(cover_requests_for(ben, now=NOW)) == [mine]
    assert list(cover_requests_for(carl, now=NOW)) == []


# --- take the shift now ---------------------------------------------------------------------


def test_a_member_takes_the_shift_until_it_ends_and_the_person_on_call_is_told(schedule, ana, ben):
    row = services.shift_take(actor=ben, schedule=schedule, now=INSIDE)
    assert (row.person, row.start, row.reason) == (ben, INSIDE, "taken")
    assert row.end == datetime(2026, 1, 12, 8, tzinfo=UTC)  # ana's week ends
    assert on_call(schedule, INSIDE + timedelta(hours=1)) == "ben"
    [told] = mails("taken")
    assert told.recipient == "ana@example.com" and told.urgent


def test_taking_for_some_hours_and_the_refusals(schedule, ana, ben, roles):
    row = services.shift_take(actor=ben, schedule=schedule, hours=2, now=INSIDE)
    assert row.end == INSIDE + timedelta(hours=2)
    with pytest.raises(ValidationError, match="already"):
        services.shift_take(actor=ben, schedule=schedule, now=INSIDE + timedelta(hours=1))
    with pytest.raises(ValidationError):
        services.shift_take(actor=ana, schedule=schedule, hours=0, now=INSIDE)
    outsider = UserFactory(username="olga", role="Team Lead")
    with pytest.raises(ActionNotAllowed, match="Only the schedule member"):
        services.shift_take(actor=outsider, schedule=schedule, now=INSIDE)
    assert OnCallOverride.objects.count() == 1


def test_a_manager_still_makes_an_override_for_anyone(schedule, ben, manager):
    row = services.override_add(actor=manager, schedule=schedule, person=ben, start=T0, end=T1)
    assert row.created_by == manager
    assert on_call(schedule) == "ben"


def test_the_emails_are_delivered_in_each_readers_zone(schedule, ana, ben):
    from django.core import mail

    from notifications.services import deliver_due

    ben.time_zone = "America/New_York"
    ben.save()
    request = ask(schedule, ana, ben)
    services.cover_accept(actor=ben, request=request, now=NOW)
    deliver_due()
    by_recipient = {message.to[0]: message for message in mail.outbox}
    to_ben = by_recipient["ben@example.com"]
    # 10:00 UTC is 05:00 in New York in January; ana reads UTC.
    assert "2026-01-07 05:00 EST" in to_ben.subject
    assert "From: 2026-01-07 05:00 EST" in to_ben.body
    assert "/schedules/requests/" in to_ben.body
    to_ana = by_recipient["ana@example.com"]
    assert to_ana.subject.startswith("[ON-CALL]") and "covers your" in to_ana.subject
    assert "Until: 2026-01-07 14:00 UTC" in to_ana.body
    assert Notification.objects.filter(kind="oncall_cover", status="sent").count() == 2


# --- swaps: cover in return ---------------------------------------------------------------

BEN_WEEK = datetime(2026, 1, 13, 10, tzinfo=UTC)


def test_a_swap_accepted_makes_both_overrides_at_once(schedule, ana, ben):
    back = (BEN_WEEK, BEN_WEEK + timedelta(hours=4))
    request = ask(schedule, ana, ben, swap_start=back[0], swap_end=back[1])
    [asked] = mails("requested")
    assert "asks you to swap" in asked.subject
    assert asked.context["swap"]["start"] == "2026-01-13 10:00 UTC"
    accepted = services.cover_accept(actor=ben, request=request, now=NOW)
    assert accepted.swap_override.person == ana and accepted.swap_override.created_by == ben
    assert (accepted.swap_override.start, accepted.swap_override.end) == back
    assert on_call(schedule) == "ben"
    assert on_call(schedule, BEN_WEEK + timedelta(hours=1)) == "ana"
    assert on_call(schedule, BEN_WEEK + timedelta(hours=5)) == "ben"
    assert OnCallOverride.objects.count() == 2
    # The API names the request both overrides came from, the one given in return too.
    from escalations.api.serializers import OverrideSerializer

    rows = OverrideSerializer(OnCallOverride.objects.order_by("start"), many=True).data
    assert [row["request"] for row in rows] == [request.pk, request.pk]


def test_a_swap_must_offer_part_of_the_other_persons_shift(schedule, ana, ben):
    with pytest.raises(ValidationError) as caught:
        ask(schedule, ana, ben, swap_start=T0 + timedelta(days=1), swap_end=T1 + timedelta(days=1))
    assert caught.value.message_dict["swap_start"] == [
        "ben is not on call for all of that interval."
    ]
    with pytest.raises(ValidationError) as caught:
        ask(schedule, ana, ben, swap_start=BEN_WEEK)
    assert "swap_end" in caught.value.message_dict
    assert not OnCallOverrideRequest.objects.exists()


def with_carl():
    """ana, ben and carl take weeks in turn; carl is a member too."""
    schedule = make_schedule(spec=oncall_spec(("ana", "ben", "carl")))
    return schedule, get_user_model().objects.get(username="carl")


def test_a_request_cannot_be_accepted_once_the_asker_is_no_longer_on_call(ana, ben):
    """Carl took ana's shift after she asked ben: ben accepting would cover carl, not her."""
    schedule, carl = with_carl()
    request = ask(schedule, ana, ben)
    services.shift_take(actor=carl, schedule=schedule, now=NOW)
    with pytest.raises(ValidationError, match="ana is no longer on call"):
        services.cover_accept(actor=ben, request=request, now=NOW)
    assert OnCallOverrideRequest.objects.get().status == CoverRequestStatus.REQUESTED
    assert on_call(schedule) == "carl"
    assert mails("accepted") == []


def test_a_swap_cannot_be_accepted_once_the_interval_offered_is_no_longer_the_accepters(ana, ben):
    """Ben's week is offered back to him in a swap; a manager then gave that week to carl."""
    schedule, carl = with_carl()
    swap = (datetime(2026, 1, 13, 10, tzinfo=UTC), datetime(2026, 1, 13, 14, tzinfo=UTC))
    request = ask(schedule, ana, ben, swap_start=swap[0], swap_end=swap[1])
    services.override_add(
        actor=UserFactory(username="mia", role="Engineering Manager", is_staff=True),
        schedule=schedule,
        person=carl,
        start=swap[0],
        end=swap[1],
    )
    with pytest.raises(ValidationError, match="interval offered in return"):
        services.cover_accept(actor=ben, request=request, now=NOW)
    assert OnCallOverride.objects.count() == 1  # the manager's, nothing from the swap


@pytest.mark.postgres  # SQLite's test database answers "table is locked" to the second writer
@pytest.mark.django_db(transaction=True)
def test_two_people_taking_at_once_are_served_one_after_the_other(ana, ben, roles):
    """Both see ana on call; the second to commit takes the shift from the first, who is
    told, rather than both telling ana and one override silently hiding the other."""
    schedule, carl = with_carl()
    takers = iter([ben, carl])

    def take():
        return services.shift_take(actor=next(takers), schedule=schedule, now=INSIDE)

    rows = run_together(take, threads=2)
    assert len(rows) == 2
    first, second = sorted(rows, key=lambda row: row.pk)
    told = [(mail.recipient, mail.context["actor"]) for mail in mails("taken")]
    assert sorted(told) == sorted(
        [
            ("ana@example.com", str(first.person)),
            (f"{first.person.get_username()}@example.com", str(second.person)),
        ]
    )
    assert on_call(schedule, INSIDE + timedelta(hours=1)) == second.person.get_username()


def test_the_admin_lists_cover_requests_read_only_for_those_who_keep_schedules(
    client, schedule, ana, ben, manager
):
    """Managers see who asked whom and what came of it; changing a request stays the
    people's own (the Cover requests page), so the admin offers no add, edit or delete."""
    request = ask(schedule, ana, ben, reason="<b>Dentist</b>")
    services.cover_decline(actor=ben, request=request, now=NOW)
    client.force_login(manager)
    listing = client.get("/admin/escalations/oncalloverriderequest/", {"status": "declined"})
    assert listing.status_code == 200
    text = listing.content.decode()
    assert str(ana) in text and str(ben) in text and "Declined" in text
    assert "/admin/escalations/oncalloverriderequest/add/" not in text
    page = client.get(f"/admin/escalations/oncalloverriderequest/{request.pk}/change/")
    assert page.status_code == 200
    assert "&lt;b&gt;Dentist&lt;/b&gt;" in page.content.decode()
    assert (
        client.post(
            f"/admin/escalations/oncalloverriderequest/{request.pk}/change/", {"status": "accepted"}
        ).status_code
        == 403
    )
    assert client.get("/admin/escalations/oncalloverriderequest/add/").status_code == 403
    deleted = client.post(
        f"/admin/escalations/oncalloverriderequest/{request.pk}/delete/", {"post": "yes"}
    )
    assert deleted.status_code == 403
    request.refresh_from_db()
    assert request.status == CoverRequestStatus.DECLINED
    # An agent on the schedule has no admin view of other people's requests.
    client.force_login(UserFactory(username="carl", role="Support Agent", is_staff=True))
    assert client.get("/admin/escalations/oncalloverriderequest/").status_code == 403
