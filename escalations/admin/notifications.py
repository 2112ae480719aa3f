"""The outbox and inbound customer mail in the admin (app "notifications").

Registered by escalations: which rows a person sees follows the incidents'
visibility rules, and the preview renders notices against a real incident.
"""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from escalations.notices import compose as notices
from escalations.notices import outbox
from escalations.notices.inbound_mail import inbound_attach
from escalations.notices.selectors import inbound_visible_to, notifications_visible_to
from escalations.policies import reach
from incidents.permissions import Refusal, admin_check
from incidents.selectors import incidents_visible_to
from notifications import rendering
from notifications.models import InboundMessage, Notification, Status


class PreviewForm(forms.Form):
    kind = forms.ChoiceField(label=_("Message"))
    reference = forms.CharField(
        label=_("Sample incident"), help_text=_("Reference of an incident you can see.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, k) for k in rendering.template_kinds()]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox: read-only but for retrying what failed."""

    list_display = [
        "created_at",
        "kind",
        "channel",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "short_error",
        "incident",
    ]
    list_filter = ["status", "channel", "kind", "urgent"]
    search_fields = ["recipient", "subject", "incident__reference", "dedup_key", "message_id"]
    list_select_related = ["incident"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["retry"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    @admin.display(description=_("last error / reason"))
    def short_error(self, obj):
        return (obj.last_error or obj.suppressed_reason)[:80]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return notifications_visible_to(request.user, super().get_queryset(request))

    def get_urls(self):
        return [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview),
                name="notifications_notification_preview",
            ),
            *super().get_urls(),
        ]

    def preview(self, request):
        """Any message kind's templates, rendered against a sample incident."""
        form = PreviewForm(request.GET or None)
        rendered = None
        if form.is_valid():
            incident = (
                incidents_visible_to(request.user)
                .filter(reference=form.cleaned_data["reference"].strip())
                .first()
            )
            if incident is None:
                form.add_error("reference", _("No incident with that reference that you can see."))
            else:
                kind = form.cleaned_data["kind"]
                [row] = notices.build(
                    kind=kind,
                    incident=incident,
                    recipients=[reach.Recipient("email", "preview@example.com")],
                    context=notices.sample_context(kind, incident),
                    dedup_base="preview",
                    urgent=False,
                )
                rendered = {"subject": row.subject, **rendering.render_bodies(row)}
        return TemplateResponse(
            request,
            "admin/notifications/preview.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Preview a message"),
                "form": form,
                "rendered": rendered,
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Send failed notifications again"), permissions=["change"])
    def retry(self, request, queryset):
        count = 0
        for notification in queryset.filter(status=Status.FAILED):
            try:
                outbox.notification_retry(notification=notification, actor=request.user)
            except Refusal as error:
                self.message_user(request, str(error), messages.ERROR)
                return
            count += 1
        self.message_user(request, f"{count} notification(s) queued again.", messages.SUCCESS)


class AttachForm(forms.Form):
    reference = forms.CharField(
        label=_("Incident reference"), help_text=_("The incident this mail belongs to.")
    )


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    """Customer mail that came back; unmatched mail waits here for triage."""

    list_display = ["received_at", "from_email", "subject", "status", "incident"]
    list_filter = ["status", "esp"]
    search_fields = ["from_email", "subject", "message_id", "incident__reference"]
    list_select_related = ["incident"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in InboundMessage._meta.fields]
    actions = ["attach_to_incident"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return inbound_visible_to(request.user, super().get_queryset(request))

    has_attach_permission = admin_check("inbound.attach")

    @admin.action(description=_("Attach unmatched mail to an incident"), permissions=["attach"])
    def attach_to_incident(self, request, queryset):
        unmatched = queryset.filter(status="unmatched")
        form = AttachForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reference = form.cleaned_data["reference"].strip()
            incident = incidents_visible_to(request.user).filter(reference=reference).first()
            if incident is None:
                form.add_error("reference", _("No incident with that reference that you can see."))
            else:
                count = 0
                for message in unmatched:
                    try:
                        inbound_attach(message=message, incident=incident, actor=request.user)
                    except Refusal as error:
                        self.message_user(request, str(error), messages.ERROR)
                        return None
                    count += 1
                self.message_user(
                    request, f"{count} message(s) attached to {reference}.", messages.SUCCESS
                )
                return None
        return TemplateResponse(
            request,
            "admin/notifications/attach.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Attach mail to an incident"),
                "form": form,
                "messages_to_attach": unmatched,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )
