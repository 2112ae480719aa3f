"""War rooms: who holds which role, handovers."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WarRoomReason(models.TextChoices):
    SEV1 = "sev1", _("Severity 1 incident")
    MULTI_CUSTOMER = "multi_customer", _("Several customers affected")
    SECURITY = "security", _("Security issue")
    REGULATORY = "regulatory", _("Regulatory or compliance issue")
    PUBLIC = "public", _("Media attention or public outage")
    UNCLEAR_SCOPE = "unclear_scope", _("Unclear scope or timeline")


class WarRoom(models.Model):
    """A war room for one incident: roles, a channel and a status-update cadence.

    At most one is active per incident. The cadence reuses the status-update
    clock (escalations.rules.clocks.update_clock): a public update restarts it, pause
    statuses stop it, and the commander is reminded when an update is due.
    """

    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("incident"),
        on_delete=models.PROTECT,
        related_name="war_rooms",
    )
    reason = models.CharField(_("why"), max_length=20, choices=WarRoomReason.choices)
    channel = models.CharField(
        _("chat channel or bridge"),
        max_length=255,
        blank=True,
        help_text=_("e.g. #inc-payments or a Zoom bridge link"),
    )
    cadence = models.DurationField(_("status update every"))
    activated_at = models.DateTimeField(_("activated"))
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("activated by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    update_due_at = models.DateTimeField(
        _("next status update due"), null=True, blank=True, editable=False
    )
    next_reminder_at = models.DateTimeField(
        _("next reminder"), null=True, blank=True, editable=False
    )
    closed_at = models.DateTimeField(_("stood down"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("stood down by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closing_note = models.TextField(_("closing note"), blank=True)

    class Meta:
        ordering = ["-activated_at", "-id"]
        verbose_name = _("war room")
        verbose_name_plural = _("war rooms")
        indexes = [
            models.Index(
                fields=["next_reminder_at"],
                name="warroom_next_reminder_idx",
                condition=Q(next_reminder_at__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(closed_at__isnull=True),
                name="warroom_one_active_per_incident",
            )
        ]

    def __str__(self) -> str:
        return f"War room {self.incident.reference}" if self.incident_id else "War room"

    @property
    def is_active(self) -> bool:
        return self.closed_at is None

    def commander(self):
        """Who holds the incident-commander role now (one person at most), or None."""
        holder = (
            self.assignments.filter(role=WarRoomRole.COMMANDER, until__isnull=True)
            .select_related("user")
            .first()
        )
        return holder.user if holder else None


class WarRoomRole(models.TextChoices):
    COMMANDER = "commander", _("Incident commander")
    TECHNICAL_LEAD = "technical_lead", _("Technical lead")
    CUSTOMER_LIAISON = "customer_liaison", _("Customer liaison")
    EXECUTIVE = "executive", _("Executive")
    SCRIBE = "scribe", _("Scribe")
    SME = "sme", _("Subject-matter expert")


SINGLE_HOLDER_ROLES = [r.value for r in WarRoomRole if r != WarRoomRole.SME]


class WarRoomAssignment(models.Model):
    """Who held a war-room role, from when until when (history: never rewritten
    but for `until`, set once when the person hands over or the room stands down)."""

    war_room = models.ForeignKey(WarRoom, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("role"), max_length=20, choices=WarRoomRole.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.PROTECT
    )
    since = models.DateTimeField(_("since"))
    until = models.DateTimeField(_("until"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["war_room", "since", "id"]
        verbose_name = _("war-room role")
        verbose_name_plural = _("war-room roles")
        constraints = [
            models.UniqueConstraint(
                fields=["war_room", "role"],
                condition=Q(until__isnull=True, role__in=SINGLE_HOLDER_ROLES),
                name="warroom_one_holder_per_role",
            ),
            models.UniqueConstraint(
                fields=["war_room", "role", "user"],
                condition=Q(until__isnull=True),
                name="warroom_person_once_per_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.user}"


class WarRoomHandover(models.Model):
    """A role passed from one person to another with a handoff note (multi-day incidents)."""

    war_room = models.ForeignKey(WarRoom, on_delete=models.PROTECT, related_name="handovers")
    role = models.CharField(_("role"), max_length=20, choices=WarRoomRole.choices)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("handoff note"))
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["war_room", "at", "id"]
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.from_user} -> {self.to_user}"


# --- vendor escalation (seed 003) ---------------------------------------------------------------
