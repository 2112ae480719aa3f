"""On-call schedules: layers stored as the pure core's spec, overrides as rows.

The layers are edited together (one spec, validated by `Schedule.from_spec`); overrides are
edited often and by different people, so each is a row with who made it and why.
`escalations.schedules.selectors.schedule_core` builds the pure `Schedule` from both.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OnCallSchedule(models.Model):
    """Who is on call for a team, over time (issue 18).

    An imported schedule (`source` "ical") holds one layer of explicit shifts read from an
    iCal feed: its layers are replaced by each import and edited nowhere else; overrides may
    still be added on top."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("layers edited here")
        ICAL = "ical", _("imported from iCal")

    name = models.CharField(_("name"), max_length=120, unique=True)
    team = models.ForeignKey(
        "auth.Group",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="oncall_schedules",
        help_text=_("The group whose on-call this is (the name a policy level's team uses)."),
    )
    description = models.TextField(_("description"), blank=True)
    # {"timezone": ..., "layers": [...]} as `escalations.rules.oncall` reads it; no overrides.
    spec = models.JSONField(_("layers"), default=dict)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.MANUAL
    )
    source_url = models.URLField(
        _("feed address"),
        max_length=2000,
        blank=True,
        help_text=_("An imported schedule's iCal feed, read again every few hours."),
    )
    imported_at = models.DateTimeField(_("last imported"), null=True, blank=True)
    # Events of the last import that named no known person (shown in the admin).
    import_problems = models.JSONField(_("problems of the last import"), default=list, blank=True)
    # Why the last refresh from the feed failed; empty once one works again.
    import_error = models.TextField(_("last refresh error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("on-call schedule")
        verbose_name_plural = _("on-call schedules")

    def __str__(self) -> str:
        return self.name

    @property
    def time_zone(self) -> str:
        return str(self.spec.get("timezone", ""))

    @property
    def is_imported(self) -> bool:
        return self.source == self.Source.ICAL

    @property
    def rotation_people(self) -> set[str]:
        """Usernames in any of its layers."""
        people = set()
        for layer in self.spec.get("layers", ()):
            people.update(layer.get("people", ()))
            # an imported layer of explicit shifts; a shift of nobody has person None
            people.update(s["person"] for s in layer.get("shifts", ()) if s.get("person"))
        return people

    def has_member(self, user) -> bool:
        """In its team or in one of its rotations: who may ask for cover or take a shift."""
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if user.get_username() in self.rotation_people:
            return True
        return self.team_id is not None and user.groups.filter(pk=self.team_id).exists()


class OnCallOverride(models.Model):
    """`person` is on call in [start, end) whatever the layers say; no person: nobody is
    (leave without cover), which the coverage check reports as a gap."""

    schedule = models.ForeignKey(
        OnCallSchedule,
        verbose_name=_("schedule"),
        on_delete=models.CASCADE,
        related_name="override_rows",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="oncall_overrides",
        help_text=_("Leave empty for nobody on call (leave without cover)."),
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        # Oldest first: in the pure core the later override wins where they overlap.
        ordering = ("created_at", "id")
        verbose_name = _("on-call override")
        verbose_name_plural = _("on-call overrides")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")),
                name="oncall_override_end_after_start",
            )
        ]
        indexes = [models.Index(fields=["schedule", "end"], name="oncall_override_sched_end")]

    def __str__(self) -> str:
        who = self.person.get_username() if self.person_id else _("nobody")
        return f"{self.schedule}: {who} {self.start:%Y-%m-%d %H:%M} - {self.end:%Y-%m-%d %H:%M}"


class CoverRequestStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


class OnCallOverrideRequest(models.Model):
    """A person on a schedule asks another to cover [start, end) of their shift, and for a
    swap offers to cover [swap_start, swap_end) of the other's in return. Accepting it makes
    the override (`override`, and `swap_override` for a swap) in the same transaction;
    declining or cancelling ends it. Kept afterwards: who asked whom, what came of it."""

    schedule = models.ForeignKey(
        OnCallSchedule,
        verbose_name=_("schedule"),
        on_delete=models.CASCADE,
        related_name="override_requests",
    )
    from_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        on_delete=models.PROTECT,
        related_name="oncall_requests_made",
    )
    to_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked to cover"),
        on_delete=models.PROTECT,
        related_name="oncall_requests_received",
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    swap_start = models.DateTimeField(_("in return from"), null=True, blank=True)
    swap_end = models.DateTimeField(_("in return until"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CoverRequestStatus.choices,
        default=CoverRequestStatus.REQUESTED,
    )
    override = models.OneToOneField(
        OnCallOverride,
        verbose_name=_("override"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="request",
    )
    swap_override = models.OneToOneField(
        OnCallOverride,
        verbose_name=_("override in return"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="swap_request",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("on-call cover request")
        verbose_name_plural = _("on-call cover requests")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")),
                name="oncall_request_end_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_person=models.F("to_person")),
                name="oncall_request_two_people",
            ),
            models.CheckConstraint(
                condition=models.Q(swap_start__isnull=True, swap_end__isnull=True)
                | models.Q(swap_end__gt=models.F("swap_start")),
                name="oncall_request_swap_interval",
            ),
        ]
        indexes = [
            models.Index(fields=["to_person", "status"], name="oncall_request_to_status"),
            models.Index(fields=["from_person", "status"], name="oncall_request_from_status"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.schedule}: {self.from_person} asks {self.to_person} "
            f"{self.start:%Y-%m-%d %H:%M} - {self.end:%Y-%m-%d %H:%M} ({self.status})"
        )

    @property
    def is_swap(self) -> bool:
        return self.swap_start is not None


class Page(models.Model):
    """One page of a handoff to a level with an on-call schedule (issue 18): step 0 is the
    person on call when the incident arrived; while nobody acknowledges, every
    `page_after` the next person in the schedule's paging order is paged, and last the
    level's escalation contact. The unique step makes concurrent sweeps page once."""

    escalation = models.ForeignKey(
        "escalations.Escalation",
        verbose_name=_("escalation"),
        on_delete=models.PROTECT,
        related_name="pages",
    )
    step = models.PositiveSmallIntegerField(_("step"))
    schedule = models.CharField(_("schedule"), max_length=120)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Who was paged when no person was: the level's escalation contact, or "" for the
    # team (nobody on call).
    address = models.CharField(_("address"), max_length=254, blank=True)
    due_at = models.DateTimeField(_("due"))
    paged_at = models.DateTimeField(_("paged"))
    # When the next step is due while the handoff waits; None: the ladder has ended
    # (acknowledged, moved on, or nobody left to page).
    next_due_at = models.DateTimeField(_("next page due"), null=True, blank=True)

    class Meta:
        ordering = ("escalation", "step")
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        constraints = [
            models.UniqueConstraint(fields=["escalation", "step"], name="page_once_per_step")
        ]
        indexes = [
            models.Index(
                fields=["next_due_at"],
                name="page_next_due_idx",
                condition=models.Q(next_due_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        who = self.person.get_username() if self.person_id else (self.address or _("the team"))
        return f"{self.schedule} step {self.step}: {who}"
