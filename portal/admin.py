from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from portal.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Contact and time zone"), {"fields": ["phone", "time_zone"]}),
    ]
    list_display = ["username", "get_full_name", "email", "is_staff", "time_zone"]
