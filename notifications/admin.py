from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from notifications.models import Contact, DeliverySettings, ReportSubscription

# The outbox (Notification) and inbound mail admins show each person the rows of the
# cases they may see, a rule of the domain: the domain app registers them
# (its notification_admin module). This app stays a leaf.


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "email", "phone", "chat_channel", "time_zone", "is_active"]
    list_filter = ["team", "is_active"]
    search_fields = ["name", "email", "chat_channel"]
    autocomplete_fields = ["user", "team"]


@admin.register(DeliverySettings)
class DeliverySettingsAdmin(admin.ModelAdmin):
    """One row: the daily cap and the fold window, visible and editable."""

    list_display = ["__str__", "daily_cap", "fold_window_minutes", "respect_working_hours"]

    def has_add_permission(self, request):
        return not DeliverySettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(admin.ModelAdmin):
    """Who gets the weekly report email; sending itself is Celery beat's job."""

    list_display = ["user", "email", "time_zone", "is_active", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, obj):
        return obj.user.email
