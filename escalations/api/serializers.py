"""Escalation API bodies: the escalation record, the handoff a move needs, policies
(read-only), post-incident reviews and action items, and the metrics page as JSON.
Input is only checked here; escalations.engine.services and escalations.followup.reviews
change state."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from escalations.followup.reviews import missing_to_publish
from escalations.models import (
    ENGINEER_CATEGORIES,
    MANAGEMENT_CATEGORIES,
    ActionItem,
    ActionItemStatus,
    Escalation,
    Level,
    OnCallOverride,
    OnCallOverrideRequest,
    OnCallSchedule,
    Page,
    Policy,
    PostIncidentReview,
    PreventionConfidence,
    RegulatoryReport,
    SeverityOverride,
    SlaTarget,
    Threshold,
)
from escalations.rules.handoff import CHECKLIST
from incidents.api.serializers import MAX_INT, SEVERITIES, SlugLookupField, UsernameField
from incidents.models import Incident
from incidents.selectors import incidents_visible_to, visibility_q

LEVEL_NUMBER = {"min_value": 0, "max_value": 32767}


class PageSerializer(serializers.ModelSerializer):
    """One page of a handoff to an on-call level: a person, or an address (the escalation
    contact), or neither (nobody on call: the whole team heard)."""

    person = UsernameField(read_only=True, allow_null=True)

    class Meta:
        model = Page
        fields = ["step", "schedule", "person", "address", "due_at", "paged_at", "next_due_at"]
        read_only_fields = fields


class EscalationSerializer(serializers.ModelSerializer):
    incident = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    pages = PageSerializer(many=True, read_only=True)
    actor = UsernameField(read_only=True, allow_null=True)
    acknowledged_by = UsernameField(read_only=True, allow_null=True)
    decision_by = UsernameField(read_only=True, allow_null=True)
    is_up = serializers.BooleanField(read_only=True)

    class Meta:
        model = Escalation
        fields = [
            "id",
            "incident",
            "from_level",
            "to_level",
            "is_up",
            "trigger",
            "category",
            "reason",
            "note",
            "decision_sought",
            "actor",
            "at",
            "clock",
            "sla_percent",
            "notify_groups",
            "limited_distribution",
            "acknowledged_at",
            "acknowledged_by",
            "decision_made",
            "decision_by",
            "decision_at",
            "de_escalated_at",
            "resolution_summary",
            "pages",
        ]
        read_only_fields = fields


class RegulatoryReportSerializer(serializers.ModelSerializer):
    """Seed 002 "Regulatory Reporting": the incident's report to a regulator."""

    incident = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    required_by = UsernameField(read_only=True, allow_null=True)
    filed_by = UsernameField(read_only=True, allow_null=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = RegulatoryReport
        fields = [
            "incident",
            "reason",
            "required_at",
            "required_by",
            "due_at",
            "is_overdue",
            "filed_at",
            "filed_by",
            "filed_reference",
        ]
        read_only_fields = fields

    def get_is_overdue(self, obj) -> bool:
        return obj.is_overdue(timezone.now())


class RegulatoryReportRequireSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=200, help_text="Why a report is required (e.g. personal data breach)."
    )


class RegulatoryReportFileSerializer(serializers.Serializer):
    reference = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="The regulator's reference, if it gave one.",
    )


class EscalateSerializer(serializers.Serializer):
    """What the web's escalate form asks: the target, why, the note fields the target
    level requires (GET .../escalation-options/ lists them) and the handoff checklist."""

    to_level = serializers.IntegerField(**LEVEL_NUMBER)
    category = serializers.ChoiceField(
        choices=[(c.value, c.label) for c in ENGINEER_CATEGORIES + MANAGEMENT_CATEGORIES],
        help_text="Management reasons need the escalate-as-management permission.",
    )
    reason = serializers.CharField()
    decision_sought = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        default=dict,
        help_text="Handoff note: field name to text, e.g. investigation_summary.",
    )
    checklist = serializers.ListField(
        child=serializers.ChoiceField(choices=list(CHECKLIST.items())),
        required=False,
        default=list,
        help_text="Every item must be confirmed.",
    )


class DeEscalateSerializer(serializers.Serializer):
    to_level = serializers.IntegerField(**LEVEL_NUMBER)
    reason = serializers.CharField()
    resolution_summary = serializers.CharField()


class DecisionSerializer(serializers.Serializer):
    decision = serializers.CharField()


class ManagerRequestSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="What the customer said."
    )


class ManagerRequestResultSerializer(serializers.Serializer):
    escalation = EscalationSerializer(allow_null=True)


class NamedValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class LevelChoiceSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    handoff_fields = NamedValueSerializer(many=True)


class EscalationOptionsSerializer(serializers.Serializer):
    policy = serializers.CharField(allow_null=True)
    current_level = serializers.IntegerField()
    escalate_to = LevelChoiceSerializer(many=True)
    de_escalate_to = LevelChoiceSerializer(many=True)
    categories = NamedValueSerializer(many=True)
    checklist = NamedValueSerializer(many=True)
    pending_handoff = serializers.IntegerField(allow_null=True)
    context = serializers.DictField(help_text="Facts filled into the handoff for the next level.")


# --- policies -----------------------------------------------------------------------------------


class LevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Level
        fields = [
            "number",
            "name",
            "team",
            "description",
            "capabilities",
            "escalation_criteria",
            "deescalation_criteria",
            "handoff_fields",
            "contacts",
            "schedule",
            "page_after",
            "escalate_after",
            "first_response",
            "resolution",
            "update_interval",
            "calendar",
            "first_response_max",
            "resolution_max",
        ]
        read_only_fields = fields


class SlaTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = SlaTarget
        fields = [
            "severity",
            "level",
            "first_response",
            "resolution",
            "update_interval",
            "calendar",
            "first_response_max",
            "resolution_max",
        ]
        read_only_fields = fields


class ThresholdSerializer(serializers.ModelSerializer):
    class Meta:
        model = Threshold
        fields = ["percent", "action", "clocks"]
        read_only_fields = fields


class SeverityOverrideSerializer(serializers.ModelSerializer):
    class Meta:
        model = SeverityOverride
        fields = ["severity", "route_to", "notification", "description"]
        read_only_fields = fields


class PolicySerializer(serializers.ModelSerializer):
    levels = LevelSerializer(many=True, read_only=True)
    targets = SlaTargetSerializer(many=True, read_only=True)
    thresholds = ThresholdSerializer(many=True, read_only=True)
    overrides = SeverityOverrideSerializer(many=True, read_only=True)
    match_channels = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    match_components = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Policy
        fields = [
            "id",
            "name",
            "version",
            "status",
            "is_default",
            "description",
            "clock_start",
            "default_calendar",
            "calendars",
            "pause_statuses",
            "triggers",
            "notices",
            "maximum",
            "match_channels",
            "match_components",
            "match_account_tiers",
            "priority",
            "activated_at",
            "levels",
            "targets",
            "thresholds",
            "overrides",
        ]
        read_only_fields = fields


# --- post-incident reviews and action items ------------------------------------------------------


class ActionItemSerializer(serializers.ModelSerializer):
    review = serializers.PrimaryKeyRelatedField(read_only=True)
    incident = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    owner = UsernameField(read_only=True)
    created_by = UsernameField(read_only=True, allow_null=True)
    closed_by = UsernameField(read_only=True, allow_null=True)
    is_open = serializers.BooleanField(read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "review",
            "incident",
            "title",
            "description",
            "owner",
            "due_date",
            "due_at",
            "status",
            "is_open",
            "overdue",
            "is_permanent_fix",
            "created_at",
            "created_by",
            "closed_at",
            "closed_by",
            "closing_note",
        ]
        read_only_fields = fields

    def get_overdue(self, obj: ActionItem) -> bool:
        """Open and past the end of its due date (as the action-item queue)."""
        return obj.is_overdue(timezone.now())


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="When it happened (with a zone; naive: yours).")
    text = serializers.CharField(max_length=2000)


def _text_list(**kwargs):
    return serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        help_text="One item per entry; blank ones are dropped.",
        **kwargs,
    )


class ReviewSerializer(serializers.ModelSerializer):
    incident = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    incident_title = serializers.CharField(source="incident.title", read_only=True)
    severity = serializers.ChoiceField(
        source="incident.severity", choices=SEVERITIES, read_only=True
    )
    owner = UsernameField(read_only=True, allow_null=True)
    created_by = UsernameField(read_only=True, allow_null=True)
    published_by = UsernameField(read_only=True, allow_null=True)
    required_reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    timeline = TimelineEntrySerializer(many=True, read_only=True)
    contributing_factors = serializers.ListField(child=serializers.CharField(), read_only=True)
    went_well = serializers.ListField(child=serializers.CharField(), read_only=True)
    went_poorly = serializers.ListField(child=serializers.CharField(), read_only=True)
    root_cause_key = serializers.CharField(read_only=True)  # may be blank: no slug pattern
    prevention_confidence = serializers.ChoiceField(
        choices=PreventionConfidence.choices, allow_blank=True, read_only=True
    )
    similar_incidents = serializers.SerializerMethodField()
    action_items = ActionItemSerializer(many=True, read_only=True)
    overdue = serializers.SerializerMethodField()
    missing_to_publish = serializers.SerializerMethodField()
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = PostIncidentReview
        fields = [
            "id",
            "incident",
            "incident_title",
            "severity",
            "status",
            "required",
            "required_reasons",
            "owner",
            "due_at",
            "overdue",
            "customers_impacted",
            "business_impact",
            "timeline",
            "root_cause_what",
            "root_cause_why",
            "root_cause_not_caught",
            "root_cause_key",
            "contributing_factors",
            "went_well",
            "went_poorly",
            "prevention_confidence",
            "similar_incidents",
            "action_items",
            "missing_to_publish",
            "created_at",
            "created_by",
            "updated_at",
            "submitted_at",
            "published_at",
            "published_by",
            "web_url",
        ]
        read_only_fields = fields

    def get_similar_incidents(self, obj: PostIncidentReview) -> list[str]:
        """References of the confirmed similar incidents you may see."""
        return [link.incident.reference for link in obj.similar_links.all()]

    def get_overdue(self, obj: PostIncidentReview) -> bool:
        """Not published and past its due time (as the review queue)."""
        return obj.is_overdue(timezone.now())

    @extend_schema_field(
        serializers.DictField(
            child=serializers.CharField(),
            help_text="Paragraph -> what publishing still needs; empty when complete.",
        )
    )
    def get_missing_to_publish(self, obj: PostIncidentReview) -> dict[str, str]:
        return missing_to_publish(obj)

    def get_web_url(self, obj: PostIncidentReview) -> str:
        return settings.SITE_URL + reverse("escalations:pir", args=[obj.incident.reference])


class ReviewRootCauseSerializer(serializers.Serializer):
    what_happened = serializers.CharField(allow_blank=True)
    why_happened = serializers.CharField(allow_blank=True)
    why_not_caught = serializers.CharField(allow_blank=True)


def _strings():
    return serializers.ListField(child=serializers.CharField())


class ReviewDocumentBodySerializer(serializers.Serializer):
    incident_id = serializers.CharField()
    severity = serializers.CharField(help_text="Sev 1..Sev 4.")
    duration = serializers.CharField(help_text="Opening to resolution, in words.")
    customers_impacted = serializers.IntegerField(allow_null=True)
    business_impact = serializers.CharField(allow_blank=True)
    timeline = serializers.ListField(
        child=serializers.CharField(), help_text="'14:23 - what happened', in your zone."
    )
    root_cause = ReviewRootCauseSerializer()
    contributing_factors = _strings()
    what_went_well = _strings()
    what_went_poorly = _strings()
    action_items = serializers.ListField(
        child=serializers.CharField(), help_text="'Do this [Owner: ...] [Due: ...] [Status]'."
    )
    prevention_confidence = serializers.CharField(allow_blank=True)
    similar_incidents = _strings()


class ReviewDocumentSerializer(serializers.Serializer):
    """Seed 004's `post_incident_review:` YAML (the shape of the web's pir.yaml)."""

    post_incident_review = ReviewDocumentBodySerializer()


class VisibleQuerysetMixin:
    """A related field whose choices are limited to what the requesting user may see:
    anything else reads as "does not exist" (as a hidden incident's 404)."""

    def get_queryset(self):
        request = self.context.get("request")
        return self.visible(request.user if request is not None else None)


class VisibleIncidentField(VisibleQuerysetMixin, SlugLookupField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="reference", queryset=Incident.objects.all(), **kwargs)

    def visible(self, user):
        return incidents_visible_to(user)


class VisibleReviewField(VisibleQuerysetMixin, serializers.PrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        super().__init__(queryset=PostIncidentReview.objects.all(), **kwargs)

    def visible(self, user):
        return PostIncidentReview.objects.filter(visibility_q(user, "incident__"))


class ReviewCreateSerializer(serializers.Serializer):
    incident = VisibleIncidentField(help_text="Reference of the incident to review.")


class ReviewUpdateSerializer(serializers.Serializer):
    """The review's paragraphs (escalations.followup.reviews.EDITABLE_FIELDS); send only what
    changes. Lists replace the whole list."""

    owner = UsernameField(required=False, allow_null=True, help_text="Writes the review.")
    customers_impacted = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_INT
    )
    business_impact = serializers.CharField(required=False, allow_blank=True)
    timeline = TimelineEntrySerializer(many=True, required=False)
    root_cause_what = serializers.CharField(required=False, allow_blank=True)
    root_cause_why = serializers.CharField(required=False, allow_blank=True)
    root_cause_not_caught = serializers.CharField(required=False, allow_blank=True)
    root_cause_key = serializers.SlugField(max_length=80, required=False, allow_blank=True)
    contributing_factors = _text_list(required=False)
    went_well = _text_list(required=False)
    went_poorly = _text_list(required=False)
    prevention_confidence = serializers.ChoiceField(
        choices=PreventionConfidence.choices, required=False, allow_blank=True
    )

    def changes(self) -> dict:
        """The validated values as the service takes them (timeline times as ISO text)."""
        changes = dict(self.validated_data)
        if "timeline" in changes:
            changes["timeline"] = [
                {"at": entry["at"].isoformat(), "text": entry["text"]}
                for entry in changes["timeline"]
            ]
        return changes


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="What needs to change.")


class ActionItemCreateSerializer(serializers.Serializer):
    review = VisibleReviewField(help_text="Id of the review the item comes from.")
    title = serializers.CharField(max_length=200)
    owner = UsernameField(help_text="One owner, who must be able to see the incident.")
    due_date = serializers.DateField(help_text="Due at the end of this day in the owner's zone.")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    is_permanent_fix = serializers.BooleanField(required=False, default=False)


class ActionItemUpdateSerializer(serializers.Serializer):
    """Hand an open item to someone else, move its due date, or mark it in progress."""

    owner = UsernameField(required=False)
    due_date = serializers.DateField(required=False)
    status = serializers.ChoiceField(
        choices=ActionItemStatus.choices,
        required=False,
        help_text="open or in_progress; close the item (POST .../close/) to finish it.",
    )

    def validate(self, data):
        if not data:
            raise serializers.ValidationError("Change the owner, the due date or the status.")
        return data


ITEM_OUTCOMES = [
    (ActionItemStatus.DONE.value, ActionItemStatus.DONE.label),
    (ActionItemStatus.WONT_DO.value, ActionItemStatus.WONT_DO.label),
]


class ActionItemCloseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ITEM_OUTCOMES, help_text="done or wont_do.")
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required for wont_do."
    )


# --- metrics ------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.NUMBER)
class NumberField(serializers.Field):
    """A number as it is (an integer stays an integer)."""

    def to_representation(self, value):
        return value


class MetricTargetSerializer(serializers.Serializer):
    label = serializers.CharField()
    met = serializers.BooleanField(allow_null=True, help_text="null: nothing to judge yet.")


class MetricCellSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="As the page shows it.")
    number = NumberField(allow_null=True, help_text="The count, for cells that are one.")
    target = MetricTargetSerializer(allow_null=True)


class MetricFigureSerializer(serializers.Serializer):
    table = serializers.CharField(help_text="Slug of the table it comes from.")
    label = serializers.CharField()
    value = serializers.CharField()
    target = MetricTargetSerializer(allow_null=True)


class MetricTableSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    available = serializers.BooleanField()
    headers = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField(child=MetricCellSerializer()))
    note = serializers.CharField(allow_blank=True)


@extend_schema_serializer(many=False)
class MetricsSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First day counted (incidents opened from).")
    end = serializers.DateField(help_text="Last day counted, included.")
    as_of = serializers.DateTimeField()
    figures = MetricFigureSerializer(many=True)
    tables = MetricTableSerializer(many=True)


# --- on-call schedules ------------------------------------------------------------------------


class ScheduleSerializer(serializers.ModelSerializer):
    """A schedule; `spec` is the pure core's {timezone, layers} (escalations.rules.oncall).
    Writes are checked by escalations.schedules.services (errors name the spec path)."""

    team = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Group.objects.all(),
        allow_null=True,
        required=False,
        help_text="The group (team) whose on-call this is.",
    )
    spec = serializers.JSONField(
        help_text='{"timezone": "Europe/Berlin", "layers": [{"people": [...], '
        '"recurrence": "weekly", "start": "2026-01-05", "handoff": "09:00"}]}'
    )
    time_zone = serializers.CharField(read_only=True)
    source_host = serializers.SerializerMethodField(
        help_text="The host of an imported schedule's feed (the address itself may carry a "
        "secret token: the admin shows it to those who keep schedules)."
    )

    class Meta:
        model = OnCallSchedule
        fields = [
            "id",
            "name",
            "team",
            "description",
            "time_zone",
            "spec",
            "source",
            "source_host",
            "imported_at",
            "import_problems",
            "created_at",
            "updated_at",
        ]
        # An imported schedule's layers change only by importing again (the service refuses
        # a new spec for it); where they come from is the import's to say.
        read_only_fields = [
            "source",
            "imported_at",
            "import_problems",
            "created_at",
            "updated_at",
        ]
        # The service checks the name (case-insensitively), with the other problems at once.
        extra_kwargs = {"name": {"validators": []}}

    def get_source_host(self, schedule) -> str:
        return (urlsplit(schedule.source_url).hostname or "") if schedule.source_url else ""


class OnCallPersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField(help_text="Full name; the username when the user has none.")


class OnCallShiftSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class OnCallSerializer(serializers.Serializer):
    """Who is on call at `at`: `person` null means nobody (a coverage gap)."""

    at = serializers.DateTimeField()
    person = OnCallPersonSerializer(allow_null=True)
    source = serializers.ChoiceField(
        choices=["layer", "override"],
        allow_null=True,
        help_text="Where the person comes from; null when nobody is on call.",
    )
    layer = serializers.DictField(
        allow_null=True, help_text="{index, name} of the layer (0 = bottom), or null."
    )
    override = serializers.IntegerField(
        allow_null=True, help_text="Id of the override row, or null."
    )
    shift = OnCallShiftSerializer(
        allow_null=True,
        help_text="The stretch around `at` during which this source keeps this person on call.",
    )
    paging_order = OnCallPersonSerializer(
        many=True, help_text="Whom to page, in order, if the person paged does not answer."
    )


# --- overrides and cover requests -----------------------------------------------------------


class OverrideSerializer(serializers.ModelSerializer):
    """`person` on call in [start, end) whatever the layers say; null: nobody (a gap)."""

    person = UsernameField(read_only=True, allow_null=True)
    created_by = UsernameField(read_only=True, allow_null=True)
    request = serializers.SerializerMethodField(
        help_text="Id of the cover request it was accepted from, or null."
    )

    class Meta:
        model = OnCallOverride
        fields = ["id", "person", "start", "end", "reason", "created_by", "created_at", "request"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_request(self, obj) -> int | None:
        # The override the person asked made, or the one the asker gave in return (a swap).
        request = getattr(obj, "request", None) or getattr(obj, "swap_request", None)
        return request.pk if request is not None else None


class OverrideCreateSerializer(serializers.Serializer):
    person = UsernameField(allow_null=True, help_text="Username; null for nobody on call.")
    start = serializers.DateTimeField(help_text="ISO 8601 instant with its offset.")
    end = serializers.DateTimeField(help_text="ISO 8601 instant with its offset, after start.")
    reason = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")


class CoverRequestSerializer(serializers.ModelSerializer):
    schedule = serializers.PrimaryKeyRelatedField(read_only=True)
    from_person = UsernameField(read_only=True, help_text="Who asks (on call in the interval).")
    to_person = UsernameField(read_only=True, help_text="Who is asked to cover.")
    override = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The override made when it was accepted."
    )
    swap_override = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="For a swap, the override in return made when it was accepted.",
    )

    class Meta:
        model = OnCallOverrideRequest
        fields = [
            "id",
            "schedule",
            "from_person",
            "to_person",
            "start",
            "end",
            "reason",
            "swap_start",
            "swap_end",
            "status",
            "override",
            "swap_override",
            "created_at",
            "answered_at",
        ]
        read_only_fields = fields


class CoverRequestCreateSerializer(serializers.Serializer):
    to_person = UsernameField(help_text="Username of a member of the schedule.")
    start = serializers.DateTimeField(help_text="ISO 8601 instant with its offset.")
    end = serializers.DateTimeField(help_text="ISO 8601 instant with its offset, after start.")
    reason = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    swap_start = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A swap: the start of the interval of `to_person`'s shifts you cover in return.",
    )
    swap_end = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="A swap: its end."
    )


class ShiftTakeSerializer(serializers.Serializer):
    hours = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0.01,
        max_value=168,
        help_text="How long; omitted or null: until the current shift ends.",
    )
