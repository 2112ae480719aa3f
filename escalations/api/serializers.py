"""Escalation API bodies: the escalation record, the handoff a move needs, and
policies (read-only). Input is only checked here; escalations.engine changes state."""

from __future__ import annotations

from rest_framework import serializers

from escalations.handoff import CHECKLIST
from escalations.models import (
    ENGINEER_CATEGORIES,
    MANAGEMENT_CATEGORIES,
    Escalation,
    Level,
    Policy,
    SeverityOverride,
    SlaTarget,
    Threshold,
)
from incidents.api.serializers import UsernameField

LEVEL_NUMBER = {"min_value": 0, "max_value": 32767}


class EscalationSerializer(serializers.ModelSerializer):
    incident = serializers.SlugRelatedField(slug_field="reference", read_only=True)
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
        ]
        read_only_fields = fields


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
            "handoff_fields",
            "contacts",
            "first_response",
            "resolution",
            "update_interval",
            "calendar",
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
