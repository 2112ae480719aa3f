from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from incidents.models import SEVERITY_CHOICES

from . import policies
from .calendars import calendar_save, canonical_spec
from .clocks import IncidentFacts, compute_clocks
from .models import (
    Calendar,
    Escalation,
    Level,
    Policy,
    PolicyStatus,
    SeverityOverride,
    SlaTarget,
    Threshold,
    ThresholdFiring,
    TriggerFiring,
)


class CalendarForm(forms.ModelForm):
    country = forms.CharField(
        label=_("Add public holidays of country"),
        required=False,
        max_length=2,
        help_text=_("ISO code, e.g. DE or US (from the holidays package)."),
    )
    subdivision = forms.CharField(
        label=_("Subdivision"),
        required=False,
        max_length=10,
        help_text=_("e.g. BY or CA; optional."),
    )
    years = forms.CharField(
        label=_("Years"),
        required=False,
        help_text=_("e.g. 2026, 2027 (for holidays and yearly .ics events)."),
    )
    ics = forms.FileField(label=_("Add holidays from an .ics file"), required=False)

    class Meta:
        model = Calendar
        fields = ["name", "description", "spec"]
        widgets = {
            "spec": forms.Textarea(
                attrs={"rows": 14, "cols": 80, "style": "font-family: monospace"}
            )
        }

    def clean_spec(self):
        try:
            return canonical_spec(self.cleaned_data["spec"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["spec"]) from None

    def clean_years(self):
        text = self.cleaned_data.get("years") or ""
        try:
            years = [int(part) for part in text.replace(",", " ").split()]
        except ValueError:
            raise ValidationError(_("Write years as numbers, e.g. 2026, 2027.")) from None
        if any(year < 1900 or year > 2200 for year in years):
            raise ValidationError(_("Years must be between 1900 and 2200."))
        return years

    def clean(self):
        data = super().clean()
        if data.get("country") and not data.get("years"):
            self.add_error("years", _("Say which years to take the holidays for."))
        return data


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    form = CalendarForm
    list_display = ["name", "zone", "updated_at"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "description", "spec"]}),
        (_("Holidays"), {"fields": ["country", "subdivision", "years", "ics"]}),
    ]

    @admin.display(description=_("time zone"))
    def zone(self, obj):
        return obj.spec.get("timezone", "")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        upload = data.get("ics")
        try:
            calendar_save(
                calendar=obj,
                spec=data["spec"],
                country=data.get("country", ""),
                subdivision=data.get("subdivision", ""),
                years=data.get("years", []),
                ics=upload.read() if upload else None,
            )
        except ValidationError as error:
            # Shown after the redirect; the spec itself was valid (checked by the form).
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            obj.save()


class DraftOnlyInline:
    """Rows of a policy version can change only while it is a draft."""

    extra = 0

    def has_add_permission(self, request, obj=None):
        return obj is not None and obj.is_editable and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return False
        return super().has_delete_permission(request, obj)


class LevelInline(DraftOnlyInline, admin.StackedInline):
    model = Level
    fields = [
        ("number", "name", "team"),
        "description",
        ("first_response", "resolution", "update_interval", "calendar"),
        "handoff_fields",
        "capabilities",
        "escalation_criteria",
        "contacts",
    ]


class SlaTargetInline(DraftOnlyInline, admin.TabularInline):
    model = SlaTarget
    fields = ["severity", "level", "first_response", "resolution", "update_interval", "calendar"]


class ThresholdInline(DraftOnlyInline, admin.TabularInline):
    model = Threshold
    fields = ["percent", "action", "clocks"]


class SeverityOverrideInline(DraftOnlyInline, admin.TabularInline):
    model = SeverityOverride
    fields = ["severity", "route_to", "notification", "description"]


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "version",
        "status",
        "is_default",
        "priority",
        "clock_start",
        "open_incidents",
        "activated_at",
    ]
    list_filter = ["status", "is_default"]
    search_fields = ["name", "description"]
    inlines = [LevelInline, SlaTargetInline, ThresholdInline, SeverityOverrideInline]
    filter_horizontal = ["match_channels", "match_components"]
    actions = ["activate", "make_default", "new_version", "move_open_incidents"]
    readonly_fields = [
        "name",
        "version",
        "status",
        "is_default",
        "source",
        "created_at",
        "created_by",
        "activated_at",
        "export_link",
    ]
    fieldsets = [
        (
            None,
            {"fields": ["name", "version", "status", "is_default", "description", "export_link"]},
        ),
        (
            _("Clocks"),
            {"fields": ["clock_start", "default_calendar", "calendars", "pause_statuses"]},
        ),
        (
            _("Which incidents"),
            {"fields": ["priority", "match_channels", "match_components", "match_account_tiers"]},
        ),
        (_("Triggers"), {"fields": ["triggers"]}),
        (_("Reviews and war rooms"), {"fields": ["reviews", "war_room"]}),
        (_("History"), {"fields": ["source", "created_at", "created_by", "activated_at"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_count=Count(
                    "incidents", filter=~Q(incidents__status__in=["resolved", "closed"])
                )
            )
        )

    @admin.display(description=_("open incidents"), ordering="open_count")
    def open_incidents(self, obj):
        return obj.open_count

    @admin.display(description=_("YAML"))
    def export_link(self, obj):
        if obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:escalations_policy_export", args=[obj.pk]),
            _("Download as workflow YAML"),
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return [field.name for field in Policy._meta.fields] + [
                "match_channels",
                "match_components",
                "export_link",
            ]
        return self.readonly_fields

    def has_add_permission(self, request):
        return False  # new policies come from workflow YAML or as a new version

    def has_delete_permission(self, request, obj=None):
        return obj is not None and obj.is_editable and not obj.incidents.exists()

    def save_model(self, request, obj, form, change):
        if not obj.is_editable:
            raise ValidationError("Active and retired versions never change.")
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if not form.instance.is_editable:
            raise ValidationError("Active and retired versions never change.")
        super().save_related(request, form, formsets, change)
        # Rows changed: bump the version's timestamp so cached specs refresh.
        Policy.objects.filter(pk=form.instance.pk).update(updated_at=timezone.now())

    def get_urls(self):
        return [
            path(
                "sla-preview/",
                self.admin_site.admin_view(self.sla_preview),
                name="escalations_policy_sla_preview",
            ),
            path(
                "<int:pk>/export/",
                self.admin_site.admin_view(self.export_yaml),
                name="escalations_policy_export",
            ),
            *super().get_urls(),
        ]

    def export_yaml(self, request, pk):
        from .workflow_yaml import dump_workflow

        policy = get_object_or_404(Policy, pk=pk)
        if not self.has_view_permission(request, policy):
            return HttpResponse(status=403)
        response = HttpResponse(
            dump_workflow(policies.policy_spec(policy)),
            content_type="application/yaml; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{policy.name}-v{policy.version}.yaml"'
        )
        return response

    def sla_preview(self, request):
        form = SlaPreviewForm(request.GET or None)
        readings = None
        if form.is_valid():
            data = form.cleaned_data
            policy = data["policy"]
            spec = policies.policy_spec(policy)
            facts = IncidentFacts(
                opened_at=data["start"],
                severity=data["severity"],
                level=data["level"],
                level_entered_at=data["start"],
                statuses=((data["start"], "new"),),
            )
            readings = compute_clocks(facts, spec, now=data["start"])
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "readings": readings,
            "title": _("SLA preview"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/escalations/sla_preview.html", context)

    def _each(self, request, queryset, call, done):
        count = 0
        for policy in queryset:
            try:
                call(policy)
                count += 1
            except ValidationError as error:
                self.message_user(request, f"{policy}: {' '.join(error.messages)}", messages.ERROR)
        if count:
            self.message_user(request, done.format(count=count), messages.SUCCESS)

    @admin.action(description=_("Activate (the previous version retires)"), permissions=["change"])
    def activate(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda p: policies.policy_activate(policy=p, actor=request.user),
            "Activated {count} version(s).",
        )

    @admin.action(description=_("Make the default policy"), permissions=["change"])
    def make_default(self, request, queryset):
        self._each(
            request,
            queryset[:1],
            lambda p: policies.policy_set_default(policy=p, actor=request.user),
            "Default policy set.",
        )

    @admin.action(description=_("Edit: create a new draft version"), permissions=["change"])
    def new_version(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda p: policies.policy_fork(policy=p, actor=request.user),
            "Created {count} draft version(s); edit and activate them.",
        )

    @admin.action(
        description=_("Move open incidents of older versions to this version"),
        permissions=["change"],
    )
    def move_open_incidents(self, request, queryset):
        for policy in queryset:
            try:
                moved = policies.policy_move_open_incidents(policy=policy, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{policy}: {' '.join(error.messages)}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"Moved {moved} open incident(s) to {policy}; each timeline records the move.",
                messages.SUCCESS,
            )


class SlaPreviewForm(forms.Form):
    policy = forms.ModelChoiceField(
        queryset=Policy.objects.filter(status__in=[PolicyStatus.ACTIVE, PolicyStatus.DRAFT])
    )
    severity = forms.ChoiceField(choices=SEVERITY_CHOICES)
    level = forms.IntegerField(min_value=0)
    start = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("In your time zone."),
    )

    def clean(self):
        data = super().clean()
        policy, level = data.get("policy"), data.get("level")
        if policy is not None and level is not None:
            numbers = list(policy.levels.values_list("number", flat=True))
            if level not in numbers:
                self.add_error(
                    "level",
                    _("This policy has levels %(levels)s.")
                    % {"levels": ", ".join(f"{n}" for n in numbers)},
                )
        start = data.get("start")
        if isinstance(start, datetime) and timezone.is_naive(start):
            data["start"] = timezone.make_aware(start)
        return data


@admin.register(ThresholdFiring)
class ThresholdFiringAdmin(admin.ModelAdmin):
    list_display = ["incident", "clock", "level", "percent", "action", "due_at", "fired_at"]
    list_filter = ["clock", "action", "percent"]
    search_fields = ["incident__reference"]
    list_select_related = ["incident"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        from incidents.selectors import incidents_visible_to

        return super().get_queryset(request).filter(incident__in=incidents_visible_to(request.user))


class _ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DecisionActionForm(forms.Form):
    decision = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


@admin.register(Escalation)
class EscalationAdmin(_ReadOnly, admin.ModelAdmin):
    """Append-only records; acknowledgement and decisions go through actions."""

    list_display = [
        "incident",
        "from_level",
        "to_level",
        "trigger",
        "category",
        "actor",
        "at",
        "acknowledged_at",
        "decision_at",
        "de_escalated_at",
    ]
    list_filter = ["trigger", "category", "to_level"]
    search_fields = ["incident__reference", "reason"]
    list_select_related = ["incident", "actor"]
    date_hierarchy = "at"
    show_full_result_count = False
    actions = ["acknowledge", "decide"]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("escalations.view_escalation")

    def get_queryset(self, request):
        from incidents.selectors import incidents_visible_to

        return super().get_queryset(request).filter(incident__in=incidents_visible_to(request.user))

    @admin.action(description=_("Acknowledge the handoff"))
    def acknowledge(self, request, queryset):
        from . import engine

        done = 0
        for escalation in queryset.select_related("incident"):
            try:
                engine.handoff_acknowledge(incident=escalation.incident, actor=request.user)
                done += 1
            except ValidationError as error:
                self.message_user(
                    request, f"{escalation.incident}: {' '.join(error.messages)}", messages.WARNING
                )
        if done:
            self.message_user(request, f"Acknowledged {done} handoff(s).", messages.SUCCESS)

    @admin.action(description=_("Record the decision"))
    def decide(self, request, queryset):
        from . import engine

        if not request.user.has_perm("escalations.record_decision"):
            self.message_user(request, "You may not record decisions.", messages.ERROR)
            return None
        form = DecisionActionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for escalation in queryset:
                try:
                    engine.escalation_record_decision(
                        escalation=escalation,
                        actor=request.user,
                        decision=form.cleaned_data["decision"],
                    )
                except ValidationError as error:
                    self.message_user(
                        request, f"{escalation}: {' '.join(error.messages)}", messages.WARNING
                    )
            return None
        return TemplateResponse(
            request,
            "admin/escalations/action_form.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Record the decision"),
                "form": form,
                "queryset": queryset,
                "action": "decide",
                "opts": self.model._meta,
            },
        )


@admin.register(TriggerFiring)
class TriggerFiringAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["incident", "trigger", "key", "fired_at", "escalation"]
    list_filter = ["trigger"]
    search_fields = ["incident__reference", "key"]
    list_select_related = ["incident", "escalation"]

    def get_queryset(self, request):
        from incidents.selectors import incidents_visible_to

        return super().get_queryset(request).filter(incident__in=incidents_visible_to(request.user))
