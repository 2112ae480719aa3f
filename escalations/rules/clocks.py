"""SLA clocks from an incident's history and its policy. Pure: no Django import.

The rules, in one place:

* first_response counts from the opening (or, with clock_start "level", from the
  moment the current level took the incident) until the first acknowledgement or
  public update.
* resolution counts from the same start until the incident is resolved. It is
  never reset: reopening resumes the same clock (seed 001, "SLA clock games");
  the time an incident spent resolved or closed does not count.
* update is the status-update cadence: it restarts at each public update. Its
  thresholds fire once per interval between updates (their key carries the
  interval's start, see firing_key); a policy whose thresholds name no update
  clock gets UPDATE_THRESHOLDS: the owner hears when the update is due, the
  level's lead when a second interval has passed without one (seed 004).
* handoff_ack counts from an escalation until the receiving level acknowledges
  it, against that level's first-response target.
* level_deadline (a severity's LevelDeadline, seed 002's "Level 3 within 1 hour")
  counts from the opening, in the deadline's calendar, while the incident is open and
  has never been at that level; its own thresholds warn at 50 %, pre-notify at 75 %
  and escalate straight to the level at 100 %. Its 100 % is never skipped for having
  come before the incident reached its current level: a deadline missed on the way
  is still a move up to where the incident should be.
* time_at_level (a level's escalate_after, seed 002's tiers: "Escalation: If not
  resolved in 30 minutes") counts from the incident's latest arrival at its current
  level, in the calendar of its targets there, while it is open (paused and resolved
  time left out). Its one threshold (100 %, escalate) moves it one level up. It restarts
  at each arrival (a move away and back is a new arrival): its firings are keyed by the
  arrival, so it fires once per arrival.
* first_response_max and resolution_max (a target's maximum, seed 002's "Maximum:
  4 hours") count exactly like their target's clock, to the later deadline. Their one
  threshold (100 %, action "maximum") fires once per incident, whatever level the
  incident is at or has been at, and a breach never restarts them on arrival.
* Time in a pause status (policy: waiting on customer/vendor by default) does
  not count on any clock. Targets are those of the incident's severity and
  current level, counted in the target's calendar.

Thresholds (50/75/100 %...) fire once per incident, clock, level and threshold.
A threshold already reached when the incident arrived at its current level
does not fire for that level: arriving late is not a reason to escalate again.
But a clock already breached on arrival gives the new level the same target
again from its arrival, so an unresolved incident keeps climbing the ladder
one level per target instead of stalling (or cascading to the top at once).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from escalations.rules.business_time import BusinessCalendar
from escalations.rules.durations import humanize
from escalations.rules.spec import (
    DEADLINE_CLOCK,
    MAXIMUM_CLOCKS,
    ROUND_THE_CLOCK,
    TIME_AT_LEVEL_CLOCK,
    ThresholdSpec,
    WorkflowSpec,
)

CLOCK_LABELS = {
    "first_response": "First response",
    "resolution": "Resolution",
    "update": "Status update",
    "handoff_ack": "Handoff acknowledgement",
    DEADLINE_CLOCK: "Level deadline",
    "first_response_max": "First response maximum",
    "resolution_max": "Resolution maximum",
    TIME_AT_LEVEL_CLOCK: "Time at level",
}
# A level deadline's own ladder, whatever thresholds the policy sets for its targets.
DEADLINE_THRESHOLDS = (
    ThresholdSpec(50, "warn_assignee", (DEADLINE_CLOCK,)),
    ThresholdSpec(75, "pre_escalation_notice", (DEADLINE_CLOCK,)),
    ThresholdSpec(100, "escalate", (DEADLINE_CLOCK,)),
)
# A maximum's one threshold, whatever thresholds the policy sets for its targets.
MAXIMUM_THRESHOLDS = (ThresholdSpec(100, "maximum", tuple(MAXIMUM_CLOCKS)),)
RESOLVED_STATUSES = ("resolved", "closed")
# A missed status update (seed 004: "Status updates: Every 30-60 minutes", "Every 4
# hours", "Daily"): the owner when it is due, the level's lead when a second interval
# has passed with none (a Sev 1's 30 minutes: the owner at 30, the lead at 60).
UPDATE_THRESHOLDS = (
    ThresholdSpec(100, "warn_assignee", ("update",)),
    ThresholdSpec(200, "warn_lead", ("update",)),
)
# A level's time limit has one step, whatever thresholds the policy sets for its targets:
# one level up when it passes.
TIME_AT_LEVEL_THRESHOLDS = (ThresholdSpec(100, "escalate", (TIME_AT_LEVEL_CLOCK,)),)
# The clocks an escalation's "% of SLA at the time" reads when its move names none (by
# hand, by trigger): the SLA's own targets. A level deadline, a maximum, the status-update
# cadence or a level's time limit is a limit of its own, never "the SLA".
SLA_CLOCKS = ("first_response", "resolution", "handoff_ack")
# Clocks that restart: each interval (a level's time limit: each arrival) is a new clock
# for its thresholds.
RESTARTING_CLOCKS = ("update", TIME_AT_LEVEL_CLOCK)


def move_measure(
    clock: str,
    percent: str,
    *,
    from_level: int,
    to_level: int,
    limit: timedelta | None = None,
) -> tuple[str, str]:
    """How an escalation notice words the clock of a move at `percent` ("100.0"):
    (heading, measure). An SLA target reads as the SLA ("SLA", "100.0% of the Resolution
    target"); a level's time limit, a level deadline or a maximum as the limit it is, by
    its label ("Time at level", "100.0% of L1's 30m time limit"). `limit`: the limit's
    length, when the policy still names it."""
    label = CLOCK_LABELS.get(clock, "")
    if not clock or clock in SLA_CLOCKS:
        return "SLA", (f"{percent}% of the {label} target" if label else f"{percent}% of SLA")
    if clock == TIME_AT_LEVEL_CLOCK:
        length = f"{humanize(limit)} " if limit else ""
        return label, f"{percent}% of L{from_level}'s {length}time limit"
    if clock == DEADLINE_CLOCK:
        length = f"{humanize(limit)} " if limit else ""
        return label, f"{percent}% of the {length}deadline to reach L{to_level}"
    label = label or clock.replace("_", " ").capitalize()
    if limit:
        return label, f"{percent}% of the {humanize(limit)} {label.lower()}"
    return label, f"{percent}% of the {label.lower()}"


def update_thresholds(policy: WorkflowSpec) -> tuple[ThresholdSpec, ...]:
    """The policy's thresholds, with UPDATE_THRESHOLDS when none names the update clock."""
    if any("update" in t.clocks for t in policy.thresholds):
        return policy.thresholds
    return policy.thresholds + UPDATE_THRESHOLDS


def interval_start(reading: ClockReading) -> datetime | None:
    """Where a restarting clock's current interval began (None for the other clocks)."""
    return reading.start if reading.clock in RESTARTING_CLOCKS else None


def firing_key(
    clock: str, level: int, percent: int, interval: datetime | None = None
) -> tuple[str, int, int] | tuple[str, int, int, datetime | None]:
    """A threshold's identity: once per incident, clock, level and percent, and for a
    restarting clock once per interval too (ThresholdFiring's unique constraints)."""
    if clock in RESTARTING_CLOCKS:
        return (clock, level, percent, interval)
    return (clock, level, percent)


@lru_cache(maxsize=256)
def _calendar_from_json(spec_json: str) -> BusinessCalendar:
    return BusinessCalendar.from_spec(json.loads(spec_json))


def calendar_for(spec: Mapping) -> BusinessCalendar:
    """Calendars are rebuilt rarely: cached by their canonical spec."""
    return _calendar_from_json(json.dumps(spec, sort_keys=True, default=str))


# A policy's calendars by name: compute_clocks asks for one or two a reading, and
# calendar_for's key is a JSON dump of the spec. Keyed by the spec's id (hashing a
# WorkflowSpec hashes all of it); the entry holds the spec, so the id cannot be
# reused while the entry lives. Cleared when full.
_POLICY_CALENDARS: dict[tuple[int, str], tuple[WorkflowSpec, BusinessCalendar]] = {}


def _policy_calendar(policy: WorkflowSpec, name: str) -> BusinessCalendar:
    """calendar_for(policy.calendar_spec(name)), remembered per policy spec."""
    key = (id(policy), name)
    kept = _POLICY_CALENDARS.get(key)
    if kept is not None and kept[0] is policy:
        return kept[1]
    calendar = calendar_for(policy.calendar_spec(name))
    if len(_POLICY_CALENDARS) >= 1024:
        _POLICY_CALENDARS.clear()
    _POLICY_CALENDARS[key] = (policy, calendar)
    return calendar


# _FAST_INIT: IncidentFacts, ThresholdInstant and ClockReading write their own __init__. A
# frozen dataclass's sets each field through object.__setattr__, a seventh of
# compute_clocks' cost, and a storm's sweep makes tens of thousands of them. Writing the
# instance's __dict__ gives the same object (fields, equality, hash, repr, and still
# frozen to attribute assignment). Keep each __init__'s parameters the fields, in order.


@dataclass(frozen=True, init=False)
class IncidentFacts:
    """What the clocks need to know about an incident, read from its timeline."""

    opened_at: datetime
    severity: str
    level: int
    level_entered_at: datetime
    # (at, status) for every status the incident entered, oldest first,
    # beginning with (opened_at, "new").
    statuses: tuple[tuple[datetime, str], ...]
    first_response_at: datetime | None = None
    last_public_update_at: datetime | None = None
    # The pending handoff, if any: (escalated at, acknowledged at or None).
    handoff: tuple[datetime, datetime | None] | None = None
    # When the incident first reached its current level (clock_start "level");
    # None: level_entered_at.
    level_clock_started_at: datetime | None = None
    # The highest level it has been at (a level deadline is met once it got there);
    # None: its current level.
    peak_level: int | None = None

    def __init__(
        self,
        opened_at: datetime,
        severity: str,
        level: int,
        level_entered_at: datetime,
        statuses: tuple[tuple[datetime, str], ...],
        first_response_at: datetime | None = None,
        last_public_update_at: datetime | None = None,
        handoff: tuple[datetime, datetime | None] | None = None,
        level_clock_started_at: datetime | None = None,
        peak_level: int | None = None,
    ) -> None:
        # Fields into the instance dict: see _FAST_INIT.
        fields = self.__dict__
        fields["opened_at"] = opened_at
        fields["severity"] = severity
        fields["level"] = level
        fields["level_entered_at"] = level_entered_at
        fields["statuses"] = statuses
        fields["first_response_at"] = first_response_at
        fields["last_public_update_at"] = last_public_update_at
        fields["handoff"] = handoff
        fields["level_clock_started_at"] = level_clock_started_at
        fields["peak_level"] = peak_level

    @property
    def status(self) -> str:
        return self.statuses[-1][1]

    @property
    def is_open(self) -> bool:
        return self.status not in RESOLVED_STATUSES


@dataclass(frozen=True, init=False)
class ThresholdInstant:
    percent: int
    action: str
    at: datetime | None  # None: not reachable now (the clock is paused)
    to_level: int | None = None  # an escalate threshold's named level (ThresholdSpec)

    def __init__(
        self, percent: int, action: str, at: datetime | None, to_level: int | None = None
    ) -> None:
        # Fields into the instance dict: see _FAST_INIT.
        fields = self.__dict__
        fields["percent"] = percent
        fields["action"] = action
        fields["at"] = at
        fields["to_level"] = to_level


@dataclass(frozen=True, init=False)
class ClockReading:
    clock: str
    target: timedelta
    calendar: str
    start: datetime
    due_at: datetime | None  # None while paused with no end in sight
    elapsed: timedelta  # business time counted so far (or until met)
    state: str  # running | paused | met | breached
    met_at: datetime | None = None
    breached_at: datetime | None = None
    moved_by: Mapping[str, timedelta] = field(default_factory=dict)
    thresholds: tuple[ThresholdInstant, ...] = ()
    # When the clock reaches the review queues' warning share (compute_clocks'
    # warning_percent); None when not asked for or not reachable while paused.
    warning_at: datetime | None = None
    # A level deadline's level: where the incident must be by `due_at`.
    to_level: int | None = None

    def __init__(
        self,
        clock: str,
        target: timedelta,
        calendar: str,
        start: datetime,
        due_at: datetime | None,
        elapsed: timedelta,
        state: str,
        met_at: datetime | None = None,
        breached_at: datetime | None = None,
        moved_by: Mapping[str, timedelta] | None = None,  # None: a new empty dict
        thresholds: tuple[ThresholdInstant, ...] = (),
        warning_at: datetime | None = None,
        to_level: int | None = None,
    ) -> None:
        # Fields into the instance dict: see _FAST_INIT.
        fields = self.__dict__
        fields["clock"] = clock
        fields["target"] = target
        fields["calendar"] = calendar
        fields["start"] = start
        fields["due_at"] = due_at
        fields["elapsed"] = elapsed
        fields["state"] = state
        fields["met_at"] = met_at
        fields["breached_at"] = breached_at
        fields["moved_by"] = {} if moved_by is None else moved_by
        fields["thresholds"] = thresholds
        fields["warning_at"] = warning_at
        fields["to_level"] = to_level

    @property
    def label(self) -> str:
        if self.to_level is not None:
            return f"{CLOCK_LABELS[self.clock]} (L{self.to_level})"
        return CLOCK_LABELS[self.clock]

    @property
    def percent(self) -> float:
        return 100 * self.elapsed / self.target

    @property
    def is_live(self) -> bool:
        return self.state in ("running", "paused", "breached") and self.met_at is None

    def remaining(self, now: datetime) -> timedelta | None:
        return None if self.due_at is None else self.due_at - now

    @property
    def explanation(self) -> str:
        """Why the deadline is where it is, for people."""
        where = (
            "round the clock"
            if self.calendar == ROUND_THE_CLOCK
            else (f"business time ({self.calendar})")
        )
        text = f"{humanize(self.target)} {where}"
        reasons = []
        for key, words in (
            ("closed", "closed hours"),
            ("holiday", "holidays"),
            ("paused", "paused time"),
        ):
            amount = self.moved_by.get(key)
            if amount:
                reasons.append(f"{words} add {humanize(amount)}")
        if reasons:
            text += "; " + ", ".join(reasons)
        if self.state == "paused":
            text += "; paused now, so no deadline until work resumes"
        return text


def _spans(statuses: Sequence[tuple[datetime, str]], wanted: Iterable[str]):
    """Real-time intervals spent in any of `wanted`; the last may be open (None)."""
    wanted = set(wanted)
    spans: list[tuple[datetime, datetime | None]] = []
    for index, (at, status) in enumerate(statuses):
        if status not in wanted:
            continue
        end = statuses[index + 1][0] if index + 1 < len(statuses) else None
        if end is not None and end <= at:
            continue
        if spans and spans[-1][1] == at:  # resolved -> closed is one stretch
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((at, end))
    return spans


class _MovedBy(Mapping[str, timedelta]):
    """A reading's moved_by: how much closed hours, holidays and paused time moved its
    deadline (calendar.explain between its start and due instant). Worked out on first
    read: pages and notice bodies read it (ClockReading.explanation), the sweep, which
    reads thousands of clocks in a storm, never does. Compares equal to the dict it
    stands for."""

    __slots__ = ("_inputs", "_parts")

    def __init__(self, calendar: BusinessCalendar, start: datetime, due: datetime, exclusions):
        self._inputs = (calendar, start, due, exclusions)
        self._parts: dict[str, timedelta] | None = None

    def _read(self) -> dict[str, timedelta]:
        if self._parts is None:
            calendar, start, due, exclusions = self._inputs
            window = [(a, min(b or due, due)) for a, b in exclusions if a < due]
            breakdown = calendar.explain(start, due, window)
            self._parts = {
                "closed": breakdown.closed,
                "holiday": breakdown.holiday,
                "paused": breakdown.paused,
            }
        return self._parts

    def __getitem__(self, key: str) -> timedelta:
        return self._read()[key]

    def __iter__(self):
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())

    def __eq__(self, other: object) -> bool:
        return self._read() == other

    __hash__ = None  # type: ignore[assignment]  # as the dict it stands for

    def __repr__(self) -> str:
        return repr(self._read())


def _reading(
    *,
    clock: str,
    target: timedelta,
    calendar_name: str,
    calendar: BusinessCalendar,
    start: datetime,
    exclusions: list[tuple[datetime, datetime | None]],
    stop: datetime | None,
    now: datetime,
    thresholds: Sequence[ThresholdSpec],
    arrival: datetime,
    warning_percent: int | None = None,
    to_level: int | None = None,
) -> ClockReading:
    if stop is not None:
        # A met clock is finished: pauses after it stopped move nothing.
        exclusions = [(a, b) for a, b in exclusions if a < stop]
    # The deadline, the warning, the threshold instants and the elapsed time all count
    # from `start` past the same exclusions: checked and merged once.
    count = calendar.count_from(start, exclusions)
    due, *warning = count.add_many(
        [target] if warning_percent is None else [target, target * (warning_percent / 100)]
    )
    warning_at = warning[0] if warning else None
    moved_by = {} if due is None else _MovedBy(calendar, start, due, exclusions)
    applying = [t for t in thresholds if clock in t.clocks]
    # A timedelta times a float is dear (big-integer arithmetic); times 1.0 it is itself.
    durations = [target if t.percent == 100 else target * t.fraction for t in applying]
    # A clock already breached when the current level took the incident gives
    # that level the same target again, from its arrival, for its thresholds:
    # otherwise the ladder would stop climbing after one move. (Compliance still
    # counts from `start`: the reading stays breached.)
    once = clock == DEADLINE_CLOCK or clock in MAXIMUM_CLOCKS
    if stop is None and due is not None and due <= arrival and not once:
        threshold_exclusions = [(a, b) for a, b in exclusions if b is None or b > arrival]
        instant_ats = calendar.add_many(arrival, durations, threshold_exclusions)
    else:
        instant_ats = count.add_many(durations)
    instants = tuple(
        [
            ThresholdInstant(t.percent, t.action, at, t.to_level)
            for t, at in zip(applying, instant_ats, strict=True)
        ]
    )
    if stop is not None:
        elapsed = count.elapsed(max(stop, start))
        late = elapsed > target
        return ClockReading(
            clock,
            target,
            calendar_name,
            start,
            due,
            elapsed,
            "breached" if late else "met",
            met_at=stop,
            breached_at=due if late else None,
            moved_by=moved_by,
            thresholds=instants,
            warning_at=warning_at,
        )
    elapsed = count.elapsed(max(now, start))
    paused = any(a <= now and (b is None or b > now) for a, b in exclusions)
    if due is not None and due <= now:
        state, breached_at = "breached", due
    else:
        state, breached_at = ("paused" if paused else "running"), None
    return ClockReading(
        clock,
        target,
        calendar_name,
        start,
        due,
        elapsed,
        state,
        breached_at=breached_at,
        moved_by=moved_by,
        thresholds=instants,
        warning_at=warning_at,
        to_level=to_level,
    )


def compute_clocks(
    facts: IncidentFacts,
    policy: WorkflowSpec,
    now: datetime,
    *,
    warning_percent: int | None = None,
) -> list[ClockReading]:
    """Every clock that applies to the incident now, in a fixed order.

    With `warning_percent`, each reading also says when it reaches that share
    of its target (`warning_at`), for the stored review-queue columns.
    """
    targets = policy.targets(facts.severity, facts.level)
    calendar_name = targets.calendar or ROUND_THE_CLOCK
    calendar = _policy_calendar(policy, calendar_name)
    pauses = _spans(facts.statuses, policy.pause_statuses)
    resolved = _spans(facts.statuses, RESOLVED_STATUSES)
    # The resolution clock and a level's time limit leave out paused time and time spent
    # resolved (before a reopening): one list, in start order, for both.
    paused_or_resolved = sorted(
        pauses + [(a, b) for a, b in resolved if b is not None], key=lambda span: span[0]
    )
    start = (
        (facts.level_clock_started_at or facts.level_entered_at)
        if policy.clock_start == "level"
        else facts.opened_at
    )
    common = {
        "calendar_name": calendar_name,
        "calendar": calendar,
        "now": now,
        # The policy's thresholds name their clocks; the maximum's name only the maxima.
        "thresholds": (*policy.thresholds, *MAXIMUM_THRESHOLDS),
        "arrival": facts.level_entered_at,
        "warning_percent": warning_percent,
    }
    readings = []

    if targets.first_response:
        stop = facts.first_response_at
        if stop is not None and stop < start:
            stop = start  # answered before this level took over: met at once
        readings += [
            _reading(
                clock=clock, target=target, start=start, exclusions=pauses, stop=stop, **common
            )
            for clock, target in _with_maximum(targets, "first_response")
        ]
    if targets.resolution:
        stop = resolved[-1][0] if not facts.is_open and resolved else None
        readings += [
            _reading(
                clock=clock,
                target=target,
                start=start,
                exclusions=paused_or_resolved,
                stop=stop,
                **common,
            )
            for clock, target in _with_maximum(targets, "resolution")
        ]
    if targets.update_interval and facts.is_open:
        readings.append(
            update_clock(
                facts,
                policy,
                target=targets.update_interval,
                calendar_name=calendar_name,
                now=now,
                warning_percent=warning_percent,
            )
        )
    if facts.handoff is not None and targets.first_response:
        escalated_at, acknowledged_at = facts.handoff
        readings.append(
            _reading(
                clock="handoff_ack",
                target=targets.first_response,
                start=escalated_at,
                exclusions=pauses,
                stop=acknowledged_at,
                **common,
            )
        )
    limit = policy.level(facts.level).escalate_after
    if limit is not None and facts.is_open:
        # From this arrival, not the opening; time spent resolved (before a reopening)
        # does not count, as on the resolution clock.
        readings.append(
            _reading(
                **{**common, "thresholds": TIME_AT_LEVEL_THRESHOLDS},
                clock=TIME_AT_LEVEL_CLOCK,
                target=limit,
                start=facts.level_entered_at,
                exclusions=paused_or_resolved,
                stop=None,
            )
        )
    deadline = policy.deadline_for(facts.severity)
    peak = facts.level if facts.peak_level is None else max(facts.peak_level, facts.level)
    if deadline is not None and facts.is_open and peak < deadline.level:
        deadline_calendar = deadline.calendar or policy.default_calendar
        readings.append(
            _reading(
                **{
                    **common,
                    "calendar_name": deadline_calendar,
                    "calendar": _policy_calendar(policy, deadline_calendar),
                    "thresholds": DEADLINE_THRESHOLDS,
                },
                clock=DEADLINE_CLOCK,
                target=deadline.within,
                start=facts.opened_at,
                exclusions=pauses,
                stop=None,
                to_level=deadline.level,
            )
        )
    return readings


# The maximum clock of each target clock that may have one.
_MAXIMUM_OF = {clock: maximum for maximum, clock in MAXIMUM_CLOCKS.items()}


def _with_maximum(targets, clock: str) -> list[tuple[str, timedelta]]:
    """A target's clock, and its maximum's right after it when it has one."""
    pairs = [(clock, targets.for_clock(clock))]
    maximum_clock = _MAXIMUM_OF[clock]
    maximum = targets.for_clock(maximum_clock)
    if maximum:
        pairs.append((maximum_clock, maximum))
    return pairs


def update_clock(
    facts: IncidentFacts,
    policy: WorkflowSpec,
    *,
    target: timedelta,
    now: datetime,
    calendar_name: str = ROUND_THE_CLOCK,
    since: datetime | None = None,
    warning_percent: int | None = None,
) -> ClockReading:
    """The status-update cadence: counts from the last public update (or the
    opening, or `since` if later: a war room's activation) and restarts at each
    one. Pause statuses stop it like every clock. The policy's own update clock
    and a war room's cadence are both this reading with different targets."""
    start = max(facts.last_public_update_at or facts.opened_at, facts.opened_at)
    if since is not None:
        start = max(start, since)
    return _reading(
        clock="update",
        target=target,
        calendar_name=calendar_name,
        calendar=_policy_calendar(policy, calendar_name),
        start=start,
        exclusions=_spans(facts.statuses, policy.pause_statuses),
        stop=None,
        now=now,
        thresholds=update_thresholds(policy),
        arrival=facts.level_entered_at,
        warning_percent=warning_percent,
    )


def pending_thresholds(
    readings: Iterable[ClockReading],
    *,
    level: int,
    level_entered_at: datetime,
    fired: set[tuple],
):
    """(clock, threshold instant) not yet fired at this level, soonest first.

    `fired` holds firing_key()s. Thresholds passed before the incident reached
    this level are left out (see the module docstring); a maximum's is not, and fires
    once at whatever level.
    """
    fired_once = {(key[0], key[2]) for key in fired if key[0] in MAXIMUM_CLOCKS}
    pending = []
    for reading in readings:
        if reading.met_at is not None:
            continue
        maximum = reading.clock in MAXIMUM_CLOCKS
        for instant in reading.thresholds:
            if instant.at is None:
                continue
            if (
                instant.at <= level_entered_at
                and not maximum
                and not (reading.clock == DEADLINE_CLOCK and instant.action == "escalate")
            ):
                continue  # already reached when the incident arrived here
            if firing_key(
                reading.clock, level, instant.percent, interval_start(reading)
            ) in fired or (maximum and (reading.clock, instant.percent) in fired_once):
                continue
            pending.append((reading.clock, instant))
    # A maximum due with an escalating threshold fires first: it belongs to no level, and a
    # move ends the sweep's turn at the old one.
    pending.sort(key=lambda item: (item[1].at, item[1].percent, item[0] not in MAXIMUM_CLOCKS))
    return pending


def next_check_at(readings, *, level, level_entered_at, fired) -> datetime | None:
    """The earliest moment something may have to happen: the sweep reads only this."""
    pending = pending_thresholds(
        readings, level=level, level_entered_at=level_entered_at, fired=fired
    )
    return pending[0][1].at if pending else None


def due_thresholds(readings, *, level, level_entered_at, fired, now):
    """Thresholds whose instant has come, soonest first."""
    return [
        (clock, instant)
        for clock, instant in pending_thresholds(
            readings, level=level, level_entered_at=level_entered_at, fired=fired
        )
        if instant.at <= now
    ]


# The review queues' "breaching soon": any running clock at this share or more.
WARNING_PERCENT = 75
STORED_CLOCKS = ("first_response", "resolution")


def breach_flag(reading: ClockReading | None) -> bool | None:
    """True once the clock is past its target (met late, or still running overdue),
    False when met in time, None while it runs in time (or does not apply)."""
    if reading is None or (reading.met_at is None and reading.state != "breached"):
        return None
    return reading.state == "breached"


def stored_columns(readings: Iterable[ClockReading], *, is_open: bool) -> dict:
    """The clock summary kept on the incident row (queues and metrics query it in SQL).

    * sla_warning_at / sla_due_at: earliest warning and due instants over the
      running clocks of an open incident (None once nothing runs);
    * <clock>_due_at and <clock>_breached for first response and resolution
      (breached: see breach_flag).
    """
    readings = list(readings)
    by_clock = {reading.clock: reading for reading in readings}
    values: dict = {}
    for clock in STORED_CLOCKS:
        reading = by_clock.get(clock)
        values[f"{clock}_due_at"] = reading.due_at if reading is not None else None
        values[f"{clock}_breached"] = breach_flag(reading)
    running = [r for r in readings if r.met_at is None] if is_open else []
    warnings = [r.warning_at for r in running if r.warning_at is not None]
    dues = [r.due_at for r in running if r.due_at is not None]
    values["sla_warning_at"] = min(warnings) if warnings else None
    values["sla_due_at"] = min(dues) if dues else None
    return values
