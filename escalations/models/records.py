"""What happened: threshold firings, escalation records, trigger firings."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from escalations.models.policies import CLOCK_CHOICES
from escalations.rules.clocks import RESTARTING_CLOCKS
from escalations.rules.spec import MAXIMUM_CLOCKS


class ThresholdFiring(models.Model):
    """A threshold that fired: at most once per incident, clock, level and threshold,
    and for the clocks that restart (the status update at each public update, a level's
    time limit at each arrival), once per interval (`interval_start`).

    The unique constraints, not luck, are what make concurrent sweeps safe.
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
    # A restarting clock's interval: the public update (or the opening) the status-update
    # clock counts from; the arrival at the level a level's time limit counts from.
    interval_start = models.DateTimeField(_("interval started"), null=True, blank=True)

    class Meta:
        ordering = ["incident", "fired_at"]
        verbose_name = _("threshold firing")
        verbose_name_plural = _("threshold firings")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "clock", "level", "percent"],
                condition=~Q(clock__in=list(RESTARTING_CLOCKS)),
                name="firing_once",
            ),
            models.UniqueConstraint(
                fields=["incident", "clock", "level", "percent", "interval_start"],
                condition=Q(clock="update"),
                name="update_firing_once_per_interval",
            ),
            models.CheckConstraint(
                condition=~Q(clock="update") | Q(interval_start__isnull=False),
                name="update_firing_names_its_interval",
            ),
            # A level's time limit: once per arrival at the level.
            models.UniqueConstraint(
                fields=["incident", "clock", "level", "percent", "interval_start"],
                condition=Q(clock="time_at_level"),
                name="time_at_level_firing_once_per_arrival",
            ),
            models.CheckConstraint(
                condition=~Q(clock="time_at_level") | Q(interval_start__isnull=False),
                name="time_at_level_firing_names_its_arrival",
            ),
            # A target's maximum runs its route once per incident, at whatever level.
            models.UniqueConstraint(
                fields=["incident", "clock", "percent"],
                condition=Q(clock__in=list(MAXIMUM_CLOCKS)),
                name="maximum_firing_once",
            ),
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
