"""On-call schedules in the admin: layers edited as YAML or JSON text, overrides added and
removed one by one. Every save goes through escalations.schedules.services, and the admin
offers add, change and delete only where the service's rule would allow them."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from escalations.admin.site import SavedByServices
from escalations.models import OnCallOverride, OnCallSchedule
from escalations.schedules import services
from escalations.schedules.selectors import COVERAGE_DAYS, coverage_gaps, who_is_on_call
from incidents.permissions import admin_check

SPEC_HELP = _(
    "YAML or JSON: the schedule's time zone and its layers, bottom first (a later layer wins "
    "where it has someone). Each layer: people (usernames, in turn order), recurrence (daily, "
    "weekly or an RRULE), interval, start (date of the first handoff), handoff (local time), "
    "optional restrictions. Overrides are added separately."
)
SPEC_EXAMPLE = """timezone: Europe/Berlin
layers:
- name: primary
  people: [ana, ben]
  recurrence: weekly
  start: '2026-01-05'
  handoff: '09:00'
"""


class ScheduleForm(forms.ModelForm):
    spec_text = forms.CharField(
        label=_("Layers"),
        help_text=SPEC_HELP,
        initial=SPEC_EXAMPLE,
        widget=forms.Textarea(attrs={"rows": 18, "cols": 80, "style": "font-family: monospace"}),
    )

    class Meta:
        model = OnCallSchedule
        fields = ["name", "team", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["spec_text"].initial = services.spec_text(self.instance.spec)

    def validate_unique(self):
        pass  # the service's name check (case-insensitive) speaks instead, in clean()

    def clean_spec_text(self):
        """Parsed and checked as the service will, so the problem shows beside the field
        with its path (``layers[0].handoff: ...``)."""
        try:
            return services.check_spec(services.parse_spec_text(self.cleaned_data["spec_text"]))
        except ValidationError as error:
            raise ValidationError(error.message_dict["spec"]) from None

    def clean(self):
        data = super().clean()
        name = data.get("name")
        if name:
            try:
                services.check_name(name, exclude=self.instance.pk)
            except ValidationError as error:
                self.add_error("name", error.message_dict["name"])
        return data


@admin.register(OnCallSchedule)
class OnCallScheduleAdmin(SavedByServices, admin.ModelAdmin):
    form = ScheduleForm
    list_display = ["name", "team", "time_zone", "on_call_now", "gaps_ahead", "updated_at"]
    list_select_related = ["team"]
    search_fields = ["name", "description"]
    fields = ["name", "team", "description", "spec_text", "on_call_now", "gaps_ahead"]
    readonly_fields = ["on_call_now", "gaps_ahead"]

    has_add_permission = admin_check("schedule.create")
    has_change_permission = admin_check("schedule.update")

    def has_delete_permission(self, request, obj=None):
        return False  # no service deletes a schedule yet (levels will name them)

    @admin.display(description=_("on call now"))
    def on_call_now(self, obj):
        if not obj.pk:
            return "-"
        now = who_is_on_call(obj, timezone.now())
        if now.current is None:
            return _("nobody")
        who = now.current.person
        name = now.name(who)
        label = f"{name} ({who})" if name != who else who
        return f"{label}, {_('override') if now.source == 'override' else now.layer_name}"

    @admin.display(description=_("gaps, next %(days)d days") % {"days": COVERAGE_DAYS})
    def gaps_ahead(self, obj):
        if not obj.pk:
            return "-"
        return len(coverage_gaps(obj, now=timezone.now()))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "spec": data["spec_text"],
            "team": data.get("team"),
            "description": data.get("description", ""),
        }
        if change:
            saved = services.schedule_update(actor=request.user, schedule=obj, **fields)
        else:
            saved = services.schedule_create(actor=request.user, **fields)
        # The admin's redirect and log entry need the saved row.
        obj.pk, obj.updated_at, obj.created_at = saved.pk, saved.updated_at, saved.created_at


class OverrideForm(forms.ModelForm):
    class Meta:
        model = OnCallOverride
        fields = ["schedule", "person", "start", "end", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "person" in self.fields:
            self.fields["person"].queryset = get_user_model().objects.filter(is_active=True)

    def clean(self):
        data = super().clean()
        if "start" in data and "end" in data:
            try:
                services.check_override(
                    person=data.get("person"), start=data["start"], end=data["end"]
                )
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    self.add_error(field, messages)
        return data

    def validate_constraints(self, exclude=None):
        pass  # check_override says it in words, beside the end field


@admin.register(OnCallOverride)
class OnCallOverrideAdmin(SavedByServices, admin.ModelAdmin):
    """Overrides are added and removed, never edited: who made one and why stays true."""

    form = OverrideForm
    list_display = ["schedule", "who", "start", "end", "reason", "created_by", "created_at"]
    list_filter = ["schedule"]
    list_select_related = ["schedule", "person", "created_by"]
    date_hierarchy = "start"
    readonly_fields = ["created_by", "created_at"]

    has_add_permission = admin_check("schedule.add_override")
    has_delete_permission = admin_check("schedule.remove_override")

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("person"), ordering="person__username")
    def who(self, obj):
        return obj.person.get_username() if obj.person_id else _("nobody (gap)")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.override_add(
            actor=request.user,
            schedule=data["schedule"],
            person=data.get("person"),
            start=data["start"],
            end=data["end"],
            reason=data.get("reason", ""),
        )
        obj.pk, obj.created_at, obj.created_by = saved.pk, saved.created_at, saved.created_by

    def delete_model(self, request, obj):
        services.override_remove(actor=request.user, override=obj)

    def delete_queryset(self, request, queryset):
        for override in queryset.select_related("schedule"):
            services.override_remove(actor=request.user, override=override)
