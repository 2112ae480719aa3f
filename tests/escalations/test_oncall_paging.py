"""Escalation to a level with an on-call schedule (issue 18): the person on call is paged,
then the next person while nobody acknowledges, then the level's escalation contact.

The fake clock is every service's `now`. The schedule hands over daily at 02:30 Berlin
time, so on Sunday 29 March 2026, when the clocks jump from 02:00 to 03:00, the handoff
falls in the gap and happens at 03:00 CEST (01:00 UTC): an escalation at exactly 03:00
local pages the new person, not the one whose night it was.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from escalations.engine import services as engine
from escalations.engine.paging import page_sweep, seconds_to_next_page
from escalations.engine.services import sla_sweep
from escalations.models import Escalation, OnCallOverride, Page
from escalations.policies.services import policy_create_from_spec, spec_problems
from escalations.rules.spec import LevelSpec, TargetSpec
from escalations.schedules.selectors import who_is_on_call
from incidents.models import EventKind, Incident
from notifications.models import Notification
from tests.concurrency import run_together
from tests.escalations.conftest import H, simple_spec
from tests.factories import UserFactory, make_incident, make_schedule

pytestmark = pytest.mark.django_db

M = timedelta(minutes=1)
# Sunday 29 March 2026, 03:00 CEST: the first instant after Berlin's clocks jump.
SUNDAY_0300 = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
OPENED = SUNDAY_0300 - 2 * H  # L1's 2 h resolution target runs out at 03:00 local
NIGHT_DESK = {
    "timezone": "Europe/Berlin",
    "layers": [
        {
            "name": "nights",
            "people": ["ana", "ben", "cat"],
            "recurrence": "daily",
            "start": "2026-03-23",
            "handoff": "02:30",
        }
    ],
}


def levels(*, top: int = 2, schedule: str = "Night desk", **level2) -> tuple[LevelSpec, ...]:
    made = [
        LevelSpec(1, "Front line", handoff_fields=(), sla=TargetSpec(resolution=2 * H)),
        LevelSpec(
            2,
            "Engineering on-call",
            team="eng-oncall",
            handoff_fields=(),
            schedule=schedule,
            contacts=(("escalation", "eng-manager@example.com"),),
            sla=TargetSpec(first_response=15 * M, resolution=8 * H),
            **level2,
        ),
    ]
    if top == 3:
        made.append(
            LevelSpec(
                3,
                "Managers",
                handoff_fields=(),
                contacts=(("email", "managers@example.com"),),
                sla=TargetSpec(first_response=H, resolution=8 * H),
            )
        )
    return tuple(made)


@pytest.fixture
def night_desk(roles):
    schedule = make_schedule(name="Night desk", spec=NIGHT_DESK)
    team = Group.objects.create(name="eng-oncall")
    for name in ("ana", "ben", "cat"):
        user = UserFactory(username=name, role="Support Agent")
        user.groups.add(team)
    return schedule


def policy(top: int = 2, **level2):
    spec = simple_spec(levels=levels(top=top, **level2), matrix=())
    return policy_create_from_spec(spec=spec, name=f"on-call {top}", make_default=True)


def escalate_at_three(*, set_based: bool = True) -> Incident:
    incident = make_incident(severity="P1", opened_at=OPENED, now=OPENED)
    assert sla_sweep(now=SUNDAY_0300, set_based=set_based)["escalated"] == 1
    incident.refresh_from_db()
    assert incident.current_level == 2
    return incident


def paged(incident) -> list[str]:
    """Who each page reached, in step order: a username or an address."""
    return [
        page.person.username if page.person else page.address
        for page in Page.objects.filter(escalation__incident=incident).order_by("step")
    ]


def emails(kind: str) -> set[str]:
    return set(
        Notification.objects.filter(kind=kind, channel="email").values_list("recipient", flat=True)
    )


def user(username: str):
    return get_user_model().objects.get(username=username)


def page_events(incident) -> list[str]:
    return list(
        incident.events.filter(kind=EventKind.PAGED)
        .order_by("at", "id")
        .values_list("body", flat=True)
    )


@pytest.mark.parametrize("set_based", [True, False], ids=["storm path", "one by one"])
def test_an_escalation_at_0300_on_the_dst_sunday_pages_the_person_whose_shift_began(
    night_desk, set_based
):
    policy()
    # Saturday's person holds the night until the handoff, which the jump moved to 03:00.
    assert who_is_on_call(night_desk, SUNDAY_0300 - timedelta(seconds=1)).current.person == "cat"
    assert who_is_on_call(night_desk, SUNDAY_0300).current.person == "ana"

    incident = escalate_at_three(set_based=set_based)

    assert paged(incident) == ["ana"]
    # The level's notice goes to the person on call, not to the whole team.
    assert emails("escalation") == {"ana@example.com"}
    first = Page.objects.get(escalation__incident=incident)
    assert first.next_due_at == SUNDAY_0300 + 15 * M  # the level's acknowledgement target
    assert page_events(incident) == [
        f"Paged {user('ana').get_full_name()} (on call for Night desk) for the "
        "L2 · Engineering on-call handoff."
    ]


def test_the_next_person_is_paged_when_the_first_does_not_acknowledge(night_desk):
    policy()
    incident = escalate_at_three()
    assert seconds_to_next_page(now=SUNDAY_0300) == 15 * 60

    assert page_sweep(now=SUNDAY_0300 + 15 * M - timedelta(seconds=1)) == 0  # not yet
    assert page_sweep(now=SUNDAY_0300 + 15 * M) == 1
    assert paged(incident) == ["ana", "ben"]
    page = Notification.objects.get(kind="page", channel="email")
    assert (page.recipient, page.urgent) == ("ben@example.com", True)
    assert "[PAGE]" in page.subject and incident.reference in page.subject
    assert page_sweep(now=SUNDAY_0300 + 15 * M) == 0  # a second run pages nobody again
    assert page_events(incident)[-1] == (
        f"Paged {user('ben').get_full_name()} (next on call for Night desk) for the "
        "L2 · Engineering on-call handoff."
    )

    # Ben takes it: nobody else is paged for this handoff.
    engine.handoff_acknowledge(incident=incident, actor=user("ben"), now=SUNDAY_0300 + 20 * M)
    assert not Page.objects.filter(next_due_at__isnull=False).exists()
    assert seconds_to_next_page(now=SUNDAY_0300) is None
    assert page_sweep(now=SUNDAY_0300 + 2 * H) == 0
    assert paged(incident) == ["ana", "ben"]


def test_nobody_acknowledging_pages_everyone_once_then_the_escalation_contact(night_desk):
    policy()
    incident = escalate_at_three()
    for minutes in (15, 30, 45, 60, 75):
        page_sweep(now=SUNDAY_0300 + minutes * M)
    # Each person on the rota once, from the one after Ana; then the level's contact.
    assert paged(incident) == ["ana", "ben", "cat", "eng-manager@example.com"]
    steps = Page.objects.filter(escalation__incident=incident).order_by("step")
    assert [p.due_at - SUNDAY_0300 for p in steps] == [0 * M, 15 * M, 30 * M, 45 * M]
    assert emails("page") == {"ben@example.com", "cat@example.com", "eng-manager@example.com"}
    assert not Page.objects.filter(next_due_at__isnull=False).exists()  # the ladder ended
    assert "escalation contact, eng-manager@example.com" in page_events(incident)[-1]


def test_a_late_sweep_pages_each_step_at_the_instant_it_was_due(night_desk):
    policy()
    incident = escalate_at_three()
    page_sweep(now=SUNDAY_0300 + 50 * M)  # the scheduler was down for 50 minutes
    page_sweep(now=SUNDAY_0300 + 50 * M)
    page_sweep(now=SUNDAY_0300 + 50 * M)
    steps = Page.objects.filter(escalation__incident=incident).order_by("step")
    assert [p.due_at - SUNDAY_0300 for p in steps] == [0 * M, 15 * M, 30 * M, 45 * M]


def test_an_incident_that_left_the_level_before_the_step_was_due_pages_nobody(night_desk):
    policy()
    incident = escalate_at_three()
    lead = UserFactory(username="lead", role="Team Lead")
    engine.incident_de_escalate(
        incident=incident,
        to_level=1,
        actor=lead,
        reason="Front line can finish this",
        resolution_summary="Config rolled back",
        now=SUNDAY_0300 + 10 * M,
    )
    assert page_sweep(now=SUNDAY_0300 + 15 * M) == 0
    assert paged(incident) == ["ana"]
    assert not Page.objects.filter(next_due_at__isnull=False).exists()


@pytest.mark.parametrize("order", ["sla sweep first", "page sweep first"])
def test_a_move_up_at_the_instant_the_step_is_due_still_pages_it(night_desk, order):
    """Under the presets the acknowledgement clock's 100 % moves the incident up at the
    instant the next person is due: which job runs first changes nothing."""
    policy(top=3)
    incident = escalate_at_three()
    jobs = [
        lambda: sla_sweep(now=SUNDAY_0300 + 15 * M),
        lambda: page_sweep(now=SUNDAY_0300 + 15 * M),
    ]
    for job in jobs if order == "sla sweep first" else reversed(jobs):
        job()
    incident.refresh_from_db()
    assert incident.current_level == 3
    assert paged(incident) == ["ana", "ben"]
    page_sweep(now=SUNDAY_0300 + 30 * M)
    assert paged(incident) == ["ana", "ben"]  # it has left L2: the ladder stops


def test_with_nobody_on_call_the_whole_team_hears_and_the_contact_is_paged_next(night_desk):
    policy()
    OnCallOverride.objects.create(
        schedule=night_desk, person=None, start=OPENED, end=SUNDAY_0300 + 6 * H
    )
    night_desk.save()  # the selectors' cache follows updated_at, as the services touch it
    incident = escalate_at_three()
    assert paged(incident) == [""]
    assert emails("escalation") == {"ana@example.com", "ben@example.com", "cat@example.com"}
    assert page_events(incident) == [
        "Nobody is on call for Night desk: the whole L2 · Engineering on-call team was told."
    ]
    page_sweep(now=SUNDAY_0300 + 15 * M)
    assert paged(incident) == ["", "eng-manager@example.com"]


def test_page_after_on_the_level_overrides_the_acknowledgement_target(night_desk):
    policy(page_after=5 * M)
    incident = escalate_at_three()
    page_sweep(now=SUNDAY_0300 + 5 * M)
    assert paged(incident) == ["ana", "ben"]


def test_a_level_naming_a_schedule_that_does_not_exist_is_a_policy_problem(night_desk):
    spec = simple_spec(levels=levels(schedule="Day desk"), matrix=())
    assert spec_problems(spec) == [
        "L2 Engineering on-call pages the on-call schedule 'Day desk', which does not exist."
    ]
    assert spec_problems(simple_spec(levels=levels(), matrix=())) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_page_sweeps_at_once_page_each_step_once(roles):
    schedule = make_schedule(name="Night desk", spec=NIGHT_DESK)
    team = Group.objects.create(name="eng-oncall")
    for name in ("ana", "ben", "cat"):
        UserFactory(username=name).groups.add(team)
    assert schedule.pk
    policy()
    incidents = [make_incident(severity="P1", opened_at=OPENED, now=OPENED) for _ in range(40)]
    assert sla_sweep(now=SUNDAY_0300)["escalated"] == len(incidents)
    due = SUNDAY_0300 + 15 * M
    results = run_together(lambda: page_sweep(now=due, batch=5), threads=4)
    assert sum(results) == len(incidents)
    assert Page.objects.filter(step=1).count() == len(incidents)
    assert Notification.objects.filter(kind="page", channel="email").count() == len(incidents)
    assert Escalation.objects.count() == len(incidents)


def test_ending_the_ladders_of_past_handoffs_pages_nobody_for_them(night_desk):
    from escalations.engine.paging import ladders_end

    policy()
    incident = escalate_at_three()
    assert ladders_end(before=SUNDAY_0300) == 0  # made at 03:00: not before it
    assert ladders_end(before=SUNDAY_0300 + M) == 1
    assert page_sweep(now=SUNDAY_0300 + H) == 0
    assert paged(incident) == ["ana"]


def test_the_api_lists_each_escalations_pages(night_desk, django_assert_max_num_queries):
    from tests.api_client import results, token_client

    policy()
    incidents = [escalate_at_three() for _ in range(3)]
    page_sweep(now=SUNDAY_0300 + 15 * M)
    api = token_client(user("cat"))
    listed = results(api.get("/api/escalations/", {"incident": incidents[0].reference}))
    assert [(p["step"], p["person"], p["address"]) for p in listed[0]["pages"]] == [
        (0, "ana", ""),
        (1, "ben", ""),
    ]
    assert listed[0]["pages"][1]["due_at"] == "2026-03-29T01:15:00Z"
    # The pages of a whole list come in one query, not one per escalation.
    api.get("/api/escalations/")
    with django_assert_max_num_queries(12) as counted:
        api.get("/api/escalations/")
    assert len([q for q in counted.captured_queries if "escalations_page" in q["sql"]]) == 1


def test_the_team_channel_hears_every_page_and_the_team_only_through_it(night_desk, settings):
    settings.SLACK_WEBHOOK_URL = "https://hooks.slack.example/T/oncall"
    policy()
    incident = escalate_at_three()
    page_sweep(now=SUNDAY_0300 + 15 * M)
    by_kind = {
        kind: sorted(
            Notification.objects.filter(incident=incident, kind=kind).values_list(
                "channel", "recipient"
            )
        )
        for kind in ("escalation", "page")
    }
    assert by_kind == {
        "escalation": [
            ("email", "ana@example.com"),
            ("slack", "https://hooks.slack.example/T/oncall"),
        ],
        "page": [("email", "ben@example.com"), ("slack", "https://hooks.slack.example/T/oncall")],
    }


def test_a_security_incident_pages_by_email_only_those_cleared_to_read_it(night_desk, settings):
    """Seed 000's limited distribution holds for pages as for the escalation notice: a
    person gets no email unless cleared for security incidents; the team channel (no
    details) still hears. A security incident goes up at its opening (an impact
    trigger), when Saturday's person, cat, is on call."""
    from django.contrib.auth.models import Group

    settings.SLACK_WEBHOOK_URL = "https://hooks.slack.example/T/oncall"
    user("ben").groups.add(Group.objects.get(name="Security"))
    policy()
    incident = make_incident(severity="P1", opened_at=OPENED, now=OPENED, is_security=True)
    incident.refresh_from_db()
    assert incident.current_level == 2
    for minutes in (15, 30):
        page_sweep(now=OPENED + minutes * M)
    assert paged(incident) == ["cat", "ana", "ben"]
    # cat, on call but not cleared, gets no email; ben hears as one of Security.
    assert emails("escalation") == {"ben@example.com"}
    assert emails("page") == {"ben@example.com"}  # nor is ana
    assert Notification.objects.filter(kind="page", channel="slack").count() == 2
