"""A level's own time limit (issue 19): seed 002's support tiers, "Level 1: Escalation: If
not resolved in 30 minutes", "Level 2: ... 2 hours", "Level 3: ... 8 hours", as the level's
`escalate_after`. Counted from the incident's arrival at the level, in the calendar of its
targets there; when it passes with the incident still unresolved at that level, one level up,
once per arrival. Pure rules first, then the shipped P0-P3 preset with the sweep's fake clock
on both sweep paths."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from escalations.engine import services as engine
from escalations.engine.services import sla_sweep
from escalations.models import Escalation, ThresholdFiring
from escalations.policies.services import policy_create_from_spec, policy_spec, spec_problems
from escalations.policies.workflow_yaml import (
    WorkflowError,
    dump_workflow,
    load_workflow_file,
    load_workflow_text,
)
from escalations.rules.clocks import IncidentFacts, compute_clocks, due_thresholds, firing_key
from escalations.rules.handoff import CHECKLIST
from escalations.rules.simulation import HistoryEvent, IncidentHistory, replay
from escalations.rules.spec import LevelSpec, TargetSpec, WorkflowSpec
from escalations.rules.triggers import crossing_target
from incidents import services
from incidents.models import EventKind, IncidentEvent
from tests.factories import make_incident

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # a Monday
PRESET = Path(__file__).resolve().parents[2] / "escalations/workflows/p0-p3-matrix.yaml"
OFFICE = {
    "timezone": "UTC",
    "hours": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
}


def tiers(**changes) -> WorkflowSpec:
    """Seed 002's tiers' own times at L1-L3 (resolution targets far away, so only the
    tiers' times move anything)."""
    far = TargetSpec(first_response=48 * H, resolution=96 * H)
    levels = (
        LevelSpec(1, "Basic Support", sla=far, escalate_after=30 * M),
        LevelSpec(2, "Advanced Support", sla=far, escalate_after=2 * H),
        LevelSpec(3, "Expert Support", sla=far, escalate_after=8 * H),
        LevelSpec(4, "Executive Escalation", sla=far),
    )
    return WorkflowSpec(**{"levels": levels, **changes})


def facts(**changes) -> IncidentFacts:
    values = {
        "opened_at": T0,
        "severity": "P2",
        "level": 1,
        "level_entered_at": T0,
        "statuses": ((T0, "new"), (T0 + 5 * M, "acknowledged")),
        "first_response_at": T0 + 5 * M,
    }
    return IncidentFacts(**{**values, **changes})


def time_at_level(spec, now, **fact_changes):
    readings = compute_clocks(facts(**fact_changes), spec, now)
    return next((r for r in readings if r.clock == "time_at_level"), None)


def due(spec, now, fired=frozenset(), **fact_changes):
    f = facts(**fact_changes)
    return [
        (clock, instant.percent, instant.action)
        for clock, instant in due_thresholds(
            compute_clocks(f, spec, now),
            level=f.level,
            level_entered_at=f.level_entered_at,
            fired=set(fired),
            now=now,
        )
    ]


# --- the rules (no database) -------------------------------------------------------------------


def test_seed_002_level_1_not_resolved_in_30_minutes_escalates_at_exactly_30m_not_1s_before():
    spec = tiers()
    reading = time_at_level(spec, T0 + 10 * M)
    assert (reading.due_at, reading.label, reading.start) == (T0 + 30 * M, "Time at level", T0)
    assert [(i.percent, i.action) for i in reading.thresholds] == [(100, "escalate")]
    assert due(spec, T0 + 30 * M - S) == []
    assert due(spec, T0 + 30 * M) == [("time_at_level", 100, "escalate")]
    # One level up: L1 -> L2 (seed 002's next tier), not the breach route.
    assert crossing_target(spec, 1, reading) == 2


@pytest.mark.parametrize(
    ("level", "limit"),
    [(2, 2 * H), (3, 8 * H)],
    ids=[
        "seed 002 Level 2: If not resolved in 2 hours",
        "seed 002 Level 3: If not resolved in 8 hours",
    ],
)
def test_the_limit_counts_from_the_arrival_at_the_level_not_from_the_opening(level, limit):
    arrived = T0 + 3 * H  # long after the opening
    reading = time_at_level(tiers(), arrived + M, level=level, level_entered_at=arrived)
    assert (reading.start, reading.due_at) == (arrived, arrived + limit)
    assert due(tiers(), arrived + limit - S, level=level, level_entered_at=arrived) == []
    assert due(tiers(), arrived + limit, level=level, level_entered_at=arrived) == [
        ("time_at_level", 100, "escalate")
    ]
    assert crossing_target(tiers(), level, reading) == level + 1


def test_the_limit_counts_in_the_policys_business_hours():
    """Arrived at L2 on Friday at 16:45 in a Mon-Fri 09-17 calendar: 15 of its 2 hours count
    on Friday, the rest on Monday morning, so it is due Monday 10:45, not Friday 18:45."""
    spec = tiers(calendars=(("office", OFFICE),), default_calendar="office")
    friday = datetime(2026, 6, 5, 16, 45, tzinfo=UTC)
    arrived = {"level": 2, "level_entered_at": friday}
    reading = time_at_level(spec, friday, **arrived)
    monday = datetime(2026, 6, 8, 10, 45, tzinfo=UTC)
    assert (reading.calendar, reading.due_at) == ("office", monday)
    assert reading.moved_by["closed"] > timedelta(hours=60)  # the weekend and the nights
    assert due(spec, monday - S, **arrived) == []
    assert due(spec, monday, **arrived) == [("time_at_level", 100, "escalate")]


def test_a_resolved_incident_does_not_move_and_its_resolved_and_paused_time_does_not_count():
    spec = tiers()
    resolved = ((T0, "new"), (T0 + 5 * M, "acknowledged"), (T0 + 20 * M, "resolved"))
    assert time_at_level(spec, T0 + 5 * H, statuses=resolved) is None
    assert due(spec, T0 + 5 * H, statuses=resolved) == []
    # Reopened after an hour resolved, then ten minutes waiting on the customer: 20
    # minutes before the resolution, 5 after the reopening, and the last 5 after the
    # pause, so due at 1h40m (the hour resolved and the pause do not count).
    reopened = (
        *resolved,
        (T0 + 80 * M, "in_progress"),
        (T0 + 85 * M, "waiting_on_customer"),
        (T0 + 95 * M, "in_progress"),
    )
    reading = time_at_level(spec, T0 + 90 * M, statuses=reopened)
    assert reading.due_at == T0 + 100 * M


def test_it_fires_once_per_arrival_at_the_level():
    """Its firing is keyed by the arrival: fired for the first stay at L1, it does not fire
    again for that stay, and a later return to L1 (a de-escalation) is a new 30 minutes."""
    spec = tiers()
    first = {firing_key("time_at_level", 1, 100, T0)}
    assert due(spec, T0 + H, fired=first) == []
    back = T0 + 5 * H
    assert due(spec, back + 30 * M - S, fired=first, level_entered_at=back) == []
    assert due(spec, back + 30 * M, fired=first, level_entered_at=back) == [
        ("time_at_level", 100, "escalate")
    ]


def test_the_what_if_replay_moves_at_each_levels_limit_from_its_arrival():
    """The simulation counts the same clock: L1 -> L2 at 30 minutes, L2 -> L3 two hours
    after that arrival, L3 -> L4 eight hours after the next; resolved, nothing more."""
    history = IncidentHistory(
        opened_at=T0,
        severity="P3",
        events=(HistoryEvent(T0 + 5 * M, "status", "acknowledged"),),
        key="INC-1",
    )
    outcome = replay(history, tiers(), until=T0 + 12 * H)
    assert [(m.from_level, m.to_level, m.trigger, m.at) for m in outcome.escalations] == [
        (1, 2, "sla", T0 + 30 * M),
        (2, 3, "sla", T0 + 150 * M),
        (3, 4, "sla", T0 + 630 * M),
    ]
    resolved = replace(
        history, events=(*history.events, HistoryEvent(T0 + 20 * M, "status", "resolved"))
    )
    assert replay(resolved, tiers(), until=T0 + 12 * H).escalations == []


# --- the policy data: YAML, rows, checks -----------------------------------------------------

WORKFLOW = """
escalation:
  tiers:
    - {level: 1, name: Basic Support, escalate_after: 30m}
    - {level: 2, name: Advanced Support, escalate_after: 2h}
    - {level: 3, name: Expert Support}
"""


def test_escalate_after_loads_dumps_back_and_survives_the_database_rows(db):
    spec = load_workflow_text(WORKFLOW)
    assert [level.escalate_after for level in spec.levels] == [30 * M, 2 * H, None]
    assert "escalate_after: 30m" in dump_workflow(spec)
    assert load_workflow_text(dump_workflow(spec)) == spec
    policy = policy_create_from_spec(spec=spec, name="tiers")
    assert policy_spec(policy) == spec


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("0m", "must be longer than zero"),
        ("soon", "is not a duration"),
        ("30s", "escalate_after must be at least 1m"),
    ],
)
def test_a_bad_limit_is_refused_with_its_path(value, says):
    with pytest.raises(WorkflowError) as error:
        load_workflow_text(WORKFLOW.replace("escalate_after: 30m", f"escalate_after: {value}"))
    assert "tiers[0].escalate_after" in str(error.value) and says in str(error.value)


def test_the_top_level_has_no_level_above_to_escalate_to(db):
    with pytest.raises(WorkflowError) as error:
        load_workflow_text(
            WORKFLOW.replace("name: Expert Support", "name: Expert, escalate_after: 8h")
        )
    assert "tiers[2].escalate_after" in str(error.value)
    assert "L3 Expert is the top level" in str(error.value)
    # A draft edited in the admin is checked the same way before it can be activated.
    top = tiers(levels=(*tiers().levels[:3], LevelSpec(4, "Executive", escalate_after=H)))
    quick = tiers(levels=(LevelSpec(1, "One", escalate_after=20 * S), *tiers().levels[1:]))
    assert spec_problems(top) == [
        "L4 Executive is the top level: escalate_after needs a level above it to escalate to."
    ]
    assert spec_problems(quick) == [
        "L1 One: escalate_after must be at least 1m, or every arrival would escalate at once."
    ]


def test_the_p0_p3_preset_carries_seed_002s_tier_times():
    spec = load_workflow_file(PRESET)
    assert [(level.number, level.escalate_after) for level in spec.levels] == [
        (1, 30 * M),
        (2, 2 * H),
        (3, 8 * H),
        (4, None),
    ]


# --- the preset replayed by the sweep (fake clock, both sweep paths) ------------------------


@pytest.fixture
def matrix_preset(roles, agent):
    from django.core.management import call_command

    from incidents.models import Channel

    Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})
    call_command("load_workflow", "p0-p3-matrix", "--default", verbosity=0)
    return agent


def opened_and_acknowledged(agent, severity):
    incident = make_incident(severity=severity, actor=agent, opened_at=T0, now=T0)
    services.incident_acknowledge(incident=incident, actor=agent, now=T0 + 5 * M)
    incident.refresh_from_db()
    return incident


# Seed 002 as the preset replays it for an incident acknowledged at 5 minutes whose every
# handoff is taken a minute after it: (level reached, when, which clock moved it).
TIMELINES = {
    # Level 1 "not resolved in 30 minutes"; Level 2 "in 2 hours" (from its arrival at 30m);
    # Level 3 "in 8 hours" (from its arrival at 2h30m). P3's 24h resolution is far away.
    "P3": [
        (2, 30 * M, "time_at_level"),
        (3, 150 * M, "time_at_level"),
        (4, 630 * M, "time_at_level"),
    ],
    # P2: Level 1's 30 minutes, Level 2's 2 hours; then the P2 resolution target (8 hours
    # from the opening) comes before Level 3's own 8 hours.
    "P2": [(2, 30 * M, "time_at_level"), (3, 150 * M, "time_at_level"), (4, 8 * H, "resolution")],
    # P1: Level 1's 30 minutes, then "Level 3 within 1 hour" (the level deadline), then
    # the P1 resolution target of 4 hours.
    "P1": [(2, 30 * M, "time_at_level"), (3, H, "level_deadline"), (4, 4 * H, "resolution")],
}


@pytest.mark.django_db
@pytest.mark.parametrize("set_based", [True, False], ids=["set-based", "one by one"])
@pytest.mark.parametrize("severity", ["P3", "P2", "P1"])
def test_the_p0_p3_preset_replays_seed_002s_tiers_to_the_second(matrix_preset, severity, set_based):
    agent = matrix_preset
    incident = opened_and_acknowledged(agent, severity)
    level = 1
    for to_level, after, clock in TIMELINES[severity]:
        sla_sweep(now=T0 + after - S, set_based=set_based)
        incident.refresh_from_db()
        assert incident.current_level == level, (to_level, after)  # not a second early
        sla_sweep(now=T0 + after, set_based=set_based)
        incident.refresh_from_db()
        assert incident.current_level == to_level, (to_level, after)
        last = Escalation.objects.filter(incident=incident).latest("at", "id")
        assert (last.from_level, last.to_level, last.at, last.clock) == (
            level,
            to_level,
            T0 + after,
            clock,
        )
        engine.handoff_acknowledge(incident=incident, actor=agent, now=T0 + after + M)
        incident.refresh_from_db()
        level = to_level
    tier_moves = Escalation.objects.filter(incident=incident, clock="time_at_level")
    for move in tier_moves:
        assert move.trigger == "sla"
        assert move.reason.startswith("Time at level: not resolved within ")
        assert f"of its arrival at L{move.from_level}" in move.reason
    # The timeline records each move with its reason.
    bodies = IncidentEvent.objects.filter(incident=incident, kind=EventKind.ESCALATED)
    assert bodies.count() == len(TIMELINES[severity])
    assert ThresholdFiring.objects.filter(incident=incident, clock="time_at_level").count() == (
        tier_moves.count()
    )


# What the escalation notice says of each move of seed 002's P1 (TIMELINES): the clock by its
# label, and a level's time limit or a level deadline as a limit, never "of SLA".
NOTICE_WORDS = {
    "time_at_level": ("Time at level", "100.0% of L1's 30m time limit"),
    "level_deadline": ("Level deadline", "100.0% of the 1h 00m deadline to reach L3"),
    "resolution": ("SLA", "100.0% of the Resolution target"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("set_based", [True, False], ids=["set-based", "one by one"])
def test_the_escalation_notice_words_a_tier_move_as_its_limit_not_an_sla_breach(
    matrix_preset, set_based
):
    """Seed 002's tiers ("Escalation: If not resolved in 30 minutes") and "Level 3 within 1
    hour": the notice names the clock by its label and the limit it passed; only an SLA
    target (seed 002's P1 resolution in 4 hours) reads as "% of SLA". Both sweep paths alike."""
    from django.utils.html import escape

    from notifications import rendering
    from notifications.models import Notification

    agent = matrix_preset
    incident = opened_and_acknowledged(agent, "P1")
    for _to_level, after, _clock in TIMELINES["P1"]:
        sla_sweep(now=T0 + after, set_based=set_based)
        engine.handoff_acknowledge(incident=incident, actor=agent, now=T0 + after + M)
        incident.refresh_from_db()
    seen = set()
    rows = Notification.objects.filter(
        incident=incident, kind="escalation", channel="email"
    ).order_by("id")
    for row in rows:
        clock = row.context["escalation"]["clock"]
        heading, measure = NOTICE_WORDS[clock]
        bodies = rendering.render_bodies(row)
        text, html = bodies["body_text"], bodies["body_html"]
        assert f"\n{heading}: {measure}\n" in text, text
        assert f"{escape(measure)}</p>" in html, html
        assert "_" not in clock or (clock not in text and clock not in html)  # no raw code
        if clock != "resolution":
            assert "of SLA" not in text + html and "SLA:" not in text
            assert "Trigger: SLA" not in text and "SLA threshold" not in html
        seen.add(clock)
    assert seen == set(NOTICE_WORDS)


@pytest.mark.django_db
@pytest.mark.parametrize("set_based", [True, False], ids=["set-based", "one by one"])
def test_a_resolved_incident_stays_where_it_was_resolved(matrix_preset, set_based):
    agent = matrix_preset
    incident = opened_and_acknowledged(agent, "P3")
    services.incident_change_status(
        incident=incident, status="resolved", actor=agent, note="Restarted it.", now=T0 + 20 * M
    )
    for at in (T0 + 30 * M, T0 + 3 * H, T0 + 11 * H):
        sla_sweep(now=at, set_based=set_based)
    incident.refresh_from_db()
    assert incident.current_level == 1
    assert not Escalation.objects.filter(incident=incident).exists()
    assert not ThresholdFiring.objects.filter(incident=incident, clock="time_at_level").exists()


@pytest.mark.django_db
def test_back_at_level_1_after_a_de_escalation_is_a_new_30_minutes(matrix_preset, manager):
    agent = matrix_preset
    incident = opened_and_acknowledged(agent, "P3")
    sla_sweep(now=T0 + 30 * M)
    incident.refresh_from_db()
    engine.handoff_acknowledge(incident=incident, actor=agent, now=T0 + 31 * M)
    back = T0 + H
    engine.incident_de_escalate(
        incident=incident,
        to_level=1,
        actor=manager,
        reason="Back to the front line for the follow-up",
        resolution_summary="Workaround in place.",
        now=back,
    )
    sla_sweep(now=back + 30 * M - S)
    incident.refresh_from_db()
    assert incident.current_level == 1
    sla_sweep(now=back + 30 * M)
    incident.refresh_from_db()
    assert incident.current_level == 2
    firings = ThresholdFiring.objects.filter(incident=incident, clock="time_at_level")
    assert sorted(firings.values_list("level", "interval_start")) == [(1, T0), (1, back)]


@pytest.mark.django_db
def test_an_escalation_by_hand_reads_the_sla_not_the_levels_time_limit(matrix_preset):
    """A move by hand names no clock: its "% of SLA at the time" is the SLA's own (a P3's
    24-hour resolution, about 1 % at 20 minutes), not L1's 30 minutes (66.7 % by then)."""
    agent = matrix_preset
    incident = opened_and_acknowledged(agent, "P3")
    engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=agent,
        reason="Needs a specialist",
        category="cross_team",
        note={
            "symptoms": "Exports time out",
            "steps_taken": "Restarted the worker",
            "current_status": "Still failing",
            "logs_and_evidence": "Trace attached",
            "business_impact": "Month-end reports late",
        },
        checklist=list(CHECKLIST),
        now=T0 + 20 * M,
    )
    record = Escalation.objects.get(incident=incident)
    assert record.clock in ("first_response", "resolution")
    assert record.sla_percent < 5


@pytest.mark.django_db
def test_the_database_keeps_the_limit_to_one_firing_per_arrival(matrix_preset):
    incident = opened_and_acknowledged(matrix_preset, "P3")
    fields = {
        "incident": incident,
        "clock": "time_at_level",
        "level": 1,
        "percent": 100,
        "action": "escalate",
        "due_at": T0 + 30 * M,
        "fired_at": T0 + 30 * M,
        "interval_start": T0,
    }
    ThresholdFiring.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        ThresholdFiring.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        ThresholdFiring.objects.create(**{**fields, "interval_start": None})
    ThresholdFiring.objects.create(**{**fields, "interval_start": T0 + H})  # a new arrival


# --- where people set and see it: admin, activation, API, incident page -----------------------


def change_form_data(html: str) -> dict:
    """What a browser would post back from an admin change form, as rendered."""
    from html.parser import HTMLParser

    class Form(HTMLParser):
        def __init__(self):
            super().__init__()
            self.data, self.select, self.textarea = {}, None, None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            name = attrs.get("name")
            if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
                if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                    return
                self.data.setdefault(name, []).append(attrs.get("value") or "")
            elif tag == "select" and name:
                self.select = name
                self.data.setdefault(name, [])
            elif tag == "option" and self.select and "selected" in attrs:
                self.data[self.select].append(attrs.get("value") or "")
            elif tag == "textarea" and name:
                self.textarea = name
                self.data[name] = [""]

        def handle_endtag(self, tag):
            if tag == "select":
                self.select = None
            elif tag == "textarea":
                self.textarea = None

        def handle_data(self, data):
            if self.textarea:
                self.data[self.textarea][-1] += data.removeprefix("\n")

    form = Form()
    form.feed(html)
    return {name: values if len(values) != 1 else values[0] for name, values in form.data.items()}


@pytest.mark.django_db
def test_the_admin_refuses_a_bad_limit_beside_the_field_as_activation_does(
    default_policy, manager, client
):
    """Seed 002's tiers: the admin refuses a level time limit under 1m, or on the top level
    (nowhere to go), beside the field, in activation's words (escalate_after_problems)."""
    from django.core.exceptions import ValidationError
    from django.urls import reverse
    from django.utils import timezone

    from escalations.models import Policy
    from escalations.policies import services as policies
    from tests.factories import PASSWORD

    draft = policies.policy_fork(policy=default_policy, actor=manager)
    draft.levels.update(contacts={"email": "oncall@example.com"})  # someone hears it
    client.login(username=manager.username, password=PASSWORD)
    url = reverse("admin:escalations_policy_change", args=[draft.pk])
    data = change_form_data(client.get(url).content.decode())
    numbers = {data[f"levels-{i}-number"]: i for i in range(int(data["levels-TOTAL_FORMS"]))}
    assert set(numbers) == {"1", "2"}
    one, top = numbers["1"], numbers["2"]

    def post(limits):
        changed = {**data, **{f"levels-{i}-escalate_after": v for i, v in limits.items()}}
        return client.post(url, {**changed, "_continue": "1"})

    # Under a minute, and a limit on the top level (L2 here): refused beside the field.
    response = post({one: "30s", top: "1h"})
    assert response.status_code == 200
    errors = {
        int(form["number"].value()): form.errors.get("escalate_after", [])
        for form in response.context["inline_admin_formsets"][0].formset.forms
    }
    assert errors[1] == [
        "L1 Front line: escalate_after must be at least 1m, or every arrival would "
        "escalate at once."
    ]
    assert errors[2] == [
        "L2 Specialists is the top level: escalate_after needs a level above it to escalate to."
    ]
    html = response.content.decode()
    assert "escalate_after must be at least 1m" in html
    assert list(draft.levels.values_list("escalate_after", flat=True)) == [None, None]
    # Nonsense and zero are refused too; a good limit below the top is kept.
    for value, says in (("0m", "must be longer than zero"), ("soon", "is not a duration")):
        assert says in post({one: value}).content.decode()
    assert post({one: "30m"}).status_code == 302
    assert draft.levels.get(number=1).escalate_after == 30 * M
    # Activation says the same of a top-level limit set behind the admin's back.
    draft.levels.filter(number=2).update(escalate_after=H)
    Policy.objects.filter(pk=draft.pk).update(updated_at=timezone.now())
    with pytest.raises(ValidationError, match="L2 Specialists is the top level"):
        policies.policy_activate(policy=Policy.objects.get(pk=draft.pk), actor=manager)
    draft.levels.filter(number=2).update(escalate_after=None)
    Policy.objects.filter(pk=draft.pk).update(updated_at=timezone.now())
    active = policies.policy_activate(policy=Policy.objects.get(pk=draft.pk), actor=manager)
    assert policy_spec(active).level(1).escalate_after == 30 * M


@pytest.mark.django_db
def test_the_api_and_the_incident_page_show_the_limit(matrix_preset, manager, client):
    from django.urls import reverse

    from escalations.models import Policy
    from tests.factories import PASSWORD

    client.login(username=manager.username, password=PASSWORD)
    policy = Policy.objects.get(name="p0-p3-matrix")
    body = client.get(reverse("api-policy-detail", args=[policy.pk])).json()
    assert [level["escalate_after"] for level in body["levels"]] == [
        "00:30:00",
        "02:00:00",
        "08:00:00",
        None,
    ]
    incident = make_incident(actor=manager, severity="P3")
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert 'data-clock="time_at_level"' in page and "Time at level" in page


@pytest.mark.django_db
def test_the_incident_page_names_a_tier_move_by_its_limit_not_the_sla(
    matrix_preset, manager, client
):
    """The escalation list said "100.0% of SLA" for a move by L1's 30 minutes, while the
    P3's SLA (24 hours to resolve) was 2 % used."""
    from django.urls import reverse

    from tests.factories import PASSWORD

    incident = opened_and_acknowledged(matrix_preset, "P3")
    sla_sweep(now=T0 + 30 * M)
    assert Escalation.objects.get(incident=incident).clock == "time_at_level"
    client.login(username=manager.username, password=PASSWORD)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert "100.0% of time at level" in page
    assert "% of SLA" not in page


@pytest.mark.parametrize(
    ("clock", "limit", "heading", "measure"),
    [
        ("handoff_ack", None, "SLA", "100.0% of the Handoff acknowledgement target"),
        ("first_response", None, "SLA", "100.0% of the First response target"),
        ("", None, "SLA", "100.0% of SLA"),
        ("time_at_level", 2 * H, "Time at level", "100.0% of L1's 2h 00m time limit"),
        ("level_deadline", H, "Level deadline", "100.0% of the 1h 00m deadline to reach L2"),
        ("resolution_max", 4 * H, "Resolution maximum", "100.0% of the 4h 00m resolution maximum"),
    ],
)
def test_every_clock_that_can_move_an_incident_reads_by_its_label(clock, limit, heading, measure):
    """The notice's clock line (seed 000's escalation template "% of SLA"): the SLA's own
    clocks (a handoff nobody took is one) as the SLA, the others as the limit they are."""
    from escalations.rules.clocks import move_measure

    assert move_measure(clock, "100.0", from_level=1, to_level=2, limit=limit) == (heading, measure)


@pytest.mark.django_db
def test_going_back_before_migration_0019_drops_the_time_at_level_firings_first(matrix_preset):
    """0019 reversed: 0018's firing_once (every clock but update) comes back, which two
    arrivals' firings at one level would break, so the reverse step deletes that clock's
    firings (and only those) before it. Checked by hand too: `migrate escalations 0018`
    with two such rows failed before, and goes back and forward now."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("escalations.migrations.0019_tiers_time_at_level")
    operations = migration.Migration.operations
    assert operations[0].name == "firing_once"  # RemoveConstraint, re-added last on reverse
    assert operations[1].reverse_code is migration.delete_time_at_level_firings
    incident = opened_and_acknowledged(matrix_preset, "P3")
    fields = {"incident": incident, "percent": 100, "action": "escalate", "due_at": T0}
    for arrival in (T0, T0 + H):
        ThresholdFiring.objects.create(
            **fields, clock="time_at_level", level=1, fired_at=arrival, interval_start=arrival
        )
    ThresholdFiring.objects.create(**fields, clock="resolution", level=1, fired_at=T0)
    migration.delete_time_at_level_firings(apps, None)
    assert list(ThresholdFiring.objects.values_list("clock", flat=True)) == ["resolution"]
