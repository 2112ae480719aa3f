from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Notification, Status


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
    search_fields = ["recipient", "subject", "incident__reference", "dedup_key"]
    list_select_related = ["incident"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["retry"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return obj.last_error[:80]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        from incidents.selectors import incidents_visible_to

        queryset = super().get_queryset(request)
        visible = incidents_visible_to(request.user)
        return queryset.filter(incident__isnull=True) | queryset.filter(incident__in=visible)

    @admin.action(description=_("Send failed notifications again"), permissions=["change"])
    def retry(self, request, queryset):
        count = 0
        for notification in queryset.filter(status=Status.FAILED):
            services.notification_retry(notification=notification, actor=request.user)
            count += 1
        self.message_user(request, f"{count} notification(s) queued again.", messages.SUCCESS)
