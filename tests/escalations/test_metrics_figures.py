"""Metrics: each figure from the stored incident and escalation rows, in SQL."""

from datetime import timedelta

import pytest
import time_machine

from escalations import metrics
from escalations.filters import day_bounds
from incidents.models import Category, Incident
from tests.escalations.review_scenario import NOW, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(roles):
    with time_machine.travel(NOW, tick=False):
        yield build_world()


def tables_for(user, **filters):
    start, end = day_bounds(NOW.date() - timedelta(days=6), NOW.date())
    period = metrics.period_for(user, start=start, end=end, now=NOW, filters=filters)
    return {table.slug: table for table in metrics.metrics_tables(period)}


def row(table, first):
    return next(r for r in table.rows if str(r[0]) == first)


def test_summary_figures(world):
    tables = tables_for(world.manager)
    rate = tables["escalation-rate"]
    # 6 incidents; 'escalated' moved by hand and 'secret' by the security trigger.
    assert row(rate, "All")[1:3] == [6, 2]
    assert str(row(rate, "All")[3]) == "33.3 %"
    assert row(rate, "All")[3].target.met is False  # target < 10 %
    assert row(rate, "P3 Low")[1] == 0 and str(row(rate, "P3 Low")[3]) == "—"

    sla = tables["sla-compliance"]
    # First response: met in time by 'escalated', 'resolved' and 'secret' (its handoff
    # acknowledgement answered it); overdue: 'breached'. 'soon' and 'fresh' still run.
    assert row(sla, "All")[1:3] == [3, 1]
    # Resolution: met in time by 'resolved' only; nothing else overdue yet.
    assert row(sla, "All")[4:6] == [1, 0]
    assert row(sla, "All")[6].target.met is True

    levels = tables["levels"]
    assert [r[0] for r in levels.rows] == ["L1", "L2"]
    assert [r[1] for r in levels.rows] == [4, 2]
    resolved_low = next(f for f in levels.figures if f[0] == "Resolved at L1 or below")
    assert resolved_low[1] == "100.0 %" and resolved_low[2].met is True

    times = tables["response-times"]
    # Acknowledged: 'escalated' after 10 min, 'resolved' after 10 min; the handoff
    # acknowledgement of 'secret' sets no acknowledged_at.
    assert row(times, "All")[2] == "10m"
    assert row(times, "All")[4] == "2h 00m"  # "resolved" took two hours


def test_decisions_reasons_and_agents(world):
    tables = tables_for(world.manager)
    decisions = tables["decision-times"]
    assert row(decisions, "P2 Medium")[1] == 0 and row(decisions, "P2 Medium")[5] == 1
    by_level = tables["escalations-by-level"]
    assert [r[:3] for r in by_level.rows] == [["L1", "L2", 2]]
    assert by_level.rows[0][3] == 1  # the security trigger: automatic
    reasons = {(r[0], r[1]): r[2] for r in tables["escalation-reasons"].rows}
    assert reasons[("Lack of expertise or knowledge", "Engineer")] == 1
    agents = {r[0]: r[1] for r in tables["escalations-by-agent"].rows}
    assert agents["System (automatic)"] == 1
    assert agents[str(world.agent)] == 1
    full = tables["reasons-list"]
    assert {r[1] for r in full.rows} == {world.escalated.reference, world.secret.reference}


def test_decision_time_against_its_target(world):
    from escalations import engine

    escalation = world.escalated.escalations.get()
    engine.escalation_record_decision(
        escalation=escalation,
        actor=world.manager,
        decision="Roll back",
        now=NOW - 10 * timedelta(minutes=1),
    )
    decisions = tables_for(world.manager)["decision-times"]
    assert row(decisions, "P2 Medium")[1] == 1
    assert row(decisions, "P2 Medium")[2].text == "20m"
    assert row(decisions, "P2 Medium")[5] == 0


def test_csat_volume_categories_and_repeats(world):
    Incident.objects.filter(pk=world.resolved.pk).update(csat_rating=5)
    Incident.objects.filter(pk=world.breached.pk).update(csat_rating=2)
    category = Category.objects.first()
    Incident.objects.filter(pk__in=[world.soon.pk, world.escalated.pk]).update(category=category)
    Incident.objects.filter(pk__in=[world.escalated.pk, world.secret.pk]).update(
        root_cause_key="auth-lib"
    )
    tables = tables_for(world.manager)
    csat = tables["csat"]
    assert row(csat, "All")[1:3] == [2, 1]
    assert str(row(csat, "All")[3]) == "50.0 %" and row(csat, "All")[3].target.met is False
    volume = tables["volume"]
    assert [r[1:6] for r in volume.rows] == [[0, 2, 4, 0, 6]]
    causes = {r[0]: r for r in tables["root-causes"].rows}
    assert causes[category.name][1] == 2 and causes[category.name][3] == 1
    assert causes["Uncategorised"][1] == 4
    repeats = tables["repeat-escalations"]
    assert repeats.rows == [["auth-lib", 2, 0, 0]]
    assert repeats.figures[0][1] == "1 (before: 0)"
    # Moved into the week before, the same repeat counts as "before".
    Incident.objects.filter(pk__in=[world.escalated.pk, world.secret.pk]).update(
        opened_at=NOW - timedelta(days=9)
    )
    repeats = tables_for(world.manager)["repeat-escalations"]
    assert repeats.rows == [] and repeats.figures[0][1] == "0 (before: 1)"
    assert repeats.figures[0][2].met is True


def test_filters_and_visibility_apply(world):
    assert row(tables_for(world.manager, severity="P1")["escalation-rate"], "All")[1] == 2
    # The team lead cannot see the security incident: five incidents, one escalated.
    assert row(tables_for(world.lead)["escalation-rate"], "All")[1:3] == [5, 1]


def test_pir_metrics_are_marked_not_available(world):
    tables = tables_for(world.manager)
    assert tables["pir-completion"].available is False
    assert tables["action-item-closure"].available is False
