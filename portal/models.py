from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from timezone_field import TimeZoneField


def default_time_zone() -> str:
    from django.conf import settings

    return settings.TIME_ZONE


class User(AbstractUser):
    """A person who signs in: agent, lead, manager, director, executive..."""

    time_zone = TimeZoneField(
        _("time zone"),
        default=default_time_zone,
        help_text=_("Times are shown in this zone."),
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.get_full_name() or self.username
