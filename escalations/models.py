from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.models import SEVERITY_CHOICES

from escalations.spec import ACTIONS, NOTIFICATION_METHODS

CLOCK_CHOICES = [
    ("first_response", _("First response")),
    ("resolution", _("Resolution")),
    ("update", _("Status update")),
    ("handoff_ack", _("Handoff acknowledgement")),
]


class Calendar(models.Model):
    """A named business calendar in the library, edited in the admin.

    Policies copy the calendars they use into their own version (a snapshot):
    editing a calendar here changes new policy versions, never history.
    """

    name = models.CharField(_("name"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    spec = models.JSONField(
        _("hours"),
        help_text=_(
            '{"timezone": "Europe/Berlin", "hours": {"mon": ["09:00-17:00"]}, '
            '"holidays": ["2026-12-25"]} or {"timezone": "UTC", "hours": "24/7"}'
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class Policy(models.Model):
    """One version of an escalation policy (workflow).

    Drafts can be edited; an active or retired version never changes again, so
    an incident that points at it keeps the rules it started with. Changing an
    active policy means a new version (see escalations.policies).
    """

    name = models.SlugField(_("name"), max_length=80)
    version = models.PositiveIntegerField(_("version"), default=1)
    status = models.CharField(
        _("status"), max_length=10, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT
    )
    is_default = models.BooleanField(
        _("default"),
        default=False,
        help_text=_("Taken by new incidents that no other active policy matches."),
    )
    description = models.TextField(_("description"), blank=True)
    clock_start = models.CharField(
        _("clocks count from"),
        max_length=10,
        choices=[
            ("incident", _("the incident's opening")),
            ("level", _("the moment the current level took it")),
        ],
        default="incident",
    )
    calendars = models.JSONField(
        _("calendars"),
        default=dict,
        blank=True,
        help_text=_("Snapshot of the business calendars this version uses, by name."),
    )
    default_calendar = models.CharField(_("default calendar"), max_length=80, default="24/7")
    pause_statuses = models.JSONField(_("statuses that pause the clocks"), default=list)
    triggers = models.JSONField(_("trigger settings"), default=dict, blank=True)
    reviews = models.JSONField(
        _("post-incident review settings"),
        default=dict,
        blank=True,
        help_text=_("When a review is required, when it is due, when reminders go out."),
    )
    war_room = models.JSONField(
        _("war room settings"),
        default=dict,
        blank=True,
        help_text=_("Status-update cadence by severity."),
    )
    # Which new incidents take this policy. A policy with no conditions at all is
    # only ever taken as the default (escalations.policies.policy_for_new_incident).
    match_channels = models.ManyToManyField(
        "incidents.Channel", verbose_name=_("channels"), blank=True, related_name="+"
    )
    match_components = models.ManyToManyField(
        "incidents.Component", verbose_name=_("components"), blank=True, related_name="+"
    )
    match_account_tiers = models.JSONField(_("account tiers"), default=list, blank=True)
    priority = models.IntegerField(_("priority"), default=100, help_text=_("Lower is tried first."))
    source = models.CharField(_("loaded from"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "-version"]
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="policy_name_version"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(status="active"), name="policy_one_active_version"
            ),
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True, status="active"),
                name="policy_one_active_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_editable(self) -> bool:
        return self.status == PolicyStatus.DRAFT


class Level(models.Model):
    """A rung of the ladder, with its team, contacts, SLA and handoff requirements."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="levels")
    number = models.PositiveSmallIntegerField(_("level"))
    name = models.CharField(_("name"), max_length=120)
    team = models.CharField(
        _("team"), max_length=120, blank=True, help_text=_("A group name, e.g. support-specialists")
    )
    description = models.TextField(_("description"), blank=True)
    capabilities = models.JSONField(_("capabilities"), default=list, blank=True)
    escalation_criteria = models.JSONField(_("escalation criteria"), default=list, blank=True)
    handoff_fields = models.JSONField(
        _("handoff note fields required when escalating to this level"), default=list, blank=True
    )
    contacts = models.JSONField(_("contacts"), default=dict, blank=True)
    first_response = models.DurationField(_("first response"), null=True, blank=True)
    resolution = models.DurationField(_("resolution"), null=True, blank=True)
    update_interval = models.DurationField(_("status update every"), null=True, blank=True)
    calendar = models.CharField(_("calendar"), max_length=80, blank=True)

    class Meta:
        ordering = ["policy", "number"]
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="level_unique_number")
        ]

    def __str__(self) -> str:
        return f"L{self.number} · {self.name}"


class SlaTarget(models.Model):
    """Seed 002's matrix: targets for one severity at one level, over the level's own."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="targets")
    severity = models.CharField(_("severity"), max_length=2, choices=SEVERITY_CHOICES)
    level = models.PositiveSmallIntegerField(_("level"))
    first_response = models.DurationField(_("first response"), null=True, blank=True)
    resolution = models.DurationField(_("resolution"), null=True, blank=True)
    update_interval = models.DurationField(_("status update every"), null=True, blank=True)
    calendar = models.CharField(_("calendar"), max_length=80, blank=True)

    class Meta:
        ordering = ["policy", "severity", "level"]
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "severity", "level"], name="target_unique_cell"
            )
        ]

    def __str__(self) -> str:
        return f"{self.severity} at L{self.level}"


class Threshold(models.Model):
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="thresholds")
    percent = models.PositiveSmallIntegerField(
        _("at % of the target"), validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    action = models.CharField(_("action"), max_length=30, choices=[(a, a) for a in ACTIONS])
    clocks = models.JSONField(_("clocks"), default=list)

    class Meta:
        ordering = ["policy", "percent"]
        verbose_name = _("threshold")
        verbose_name_plural = _("thresholds")

    def __str__(self) -> str:
        return f"{self.percent}% {self.action}"


class SeverityOverride(models.Model):
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="overrides")
    severity = models.CharField(_("severity"), max_length=2, choices=SEVERITY_CHOICES)
    route_to = models.PositiveSmallIntegerField(_("route to level"))
    notification = models.CharField(
        _("notification"), max_length=20, choices=[(m, m) for m in NOTIFICATION_METHODS]
    )
    description = models.CharField(_("description"), max_length=255, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["policy", "position"]
        verbose_name = _("severity override")
        verbose_name_plural = _("severity overrides")
        constraints = [
            models.UniqueConstraint(fields=["policy", "severity"], name="override_unique_severity")
        ]

    def __str__(self) -> str:
        return f"{self.severity} -> L{self.route_to}"


class ThresholdFiring(models.Model):
    """A threshold that fired: at most once per incident, clock, level and threshold.

    The unique constraint, not luck, is what makes concurrent sweeps safe.
    """

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="threshold_firings"
    )
    clock = models.CharField(_("clock"), max_length=20, choices=CLOCK_CHOICES)
    level = models.PositiveSmallIntegerField(_("level"))
    percent = models.PositiveSmallIntegerField(_("threshold %"))
    action = models.CharField(_("action"), max_length=30)
    due_at = models.DateTimeField(_("crossed at"))
    fired_at = models.DateTimeField(_("fired at"))

    class Meta:
        ordering = ["incident", "fired_at"]
        verbose_name = _("threshold firing")
        verbose_name_plural = _("threshold firings")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "clock", "level", "percent"], name="firing_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.clock} {self.percent}% at L{self.level}"


class Trigger(models.TextChoices):
    SLA = "sla", _("SLA threshold")
    SEVERITY = "severity", _("Severity")
    IMPACT = "impact", _("Impact")
    REPEAT = "repeat", _("Repeat incident")
    BURST = "burst", _("Several high-severity incidents in one component")
    EXECUTIVE = "executive", _("Executive")
    MANUAL = "manual", _("Engineer")
    MANAGEMENT = "management", _("Management")
    DE_ESCALATION = "de_escalation", _("De-escalation")


class ReasonCategory(models.TextChoices):
    # engineer-initiated (seed 000)
    ROOT_CAUSE_UNCLEAR = "root_cause_unclear", _("Root cause unclear after investigation")
    ARCHITECTURAL_CHANGE = "architectural_change", _("Fix requires architectural changes")
    CROSS_TEAM = "cross_team", _("Cross-team coordination needed")
    RESOURCE_CONSTRAINTS = "resource_constraints", _("Resource constraints blocking resolution")
    EXPERTISE = "expertise", _("Lack of expertise or knowledge")
    CUSTOMER_REQUEST = "customer_request", _("Customer requested escalation")
    # management-initiated (seed 000)
    PATTERN = "pattern", _("Pattern of similar incidents")
    STRATEGIC = "strategic", _("Strategic importance")
    COMPLIANCE = "compliance", _("Compliance requirement")
    AUDIT_FINDING = "audit_finding", _("Governance audit finding")
    # automatic
    AUTOMATIC = "automatic", _("Automatic")


ENGINEER_CATEGORIES = [
    ReasonCategory.ROOT_CAUSE_UNCLEAR,
    ReasonCategory.ARCHITECTURAL_CHANGE,
    ReasonCategory.CROSS_TEAM,
    ReasonCategory.RESOURCE_CONSTRAINTS,
    ReasonCategory.EXPERTISE,
    ReasonCategory.CUSTOMER_REQUEST,
]
MANAGEMENT_CATEGORIES = [
    ReasonCategory.PATTERN,
    ReasonCategory.STRATEGIC,
    ReasonCategory.COMPLIANCE,
    ReasonCategory.AUDIT_FINDING,
]


class Escalation(models.Model):
    """One move between levels (seed 000 step 4): append-only.

    The move itself never changes. Its outcome (the receiver's acknowledgement,
    the decision, the de-escalation) is written once each, when it happens;
    the database refuses any other update (trigger in migration 0003). A
    correction is a new record.
    """

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="escalations"
    )
    from_level = models.PositiveSmallIntegerField(_("from level"))
    to_level = models.PositiveSmallIntegerField(_("to level"))
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    category = models.CharField(
        _("reason category"),
        max_length=30,
        choices=ReasonCategory.choices,
        default=ReasonCategory.AUTOMATIC,
    )
    reason = models.TextField(_("reason"))
    note = models.JSONField(_("handoff note"), default=dict, blank=True)
    decision_sought = models.TextField(_("decision sought"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("escalated by"),
        help_text=_("Empty when the system escalated."),
    )
    at = models.DateTimeField(_("escalated at"))
    clock = models.CharField(_("clock"), max_length=20, blank=True)
    sla_percent = models.DecimalField(
        _("% of SLA at the time"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    notify_groups = models.JSONField(_("also notified"), default=list, blank=True)
    limited_distribution = models.BooleanField(_("limited distribution"), default=False)
    # Outcome: each written once.
    acknowledged_at = models.DateTimeField(_("handoff acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    decision_made = models.TextField(_("decision made"), blank=True)
    decision_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decision by"),
    )
    decision_at = models.DateTimeField(_("decision at"), null=True, blank=True)
    de_escalated_at = models.DateTimeField(_("de-escalated"), null=True, blank=True)
    resolution_summary = models.TextField(_("resolution summary"), blank=True)

    class Meta:
        ordering = ["incident", "at", "id"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        permissions = [
            ("escalate_as_management", _("Can escalate for management reasons")),
            ("record_decision", _("Can record escalation decisions")),
            ("view_review_queues", _("Can see the review queues")),
            ("view_metrics", _("Can see metrics and weekly reports")),
            ("simulate_policy", _("Can replay incidents against a draft policy")),
        ]
        indexes = [
            models.Index(fields=["incident", "at"], name="escalation_incident_idx"),
            models.Index(fields=["at"], name="escalation_at_idx"),
            models.Index(
                fields=["at"],
                name="escalation_awaiting_ack_idx",
                condition=Q(
                    acknowledged_at__isnull=True,
                    trigger__in=[t for t in Trigger.values if t != "de_escalation"],
                ),
            ),
            # Review queue "escalations awaiting a decision".
            models.Index(
                fields=["at"],
                name="escalation_undecided_idx",
                condition=Q(decision_at__isnull=True) & ~Q(decision_sought=""),
            ),
        ]

    def __str__(self) -> str:
        return f"L{self.from_level} -> L{self.to_level} ({self.get_trigger_display()})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Escalations are append-only; outcomes are set by their services.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Escalations are append-only: they are never deleted.")

    @property
    def is_up(self) -> bool:
        return self.to_level > self.from_level

    @property
    def time_to_decision(self):
        return self.decision_at - self.at if self.decision_at else None


class TriggerFiring(models.Model):
    """A non-time trigger that fired for an incident: once per incident and key."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="trigger_firings"
    )
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    key = models.CharField(_("key"), max_length=120)
    fired_at = models.DateTimeField(_("fired at"))
    escalation = models.ForeignKey(
        Escalation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["incident", "fired_at"]
        verbose_name = _("trigger firing")
        verbose_name_plural = _("trigger firings")
        constraints = [
            models.UniqueConstraint(fields=["incident", "trigger", "key"], name="trigger_once")
        ]

    def __str__(self) -> str:
        return f"{self.trigger}:{self.key}"


# --- post-incident reviews (seed 004) ---------------------------------------------------------


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")


class PreventionConfidence(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class PostIncidentReview(models.Model):
    """Seed 004's PIR for one incident. Changed only through escalations.reviews.

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
    clock (escalations.clocks.update_clock): a public update restarts it, pause
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
