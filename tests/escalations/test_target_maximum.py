"""Target and maximum (issue 19): seed 002's "Resolution Time SLAs", e.g. "P1 - High:
Target: 4 hours, Maximum: 8 hours, Escalation: If not resolved in 4 hours". The target's
breach escalates as before; the maximum's breach runs the policy's maximum route once per
incident (a notice to management and a timeline entry, a move if the route says so)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from escalations.engine.services import sla_sweep
from escalations.models import Escalation, ThresholdFiring
from escalations.policies.services import policy_create_from_spec, policy_spec, spec_problems
from escalations.policies.workflow_yaml import WorkflowError, dump_workflow, load_workflow_text
from escalations.rules.clocks import compute_clocks, due_thresholds
from escalations.rules.spec import LevelSpec, MaximumRoute, TargetSpec
from incidents import services
from incidents.models import EventKind
from notifications.models import Notification
from tests.concurrency import run_together
from tests.escalations.conftest import MONDAY, H, facts, simple_spec
from tests.factories import UserFactory, make_incident

M = timedelta(minutes=1)
S = timedelta(seconds=1)
T0 = MONDAY  # what facts() counts from
OFFICE = {
    "timezone": "UTC",
    "hours": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
}

WORKFLOW = """
escalation:
  calendars:
    office: {timezone: UTC, hours: {mon: [09:00-17:00]}}
  tiers:
    - level: 1
      name: Basic Support
      sla: {first_response: 5m, first_response_max: 15m, resolution_target: 30m, resolution_max: 1h}
    - {level: 2, name: Advanced Support}
    - {level: 3, name: Expert Support}
  matrix:
    P0:
      1: {resolution: 2h, resolution_max: 4h}
    P1:
      2: {resolution: 4h, resolution_max: 8h, calendar: office}
  maximum: {notify: [Executive, Director], escalate_to: 3}
"""


def test_seed_002_target_and_maximum_pairs_load_and_dump_back_equal():
    """Seed 002: "P0 - Critical: Target: 2 hours, Maximum: 4 hours" in the matrix, the
    tiers' own targets with maxima too, and the maximum's route."""
    spec = load_workflow_text(WORKFLOW)
    assert spec.targets("P0", 1).resolution == 2 * H
    assert spec.targets("P0", 1).resolution_max == 4 * H
    assert spec.targets("P0", 1).first_response_max == 15 * M  # the level's, underneath
    assert spec.targets("P1", 2).resolution_max == 8 * H
    assert spec.level(1).sla.resolution_max == H
    assert spec.maximum == MaximumRoute(notify=("Director", "Executive"), escalate_to=3)
    text = dump_workflow(spec)
    assert "resolution_max: 4h" in text
    assert load_workflow_text(text) == spec
    # A workflow without maxima is as valid as before; a target without a maximum does
    # not take the one the level set for its own target.
    plain = load_workflow_text(WORKFLOW.replace(", resolution_max: 4h", "").split("  maximum")[0])
    assert plain.targets("P0", 1).resolution_max is None
    assert plain.maximum == MaximumRoute()
    assert "maximum" not in dump_workflow(plain)


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        ("resolution_max: 4h}", "matrix.P0.1.resolution_max", "must be longer than resolution"),
        ("resolution_max: 2h}", "matrix.P0.1.resolution_max", "must be longer than resolution"),
        ("resolution_max: 4x}", "matrix.P0.1.resolution_max", "not a duration"),
    ],
)
def test_a_maximum_must_come_after_its_target(change, where, says):
    text = WORKFLOW.replace("P0:\n      1: {resolution: 2h, resolution_max: 4h}", "P0:\n      1: {")
    text = text.replace("1: {\n", "1: {resolution: 4h, " + change + "\n")
    with pytest.raises(WorkflowError) as error:
        load_workflow_text(text)
    assert where in str(error.value) and says in str(error.value)


def test_the_maximum_route_names_a_level_the_policy_has():
    with pytest.raises(WorkflowError) as error:
        load_workflow_text(WORKFLOW.replace("escalate_to: 3", "escalate_to: 9"))
    assert "maximum.escalate_to" in str(error.value)
    broken = simple_spec(maximum=MaximumRoute(escalate_to=7))
    assert "A passed maximum escalates to L7, which the policy does not have." in spec_problems(
        broken
    )
    backwards = simple_spec(matrix=((("P1", 1), TargetSpec(resolution=4 * H, resolution_max=H)),))
    assert "P1 at L1: resolution_max (1h) must be longer than resolution (4h)." in spec_problems(
        backwards
    )


MAXIMUM_ONLY_CELL = (
    "P1 at L1: resolution_max (2h) must be longer than resolution "
    "(4h, the resolution L1 sets for every severity)"
)


@pytest.mark.django_db
def test_a_matrix_maximum_under_its_levels_target_is_refused_after_the_merge():
    """Seed 002's pairs as the clocks count them: a cell giving only `resolution_max:
    2h` takes its level's 4 h resolution target, so its maximum would come first. Each
    target alone is fine; the merged pair is refused when the file is loaded, and a
    spec stored or activated another way is refused too."""
    text = (
        "escalation:\n  tiers:\n    - {level: 1, name: Support, sla: {resolution_target: 4h}}\n"
        "  matrix:\n    P1:\n      1: {resolution_max: 2h}\n"
    )
    with pytest.raises(WorkflowError) as error:
        load_workflow_text(text)
    assert "escalation.matrix" in str(error.value) and MAXIMUM_ONLY_CELL in str(error.value)
    spec = simple_spec(
        levels=(LevelSpec(1, "Support", sla=TargetSpec(resolution=4 * H)),),
        matrix=((("P1", 1), TargetSpec(resolution_max=2 * H)),),
    )
    assert f"{MAXIMUM_ONLY_CELL}." in spec_problems(spec)
    with pytest.raises(ValidationError) as refused:
        policy_create_from_spec(spec=spec, name="backwards")
    assert f"{MAXIMUM_ONLY_CELL}." in refused.value.messages
    # Longer than the level's target, the same cell is accepted.
    longer = simple_spec(
        levels=spec.levels, matrix=((("P1", 1), TargetSpec(resolution_max=8 * H)),)
    )
    assert not [p for p in spec_problems(longer) if "resolution_max" in p]


@pytest.mark.django_db
def test_maxima_and_the_route_survive_the_database_rows():
    spec = load_workflow_text(WORKFLOW)
    policy = policy_create_from_spec(spec=spec, name="maxima")
    assert policy_spec(policy) == spec
    assert policy.targets.get(severity="P0").resolution_max == 4 * H


# --- the clock -----------------------------------------------------------------------------


def maxima_spec(**changes):
    return simple_spec(
        levels=(
            LevelSpec(1, "Front line", sla=TargetSpec(resolution=4 * H, resolution_max=8 * H)),
            LevelSpec(2, "Specialists", sla=TargetSpec(resolution=4 * H, resolution_max=8 * H)),
        ),
        matrix=(),
        **changes,
    )


def due(spec, now, **fact_changes):
    f = facts(**fact_changes)
    readings = compute_clocks(f, spec, now)
    return [
        (clock, i.percent, i.action, i.at)
        for clock, i in due_thresholds(
            readings, level=f.level, level_entered_at=f.level_entered_at, fired=set(), now=now
        )
    ]


def test_the_maximum_is_a_clock_beside_its_target_with_one_threshold():
    """Seed 002 "P1 - High: Target: 4 hours, Maximum: 8 hours"."""
    spec = maxima_spec()
    readings = {r.clock: r for r in compute_clocks(facts(), spec, T0 + H)}
    maximum = readings["resolution_max"]
    assert (maximum.due_at, maximum.label) == (T0 + 8 * H, "Resolution maximum")
    assert [(i.percent, i.action) for i in maximum.thresholds] == [(100, "maximum")]
    assert readings["resolution"].due_at == T0 + 4 * H
    # Not before the maximum; at it, once the target's own ladder is long past.
    assert ("resolution_max", 100, "maximum", T0 + 8 * H) not in due(spec, T0 + 8 * H - S)
    assert ("resolution_max", 100, "maximum", T0 + 8 * H) in due(spec, T0 + 8 * H)
    # Resolved before it: the maximum was met and nothing is due.
    resolved = ((T0, "new"), (T0 + 7 * H, "resolved"))
    assert not [d for d in due(spec, T0 + 9 * H, statuses=resolved) if d[0] == "resolution_max"]


def test_a_first_response_maximum_stops_with_the_first_response():
    """Seed 002 gives maxima for resolution; a response target may have one too."""
    spec = simple_spec(
        levels=(
            LevelSpec(1, "Front line", sla=TargetSpec(first_response=H, first_response_max=2 * H)),
        ),
        matrix=(),
    )
    waiting = {r.clock: r for r in compute_clocks(facts(), spec, T0 + 3 * H)}
    assert waiting["first_response_max"].state == "breached"
    assert ("first_response_max", 100, "maximum", T0 + 2 * H) in due(spec, T0 + 3 * H)
    answered = compute_clocks(facts(first_response_at=T0 + 90 * M), spec, T0 + 3 * H)
    maximum = next(r for r in answered if r.clock == "first_response_max")
    assert (maximum.state, maximum.met_at) == ("met", T0 + 90 * M)


def test_a_maximum_passed_before_the_incident_reached_its_level_still_fires():
    """Moved to L2 at 9 h by another clock: the 8 h maximum passed on the way and still
    runs its route (unlike the target's thresholds, which the new level does not repeat)."""
    spec = maxima_spec()
    at = T0 + 9 * H
    assert [d[:2] for d in due(spec, at, level=2, level_entered_at=at)] == [("resolution_max", 100)]


def test_the_maximum_counts_in_the_policy_calendar():
    """Seed 002 "P0 - Critical: Target: 2 hours, Maximum: 4 hours" in office hours: opened
    Friday 15:00 UTC, two office hours that day, the other two on Monday: due 11:00."""
    spec = simple_spec(
        calendars=(("office", OFFICE),),
        default_calendar="office",
        levels=(
            LevelSpec(1, "Front line", sla=TargetSpec(resolution=2 * H, resolution_max=4 * H)),
        ),
        matrix=(),
    )
    friday = datetime(2026, 6, 5, 15, 0, tzinfo=UTC)
    monday_11 = datetime(2026, 6, 8, 11, 0, tzinfo=UTC)
    f = facts(opened_at=friday, level_entered_at=friday, statuses=((friday, "new"),))
    reading = next(r for r in compute_clocks(f, spec, friday) if r.clock == "resolution_max")
    assert reading.due_at == monday_11
    assert reading.calendar == "office"


def test_the_what_if_replay_tells_the_route_once_at_the_maximum():
    """The policy simulation replays seed 002's "Maximum: 8 hours" as the sweep does: one
    notice to the route's groups at 8 h, and the route's move."""
    from escalations.rules.simulation import HistoryEvent, IncidentHistory, replay

    spec = maxima_spec(maximum=MaximumRoute(notify=("Executive",), escalate_to=2))
    history = IncidentHistory(
        opened_at=T0, severity="P1", events=(HistoryEvent(T0 + 5 * M, "first_response"),)
    )
    outcome = replay(history, spec, until=T0 + 30 * H)
    maxima = [n for n in outcome.notices if n.kind == "sla_maximum"]
    assert [(n.at, n.groups) for n in maxima] == [(T0 + 8 * H, ("Executive",))]
    # L1's 4 h target moved it first (as before); the maximum's route had nowhere to go.
    assert [(m.at, m.to_level) for m in outcome.moves] == [(T0 + 4 * H, 2)]


# --- the sweep -----------------------------------------------------------------------------


@pytest.fixture
def executives(roles):
    """Someone in the Executive group (the route's), someone at the top level's team."""
    exec_user = UserFactory(username="ceo", email="ceo@example.com", role="Executive")
    Group.objects.get_or_create(name="management")[0].user_set.add(
        UserFactory(username="duty", email="duty@example.com")
    )
    return exec_user


def route_policy(route: MaximumRoute):
    """Seed 002's pairs at each level (resolution only: no handoff clock moves it)."""
    spec = simple_spec(
        levels=(
            LevelSpec(
                1,
                "Front line",
                contacts=(("email", "frontline@example.com"),),
                sla=TargetSpec(resolution=4 * H, resolution_max=8 * H),
            ),
            LevelSpec(
                2,
                "Specialists",
                contacts=(("email", "specialists@example.com"),),
                sla=TargetSpec(resolution=4 * H, resolution_max=8 * H),
            ),
            LevelSpec(
                3,
                "Management",
                team="management",
                contacts=(("email", "management@example.com"),),
                sla=TargetSpec(resolution=24 * H, resolution_max=48 * H),
            ),
        ),
        matrix=(),
        maximum=route,
    )
    return policy_create_from_spec(spec=spec, name="maxima", make_default=True)


def opened_and_acknowledged(agent, severity="P1"):
    incident = make_incident(severity=severity, actor=agent, opened_at=T0, now=T0)
    services.incident_acknowledge(incident=incident, actor=agent, now=T0 + 5 * M)
    incident.refresh_from_db()
    return incident


def sweep(at, set_based=True):
    """Sweep at `at` until nothing more is due then, as the scheduler does (a move ends an
    incident's turn in a sweep; what is due at the new level waits for the next)."""
    for _ in range(10):
        if not sla_sweep(now=at, set_based=set_based):
            return
    pytest.fail(f"still sweeping at {at}")


def maximum_rows(incident):
    firings = ThresholdFiring.objects.filter(incident=incident, clock="resolution_max")
    notices = Notification.objects.filter(incident=incident, kind="sla_maximum")
    entries = incident.events.filter(kind=EventKind.SLA_THRESHOLD, data__action="maximum")
    return firings, notices, entries


@pytest.mark.django_db
@pytest.mark.parametrize("set_based", [False, True], ids=["one by one", "set-based"])
def test_the_maximum_notifies_the_route_once_and_the_target_still_escalates(executives, set_based):
    """Seed 002 "Escalation: If not resolved in 4 hours" moves it at the target; the
    "Maximum: 8 hours" tells the route's executives at 8 h, once, with a timeline entry."""
    route_policy(MaximumRoute(notify=("Executive",)))
    agent = UserFactory(username="agent", role="Support Agent")
    incident = opened_and_acknowledged(agent)
    sweep(T0 + 4 * H, set_based)
    incident.refresh_from_db()
    assert incident.current_level == 2  # the target's breach, as before
    sweep(T0 + 8 * H - S, set_based)
    assert not any(rows.exists() for rows in maximum_rows(incident))
    sweep(T0 + 8 * H, set_based)
    assert sla_sweep(now=T0 + 8 * H, set_based=set_based) == {}  # the same instant again
    sweep(T0 + 30 * H, set_based)  # and much later, at another level
    firings, notices, entries = maximum_rows(incident)
    assert firings.count() == 1 and entries.count() == 1
    assert set(notices.values_list("recipient", flat=True)) == {"ceo@example.com"}
    assert entries.get().body == (
        "Resolution maximum passed (8h 00m; target 4h 00m): Executive told."
    )


@pytest.mark.django_db
@pytest.mark.parametrize("set_based", [False, True], ids=["one by one", "set-based"])
def test_a_route_with_a_level_moves_the_incident_there_once(executives, set_based):
    route_policy(MaximumRoute(escalate_to=3))
    agent = UserFactory(username="agent", role="Support Agent")
    incident = opened_and_acknowledged(agent, severity="P2")
    for hours in (4, 8, 8, 12):
        sweep(T0 + hours * H, set_based)
    incident.refresh_from_db()
    assert incident.current_level == 3
    move = Escalation.objects.get(incident=incident, to_level=3)
    assert (move.from_level, move.clock, move.at) == (2, "resolution_max", T0 + 8 * H)
    assert move.reason.startswith("Resolution maximum passed")
    # No route groups: the top level (management) is told.
    notices = Notification.objects.filter(incident=incident, kind="sla_maximum")
    assert {"duty@example.com", "management@example.com"} <= set(
        notices.values_list("recipient", flat=True)
    )
    assert ThresholdFiring.objects.filter(incident=incident, clock="resolution_max").count() == 1


@pytest.mark.django_db
def test_the_database_keeps_a_maximum_to_one_firing_per_incident(executives):
    route_policy(MaximumRoute())
    incident = opened_and_acknowledged(UserFactory(username="agent", role="Support Agent"))
    sweep(T0 + 8 * H)
    with pytest.raises(IntegrityError), transaction.atomic():
        ThresholdFiring.objects.create(
            incident=incident,
            clock="resolution_max",
            level=incident.current_level + 1,  # another level: still the same maximum
            percent=100,
            action="maximum",
            due_at=T0 + 8 * H,
            fired_at=T0 + 9 * H,
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_run_the_maximum_route_once(roles):
    """Two sweepers wake at the same instant, 8 h after a P1 opened (seed 002
    "Maximum: 8 hours"): one notice set, one firing, one timeline entry."""
    UserFactory(username="ceo", email="ceo@example.com", role="Executive")
    route_policy(MaximumRoute(notify=("Executive",)))
    incident = opened_and_acknowledged(UserFactory(username="agent", role="Support Agent"))
    sweep(T0 + 4 * H)
    sweep(T0 + 8 * H - S)
    run_together(lambda: sla_sweep(now=T0 + 8 * H), threads=2)
    firings, notices, entries = maximum_rows(incident)
    assert (firings.count(), notices.count(), entries.count()) == (1, 1, 1)


# --- the shipped P0-P3 preset, replayed ----------------------------------------------------


@pytest.fixture
def matrix_preset(roles):
    from incidents.models import Channel

    Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})
    call_command("load_workflow", "p0-p3-matrix", "--default", verbosity=0)
    UserFactory(username="exec", email="exec@example.com", role="Executive")
    return UserFactory(username="first-line", role="Support Agent")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("severity", "target", "maximum"),
    [("P1", 4 * H, 8 * H), ("P2", 8 * H, 24 * H)],
    ids=[
        "seed 002 P1: Target 4 hours, Maximum 8 hours",
        "seed 002 P2: Target 8 hours, Maximum 24 hours",
    ],
)
def test_the_p0_p3_preset_tells_executives_at_the_maximum_not_a_second_before(
    matrix_preset, severity, target, maximum
):
    incident = opened_and_acknowledged(matrix_preset, severity=severity)
    at = T0
    while at < T0 + maximum - S:  # the sweeper's fake clock, every quarter hour
        sweep(at)
        at += 15 * M
    sweep(T0 + maximum - S)
    incident.refresh_from_db()
    # The target's breach acted as before ("If not resolved in N hours")...
    assert ThresholdFiring.objects.filter(
        incident=incident, clock="resolution", percent=100, due_at__lte=T0 + target
    ).exists()
    # ...and nothing about the maximum yet.
    assert not any(rows.exists() for rows in maximum_rows(incident))
    sweep(T0 + maximum)
    sweep(T0 + maximum + H)
    firings, notices, entries = maximum_rows(incident)
    assert firings.count() == 1 and entries.count() == 1
    assert firings.get().due_at == T0 + maximum
    # The top level, L4 Executive: its people and the directory's executive address.
    assert {"exec@example.com", "executive@hotdash.com"} <= set(
        notices.values_list("recipient", flat=True)
    )
    assert target < maximum


@pytest.mark.django_db
def test_the_incident_page_shows_the_maximum_beside_its_target(client, manager):
    """Seed 002 "P1 - High: Target: 4 hours, Maximum: 8 hours" on the SLA panel."""
    from django.urls import reverse

    from tests.factories import PASSWORD

    route_policy(MaximumRoute())
    incident = make_incident(actor=manager, severity="P1")
    client.login(username=manager.username, password=PASSWORD)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert 'data-clock="resolution"' in page and 'data-clock="resolution_max"' in page
    assert "Resolution maximum" in page


@pytest.mark.django_db
def test_the_policy_admin_shows_the_maxima_and_the_route(client, manager):
    from django.urls import reverse

    from tests.factories import PASSWORD

    policy = route_policy(MaximumRoute(notify=("Executive",), escalate_to=3))
    client.login(username=manager.username, password=PASSWORD)
    page = client.get(reverse("admin:escalations_policy_change", args=[policy.pk]))
    html = page.content.decode()
    assert "Once per incident: Executive told; moved to L3." in html
    assert "resolution_max" in html  # the levels' maximum fields
