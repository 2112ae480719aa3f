"""Escalation workflows as YAML files: load them into a `WorkflowSpec`, dump a spec back.

Everything lives under a top-level ``escalation:`` key; seed 001's block is valid input as
written. Our extensions (calendars, thresholds, matrix, triggers, match, reviews, war_room...)
are optional.
See escalations/workflows/*.yaml for complete examples.

Loading walks PyYAML's node tree (``SafeLoader``, never an unsafe loader) so every problem
carries the line of the offending key or value. All problems found are reported together in
one ``WorkflowError``, one line each::

    support.yaml:23: escalation.tiers[1].sla.first_response: '4x' is not a duration (...)

``dump_workflow`` writes the canonical form: fixed key order, durations via
``format_duration``, percents as "50%", tier SLAs with the seed's ``resolution_target``.
``load_workflow_text(dump_workflow(spec)) == spec`` for every valid spec.

Conventions (also the answers to the format's open questions):

* Lists keep their file order (tiers are sorted by level, calendars by name, the matrix by
  (severity, level), as ``WorkflowSpec`` asks); duplicates in a list are an error.
* Choice values (statuses, actions, clocks, handoff fields, notification methods, account
  tiers) are read case-insensitively with spaces or dashes for underscores and stored in
  their canonical spelling; severities accept whatever ``Severity.parse`` accepts.
* ``impact_routes`` and ``notify_groups``, when given, replace the defaults as a whole (so
  a route can be dropped); their keys are the ones ``TriggerSettings`` defaults name.
* A route target is a level number or ``next`` (stored as 0, see ``TriggerSettings``), so
  level 0 itself cannot be a route target.
* Bare integers are minutes where a duration is expected (``parse_duration``).

Pure: no Django import.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from escalations.rules.business_time import BusinessCalendar
from escalations.rules.durations import format_duration, parse_duration
from escalations.rules.spec import (
    ACTIONS,
    ALL_SEVERITIES,
    CLOCK_STARTS,
    CLOCKS,
    CONTACT_KEYS,
    HANDOFF_FIELDS,
    NEXT_LEVEL,
    NOTICE_CHANNELS,
    NOTIFICATION_METHODS,
    REVIEW_FLAGS,
    ROUND_THE_CLOCK,
    LevelDeadline,
    LevelSpec,
    MatchSpec,
    MaximumRoute,
    NoticeRule,
    OverrideSpec,
    RegulatoryReportSettings,
    ReviewSettings,
    SeverityDefinition,
    TargetSpec,
    ThresholdSpec,
    TriggerSettings,
    WarRoomSettings,
    WorkflowSpec,
    escalate_after_problems,
    regulatory_report_problems,
)
from incidents.rules import Severity, Status

__all__ = [
    "ACCOUNT_TIERS",
    "Problem",
    "WorkflowError",
    "dump_workflow",
    "load_workflow_file",
    "load_workflow_text",
]

# incidents.models.AccountTier, repeated here because this module may not import Django.
ACCOUNT_TIERS = ("standard", "premium", "enterprise")

_DEFAULT_TRIGGERS = TriggerSettings()
IMPACT_FLAGS = tuple(flag for flag, _ in _DEFAULT_TRIGGERS.impact_routes)
NOTIFY_GROUPS = tuple(group for group, _ in _DEFAULT_TRIGGERS.notify_groups)
STATUSES = tuple(status.value for status in Status)
NEXT_LEVEL_WORD = "next"
MAX_LEVEL = 99

TOP_KEYS = ("escalation",)
ESCALATION_KEYS = (
    "description",
    "clock_start",
    "default_calendar",
    "calendars",
    "pause_on",
    "thresholds",
    "tiers",
    "matrix",
    "severity_overrides",
    "triggers",
    "match",
    "reviews",
    "war_room",
    "severities",
    "deadlines",
    "notices",
    "maximum",
    "regulatory_report",
)
TIER_KEYS = (
    "level",
    "name",
    "team",
    "description",
    "capabilities",
    "sla",
    "escalation_criteria",
    "deescalation_criteria",
    "handoff_fields",
    "contacts",
    "schedule",
    "page_after",
    "escalate_after",
)
TARGET_KEYS = (
    "first_response",
    "first_response_max",
    "resolution_target",
    "resolution",
    "resolution_max",
    "update_every",
    "calendar",
)
MAXIMUM_KEYS = ("notify", "escalate_to")
REGULATORY_REPORT_KEYS = ("due_after", "remind_before", "notify")
THRESHOLD_KEYS = ("at", "action", "clocks", "to")
OVERRIDE_KEYS = ("severity", "description", "route_to", "notification")
TRIGGER_KEYS = (
    "repeat",
    "burst",
    "users_affected",
    "revenue_impact",
    "csat_below",
    "ping_pong_limit",
    "impact_routes",
    "notify_groups",
    "executive_route",
    "management_chain",
)
REPEAT_KEYS = ("count", "window")
BURST_KEYS = ("count", "window", "severities")
REVIEW_KEYS = (
    "required_for",
    "required_from_level",
    "required_when",
    "due_after",
    "remind_before",
    "action_items",
)
ACTION_ITEM_KEYS = ("remind_before",)
WAR_ROOM_KEYS = ("update_every",)
SEVERITY_KEYS = ("definition", "criteria", "examples")
DEADLINE_KEYS = ("level", "within", "calendar")
NOTICE_KEYS = ("levels", "groups", "channels", "within", "reason")
NEVER_WORD = "never"
MATCH_KEYS = ("channels", "account_tiers", "components", "priority")
CALENDAR_KEYS = ("timezone", "hours", "holidays")  # business_time's spec format

# Limits, checked on PyYAML's event stream (which is not recursive) before the
# node tree is composed: a workflow is a few kilobytes, so these are generous.
# Counts, not timers: a file over a limit is refused at the event that crosses it.
MAX_BYTES = 256 * 1024
MAX_DEPTH = 40  # nested mappings and lists
MAX_NODES = 20_000  # values, mappings and lists as written
MAX_EXPANDED = 100_000  # the same once every alias (and "<<" merge) is expanded

_INVALID: Any = object()  # a value that was reported as a problem
_MERGE_TAG = "tag:yaml.org,2002:merge"
type _Pair = tuple[Node, Node]
_PERCENT_RE = re.compile(r"\s*(\d+)\s*%\s*")
_CONTEXT_PATH_RE = re.compile(r"^([A-Za-z_][\w]*(?:\[\d+\]|\.[\w]+)*): (.*)$", re.S)


# ------------------------------------------------------------------------------ errors


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workflow file. ``line`` is 1-based; ``path`` is like
    ``escalation.tiers[1].sla.first_response`` (empty for the document as a whole)."""

    filename: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f" {self.path}:" if self.path else ""
        return f"{self.filename}:{self.line}:{where} {self.message}"


class WorkflowError(ValueError):
    """Everything found wrong with a workflow file; ``str()`` gives one line per problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


# ------------------------------------------------------------------------------ loading


def load_workflow_text(text: str, filename: str = "<workflow>") -> WorkflowSpec:
    """Parse and validate workflow YAML; raises ``WorkflowError`` listing every problem."""
    reader = _Reader(filename)
    spec = reader.read(text)
    if reader.problems or spec is None:
        unique = dict.fromkeys(reader.problems)  # an aliased node is read once per use
        raise WorkflowError(sorted(unique, key=lambda problem: problem.line))
    return spec


def load_workflow_file(path: str | os.PathLike[str]) -> WorkflowSpec:
    """``load_workflow_text`` on a UTF-8 file; problems name the path as given."""
    filename = os.fspath(path)
    with open(filename, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise WorkflowError(
            [Problem(filename, 1, "", f"the file is larger than {MAX_BYTES} bytes")]
        )
    return load_workflow_text(data.decode("utf-8"), filename)


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _token(text: str) -> str:
    """'Waiting on customer' -> 'waiting_on_customer'."""
    return re.sub(r"[\s-]+", "_", text.strip().lower())


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return type(value).__name__


class _Reader:
    """Walks the composed node tree, collecting problems and building the spec."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []
        self.loader: yaml.SafeLoader | None = None
        self.levels: set[int] | None = None  # None: tiers unreadable, skip level checks
        self.calendar_names: set[str] | None = None
        self.flat: dict[int, tuple[Any, list[_Pair], list[_Pair], Exception | None]] = {}

    # --- reporting --------------------------------------------------------------------

    def add(self, where: Node | int, path: str, message: str) -> None:
        line = where if isinstance(where, int) else _line(where)
        self.problems.append(Problem(self.filename, line, path, message))

    def kind(self, node: Node) -> str:
        if isinstance(node, MappingNode):
            return "a mapping"
        if isinstance(node, SequenceNode):
            return "a list"
        try:
            return _describe(self.construct(node))
        except (yaml.YAMLError, ValueError, TypeError):
            return repr(node.value)

    def wrong_type(self, node: Node, path: str, expected: str) -> Any:
        hint = ""
        if expected == "text" and isinstance(node, ScalarNode):
            try:
                value = self.construct(node)
            except (yaml.YAMLError, ValueError, TypeError):
                value = None
            if isinstance(value, int | float | date):
                hint = " (put it in quotes if it is meant as text)"
        self.add(node, path, f"expected {expected}, got {self.kind(node)}{hint}")
        return _INVALID

    # --- YAML -------------------------------------------------------------------------

    def read(self, text: str) -> WorkflowSpec | None:
        if not isinstance(text, str):
            raise TypeError(f"expected the YAML text as str, got {type(text).__name__}")
        if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
            self.add(1, "", f"the file is larger than {MAX_BYTES} bytes")
            return None
        try:
            if not self.within_limits(text):
                return None
            self.loader = yaml.SafeLoader(text)
            root = self.loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            self.add_yaml_error(exc)
            return None
        except yaml.YAMLError as exc:  # ReaderError: characters YAML does not allow
            position = getattr(exc, "position", 0) or 0
            self.add(text.count("\n", 0, position) + 1, "", f"invalid YAML: {exc}")
            return None
        try:
            return self.document(root)
        finally:
            self.loader.dispose()

    def within_limits(self, text: str) -> bool:
        """Depth, node count and alias expansion, from the event stream; reports the
        first limit crossed at its line. Each anchor's size is its expanded size, so
        "billion laughs" (aliases of aliases, or "<<" merges of them) is caught at
        the alias that crosses the limit, before anything is expanded."""
        anchors: dict[str, int] = {}
        open_sizes: list[list] = []  # [expanded size so far, anchor] per open collection
        written = expanded = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                written += 1
                expanded += 1
                open_sizes.append([1, event.anchor])
                if len(open_sizes) > MAX_DEPTH:
                    return self.over_limit(event, f"nested more than {MAX_DEPTH} levels deep")
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                size, anchor = open_sizes.pop()
                if anchor:
                    anchors[anchor] = size
                if open_sizes:
                    open_sizes[-1][0] += size
                continue
            if isinstance(event, yaml.ScalarEvent):
                written += 1
                size = 1
                if event.anchor:
                    anchors[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                size = anchors.get(event.anchor, 1)  # unknown: the composer reports it
            else:
                continue
            expanded += size if open_sizes else 0
            if open_sizes:
                open_sizes[-1][0] += size
            if written > MAX_NODES:
                return self.over_limit(event, f"more than {MAX_NODES} values, lists and mappings")
            if expanded > MAX_EXPANDED:
                return self.over_limit(
                    event, f"aliases expand to more than {MAX_EXPANDED} values, lists and mappings"
                )
        return True

    def over_limit(self, event: yaml.Event, message: str) -> bool:
        self.add(event.start_mark.line + 1, "", f"too big to read: {message}")
        return False

    def add_yaml_error(self, exc: yaml.MarkedYAMLError) -> None:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "not valid YAML"
        if exc.context and exc.problem:
            where = f" on line {exc.context_mark.line + 1}" if exc.context_mark else ""
            message = f"{exc.problem} ({exc.context}{where})"
        self.add(mark.line + 1 if mark else 1, "", f"invalid YAML: {message}")

    def construct(self, node: Node) -> Any:
        assert self.loader is not None
        return self.loader.construct_object(node, deep=True)

    # --- generic readers --------------------------------------------------------------

    def scalar(self, node: Node, path: str, expected: str) -> Any:
        if not isinstance(node, ScalarNode):
            return self.wrong_type(node, path, expected)
        try:
            return self.construct(node)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            reason = getattr(exc, "problem", None) or str(exc)
            self.add(node, path, f"cannot read {node.value!r}: {reason}")
            return _INVALID

    def flatten(self, node: MappingNode) -> tuple[list[_Pair], list[_Pair]]:
        """(merged pairs, explicit pairs) of a mapping once its "<<" merge keys are
        resolved; raises ``yaml.YAMLError`` for a bad merge. Cached per node, because
        flattening rewrites the node and may only happen once."""
        cached = self.flat.get(id(node))
        if cached is None:
            explicit = [(k, v) for k, v in node.value if k.tag != _MERGE_TAG]
            error = None
            try:
                assert self.loader is not None
                self.loader.flatten_mapping(node)
            except yaml.YAMLError as exc:
                error = exc
            ids = {id(k) for k, _ in explicit}
            merged = [(k, v) for k, v in node.value if id(k) not in ids]
            cached = (node, merged, explicit, error)
            self.flat[id(node)] = cached
        _, merged, explicit, error = cached
        if error is not None:
            raise error
        return merged, explicit

    def lookup(self, node: Node, key: str) -> Node | None:
        """The value node of ``key`` in a mapping, without reporting anything."""
        if not isinstance(node, MappingNode):
            return None
        try:
            merged, explicit = self.flatten(node)
        except yaml.YAMLError:
            return None
        for pairs in (explicit, merged[::-1]):
            for key_node, value_node in pairs:
                if isinstance(key_node, ScalarNode) and key_node.value == key:
                    return value_node
        return None

    def pairs(self, node: Node, path: str) -> list[tuple[Any, Node, Node]] | None:
        """(key, key node, value node) of a mapping; duplicate keys are problems. Keys
        merged in with "<<" give way to the mapping's own keys."""
        if not isinstance(node, MappingNode):
            self.wrong_type(node, path, "a mapping")
            return None
        try:
            merged, explicit = self.flatten(node)
        except yaml.YAMLError as exc:
            self.add(node, path, f"cannot merge: {getattr(exc, 'problem', None) or exc}")
            return None
        own: list[tuple[Any, Node, Node]] = []
        seen: dict[Any, int] = {}
        for key_node, value_node in explicit:
            key = self.key(key_node, path)
            if key is _INVALID:
                continue
            if key in seen:
                self.add(
                    key_node,
                    _join(path, key_node.value),
                    f"key given twice (first on line {seen[key]})",
                )
                continue
            seen[key] = _line(key_node)
            own.append((key, key_node, value_node))
        inherited: dict[Any, tuple[Any, Node, Node]] = {}
        for key_node, value_node in merged:
            key = self.key(key_node, path)
            if key is not _INVALID and key not in seen:
                inherited[key] = (key, key_node, value_node)  # the last merge wins
        return [*inherited.values(), *own]

    def key(self, node: Node, path: str) -> Any:
        key = self.scalar(node, path, "a plain key")
        if key is _INVALID:
            return key
        try:
            hash(key)
        except TypeError:
            self.add(node, path, f"unusable key {key!r}")
            return _INVALID
        return key

    def fields(
        self,
        node: Node,
        path: str,
        allowed: tuple[str, ...],
        required: tuple[str, ...] = (),
    ) -> dict[str, tuple[Node, Node]] | None:
        """A mapping with a fixed set of keys: unknown keys and missing required ones are
        problems. Returns key -> (key node, value node)."""
        items = self.pairs(node, path)
        if items is None:
            return None
        result: dict[str, tuple[Node, Node]] = {}
        for key, key_node, value_node in items:
            if not isinstance(key, str) or key not in allowed:
                name = str(key)
                self.add(
                    key_node,
                    _join(path, key_node.value),
                    f"unknown key {name!r}{_suggest(name, allowed)}; "
                    f"allowed here: {', '.join(allowed)}",
                )
                continue
            result[key] = (key_node, value_node)
        for key in required:
            if key not in result:
                self.add(node, _join(path, key), "missing (required)")
        return result

    def items(self, node: Node, path: str) -> list[tuple[str, Node]] | None:
        """(path, node) of each list item."""
        if not isinstance(node, SequenceNode):
            self.wrong_type(node, path, "a list")
            return None
        return [(f"{path}[{i}]", item) for i, item in enumerate(node.value)]

    def text(self, node: Node, path: str, *, blank: bool = True) -> Any:
        value = self.scalar(node, path, "text")
        if value is _INVALID:
            return value
        if not isinstance(value, str):
            return self.wrong_type(node, path, "text")
        if not blank and not value.strip():
            self.add(node, path, "must not be empty")
            return _INVALID
        return value

    def integer(
        self, node: Node, path: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> Any:
        value = self.scalar(node, path, "a whole number")
        if value is _INVALID:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            return self.wrong_type(node, path, "a whole number")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            if maximum is None:
                bounds = f"at least {minimum}"
            elif minimum is None:
                bounds = f"at most {maximum}"
            else:
                bounds = f"between {minimum} and {maximum}"
            self.add(node, path, f"must be {bounds}, got {value}")
            return _INVALID
        return value

    def duration(self, node: Node, path: str) -> Any:
        expected = "a duration such as 30m, 4h or 2d"
        value = self.scalar(node, path, expected)
        if value is _INVALID:
            return value
        if not isinstance(value, str | int):
            return self.wrong_type(node, path, expected)
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.add(node, path, str(exc))
            return _INVALID

    def percent(self, node: Node, path: str) -> Any:
        expected = 'a percentage such as "50%" or 50'
        value = self.scalar(node, path, expected)
        if value is _INVALID:
            return value
        if isinstance(value, str) and (match := _PERCENT_RE.fullmatch(value)):
            number = int(match.group(1))
        elif isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str):
            self.add(node, path, f'{_describe(value)} is not a percentage (use e.g. "50%" or 50)')
            return _INVALID
        else:
            return self.wrong_type(node, path, expected)
        if not 1 <= number <= 1000:
            self.add(node, path, f"percent must be between 1% and 1000%, got {number}%")
            return _INVALID
        return number

    def choice(self, node: Node, path: str, choices: tuple[str, ...], what: str) -> Any:
        value = self.text(node, path)
        if value is _INVALID:
            return value
        token = _token(value)
        if token not in choices:
            self.add(
                node,
                path,
                f"unknown {what} {value!r}{_suggest(token, choices)}; "
                f"use one of: {', '.join(choices)}",
            )
            return _INVALID
        return token

    def severity(self, node: Node, path: str) -> Any:
        value = self.scalar(node, path, "a severity")
        if value is _INVALID:
            return value
        if isinstance(value, bool) or not isinstance(value, str | int):
            return self.wrong_type(node, path, "a severity such as P1")
        try:
            return Severity.parse(str(value)).value
        except ValueError as exc:
            self.add(node, path, str(exc))
            return _INVALID

    def unique_list(
        self, node: Node, path: str, read: Callable[[Node, str], Any], *, what: str = "value"
    ) -> Any:
        items = self.items(node, path)
        if items is None:
            return _INVALID
        values: list[Any] = []
        seen: dict[Any, int] = {}
        ok = True
        for item_path, item in items:
            value = read(item, item_path)
            if value is _INVALID:
                ok = False
            elif value in seen:
                self.add(item, item_path, f"{what} {value!r} is listed twice")
                ok = False
            else:
                seen[value] = _line(item)
                values.append(value)
        return tuple(values) if ok else _INVALID

    def text_list(self, node: Node, path: str) -> Any:
        return self.unique_list(node, path, lambda n, p: self.text(n, p, blank=False))

    def choice_list(self, node: Node, path: str, choices: tuple[str, ...], what: str) -> Any:
        return self.unique_list(
            node, path, lambda n, p: self.choice(n, p, choices, what), what=what
        )

    # --- references -------------------------------------------------------------------

    def level_number(self, node: Node, path: str) -> Any:
        """A reference to a defined level."""
        number = self.integer(node, path, minimum=0, maximum=MAX_LEVEL)
        if number is _INVALID:
            return number
        if self.levels is not None and number not in self.levels:
            defined = ", ".join(str(n) for n in sorted(self.levels))
            self.add(node, path, f"there is no level {number} (levels defined: {defined})")
            return _INVALID
        return number

    def route(self, node: Node, path: str) -> Any:
        """A level number or "next" (stored as spec.NEXT_LEVEL)."""
        if isinstance(node, ScalarNode):
            value = self.scalar(node, path, "a level number or next")
            if value is _INVALID:
                return value
            if isinstance(value, str) and _token(value) == NEXT_LEVEL_WORD:
                return NEXT_LEVEL
            if isinstance(value, str):
                self.add(node, path, f"expected a level number or next, got {value!r}")
                return _INVALID
        return self.level_number(node, path)

    def calendar_ref(self, node: Node, path: str) -> Any:
        name = self.text(node, path, blank=False)
        if name is _INVALID or name == ROUND_THE_CLOCK:
            return name
        if self.calendar_names is not None and name not in self.calendar_names:
            defined = [*sorted(self.calendar_names), ROUND_THE_CLOCK]
            self.add(
                node,
                path,
                f"unknown calendar {name!r}{_suggest(name, defined)}; "
                f"defined: {', '.join(defined)}",
            )
            return _INVALID
        return name

    # --- the document -----------------------------------------------------------------

    def document(self, root: Node | None) -> WorkflowSpec | None:
        if root is None or (isinstance(root, ScalarNode) and root.tag.endswith(":null")):
            self.add(1, "", "the document is empty; expected a mapping with an escalation: key")
            return None
        if not isinstance(root, MappingNode):
            self.add(root, "", f"expected a mapping with an escalation: key, got {self.kind(root)}")
            return None
        top = self.fields(root, "", TOP_KEYS)
        if top is None:
            return None
        if "escalation" not in top:
            self.add(
                root, "escalation", "missing: a workflow goes under a top-level escalation: key"
            )
            return None
        return self.escalation(top["escalation"][1], "escalation")

    def escalation(self, node: Node, path: str) -> WorkflowSpec | None:
        f = self.fields(node, path, ESCALATION_KEYS, required=("tiers",))
        if f is None:
            return None

        def at(key: str) -> tuple[Node, str] | None:
            return (f[key][1], _join(path, key)) if key in f else None

        values: dict[str, Any] = {}
        # calendars first: tiers and the matrix refer to them by name
        if (got := at("calendars")) is not None:
            values["calendars"] = self.calendars(*got)
        else:
            self.calendar_names = set()
        if (got := at("default_calendar")) is not None:
            values["default_calendar"] = self.calendar_ref(*got)
        if (got := at("description")) is not None:
            values["description"] = self.text(*got)
        if (got := at("clock_start")) is not None:
            values["clock_start"] = self.choice(*got, CLOCK_STARTS, "clock start")
        if (got := at("pause_on")) is not None:
            values["pause_statuses"] = self.choice_list(*got, STATUSES, "status")
        if (got := at("tiers")) is not None:
            values["levels"] = self.tiers(*got)
        else:
            values["levels"] = _INVALID
        if (got := at("thresholds")) is not None:  # after tiers: `to` names a level
            values["thresholds"] = self.thresholds(*got)
        if (got := at("matrix")) is not None:
            values["matrix"] = self.matrix(*got)
        if (got := at("severity_overrides")) is not None:
            values["overrides"] = self.overrides(*got)
        if (got := at("triggers")) is not None:
            values["triggers"] = self.triggers(*got)
        if (got := at("match")) is not None:
            values["match"] = self.match(*got)
        if (got := at("reviews")) is not None:
            values["reviews"] = self.reviews(*got)
        if (got := at("war_room")) is not None:
            values["war_room"] = self.war_room(*got)
        if (got := at("severities")) is not None:
            values["severities"] = self.severities(*got)
        if (got := at("deadlines")) is not None:
            values["deadlines"] = self.deadlines(*got)
        if (got := at("notices")) is not None:
            values["notices"] = self.notices(*got)
        if (got := at("maximum")) is not None:
            values["maximum"] = self.maximum(*got)
        if (got := at("regulatory_report")) is not None:
            values["regulatory_report"] = self.regulatory_report(*got)
        if any(value is _INVALID for value in values.values()):
            return None
        spec = WorkflowSpec(**values)
        # Each target was checked on its own above; a matrix cell giving only a maximum
        # takes its level's target, so check them again merged (seed 002's pairs).
        if (got := at("matrix")) is not None and (problems := spec.maximum_problems()):
            for problem in problems:
                self.add(*got, problem.rstrip("."))
            return None
        return spec

    def calendars(self, node: Node, path: str) -> Any:
        items = self.pairs(node, path)
        if items is None:
            self.calendar_names = None
            return _INVALID
        names: set[str] = set()
        result: list[tuple[str, Any]] = []
        ok = True
        for key, key_node, value_node in items:
            item_path = _join(path, key_node.value)
            if not isinstance(key, str) or not key.strip():
                self.add(key_node, item_path, f"a calendar name must be text, got {key!r}")
                ok = False
                continue
            names.add(key)
            if key == ROUND_THE_CLOCK:
                self.add(key_node, item_path, f"{ROUND_THE_CLOCK!r} is built in; choose a name")
                ok = False
                continue
            calendar = self.calendar(value_node, item_path)
            if calendar is _INVALID:
                ok = False
            else:
                result.append((key, calendar))
        self.calendar_names = names
        return tuple(sorted(result, key=lambda item: item[0])) if ok else _INVALID

    def calendar(self, node: Node, path: str) -> Any:
        if not isinstance(node, MappingNode):
            return self.wrong_type(node, path, "a calendar mapping (timezone, hours, holidays)")
        before = len(self.problems)
        self.fields(node, path, CALENDAR_KEYS, required=("timezone", "hours"))
        if len(self.problems) > before:
            return _INVALID
        if not self.readable(node, path):
            return _INVALID
        try:
            raw = self.construct(node)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            self.add(node, path, f"cannot read the calendar: {getattr(exc, 'problem', exc)}")
            return _INVALID
        try:
            return BusinessCalendar.from_spec(raw).to_spec()
        except ValueError as exc:
            message = str(exc)
            match = _CONTEXT_PATH_RE.match(message)
            if match is None or match.group(1) == "spec":
                self.add(node, path, match.group(2) if match else message)
            else:
                sub = match.group(1)
                self.add(self.locate(node, sub), f"{path}.{sub}", match.group(2))
            return _INVALID

    def readable(self, node: Node, path: str) -> bool:
        """Whether every scalar below ``node`` can be read; reports the first that cannot."""
        if isinstance(node, ScalarNode):
            return self.scalar(node, path, "a value") is not _INVALID
        if isinstance(node, SequenceNode):
            return all(self.readable(item, f"{path}[{i}]") for i, item in enumerate(node.value))
        if isinstance(node, MappingNode):
            return all(
                self.readable(key, path) and self.readable(value, _join(path, key.value))
                for key, value in node.value
            )
        return True

    def locate(self, node: Node, sub: str) -> Node:
        """The deepest node along a business_time path such as ``hours.tue[1]``."""
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", sub):
            if isinstance(node, MappingNode) and not part.startswith("["):
                found = [v for k, v in node.value if isinstance(k, ScalarNode) and k.value == part]
                if not found:
                    break
                node = found[0]
            elif isinstance(node, SequenceNode) and part.startswith("["):
                index = int(part[1:-1])
                if index >= len(node.value):
                    break
                node = node.value[index]
            else:
                break
        return node

    def thresholds(self, node: Node, path: str) -> Any:
        items = self.items(node, path)
        if items is None:
            return _INVALID
        result: list[ThresholdSpec] = []
        ok = True
        for item_path, item in items:
            f = self.fields(item, item_path, THRESHOLD_KEYS, required=("at", "action"))
            if f is None:
                ok = False
                continue
            values: dict[str, Any] = {}
            if "at" in f:
                values["percent"] = self.percent(f["at"][1], _join(item_path, "at"))
            if "action" in f:
                values["action"] = self.choice(
                    f["action"][1], _join(item_path, "action"), ACTIONS, "action"
                )
            if "clocks" in f:
                clocks_path = _join(item_path, "clocks")
                clocks = self.choice_list(f["clocks"][1], clocks_path, CLOCKS, "clock")
                if clocks == ():
                    self.add(f["clocks"][1], clocks_path, "name at least one clock")
                    clocks = _INVALID
                values["clocks"] = clocks
            if "to" in f:  # seed 000's ladder: `{at: 50%, action: escalate, to: 1}`
                to_path = _join(item_path, "to")
                values["to_level"] = self.level_number(f["to"][1], to_path)
                if values.get("action") not in ("escalate", _INVALID):
                    self.add(f["to"][1], to_path, "only an escalate threshold names a level")
                    values["to_level"] = _INVALID
            if "at" not in f or "action" not in f:
                ok = False
                continue
            if any(value is _INVALID for value in values.values()):
                ok = False
                continue
            result.append(ThresholdSpec(**values))
        return tuple(result) if ok else _INVALID

    def tiers(self, node: Node, path: str) -> Any:
        items = self.items(node, path)
        if items is None:
            return _INVALID
        if not items:
            self.add(node, path, "define at least one tier")
            return _INVALID
        # level numbers first, so that later references can be checked
        numbers: dict[int, str] = {}
        read_numbers: list[Any] = []
        for item_path, item in items:
            number = _INVALID
            value_node = self.lookup(item, "level")
            if value_node is not None:
                level_path = _join(item_path, "level")
                number = self.integer(value_node, level_path, minimum=0, maximum=MAX_LEVEL)
                if number is not _INVALID and number in numbers:
                    self.add(
                        value_node,
                        level_path,
                        f"level {number} is defined twice (also {numbers[number]})",
                    )
                    number = _INVALID
                elif number is not _INVALID:
                    numbers[number] = item_path
            read_numbers.append(number)
        self.levels = set(numbers)
        levels: list[LevelSpec] = []
        ok = True
        where: dict[int, tuple[str, Node]] = {}
        for (item_path, item), number in zip(items, read_numbers, strict=True):
            level = self.tier(item, item_path, number)
            if level is _INVALID:
                ok = False
            else:
                levels.append(level)
                where[level.number] = (item_path, item)
        if ok:
            # A level's time limit needs a level above it (seed 002's L4 has none).
            for number, problem in escalate_after_problems(WorkflowSpec(levels=tuple(levels))):
                item_path, item = where[number]
                key_path = _join(item_path, "escalate_after")
                self.add(self.lookup(item, "escalate_after") or item, key_path, problem)
                ok = False
        return tuple(sorted(levels, key=lambda level: level.number)) if ok else _INVALID

    def tier(self, node: Node, path: str, number: Any) -> Any:
        f = self.fields(node, path, TIER_KEYS, required=("level", "name"))
        if f is None:
            return _INVALID
        values: dict[str, Any] = {"number": number}
        readers: dict[str, tuple[str, Callable[[Node, str], Any]]] = {
            "name": ("name", lambda n, p: self.text(n, p, blank=False)),
            "team": ("team", self.text),
            "description": ("description", self.text),
            "capabilities": ("capabilities", self.text_list),
            "sla": ("sla", self.targets),
            "escalation_criteria": ("escalation_criteria", self.text_list),
            "deescalation_criteria": ("deescalation_criteria", self.text_list),
            "handoff_fields": (
                "handoff_fields",
                lambda n, p: self.choice_list(n, p, tuple(HANDOFF_FIELDS), "handoff field"),
            ),
            "contacts": ("contacts", self.contacts),
            "schedule": ("schedule", lambda n, p: self.text(n, p, blank=False)),
            "page_after": ("page_after", self.duration),
            "escalate_after": ("escalate_after", self.duration),
        }
        for key, (attribute, read) in readers.items():
            if key in f:
                values[attribute] = read(f[key][1], _join(path, key))
        if "level" not in f or "name" not in f:
            return _INVALID
        if any(value is _INVALID for value in values.values()):
            return _INVALID
        return LevelSpec(**values)

    def targets(self, node: Node, path: str) -> Any:
        f = self.fields(node, path, TARGET_KEYS)
        if f is None:
            return _INVALID
        values: dict[str, Any] = {}
        if "first_response" in f:
            values["first_response"] = self.duration(
                f["first_response"][1], _join(path, "first_response")
            )
        if "resolution_target" in f and "resolution" in f:
            key_node = f["resolution"][0]
            self.add(
                key_node,
                _join(path, "resolution"),
                "give either resolution_target or resolution, not both",
            )
            values["resolution"] = _INVALID
        else:
            for key in ("resolution_target", "resolution"):
                if key in f:
                    values["resolution"] = self.duration(f[key][1], _join(path, key))
        if "update_every" in f:
            values["update_interval"] = self.duration(
                f["update_every"][1], _join(path, "update_every")
            )
        for key in ("first_response_max", "resolution_max"):
            if key in f:
                values[key] = self.duration(f[key][1], _join(path, key))
        if "calendar" in f:
            values["calendar"] = self.calendar_ref(f["calendar"][1], _join(path, "calendar"))
        if any(value is _INVALID for value in values.values()):
            return _INVALID
        targets = TargetSpec(**values)
        # Seed 002: "Target: 2 hours, Maximum: 4 hours": the maximum comes later.
        problems = targets.maximum_problems()
        for problem in problems:
            key = problem.split()[0]
            self.add(f[key][1], _join(path, key), problem)
        return _INVALID if problems else targets

    def contacts(self, node: Node, path: str) -> Any:
        f = self.fields(node, path, CONTACT_KEYS)
        if f is None:
            return _INVALID
        result: list[tuple[str, str]] = []
        ok = True
        for key in CONTACT_KEYS:  # stored in this fixed order, whatever the file's order
            if key in f:
                value = self.text(f[key][1], _join(path, key), blank=False)
                if value is _INVALID:
                    ok = False
                else:
                    result.append((key, value))
        return tuple(result) if ok else _INVALID

    def matrix(self, node: Node, path: str) -> Any:
        rows = self.pairs(node, path)
        if rows is None:
            return _INVALID
        result: dict[tuple[str, int], TargetSpec] = {}
        seen: dict[str, int] = {}
        ok = True
        for _key, key_node, value_node in rows:
            row_path = _join(path, key_node.value)
            severity = self.severity(key_node, row_path)
            if severity is _INVALID:
                ok = False
                continue
            if severity in seen:
                self.add(
                    key_node, row_path, f"{severity} given twice (first on line {seen[severity]})"
                )
                ok = False
                continue
            seen[severity] = _line(key_node)
            cells = self.pairs(value_node, row_path)
            if cells is None:
                ok = False
                continue
            for _level, level_node, cell_node in cells:
                cell_path = _join(row_path, level_node.value)
                level = self.level_number(level_node, cell_path)
                targets = self.targets(cell_node, cell_path)
                if level is _INVALID or targets is _INVALID:
                    ok = False
                else:
                    result[(severity, level)] = targets
        return tuple(sorted(result.items(), key=lambda item: item[0])) if ok else _INVALID

    def overrides(self, node: Node, path: str) -> Any:
        items = self.items(node, path)
        if items is None:
            return _INVALID
        result: list[OverrideSpec] = []
        seen: dict[str, str] = {}
        ok = True
        for item_path, item in items:
            f = self.fields(item, item_path, OVERRIDE_KEYS, required=("severity", "route_to"))
            if f is None:
                ok = False
                continue
            values: dict[str, Any] = {}
            if "severity" in f:
                severity_path = _join(item_path, "severity")
                severity = self.severity(f["severity"][1], severity_path)
                if severity is not _INVALID and severity in seen:
                    self.add(
                        f["severity"][1],
                        severity_path,
                        f"{severity} already has an override ({seen[severity]})",
                    )
                    severity = _INVALID
                elif severity is not _INVALID:
                    seen[severity] = item_path
                values["severity"] = severity
            if "route_to" in f:
                values["route_to"] = self.level_number(
                    f["route_to"][1], _join(item_path, "route_to")
                )
            if "notification" in f:
                values["notification"] = self.choice(
                    f["notification"][1],
                    _join(item_path, "notification"),
                    NOTIFICATION_METHODS,
                    "notification method",
                )
            if "description" in f:
                values["description"] = self.text(
                    f["description"][1], _join(item_path, "description")
                )
            if "severity" not in f or "route_to" not in f:
                ok = False
                continue
            if any(value is _INVALID for value in values.values()):
                ok = False
                continue
            result.append(OverrideSpec(**values))
        return tuple(result) if ok else _INVALID

    def triggers(self, node: Node, path: str) -> Any:
        f = self.fields(node, path, TRIGGER_KEYS)
        if f is None:
            return _INVALID
        values: dict[str, Any] = {}

        def sub(key: str) -> tuple[Node, str]:
            return f[key][1], _join(path, key)

        if "repeat" in f:
            g = self.fields(*sub("repeat"), REPEAT_KEYS)
            if g is None:
                values["repeat_count"] = _INVALID
            else:
                repeat_path = _join(path, "repeat")
                if "count" in g:
                    values["repeat_count"] = self.integer(
                        g["count"][1], _join(repeat_path, "count"), minimum=1
                    )
                if "window" in g:
                    values["repeat_window"] = self.duration(
                        g["window"][1], _join(repeat_path, "window")
                    )
        if "burst" in f:
            g = self.fields(*sub("burst"), BURST_KEYS)
            if g is None:
                values["burst_count"] = _INVALID
            else:
                burst_path = _join(path, "burst")
                if "count" in g:
                    values["burst_count"] = self.integer(
                        g["count"][1], _join(burst_path, "count"), minimum=1
                    )
                if "window" in g:
                    values["burst_window"] = self.duration(
                        g["window"][1], _join(burst_path, "window")
                    )
                if "severities" in g:
                    values["burst_severities"] = self.unique_list(
                        g["severities"][1],
                        _join(burst_path, "severities"),
                        self.severity,
                        what="severity",
                    )
        if "users_affected" in f:
            values["users_affected"] = self.integer(*sub("users_affected"), minimum=1)
        if "revenue_impact" in f:
            values["revenue_impact"] = self.integer(*sub("revenue_impact"), minimum=0)
        if "csat_below" in f:
            values["csat_below"] = self.integer(*sub("csat_below"), minimum=1, maximum=10)
        if "ping_pong_limit" in f:
            values["ping_pong_limit"] = self.integer(*sub("ping_pong_limit"), minimum=1)
        if "impact_routes" in f:
            values["impact_routes"] = self.impact_routes(*sub("impact_routes"))
        if "notify_groups" in f:
            values["notify_groups"] = self.notify_groups(*sub("notify_groups"))
        if "executive_route" in f:
            values["executive_route"] = self.route(*sub("executive_route"))
        if "management_chain" in f:
            values["management_chain"] = self.text_list(*sub("management_chain"))
        if any(value is _INVALID for value in values.values()):
            return _INVALID
        return TriggerSettings(**values)

    def impact_routes(self, node: Node, path: str) -> Any:
        f = self.fields(node, path, IMPACT_FLAGS)
        if f is None:
            return _INVALID
        routes = tuple(
            (flag, self.route(value, _join(path, flag))) for flag, (_, value) in f.items()
        )
        return _INVALID if any(route is _INVALID for _, route in routes) else routes

    def notify_groups(self, node: Node, path: str) -> Any:
        f = self.fields(node, path, NOTIFY_GROUPS)
        if f is None:
            return _INVALID
        groups = tuple(
            (group, self.text_list(value, _join(path, group))) for group, (_, value) in f.items()
        )
        return _INVALID if any(members is _INVALID for _, members in groups) else groups

    def reviews(self, node: Node, path: str) -> Any:
        f = self.fields(node, path, REVIEW_KEYS)
        if f is None:
            return _INVALID
        values: dict[str, Any] = {}

        def sub(key: str) -> tuple[Node, str]:
            return f[key][1], _join(path, key)

        if "required_for" in f:
            values["required_severities"] = self.unique_list(
                *sub("required_for"), self.severity, what="severity"
            )
        if "required_from_level" in f:
            node_, path_ = sub("required_from_level")
            value = self.scalar(node_, path_, "a level number or never")
            if isinstance(value, str) and _token(value) == NEVER_WORD:
                values["required_from_level"] = None
            elif value is not _INVALID:
                values["required_from_level"] = self.integer(
                    node_, path_, minimum=0, maximum=MAX_LEVEL
                )
            else:
                values["required_from_level"] = _INVALID
        if "required_when" in f:
            values["required_when"] = self.choice_list(
                *sub("required_when"), REVIEW_FLAGS, "review trigger"
            )
        if "due_after" in f:
            values["due_after"] = self.duration(*sub("due_after"))
        if "remind_before" in f:
            values["remind_before"] = self.duration(*sub("remind_before"))
        if "action_items" in f:
            g = self.fields(*sub("action_items"), ACTION_ITEM_KEYS)
            if g is None:
                values["action_item_remind_before"] = _INVALID
            elif "remind_before" in g:
                values["action_item_remind_before"] = self.duration(
                    g["remind_before"][1], _join(_join(path, "action_items"), "remind_before")
                )
        if any(value is _INVALID for value in values.values()):
            return _INVALID
        return ReviewSettings(**values)

    def by_severity(
        self, node: Node, path: str, read: Callable[[Node, str, str], Any]
    ) -> dict[str, Any] | Any:
        """A mapping keyed by severity (any name Severity.parse takes), each value read by
        `read(value node, its path, severity)`; a severity given twice is a problem."""
        items = self.pairs(node, path)
        if items is None:
            return _INVALID
        table: dict[str, Any] = {}
        ok = True
        for _key, key_node, value_node in items:
            item_path = _join(path, str(key_node.value))
            severity = self.severity(key_node, item_path)
            if severity is _INVALID:
                ok = False
                continue
            value = read(value_node, item_path, severity)
            if value is _INVALID:
                ok = False
            elif severity in table:
                self.add(key_node, item_path, f"severity {severity} is given twice")
                ok = False
            else:
                table[severity] = value
        return table if ok else _INVALID

    def war_room(self, node: Node, path: str) -> Any:
        f = self.fields(node, path, WAR_ROOM_KEYS)
        if f is None:
            return _INVALID
        if "update_every" not in f:
            return WarRoomSettings()
        every_path = _join(path, "update_every")
        table = self.by_severity(
            f["update_every"][1], every_path, lambda n, p, _severity: self.duration(n, p)
        )
        if table is _INVALID:
            return _INVALID
        if not table:
            self.add(f["update_every"][1], every_path, "give at least one severity's cadence")
            return _INVALID
        return WarRoomSettings(update_every=tuple(table.items()))

    def severities(self, node: Node, path: str) -> Any:
        """`P1: {definition: ..., criteria: [...], examples: [...]}` per severity."""

        def read(value_node: Node, item_path: str, _severity: str) -> Any:
            f = self.fields(value_node, item_path, SEVERITY_KEYS)
            if f is None:
                return _INVALID
            values: dict[str, Any] = {}
            if "definition" in f:
                values["definition"] = self.text(f["definition"][1], _join(item_path, "definition"))
            for key in ("criteria", "examples"):
                if key in f:
                    values[key] = self.text_list(f[key][1], _join(item_path, key))
            if any(value is _INVALID for value in values.values()):
                return _INVALID
            return SeverityDefinition(
                **{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
            )

        table = self.by_severity(node, path, read)
        return _INVALID if table is _INVALID else tuple(sorted(table.items()))

    def deadlines(self, node: Node, path: str) -> Any:
        """`P1: {level: 3, within: 1h}`: at level 3 within an hour of the opening."""

        def read(value_node: Node, item_path: str, severity: str) -> Any:
            f = self.fields(value_node, item_path, DEADLINE_KEYS, required=("level", "within"))
            if f is None or "level" not in f or "within" not in f:
                return _INVALID
            values: dict[str, Any] = {
                "level": self.level_number(f["level"][1], _join(item_path, "level")),
                "within": self.duration(f["within"][1], _join(item_path, "within")),
            }
            if "calendar" in f:
                values["calendar"] = self.calendar_ref(
                    f["calendar"][1], _join(item_path, "calendar")
                )
            if any(value is _INVALID for value in values.values()):
                return _INVALID
            return LevelDeadline(severity=severity, **values)

        table = self.by_severity(node, path, read)
        return _INVALID if table is _INVALID else tuple(table[s] for s in sorted(table))

    def notices(self, node: Node, path: str) -> Any:
        """`P0: [{groups: [Executive], reason: ...}]`, `P1: [{levels: [3], within: 1h}]`,
        `all: [...]` (every incident, at its opening): who is told, at the latest when."""
        items = self.pairs(node, path)
        if items is None:
            return _INVALID
        rules: list[NoticeRule] = []
        seen: set[str] = set()
        ok = True
        for key, key_node, value_node in items:
            key_path = _join(path, str(key_node.value))
            if isinstance(key, str) and _token(key) == ALL_SEVERITIES:
                severity = ALL_SEVERITIES
            else:
                severity = self.severity(key_node, key_path)
            if severity is _INVALID or severity in seen:
                if severity in seen:
                    self.add(key_node, key_path, f"severity {severity} is given twice")
                ok = False
                continue
            seen.add(severity)
            listed = self.items(value_node, key_path)
            if listed is None:
                ok = False
                continue
            for item_path, item in listed:
                rule = self.notice(item, item_path, severity)
                if rule is _INVALID:
                    ok = False
                else:
                    rules.append(rule)
        if not ok:
            return _INVALID
        return tuple(sorted(rules, key=lambda rule: rule.severity))  # stable: as written

    def notice(self, node: Node, path: str, severity: str) -> Any:
        f = self.fields(node, path, NOTICE_KEYS)
        if f is None:
            return _INVALID
        values: dict[str, Any] = {}
        if "levels" in f:
            values["levels"] = self.unique_list(
                f["levels"][1], _join(path, "levels"), self.level_number, what="level"
            )
        if "groups" in f:
            values["groups"] = self.text_list(f["groups"][1], _join(path, "groups"))
        if "channels" in f:
            values["channels"] = self.choice_list(
                f["channels"][1], _join(path, "channels"), NOTICE_CHANNELS, "channel"
            )
        if "within" in f:
            values["within"] = self.duration(f["within"][1], _join(path, "within"))
        if "reason" in f:
            values["reason"] = self.text(f["reason"][1], _join(path, "reason"))
        if any(value is _INVALID for value in values.values()):
            return _INVALID
        if not values.get("levels") and not values.get("groups"):
            self.add(node, path, "say who is told: levels, groups or both")
            return _INVALID
        return NoticeRule(severity=severity, **values)

    def maximum(self, node: Node, path: str) -> Any:
        """`{notify: [Executive], escalate_to: 4}`: what a passed maximum does, once."""
        f = self.fields(node, path, MAXIMUM_KEYS)
        if f is None:
            return _INVALID
        values: dict[str, Any] = {}
        if "notify" in f:
            values["notify"] = self.text_list(f["notify"][1], _join(path, "notify"))
        if "escalate_to" in f:
            values["escalate_to"] = self.level_number(
                f["escalate_to"][1], _join(path, "escalate_to")
            )
        if any(value is _INVALID for value in values.values()):
            return _INVALID
        return MaximumRoute(**values)

    def regulatory_report(self, node: Node, path: str) -> Any:
        """`{due_after: 72h, remind_before: 24h, notify: [Legal]}` (seed 002 "Regulatory
        Reporting"): when a report marked as required is due, and who is told."""
        f = self.fields(node, path, REGULATORY_REPORT_KEYS)
        if f is None:
            return _INVALID
        values: dict[str, Any] = {}
        for key in ("due_after", "remind_before"):
            if key in f:
                values[key] = self.duration(f[key][1], _join(path, key))
        if "notify" in f:
            values["notify"] = self.text_list(f["notify"][1], _join(path, "notify"))
        if any(value is _INVALID for value in values.values()):
            return _INVALID
        settings = RegulatoryReportSettings(**values)
        if problems := regulatory_report_problems(settings):
            for problem in problems:
                self.add(node, path, problem.rstrip("."))
            return _INVALID
        return settings

    def match(self, node: Node, path: str) -> Any:
        f = self.fields(node, path, MATCH_KEYS)
        if f is None:
            return _INVALID
        values: dict[str, Any] = {}
        if "channels" in f:
            values["channels"] = self.text_list(f["channels"][1], _join(path, "channels"))
        if "account_tiers" in f:
            values["account_tiers"] = self.choice_list(
                f["account_tiers"][1], _join(path, "account_tiers"), ACCOUNT_TIERS, "account tier"
            )
        if "components" in f:
            values["components"] = self.text_list(f["components"][1], _join(path, "components"))
        if "priority" in f:
            values["priority"] = self.integer(f["priority"][1], _join(path, "priority"), minimum=0)
        if any(value is _INVALID for value in values.values()):
            return _INVALID
        return MatchSpec(**values)


# ------------------------------------------------------------------------------ dumping


class _Flow(list):
    """A list written inline: [a, b]."""


class _FlowMap(dict):
    """A mapping written inline: {first_response: 5m, resolution: 2h}."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Lists indented under their key, as the seeds write them.
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # Several lines read best as a literal block; the emitter falls back to quotes
    # whenever a block could not hold the text exactly.
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True)
)
_Dumper.add_representer(
    _FlowMap, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)

_FLOW_LIMIT = 64  # characters of items beyond which a list is written one item per line


def _list(values: Iterable[str]) -> list[str]:
    """Short lists of short words inline, anything longer as a block."""
    items = list(values)
    if sum(len(item) + 2 for item in items) <= _FLOW_LIMIT and all(
        item and "\n" not in item for item in items
    ):
        return _Flow(items)
    return items


def _targets(targets: TargetSpec, resolution_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if targets.first_response is not None:
        out["first_response"] = format_duration(targets.first_response)
    if targets.first_response_max is not None:
        out["first_response_max"] = format_duration(targets.first_response_max)
    if targets.resolution is not None:
        out[resolution_key] = format_duration(targets.resolution)
    if targets.resolution_max is not None:
        out["resolution_max"] = format_duration(targets.resolution_max)
    if targets.update_interval is not None:
        out["update_every"] = format_duration(targets.update_interval)
    if targets.calendar is not None:
        out["calendar"] = targets.calendar
    return out


def _route(number: int) -> int | str:
    return NEXT_LEVEL_WORD if number == NEXT_LEVEL else number


def _calendar(spec: Any) -> dict[str, Any]:
    # Specs from elsewhere (the database) in canonical form too; an invalid one is written
    # as it is, and loading it back says what is wrong.
    with contextlib.suppress(ValueError):
        spec = BusinessCalendar.from_spec(spec).to_spec()
    out: dict[str, Any] = {"timezone": spec["timezone"]}
    hours = spec["hours"]
    out["hours"] = hours if isinstance(hours, str) else {d: _Flow(r) for d, r in hours.items()}
    if spec.get("holidays"):
        out["holidays"] = _list(str(day) for day in spec["holidays"])
    return out


def _level(level: LevelSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"level": level.number, "name": level.name}
    if level.team:
        out["team"] = level.team
    if level.description:
        out["description"] = level.description
    if level.capabilities:
        out["capabilities"] = list(level.capabilities)
    if level.sla is not None:
        out["sla"] = _targets(level.sla, "resolution_target")
    if level.escalation_criteria:
        out["escalation_criteria"] = list(level.escalation_criteria)
    if level.deescalation_criteria:
        out["deescalation_criteria"] = list(level.deescalation_criteria)
    out["handoff_fields"] = _list(level.handoff_fields)
    if level.contacts:
        out["contacts"] = dict(level.contacts)
    if level.schedule:
        out["schedule"] = level.schedule
    if level.page_after is not None:
        out["page_after"] = format_duration(level.page_after)
    if level.escalate_after is not None:
        out["escalate_after"] = format_duration(level.escalate_after)
    return out


def _triggers(triggers: TriggerSettings) -> dict[str, Any]:
    return {
        "repeat": {
            "count": triggers.repeat_count,
            "window": format_duration(triggers.repeat_window),
        },
        "burst": {
            "count": triggers.burst_count,
            "window": format_duration(triggers.burst_window),
            "severities": _Flow(triggers.burst_severities),
        },
        "users_affected": triggers.users_affected,
        "revenue_impact": triggers.revenue_impact,
        "csat_below": triggers.csat_below,
        "ping_pong_limit": triggers.ping_pong_limit,
        "impact_routes": {flag: _route(number) for flag, number in triggers.impact_routes},
        "notify_groups": {group: _list(members) for group, members in triggers.notify_groups},
        "executive_route": _route(triggers.executive_route),
        **(
            {"management_chain": _list(triggers.management_chain)}
            if triggers.management_chain
            else {}
        ),
    }


def _reviews(reviews: ReviewSettings) -> dict[str, Any]:
    level = reviews.required_from_level
    return {
        "required_for": _Flow(reviews.required_severities),
        "required_from_level": NEVER_WORD if level is None else level,
        "required_when": _Flow(reviews.required_when),
        "due_after": format_duration(reviews.due_after),
        "remind_before": format_duration(reviews.remind_before),
        "action_items": {"remind_before": format_duration(reviews.action_item_remind_before)},
    }


def _war_room(war_room: WarRoomSettings) -> dict[str, Any]:
    return {
        "update_every": _FlowMap(
            {severity: format_duration(every) for severity, every in war_room.update_every}
        )
    }


def _severity(definition: SeverityDefinition) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if definition.definition:
        out["definition"] = definition.definition
    if definition.criteria:
        out["criteria"] = list(definition.criteria)
    if definition.examples:
        out["examples"] = list(definition.examples)
    return out


def _notice(rule: NoticeRule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rule.levels:
        out["levels"] = _Flow(rule.levels)
    if rule.groups:
        out["groups"] = _Flow(rule.groups)
    if rule.channels:
        out["channels"] = _Flow(rule.channels)
    if rule.within:
        out["within"] = format_duration(rule.within)
    if rule.reason:
        out["reason"] = rule.reason
    return out


def dump_workflow(spec: WorkflowSpec) -> str:
    """The canonical YAML for a spec: same spec, same text; loads back to an equal spec."""
    out: dict[str, Any] = {}
    if spec.description:
        out["description"] = spec.description
    out["clock_start"] = spec.clock_start
    out["default_calendar"] = spec.default_calendar
    if spec.calendars:
        out["calendars"] = {name: _calendar(calendar) for name, calendar in spec.calendars}
    out["pause_on"] = _Flow(spec.pause_statuses)
    out["thresholds"] = [
        {"at": f"{t.percent}%", "action": t.action, "clocks": _Flow(t.clocks)}
        | ({} if t.to_level is None else {"to": t.to_level})
        for t in spec.thresholds
    ]
    out["tiers"] = [_level(level) for level in spec.levels]
    if spec.matrix:
        matrix: dict[str, dict[int, Any]] = {}
        for (severity, number), targets in spec.matrix:
            matrix.setdefault(severity, {})[number] = _FlowMap(_targets(targets, "resolution"))
        out["matrix"] = matrix
    if spec.overrides:
        overrides = []
        for override in spec.overrides:
            item: dict[str, Any] = {"severity": override.severity}
            if override.description:
                item["description"] = override.description
            item["route_to"] = override.route_to
            item["notification"] = override.notification
            overrides.append(item)
        out["severity_overrides"] = overrides
    out["triggers"] = _triggers(spec.triggers)
    out["match"] = {
        "channels": _list(spec.match.channels),
        "account_tiers": _Flow(spec.match.account_tiers),
        "components": _list(spec.match.components),
        "priority": spec.match.priority,
    }
    out["reviews"] = _reviews(spec.reviews)
    out["war_room"] = _war_room(spec.war_room)
    if spec.deadlines:
        out["deadlines"] = {
            d.severity: _FlowMap(
                {"level": d.level, "within": format_duration(d.within)}
                | ({"calendar": d.calendar} if d.calendar else {})
            )
            for d in spec.deadlines
        }
    if spec.notices:
        out["notices"] = {}
        for rule in spec.notices:
            out["notices"].setdefault(rule.severity, []).append(_notice(rule))
    if spec.maximum != MaximumRoute():
        route: dict[str, Any] = {}
        if spec.maximum.notify:
            route["notify"] = _Flow(spec.maximum.notify)
        if spec.maximum.escalate_to is not None:
            route["escalate_to"] = spec.maximum.escalate_to
        out["maximum"] = _FlowMap(route)
    if spec.regulatory_report != RegulatoryReportSettings():
        report = spec.regulatory_report
        out["regulatory_report"] = _FlowMap(
            {
                "due_after": format_duration(report.due_after),
                "remind_before": format_duration(report.remind_before),
                "notify": _Flow(report.notify),
            }
        )
    if spec.severities:
        out["severities"] = {
            severity: _severity(definition) for severity, definition in spec.severities
        }
    return yaml.dump(
        {"escalation": out},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
