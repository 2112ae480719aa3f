import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from timezone_field import TimeZoneField

from portal.bulk import unsaved, unsaved_maker


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SLACK = "slack", _("Slack")
    PAGERDUTY = "pagerduty", _("PagerDuty")
    WEBHOOK = "webhook", _("Webhook")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")  # claimed by a worker (folded ones: with their leader)
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Suppressed")


# Message kinds that go to customers: sent at once (never held, folded or capped),
# with the inbound Reply-To, linking to the signed status page, never the portal.
CUSTOMER_KINDS = frozenset(
    {"customer_ack", "customer_update", "customer_resolved", "customer_follow_up"}
)


class Notification(models.Model):
    """One message to one recipient on one channel: the outbox.

    Written in the transaction that decided it; delivered by a worker after
    commit; claimed before sending so two workers never send it twice; its
    dedup key makes deciding twice harmless.
    """

    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=40, help_text=_("Template name"))
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=500)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        verbose_name=_("recipient user"),
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    context = models.JSONField(
        _("context"),
        default=dict,
        blank=True,
        help_text=_("Snapshot the bodies are rendered from at delivery."),
    )
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    message_id = models.CharField(
        _("Message-ID"),
        max_length=255,
        blank=True,
        db_index=True,
        help_text=_("Of the email sent; customer replies are matched on it."),
    )
    dedup_key = models.CharField(_("dedup key"), max_length=255, unique=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    # Whose claim this is and until when: a worker sends only while both hold
    # (checked and renewed in one conditional UPDATE right before the send).
    claim_token = models.CharField(_("claim token"), max_length=32, blank=True, editable=False)
    lease_until = models.DateTimeField(_("claim lease until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=255, blank=True)
    suppressed_reason = models.CharField(_("suppressed because"), max_length=255, blank=True)
    folded_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="folded",
        verbose_name=_("folded into"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notification_due_idx",
                condition=Q(status="pending"),
            ),
            models.Index(
                fields=["lease_until"],
                name="notification_lease_idx",
                condition=Q(status="sending"),
            ),
            models.Index(fields=["recipient", "created_at"], name="notification_recipient_idx"),
            models.Index(
                fields=["created_at"],
                name="notification_failed_idx",
                condition=Q(status="failed"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient}: {self.subject or self.kind}"

    @classmethod
    def unsaved(cls, *, incident=None, **values) -> "Notification":
        """A new, unsaved row with its values set directly (portal.bulk.unsaved): a
        storm's sweep composes thousands. `values` are by attname
        (`recipient_user_id`); the rest take their defaults. Equivalent to
        Notification(incident=incident, **values)."""
        return unsaved(cls, {} if incident is None else {"incident": incident}, **values)

    @classmethod
    def unsaved_maker(cls, *, incident=None, **common):
        """Notification.unsaved for many rows sharing `incident` and `common` values
        (portal.bulk.unsaved_maker): the returned function takes the rest of a row."""
        return unsaved_maker(cls, {} if incident is None else {"incident": incident}, **common)


def default_hours() -> dict:
    return {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def default_urgent() -> list:
    return ["P0", "P1"]


class Contact(models.Model):
    """The escalation contacts directory (seed 002): a person or a shared address.

    Non-urgent messages to a contact outside their hours wait for their next
    opening in their own time zone; severities in `always_for` go at once.
    """

    name = models.CharField(_("name"), max_length=120)
    team = models.ForeignKey(
        "auth.Group",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        verbose_name=_("team"),
        help_text=_("Levels notify the contacts of their team."),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
        verbose_name=_("user"),
    )
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    chat_channel = models.CharField(_("chat channel"), max_length=80, blank=True)
    slack_webhook_url = models.URLField(_("Slack webhook"), blank=True, max_length=500)
    pagerduty_routing_key = models.CharField(_("PagerDuty routing key"), max_length=64, blank=True)
    escalation_contact = models.CharField(
        _("escalation contact"),
        max_length=200,
        blank=True,
        help_text=_("Who to go to when this contact does not answer."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    hours = models.JSONField(
        _("available hours"),
        default=default_hours,
        blank=True,
        help_text=_(
            'Weekly hours in their zone, e.g. {"mon": ["09:00-17:00"]}; "24/7" for always.'
        ),
    )
    always_for = models.JSONField(
        _("always reachable for"),
        default=default_urgent,
        blank=True,
        help_text=_("Severities that reach them at any hour."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["team__name", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name


SETTINGS_TTL = 30  # seconds other processes may use the previous values
_settings_cache: dict = {}


class DeliverySettings(models.Model):
    """One row: per-recipient limits, edited in the admin."""

    daily_cap = models.PositiveIntegerField(
        _("daily cap per recipient"),
        default=50,
        help_text=_("Non-urgent messages beyond this in 24 hours are suppressed (visible here)."),
    )
    fold_window_minutes = models.PositiveIntegerField(
        _("fold window (minutes)"),
        default=10,
        help_text=_("Non-urgent messages to one person within this window go as one."),
    )
    respect_working_hours = models.BooleanField(
        _("hold non-urgent messages until working hours"), default=True
    )

    class Meta:
        verbose_name = _("delivery settings")
        verbose_name_plural = _("delivery settings")

    def __str__(self) -> str:
        return "Delivery settings"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _settings_cache.clear()  # an edit applies at once in this process

    @classmethod
    def current(cls) -> "DeliverySettings":
        """The settings row, cached for a few seconds: sweeps ask thousands of times."""
        cached = _settings_cache.get("row")
        if cached is not None and time.monotonic() - cached[0] < SETTINGS_TTL:
            return cached[1]
        row = cls.objects.get_or_create(pk=1)[0]
        _settings_cache["row"] = (time.monotonic(), row)
        return row


class InboundStatus(models.TextChoices):
    MATCHED = "matched", _("Matched to an incident")
    UNMATCHED = "unmatched", _("Unmatched: needs triage")
    ATTACHED = "attached", _("Attached by hand")


class InboundMessage(models.Model):
    """Mail that came back (customer replies). Kept whether or not it matched."""

    received_at = models.DateTimeField(_("received"))
    from_email = models.CharField(_("from"), max_length=320)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    text = models.TextField(_("text"), blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=500, blank=True)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=500, blank=True)
    references = models.TextField(_("References"), blank=True)
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inbound_messages",
    )
    status = models.CharField(_("status"), max_length=12, choices=InboundStatus.choices)
    esp = models.CharField(_("received through"), max_length=40, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"], condition=~Q(message_id=""), name="inbound_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_email}: {self.subject}"


class ReportSubscription(models.Model):
    """Who receives the weekly report email (seed 004), on Monday morning in their zone."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="report_subscription",
        verbose_name=_("user"),
    )
    time_zone = TimeZoneField(
        _("time zone"),
        null=True,
        blank=True,
        help_text=_("Whose Monday morning and week; empty: the user's own time zone."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("weekly report subscription")
        verbose_name_plural = _("weekly report subscriptions")

    def __str__(self) -> str:
        return f"Weekly report for {self.user}"

    @property
    def zone(self):
        """The zone its weeks and Monday mornings are counted in."""
        return self.time_zone or self.user.time_zone
