"""The filters shared by the review queues, the metrics page and the simulation:
policy, level, severity, channel, component, account tier, assignee (and dates)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils import timezone

from escalations.models import Level, Policy
from incidents.models import AccountTier, Channel, Component
from incidents.rules import Severity


class ReviewFilterForm(forms.Form):
    """Always valid when unbound; bad values show beside their field."""

    policy = forms.ChoiceField(label="Policy", required=False)
    level = forms.TypedChoiceField(label="Level", required=False, coerce=int, empty_value=None)
    severity = forms.ChoiceField(
        label="Severity",
        required=False,
        choices=[("", "Any severity"), *[(s.value, s.label) for s in Severity]],
    )
    channel = forms.ModelChoiceField(
        label="Channel", required=False, queryset=Channel.objects.all(), empty_label="Any channel"
    )
    component = forms.ModelChoiceField(
        label="Component",
        required=False,
        queryset=Component.objects.all(),
        empty_label="Any component",
    )
    tier = forms.ChoiceField(
        label="Account tier",
        required=False,
        choices=[("", "Any tier"), *AccountTier.choices],
    )
    assignee = forms.ModelChoiceField(
        label="Assignee",
        required=False,
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        empty_label="Anyone",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = Policy.objects.order_by("name").values_list("name", flat=True).distinct()
        self.fields["policy"].choices = [("", "Any policy"), *[(n, n) for n in names]]
        numbers = Level.objects.order_by("number").values_list("number", flat=True).distinct()
        self.fields["level"].choices = [("", "Any level"), *[(n, f"L{n}") for n in numbers]]

    def filters(self) -> dict:
        """Cleaned filter values that are set; {} when the form is invalid."""
        if not self.is_bound:
            return {}
        if not self.is_valid():
            return {}
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in FILTER_PATHS and value not in (None, "")
        }

    def active(self) -> bool:
        return bool(self.filters())


# filter name -> path from an incident
FILTER_PATHS = {
    "policy": "policy__name",
    "level": "current_level",
    "severity": "severity",
    "channel": "channel",
    "component": "component",
    "tier": "account__tier",
    "assignee": "assignee",
}


def incident_filter_q(filters: dict, prefix: str = "") -> Q:
    """The chosen filters as a Q over incidents reached through `prefix`."""
    q = Q()
    for name, value in filters.items():
        q &= Q(**{f"{prefix}{FILTER_PATHS[name]}": value})
    return q


# Day arithmetic (the period before, the day after the end) must stay inside the
# calendar datetime can hold: years 1 and 9999 would fail with an OverflowError.
DATE_RANGE = [
    MinValueValidator(date(1970, 1, 1), message="Pick a date from 1970 on."),
    MaxValueValidator(date(2999, 12, 31), message="Pick a date before the year 3000."),
]


class MetricsFilterForm(ReviewFilterForm):
    """The review filters plus a date range (incidents opened from..to, inclusive days)."""

    start = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=DATE_RANGE,
    )
    end = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=DATE_RANGE,
    )

    field_order = ["start", "end"]
    MAX_DAYS = 731

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", "The end must not be before the start.")
        elif start and end and (end - start).days > self.MAX_DAYS:
            self.add_error("end", f"Pick at most {self.MAX_DAYS} days.")
        return data

    def period(self, *, today: date, default_days: int = 90) -> tuple[date, date]:
        """(first day, last day), both included; the last `default_days` by default."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=default_days - 1)
        return start, end


def day_bounds(start: date, end: date, tz=None) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in `tz` (the current time zone by default)."""
    tz = tz or timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


class SimulationForm(MetricsFilterForm):
    """A draft policy version and the incidents to replay against it."""

    draft = forms.ModelChoiceField(
        label="Draft policy version",
        queryset=Policy.objects.filter(status="draft").order_by("name", "-version"),
        empty_label="Pick a draft",
    )
    same_name = forms.BooleanField(
        label="Only incidents of this policy's name",
        required=False,
        initial=True,
        help_text="Off: every incident opened in the range.",
    )

    field_order = ["draft", "start", "end", "same_name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["policy"]  # the draft is the policy here
