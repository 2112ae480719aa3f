"""Policy simulation ("what if"): replay an incident's history against a policy.

Pure: no Django or ORM import. The selector (escalations.simulation.runs) reads
histories from the timeline and turns the abstract recipients into people; this
module only decides, with the same pure rules the engine uses (clocks,
thresholds, triggers), what the policy would have done:

* what people did is kept: statuses, acknowledgements, customer updates,
  severity changes, handoff acknowledgements, escalations and de-escalations
  by hand, and escalations whose triggers count other incidents (repeats,
  bursts, executive) - those happened for reasons outside this incident;
* what the policy decides is replayed: SLA thresholds (warnings,
  pre-escalation notices, escalations at 100 %) and the severity and impact
  triggers, with the policy's levels, targets, calendars and routes.

The sweep is assumed to act at each threshold's instant, and a handoff the
policy makes up is assumed acknowledged in time (nobody saw it to take it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from escalations.rules.clocks import (
    IncidentFacts,
    breach_flag,
    compute_clocks,
    due_thresholds,
    firing_key,
    interval_start,
)
from escalations.rules.spec import WorkflowSpec
from escalations.rules.triggers import TriggerFacts, combined_target, crossing_target, evaluate

# Escalation triggers replayed as they happened (people, or other incidents).
REPLAYED_TRIGGERS = ("manual", "management", "repeat", "burst", "executive")
SEVERITY_RANK = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}
MAX_STEPS = 200  # thresholds per gap between two events: a guard, never reached


@dataclass(frozen=True)
class HistoryEvent:
    """kind: status | severity | first_response | public_update | handoff_ack |
    escalate | de_escalate; value: the new status, severity or level."""

    at: datetime
    kind: str
    value: object = None


@dataclass(frozen=True)
class IncidentHistory:
    opened_at: datetime
    severity: str  # at the opening
    events: tuple[HistoryEvent, ...]  # oldest first
    flags: TriggerFacts | None = None  # impact facts for the severity/impact triggers
    key: object = None  # the caller's id for the incident


@dataclass(frozen=True)
class Notice:
    """Who would have been told what: recipients stay abstract here."""

    # sla_warning | update_overdue | pre_escalation | escalation | de_escalation |
    # top_level_breach | sla_maximum
    kind: str
    at: datetime
    severity: str
    level: int | None = None  # a level's contacts and team
    assignee: bool = False  # the incident's assignee (or the level when nobody)
    groups: tuple[str, ...] = ()
    lead: bool = False  # the level's lead (its Team Leads)


@dataclass(frozen=True)
class Move:
    at: datetime
    from_level: int
    to_level: int
    trigger: str


@dataclass
class Outcome:
    key: object
    moves: list[Move] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    breached: dict[str, bool | None] = field(default_factory=dict)
    peak_level: int = 0

    @property
    def escalations(self) -> list[Move]:
        return [move for move in self.moves if move.to_level > move.from_level]


@dataclass
class _State:
    level: int
    level_entered_at: datetime
    severity: str
    statuses: list[tuple[datetime, str]]
    first_response_at: datetime | None = None
    last_public_update_at: datetime | None = None
    handoff: tuple[datetime, datetime | None] | None = None
    fired: set = field(default_factory=set)
    fired_triggers: set = field(default_factory=set)
    # level -> when the incident first reached it (the engine's _first_arrival)
    arrivals: dict[int, datetime] = field(default_factory=dict)

    def facts(self, opened_at: datetime) -> IncidentFacts:
        return IncidentFacts(
            opened_at=opened_at,
            severity=self.severity,
            level=self.level,
            level_entered_at=self.level_entered_at,
            statuses=tuple(self.statuses),
            first_response_at=self.first_response_at,
            last_public_update_at=self.last_public_update_at,
            handoff=self.handoff,
            level_clock_started_at=self.arrivals.get(self.level),
            peak_level=max(self.arrivals, default=self.level),
        )

    @property
    def is_open(self) -> bool:
        return self.statuses[-1][1] not in ("resolved", "closed")


def replay(history: IncidentHistory, spec: WorkflowSpec, *, until: datetime) -> Outcome:
    """What `spec` would have done with this history, up to `until`."""
    first = spec.first_level.number
    state = _State(
        level=first,
        level_entered_at=history.opened_at,
        severity=history.severity,
        statuses=[(history.opened_at, "new")],
        arrivals={first: history.opened_at},
    )
    out = Outcome(key=history.key, peak_level=first)
    _triggers(state, spec, history, history.opened_at, out)
    for event in history.events:
        if event.at > until:
            break
        _advance(state, spec, history, event.at, out)
        _apply(state, spec, history, event, out)
    _advance(state, spec, history, until, out)
    readings = {r.clock: r for r in compute_clocks(state.facts(history.opened_at), spec, until)}
    for clock in ("first_response", "resolution"):
        out.breached[clock] = breach_flag(readings.get(clock))
    return out


def _move(state: _State, spec, out: Outcome, *, to: int, at: datetime, trigger: str, groups=()):
    up = to > state.level
    out.moves.append(Move(at, state.level, to, trigger))
    out.notices.append(
        Notice("escalation" if up else "de_escalation", at, state.severity, level=to, groups=groups)
    )
    state.level = to
    state.level_entered_at = at
    # Bouncing away and back never buys a fresh clock (clock_start: level).
    state.arrivals.setdefault(to, at)
    # A handoff the policy made up was never seen by anyone, so nobody could
    # acknowledge it: assume it was taken in time rather than escalate it again.
    state.handoff = (at, None) if up and trigger in REPLAYED_TRIGGERS else None
    out.peak_level = max(out.peak_level, to)


def _triggers(state: _State, spec, history: IncidentHistory, at: datetime, out: Outcome) -> None:
    base = history.flags or TriggerFacts(severity=state.severity, level=state.level)
    facts = TriggerFacts(
        **{**base.__dict__, "severity": state.severity, "level": state.level},
    )
    hits = [
        hit
        for hit in evaluate(spec, facts)
        if hit.trigger in ("severity", "impact")
        and (hit.trigger, hit.key) not in state.fired_triggers
    ]
    if not hits:
        return
    for hit in hits:
        state.fired_triggers.add((hit.trigger, hit.key))
    groups = tuple(dict.fromkeys(g for hit in hits for g in hit.notify_groups))
    target = combined_target(hits) if state.is_open else None
    if target is None:
        if groups:
            out.notices.append(Notice("trigger", at, state.severity, groups=groups))
        return
    mover = max(hits, key=lambda hit: hit.target or -1)
    _move(state, spec, out, to=target, at=at, trigger=mover.trigger, groups=groups)


def _advance(state: _State, spec, history: IncidentHistory, until: datetime, out: Outcome):
    """Apply every threshold the policy would have applied before `until`."""
    for _ in range(MAX_STEPS):
        if not state.is_open:
            return
        readings = compute_clocks(state.facts(history.opened_at), spec, until)
        due = due_thresholds(
            readings,
            level=state.level,
            level_entered_at=state.level_entered_at,
            fired=state.fired,
            now=until,
        )
        if not due:
            return
        clock, instant = due[0]
        reading = next(r for r in readings if r.clock == clock)
        tier = history.flags.account_tier if history.flags else None
        state.fired.add(firing_key(clock, state.level, instant.percent, interval_start(reading)))
        kind = "update_overdue" if clock == "update" else "sla_warning"
        if instant.action == "warn_assignee":
            out.notices.append(
                Notice(kind, instant.at, state.severity, level=state.level, assignee=True)
            )
        elif instant.action == "warn_lead":
            out.notices.append(
                Notice(kind, instant.at, state.severity, level=state.level, lead=True)
            )
        elif instant.action == "pre_escalation_notice":
            # The engine warns the level the breach will go to (its route).
            target = crossing_target(spec, state.level, reading, account_tier=tier)
            if target is not None:
                out.notices.append(
                    Notice("pre_escalation", instant.at, state.severity, level=target)
                )
        elif instant.action == "maximum":
            # The policy's maximum route (its groups, or the top level), once per incident.
            top = max(level.number for level in spec.levels)
            out.notices.append(
                Notice(
                    "sla_maximum",
                    instant.at,
                    state.severity,
                    level=None if spec.maximum.notify else top,
                    groups=spec.maximum.notify,
                )
            )
            target = crossing_target(spec, state.level, reading)
            if target is not None:
                _move(state, spec, out, to=target, at=instant.at, trigger="sla")
        elif instant.action == "escalate":
            target = crossing_target(spec, state.level, reading, instant, account_tier=tier)
            if target is None and instant.to_level is not None and instant.percent < 100:
                # The ladder's level is reached already: the engine warns the assignee.
                out.notices.append(
                    Notice(
                        "sla_warning", instant.at, state.severity, level=state.level, assignee=True
                    )
                )
            elif target is None:
                out.notices.append(
                    Notice("top_level_breach", instant.at, state.severity, level=state.level)
                )
            else:
                _move(state, spec, out, to=target, at=instant.at, trigger="sla")


def _apply(state: _State, spec, history, event: HistoryEvent, out: Outcome) -> None:
    numbers = sorted(level.number for level in spec.levels)
    if event.kind == "status":
        state.statuses.append((event.at, str(event.value)))
        if event.value != "new" and state.first_response_at is None:
            state.first_response_at = event.at
    elif event.kind == "first_response":
        state.first_response_at = state.first_response_at or event.at
    elif event.kind == "public_update":
        state.first_response_at = state.first_response_at or event.at
        state.last_public_update_at = event.at
    elif event.kind == "handoff_ack":
        if state.handoff is not None and state.handoff[1] is None:
            state.handoff = (state.handoff[0], event.at)
            state.first_response_at = state.first_response_at or event.at
    elif event.kind == "severity":
        raised = SEVERITY_RANK.get(str(event.value), 9) < SEVERITY_RANK.get(state.severity, 9)
        state.severity = str(event.value)
        if raised and state.is_open:
            _triggers(state, spec, history, event.at, out)
    elif event.kind == "escalate" and state.is_open:
        wanted = event.value if isinstance(event.value, int) else None
        if wanted in numbers and wanted > state.level:
            target = wanted
        else:
            above = spec.next_level(state.level)
            target = above.number if above else None
        if target is not None:
            _move(state, spec, out, to=target, at=event.at, trigger="manual")
    elif event.kind == "de_escalate" and state.is_open:
        wanted = event.value if isinstance(event.value, int) else None
        lower = [n for n in numbers if n < state.level]
        if lower:
            target = wanted if wanted in lower else lower[0]
            _move(state, spec, out, to=target, at=event.at, trigger="de_escalation")
