"""Policies and their parts: calendars, levels, SLA targets, thresholds, overrides."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from escalations.rules.spec import ACTIONS, NOTIFICATION_METHODS
from incidents.models import SEVERITY_CHOICES

CLOCK_CHOICES = [
    ("first_response", _("First response")),
    ("resolution", _("Resolution")),
    ("update", _("Status update")),
    ("handoff_ack", _("Handoff acknowledgement")),
    ("level_deadline", _("Level deadline")),
    ("time_at_level", _("Time at level")),
    ("first_response_max", _("First response maximum")),
    ("resolution_max", _("Resolution maximum")),
]
MAXIMUM_HELP = _(
    "Later than the target (seed 002: target 2 hours, maximum 4 hours): when it passes, "
    "the policy's maximum route runs once."
)


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
    active policy means a new version (see escalations.policies.services).
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
    maximum = models.JSONField(
        _("maximum route"),
        default=dict,
        blank=True,
        help_text=_(
            "Who is told (group names; none: the top level) and where the incident goes "
            "when a target's maximum passes, once per incident."
        ),
    )
    regulatory_report = models.JSONField(
        _("regulatory report settings"),
        default=dict,
        blank=True,
        help_text=_(
            "When a regulatory report is due after an incident is marked as needing one, "
            "when the reminder goes out, who is told (seed 002; empty: 72h, 24h, Legal)."
        ),
    )
    deadlines = models.JSONField(
        _("level deadlines"),
        default=dict,
        blank=True,
        help_text=_(
            "Per severity, the level an incident must be at within a time of its opening "
            "(seed 002: P1 at Level 3 within 1 hour), going straight there when due."
        ),
    )
    notices = models.JSONField(
        _("notices"),
        default=dict,
        blank=True,
        help_text=_(
            "Per severity (or all), who is told at the opening or when the severity is "
            "raised to it, and at the latest when (seed 004: executives at once for Sev 1)."
        ),
    )
    severities = models.JSONField(
        _("severity definitions"),
        default=dict,
        blank=True,
        help_text=_(
            "What each severity means (definition, criteria, examples), shown where a "
            "severity is chosen."
        ),
    )
    war_room = models.JSONField(
        _("war room settings"),
        default=dict,
        blank=True,
        help_text=_("Status-update cadence by severity."),
    )
    # Which new incidents take this policy. A policy with no conditions at all is
    # only ever taken as the default (escalations.policies.services.policy_for_new_incident).
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
    deescalation_criteria = models.JSONField(_("de-escalation criteria"), default=list, blank=True)
    handoff_fields = models.JSONField(
        _("handoff note fields required when escalating to this level"), default=list, blank=True
    )
    contacts = models.JSONField(_("contacts"), default=dict, blank=True)
    first_response = models.DurationField(_("first response"), null=True, blank=True)
    resolution = models.DurationField(_("resolution"), null=True, blank=True)
    update_interval = models.DurationField(_("status update every"), null=True, blank=True)
    calendar = models.CharField(_("calendar"), max_length=80, blank=True)
    first_response_max = models.DurationField(
        _("first response maximum"), null=True, blank=True, help_text=MAXIMUM_HELP
    )
    resolution_max = models.DurationField(
        _("resolution maximum"), null=True, blank=True, help_text=MAXIMUM_HELP
    )
    schedule = models.CharField(
        _("on-call schedule"),
        max_length=120,
        blank=True,
        help_text=_(
            "An on-call schedule's name: notices go to whoever is on call, and an "
            "unacknowledged handoff pages the next person, then the escalation contact."
        ),
    )
    page_after = models.DurationField(
        _("page the next person after"),
        null=True,
        blank=True,
        help_text=_("Empty: the level's acknowledgement (first response) target."),
    )
    escalate_after = models.DurationField(
        _("escalate if unresolved after"),
        null=True,
        blank=True,
        help_text=_(
            "Time at this level: an incident not resolved this long after it arrived here "
            "goes one level up, once per arrival (seed 002: L1 30m, L2 2h, L3 8h). Counted "
            "in the calendar of its targets. Empty: no such limit; not on the top level."
        ),
    )

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
    first_response_max = models.DurationField(
        _("first response maximum"), null=True, blank=True, help_text=MAXIMUM_HELP
    )
    resolution_max = models.DurationField(
        _("resolution maximum"), null=True, blank=True, help_text=MAXIMUM_HELP
    )

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
    to_level = models.PositiveSmallIntegerField(
        _("to level"),
        null=True,
        blank=True,
        help_text=_(
            "Escalate straight to this level (seed 000's ladder); empty: the breach route."
        ),
    )

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
