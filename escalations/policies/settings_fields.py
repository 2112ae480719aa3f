"""A policy's trigger, review and war-room settings as admin form fields.

They are stored as JSON (seconds for durations, see escalations.policies.services), but a
manager edits them as named fields with durations written the way the workflow
YAML writes them: ``48h``, ``30m``, ``2d``. The form reads the stored JSON into
the settings dataclasses and writes them back through the same converters the
YAML loader uses, so the admin and a loaded file can never disagree.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html_join

from escalations.policies.services import (
    reviews_from_json,
    reviews_to_json,
    trigger_problems,
    triggers_from_json,
    triggers_to_json,
    war_room_from_json,
    war_room_to_json,
)
from escalations.rules.durations import format_duration, parse_duration
from escalations.rules.spec import (
    NEXT_LEVEL,
    REVIEW_FLAGS,
    ReviewSettings,
    TriggerSettings,
    WarRoomSettings,
)
from incidents.rules import Severity

SEVERITIES = [(s.value, f"{s.value} · {s.label}") for s in Severity]
IMPACT_FLAGS = [flag for flag, _ in TriggerSettings().impact_routes]
NOTIFY_SCENARIOS = [scenario for scenario, _ in TriggerSettings().notify_groups]
NO_ROUTE = ""
NEVER = ""
GROUPS_HELP = "Group names, separated by commas."


def duration_text(value: timedelta | None) -> str:
    return format_duration(value) if value else ""


class HumanDurationField(forms.Field):
    """A duration typed and shown as the workflow YAML writes it: 30m, 4h, 2d, 1h30m."""

    widget = forms.TextInput(attrs={"size": 8, "placeholder": "e.g. 4h"})
    default_error_messages = {"invalid": "%(problem)s"}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", "Like 30m, 4h, 2d or 1h30m.")
        kwargs.pop("max_length", None)  # passed by model DurationField's formfield()
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, timedelta):
            return duration_text(value)
        return value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value).strip())
        except ValueError as error:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"problem": str(error)}
            ) from None


def _humanize_name(name: str) -> str:
    return name.replace("_", " ").capitalize()


class PolicySettingsFormMixin(forms.Form):
    """Declared fields (the admin's fieldsets name them) mapped to and from the JSON."""

    # --- triggers (seeds 000 and 003)
    trigger_repeat_count = forms.IntegerField(
        label="Repeat: incidents", min_value=0, help_text="Same root cause or account, this many..."
    )
    trigger_repeat_window = HumanDurationField(label="...within")
    trigger_burst_count = forms.IntegerField(
        label="Burst: incidents",
        min_value=0,
        help_text="High-severity, one component...",
    )
    trigger_burst_window = HumanDurationField(label="...within")
    trigger_burst_severities = forms.MultipleChoiceField(
        label="Burst counts these severities",
        choices=SEVERITIES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    trigger_users_affected = forms.IntegerField(
        label="Users affected above", min_value=0, help_text="Counts as multiple users affected."
    )
    trigger_revenue_impact = forms.IntegerField(
        label="Revenue impact from ($)", min_value=0, help_text="Executive trigger."
    )
    trigger_csat_below = forms.IntegerField(
        label="CSAT below", min_value=0, max_value=6, help_text="Executive trigger (ratings 1-5)."
    )
    trigger_ping_pong_limit = forms.IntegerField(
        label="Ping-pong limit", min_value=0, help_text="Bounces before a manager review."
    )
    trigger_executive_route = forms.TypedChoiceField(label="Executive trigger goes to", coerce=int)
    trigger_route_compliance = forms.TypedChoiceField(
        label="Compliance escalates to", coerce=int, empty_value=NO_ROUTE, required=False
    )
    trigger_route_data_loss = forms.TypedChoiceField(
        label="Data loss escalates to", coerce=int, empty_value=NO_ROUTE, required=False
    )
    trigger_route_key_account_sla_violation = forms.TypedChoiceField(
        label="Key account's SLA violation escalates to",
        coerce=int,
        empty_value=NO_ROUTE,
        required=False,
    )
    trigger_route_legal_exposure = forms.TypedChoiceField(
        label="Legal exposure escalates to", coerce=int, empty_value=NO_ROUTE, required=False
    )
    trigger_route_pr_crisis = forms.TypedChoiceField(
        label="PR crisis escalates to", coerce=int, empty_value=NO_ROUTE, required=False
    )
    trigger_route_production_outage = forms.TypedChoiceField(
        label="Production outage escalates to", coerce=int, empty_value=NO_ROUTE, required=False
    )
    trigger_route_security = forms.TypedChoiceField(
        label="Security escalates to", coerce=int, empty_value=NO_ROUTE, required=False
    )
    trigger_route_sla_violation = forms.TypedChoiceField(
        label="SLA violation escalates to", coerce=int, empty_value=NO_ROUTE, required=False
    )
    trigger_route_users_affected = forms.TypedChoiceField(
        label="Users affected escalates to", coerce=int, empty_value=NO_ROUTE, required=False
    )
    trigger_notify_compliance = forms.CharField(
        label="Compliance: also notify",
        required=False,
        help_text=GROUPS_HELP,
    )
    trigger_notify_customer_facing = forms.CharField(
        label="Customer facing: also notify",
        required=False,
        help_text=GROUPS_HELP,
    )
    trigger_notify_legal_exposure = forms.CharField(
        label="Legal exposure: also notify", required=False, help_text=GROUPS_HELP
    )
    trigger_notify_security = forms.CharField(
        label="Security: also notify", required=False, help_text=GROUPS_HELP
    )
    # Seed 000 "Coordinate with legal if data breach": a security incident with data loss.
    trigger_notify_data_breach = forms.CharField(
        label="Data breach (security incident with data loss): also notify",
        required=False,
        help_text=GROUPS_HELP,
    )
    trigger_management_chain = forms.CharField(
        label="Manager requests go up",
        required=False,
        help_text="Group names, lowest rung first (e.g. Team Lead, Engineering Manager, "
        "Director, Executive): each request goes one rung higher. Empty: the executive route.",
    )

    # --- reviews (seed 004)
    review_required_severities = forms.MultipleChoiceField(
        label="Review required for",
        choices=SEVERITIES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    review_required_from_level = forms.TypedChoiceField(
        label="...or once escalated to", coerce=int, empty_value=None, required=False
    )
    review_required_when = forms.MultipleChoiceField(
        label="...or when the incident had",
        choices=[(flag, _humanize_name(flag)) for flag in REVIEW_FLAGS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    review_due_after = HumanDurationField(label="Review due after resolution")
    review_remind_before = HumanDurationField(label="Remind the owner before it is due")
    review_action_item_remind_before = HumanDurationField(
        label="Remind an action item's owner before its due date"
    )

    # --- war room (seed 004): status-update cadence per severity
    war_room_P0 = HumanDurationField(label="War room updates every (P0)", required=False)
    war_room_P1 = HumanDurationField(label="War room updates every (P1)", required=False)
    war_room_P2 = HumanDurationField(label="War room updates every (P2)", required=False)
    war_room_P3 = HumanDurationField(label="War room updates every (P3)", required=False)

    TRIGGER_FIELDS = [
        ("trigger_repeat_count", "trigger_repeat_window"),
        ("trigger_burst_count", "trigger_burst_window"),
        "trigger_burst_severities",
        ("trigger_users_affected", "trigger_revenue_impact", "trigger_csat_below"),
        ("trigger_ping_pong_limit", "trigger_executive_route"),
        *[f"trigger_route_{flag}" for flag in IMPACT_FLAGS],
        *[f"trigger_notify_{scenario}" for scenario in NOTIFY_SCENARIOS],
        "trigger_management_chain",
    ]
    REVIEW_FIELDS = [
        "review_required_severities",
        "review_required_from_level",
        "review_required_when",
        ("review_due_after", "review_remind_before"),
        "review_action_item_remind_before",
    ]
    WAR_ROOM_FIELDS = [("war_room_P0", "war_room_P1", "war_room_P2", "war_room_P3")]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        policy = getattr(self, "instance", None)
        numbers = (
            list(policy.levels.order_by("number").values_list("number", flat=True))
            if policy is not None and policy.pk
            else []
        )
        stored = self.settings_initial(policy) if policy is not None and policy.pk else {}

        def levels(name):
            # A stored level the policy does not have (yet) stays choosable, marked.
            chosen = stored.get(name)
            extra = [] if chosen in (None, "", NEXT_LEVEL, *numbers) else [chosen]
            return [(n, f"L{n}") for n in numbers] + [
                (n, f"L{n} (not a level of this policy)") for n in extra
            ]

        up = (NEXT_LEVEL, "One level up")
        if "trigger_executive_route" in self.fields:
            self.fields["trigger_executive_route"].choices = [
                up,
                *levels("trigger_executive_route"),
            ]
        for flag in IMPACT_FLAGS:
            name = f"trigger_route_{flag}"
            if name in self.fields:
                self.fields[name].choices = [(NO_ROUTE, "No escalation"), up, *levels(name)]
        if "review_required_from_level" in self.fields:
            self.fields["review_required_from_level"].choices = [
                (NEVER, "Never"),
                *levels("review_required_from_level"),
            ]
        self.initial.update(stored)

    @staticmethod
    def settings_initial(policy) -> dict:
        triggers, reviews, war_room = TriggerSettings(), ReviewSettings(), WarRoomSettings()
        # Stored values written around the form (an old database) that no longer
        # read are shown as the defaults, so the form still opens to mend them.
        with contextlib.suppress(ValidationError, TypeError, ValueError, KeyError):
            triggers = triggers_from_json(policy.triggers)
        with contextlib.suppress(ValidationError, TypeError, ValueError, KeyError):
            reviews = reviews_from_json(policy.reviews)
        with contextlib.suppress(ValidationError, TypeError, ValueError, KeyError):
            war_room = war_room_from_json(policy.war_room)
        routes = dict(triggers.impact_routes)
        groups = dict(triggers.notify_groups)
        cadence = dict(war_room.update_every)
        return {
            "trigger_repeat_count": triggers.repeat_count,
            "trigger_repeat_window": triggers.repeat_window,
            "trigger_burst_count": triggers.burst_count,
            "trigger_burst_window": triggers.burst_window,
            "trigger_burst_severities": list(triggers.burst_severities),
            "trigger_users_affected": triggers.users_affected,
            "trigger_revenue_impact": triggers.revenue_impact,
            "trigger_csat_below": triggers.csat_below,
            "trigger_ping_pong_limit": triggers.ping_pong_limit,
            "trigger_executive_route": triggers.executive_route,
            **{f"trigger_route_{flag}": routes.get(flag, NO_ROUTE) for flag in IMPACT_FLAGS},
            **{
                f"trigger_notify_{scenario}": ", ".join(groups.get(scenario, ()))
                for scenario in NOTIFY_SCENARIOS
            },
            "trigger_management_chain": ", ".join(triggers.management_chain),
            "review_required_severities": list(reviews.required_severities),
            "review_required_from_level": (
                NEVER if reviews.required_from_level is None else reviews.required_from_level
            ),
            "review_required_when": list(reviews.required_when),
            "review_due_after": reviews.due_after,
            "review_remind_before": reviews.remind_before,
            "review_action_item_remind_before": reviews.action_item_remind_before,
            **{f"war_room_{severity}": cadence.get(severity) for severity, _ in SEVERITIES},
        }

    def settings_json(self) -> dict[str, dict]:
        """The three JSON values from cleaned data (only called when every field is valid)."""
        data = self.cleaned_data
        routes = tuple(
            (flag, int(data[f"trigger_route_{flag}"]))
            for flag in IMPACT_FLAGS
            if data.get(f"trigger_route_{flag}") not in (None, NO_ROUTE)
        )
        groups = tuple(
            (scenario, tuple(g.strip() for g in data[f"trigger_notify_{scenario}"].split(",")))
            for scenario in NOTIFY_SCENARIOS
            if data.get(f"trigger_notify_{scenario}", "").strip()
        )
        triggers = TriggerSettings(
            repeat_count=data["trigger_repeat_count"],
            repeat_window=data["trigger_repeat_window"],
            burst_count=data["trigger_burst_count"],
            burst_window=data["trigger_burst_window"],
            burst_severities=tuple(data["trigger_burst_severities"]),
            users_affected=data["trigger_users_affected"],
            revenue_impact=data["trigger_revenue_impact"],
            csat_below=data["trigger_csat_below"],
            ping_pong_limit=data["trigger_ping_pong_limit"],
            impact_routes=routes,
            notify_groups=tuple((s, tuple(g for g in names if g)) for s, names in groups),
            executive_route=data["trigger_executive_route"],
            management_chain=tuple(
                g.strip() for g in data.get("trigger_management_chain", "").split(",") if g.strip()
            ),
        )
        reviews = ReviewSettings(
            required_severities=tuple(data["review_required_severities"]),
            required_from_level=data["review_required_from_level"],
            required_when=tuple(data["review_required_when"]),
            due_after=data["review_due_after"],
            remind_before=data["review_remind_before"],
            action_item_remind_before=data["review_action_item_remind_before"],
        )
        war_room = WarRoomSettings(
            update_every=tuple(
                (severity, data[f"war_room_{severity}"])
                for severity, _ in SEVERITIES
                if data.get(f"war_room_{severity}")
            )
        )
        return {
            "triggers": triggers_to_json(triggers),
            "reviews": reviews_to_json(reviews),
            "war_room": war_room_to_json(war_room),
        }

    def clean(self):
        cleaned = super().clean()
        names = [f for f in self.fields if f.startswith(("trigger_", "review_", "war_room_"))]
        if not names or any(name in self.errors for name in names):
            return cleaned
        values = self.settings_json()
        problems = trigger_problems(values["triggers"])
        if problems:
            raise ValidationError(problems)
        if not values["war_room"]["update_every"]:
            self.add_error("war_room_P0", "Give the war-room cadence of at least one severity.")
            return cleaned
        if getattr(self, "instance", None) is not None:
            for key, value in values.items():
                setattr(self.instance, key, value)
        return cleaned


def settings_summary(policy, prefix: str) -> str:
    """One group of settings as a person reads them (an active version's read-only page)."""
    initial = PolicySettingsFormMixin.settings_initial(policy)
    form = PolicySettingsFormMixin()
    rows = []
    for name, field in form.fields.items():
        if not name.startswith(prefix):
            continue
        value = initial.get(name)
        if isinstance(value, timedelta):
            value = duration_text(value)
        elif isinstance(value, list):
            value = ", ".join(value) or "none"
        elif name in ("trigger_executive_route",) or name.startswith("trigger_route_"):
            value = {NEXT_LEVEL: "one level up", NO_ROUTE: "no escalation"}.get(value, f"L{value}")
        elif name == "review_required_from_level":
            value = "never" if value == NEVER else f"L{value}"
        elif value in (None, ""):
            value = "-"
        rows.append((field.label, value))
    return format_html_join("\n", "<div>{}: <strong>{}</strong></div>", rows)
