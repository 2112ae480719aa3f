"""Policies in the database <-> WorkflowSpec, and the services that change them.

A policy version is immutable once active: every change to an active policy
is a new version (`policy_fork` then `policy_activate`, or `load_workflow`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from escalations.models import (
    Calendar,
    Level,
    OnCallSchedule,
    Policy,
    PolicyStatus,
    SeverityOverride,
    SlaTarget,
    Threshold,
)
from escalations.policies.reach import reach_problems
from escalations.policies.workflow_yaml import load_workflow_text
from escalations.rules.business_time import BusinessCalendar
from escalations.rules.spec import (
    NEXT_LEVEL,
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
from incidents.models import Channel, Component
from incidents.permissions import require

# --- spec <-> JSON for the trigger settings -------------------------------------------------


def triggers_to_json(settings: TriggerSettings) -> dict:
    data = asdict(settings)
    for key, value in data.items():
        if isinstance(value, timedelta):
            data[key] = int(value.total_seconds())
    data["impact_routes"] = dict(settings.impact_routes)
    data["notify_groups"] = {k: list(v) for k, v in settings.notify_groups}
    data["burst_severities"] = list(settings.burst_severities)
    data["management_chain"] = list(settings.management_chain)
    return data


_TRIGGER_INTEGERS = (
    "repeat_count",
    "repeat_window",
    "burst_count",
    "burst_window",
    "users_affected",
    "revenue_impact",
    "csat_below",
    "ping_pong_limit",
    "executive_route",
)


def trigger_problems(data) -> list[str]:
    """What is wrong with trigger settings as stored (edited as JSON in the admin)."""
    if data in (None, {}):
        return []
    if not isinstance(data, dict):
        return ["Trigger settings are an object of named values."]
    known = {f.name for f in fields(TriggerSettings)}
    problems = [
        f"Unknown trigger setting {key!r}; known: {', '.join(sorted(known))}."
        for key in sorted(set(data) - known)
    ]
    for key in _TRIGGER_INTEGERS:
        value = data.get(key)
        lowest = NEXT_LEVEL if key == "executive_route" else 0
        if key in data and (
            isinstance(value, bool) or not isinstance(value, int) or value < lowest
        ):
            problems.append(f"{key} must be a whole number of {lowest} or more.")
    severities = data.get("burst_severities", [])
    if not isinstance(severities, list) or not set(severities) <= {"P0", "P1", "P2", "P3"}:
        problems.append("burst_severities must be a list of P0-P3.")
    routes = data.get("impact_routes", {})
    if not isinstance(routes, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in routes.values()
    ):
        problems.append(f"impact_routes maps a flag to a level number ({NEXT_LEVEL}: one up).")
    groups = data.get("notify_groups", {})
    if not isinstance(groups, dict) or not all(
        isinstance(v, list) and all(isinstance(g, str) for g in v) for v in groups.values()
    ):
        problems.append("notify_groups maps a scenario to a list of group names.")
    chain = data.get("management_chain", [])
    if not isinstance(chain, list) or not all(isinstance(g, str) and g.strip() for g in chain):
        problems.append("management_chain is a list of group names, lowest rung first.")
    return problems


def triggers_from_json(data: dict) -> TriggerSettings:
    if not data:
        return TriggerSettings()
    problems = trigger_problems(data)
    if problems:
        raise ValidationError(problems)
    values = dict(data)
    for key in ("repeat_window", "burst_window"):
        if key in values:
            values[key] = timedelta(seconds=values[key])
    if "impact_routes" in values:
        values["impact_routes"] = tuple(values["impact_routes"].items())
    if "notify_groups" in values:
        values["notify_groups"] = tuple((k, tuple(v)) for k, v in values["notify_groups"].items())
    if "burst_severities" in values:
        values["burst_severities"] = tuple(values["burst_severities"])
    if "management_chain" in values:
        values["management_chain"] = tuple(values["management_chain"])
    return TriggerSettings(**values)


def reviews_to_json(settings: ReviewSettings) -> dict:
    def seconds(value: timedelta) -> int:
        return int(value.total_seconds())

    return {
        "required_severities": list(settings.required_severities),
        "required_from_level": settings.required_from_level,
        "required_when": list(settings.required_when),
        "due_after": seconds(settings.due_after),
        "remind_before": seconds(settings.remind_before),
        "action_item_remind_before": seconds(settings.action_item_remind_before),
    }


def reviews_from_json(data: dict) -> ReviewSettings:
    if not data:
        return ReviewSettings()
    values = dict(data)
    for key in ("due_after", "remind_before", "action_item_remind_before"):
        if key in values:
            values[key] = timedelta(seconds=values[key])
    for key in ("required_severities", "required_when"):
        if key in values:
            values[key] = tuple(values[key])
    return ReviewSettings(**values)


def severities_to_json(severities) -> dict:
    return {
        severity: {
            "definition": definition.definition,
            "criteria": list(definition.criteria),
            "examples": list(definition.examples),
        }
        for severity, definition in severities
    }


def severities_from_json(data: dict) -> tuple:
    return tuple(
        sorted(
            (
                severity,
                SeverityDefinition(
                    definition=item.get("definition", ""),
                    criteria=tuple(item.get("criteria", ())),
                    examples=tuple(item.get("examples", ())),
                ),
            )
            for severity, item in (data or {}).items()
        )
    )


def deadlines_to_json(deadlines) -> dict:
    return {
        d.severity: {
            "level": d.level,
            "within": int(d.within.total_seconds()),
            "calendar": d.calendar or "",
        }
        for d in deadlines
    }


def deadlines_from_json(data: dict) -> tuple:
    return tuple(
        LevelDeadline(
            severity=severity,
            level=item["level"],
            within=timedelta(seconds=item["within"]),
            calendar=item.get("calendar") or None,
        )
        for severity, item in sorted((data or {}).items())
    )


def notices_to_json(notices) -> dict:
    """{severity or "all": [rule, ...]}, each severity's rules in their order."""
    out: dict[str, list] = {}
    for rule in notices:
        out.setdefault(rule.severity, []).append(
            {
                "levels": list(rule.levels),
                "groups": list(rule.groups),
                "channels": list(rule.channels),
                "within": int(rule.within.total_seconds()),
                "reason": rule.reason,
            }
        )
    return out


def notices_from_json(data: dict) -> tuple:
    return tuple(
        NoticeRule(
            severity=severity,
            levels=tuple(item.get("levels", ())),
            groups=tuple(item.get("groups", ())),
            channels=tuple(item.get("channels", ())),
            within=timedelta(seconds=item.get("within", 0)),
            reason=item.get("reason", ""),
        )
        for severity, items in sorted((data or {}).items())
        for item in items
    )


def maximum_to_json(route: MaximumRoute) -> dict:
    if route == MaximumRoute():
        return {}
    return {"notify": list(route.notify), "escalate_to": route.escalate_to}


def maximum_from_json(data: dict) -> MaximumRoute:
    return MaximumRoute(
        notify=tuple((data or {}).get("notify") or ()),
        escalate_to=(data or {}).get("escalate_to"),
    )


def regulatory_report_to_json(settings: RegulatoryReportSettings) -> dict:
    if settings == RegulatoryReportSettings():
        return {}
    return {
        "due_after": int(settings.due_after.total_seconds()),
        "remind_before": int(settings.remind_before.total_seconds()),
        "notify": list(settings.notify),
    }


def regulatory_report_from_json(data: dict) -> RegulatoryReportSettings:
    """The stored setting; a key it lacks (a partial edit) takes the default. A stored
    `notify: []` is kept (and refused by `regulatory_report_problems` on save)."""
    if not data:
        return RegulatoryReportSettings()
    default = RegulatoryReportSettings()

    def seconds(key: str) -> timedelta:
        value = data.get(key)
        return getattr(default, key) if value is None else timedelta(seconds=value)

    notify = data.get("notify")
    return RegulatoryReportSettings(
        due_after=seconds("due_after"),
        remind_before=seconds("remind_before"),
        notify=default.notify if notify is None else tuple(notify),
    )


def war_room_to_json(settings: WarRoomSettings) -> dict:
    return {"update_every": {k: int(v.total_seconds()) for k, v in settings.update_every}}


def war_room_from_json(data: dict) -> WarRoomSettings:
    if not data:
        return WarRoomSettings()
    return WarRoomSettings(
        update_every=tuple((k, timedelta(seconds=v)) for k, v in data["update_every"].items())
    )


# --- rows -> spec ----------------------------------------------------------------------------

# A level's and an SLA target row's durations: TargetSpec's fields of the same names.
TARGET_DURATIONS = (
    "first_response",
    "resolution",
    "update_interval",
    "first_response_max",
    "resolution_max",
)

_spec_cache: dict[tuple[int, datetime], WorkflowSpec] = {}


def _target(row) -> TargetSpec | None:
    durations = [getattr(row, name) for name in TARGET_DURATIONS]
    if not any(durations):
        return None
    return TargetSpec(
        **dict(zip(TARGET_DURATIONS, durations, strict=True)), calendar=row.calendar or None
    )


def policy_spec(policy: Policy) -> WorkflowSpec:
    """The policy version as a WorkflowSpec (cached: versions rarely change)."""
    key = (policy.pk, policy.updated_at)
    cached = _spec_cache.get(key)
    if cached is not None:
        return cached
    levels = tuple(
        LevelSpec(
            number=row.number,
            name=row.name,
            team=row.team,
            description=row.description,
            capabilities=tuple(row.capabilities),
            escalation_criteria=tuple(row.escalation_criteria),
            deescalation_criteria=tuple(row.deescalation_criteria),
            handoff_fields=tuple(row.handoff_fields),
            contacts=tuple(sorted(row.contacts.items())),
            sla=_target(row),
            schedule=row.schedule,
            page_after=row.page_after,
            escalate_after=row.escalate_after,
        )
        for row in policy.levels.order_by("number")
    )
    matrix = tuple(
        ((row.severity, row.level), _target(row) or TargetSpec())
        for row in policy.targets.order_by("severity", "level")
    )
    spec = WorkflowSpec(
        levels=levels,
        description=policy.description,
        clock_start=policy.clock_start,
        calendars=tuple(sorted(policy.calendars.items())),
        default_calendar=policy.default_calendar,
        matrix=matrix,
        thresholds=tuple(
            ThresholdSpec(row.percent, row.action, tuple(row.clocks), row.to_level)
            for row in policy.thresholds.order_by("percent", "id")
        ),
        overrides=tuple(
            OverrideSpec(row.severity, row.route_to, row.notification, row.description)
            for row in policy.overrides.order_by("position", "id")
        ),
        pause_statuses=tuple(policy.pause_statuses),
        triggers=triggers_from_json(policy.triggers),
        reviews=reviews_from_json(policy.reviews),
        war_room=war_room_from_json(policy.war_room),
        severities=severities_from_json(policy.severities),
        deadlines=deadlines_from_json(policy.deadlines),
        notices=notices_from_json(policy.notices),
        maximum=maximum_from_json(policy.maximum),
        regulatory_report=regulatory_report_from_json(policy.regulatory_report),
        match=MatchSpec(
            channels=tuple(sorted(policy.match_channels.values_list("name", flat=True))),
            account_tiers=tuple(policy.match_account_tiers),
            components=tuple(sorted(policy.match_components.values_list("name", flat=True))),
            priority=policy.priority,
        ),
    )
    if len(_spec_cache) > 512:
        _spec_cache.clear()
    _spec_cache[key] = spec
    return spec


def spec_problems(spec: WorkflowSpec) -> list[str]:
    """What makes a spec unusable, for drafts edited in the admin before activation."""
    problems = []
    numbers = [level.number for level in spec.levels]
    if not numbers:
        problems.append("A policy needs at least one level.")
    if len(set(numbers)) != len(numbers):
        problems.append("Two levels have the same number.")
    names = {ROUND_THE_CLOCK, *dict(spec.calendars)}
    for name, calendar in spec.calendars:
        try:
            BusinessCalendar.from_spec(calendar)
        except ValueError as error:
            problems.append(f"Calendar {name!r}: {error}")
    used = [spec.default_calendar]
    used += [level.sla.calendar for level in spec.levels if level.sla and level.sla.calendar]
    used += [target.calendar for _key, target in spec.matrix if target.calendar]
    used += [deadline.calendar for deadline in spec.deadlines if deadline.calendar]
    problems += [f"Calendar {name!r} is used but not defined." for name in set(used) - names]
    for override in spec.overrides:
        if override.route_to not in numbers:
            problems.append(
                f"{override.severity} is routed to L{override.route_to}, "
                f"which the policy does not have."
            )
    for (severity, level), _target_spec in spec.matrix:
        if level not in numbers:
            problems.append(f"The {severity} targets name L{level}, which does not exist.")
    problems += spec.maximum_problems()
    problems += regulatory_report_problems(spec.regulatory_report)
    escalate_to = spec.maximum.escalate_to
    if escalate_to is not None and escalate_to not in numbers:
        problems.append(
            f"A passed maximum escalates to L{escalate_to}, which the policy does not have."
        )
    problems += [f"{problem}." for _number, problem in escalate_after_problems(spec)]
    for deadline in spec.deadlines:
        if deadline.level not in numbers:
            problems.append(
                f"{deadline.severity} must be at L{deadline.level} by its deadline, "
                "which the policy does not have."
            )
    for rule in spec.notices:
        problems += [
            f"The {rule.severity} notices name L{number}, which does not exist."
            for number in rule.levels
            if number not in numbers
        ]
    for threshold in spec.thresholds:
        if threshold.to_level is not None and (
            threshold.action != "escalate" or threshold.to_level not in numbers
        ):
            problems.append(
                f"The {threshold.percent}% threshold names L{threshold.to_level}: only an "
                "escalate threshold names a level, one the policy has."
            )
    named = {level.schedule for level in spec.levels if level.schedule}
    known = set(OnCallSchedule.objects.filter(name__in=named).values_list("name", flat=True))
    for level in spec.levels:
        if level.schedule and level.schedule not in known:
            problems.append(
                f"{level.label} {level.name} pages the on-call schedule {level.schedule!r}, "
                "which does not exist."
            )
    return problems


# --- spec -> rows ----------------------------------------------------------------------------


def _write_rows(policy: Policy, spec: WorkflowSpec) -> None:
    def durations(target: TargetSpec | None) -> dict:
        target = target or TargetSpec()
        return {name: getattr(target, name) for name in TARGET_DURATIONS} | {
            "calendar": target.calendar or ""
        }

    Level.objects.bulk_create(
        [
            Level(
                policy=policy,
                number=level.number,
                name=level.name,
                team=level.team,
                description=level.description,
                capabilities=list(level.capabilities),
                escalation_criteria=list(level.escalation_criteria),
                deescalation_criteria=list(level.deescalation_criteria),
                handoff_fields=list(level.handoff_fields),
                contacts=dict(level.contacts),
                schedule=level.schedule,
                page_after=level.page_after,
                escalate_after=level.escalate_after,
                **durations(level.sla),
            )
            for level in spec.levels
        ]
    )
    SlaTarget.objects.bulk_create(
        [
            SlaTarget(policy=policy, severity=severity, level=level, **durations(target))
            for (severity, level), target in spec.matrix
        ]
    )
    Threshold.objects.bulk_create(
        [
            Threshold(
                policy=policy,
                percent=t.percent,
                action=t.action,
                clocks=list(t.clocks),
                to_level=t.to_level,
            )
            for t in spec.thresholds
        ]
    )
    SeverityOverride.objects.bulk_create(
        [
            SeverityOverride(
                policy=policy,
                severity=o.severity,
                route_to=o.route_to,
                notification=o.notification,
                description=o.description,
                position=n,
            )
            for n, o in enumerate(spec.overrides)
        ]
    )
    policy.match_channels.set(Channel.objects.filter(name__in=spec.match.channels))
    policy.match_components.set(Component.objects.filter(name__in=spec.match.components))


@transaction.atomic
def policy_create_from_spec(
    *,
    spec: WorkflowSpec,
    name: str,
    actor=None,
    activate: bool = True,
    make_default: bool | None = None,
    source: str = "",
    check_reach: bool = False,
    now: datetime | None = None,
) -> Policy:
    """Store `spec` as the next version of `name` (the first if new).

    make_default: True makes it the default policy; None keeps the default flag
    with the name (a new version of the default policy stays the default).
    check_reach: activating refuses a level that reaches nobody (`reach_problems`).
    Loading a file only warns about it (`load_workflow`): on a fresh install the
    people may come after the policy.
    """
    problems = spec_problems(spec)
    unknown_channels = set(spec.match.channels) - set(
        Channel.objects.filter(name__in=spec.match.channels).values_list("name", flat=True)
    )
    problems += [f"Unknown channel {c!r} in match." for c in sorted(unknown_channels)]
    unknown_components = set(spec.match.components) - set(
        Component.objects.filter(name__in=spec.match.components).values_list("name", flat=True)
    )
    problems += [f"Unknown component {c!r} in match." for c in sorted(unknown_components)]
    if problems:
        raise ValidationError(problems)
    # Lock the lineage so two loads of the same name cannot take the same version.
    existing = Policy.objects.select_for_update().filter(name=name)
    version = (existing.aggregate(Max("version"))["version__max"] or 0) + 1
    policy = Policy.objects.create(
        name=name,
        version=version,
        status=PolicyStatus.DRAFT,
        description=spec.description,
        clock_start=spec.clock_start,
        calendars=dict(spec.calendars),
        default_calendar=spec.default_calendar,
        pause_statuses=list(spec.pause_statuses),
        triggers=triggers_to_json(spec.triggers),
        reviews=reviews_to_json(spec.reviews),
        war_room=war_room_to_json(spec.war_room),
        severities=severities_to_json(spec.severities),
        deadlines=deadlines_to_json(spec.deadlines),
        notices=notices_to_json(spec.notices),
        maximum=maximum_to_json(spec.maximum),
        regulatory_report=regulatory_report_to_json(spec.regulatory_report),
        match_account_tiers=list(spec.match.account_tiers),
        priority=spec.match.priority,
        source=source,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _write_rows(policy, spec)
    for calendar_name, calendar_spec in spec.calendars:
        Calendar.objects.get_or_create(name=calendar_name, defaults={"spec": calendar_spec})
    if activate:
        policy = policy_activate(
            policy=policy,
            actor=actor,
            make_default=make_default,
            check_reach=check_reach,
            now=now,
        )
    return policy


@transaction.atomic
def policy_activate(
    *,
    policy: Policy,
    actor=None,
    make_default: bool | None = None,
    check_reach: bool = True,
    now: datetime | None = None,
) -> Policy:
    """Make a draft the live version of its name; the previous one retires.

    The default flag moves with the name unless `make_default` says otherwise.
    A level that reaches nobody (no person in its team, no contact address) is an
    error: its escalations and customer replies would go unheard.
    """
    require(actor, "policy.activate")
    now = now or timezone.now()
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    if policy.status != PolicyStatus.DRAFT:
        raise ValidationError(
            f"{policy} is {policy.get_status_display().lower()}; only drafts can be activated."
        )
    spec = policy_spec(policy)
    problems = spec_problems(spec) + (reach_problems(spec) if check_reach else [])
    if problems:
        raise ValidationError(problems)
    previous = (
        Policy.objects.select_for_update()
        .filter(name=policy.name, status=PolicyStatus.ACTIVE)
        .first()
    )
    was_default = bool(previous and previous.is_default)
    if previous:
        previous.status = PolicyStatus.RETIRED
        previous.is_default = False
        previous.save(update_fields=["status", "is_default", "updated_at"])
    if make_default or (make_default is None and was_default):
        Policy.objects.filter(is_default=True, status=PolicyStatus.ACTIVE).update(is_default=False)
        policy.is_default = True
    policy.status = PolicyStatus.ACTIVE
    policy.activated_at = now
    policy.save(update_fields=["status", "is_default", "activated_at", "updated_at"])
    return policy


@transaction.atomic
def policy_fork(*, policy: Policy, actor=None) -> Policy:
    """A new draft version with the same content: how an active policy is edited.

    Calendars are refreshed from the calendar library where names match, so a
    holiday added there reaches the new version.
    """
    require(actor, "policy.fork")
    spec = policy_spec(policy)
    library = dict(
        Calendar.objects.filter(name__in=dict(spec.calendars)).values_list("name", "spec")
    )
    spec = WorkflowSpec(
        **{
            **spec.__dict__,
            "calendars": tuple(
                sorted((name, library.get(name, calendar)) for name, calendar in spec.calendars)
            ),
        }
    )
    return policy_create_from_spec(
        spec=spec,
        name=policy.name,
        actor=actor,
        activate=False,
        source=f"copy of v{policy.version}",
    )


# --- drafts, edited in the admin --------------------------------------------------------------

# What an edit of a draft may change; the rest (name, version, status, lineage) is
# the services' to set.
DRAFT_FIELDS = frozenset(
    {
        "description",
        "clock_start",
        "default_calendar",
        "calendars",
        "pause_statuses",
        "priority",
        "match_account_tiers",
        "triggers",
        "reviews",
        "war_room",
        "severities",
        "deadlines",
        "notices",
        "maximum",
        "regulatory_report",
    }
)
# A draft's rows: its levels, SLA targets, thresholds and severity overrides.
DraftRow = Level | SlaTarget | Threshold | SeverityOverride
NOT_A_DRAFT = "Active and retired versions never change."


def policy_draft_problems(*, policy: Policy) -> list[str]:
    """Why `policy` cannot be edited now (it is, or has meanwhile become, active or retired)."""
    status = Policy.objects.filter(pk=policy.pk).values_list("status", flat=True).first()
    return [] if status == PolicyStatus.DRAFT else [NOT_A_DRAFT]


@transaction.atomic
def policy_draft_update(
    *,
    policy: Policy,
    actor,
    changes: Mapping[str, Any],
    match_channels: Iterable[Channel] | None = None,
    match_components: Iterable[Component] | None = None,
    rows: Sequence[DraftRow] = (),
    deleted_rows: Sequence[DraftRow] = (),
    now: datetime | None = None,
) -> Policy:
    """Change a draft version: its fields (`DRAFT_FIELDS`), what it matches, and its
    rows, new or changed (`rows`) or gone (`deleted_rows`).

    Only a draft changes (a ValidationError otherwise, nothing saved). The version is
    stamped changed afterwards, so specs cached for it (`policy_spec`) are read again.
    """
    require(actor, "policy.edit_draft")
    unknown = set(changes) - DRAFT_FIELDS
    if unknown:
        raise ValueError(f"Not fields of a draft to edit: {sorted(unknown)}")
    draft = Policy.objects.select_for_update().get(pk=policy.pk)
    if draft.status != PolicyStatus.DRAFT:
        raise ValidationError(NOT_A_DRAFT)
    for row in (*rows, *deleted_rows):
        if not isinstance(row, DraftRow) or row.policy_id != draft.pk:
            raise ValueError(f"{row!r} is not a row of {draft}.")
    for name, value in changes.items():
        setattr(draft, name, value)
    draft.save()
    if match_channels is not None:
        draft.match_channels.set(match_channels)
    if match_components is not None:
        draft.match_components.set(match_components)
    for row in deleted_rows:
        row.delete()
    for row in rows:
        row.save()
    draft.updated_at = now or timezone.now()
    Policy.objects.filter(pk=draft.pk).update(updated_at=draft.updated_at)
    return draft


# An exported file is named "<policy>-v<version>.yaml" (a browser may add " (1)").
_EXPORTED_NAME = re.compile(r"^(?P<name>.+?)-v\d+(?: ?\(\d+\))?$")


def policy_name_for_file(filename: str) -> str:
    """The policy a workflow file is a version of.

    `support-3-tier-v1.yaml`, as exported, is the next version of `support-3-tier`,
    not a policy of its own; a stem that is itself a policy name is taken as is.
    """
    stem = re.sub(r"(?: ?\(\d+\))?$", "", PurePath(filename).stem.strip()).strip()
    if Policy.objects.filter(name=stem).exists():
        return stem
    exported = _EXPORTED_NAME.match(PurePath(filename).stem.strip())
    return exported["name"] if exported else stem


def policy_load_workflow(
    *,
    text: str,
    filename: str,
    actor=None,
    name: str | None = None,
    activate: bool = True,
    make_default: bool | None = None,
) -> Policy:
    """Load workflow YAML as the next version of its policy (named after the file).

    Raises WorkflowError (one `file:line: path: problem` per problem) or
    ValidationError (messages prefixed with the file name); nothing is stored then.
    """

    spec = load_workflow_text(text, filename=filename)
    try:
        return policy_create_from_spec(
            spec=spec,
            name=name or policy_name_for_file(filename),
            actor=actor,
            activate=activate,
            make_default=make_default,
            source=filename,
        )
    except ValidationError as error:
        raise ValidationError([f"{filename}: {message}" for message in error.messages]) from None


@transaction.atomic
def policy_set_default(*, policy: Policy, actor=None) -> Policy:
    require(actor, "policy.set_default")
    if policy.status != PolicyStatus.ACTIVE:
        raise ValidationError("Only an active policy can be the default.")
    Policy.objects.filter(is_default=True, status=PolicyStatus.ACTIVE).exclude(pk=policy.pk).update(
        is_default=False
    )
    Policy.objects.filter(pk=policy.pk).update(is_default=True)
    policy.refresh_from_db()
    return policy


def default_policy() -> Policy | None:
    """The active policy new incidents take when no other matches."""
    return Policy.objects.filter(status=PolicyStatus.ACTIVE, is_default=True).first()


def policy_for_new_incident(*, channel, account, component) -> Policy | None:
    """The first active policy whose conditions match, else the default one."""
    tier = account.tier if account is not None else None
    active = (
        Policy.objects.filter(status=PolicyStatus.ACTIVE)
        .prefetch_related("match_channels", "match_components")
        .order_by("priority", "name")
    )
    default = None
    for policy in active:
        channels = {c.pk for c in policy.match_channels.all()}
        components = {c.pk for c in policy.match_components.all()}
        conditions = bool(channels or components or policy.match_account_tiers)
        if policy.is_default:
            default = policy
        if not conditions:
            continue
        if channels and (channel is None or channel.pk not in channels):
            continue
        if components and (component is None or component.pk not in components):
            continue
        if policy.match_account_tiers and tier not in policy.match_account_tiers:
            continue
        return policy
    return default
