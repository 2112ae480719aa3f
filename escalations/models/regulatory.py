"""Regulatory reports an incident needs (seed 002: "Report to regulatory bodies if required")."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RegulatoryReport(models.Model):
    """One incident's report to a regulator: marked as required (by Legal or a manager),
    due at a time the policy sets (`regulatory_report.due_after`, e.g. 72 hours for a
    personal data breach), recorded as filed. Until filed, the reminder sweep tells the
    policy's `notify` groups once before it is due and once when it is overdue."""

    incident = models.OneToOneField(
        "incidents.Incident",
        verbose_name=_("incident"),
        on_delete=models.PROTECT,
        related_name="regulatory_report",
    )
    reason = models.CharField(
        _("why a report is required"),
        max_length=200,
        help_text=_("e.g. Personal data breach (GDPR Art. 33)"),
    )
    required_at = models.DateTimeField(_("marked as required"))
    required_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    due_at = models.DateTimeField(_("report due"))
    filed_at = models.DateTimeField(_("report filed"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    filed_reference = models.CharField(
        _("regulator's reference"),
        max_length=200,
        blank=True,
        help_text=_("The case or submission number the regulator gave."),
    )
    next_reminder_at = models.DateTimeField(
        _("next reminder"), null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("regulatory report")
        verbose_name_plural = _("regulatory reports")
        permissions = [("file_regulatory_report", _("Can mark and record regulatory reports"))]
        indexes = [
            models.Index(
                fields=["next_reminder_at"],
                name="regulatory_next_reminder_idx",
                condition=Q(next_reminder_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Regulatory report for {self.incident_id}"

    @property
    def is_filed(self) -> bool:
        return self.filed_at is not None

    def is_overdue(self, now) -> bool:
        return not self.is_filed and self.due_at <= now
