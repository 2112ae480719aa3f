from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from timezone_field import TimeZoneField


def default_hours() -> dict:
    return {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def default_urgent() -> list:
    return ["P0", "P1"]


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
    working_hours = models.JSONField(
        _("working hours"),
        default=default_hours,
        blank=True,
        help_text=_(
            'In your time zone, e.g. {"mon": ["09:00-17:00"]}, or "24/7". '
            "Non-urgent notifications wait for them."
        ),
    )
    urgent_severities = models.JSONField(
        _("reach me at any hour for"),
        default=default_urgent,
        blank=True,
        help_text=_("Severities that notify you outside working hours."),
    )
    feed_generation = models.PositiveIntegerField(
        _("calendar links reset"),
        default=0,
        editable=False,
        help_text=_(
            "Raised when the person resets their calendar links: links signed for an "
            "earlier value stop working."
        ),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.get_full_name() or self.username
