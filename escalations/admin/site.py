from datetime import datetime, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models as db_models
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from escalations.engine import policy_moves
from escalations.engine import services as engine
from escalations.followup.people import check_due_date, check_person
from escalations.followup.regulatory import regulatory_report_file
from escalations.followup.reviews import (
    action_item_close,
    action_item_update,
    review_publish,
    review_submit,
    review_update,
)
from escalations.followup.vendors import vendor_case_close
from escalations.followup.war_room import war_room_close
from escalations.models import (
    OPEN_ITEM_STATUSES,
    OPEN_VENDOR_STATUSES,
    ActionItem,
    Calendar,
    Escalation,
    Level,
    Page,
    Policy,
    PolicyStatus,
    PostIncidentReview,
    RegulatoryReport,
    ReviewStatus,
    SeverityOverride,
    SimilarIncident,
    SlaTarget,
    Threshold,
    ThresholdFiring,
    TriggerFiring,
    VendorCase,
    WarRoom,
    WarRoomAssignment,
    WarRoomHandover,
)
from escalations.policies import calendars, reach
from escalations.policies import services as policies
from escalations.policies.settings_fields import (
    HumanDurationField,
    PolicySettingsFormMixin,
    settings_summary,
)
from escalations.policies.upload import WorkflowUploadForm
from escalations.policies.workflow_yaml import dump_workflow
from escalations.rules.business_time import BusinessCalendar
from escalations.rules.clocks import IncidentFacts, compute_clocks
from escalations.rules.durations import humanize
from escalations.rules.followup import spoken_duration
from escalations.rules.spec import LevelSpec, WorkflowSpec, escalate_after_problems
from escalations.sla.services import incident_clocks
from escalations.web.forms import DeEscalateForm, EscalateForm
from escalations.web.panels import action_item_metrics_for
from incidents.admin import IncidentAdmin, run_each
from incidents.models import SEVERITY_CHOICES, Incident
from incidents.permissions import Refusal, admin_check
from incidents.rules import Status as IncidentStatus
from incidents.selectors import incidents_visible_to, visibility_q
from incidents.views import attach_errors
from portal.forms import JSONField


def _visible(request, queryset):
    """Rows of the incidents the user may see (security ones: limited distribution)."""

    return queryset.filter(incident__in=incidents_visible_to(request.user))


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
        field_classes = {"spec": JSONField}
        widgets = {
            "spec": forms.Textarea(
                attrs={"rows": 14, "cols": 80, "style": "font-family: monospace"}
            )
        }

    def clean_spec(self):
        try:
            return calendars.canonical_spec(self.cleaned_data["spec"])
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
        """What `calendars.calendar_save` would refuse, beside the field it names."""
        data = super().clean()
        if "years" not in data:
            return data  # the years' own error says what to fix first
        upload = data.get("ics")
        try:
            holidays = calendars.calendar_holidays(
                country=data.get("country", ""),
                subdivision=data.get("subdivision", ""),
                years=data["years"],
                ics=upload.read() if upload else None,
            )
            if "spec" in data:
                calendars.calendar_spec(spec=data["spec"], holidays=holidays)
        except ValidationError as error:
            self.add_error(None, error)
        finally:
            if upload:
                upload.seek(0)
        return data


class SavedByServices:
    """A model admin whose saves call services (its `save_model`, `save_related`).

    Its form runs the services' own checks, so what they refuse is shown beside the
    fields and nothing is saved. Should a service refuse when saving all the same (a
    change in between, a rule), `changeform_view`'s transaction has rolled the whole
    save back: the page says why, never Django's "was changed successfully".
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, Refusal) as error:
            if request.method != "POST":
                raise
            said = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            self.message_user(request, _("Nothing was saved: %s") % said, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(Calendar)
class CalendarAdmin(SavedByServices, admin.ModelAdmin):
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
        calendars.calendar_save(
            calendar=obj,
            actor=request.user,
            name=data["name"],
            description=data.get("description", ""),
            spec=data["spec"],
            country=data.get("country", ""),
            subdivision=data.get("subdivision", ""),
            years=data.get("years", []),
            ics=upload.read() if upload else None,
        )


class DraftOnlyInline:
    """Rows of a policy version can change only while it is a draft."""

    extra = 0
    # SLA targets typed and shown like the workflow YAML: 4h, 30m, 2d.
    formfield_overrides = {db_models.DurationField: {"form_class": HumanDurationField}}

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


class LevelFormSet(forms.BaseInlineFormSet):
    """A level's time limit (escalate_after) checked as activation and the YAML loader
    check it (escalate_after_problems): at least 1m, and never on the top level. The error
    shows beside the field of the level it is about."""

    def clean(self):
        super().clean()
        forms_by_number, levels = {}, []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("number") is None:
                continue
            forms_by_number[data["number"]] = form
            levels.append(
                LevelSpec(
                    number=data["number"],
                    name=data.get("name") or "",
                    escalate_after=data.get("escalate_after"),
                )
            )
        for number, problem in escalate_after_problems(WorkflowSpec(levels=tuple(levels))):
            form = forms_by_number[number]
            if "escalate_after" in form.cleaned_data:
                form.add_error("escalate_after", f"{problem}.")


class LevelInline(DraftOnlyInline, admin.StackedInline):
    model = Level
    formset = LevelFormSet
    fields = [
        ("number", "name", "team"),
        ("schedule", "page_after"),
        "escalate_after",
        "description",
        ("first_response", "resolution", "update_interval", "calendar"),
        ("first_response_max", "resolution_max"),
        "handoff_fields",
        "capabilities",
        "escalation_criteria",
        "deescalation_criteria",
        "contacts",
    ]


class SlaTargetInline(DraftOnlyInline, admin.TabularInline):
    model = SlaTarget
    fields = [
        "severity",
        "level",
        "first_response",
        "first_response_max",
        "resolution",
        "resolution_max",
        "update_interval",
        "calendar",
    ]


class ThresholdInline(DraftOnlyInline, admin.TabularInline):
    model = Threshold
    fields = ["percent", "action", "clocks", "to_level"]


class SeverityOverrideInline(DraftOnlyInline, admin.TabularInline):
    model = SeverityOverride
    fields = ["severity", "route_to", "notification", "description"]


class PolicyForm(PolicySettingsFormMixin, forms.ModelForm):
    """A draft's settings are checked here, so a typo is an error beside the
    field, never a broken version. Trigger, review and war-room settings are
    fields of their own (escalations.policies.settings_fields), durations like 48h."""

    class Meta:
        model = Policy
        fields = [
            "description",
            "clock_start",
            "default_calendar",
            "calendars",
            "pause_statuses",
            "priority",
            "match_channels",
            "match_components",
            "match_account_tiers",
        ]
        field_classes = {"calendars": JSONField}

    def clean_calendars(self):
        value = self.cleaned_data.get("calendars") or {}
        if not isinstance(value, dict):
            raise ValidationError(_("Calendars are an object: name -> calendar spec."))
        problems = []
        for name, spec in value.items():
            try:
                BusinessCalendar.from_spec(spec)
            except (ValueError, TypeError, AttributeError) as error:
                problems.append(f"Calendar {name!r}: {error}")
        if problems:
            raise ValidationError(problems)
        return value

    def clean_pause_statuses(self):
        value = self.cleaned_data.get("pause_statuses") or []
        known = {status.value for status in IncidentStatus}
        if not isinstance(value, list) or not set(value) <= known:
            raise ValidationError(
                _("A list of statuses, from: %(known)s.") % {"known": ", ".join(sorted(known))}
            )
        return value

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None:
            # What policies.policy_draft_update refuses: a version that is not a draft.
            for problem in policies.policy_draft_problems(policy=self.instance):
                self.add_error(None, problem)
        return cleaned


@admin.register(Policy)
class PolicyAdmin(SavedByServices, admin.ModelAdmin):
    form = PolicyForm
    change_list_template = "admin/escalations/policy_change_list.html"
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
        "reach",
        "notice_rules",
        "maximum_route",
        "regulatory_report_rule",
    ]
    fieldsets = [
        (
            None,
            {"fields": ["name", "version", "status", "is_default", "description", "export_link"]},
        ),
        (_("Who each level reaches"), {"fields": ["reach"]}),
        (
            _("Clocks"),
            {
                "fields": [
                    "clock_start",
                    "default_calendar",
                    "calendars",
                    "pause_statuses",
                    "maximum_route",
                ]
            },
        ),
        (
            _("Which incidents"),
            {"fields": ["priority", "match_channels", "match_components", "match_account_tiers"]},
        ),
        (_("Triggers"), {"fields": PolicySettingsFormMixin.TRIGGER_FIELDS}),
        (_("Reviews"), {"fields": PolicySettingsFormMixin.REVIEW_FIELDS}),
        (_("War rooms"), {"fields": PolicySettingsFormMixin.WAR_ROOM_FIELDS}),
        (_("Notices"), {"fields": ["notice_rules", "regulatory_report_rule"]}),
        (_("History"), {"fields": ["source", "created_at", "created_by", "activated_at"]}),
    ]
    # An active or retired version is read, not edited: its settings as sentences.
    read_only_settings = {
        _("Triggers"): ["trigger_settings"],
        _("Reviews"): ["review_settings"],
        _("War rooms"): ["war_room_settings"],
    }

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return [
                (title, {"fields": self.read_only_settings.get(title, options["fields"])})
                for title, options in self.fieldsets
            ]
        return self.fieldsets

    @admin.display(description=_("when a target's maximum passes"))
    def maximum_route(self, obj):
        """The maximum route (workflow YAML `maximum:`) as a sentence."""
        route = policies.maximum_from_json(obj.maximum)
        told = ", ".join(route.notify) if route.notify else _("the top level")
        moved = (
            _("; moved to L%(level)s") % {"level": route.escalate_to} if route.escalate_to else ""
        )
        return _("Once per incident: %(told)s told%(moved)s.") % {"told": told, "moved": moved}

    @admin.display(description=_("when a regulatory report is required"))
    def regulatory_report_rule(self, obj):
        """Seed 002 "Regulatory Reporting" (workflow YAML `regulatory_report:`) as a sentence."""
        rule = policies.regulatory_report_from_json(obj.regulatory_report)
        return _(
            "Due %(due)s after it is marked; %(told)s told then, %(before)s before, and when "
            "it is overdue."
        ) % {
            "due": spoken_duration(rule.due_after),
            "before": spoken_duration(rule.remind_before),
            "told": ", ".join(rule.notify) or _("nobody"),
        }

    @admin.display(description=_("trigger settings"))
    def trigger_settings(self, obj):
        return settings_summary(obj, "trigger_")

    @admin.display(description=_("review settings"))
    def review_settings(self, obj):
        return settings_summary(obj, "review_")

    @admin.display(description=_("war-room settings"))
    def war_room_settings(self, obj):
        return settings_summary(obj, "war_room_")

    def get_queryset(self, request):

        # Counts follow the visibility rule too: a hidden incident is not counted.
        open_and_visible = ~Q(incidents__status__in=["resolved", "closed"]) & visibility_q(
            request.user, prefix="incidents__"
        )
        return (
            super()
            .get_queryset(request)
            .annotate(open_count=Count("incidents", filter=open_and_visible))
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

    @admin.display(description=_("reaches"))
    def reach(self, obj):
        if obj.pk is None:
            return "-"
        spec = policies.policy_spec(obj)
        return format_html_join(
            "\n",
            "<div><strong>{}</strong> {}: {}</div>",
            (
                (level.label, level.name, self._reached(reach.level_reach(level)))
                for level in spec.levels
            ),
        )

    @admin.display(description=_("who is told"))
    def notice_rules(self, obj):
        """The policy's notices, one line each (edited in the workflow YAML)."""
        if obj.pk is None:
            return "-"
        rules = policies.policy_spec(obj).notices
        if not rules:
            return _("Nobody beyond the levels' own notices.")
        return format_html_join(
            "\n",
            "<div><strong>{}</strong>: {} {}{}</div>",
            (
                (
                    rule.severity,
                    ", ".join([*(f"L{n}" for n in rule.levels), *rule.groups]),
                    f"within {humanize(rule.within)}" if rule.within else "at once",
                    f" ({rule.reason})" if rule.reason else "",
                )
                for rule in rules
            ),
        )

    @staticmethod
    def _reached(found: list[str]) -> str:
        if not found:
            return "NOBODY"
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        return ", ".join(found[:5]) + more

    def change_view(self, request, object_id, form_url="", extra_context=None):
        policy = self.get_object(request, object_id)
        if policy is not None and request.method == "GET":
            # Loaded with a level nobody hears: say so where the policy is looked at.
            for problem in reach.reach_problems(policies.policy_spec(policy)):
                messages.warning(request, problem)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return [field.name for field in Policy._meta.fields] + [
                "match_channels",
                "match_components",
                "export_link",
                "trigger_settings",
                "review_settings",
                "war_room_settings",
                "reach",
                "notice_rules",
                "maximum_route",
                "regulatory_report_rule",
            ]
        return self.readonly_fields

    def has_add_permission(self, request):
        return False  # new policies come from workflow YAML or as a new version

    def has_delete_permission(self, request, obj=None):
        return obj is not None and obj.is_editable and not obj.incidents.exists()

    def save_model(self, request, obj, form, change):
        """Nothing yet: the draft is saved with its rows, by the service, in save_related."""

    def save_related(self, request, form, formsets, change):
        """The form's fields, what the draft matches and its inline rows, in one call to
        policies.policy_draft_update (which refuses anything but a draft)."""
        rows, deleted = [], []
        for formset in formsets:
            rows += formset.save(commit=False)  # also what the change message lists
            deleted += formset.deleted_objects
        policies.policy_draft_update(
            policy=form.instance,
            actor=request.user,
            changes={name: getattr(form.instance, name) for name in policies.DRAFT_FIELDS},
            match_channels=form.cleaned_data.get("match_channels"),
            match_components=form.cleaned_data.get("match_components"),
            rows=rows,
            deleted_rows=deleted,
        )

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
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_yaml),
                name="escalations_policy_upload",
            ),
            *super().get_urls(),
        ]

    def export_yaml(self, request, pk):

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

    def changelist_view(self, request, extra_context=None):

        if self.has_change_permission(request):
            extra_context = {**(extra_context or {}), "upload_form": WorkflowUploadForm()}
        return super().changelist_view(request, extra_context)

    def upload_yaml(self, request):
        """Load a workflow YAML file as a new version (the form on the policy list)."""
        from django.core.exceptions import PermissionDenied
        from django.shortcuts import redirect

        if not self.has_change_permission(request):
            raise PermissionDenied("You may not load policies.")
        form = WorkflowUploadForm(
            request.POST if request.method == "POST" else None,
            request.FILES if request.method == "POST" else None,
        )
        if form.is_valid():
            try:
                policy = form.load(actor=request.user)
            except ValidationError as error:
                form.add_error("file", error)
            else:
                self.message_user(
                    request,
                    f"Loaded {policy} ({policy.get_status_display().lower()}) from "
                    f"{form.cleaned_data['file'].name}.",
                    messages.SUCCESS,
                )
                return redirect("admin:escalations_policy_change", policy.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Load a workflow YAML"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/escalations/policy_upload.html", context)

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

    @admin.action(description=_("Activate (the previous version retires)"), permissions=["change"])
    def activate(self, request, queryset):
        run_each(
            self,
            request,
            queryset,
            lambda p: policies.policy_activate(policy=p, actor=request.user),
            "Activated {count} version(s).",
            level=messages.ERROR,
        )

    @admin.action(description=_("Make the default policy"), permissions=["change"])
    def make_default(self, request, queryset):
        run_each(
            self,
            request,
            queryset[:1],
            lambda p: policies.policy_set_default(policy=p, actor=request.user),
            "Default policy set.",
            level=messages.ERROR,
        )

    @admin.action(description=_("Edit: create a new draft version"), permissions=["change"])
    def new_version(self, request, queryset):
        run_each(
            self,
            request,
            queryset,
            lambda p: policies.policy_fork(policy=p, actor=request.user),
            "Created {count} draft version(s); edit and activate them.",
            level=messages.ERROR,
        )

    @admin.action(
        description=_("Move open incidents of older versions to this version"),
        permissions=["change"],
    )
    def move_open_incidents(self, request, queryset):
        for policy in queryset:
            try:
                moved = policy_moves.policy_move_open_incidents(policy=policy, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{policy}: {' '.join(error.messages)}", messages.ERROR)
                continue
            except Refusal as error:
                self.message_user(request, f"{policy}: {error}", messages.ERROR)
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
        return _visible(request, super().get_queryset(request))


class _ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DecisionActionForm(forms.Form):
    decision = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class PageInline(_ReadOnly, admin.TabularInline):
    """Who a handoff to an on-call level paged, step by step (engine.paging)."""

    model = Page
    fields = ["step", "person", "address", "schedule", "due_at", "paged_at", "next_due_at"]
    readonly_fields = fields
    extra = 0

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("escalations.view_escalation")


@admin.register(Escalation)
class EscalationAdmin(_ReadOnly, admin.ModelAdmin):
    """Append-only records; acknowledgement and decisions go through actions."""

    inlines = [PageInline]

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
        return _visible(request, super().get_queryset(request))

    # Offered only to whom the rule allows (incidents.permissions); the service refuses anyway.
    has_acknowledge_handoff_permission = admin_check("escalation.acknowledge_handoff")
    has_record_decision_permission = admin_check("escalation.record_decision")

    @admin.action(description=_("Acknowledge the handoff"), permissions=["acknowledge_handoff"])
    def acknowledge(self, request, queryset):
        done = 0
        for escalation in queryset.select_related("incident"):
            try:
                engine.handoff_acknowledge(incident=escalation.incident, actor=request.user)
                done += 1
            except ValidationError as error:
                self.message_user(
                    request, f"{escalation.incident}: {' '.join(error.messages)}", messages.WARNING
                )
            except Refusal as error:
                self.message_user(request, f"{escalation.incident}: {error}", messages.ERROR)
        if done:
            self.message_user(request, f"Acknowledged {done} handoff(s).", messages.SUCCESS)

    @admin.action(description=_("Record the decision"), permissions=["record_decision"])
    def decide(self, request, queryset):
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
                except Refusal as error:
                    self.message_user(request, f"{escalation}: {error}", messages.ERROR)
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
        return _visible(request, super().get_queryset(request))


# --- follow-up work: reviews, action items, war rooms, vendor cases ----------------------------


class OverdueFilter(admin.SimpleListFilter):
    """Past the due column and still open (the review queues managers work from)."""

    title = _("due")
    parameter_name = "due"
    due_field = "due_at"
    open_q = Q()

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("week", _("Due within 7 days"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(self.open_q, **{f"{self.due_field}__lte": now})
        if self.value() == "week":
            return queryset.filter(
                self.open_q,
                **{
                    f"{self.due_field}__gt": now,
                    f"{self.due_field}__lte": now + timedelta(days=7),
                },
            )
        return queryset


class ReviewDueFilter(OverdueFilter):
    open_q = ~Q(status=ReviewStatus.PUBLISHED)


class ItemDueFilter(OverdueFilter):
    open_q = Q(status__in=OPEN_ITEM_STATUSES)


class VendorDueFilter(OverdueFilter):
    due_field = "next_update_expected_at"
    open_q = Q(status__in=OPEN_VENDOR_STATUSES)


class _Inline(admin.TabularInline):
    """History and follow-up rows shown on their parent; changed through services."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ActionItemInline(_Inline):
    model = ActionItem
    fk_name = "review"
    fields = ["title", "owner", "due_date", "status", "is_permanent_fix", "closed_at", "closed_by"]
    readonly_fields = fields


class SimilarIncidentInline(_Inline):
    model = SimilarIncident
    fields = ["incident", "confirmed_by", "confirmed_at"]
    readonly_fields = fields
    show_change_link = False


class PostIncidentReviewForm(forms.ModelForm):
    class Meta:
        model = PostIncidentReview
        fields = [
            "owner",
            "customers_impacted",
            "business_impact",
            "root_cause_what",
            "root_cause_why",
            "root_cause_not_caught",
            "root_cause_key",
            "prevention_confidence",
        ]

    def clean_owner(self):

        owner, errors = self.cleaned_data.get("owner"), {}
        check_person(owner, self.instance.incident, "owner", errors)
        if errors:
            raise ValidationError(errors["owner"])
        return owner


@admin.register(PostIncidentReview)
class PostIncidentReviewAdmin(admin.ModelAdmin):
    """The review queue. Content is written on the review page (linked); the admin
    edits the facts and moves reviews along through the services."""

    list_display = [
        "incident",
        "status",
        "required",
        "owner",
        "due_at",
        "is_overdue",
        "published_at",
        "open_items",
    ]
    list_filter = ["status", "required", ReviewDueFilter, "prevention_confidence"]
    list_select_related = ["incident", "owner"]
    search_fields = ["incident__reference", "incident__title", "root_cause_key"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    form = PostIncidentReviewForm
    inlines = [ActionItemInline, SimilarIncidentInline]
    actions = ["submit", "publish"]
    fields = [
        "incident",
        "status",
        "required",
        "required_reasons",
        "owner",
        "due_at",
        "customers_impacted",
        "business_impact",
        "root_cause_what",
        "root_cause_why",
        "root_cause_not_caught",
        "root_cause_key",
        "prevention_confidence",
        "document",
        "created_at",
        "submitted_at",
        "published_at",
        "published_by",
    ]
    always_read_only = [
        "incident",
        "status",
        "required",
        "required_reasons",
        "due_at",
        "document",
        "created_at",
        "submitted_at",
        "published_at",
        "published_by",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return self.fields
        return self.always_read_only

    def get_queryset(self, request):
        from django.db.models import Count

        return _visible(request, super().get_queryset(request)).annotate(
            open_count=Count("action_items", filter=Q(action_items__status__in=OPEN_ITEM_STATUSES))
        )

    def has_add_permission(self, request):
        return False  # reviews start from their incident

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("overdue"), boolean=True)
    def is_overdue(self, obj):
        return obj.is_overdue(timezone.now())

    @admin.display(description=_("open action items"), ordering="open_count")
    def open_items(self, obj):
        return obj.open_count

    @admin.display(description=_("document"))
    def document(self, obj):
        if obj.pk is None:
            return "-"
        reference = obj.incident.reference
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">Markdown</a> · <a href="{}">YAML</a>',
            reverse("escalations:pir", args=[reference]),
            _("Timeline, lists and action items on the review page"),
            reverse("escalations:pir_md", args=[reference]),
            reverse("escalations:pir_yaml", args=[reference]),
        )

    def view_on_site(self, obj):
        return reverse("escalations:pir", args=[obj.incident.reference])

    def save_model(self, request, obj, form, change):

        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        review_update(review=obj, actor=request.user, changes=changes)

    has_submit_permission = admin_check("review.submit")
    has_publish_permission = admin_check("review.publish")

    @admin.action(description=_("Submit for review"), permissions=["submit"])
    def submit(self, request, queryset):

        run_each(
            self,
            request,
            queryset,
            lambda r: review_submit(review=r, actor=request.user),
            "Submitted {count} review(s).",
        )

    @admin.action(description=_("Publish"), permissions=["publish"])
    def publish(self, request, queryset):

        run_each(
            self,
            request,
            queryset,
            lambda r: review_publish(review=r, actor=request.user),
            "Published {count} review(s).",
        )


class ActionItemForm(forms.ModelForm):
    """The service's checks, beside the fields, before anything is saved."""

    class Meta:
        model = ActionItem
        fields = ["owner", "due_date"]

    def clean(self):

        data = super().clean()
        errors: dict[str, str] = {}
        owner = data.get("owner")
        if "owner" in self.changed_data:
            check_person(owner, self.instance.incident, "owner", errors)
        if "due_date" in self.changed_data:
            check_due_date(data.get("due_date"), owner, timezone.now(), errors)
        for field, message in errors.items():
            self.add_error(field, message)
        return data


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    """Every action item, with closure within target and time to permanent fix for
    whatever the filters select."""

    change_list_template = "admin/escalations/actionitem/change_list.html"
    form = ActionItemForm
    list_display = [
        "title",
        "reference",
        "owner",
        "due_date",
        "status",
        "is_overdue",
        "is_permanent_fix",
        "closed_at",
        "closed_by",
    ]
    list_filter = ["status", ItemDueFilter, "is_permanent_fix"]
    list_select_related = ["incident", "owner", "closed_by"]
    search_fields = ["title", "incident__reference", "owner__username", "owner__last_name"]
    date_hierarchy = "due_at"
    show_full_result_count = False
    actions = ["mark_in_progress", "mark_done"]
    fields = [
        "title",
        "description",
        "incident",
        "review",
        "owner",
        "due_date",
        "due_at",
        "status",
        "is_permanent_fix",
        "created_at",
        "created_by",
        "closed_at",
        "closed_by",
        "closing_note",
    ]
    readonly_fields = [
        "title",
        "description",
        "incident",
        "review",
        "due_at",
        "status",
        "is_permanent_fix",
        "created_at",
        "created_by",
        "closed_at",
        "closed_by",
        "closing_note",
    ]
    autocomplete_fields = ["owner"]

    def get_queryset(self, request):
        return _visible(request, super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_open:
            return self.fields
        return self.readonly_fields

    def has_add_permission(self, request):
        return False  # action items come from a review

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("overdue"), boolean=True)
    def is_overdue(self, obj):
        return obj.is_overdue(timezone.now())

    @admin.display(description=_("incident"), ordering="incident__reference")
    def reference(self, obj):
        return obj.incident.reference

    def save_model(self, request, obj, form, change):

        action_item_update(
            item=obj,
            actor=request.user,
            owner=form.cleaned_data["owner"] if "owner" in form.changed_data else None,
            due_date=form.cleaned_data["due_date"] if "due_date" in form.changed_data else None,
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data["metrics"] = action_item_metrics_for(changelist.queryset)
        return response

    has_update_item_permission = admin_check("action_item.update")
    has_close_item_permission = admin_check("action_item.close")

    @admin.action(description=_("Mark in progress"), permissions=["update_item"])
    def mark_in_progress(self, request, queryset):

        run_each(
            self,
            request,
            queryset,
            lambda i: action_item_update(item=i, actor=request.user, status="in_progress"),
            "{count} item(s) in progress.",
        )

    @admin.action(description=_("Close as done"), permissions=["close_item"])
    def mark_done(self, request, queryset):

        run_each(
            self,
            request,
            queryset,
            lambda i: action_item_close(
                item=i, actor=request.user, status="done", note="Closed from the admin."
            ),
            "Closed {count} item(s) as done.",
        )


class WarRoomAssignmentInline(_Inline):
    model = WarRoomAssignment
    fields = ["role", "user", "since", "until", "assigned_by"]
    readonly_fields = fields
    show_change_link = False


class WarRoomHandoverInline(_Inline):
    model = WarRoomHandover
    fields = ["at", "role", "from_user", "to_user", "note", "actor"]
    readonly_fields = fields
    show_change_link = False


@admin.register(WarRoom)
class WarRoomAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = [
        "incident",
        "reason",
        "activated_at",
        "cadence",
        "update_due_at",
        "closed_at",
    ]
    list_filter = ["reason", ("closed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["incident"]
    search_fields = ["incident__reference", "channel"]
    date_hierarchy = "activated_at"
    inlines = [WarRoomAssignmentInline, WarRoomHandoverInline]
    actions = ["stand_down"]

    def get_queryset(self, request):
        return _visible(request, super().get_queryset(request))

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("escalations.view_warroom")

    has_stand_down_permission = admin_check("war_room.close")

    @admin.action(description=_("Stand down"), permissions=["stand_down"])
    def stand_down(self, request, queryset):

        run_each(
            self,
            request,
            queryset.filter(closed_at__isnull=True),
            lambda w: war_room_close(
                war_room=w, actor=request.user, note="Stood down from the admin."
            ),
            "Stood down {count} war room(s).",
        )


@admin.register(VendorCase)
class VendorCaseAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = [
        "vendor",
        "case_id",
        "incident",
        "severity",
        "status",
        "owner",
        "last_vendor_update_at",
        "next_update_expected_at",
        "update_every",
        "is_overdue",
    ]
    list_filter = ["status", VendorDueFilter, "vendor"]
    list_select_related = ["incident", "owner"]
    search_fields = ["vendor", "case_id", "incident__reference", "contact"]
    date_hierarchy = "opened_at"
    actions = ["close_cases"]

    def get_queryset(self, request):
        return _visible(request, super().get_queryset(request))

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("escalations.view_vendorcase")

    @admin.display(description=_("update overdue"), boolean=True)
    def is_overdue(self, obj):
        return obj.update_overdue(timezone.now())

    has_close_case_permission = admin_check("vendor_case.close")

    @admin.action(description=_("Close the case"), permissions=["close_case"])
    def close_cases(self, request, queryset):

        run_each(
            self,
            request,
            queryset.filter(status__in=OPEN_VENDOR_STATUSES),
            lambda c: vendor_case_close(case=c, actor=request.user, note="Closed from the admin."),
            "Closed {count} case(s).",
        )


class RegulatoryDueFilter(OverdueFilter):
    open_q = Q(filed_at__isnull=True)


@admin.register(RegulatoryReport)
class RegulatoryReportAdmin(_ReadOnly, admin.ModelAdmin):
    """Seed 002 "Regulatory Reporting": reports required, due, overdue and filed."""

    list_display = [
        "incident",
        "reason",
        "required_at",
        "due_at",
        "is_overdue",
        "filed_at",
        "filed_by",
        "filed_reference",
    ]
    list_filter = [RegulatoryDueFilter]
    list_select_related = ["incident", "filed_by"]
    search_fields = ["incident__reference", "reason", "filed_reference"]
    date_hierarchy = "due_at"
    actions = ["record_filed"]

    def get_queryset(self, request):
        return _visible(request, super().get_queryset(request))

    # The same rule as the incident page and the API (the list shows visible incidents only).
    has_view_permission = admin_check("regulatory_report.view")

    @admin.display(description=_("overdue"), boolean=True)
    def is_overdue(self, obj):
        return obj.is_overdue(timezone.now())

    has_record_filed_permission = admin_check("regulatory_report.file")

    @admin.action(description=_("Record the report as filed"), permissions=["record_filed"])
    def record_filed(self, request, queryset):
        run_each(
            self,
            request,
            queryset.filter(filed_at__isnull=True).select_related("incident"),
            lambda r: regulatory_report_file(incident=r.incident, actor=request.user),
            "Recorded {count} report(s) as filed.",
        )


# --- the incident admin, with what escalations adds ---------------------------------------------
# incidents' admin knows nothing of escalations: this subclass replaces it in the admin site
# with the level filter, the follow-up inlines, the SLA clocks and the escalate/de-escalate
# actions.


class LevelFilter(admin.SimpleListFilter):
    """Levels from the policies (a few rows), not a DISTINCT over every incident."""

    title = _("level")
    parameter_name = "current_level"

    def lookups(self, request, model_admin):
        numbers = Level.objects.order_by("number").values_list("number", flat=True).distinct()
        return [(str(number), f"L{number}") for number in numbers]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(current_level=self.value())


class IncidentReviewInline(_Inline):
    model = PostIncidentReview
    fields = ["status", "required", "owner", "due_at", "published_at", "published_by"]
    readonly_fields = fields
    verbose_name_plural = _("post-incident review")


class IncidentActionItemInline(_Inline):
    model = ActionItem
    fk_name = "incident"
    fields = ["title", "owner", "due_date", "status", "closed_at", "closed_by"]
    readonly_fields = fields


class IncidentWarRoomInline(_Inline):
    model = WarRoom
    fields = ["reason", "channel", "cadence", "activated_at", "update_due_at", "closed_at"]
    readonly_fields = fields


class IncidentVendorCaseInline(_Inline):
    model = VendorCase
    fields = [
        "vendor",
        "case_id",
        "severity",
        "status",
        "owner",
        "last_vendor_update_at",
        "next_update_expected_at",
    ]
    readonly_fields = fields


class IncidentRegulatoryReportInline(_Inline):
    model = RegulatoryReport
    fields = ["reason", "required_at", "required_by", "due_at", "filed_at", "filed_by"]
    readonly_fields = fields
    verbose_name_plural = _("regulatory report")


def _after(items: list, anchor, *new) -> list:
    at = items.index(anchor) + 1
    return [*items[:at], *new, *items[at:]]


admin.site.unregister(Incident)


@admin.register(Incident)
class EscalationsIncidentAdmin(IncidentAdmin):
    list_filter = _after(IncidentAdmin.list_filter, "assignee", LevelFilter)
    # Follow-up work first, read-only: each row links to its own admin page, whose
    # actions call the services. The timeline stays last.
    inlines = [
        IncidentReviewInline,
        IncidentRegulatoryReportInline,
        IncidentWarRoomInline,
        IncidentVendorCaseInline,
        IncidentActionItemInline,
        *IncidentAdmin.inlines,
    ]
    actions = [*IncidentAdmin.actions, "escalate", "de_escalate"]

    def clock_readings(self, obj: Incident) -> list:
        return incident_clocks(obj)

    def _one_with_policy(self, request, queryset):
        incident = self.pick_one(request, queryset)
        if incident is None:
            return None
        if incident.policy_id is None:
            self.message_user(request, f"{incident.reference} has no policy.", messages.WARNING)
            return None
        return incident

    @admin.action(description=_("Escalate (with a handoff note)"), permissions=["change"])
    def escalate(self, request, queryset):
        incident = self._one_with_policy(request, queryset)
        if incident is None:
            return None
        spec = policies.policy_spec(incident.policy)
        if not any(level.number > incident.current_level for level in spec.levels):
            # A form whose only choice list is empty can never be submitted: say why instead.
            self.message_user(
                request,
                f"{incident.reference} is already at L{incident.current_level}, the top level "
                f"of policy {incident.policy}: there is no higher level to escalate to. "
                "Record a decision on its escalation, or open a war room.",
                messages.WARNING,
            )
            return None
        form = EscalateForm(
            request.POST if "apply" in request.POST else None,
            spec=spec,
            level=incident.current_level,
            categories=engine.allowed_categories(request.user),
        )
        if form.is_bound and form.is_valid():
            try:
                engine.incident_escalate(
                    incident=incident,
                    to_level=form.cleaned_data["to_level"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    category=form.cleaned_data["category"],
                    note=form.note(),
                    checklist=form.checklist(),
                    decision_sought=form.cleaned_data.get("decision_sought", ""),
                )
            except ValidationError as error:
                attach_errors(form, error)
            except Refusal as error:
                self.message_user(request, f"{incident.reference}: {error}", messages.ERROR)
                return None
            else:
                self.message_user(request, f"{incident.reference} escalated.", messages.SUCCESS)
                return None
        return self.action_form_page(
            request, form, incident, "escalate", f"Escalate {incident.reference}"
        )

    @admin.action(description=_("De-escalate (with a resolution summary)"), permissions=["change"])
    def de_escalate(self, request, queryset):
        incident = self._one_with_policy(request, queryset)
        if incident is None:
            return None
        form = DeEscalateForm(
            request.POST if "apply" in request.POST else None,
            spec=policies.policy_spec(incident.policy),
            level=incident.current_level,
        )
        if form.is_bound and form.is_valid():
            try:
                engine.incident_de_escalate(
                    incident=incident,
                    to_level=form.cleaned_data["to_level"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    resolution_summary=form.cleaned_data["resolution_summary"],
                )
            except ValidationError as error:
                attach_errors(form, error)
            except Refusal as error:
                self.message_user(request, f"{incident.reference}: {error}", messages.ERROR)
                return None
            else:
                self.message_user(request, f"{incident.reference} de-escalated.", messages.SUCCESS)
                return None
        return self.action_form_page(
            request, form, incident, "de_escalate", f"De-escalate {incident.reference}"
        )
