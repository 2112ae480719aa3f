from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from incidents import alerts, services
from incidents.forms import StatusForm
from incidents.models import (
    Account,
    AccountTier,
    AlertDedup,
    Category,
    Channel,
    Component,
    Incident,
    IncidentEvent,
    Integration,
    IntegrationKind,
)
from incidents.permissions import Refusal, admin_check
from incidents.rules import Status
from incidents.selectors import incidents_visible_to
from incidents.views import ACTIONS, DONE_MESSAGES, attach_errors
from portal.forms import JSONField


def run_each(
    modeladmin, request, queryset, call, done: str, *, level=messages.WARNING, label=str
) -> None:
    """An admin action calling a service on each selected row: each refusal is a
    message (the service's at `level`, the rule's as an error) naming the row by
    `label`; the successes one message (`done` with {count})."""
    count = 0
    for obj in queryset:
        try:
            call(obj)
            count += 1
        except ValidationError as error:
            modeladmin.message_user(request, f"{label(obj)}: {' '.join(error.messages)}", level)
        except Refusal as error:
            modeladmin.message_user(request, f"{label(obj)}: {error}", messages.ERROR)
    if count:
        modeladmin.message_user(request, done.format(count=count), messages.SUCCESS)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "tier", "health_score", "arr", "primary_contact_email"]
    list_filter = ["tier"]
    search_fields = ["name", "primary_contact_name", "primary_contact_email"]


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ["name", "owning_team"]
    search_fields = ["name"]
    autocomplete_fields = ["owning_team"]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_active", "acknowledges_customer"]
    list_filter = ["is_active", "acknowledges_customer"]
    search_fields = ["name", "code"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ReadOnlyAdminMixin:
    """History is read-only in admin: no add, change or delete, ever."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class IncidentEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = IncidentEvent
    fields = ["at", "kind", "visibility", "actor", "body", "data"]
    readonly_fields = fields
    ordering = ["at", "id"]
    extra = 0
    can_delete = False
    verbose_name_plural = _("timeline (read-only)")


class IncidentAdminForm(forms.ModelForm):
    """The service's rules checked in the form: bad input is shown beside the
    field, never a server error from save_model."""

    class Meta:
        model = Incident
        fields = [*services.EDITABLE_FIELDS, "severity", "channel", "assignee", "opened_at"]

    def clean(self):
        data = super().clean()
        try:
            if self.instance.pk is None:
                if data.get("channel") is not None:
                    services.check_new_incident(
                        title=data.get("title", ""),
                        channel=data["channel"],
                        opened_at=data.get("opened_at") or timezone.now(),
                        users_affected=data.get("users_affected"),
                        revenue_impact=data.get("revenue_impact"),
                    )
            elif "title" in data and not (data["title"] or "").strip():
                raise ValidationError({"title": "Give the incident a title."})
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages_)
        return data


class OpenedFilter(admin.SimpleListFilter):
    """Recent periods by opening time. (A date hierarchy asks the database for every
    distinct year or month over all incidents: a full scan at a million rows.)"""

    title = _("opened")
    parameter_name = "opened"
    PERIODS = {
        "1": (_("Last 24 hours"), 1),
        "7": (_("Last 7 days"), 7),
        "30": (_("Last 30 days"), 30),
        "90": (_("Last 90 days"), 90),
        "365": (_("Last 12 months"), 365),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _days) in self.PERIODS.items()]

    def queryset(self, request, queryset):
        period = self.PERIODS.get(self.value() or "")
        if period is None:
            return queryset
        return queryset.filter(opened_at__gte=timezone.now() - timedelta(days=period[1]))


class AccountTierFilter(admin.SimpleListFilter):
    title = _("account tier")
    parameter_name = "account__tier"

    def lookups(self, request, model_admin):
        return AccountTier.choices

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(account__tier=self.value())


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["reference", "severity_badge", "title", "status", "level", "assignee", "age"]
    list_display_links = ["reference"]
    list_filter = [
        OpenedFilter,
        "status",
        "severity",
        "channel",
        "component",
        "assignee",
        AccountTierFilter,
        "is_production_outage",
        "is_security",
        "is_compliance",
        "is_data_loss",
        "is_legal_exposure",
        "is_pr_crisis",
        "is_customer_facing",
    ]
    list_select_related = ["assignee"]
    search_fields = ["reference", "title", "account__name"]
    autocomplete_fields = ["channel", "category", "component", "account", "assignee"]
    show_full_result_count = False
    list_per_page = 50
    form = IncidentAdminForm
    inlines = [IncidentEventInline]
    actions = [
        "acknowledge",
        "assign_to_me",
        "assign",
        "change_status",
        "change_severity",
        "comment",
        "post_update",
        "reopen",
        "close_resolved",
        "status_page_publish",
        "status_page_update",
        "status_page_set_title",
        "status_page_withdraw",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    "title",
                    "severity",
                    "status",
                    "current_level",
                    "assignee",
                    "opened_at",
                ]
            },
        ),
        (_("Where"), {"fields": ["channel", "category", "component", "account"]}),
        (
            _("Impact"),
            {
                "fields": [
                    "is_production_outage",
                    "is_security",
                    "is_compliance",
                    "is_data_loss",
                    "is_legal_exposure",
                    "is_pr_crisis",
                    "is_customer_facing",
                    "users_affected",
                    "revenue_impact",
                ]
            },
        ),
        (_("Details"), {"fields": ["description", "root_cause", "root_cause_key"]}),
        (
            _("SLA clocks"),
            {"fields": ["policy", "level_entered_at", "next_check_at", "sla_clocks"]},
        ),
        (
            _("Times"),
            {
                "fields": [
                    "acknowledged_at",
                    "first_response_at",
                    "last_public_update_at",
                    "resolved_at",
                    "closed_at",
                    "reopened_count",
                    "created_by",
                ]
            },
        ),
        (
            _("Public status page"),
            {
                "classes": ["collapse"],
                "fields": [
                    "status_page_published_at",
                    "status_page_title",
                    "status_page_state",
                    "status_page_resolved_at",
                ],
            },
        ),
    ]
    # Status, severity, level and assignee change through actions (services), so
    # the timeline always says who changed what.
    always_read_only = [
        "policy",
        "level_entered_at",
        "next_check_at",
        "sla_clocks",
        "reference",
        "status",
        "current_level",
        "acknowledged_at",
        "first_response_at",
        "last_public_update_at",
        "resolved_at",
        "closed_at",
        "reopened_count",
        "created_by",
        # changed only by the status-page actions (services), never by the form
        "status_page_published_at",
        "status_page_title",
        "status_page_state",
        "status_page_resolved_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.always_read_only
        return [*self.always_read_only, "severity", "assignee", "opened_at", "channel"]

    def get_inlines(self, request, obj):
        if obj is None:  # a new incident has no follow-up work yet
            return [IncidentEventInline]
        return self.inlines

    def get_queryset(self, request) -> QuerySet:
        return incidents_visible_to(request.user, super().get_queryset(request))

    @admin.display(description=_("severity"), ordering="severity")
    def severity_badge(self, obj: Incident):
        colours = {"P0": "#b42318", "P1": "#d9480f", "P2": "#b58105", "P3": "#475467"}
        return format_html(
            '<span style="background:{};color:#fff;padding:1px 6px;border-radius:4px;'
            'font-weight:700" title="{}">{}</span>',
            colours[obj.severity],
            obj.get_severity_display(),
            obj.severity,
        )

    @admin.display(description=_("level"), ordering="current_level")
    def level(self, obj: Incident) -> str:
        return obj.level_label

    @admin.display(description=_("age"), ordering="opened_at")
    def age(self, obj: Incident) -> str:
        return timesince(obj.opened_at, timezone.now(), depth=1)

    @admin.display(description=_("clocks"))
    def sla_clocks(self, obj: Incident):
        from django.template.loader import render_to_string

        if obj.pk is None:
            return "-"
        return render_to_string("admin/incidents/clocks.html", {"clocks": self.clock_readings(obj)})

    def clock_readings(self, obj: Incident) -> list:
        """The incident's SLA clock readings: none here; the app that runs the clocks
        (escalations' admin) registers a subclass that reads them."""
        return []

    def view_on_site(self, obj: Incident) -> str:
        return reverse("incidents:detail", args=[obj.reference])

    def save_model(self, request, obj: Incident, form, change):
        data = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in services.EDITABLE_FIELDS
        }
        if change:
            services.incident_update_details(incident=obj, actor=request.user, changes=data)
            return
        fields = {
            name: value
            for name, value in form.cleaned_data.items()
            if name in {*services.EDITABLE_FIELDS, "severity", "channel", "assignee", "opened_at"}
        }
        created = services.incident_create(actor=request.user, **fields)
        obj.pk, obj.reference = created.pk, created.reference
        obj._state.adding = False

    def _run(self, request, queryset, call, done: str) -> None:
        run_each(self, request, queryset, call, done, label=lambda incident: incident.reference)

    @admin.action(description=_("Acknowledge"), permissions=["change"])
    def acknowledge(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda i: services.incident_acknowledge(incident=i, actor=request.user),
            "Acknowledged {count} incident(s).",
        )

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda i: services.incident_assign(
                incident=i, assignee=request.user, actor=request.user
            ),
            "Assigned {count} incident(s) to you.",
        )

    @admin.action(description=_("Close resolved incidents"), permissions=["change"])
    def close_resolved(self, request, queryset):
        self._run(
            request,
            queryset.filter(status=Status.RESOLVED.value),
            lambda i: services.incident_change_status(
                incident=i,
                status=Status.CLOSED.value,
                actor=request.user,
                note="Closed from the admin.",
            ),
            "Closed {count} incident(s).",
        )

    def pick_one(self, request, queryset):
        """The one incident picked, or None after telling the user to pick exactly one."""
        if queryset.count() != 1:
            self.message_user(request, "Pick exactly one incident.", messages.WARNING)
            return None
        return queryset.first()

    def action_form_page(self, request, form, incident, action, title):
        from django.template.response import TemplateResponse

        return TemplateResponse(
            request,
            "admin/incidents/escalation_action.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "incident": incident,
                "action": action,
                "opts": self.model._meta,
            },
        )

    def _web_action(self, request, queryset, action: str, name: str, title: str):
        """One of the incident page's forms (incidents.views.ACTIONS), on one incident,
        through the same service; errors are shown beside the fields."""

        incident = self.pick_one(request, queryset)
        if incident is None:
            return None
        form_class, call = ACTIONS[name]
        kwargs = {"incident": incident} if form_class is StatusForm else {}
        form = form_class(request.POST if "apply" in request.POST else None, **kwargs)
        if form.is_bound and form.is_valid():
            try:
                call(incident, request.user, form.cleaned_data)
            except ValidationError as error:
                attach_errors(form, error)
            except Refusal as error:
                self.message_user(request, f"{incident.reference}: {error}", messages.ERROR)
                return None
            else:
                self.message_user(
                    request, f"{incident.reference}: {DONE_MESSAGES[name]}", messages.SUCCESS
                )
                return None
        return self.action_form_page(
            request, form, incident, action, f"{title}: {incident.reference}"
        )

    @admin.action(description=_("Assign to someone"), permissions=["change"])
    def assign(self, request, queryset):
        """Assign every picked incident to one person, each through the service."""

        form_class, call = ACTIONS["assign"]
        incidents = list(queryset.order_by("pk"))
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._run(
                request,
                incidents,
                lambda i: call(i, request.user, form.cleaned_data),
                "Assigned {count} incident(s) to "
                + (str(form.cleaned_data["assignee"] or "nobody"))
                + ".",
            )
            return None
        title = (
            f"Assign: {incidents[0].reference}"
            if len(incidents) == 1
            else f"Assign {len(incidents)} incidents"
        )
        response = self.action_form_page(request, form, incidents[0], "assign", title)
        response.context_data["incidents"] = incidents
        return response

    @admin.action(description=_("Change status"), permissions=["change"])
    def change_status(self, request, queryset):
        return self._web_action(request, queryset, "change_status", "status", "Change status")

    @admin.action(description=_("Change severity"), permissions=["change"])
    def change_severity(self, request, queryset):
        return self._web_action(request, queryset, "change_severity", "severity", "Change severity")

    @admin.action(description=_("Add an internal note"), permissions=["change"])
    def comment(self, request, queryset):
        return self._web_action(request, queryset, "comment", "comment", "Internal note")

    @admin.action(description=_("Post a customer update"), permissions=["change"])
    def post_update(self, request, queryset):
        return self._web_action(request, queryset, "post_update", "update", "Customer update")

    @admin.action(description=_("Reopen"), permissions=["change"])
    def reopen(self, request, queryset):
        return self._web_action(request, queryset, "reopen", "reopen", "Reopen")

    # The public status page (seed 002): the incident page's forms, through the same services.
    has_status_page_publish_permission = admin_check("status_page.publish")
    has_status_page_set_title_permission = admin_check("status_page.set_title")
    has_status_page_post_update_permission = admin_check("status_page.post_update")
    has_status_page_withdraw_permission = admin_check("status_page.withdraw")

    @admin.action(
        description=_("Publish on the public status page"), permissions=["status_page_publish"]
    )
    def status_page_publish(self, request, queryset):
        return self._web_action(
            request, queryset, "status_page_publish", "status_page_publish", "Publish"
        )

    @admin.action(
        description=_("Post a status page update"), permissions=["status_page_post_update"]
    )
    def status_page_update(self, request, queryset):
        return self._web_action(
            request, queryset, "status_page_update", "status_page_update", "Status page update"
        )

    @admin.action(description=_("Change the public title"), permissions=["status_page_set_title"])
    def status_page_set_title(self, request, queryset):
        # named apart from the model field status_page_title (the changelist reads both)
        return self._web_action(
            request, queryset, "status_page_title", "status_page_title", "Public title"
        )

    @admin.action(
        description=_("Withdraw from the public status page"),
        permissions=["status_page_withdraw"],
    )
    def status_page_withdraw(self, request, queryset):
        return self._web_action(
            request, queryset, "status_page_withdraw", "status_page_withdraw", "Withdraw"
        )

    def has_delete_permission(self, request, obj=None):
        return False  # incidents are history too: close them, never delete


@admin.register(IncidentEvent)
class IncidentEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "incident", "kind", "visibility", "actor"]
    list_filter = ["kind", "visibility"]
    list_select_related = ["incident", "actor"]
    search_fields = ["incident__reference", "body"]
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("incidents.view_incidentevent")

    def get_queryset(self, request):
        visible = incidents_visible_to(request.user)
        return super().get_queryset(request).filter(incident__in=visible)


# --- alert integrations ---------------------------------------------------------------------


def _show_secret(request, new_secret: alerts.NewSecret) -> None:
    """The secret URL, once, in a field that selects itself for copying."""
    extra = ""
    if new_secret.integration.kind == IntegrationKind.EVENTS_V2:
        extra = format_html(
            ' routing_key: <input readonly size=40 value="{}" onfocus="this.select()">',
            new_secret.token,
        )
    messages.success(
        request,
        format_html(
            "{}: copy its URL now, it is shown only this once: "
            '<input readonly size=90 value="{}" onfocus="this.select()">{}',
            new_secret.integration.name,
            new_secret.url,
            extra,
        ),
    )


class IntegrationForm(forms.ModelForm):
    class Meta:
        model = Integration
        fields = [
            "name",
            "kind",
            "channel",
            "component",
            "grouping",
            "severity_label",
            "severity_map",
            "default_severity",
            "rate_limit",
            "rate_window",
        ]
        field_classes = {"severity_map": JSONField}

    def clean_severity_map(self):
        value = self.cleaned_data.get("severity_map")
        alerts.check_severity_map(value)
        return value


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    form = IntegrationForm
    list_display = ["name", "kind", "grouping", "channel", "is_active", "token_hint", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    readonly_fields = [
        "endpoint",
        "token_hint",
        "is_active",
        "revoked_at",
        "created_at",
        "created_by",
    ]
    actions = ["rotate_secret", "revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*self.readonly_fields, "kind"]

    def get_fields(self, request, obj=None):
        fields = list(IntegrationForm.Meta.fields)
        return fields if obj is None else [*fields, *self.readonly_fields]

    @admin.display(description=_("posts to"))
    def endpoint(self, obj: Integration) -> str:
        if obj.kind == IntegrationKind.EVENTS_V2:
            return alerts.integration_url(obj, "") + _(" (the secret is the routing_key)")
        return alerts.integration_url(obj, "SECRET").replace(
            "SECRET", f"<secret ending {obj.token_hint}>"
        )

    def save_model(self, request, obj: Integration, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        created = alerts.integration_create(
            actor=request.user, **{name: data[name] for name in IntegrationForm.Meta.fields}
        )
        obj.pk = created.integration.pk
        obj._state.adding = False
        _show_secret(request, created)

    def has_delete_permission(self, request, obj=None):
        return False  # it is history (the incidents it opened point at it): revoke it

    @admin.action(
        description=_("Rotate the secret (the old URL stops working)"), permissions=["change"]
    )
    def rotate_secret(self, request, queryset):
        for integration in queryset:
            try:
                _show_secret(
                    request,
                    alerts.integration_rotate_secret(integration=integration, actor=request.user),
                )
            except ValidationError as error:
                self.message_user(
                    request, f"{integration}: {' '.join(error.messages)}", messages.WARNING
                )
            except Refusal as error:
                self.message_user(request, f"{integration}: {error}", messages.ERROR)

    @admin.action(description=_("Revoke (its URL answers 404)"), permissions=["change"])
    def revoke(self, request, queryset):
        done = 0
        for integration in queryset:
            try:
                alerts.integration_revoke(integration=integration, actor=request.user)
                done += 1
            except ValidationError as error:
                self.message_user(
                    request, f"{integration}: {' '.join(error.messages)}", messages.WARNING
                )
            except Refusal as error:
                self.message_user(request, f"{integration}: {error}", messages.ERROR)
        if done:
            self.message_user(request, f"Revoked {done} integration(s).", messages.SUCCESS)


@admin.register(AlertDedup)
class AlertDedupAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["short_key", "integration", "incident", "triggers", "is_open", "last_at"]
    list_filter = ["is_open", "integration"]
    list_select_related = ["integration", "incident"]
    search_fields = ["incident__reference", "key"]
    show_full_result_count = False

    @admin.display(description=_("alert key"))
    def short_key(self, obj: AlertDedup) -> str:
        return obj.key if len(obj.key) <= 60 else obj.key[:59] + "…"

    def get_queryset(self, request):
        visible = incidents_visible_to(request.user)
        return (
            super().get_queryset(request).filter(Q(incident__isnull=True) | Q(incident__in=visible))
        )
