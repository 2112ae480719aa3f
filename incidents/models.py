from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from timezone_field import TimeZoneField

from incidents.rules import OPEN_STATUSES, PublicState, Severity, Status


class AccountTier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    PREMIUM = "premium", _("Premium")
    ENTERPRISE = "enterprise", _("Enterprise")


class Account(models.Model):
    """A customer (seed 001 escalation note: account, tier, health score, ARR, contact)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    tier = models.CharField(
        _("tier"), max_length=20, choices=AccountTier.choices, default=AccountTier.STANDARD
    )
    health_score = models.PositiveSmallIntegerField(
        _("health score"),
        null=True,
        blank=True,
        help_text=_("0-100"),
        validators=[MaxValueValidator(100)],
    )
    arr = models.DecimalField(
        _("ARR"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Annual recurring revenue"),
        validators=[MinValueValidator(0)],
    )
    primary_contact_name = models.CharField(_("primary contact"), max_length=200, blank=True)
    primary_contact_email = models.EmailField(_("primary contact email"), blank=True)
    time_zone = TimeZoneField(_("time zone"), default="UTC")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(health_score__lte=100), name="account_health_score_max_100"
            ),
            models.CheckConstraint(condition=models.Q(arr__gte=0), name="account_arr_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    """A service or part of the product, owned by a team."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    owning_team = models.ForeignKey(
        "auth.Group",
        verbose_name=_("owning team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="components",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("component")
        verbose_name_plural = _("components")

    def __str__(self) -> str:
        return self.name


class Channel(models.Model):
    """Where an incident came from (Test, Runtime, Customer, Security...): a managed list.

    Its code is the middle of the incident reference, e.g. INC-RUNTIME-20260114-XYZ.
    """

    name = models.CharField(_("name"), max_length=60, unique=True)
    code = models.SlugField(
        _("reference code"),
        max_length=30,
        unique=True,
        help_text=_("Capitals, digits and dashes; used in incident references."),
    )
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    acknowledges_customer = models.BooleanField(
        _("acknowledge to the customer"),
        default=False,
        help_text=_(
            "Incidents opened here email the account's contact an acknowledgement "
            "with a link to their status page."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """What kind of problem it is; escalation rates are tracked by it (seed 001)."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


SEVERITY_CHOICES = [(s.value, s.label) for s in Severity]
STATUS_CHOICES = [(s.value, s.label) for s in Status]
PUBLIC_STATE_CHOICES = [(s.value, s.label) for s in PublicState]


class IncidentQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=[s.value for s in OPEN_STATUSES])


class Incident(models.Model):
    """The unit of work. Changed only through incidents.services."""

    reference = models.CharField(_("reference"), max_length=64, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    severity = models.CharField(_("severity"), max_length=2, choices=SEVERITY_CHOICES)
    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="incidents"
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    component = models.ForeignKey(
        Component,
        verbose_name=_("component"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        db_index=False,  # incident_component_idx starts with it
    )
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        db_index=False,  # incident_account_idx starts with it
    )

    # Impact flags (seed 000 impact-based triggers and special scenarios).
    is_production_outage = models.BooleanField(_("production outage"), default=False)
    is_security = models.BooleanField(
        _("security"),
        default=False,
        help_text=_("Limited distribution: only Security, managers and assignees see it."),
    )
    is_compliance = models.BooleanField(_("compliance"), default=False)
    # Seed 001: "production outages, security incidents, and data loss go directly to Tier 3".
    is_data_loss = models.BooleanField(
        _("data loss"),
        default=False,
        db_default=False,  # bulk loads that predate the flag (COPY column lists) get False
        help_text=_("Customer or production data lost or corrupted."),
    )
    # Seed 000, Level 4: "Legal/regulatory implications", "Public relations crisis".
    is_legal_exposure = models.BooleanField(
        _("legal exposure"),
        default=False,
        db_default=False,
        help_text=_("Legal or regulatory implications: Legal is told."),
    )
    is_pr_crisis = models.BooleanField(
        _("PR crisis"),
        default=False,
        db_default=False,
        help_text=_("Public-facing outage or public relations crisis."),
    )
    is_customer_facing = models.BooleanField(_("customer-facing"), default=False)
    users_affected = models.PositiveIntegerField(_("users affected"), null=True, blank=True)
    revenue_impact = models.DecimalField(
        _("estimated revenue impact"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    root_cause = models.TextField(_("root cause"), blank=True)
    root_cause_key = models.SlugField(
        _("root-cause key"),
        max_length=80,
        blank=True,
        db_index=False,  # incident_root_cause_key_idx, in Meta
        help_text=_("Short key shared by incidents with the same root cause (spots repeats)."),
    )

    status = models.CharField(
        _("status"), max_length=24, choices=STATUS_CHOICES, default=Status.NEW.value
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_incidents",
        db_index=False,  # incident_assignee_idx starts with it
    )
    current_level = models.PositiveSmallIntegerField(_("level"), default=1)
    policy = models.ForeignKey(
        "escalations.Policy",
        verbose_name=_("policy version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        help_text=_("The policy version the incident follows: a snapshot of its rules."),
    )
    level_entered_at = models.DateTimeField(_("at this level since"), null=True, blank=True)
    level_clock_started_at = models.DateTimeField(
        _("level's clocks count from"),
        null=True,
        blank=True,
        help_text=_(
            "With per-level budgets (clock_start: level), when the incident first reached its "
            "current level: moving away and back never restarts a level's clock."
        ),
    )
    # The pending handoff at the current level (escalation engine).
    handoff_at = models.DateTimeField(_("handed off"), null=True, blank=True)
    handoff_acknowledged_at = models.DateTimeField(_("handoff acknowledged"), null=True, blank=True)
    level_moves = models.PositiveSmallIntegerField(_("level changes"), default=0)
    bounces = models.PositiveSmallIntegerField(
        _("direction changes"),
        default=0,
        help_text=_("Times the incident turned back between levels (ping-pong)."),
    )
    flagged_for_review = models.BooleanField(_("flagged for manager review"), default=False)
    review_reason = models.CharField(_("review reason"), max_length=255, blank=True)
    next_check_at = models.DateTimeField(
        _("next SLA check"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Earliest upcoming threshold over the clocks; the sweep reads only this."),
    )
    # Kept by escalations.sla.services.sla_refresh with next_check_at, so review queues and
    # metrics find incidents through indexes instead of computing every clock.
    peak_level = models.PositiveSmallIntegerField(
        _("highest level reached"), default=1, editable=False
    )
    sla_warning_at = models.DateTimeField(
        _("a clock reaches 75 %"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Earliest instant any running clock reaches 75 % of its target."),
    )
    sla_due_at = models.DateTimeField(
        _("most urgent clock due"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Earliest due instant over the running clocks (open incidents only)."),
    )
    first_response_due_at = models.DateTimeField(
        _("first response due"), null=True, blank=True, editable=False
    )
    resolution_due_at = models.DateTimeField(
        _("resolution due"), null=True, blank=True, editable=False
    )
    first_response_breached = models.BooleanField(
        _("first response SLA breached"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Empty while the clock runs within its target."),
    )
    resolution_breached = models.BooleanField(
        _("resolution SLA breached"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Empty while the clock runs within its target."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    opened_at = models.DateTimeField(
        _("opened"),
        default=timezone.now,
        help_text=_("Original creation time; every SLA clock counts from it."),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    last_public_update_at = models.DateTimeField(_("last public update"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    csat_rating = models.PositiveSmallIntegerField(
        _("customer rating"), null=True, blank=True, help_text=_("1-5, from the status page.")
    )
    csat_at = models.DateTimeField(_("rated"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # The public status page (seed 002 "Update public status page"): what anyone may read
    # of the incident, set only by the status-page services. Never the internal title.
    status_page_published_at = models.DateTimeField(
        _("on the public status page since"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Empty: not on the public status page."),
    )
    # db_default: bulk loads that predate the status page (COPY column lists) get "".
    status_page_title = models.CharField(
        _("public title"), max_length=200, blank=True, default="", db_default="", editable=False
    )
    status_page_state = models.CharField(
        _("public state"),
        max_length=16,
        choices=PUBLIC_STATE_CHOICES,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )
    status_page_resolved_at = models.DateTimeField(
        _("publicly resolved"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When a 'Resolved' public update was posted."),
    )

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        permissions = [
            ("view_security_incident", _("Can see security incidents")),
            ("publish_status_page", _("Can publish incidents on the public status page")),
            # Seed 000 Security Incident: "Coordinate with legal if data breach".
            ("view_data_breach", _("Can see security incidents with data loss (data breaches)")),
        ]
        indexes = [
            models.Index(fields=["-opened_at", "-id"], name="incident_opened_idx"),
            models.Index(fields=["status", "severity"], name="incident_status_sev_idx"),
            models.Index(fields=["assignee", "status"], name="incident_assignee_idx"),
            # Pattern triggers count recent incidents per account and component.
            models.Index(fields=["account", "opened_at"], name="incident_account_idx"),
            models.Index(fields=["component", "opened_at"], name="incident_component_idx"),
            # Repeats are found by equal keys only: no second, LIKE-pattern index
            # (db_index=True on a text column makes one), one less entry per row written.
            models.Index(fields=["root_cause_key"], name="incident_root_cause_key_idx"),
            # The sweep's only read: cost follows what is due, not what is open.
            models.Index(
                fields=["next_check_at"],
                name="incident_next_check_idx",
                condition=models.Q(next_check_at__isnull=False),
            ),
            # Review queues: each reads one small partial index.
            models.Index(
                fields=["sla_warning_at"],
                name="incident_sla_warning_idx",
                condition=models.Q(sla_warning_at__isnull=False),
            ),
            models.Index(
                fields=["sla_due_at"],
                name="incident_sla_due_idx",
                condition=models.Q(sla_due_at__isnull=False),
            ),
            models.Index(
                fields=["handoff_at"],
                name="incident_handoff_pending_idx",
                condition=models.Q(
                    handoff_at__isnull=False,
                    handoff_acknowledged_at__isnull=True,
                    status__in=[s.value for s in OPEN_STATUSES],
                ),
            ),
            models.Index(
                fields=["opened_at"],
                name="incident_unassigned_idx",
                condition=models.Q(
                    assignee__isnull=True, status__in=[s.value for s in OPEN_STATUSES]
                ),
            ),
            models.Index(
                fields=["opened_at"],
                name="incident_flagged_idx",
                condition=models.Q(
                    flagged_for_review=True, status__in=[s.value for s in OPEN_STATUSES]
                ),
            ),
            # Metrics over escalated incidents only (repeat escalations).
            models.Index(
                fields=["opened_at"],
                name="incident_escalated_idx",
                condition=models.Q(level_moves__gt=0),
            ),
            # The public status page reads only published incidents.
            models.Index(
                fields=["status_page_published_at"],
                name="incident_status_page_idx",
                condition=models.Q(status_page_published_at__isnull=False),
            ),
            models.Index(
                fields=["opened_at"],
                name="incident_security_open_idx",
                condition=models.Q(is_security=True, status__in=[s.value for s in OPEN_STATUSES]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(severity__in=[s.value for s in Severity]),
                name="incident_severity_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in Status]),
                name="incident_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(revenue_impact__gte=0), name="incident_revenue_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def severity_enum(self) -> Severity:
        return Severity(self.severity)

    @property
    def status_enum(self) -> Status:
        return Status(self.status)

    @property
    def is_open(self) -> bool:
        return self.status_enum.is_open

    @property
    def level_label(self) -> str:
        return f"L{self.current_level}"

    @property
    def is_data_breach(self) -> bool:
        """A security incident with data lost (seed 000: "Coordinate with legal if data
        breach"): Legal is cleared to read it despite the limited distribution."""
        return self.is_security and self.is_data_loss


class EventKind(models.TextChoices):
    CREATED = "created", _("Opened")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    STATUS_CHANGED = "status_changed", _("Status changed")
    SEVERITY_CHANGED = "severity_changed", _("Severity changed")
    ASSIGNED = "assigned", _("Assigned")
    LEVEL_CHANGED = "level_changed", _("Level changed")
    DETAILS_CHANGED = "details_changed", _("Details changed")
    COMMENT = "comment", _("Internal note")
    PUBLIC_UPDATE = "public_update", _("Customer update")
    REOPENED = "reopened", _("Reopened")
    POLICY_CHANGED = "policy_changed", _("Policy changed")
    CUSTOMER_REPLY = "customer_reply", _("Customer reply")
    CUSTOMER_RATING = "customer_rating", _("Customer rating")
    ESCALATED = "escalated", _("Escalated")
    DE_ESCALATED = "de_escalated", _("De-escalated")
    HANDOFF_ACKNOWLEDGED = "handoff_acknowledged", _("Handoff acknowledged")
    DECISION = "decision", _("Decision recorded")
    SLA_THRESHOLD = "sla_threshold", _("SLA threshold reached")
    TRIGGER = "trigger", _("Escalation trigger")
    FLAGGED = "flagged", _("Flagged for review")
    PAGED = "paged", _("Paged")
    # Follow-up work (escalations.followup.reviews, war_room, vendors)
    WAR_ROOM_ACTIVATED = "war_room_activated", _("War room activated")
    WAR_ROOM_CHANGED = "war_room_changed", _("War room changed")
    WAR_ROOM_CLOSED = "war_room_closed", _("War room stood down")
    COMMANDER_DECISION = "commander_decision", _("Commander decision")
    REVIEW = "review", _("Post-incident review")
    REVIEW_PUBLISHED = "review_published", _("Post-incident review published")
    ACTION_ITEM = "action_item", _("Action item")
    VENDOR_CASE = "vendor_case", _("Vendor case")
    REGULATORY_REPORT = "regulatory_report", _("Regulatory report")
    ALERT = "alert", _("Alert received")
    # The public status page (incidents.services.status_page_*)
    STATUS_PAGE_PUBLISHED = "status_page_published", _("Published on the status page")
    STATUS_PAGE_UPDATE = "status_page_update", _("Status page update")
    STATUS_PAGE_TITLE = "status_page_title", _("Public title changed")
    STATUS_PAGE_WITHDRAWN = "status_page_withdrawn", _("Withdrawn from the status page")


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("Internal")
    PUBLIC = "public", _("Public")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Timeline events are append-only: they are never updated.")

    def delete(self):
        raise TypeError("Timeline events are append-only: they are never deleted.")


class IncidentEvent(models.Model):
    """One entry of an incident's append-only timeline.

    Never updated or deleted: the ORM refuses (here) and so does the database
    (a trigger installed by migration 0004).
    """

    incident = models.ForeignKey(
        Incident, verbose_name=_("incident"), on_delete=models.PROTECT, related_name="events"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty for the system (sweeps, alerts, imports)."),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=EventKind.choices)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    body = models.TextField(_("text"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        indexes = [models.Index(fields=["incident", "at", "id"], name="event_incident_at_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Timeline events are append-only: they are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Timeline events are append-only: they are never deleted.")

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC


# --- Alert ingestion ---------------------------------------------------------------------------


class IntegrationKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager webhook")
    GRAFANA = "grafana", _("Grafana alerting webhook")
    EVENTS_V2 = "events-v2", _("PagerDuty Events API v2 compatible")


class AlertGrouping(models.TextChoices):
    GROUP_KEY = "group_key", _("One incident per alert group (groupKey)")
    FINGERPRINT = "fingerprint", _("One incident per alert (fingerprint)")


def default_severity_map() -> dict[str, str]:
    # Alertmanager's customary `severity` label values and the Events API v2 severities.
    return {"critical": "P1", "error": "P2", "warning": "P3", "info": "P3"}


def default_alert_channel():
    channel = Channel.objects.filter(code="MONITORING").first()
    return channel.pk if channel else None


class Integration(models.Model):
    """A monitoring system allowed to open, update and resolve incidents.

    The secret is in the integration's URL (or is the Events API routing key); only
    its SHA-256 is stored, so it is shown once, when made (see incidents.alerts).
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=IntegrationKind.choices)
    token_hash = models.CharField(_("secret (SHA-256)"), max_length=64, unique=True, editable=False)
    token_hint = models.CharField(
        _("secret ends with"),
        max_length=8,
        editable=False,
        help_text=_("The last characters of the secret, to recognise it."),
    )
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("channel"),
        on_delete=models.PROTECT,
        related_name="+",
        default=default_alert_channel,
        help_text=_("Channel of the incidents it opens."),
    )
    component = models.ForeignKey(
        Component,
        verbose_name=_("component"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Component of the incidents it opens, if any."),
    )
    grouping = models.CharField(
        _("grouping"),
        max_length=20,
        choices=AlertGrouping.choices,
        default=AlertGrouping.GROUP_KEY,
        help_text=_("Alertmanager and Grafana only; Events API v2 groups by dedup_key."),
    )
    severity_label = models.CharField(
        _("severity label"),
        max_length=100,
        default="severity",
        help_text=_("Alert label holding the severity (Alertmanager and Grafana)."),
    )
    severity_map = models.JSONField(
        _("severity mapping"),
        default=default_severity_map,
        blank=True,
        help_text=_('Label value to severity, e.g. {"critical": "P1", "warning": "P3"}.'),
    )
    default_severity = models.CharField(
        _("default severity"), max_length=2, choices=SEVERITY_CHOICES, default="P2"
    )
    rate_limit = models.PositiveIntegerField(
        _("requests allowed per window"), default=300, validators=[MinValueValidator(1)]
    )
    rate_window = models.PositiveIntegerField(
        _("rate window (seconds)"), default=300, validators=[MinValueValidator(1)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("alert integration")
        verbose_name_plural = _("alert integrations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=IntegrationKind.values), name="integration_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(rate_limit__gte=1, rate_window__gte=1),
                name="integration_rate_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AlertDedup(models.Model):
    """An alert key (groupKey, fingerprint or dedup_key) and the incident it opened.

    At most one open row per integration and key (a partial unique constraint): the
    database, not a read-then-write, decides which of two concurrent first alerts
    opens the incident; repeats only count.
    """

    integration = models.ForeignKey(
        Integration,
        verbose_name=_("integration"),
        on_delete=models.PROTECT,
        related_name="alert_keys",
    )
    key = models.TextField(_("alert key"))
    key_hash = models.CharField(_("key (SHA-256)"), max_length=64)
    incident = models.ForeignKey(
        Incident,
        verbose_name=_("incident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alert_keys",
    )
    is_open = models.BooleanField(_("open"), default=True)
    triggers = models.PositiveIntegerField(_("alerts received"), default=1)
    signature = models.CharField(
        _("content signature"),
        max_length=64,
        blank=True,
        help_text=_("Changes when the set of firing alerts or their severity changes."),
    )
    severity = models.CharField(_("alert severity"), max_length=2, blank=True)
    first_at = models.DateTimeField(_("first alert"))
    last_at = models.DateTimeField(_("last alert"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["-last_at", "-id"]
        verbose_name = _("alert key")
        verbose_name_plural = _("alert keys")
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "key_hash"],
                condition=models.Q(is_open=True),
                name="alert_dedup_one_open_key",
            )
        ]

    def __str__(self) -> str:
        return self.key[:80]


class IntegrationRateWindow(models.Model):
    """Requests per integration in one fixed window: a counter shared by every process."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    period = models.BigIntegerField(_("window number"), help_text=_("Epoch seconds // window."))
    hits = models.PositiveIntegerField(_("requests"), default=0)

    class Meta:
        verbose_name = _("rate window")
        verbose_name_plural = _("rate windows")
        constraints = [
            models.UniqueConstraint(fields=["integration", "period"], name="rate_window_unique")
        ]

    def __str__(self) -> str:
        return f"{self.integration_id}:{self.period} {self.hits}"
