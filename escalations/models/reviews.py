"""Post-incident reviews, similar incidents and action items."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")


class PreventionConfidence(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class PostIncidentReview(models.Model):
    """Seed 004's PIR for one incident. Changed only through escalations.followup.reviews.

    Lists (timeline, contributing factors, what went well or poorly) are JSON
    lists of text; timeline entries are {"at": ISO time, "text": ...}.
    """

    incident = models.OneToOneField(
        "incidents.Incident",
        verbose_name=_("incident"),
        on_delete=models.PROTECT,
        related_name="review",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    required = models.BooleanField(_("required"), default=False)
    required_reasons = models.JSONField(_("required because"), default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviews_owned",
        help_text=_("Who writes the review and hears the reminders."),
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    next_reminder_at = models.DateTimeField(
        _("next reminder"), null=True, blank=True, editable=False
    )
    customers_impacted = models.PositiveIntegerField(_("customers impacted"), null=True, blank=True)
    business_impact = models.TextField(_("business impact"), blank=True)
    timeline = models.JSONField(_("timeline"), default=list, blank=True)
    root_cause_what = models.TextField(_("what happened"), blank=True)
    root_cause_why = models.TextField(_("why it happened"), blank=True)
    root_cause_not_caught = models.TextField(_("why it was not caught"), blank=True)
    root_cause_key = models.SlugField(
        _("root-cause key"),
        max_length=80,
        blank=True,
        help_text=_("Short key shared by incidents with the same root cause."),
    )
    contributing_factors = models.JSONField(_("contributing factors"), default=list, blank=True)
    went_well = models.JSONField(_("what went well"), default=list, blank=True)
    went_poorly = models.JSONField(_("what went poorly"), default=list, blank=True)
    prevention_confidence = models.CharField(
        _("prevention confidence"),
        max_length=10,
        choices=PreventionConfidence.choices,
        blank=True,
    )
    similar_incidents = models.ManyToManyField(
        "incidents.Incident",
        through="SimilarIncident",
        verbose_name=_("similar incidents"),
        related_name="+",
        blank=True,
    )
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"))
    submitted_at = models.DateTimeField(_("submitted for review"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("post-incident review")
        verbose_name_plural = _("post-incident reviews")
        permissions = [("publish_review", _("Can publish post-incident reviews"))]
        indexes = [
            # The reminder sweep's only read: cost follows what is due.
            models.Index(
                fields=["next_reminder_at"],
                name="review_next_reminder_idx",
                condition=Q(next_reminder_at__isnull=False),
            ),
            models.Index(fields=["status", "due_at"], name="review_status_due_idx"),
        ]

    def __str__(self) -> str:
        return f"PIR {self.incident.reference}" if self.incident_id else "PIR"

    @property
    def is_editable(self) -> bool:
        return self.status != ReviewStatus.PUBLISHED

    def is_overdue(self, now: datetime) -> bool:
        """Not published and past its due time (as the review queue)."""
        return self.is_editable and self.due_at is not None and self.due_at <= now


class SimilarIncident(models.Model):
    """An incident a person confirmed as similar (suggested by component or root cause)."""

    review = models.ForeignKey(
        PostIncidentReview, on_delete=models.CASCADE, related_name="similar_links"
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("similar incident"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed"))

    class Meta:
        ordering = ["review", "confirmed_at", "id"]
        verbose_name = _("similar incident")
        verbose_name_plural = _("similar incidents")
        constraints = [models.UniqueConstraint(fields=["review", "incident"], name="similar_once")]

    def __str__(self) -> str:
        return str(self.incident)


class ActionItemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    WONT_DO = "wont_do", _("Won't do")


OPEN_ITEM_STATUSES = (ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS)


class ActionItem(models.Model):
    """A follow-up from a review, with one owner and a due date (seed 004).

    Closed items keep who closed them and when: the metrics (closure within
    target, time to permanent fix) read them.
    """

    review = models.ForeignKey(
        PostIncidentReview,
        verbose_name=_("review"),
        on_delete=models.PROTECT,
        related_name="action_items",
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("incident"),
        on_delete=models.PROTECT,
        related_name="action_items",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="action_items",
    )
    due_date = models.DateField(_("due date"))
    due_at = models.DateTimeField(
        _("due at"), editable=False, help_text=_("End of the due date in the owner's time zone.")
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ActionItemStatus.choices,
        default=ActionItemStatus.OPEN,
    )
    is_permanent_fix = models.BooleanField(
        _("permanent fix"),
        default=False,
        help_text=_("Closing it fixes the cause for good (time to permanent fix)."),
    )
    next_reminder_at = models.DateTimeField(
        _("next reminder"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closing_note = models.TextField(_("closing note"), blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        indexes = [
            models.Index(
                fields=["next_reminder_at"],
                name="item_next_reminder_idx",
                condition=Q(next_reminder_at__isnull=False),
            ),
            models.Index(fields=["owner", "status"], name="item_owner_status_idx"),
            models.Index(fields=["status", "due_at"], name="item_status_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True, status__in=["open", "in_progress"])
                | Q(closed_at__isnull=False, status__in=["done", "wont_do"]),
                name="item_closed_iff_finished",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ITEM_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        """Open and past the end of its due date (as the action-item queue)."""
        return self.is_open and self.due_at <= now


# --- war rooms (seed 004) ---------------------------------------------------------------------
