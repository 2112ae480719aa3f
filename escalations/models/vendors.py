"""Cases opened with vendors."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class VendorCaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WAITING_ON_VENDOR = "waiting_on_vendor", _("Waiting on the vendor")
    WAITING_ON_US = "waiting_on_us", _("Vendor waits on us")
    ESCALATED = "escalated", _("Escalated with the vendor (TAM/DSE)")
    RESOLVED = "resolved", _("Resolved by the vendor")
    CLOSED = "closed", _("Closed")


OPEN_VENDOR_STATUSES = [
    VendorCaseStatus.OPEN,
    VendorCaseStatus.WAITING_ON_VENDOR,
    VendorCaseStatus.WAITING_ON_US,
    VendorCaseStatus.ESCALATED,
]


class VendorCase(models.Model):
    """A support case with a vendor (AWS, Azure, GCP, Oracle...) for an incident.

    Seed 003: open a case of the right severity, engage the TAM, request regular
    updates. We remind its owner when the vendor's expected update is late.
    """

    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("incident"),
        on_delete=models.PROTECT,
        related_name="vendor_cases",
    )
    vendor = models.CharField(_("vendor"), max_length=80)
    case_id = models.CharField(_("vendor case id"), max_length=120)
    severity = models.CharField(
        _("vendor severity"),
        max_length=40,
        help_text=_("In the vendor's own scale, e.g. Urgent, Sev A, P1."),
    )
    contact = models.CharField(
        _("contact or account manager"),
        max_length=200,
        blank=True,
        help_text=_("TAM, DSE or CE for enterprise support."),
    )
    contact_email = models.EmailField(_("contact email"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("our owner"),
        on_delete=models.PROTECT,
        related_name="vendor_cases",
        help_text=_("Who chases the vendor and hears the reminders."),
    )
    opened_at = models.DateTimeField(_("opened"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=VendorCaseStatus.choices,
        default=VendorCaseStatus.OPEN,
    )
    summary = models.TextField(_("what we asked the vendor"), blank=True)
    last_vendor_update_at = models.DateTimeField(_("last vendor update"), null=True, blank=True)
    last_vendor_update = models.TextField(_("what the vendor said last"), blank=True)
    next_update_expected_at = models.DateTimeField(_("next update expected"), null=True, blank=True)
    update_every = models.DurationField(
        _("vendor update cadence"),
        null=True,
        blank=True,
        help_text=_(
            "Seed 003 'request regular updates': the vendor is expected to update "
            "this often; each missed interval reminds the owner once."
        ),
    )
    next_reminder_at = models.DateTimeField(
        _("next reminder"), null=True, blank=True, editable=False
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("vendor case")
        verbose_name_plural = _("vendor cases")
        indexes = [
            models.Index(
                fields=["next_reminder_at"],
                name="vendor_next_reminder_idx",
                condition=Q(next_reminder_at__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "case_id"], name="vendor_case_unique")
        ]

    def __str__(self) -> str:
        return f"{self.vendor} case {self.case_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_VENDOR_STATUSES

    def update_overdue(self, now) -> bool:
        """The vendor owes an update: the case is open and its expected update is due
        (the incident page and the admin say "overdue" by this; the admin's Overdue
        filter is its query)."""
        return (
            self.is_open
            and self.next_update_expected_at is not None
            and self.next_update_expected_at <= now
        )
