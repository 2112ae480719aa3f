"""On-call schedules in the admin: layers edited as YAML or JSON text, or imported from an
iCal feed ("Import iCal": a file or an address; an imported schedule's layers are then
read-only here), overrides added and removed one by one. Every save goes through
escalations.schedules.services, and the admin offers add, change, import and delete only
where the service's rule would allow them."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from escalations.admin.site import SavedByServices
from escalations.models import OnCallOverride, OnCallOverrideRequest, OnCallSchedule
from escalations.schedules import ical, services
from escalations.schedules.selectors import COVERAGE_DAYS, coverage_gaps, who_is_on_call
from incidents.permissions import admin_check
from incidents.views import attach_errors

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
        if self.instance.pk and self.instance.is_imported:
            del self.fields["spec_text"]  # read-only: only an import changes the layers
        elif self.instance.pk:
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


class IcalImportForm(forms.Form):
    """Import an iCal feed into a new schedule (a name) or again into an imported one."""

    schedule = forms.ModelChoiceField(
        label=_("Import again into"),
        queryset=OnCallSchedule.objects.filter(source=OnCallSchedule.Source.ICAL),
        required=False,
        help_text=_("An imported schedule; its shifts are replaced. Leave empty for a new one."),
    )
    name = forms.CharField(label=_("New schedule's name"), max_length=120, required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Group.objects.all(), required=False)
    ics = forms.FileField(
        label=_("iCal file (.ics)"),
        required=False,
        help_text=_("Exported from Grafana OnCall, PagerDuty or any calendar."),
    )
    url = forms.CharField(
        label=_("or the feed's address"),
        max_length=2000,
        required=False,
        widget=forms.URLInput(attrs={"size": 80, "placeholder": "https://"}),
        help_text=_(
            "Read now, then again every few hours. Importing again into a schedule that has "
            "an address reads it again when neither is given."
        ),
    )

    def clean_ics(self):
        upload = self.cleaned_data.get("ics")
        if upload and upload.size > ical.MAX_FEED_BYTES:
            raise ValidationError(f"The file is larger than {ical.MAX_FEED_BYTES // 1024} KiB.")
        return upload

    def clean(self):
        data = super().clean()
        schedule = data.get("schedule")
        if schedule is not None and not data.get("ics") and not data.get("url"):
            data["url"] = schedule.source_url  # "Import again" from the stored address
        if bool(data.get("ics")) == bool(data.get("url")):
            raise ValidationError(_("Give either an .ics file or the address of a feed."))
        if not data.get("schedule") and not (data.get("name") or "").strip():
            self.add_error("name", _("Name the new schedule, or choose one to import again."))
        return data

    def import_feed(self, *, actor) -> services.ImportResult:
        data = self.cleaned_data
        upload = data.get("ics")
        text = upload.read(ical.MAX_FEED_BYTES + 1) if upload else None
        return services.schedule_import_ical(
            actor=actor,
            schedule=data.get("schedule"),
            name=data.get("name") or "",
            team=data.get("team"),
            text=text,
            url=(data.get("url") or "").strip(),
        )


@admin.register(OnCallSchedule)
class OnCallScheduleAdmin(SavedByServices, admin.ModelAdmin):
    form = ScheduleForm
    change_list_template = "admin/escalations/oncallschedule_change_list.html"
    list_display = [
        "name",
        "team",
        "time_zone",
        "source",
        "on_call_now",
        "gaps_ahead",
        "updated_at",
    ]
    list_filter = ["source"]
    list_select_related = ["team"]
    search_fields = ["name", "description"]
    fields = ["name", "team", "description", "spec_text", "on_call_now", "gaps_ahead"]
    readonly_fields = ["on_call_now", "gaps_ahead"]
    imported_fields = [
        "name",
        "team",
        "description",
        "feed",
        "imported_at",
        "problems",
        "import_error",
        "shifts_ahead",
        "on_call_now",
        "gaps_ahead",
    ]

    has_add_permission = admin_check("schedule.create")
    has_change_permission = admin_check("schedule.update")
    has_import_permission = admin_check("schedule.import_ical")

    def get_fields(self, request, obj=None):
        return self.imported_fields if obj is not None and obj.is_imported else self.fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_imported:
            extra = ["feed", "imported_at", "problems", "import_error", "shifts_ahead"]
            return [*self.readonly_fields, *extra]
        return self.readonly_fields

    @admin.display(description=_("imported from"))
    def feed(self, obj):
        url = reverse("admin:escalations_oncallschedule_import_ical") + f"?schedule={obj.pk}"
        where = obj.source_url or _("an uploaded file (not refreshed)")
        return format_html('{} &nbsp; <a href="{}">{}</a>', where, url, _("Import again"))

    @admin.display(description=_("problems of the last import"))
    def problems(self, obj):
        if not obj.import_problems:
            return _("none")
        return format_html(
            '<ul class="import-problems">{}</ul>',
            format_html_join("", "<li>{}</li>", ((text,) for text in obj.import_problems)),
        )

    @admin.display(description=_("shifts, next 7 days"))
    def shifts_ahead(self, obj):
        from escalations.rules.oncall import final_shifts
        from escalations.schedules.selectors import schedule_core

        now = timezone.now().replace(microsecond=0)
        shifts = final_shifts(schedule_core(obj), now, now + timedelta(days=7))
        if not shifts:
            return _("nobody")
        zone = ZoneInfo(obj.time_zone or "UTC")
        return format_html(
            '<ul>{}</ul><div class="help">{}</div>',
            format_html_join(
                "",
                "<li>{} to {}: {}</li>",
                (
                    (
                        f"{s.start.astimezone(zone):%a %d %b %H:%M}",
                        f"{s.end.astimezone(zone):%a %d %b %H:%M}",
                        s.person,
                    )
                    for s in shifts
                ),
            ),
            _("Times in %(zone)s.") % {"zone": zone.key},
        )

    def get_urls(self):
        return [
            path(
                "import-ical/",
                self.admin_site.admin_view(self.import_ical),
                name="escalations_oncallschedule_import_ical",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_import": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def import_ical(self, request):
        """The "Import iCal" page: a file or an address, into a new or an imported schedule."""
        if not self.has_import_permission(request):
            raise PermissionDenied("You may not import schedules.")
        if request.method == "POST":
            form = IcalImportForm(request.POST, request.FILES)
        else:
            form = IcalImportForm(initial={"schedule": request.GET.get("schedule")})
        if request.method == "POST" and form.is_valid():
            try:
                result = form.import_feed(actor=request.user)
            except ValidationError as error:
                attach_errors(form, error)
            else:
                schedule = result.schedule
                self.message_user(
                    request,
                    f"Imported {result.shifts} shifts into {schedule.name}"
                    + ("." if result.changed else " (no change since the last import)."),
                    messages.SUCCESS,
                )
                for problem in result.problems:
                    self.message_user(request, problem, messages.WARNING)
                return redirect("admin:escalations_oncallschedule_change", schedule.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Import an iCal feed as a schedule"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/escalations/oncallschedule_import.html", context)

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
            "spec": data.get("spec_text"),  # absent for an imported schedule: unchanged
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


@admin.register(OnCallOverrideRequest)
class OnCallOverrideRequestAdmin(admin.ModelAdmin):
    """People's cover requests and swaps, for those who keep the schedules to see who asked
    whom and what came of it. Read-only: asking, accepting, declining and cancelling are the
    people's own (the *Cover requests* page, through the services), never a manager's edit."""

    list_display = [
        "schedule",
        "from_person",
        "to_person",
        "start",
        "end",
        "is_swap",
        "status",
        "created_at",
        "answered_at",
    ]
    list_filter = ["status", "schedule"]
    list_select_related = ["schedule", "from_person", "to_person"]
    search_fields = [
        "from_person__username",
        "from_person__last_name",
        "to_person__username",
        "to_person__last_name",
        "reason",
    ]
    date_hierarchy = "start"
    readonly_fields = [field.name for field in OnCallOverrideRequest._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("swap"), boolean=True)
    def is_swap(self, obj):
        return obj.swap_start is not None
