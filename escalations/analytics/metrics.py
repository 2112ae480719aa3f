"""Escalation metrics (seeds 000, 001, 004): selectors, read-only, every figure in SQL.

A metric is one `Metric` in `METRICS`: a function from the period's querysets
to a `Table` (headers, rows, optional SVG chart, targets shown red or green).
Each table is one aggregate query (conditional counts, averages, GROUP BY,
date truncation), so the page costs a fixed number of queries over the
indexed opening time, whatever the number of incidents.

Figures cover incidents opened in the period (the visible ones, filtered). On-call fairness
is the one table not about incidents: hours on call from the schedules' final shifts,
computed by the pure core (`escalations.rules.oncall_hours`) with one query for the schedules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from escalations.analytics import charts
from escalations.analytics.filters import day_bounds, incident_filter_q
from escalations.models import (
    OPEN_ITEM_STATUSES,
    ActionItem,
    ActionItemStatus,
    Escalation,
    Level,
    PostIncidentReview,
    ReasonCategory,
    ReviewStatus,
    Trigger,
)
from escalations.rules.durations import humanize
from escalations.schedules.selectors import oncall_hours_by_month
from incidents.models import Incident
from incidents.rules import Severity
from incidents.selectors import visibility_q

SEVERITIES = [s.value for s in Severity]
SEVERITY_WORDS = {s.value: f"{s.value} {s.word}" for s in Severity}


# --- targets (seeds 000 and 004) ---------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    label: str
    met: bool | None  # None: nothing to judge yet

    @property
    def css(self) -> str:
        return {True: "met", False: "missed", None: "none"}[self.met]


def at_most(value: float | None, limit: float, label: str) -> Target:
    return Target(label, None if value is None else value < limit)


def at_least(value: float | None, limit: float, label: str) -> Target:
    return Target(label, None if value is None else value > limit)


ESCALATION_RATE_TARGET = 10.0  # % of incidents escalated, below
RESOLVED_LOW_TARGET = 90.0  # % resolved at L1 or below, above
SLA_TARGET = 95.0  # % compliance, above
CSAT_TARGET = 85.0  # % satisfied (4-5 of 5), above
DECISION_TARGETS = {"P0": timedelta(minutes=30), "P1": timedelta(hours=2)}


# --- the period --------------------------------------------------------------------------------


@dataclass
class Period:
    """The querysets every metric starts from."""

    start: datetime
    end: datetime
    now: datetime
    incidents: QuerySet  # visible, filtered, opened in [start, end)
    escalations: QuerySet  # moves up of those incidents
    both: QuerySet  # the same, opened in this period or the one of equal length before
    levels: tuple[int, ...] = ()  # level numbers the policies have
    records: QuerySet | None = None  # every move of those incidents, de-escalations too
    shared: dict = field(default_factory=dict, repr=False)  # queries two tables read


def period_for(
    user, *, start: datetime, end: datetime, now: datetime, filters: dict, levels=None
) -> Period:
    """`levels`: the level numbers to count (default: those of every policy, one query)."""
    if levels is None:
        levels = Level.objects.order_by("number").values_list("number", flat=True).distinct()
    visible = visibility_q(user)
    chosen = incident_filter_q(filters)
    incidents = Incident.objects.filter(visible, chosen)
    length = end - start
    records = Escalation.objects.filter(
        visibility_q(user, "incident__"),
        incident_filter_q(filters, "incident__"),
        incident__opened_at__gte=start,
        incident__opened_at__lt=end,
        at__gte=start,  # never earlier than the opening: lets the index on `at` help
    )
    return Period(
        records=records,
        start=start,
        end=end,
        now=now,
        incidents=incidents.filter(opened_at__gte=start, opened_at__lt=end),
        escalations=records.exclude(trigger=Trigger.DE_ESCALATION),
        both=incidents.filter(opened_at__gte=start - length, opened_at__lt=end),
        levels=tuple(levels),
    )


def metrics_period(user, form, now: datetime) -> tuple[Period, tuple[date, date]]:
    """The period a MetricsFilterForm asks for (the last 90 days by default), in whole
    days of the current time zone, and its (first day, last day): the metrics page,
    its CSV downloads and the API."""
    first, last = form.period(today=timezone.localdate(now))
    start, end = day_bounds(first, last)
    period = period_for(user, start=start, end=end, now=now, filters=form.filters())
    return period, (first, last)


# --- tables ------------------------------------------------------------------------------------


@dataclass
class Table:
    slug: str
    title: str
    headers: list[str]
    rows: list[list]
    numeric: set[int] = field(default_factory=set)  # column indexes shown right-aligned
    # Column indexes never broken inside a cell: a month such as "2026-09" would break at
    # its hyphen on a phone. Numeric columns never break either.
    unbroken: set[int] = field(default_factory=set)
    figures: list[tuple[str, str, Target | None]] = field(default_factory=list)
    chart: str = ""
    note: str = ""
    available: bool = True  # always, now: kept in the API's output

    def csv_rows(self) -> list[list]:
        return [self.headers, *[[_plain(cell) for cell in row] for row in self.rows]]


@dataclass(frozen=True)
class Cell:
    """A value with its target judgement, shown red or green."""

    text: str
    target: Target | None = None

    def __str__(self) -> str:
        return self.text


def _plain(cell) -> str:
    if isinstance(cell, datetime):  # ISO 8601 with the reader's offset, for spreadsheets
        return timezone.localtime(cell).isoformat(timespec="seconds")
    return "" if cell is None else str(cell)


def pct(part, whole) -> float | None:
    return None if not whole else 100.0 * (part or 0) / whole


def pct_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def duration_text(value: timedelta | None) -> str:
    return "—" if value is None else humanize(value)


def elapsed_between(later: str, earlier: str, prefix: str = "") -> ExpressionWrapper:
    return ExpressionWrapper(
        F(f"{prefix}{later}") - F(f"{prefix}{earlier}"), output_field=DurationField()
    )


def as_timedelta(value) -> timedelta | None:
    """Averages of durations: PostgreSQL gives a timedelta, SQLite microseconds."""
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(microseconds=float(value))


# --- the per-severity summary: one scan for many figures ---------------------------------------

FR_BREACHED = Q(first_response_breached=True)
RES_BREACHED = Q(resolution_breached=True)
ESCALATED = Q(level_moves__gt=0)


def _measures(now: datetime) -> dict:
    """name -> aggregate over a group of incidents."""
    return {
        "total": Count("id"),
        "escalated": Count("id", filter=Q(level_moves__gt=0)),
        "resolved": Count("id", filter=Q(resolved_at__isnull=False)),
        "resolved_low": Count("id", filter=Q(resolved_at__isnull=False, peak_level__lte=1)),
        "fr_met": Count("id", filter=Q(first_response_breached=False)),
        "fr_breached": Count(
            "id",
            filter=FR_BREACHED
            | Q(first_response_breached__isnull=True, first_response_due_at__lte=now),
        ),
        "res_met": Count("id", filter=Q(resolution_breached=False)),
        "res_breached": Count(
            "id",
            filter=RES_BREACHED | Q(resolution_breached__isnull=True, resolution_due_at__lte=now),
        ),
        "mtta": Avg(
            elapsed_between("acknowledged_at", "opened_at"), filter=Q(acknowledged_at__isnull=False)
        ),
        "mttr": Avg(
            elapsed_between("resolved_at", "opened_at"), filter=Q(resolved_at__isnull=False)
        ),
        "csat_rated": Count("id", filter=Q(csat_rating__isnull=False)),
        "csat_satisfied": Count("id", filter=Q(csat_rating__gte=4)),
        # Seed 004 "customer_satisfaction: CSAT for escalations": escalated incidents only.
        "csat_esc_rated": Count("id", filter=ESCALATED & Q(csat_rating__isnull=False)),
        "csat_esc_satisfied": Count("id", filter=ESCALATED & Q(csat_rating__gte=4)),
    }


def _clean(row: dict) -> dict:
    return {
        name: as_timedelta(value) if name in ("mtta", "mttr") else value or 0
        for name, value in row.items()
    }


def severity_summary(period: Period) -> dict[str, dict]:
    """{"all" or severity: {measure: value}}: two scans, one grouped by severity,
    one over all incidents (which also counts the highest levels reached)."""
    measures = _measures(period.now)
    levels = period.levels
    grouped = {
        row.pop("severity"): _clean(row)
        for row in period.incidents.values("severity").annotate(**measures).order_by()
    }
    totals = period.incidents.aggregate(
        **measures,
        **{f"peak_{n}": Count("id", filter=Q(peak_level=n)) for n in levels},
        **{
            f"peak_resolved_{n}": Count("id", filter=Q(peak_level=n, resolved_at__isnull=False))
            for n in levels
        },
        # Never moved, so only ever at this level (escalation rate by tier).
        **{f"stayed_{n}": Count("id", filter=Q(level_moves=0, current_level=n)) for n in levels},
    )
    summary = {"all": _clean(totals)}
    empty = _clean(dict.fromkeys(measures))
    for severity in SEVERITIES:
        summary[severity] = grouped.get(severity, empty)
    return summary


def _slice_label(slice_: str) -> str:
    return "All" if slice_ == "all" else SEVERITY_WORDS[slice_]


def escalation_rate(period: Period, summary: dict) -> Table:
    rows, chart_values = [], []
    for slice_, data in summary.items():
        rate = pct(data["escalated"], data["total"])
        target = at_most(rate, ESCALATION_RATE_TARGET, "< 10 %")
        rows.append(
            [_slice_label(slice_), data["total"], data["escalated"], Cell(pct_text(rate), target)]
        )
        if slice_ != "all":
            chart_values.append(rate)
    overall = pct(summary["all"]["escalated"], summary["all"]["total"])
    return Table(
        "escalation-rate",
        "Escalation rate",
        ["Severity", "Incidents", "Escalated", "Rate"],
        rows,
        numeric={1, 2, 3},
        figures=[
            (
                "Escalation rate",
                pct_text(overall),
                at_most(overall, ESCALATION_RATE_TARGET, "target < 10 %"),
            )
        ],
        chart=charts.bar_chart(
            SEVERITIES,
            [("Escalated", chart_values)],
            title="Escalation rate by severity",
            unit=" %",
            target=ESCALATION_RATE_TARGET,
            target_label="target 10 %",
        ),
        note="Escalated: moved between levels at least once (any trigger).",
    )


def sla_compliance(period: Period, summary: dict) -> Table:
    rows, fr_values, res_values = [], [], []
    for slice_, data in summary.items():
        fr = pct(data["fr_met"], data["fr_met"] + data["fr_breached"])
        res = pct(data["res_met"], data["res_met"] + data["res_breached"])
        rows.append(
            [
                _slice_label(slice_),
                data["fr_met"],
                data["fr_breached"],
                Cell(pct_text(fr), at_least(fr, SLA_TARGET, "> 95 %")),
                data["res_met"],
                data["res_breached"],
                Cell(pct_text(res), at_least(res, SLA_TARGET, "> 95 %")),
            ]
        )
        if slice_ != "all":
            fr_values.append(fr)
            res_values.append(res)
    all_ = summary["all"]
    fr = pct(all_["fr_met"], all_["fr_met"] + all_["fr_breached"])
    res = pct(all_["res_met"], all_["res_met"] + all_["res_breached"])
    return Table(
        "sla-compliance",
        "SLA compliance",
        [
            "Severity",
            "First response met",
            "breached",
            "compliance",
            "Resolution met",
            "breached",
            "compliance",
        ],
        rows,
        numeric={1, 2, 3, 4, 5, 6},
        figures=[
            ("First response SLA", pct_text(fr), at_least(fr, SLA_TARGET, "target > 95 %")),
            ("Resolution SLA", pct_text(res), at_least(res, SLA_TARGET, "target > 95 %")),
        ],
        chart=charts.bar_chart(
            SEVERITIES,
            [("First response", fr_values), ("Resolution", res_values)],
            title="SLA compliance by severity",
            unit=" %",
            target=SLA_TARGET,
            target_label="target 95 %",
        ),
        note="Against each incident's own policy version; clocks still running in time "
        "are not counted yet, overdue ones count as breached.",
    )


def response_times(period: Period, summary: dict) -> Table:
    rows = [
        [
            _slice_label(slice_),
            data["total"],
            duration_text(data["mtta"]),
            data["resolved"],
            duration_text(data["mttr"]),
        ]
        for slice_, data in summary.items()
    ]

    return Table(
        "response-times",
        "Mean time to acknowledge and to resolve",
        ["Severity", "Incidents", "MTTA", "Resolved", "MTTR"],
        rows,
        numeric={1, 2, 3, 4},
        figures=[
            ("MTTA", duration_text(summary["all"]["mtta"]), None),
            ("MTTR", duration_text(summary["all"]["mttr"]), None),
        ],
        chart=charts.bar_chart(
            SEVERITIES,
            [
                ("MTTA", [_chart_hours(summary[s]["mtta"]) for s in SEVERITIES]),
                ("MTTR", [_chart_hours(summary[s]["mttr"]) for s in SEVERITIES]),
            ],
            title="Mean hours to acknowledge and to resolve",
            unit=" h",
        ),
        note="Wall-clock time from the opening.",
    )


def csat(period: Period, summary: dict) -> Table:
    """Seed 004: "customer_satisfaction: CSAT for escalations" and ">85% CSAT on
    escalations": the escalated incidents' ratings beside those of all incidents."""
    rows, values, escalated_values = [], [], []
    for slice_, data in summary.items():
        share = pct(data["csat_satisfied"], data["csat_rated"])
        escalated = pct(data["csat_esc_satisfied"], data["csat_esc_rated"])
        rows.append(
            [
                _slice_label(slice_),
                data["csat_rated"],
                data["csat_satisfied"],
                Cell(pct_text(share), at_least(share, CSAT_TARGET, "> 85 %")),
                data["csat_esc_rated"],
                data["csat_esc_satisfied"],
                Cell(pct_text(escalated), at_least(escalated, CSAT_TARGET, "> 85 %")),
            ]
        )
        if slice_ != "all":
            values.append(share)
            escalated_values.append(escalated)
    all_ = summary["all"]
    overall = pct(all_["csat_satisfied"], all_["csat_rated"])
    on_escalations = pct(all_["csat_esc_satisfied"], all_["csat_esc_rated"])
    return Table(
        "csat",
        "Customer satisfaction",
        [
            "Severity",
            "Rated",
            "Satisfied (4-5)",
            "CSAT",
            "Escalated: rated",
            "satisfied",
            "CSAT on escalations",
        ],
        rows,
        numeric={1, 2, 3, 4, 5, 6},
        figures=[
            ("CSAT", pct_text(overall), at_least(overall, CSAT_TARGET, "target > 85 %")),
            (
                "CSAT on escalations",
                pct_text(on_escalations),
                at_least(on_escalations, CSAT_TARGET, "target > 85 %"),
            ),
        ],
        chart=charts.bar_chart(
            SEVERITIES,
            [("All incidents", values), ("Escalated", escalated_values)],
            title="CSAT by severity",
            unit=" %",
            target=CSAT_TARGET,
            target_label="target 85 %",
        ),
        note="Escalated: incidents moved between levels at least once.",
    )


# --- escalation-based figures (issue 19: seeds 000, 001 and 004) -------------------------------

MOVES_UP = Q(to_level__gt=F("from_level"))
HANDOFF_TARGET = 95.0  # % of handoffs acknowledged in the receiving level's target, above


class Median(Aggregate):
    """The median of a duration: PostgreSQL's percentile_cont. SQLite has none: there the
    figure is None (shown as "—"), the mean still given."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
    output_field = DurationField()
    allow_distinct = False

    def as_sqlite(self, compiler, connection, **extra_context):
        return "NULL", []


def _chart_hours(value: timedelta | None) -> float | None:
    """A duration as a chart's hours (None: no bar)."""
    return None if value is None else value.total_seconds() / 3600


def _month_label(month: datetime, period: Period) -> str:
    label = f"{month:%Y-%m}"
    if month < period.start.astimezone(month.tzinfo) or _month_end(month) > period.end:
        label += " (part)"
    return label


def _change_text(now, before) -> str:
    change = pct(now - before, before) if before else None
    return "—" if change is None else f"{change:+.1f} %"


def _monthly_rows(data: list[dict], period: Period) -> list[list]:
    """Month, its count per severity, its total and the change from the month before."""
    rows, previous = [], None
    for row in data:
        rows.append(
            [
                _month_label(row["month"], period),
                *[row[s] for s in SEVERITIES],
                row["total"],
                _change_text(row["total"], previous),
            ]
        )
        previous = row["total"]
    return rows


def _monthly_chart(data: list[dict], title: str) -> str:
    return charts.bar_chart(
        [f"{row['month']:%b %Y}" for row in data],
        [(s, [row[s] for row in data]) for s in SEVERITIES],
        title=title,
        stacked=True,
        colours=[charts.SEVERITY_COLOURS[s] for s in SEVERITIES],
    )


def escalation_volume(period: Period, summary: dict) -> Table:
    """Seed 004 "volume: total_escalations: Monthly count, by_severity, trend: MoM
    change": escalation records moving up (not incidents), by the month they were made."""
    data = list(
        period.escalations.filter(MOVES_UP)
        .annotate(month=TruncMonth("at"))
        .values("month")
        .annotate(
            total=Count("id"),
            **{s: Count("id", filter=Q(incident__severity=s)) for s in SEVERITIES},
        )
        .order_by("month")
    )
    return Table(
        "escalation-volume",
        "Escalation volume month over month",
        ["Month", *SEVERITIES, "Escalations", "Month over month"],
        _monthly_rows(data, period),
        numeric={1, 2, 3, 4, 5, 6},
        unbroken={0},
        figures=[("Escalations made", str(sum(row["total"] for row in data)), None)],
        chart=_monthly_chart(data, "Escalations per month by severity"),
        note="Each move up counts (an incident escalated twice counts twice), in the month "
        "it was made, in your time zone; the first and last months may be partial.",
    )


def _with_ack_target(escalations: QuerySet) -> QuerySet:
    """Annotates `ack_target`, the handoff_ack clock's target: the first-response target of
    the incident's policy version for (its severity, the level escalated to), else that
    level's own. Joined (not a subquery per reference): the counts refer to it often."""
    return escalations.annotate(
        matrix_target=FilteredRelation(
            "incident__policy__targets",
            condition=Q(
                incident__policy__targets__severity=F("incident__severity"),
                incident__policy__targets__level=F("to_level"),
            ),
        ),
        level_target=FilteredRelation(
            "incident__policy__levels",
            condition=Q(incident__policy__levels__number=F("to_level")),
        ),
    ).annotate(
        ack_target=Coalesce(
            F("matrix_target__first_response"),
            F("level_target__first_response"),
            output_field=DurationField(),
        )
    )


HANDOFF_COUNTS = ("handoffs", "met", "late", "overdue", "untargeted")


def handoff_counts(escalations: QuerySet, *, now: datetime, by_level: bool = True):
    """Moves up among `escalations` against the receiving level's acknowledgement target
    (the handoff_ack clock's): met, late, overdue (unacknowledged past it), untargeted
    (no target: not judged); the rest are still in time. One query: {to_level: counts},
    or the counts over all when not `by_level`."""
    deadline = ExpressionWrapper(F("at") + F("ack_target"), output_field=DateTimeField())
    acknowledged = Q(acknowledged_at__isnull=False)
    measures = {
        "handoffs": Count("id"),
        "met": Count("id", filter=acknowledged & Q(acknowledged_at__lte=F("deadline"))),
        "late": Count("id", filter=acknowledged & Q(acknowledged_at__gt=F("deadline"))),
        "overdue": Count("id", filter=Q(acknowledged_at__isnull=True, deadline__lte=now)),
        "untargeted": Count("id", filter=Q(ack_target__isnull=True)),
    }
    moves = _with_ack_target(escalations.filter(MOVES_UP)).annotate(deadline=deadline)
    if not by_level:
        return {name: value or 0 for name, value in moves.aggregate(**measures).items()}
    return {
        row.pop("to_level"): row
        for row in moves.values("to_level").annotate(**measures).order_by("to_level")
    }


def handoff_share(counts: dict) -> float | None:
    """Met of those judged (met, late, overdue)."""
    return pct(counts["met"], counts["met"] + counts["late"] + counts["overdue"])


def handoff_compliance(period: Period, summary: dict) -> Table:
    """Seed 004 success metric ">95% of escalations meet response SLA": the share of moves
    up acknowledged by the receiving level within its acknowledgement target (the
    handoff_ack clock's target). One query: the target from the policy version in a
    correlated subquery, counts grouped by the level escalated to."""
    data = handoff_counts(period.escalations, now=period.now)
    totals = {name: sum(row[name] for row in data.values()) for name in HANDOFF_COUNTS}

    def line(label, row):
        judged = row["met"] + row["late"] + row["overdue"]
        share = handoff_share(row)
        waiting = row["handoffs"] - judged - row["untargeted"]
        return [
            label,
            row["handoffs"],
            row["met"],
            row["late"],
            row["overdue"],
            waiting,
            Cell(pct_text(share), at_least(share, HANDOFF_TARGET, "> 95 %")),
        ]

    rows = [line("All", totals)] + [line(f"L{n}", row) for n, row in data.items()]
    overall = handoff_share(totals)
    return Table(
        "handoff-compliance",
        "Handoff acknowledgement compliance",
        [
            "Escalated to",
            "Handoffs",
            "Acknowledged in target",
            "late",
            "Unacknowledged, overdue",
            "Still in time",
            "Compliance",
        ],
        rows,
        numeric={1, 2, 3, 4, 5, 6},
        figures=[
            (
                "Handoffs acknowledged in target",
                pct_text(overall),
                at_least(overall, HANDOFF_TARGET, "target > 95 %"),
            )
        ],
        chart=charts.bar_chart(
            [f"L{n}" for n in data],
            [
                (
                    "Compliance",
                    [handoff_share(r) for r in data.values()],
                )
            ],
            title="Handoffs acknowledged in target, by level escalated to",
            unit=" %",
            target=HANDOFF_TARGET,
            target_label="target 95 %",
        ),
        note="Target: the receiving level's first-response target for the incident's "
        "severity in its policy version (the handoff acknowledgement clock), counted here "
        "in wall-clock time, so business hours and pauses are not deducted. Handoffs with "
        "no such target are not judged; those still in time wait.",
    )


def time_to_escalate(period: Period, summary: dict) -> Table:
    """Seed 001 "Escalation metrics tracked (rate, time-to-escalate, resolution time)":
    from the opening to the incident's first move up. Moves made at the opening (a
    severity or trigger route) are routing, not a decision to escalate: counted apart.
    One query: each incident's first move up (grouped by incident in a subquery), then
    conditional aggregates per severity."""
    later = Q(first_up__gt=F("opened"))
    took = elapsed_between("first_up", "opened")
    firsts = (
        period.escalations.filter(MOVES_UP)
        .values("incident")
        .annotate(
            first_up=Min("at"),
            opened=Max("incident__opened_at"),
            incident_severity=Max("incident__severity"),
        )
        .order_by()
    )
    counts = firsts.aggregate(
        mean_all=Avg(took, filter=later),
        **{
            f"{name}_{s}": measure
            for s in SEVERITIES
            for name, measure in (
                ("escalated", Count("incident", filter=Q(incident_severity=s))),
                ("routed", Count("incident", filter=Q(incident_severity=s) & ~later)),
                ("mean", Avg(took, filter=Q(incident_severity=s) & later)),
                ("median", Median(took, filter=Q(incident_severity=s) & later)),
            )
        },
    )
    grouped = {
        s: {name: counts[f"{name}_{s}"] for name in ("escalated", "routed", "mean", "median")}
        for s in SEVERITIES
    }
    rows, values = [], []
    for severity in SEVERITIES:
        row = grouped.get(severity, {})
        mean, median = as_timedelta(row.get("mean")), as_timedelta(row.get("median"))
        rows.append(
            [
                SEVERITY_WORDS[severity],
                row.get("escalated", 0),
                row.get("routed", 0),
                duration_text(median),
                duration_text(mean),
            ]
        )
        values.append(_chart_hours(mean))
    overall = as_timedelta(counts["mean_all"])
    return Table(
        "time-to-escalate",
        "Time to escalate",
        ["Severity", "Escalated incidents", "Routed up at the opening", "Median", "Mean"],
        rows,
        numeric={1, 2, 3, 4},
        figures=[("Time to escalate (mean)", duration_text(overall), None)],
        chart=charts.bar_chart(
            SEVERITIES,
            [("Mean hours", values)],
            title="Mean hours from opening to first escalation",
            unit=" h",
        ),
        note="Wall-clock time from the opening to the first move up; incidents routed up "
        "at the opening (by severity or a trigger) are counted apart and left out of the "
        "median and mean.",
    )


def escalation_rate_by_tier(period: Period, summary: dict) -> Table:
    """Seed 001 "track escalation rates by tier ... High escalation rates from L1 signal a
    training or tooling gap": of the incidents that were at a level, the share moved up
    from it. An incident that never moved was only at its level (counted in the summary);
    one that moved was at each level a move reached or left, a move at the opening (routing
    by severity or a trigger) leaving nothing. One query over the period's escalation
    records (de-escalations too): distinct incidents per level."""
    levels = period.levels
    # A move at the opening is routing (by severity or a trigger): the incident was
    # never at the level it left.
    left = Q(at__gt=F("incident__opened_at"))
    up = MOVES_UP & left & ~Q(trigger=Trigger.DE_ESCALATION)
    counts = period.records.aggregate(
        **{
            f"at_{n}": Count(
                "incident", distinct=True, filter=Q(to_level=n) | (left & Q(from_level=n))
            )
            for n in levels
        },
        **{
            f"up_{n}": Count("incident", distinct=True, filter=up & Q(from_level=n)) for n in levels
        },
    )
    rows, chart_rows = [], []
    for number in levels:
        handled = (counts[f"at_{number}"] or 0) + summary["all"].get(f"stayed_{number}", 0)
        moved_up = counts[f"up_{number}"] or 0
        if not handled:
            continue
        rate = pct(moved_up, handled)
        target = at_most(rate, ESCALATION_RATE_TARGET, "< 10 %") if number == 1 else None
        rows.append([f"L{number}", handled, moved_up, Cell(pct_text(rate), target)])
        chart_rows.append((f"L{number}", rate))
    return Table(
        "escalation-rate-by-tier",
        "Escalation rate by tier",
        ["Tier (level)", "Incidents at this level", "Escalated from it", "Rate"],
        rows,
        numeric={1, 2, 3},
        chart=charts.bar_chart(
            [label for label, _rate in chart_rows],
            [("Escalated from the level", [rate for _label, rate in chart_rows])],
            title="Escalation rate by tier",
            unit=" %",
        ),
        note="Incidents at this level: opened there and never moved, or moved to or from it; "
        "an incident routed up at its opening (by severity or a trigger) was never at the "
        "level it left. The < 10 % target (seed 000) is judged at L1.",
    )


def escalation_rate_by_agent(period: Period, summary: dict) -> Table:
    """Seed 001 "track escalation rates by ... agent": per agent who took the incident in
    (its creator: the assignee changes when a receiving level acknowledges), the share of
    their incidents escalated. One query, the 50 agents with the most incidents."""
    data = list(
        period.incidents.values(
            "created_by__username", "created_by__first_name", "created_by__last_name"
        )
        .annotate(total=Count("id"), escalated=Count("id", filter=ESCALATED))
        .order_by("-total", "created_by__username")[:50]
    )

    def name(row):
        if not row["created_by__username"]:
            return "No agent (alert or customer)"
        full = f"{row['created_by__first_name']} {row['created_by__last_name']}".strip()
        return full or row["created_by__username"]

    rows = []
    for r in data:
        rate = pct(r["escalated"], r["total"])
        rows.append(
            [
                name(r),
                r["total"],
                r["escalated"],
                Cell(pct_text(rate), at_most(rate, ESCALATION_RATE_TARGET, "< 10 %")),
            ]
        )
    return Table(
        "escalation-rate-by-agent",
        "Escalation rate by agent",
        ["Agent (opened the incident)", "Incidents", "Escalated", "Rate"],
        rows,
        numeric={1, 2, 3},
        chart=charts.hbar_chart(
            [(name(r), round(pct(r["escalated"], r["total"]) or 0, 1)) for r in data[:12]],
            title="Escalation rate by agent",
            unit=" %",
        ),
        note="The 50 agents who opened the most incidents; incidents opened by an alert or "
        "a customer's email have no agent. Escalation rate by category: see root-cause "
        "categories.",
    )


def escalation_effectiveness(period: Period, summary: dict) -> Table:
    """Seed 000 "Effectiveness of escalations (did they help?)": a move up helped when
    the incident was then resolved with no further move up (going higher, or bouncing
    back down and up again, means it did not); with the incident still open and no
    further move up it is undecided. One query, grouped by the level escalated to."""
    further = Exists(
        Escalation.objects.filter(MOVES_UP, incident=OuterRef("incident"))
        .exclude(trigger=Trigger.DE_ESCALATION)
        .filter(Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), id__gt=OuterRef("id")))
    )
    data = list(
        period.escalations.filter(MOVES_UP)
        .annotate(further=further)
        .values("to_level")
        .annotate(
            total=Count("id"),
            helped=Count("id", filter=Q(further=False, incident__resolved_at__isnull=False)),
            not_enough=Count("id", filter=Q(further=True)),
        )
        .order_by("to_level")
    )
    totals = {name: sum(r[name] for r in data) for name in ("total", "helped", "not_enough")}

    def line(label, row):
        share = pct(row["helped"], row["helped"] + row["not_enough"])
        open_ = row["total"] - row["helped"] - row["not_enough"]
        return [label, row["total"], row["helped"], row["not_enough"], open_, pct_text(share)]

    overall = pct(totals["helped"], totals["helped"] + totals["not_enough"])
    return Table(
        "escalation-effectiveness",
        "Effectiveness of escalations",
        [
            "Escalated to",
            "Escalations",
            "Resolved without a further move up",
            "Moved up again",
            "Still open",
            "Effective",
        ],
        [line("All", totals)] + [line(f"L{r['to_level']}", r) for r in data],
        numeric={1, 2, 3, 4, 5},
        figures=[("Effective escalations", pct_text(overall), None)],
        chart=charts.bar_chart(
            [f"L{r['to_level']}" for r in data],
            [
                (
                    "Effective",
                    [pct(r["helped"], r["helped"] + r["not_enough"]) for r in data],
                )
            ],
            title="Escalations that helped, by level escalated to",
            unit=" %",
        ),
        note="Did it help? (seed 000): resolved without moving up again, a de-escalation "
        "once the fix is in included (seed 001); moved up again (higher, or back after a "
        "de-escalation) means the level escalated to could not resolve it. Open incidents "
        "with no further move are not judged yet.",
    )


def mttr_trend(period: Period, summary: dict) -> Table:
    """Seed 004 "Resolution Time: Trending down by severity" and "mean_time_to_resolve:
    By severity": MTTR per month of opening and severity, from the volume table's query."""
    data = [row for row in months(period) if row["resolved"]]
    rows, previous = [], None
    for row in data:
        mttr = as_timedelta(row["mttr"])
        rows.append(
            [
                _month_label(row["month"], period),
                *[duration_text(as_timedelta(row[f"mttr_{s}"])) for s in SEVERITIES],
                row["resolved"],
                duration_text(mttr),
                "—"
                if previous is None or mttr is None
                else _change_text(mttr.total_seconds(), previous.total_seconds()),
            ]
        )
        previous = mttr
    figures = []
    if len(data) >= 2:
        last, before = as_timedelta(data[-1]["mttr"]), as_timedelta(data[-2]["mttr"])
        figures.append(
            (
                "MTTR against the month before",
                f"{duration_text(last)} (before: {duration_text(before)})",
                Target("trending down", last < before),
            )
        )

    return Table(
        "mttr-trend",
        "MTTR trend",
        ["Month", *SEVERITIES, "Resolved", "MTTR", "Month over month"],
        rows,
        numeric={1, 2, 3, 4, 5, 6, 7},
        unbroken={0},
        figures=figures,
        chart=charts.bar_chart(
            [f"{row['month']:%b %Y}" for row in data],
            [
                (s, [_chart_hours(as_timedelta(row[f"mttr_{s}"])) for row in data])
                for s in SEVERITIES
            ],
            title="MTTR per month by severity",
            unit=" h",
            colours=[charts.SEVERITY_COLOURS[s] for s in SEVERITIES],
        ),
        note="Resolved incidents by the month they were opened (your time zone), wall-clock "
        "time from the opening; a fall month over month is the trend the seed asks for.",
    )


# --- grouped tables ----------------------------------------------------------------------------


def level_distribution(period: Period, summary: dict) -> Table:
    all_ = summary["all"]
    data = [
        (number, all_[f"peak_{number}"], all_[f"peak_resolved_{number}"])
        for number in period.levels
        if all_[f"peak_{number}"]
    ]
    share = pct(all_["resolved_low"], all_["resolved"])
    rows = [
        [f"L{number}", total, pct_text(pct(total, all_["total"])), resolved]
        for number, total, resolved in data
    ]
    return Table(
        "levels",
        "Level distribution",
        ["Highest level reached", "Incidents", "Share", "Resolved"],
        rows,
        numeric={1, 2, 3},
        figures=[
            (
                "Resolved at L1 or below",
                pct_text(share),
                at_least(share, RESOLVED_LOW_TARGET, "target > 90 %"),
            )
        ],
        chart=charts.bar_chart(
            [f"L{number}" for number, _total, _resolved in data],
            [("Incidents", [total for _number, total, _resolved in data])],
            title="Incidents by highest level reached",
        ),
        note="Resolved at L1 or below: resolved incidents that never went above level 1.",
    )


def decision_times(period: Period, summary: dict) -> Table:
    decided = Q(decision_at__isnull=False)
    within = Q(
        Q(incident__severity="P0", decision_at__lte=F("at") + DECISION_TARGETS["P0"])
        | Q(incident__severity="P1", decision_at__lte=F("at") + DECISION_TARGETS["P1"])
    )
    data = {
        row["incident__severity"]: row
        for row in period.escalations.values("incident__severity").annotate(
            decided=Count("id", filter=decided),
            waiting=Count("id", filter=Q(decision_at__isnull=True) & ~Q(decision_sought="")),
            mean=Avg(elapsed_between("decision_at", "at"), filter=decided),
            longest=Max(elapsed_between("decision_at", "at"), filter=decided),
            within=Count("id", filter=decided & within),
        )
    }
    rows, values, figures = [], [], []
    for severity in SEVERITIES:
        row = data.get(severity, {})
        mean = as_timedelta(row.get("mean"))
        limit = DECISION_TARGETS.get(severity)
        target = None
        if limit is not None:
            target = Target(f"< {humanize(limit)}", None if mean is None else mean < limit)
            figures.append(
                (f"Decision time {SEVERITY_WORDS[severity]}", duration_text(mean), target)
            )
        rows.append(
            [
                SEVERITY_WORDS[severity],
                row.get("decided", 0),
                Cell(duration_text(mean), target),
                duration_text(as_timedelta(row.get("longest"))),
                pct_text(pct(row.get("within"), row.get("decided"))) if limit else "—",
                row.get("waiting", 0),
            ]
        )
        values.append(None if mean is None else mean.total_seconds() / 60)
    return Table(
        "decision-times",
        "Time to escalation decision",
        ["Severity", "Decided", "Mean", "Longest", "Within target", "Still waiting"],
        rows,
        numeric={1, 2, 3, 4, 5},
        figures=figures,
        chart=charts.bar_chart(
            SEVERITIES,
            [("Mean minutes", values)],
            title="Mean minutes from escalation to decision",
            unit=" m",
            target=30,
            target_label="critical target 30 m",
        ),
        note="Targets: < 30 min for critical, < 2 h for high (seed 000).",
    )


MONTH_SEVERITIES = {s: Count("id", filter=Q(severity=s)) for s in SEVERITIES}


def months(period: Period) -> list[dict]:
    """Incidents per month of opening: counts and MTTR, overall and by severity. One
    query, read by the volume and MTTR-trend tables (made once per period)."""
    if "months" not in period.shared:
        took = elapsed_between("resolved_at", "opened_at")
        resolved = Q(resolved_at__isnull=False)
        period.shared["months"] = list(
            period.incidents.annotate(month=TruncMonth("opened_at"))
            .values("month")
            .annotate(
                total=Count("id"),
                **MONTH_SEVERITIES,
                resolved=Count("id", filter=resolved),
                mttr=Avg(took, filter=resolved),
                **{f"mttr_{s}": Avg(took, filter=resolved & Q(severity=s)) for s in SEVERITIES},
            )
            .order_by("month")
        )
    return period.shared["months"]


def volume(period: Period, summary: dict) -> Table:
    data = months(period)
    return Table(
        "volume",
        "Volume by severity",
        ["Month", *SEVERITIES, "Total", "Month over month"],
        _monthly_rows(data, period),
        numeric={1, 2, 3, 4, 5, 6},
        unbroken={0},
        chart=_monthly_chart(data, "Incidents per month by severity"),
        note="Months are counted in your time zone; the first and last may be partial.",
    )


def _month_end(month: datetime) -> datetime:
    return (month + timedelta(days=32)).replace(day=1)


def escalations_by_level(period: Period, summary: dict) -> Table:
    data = list(
        period.escalations.values("from_level", "to_level")
        .annotate(total=Count("id"), automatic=Count("id", filter=Q(actor__isnull=True)))
        .order_by("from_level", "to_level")
    )
    return Table(
        "escalations-by-level",
        "Escalations by level",
        ["From", "To", "Escalations", "Automatic"],
        [[f"L{r['from_level']}", f"L{r['to_level']}", r["total"], r["automatic"]] for r in data],
        numeric={2, 3},
        chart=charts.hbar_chart(
            [(f"L{r['from_level']} → L{r['to_level']}", r["total"]) for r in data],
            title="Escalations by level",
        ),
    )


def escalations_by_agent(period: Period, summary: dict) -> Table:
    data = list(
        period.escalations.values("actor__username", "actor__first_name", "actor__last_name")
        .annotate(total=Count("id"), manual=Count("id", filter=Q(trigger=Trigger.MANUAL)))
        .order_by("-total", "actor__username")[:50]
    )

    def name(row):
        if not row["actor__username"]:
            return "System (automatic)"
        full = f"{row['actor__first_name']} {row['actor__last_name']}".strip()
        return full or row["actor__username"]

    return Table(
        "escalations-by-agent",
        "Escalations by agent",
        ["Escalated by", "Escalations", "Engineer-initiated"],
        [[name(r), r["total"], r["manual"]] for r in data],
        numeric={1, 2},
        chart=charts.hbar_chart([(name(r), r["total"]) for r in data[:12]], title="By agent"),
        note="The 50 with the most escalations. High rates at L1 signal a training or "
        "tooling gap (seed 001).",
    )


CATEGORY_LABELS = dict(ReasonCategory.choices)
TRIGGER_LABELS = dict(Trigger.choices)


def escalation_reasons(period: Period, summary: dict) -> Table:
    data = list(
        period.escalations.values("category", "trigger")
        .annotate(total=Count("id"))
        .order_by("-total", "category", "trigger")
    )
    total = sum(r["total"] for r in data) if data else 0
    return Table(
        "escalation-reasons",
        "Escalation reasons",
        ["Reason", "Trigger", "Escalations", "Share"],
        [
            [
                str(CATEGORY_LABELS.get(r["category"], r["category"])),
                str(TRIGGER_LABELS.get(r["trigger"], r["trigger"])),
                r["total"],
                pct_text(pct(r["total"], total)),
            ]
            for r in data
        ],
        numeric={2, 3},
        chart=charts.hbar_chart(
            [
                (str(CATEGORY_LABELS.get(r["category"], r["category"])), r["total"])
                for r in data[:12]
            ],
            title="Escalation reasons",
            colour=charts.PALETTE[1],
        ),
        note="For the monthly review of escalation as avoidance (seed 001); the reasons "
        "in full are in the CSV of the next table.",
    )


def recent_reasons(period: Period, summary: dict, *, limit: int | None = 25) -> Table:
    rows = period.escalations.select_related("incident", "actor").order_by("-at", "-id")
    if limit is not None:
        rows = rows[:limit]
    return Table(
        "reasons-list",
        "Escalation reasons in full",
        ["When", "Incident", "From", "To", "By", "Reason category", "Reason"],
        [
            [
                f"{e.at:%Y-%m-%d %H:%M}",
                e.incident.reference,
                f"L{e.from_level}",
                f"L{e.to_level}",
                str(e.actor) if e.actor_id else "System",
                str(CATEGORY_LABELS.get(e.category, e.category)),
                e.reason,
            ]
            for e in rows
        ],
        note="The latest 25 here; the CSV holds every escalation of the period.",
    )


# Seed 004 "root_causes: product_bugs, performance_issues, configuration_errors,
# user_error, feature_gaps": the categories (migration incidents 0003 and 0016) always listed.
SEED_ROOT_CAUSES = ("Bug", "Performance", "Configuration", "User error", "Feature gap")


def root_causes(period: Period, summary: dict) -> Table:
    """Seed 004's root-cause shares and seed 001's escalation rate by category."""
    data = list(
        period.incidents.values("category__name")
        .annotate(total=Count("id"), escalated=Count("id", filter=ESCALATED))
        .order_by("-total", "category__name")
    )
    seen = {r["category__name"] for r in data}
    data += [
        {"category__name": name, "total": 0, "escalated": 0}
        for name in SEED_ROOT_CAUSES
        if name not in seen
    ]
    all_total = summary["all"]["total"]
    return Table(
        "root-causes",
        "Root-cause categories",
        ["Category", "Incidents", "Share", "Escalated", "Escalation rate"],
        [
            [
                r["category__name"] or "Uncategorised",
                r["total"],
                pct_text(pct(r["total"], all_total)),
                r["escalated"],
                Cell(
                    pct_text(pct(r["escalated"], r["total"])),
                    at_most(pct(r["escalated"], r["total"]), ESCALATION_RATE_TARGET, "< 10 %"),
                ),
            ]
            for r in data
        ],
        numeric={1, 2, 3, 4},
        chart=charts.hbar_chart(
            [(r["category__name"] or "Uncategorised", r["total"]) for r in data[:12] if r["total"]],
            title="Incidents by category",
            colour=charts.PALETTE[2],
        ),
        note="Escalation rate by category (seed 001). The five root causes seed 004 tracks "
        "(bug, performance, configuration, user error, feature gap) are always listed.",
    )


def repeat_escalations(period: Period, summary: dict) -> Table:
    current = Q(opened_at__gte=period.start)
    groups = list(
        period.both.filter(level_moves__gt=0)
        .exclude(root_cause_key="")
        .values("root_cause_key")
        .annotate(
            now=Count("id", filter=current),
            before=Count("id", filter=~current),
            accounts=Count("account", distinct=True, filter=current),
        )
        .filter(Q(now__gt=1) | Q(before__gt=1))
        .order_by("-now", "root_cause_key")
    )
    repeating = [row for row in groups if row["now"] > 1]
    now_total = len(repeating)
    before_total = sum(1 for row in groups if row["before"] > 1)
    change = pct(now_total - before_total, before_total)
    return Table(
        "repeat-escalations",
        "Repeat escalations",
        ["Root-cause key", "Escalated incidents", "Accounts", "Period before"],
        [[r["root_cause_key"], r["now"], r["accounts"], r["before"]] for r in repeating[:50]],
        numeric={1, 2, 3},
        figures=[
            (
                "Repeating root causes",
                f"{now_total} (before: {before_total})",
                Target("halve them", None if change is None else change <= -50),
            )
        ],
        note="Root causes escalated more than once in the period (the 50 most frequent), "
        "against the period of the same length before (seed 004: 50 % fewer).",
    )


# --- follow-up (seed 004 success metrics) ------------------------------------------------------

PIR_TARGET = 100.0  # % published within 48 h of resolution
ACTION_ITEM_TARGET = 90.0  # % closed by their due date, above


def reaches(value: float | None, limit: float, label: str) -> Target:
    """A target of 100 %: met only when reached (not "above")."""
    return Target(label, None if value is None else value >= limit)


def _count(condition: Q) -> Count:
    return Count("id", filter=condition) if condition else Count("id")


def pir_completion(period: Period, summary: dict) -> Table:
    """Required reviews of the period's incidents whose due time has come: how many
    were published by it (seed 004: 100 % within 48 hours of resolution).

    A review is judged once its due time has passed, so early publications and
    reviews still in time wait for it alike. One query: conditional counts per
    severity and overall.
    """
    published = Q(status=ReviewStatus.PUBLISHED)
    measures = {
        "due": Q(),
        "on_time": published & Q(published_at__lte=F("due_at")),
        "late": published & Q(published_at__gt=F("due_at")),
        "unpublished": ~published,
    }
    slices = {"all": Q(), **{s: Q(incident__severity=s) for s in SEVERITIES}}
    counts = PostIncidentReview.objects.filter(
        required=True, due_at__lte=period.now, incident__in=period.incidents
    ).aggregate(
        **{
            f"{name}_{slice_}": _count(condition & where)
            for slice_, where in slices.items()
            for name, condition in measures.items()
        }
    )
    rows, values = [], []
    for slice_ in slices:
        due, on_time = counts[f"due_{slice_}"], counts[f"on_time_{slice_}"]
        share = pct(on_time, due)
        rows.append(
            [
                _slice_label(slice_),
                due,
                on_time,
                counts[f"late_{slice_}"],
                counts[f"unpublished_{slice_}"],
                Cell(pct_text(share), reaches(share, PIR_TARGET, "100 %")),
            ]
        )
        if slice_ != "all":
            values.append(share)
    overall = pct(counts["on_time_all"], counts["due_all"])
    return Table(
        "pir-completion",
        "PIR completion within 48 h",
        [
            "Severity",
            "Reviews due",
            "Published on time",
            "Published late",
            "Not published",
            "On time",
        ],
        rows,
        numeric={1, 2, 3, 4, 5},
        figures=[
            (
                "PIRs published on time",
                pct_text(overall),
                reaches(overall, PIR_TARGET, "target 100 %"),
            )
        ],
        chart=charts.bar_chart(
            SEVERITIES,
            [("On time", values)],
            title="PIRs published by their due time, by severity",
            unit=" %",
            target=PIR_TARGET,
            target_label="target 100 %",
        ),
        note="Required reviews of incidents opened in the period whose due time (48 hours "
        "after resolution by default) has passed.",
    )


def action_item_closure(period: Period, summary: dict) -> Table:
    """Action items of the period's incidents due by now: closed as done by their due
    date (seed 004: > 90 %), and the time to a permanent fix (not just a workaround).

    Two queries: conditional counts over the items due by now, and the mean over
    incidents whose permanent fix is done (grouped by incident in a subquery).
    """
    items = ActionItem.objects.filter(incident__in=period.incidents)
    done = Q(status=ActionItemStatus.DONE)
    counts = items.filter(due_at__lte=period.now).aggregate(
        due=Count("id"),
        on_time=Count("id", filter=done & Q(closed_at__lte=F("due_at"))),
        late=Count("id", filter=done & Q(closed_at__gt=F("due_at"))),
        dropped=Count("id", filter=Q(status=ActionItemStatus.WONT_DO)),
        still_open=Count("id", filter=Q(status__in=OPEN_ITEM_STATUSES)),
    )
    # An incident is fixed for good when its last permanent-fix item is done and
    # none is still open; dropped ones do not count either way.
    fixes = (
        items.filter(is_permanent_fix=True)
        .values("incident")
        .annotate(
            still_open=Count("id", filter=Q(status__in=OPEN_ITEM_STATUSES)),
            fixed_at=Max("closed_at", filter=done),
            opened_at=Max("incident__opened_at"),
        )
        .filter(still_open=0, fixed_at__isnull=False)
        .order_by()
        .aggregate(incidents=Count("incident"), mean=Avg(elapsed_between("fixed_at", "opened_at")))
    )
    share = pct(counts["on_time"], counts["due"])
    mean_fix = as_timedelta(fixes["mean"])
    rows = [
        ["Due by now", counts["due"]],
        ["Done by the due date", counts["on_time"]],
        ["Done late", counts["late"]],
        ["Dropped (won't do)", counts["dropped"]],
        ["Still open", counts["still_open"]],
        ["Incidents with a permanent fix done", fixes["incidents"]],
    ]
    return Table(
        "action-item-closure",
        "Action-item closure",
        ["Action items", "Count"],
        rows,
        numeric={1},
        figures=[
            (
                "Action items done by the due date",
                pct_text(share),
                at_least(share, ACTION_ITEM_TARGET, "target > 90 %"),
            ),
            ("Time to permanent fix (mean)", duration_text(mean_fix), None),
        ],
        chart=charts.bar_chart(
            ["On time", "Late", "Dropped", "Open"],
            [
                (
                    "Items",
                    [counts["on_time"], counts["late"], counts["dropped"], counts["still_open"]],
                )
            ],
            title="Action items due by now",
        ),
        note="Items from reviews of incidents opened in the period whose due date has "
        "passed; dropped ones count as not done. Time to permanent fix: from the "
        "incident's opening to the last of its permanent-fix items done, for incidents "
        "with none of them still open.",
    )


# --- on-call fairness (issue 18) -----------------------------------------------------------------


def _hours(value: timedelta) -> float:
    """Hours to a tenth: a number for the API, "336.0" on the page and in the CSV."""
    return round(value.total_seconds() / 3600, 1)


def oncall_fairness(period: Period, summary: dict) -> Table:
    """Hours on call per person and month in the period, nights and weekends apart, from
    every schedule's final shifts (the incident filters do not apply to schedules)."""
    rows = oncall_hours_by_month(start=period.start, end=period.end, month_zone=period.start.tzinfo)
    # By username: two people may share a name; the bars are labelled with it.
    by_person: dict[str, tuple[str, timedelta]] = {}
    for row in rows:
        _name, total = by_person.get(row.username, (row.name, timedelta()))
        by_person[row.username] = (row.name, total + row.hours.total)
    ranked = sorted(by_person.values(), key=lambda item: (-item[1], item[0]))
    return Table(
        "oncall-fairness",
        "On-call fairness",
        ["Month", "Person", "Hours", "Nights", "Weekends", "Schedules"],
        [
            [
                row.month,
                row.name,
                _hours(row.hours.total),
                _hours(row.hours.nights),
                _hours(row.hours.weekends),
                ", ".join(row.schedules),
            ]
            for row in rows
        ],
        numeric={2, 3, 4},
        unbroken={0},
        chart=charts.hbar_chart(
            [(name, _hours(total)) for name, total in ranked[:12]],
            title="Hours on call in the period",
            unit=" h",
        ),
        note="From every schedule's final shifts in the period, the planned days ahead "
        "included; months in your time zone. Nights (22:00 to 07:00) and weekends (Saturday "
        "and Sunday) are counted in each schedule's zone and are part of the hours; a "
        "weekend night counts in both. The incident filters do not apply here.",
    )


# --- the registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    slug: str
    title: str
    build: Callable[[Period, dict], Table]


METRICS: tuple[Metric, ...] = (
    Metric("escalation-rate", "Escalation rate", escalation_rate),
    Metric("levels", "Level distribution", level_distribution),
    Metric("decision-times", "Time to escalation decision", decision_times),
    Metric("sla-compliance", "SLA compliance", sla_compliance),
    Metric("response-times", "MTTA and MTTR", response_times),
    Metric("volume", "Volume by severity", volume),
    Metric("escalation-volume", "Escalation volume month over month", escalation_volume),
    Metric("handoff-compliance", "Handoff acknowledgement compliance", handoff_compliance),
    Metric("time-to-escalate", "Time to escalate", time_to_escalate),
    Metric("escalation-rate-by-tier", "Escalation rate by tier", escalation_rate_by_tier),
    Metric("escalation-rate-by-agent", "Escalation rate by agent", escalation_rate_by_agent),
    Metric("escalation-effectiveness", "Effectiveness of escalations", escalation_effectiveness),
    Metric("mttr-trend", "MTTR trend", mttr_trend),
    Metric("escalations-by-level", "Escalations by level", escalations_by_level),
    Metric("escalations-by-agent", "Escalations by agent", escalations_by_agent),
    Metric("escalation-reasons", "Escalation reasons", escalation_reasons),
    Metric("reasons-list", "Escalation reasons in full", recent_reasons),
    Metric("root-causes", "Root-cause categories", root_causes),
    Metric("repeat-escalations", "Repeat escalations", repeat_escalations),
    Metric("pir-completion", "PIR completion within 48 h", pir_completion),
    Metric("action-item-closure", "Action-item closure", action_item_closure),
    Metric("csat", "Customer satisfaction", csat),
    Metric("oncall-fairness", "On-call fairness", oncall_fairness),
)
BY_SLUG = {metric.slug: metric for metric in METRICS}


def metrics_tables(period: Period) -> list[Table]:
    summary = severity_summary(period)
    return [metric.build(period, summary) for metric in METRICS]


def metric_table(period: Period, slug: str) -> Table:
    """One table in full (CSV downloads: no row limit where the page has one)."""
    summary = severity_summary(period)
    if slug == "reasons-list":
        return recent_reasons(period, summary, limit=None)
    return BY_SLUG[slug].build(period, summary)
