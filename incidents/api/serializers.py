"""Incident API bodies. Serializers only read and check input; every change is made
by a service in the view (incidents.services), never by `save()` here."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.functional import lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.lifecycle import registered as lifecycle
from incidents.models import (
    PUBLIC_STATE_CHOICES,
    Account,
    Category,
    Channel,
    Component,
    Incident,
    IncidentEvent,
)
from incidents.rules import PublicState, Severity, Status
from incidents.services import STATUS_PAGE_TITLE_LIMIT, STATUS_PAGE_UPDATE_LIMIT

log = logging.getLogger(__name__)

MAX_INT = 2**31 - 1  # PositiveIntegerField's ceiling on every database
SEVERITIES = [(s.value, s.label) for s in Severity]


def _severity_help() -> str:
    """What each severity means under the default policy, for the API schema (read when
    the schema is generated, so it follows the policy in force)."""
    lines = ["P0 is the most severe; Critical/High/Medium/Low and Sev 1-4 name the same four."]
    try:
        meanings = lifecycle().severity_meanings()
    except Exception:  # no database to read (a schema built offline): the schema still renders
        log.info("The API schema leaves out the severity meanings: no policy to read them from")
        meanings = []
    for meaning in meanings:
        text = meaning.definition or "; ".join(meaning.criteria)
        examples = f" For example: {'; '.join(meaning.examples)}." if meaning.examples else ""
        lines.append(f"{meaning.label}: {text}{examples}")
    return "\n\n".join(lines)


SEVERITY_HELP = lazy(_severity_help, str)()


def active_users():
    return get_user_model().objects.filter(is_active=True)


class SlugLookupField(serializers.SlugRelatedField):
    """A related object by a text key. NUL characters are refused before the lookup:
    PostgreSQL cannot compare text holding them and would answer with a 500."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError("Null characters are not allowed.")
        return super().to_internal_value(data)


class UsernameField(SlugLookupField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", active_users())
        super().__init__(**kwargs)


class IncidentSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    assignee = UsernameField(read_only=True, allow_null=True)
    policy = serializers.SerializerMethodField()
    level = serializers.IntegerField(source="current_level", read_only=True)
    root_cause_key = serializers.CharField(read_only=True)  # may be blank: no slug pattern
    web_url = serializers.SerializerMethodField()
    status_page_state = serializers.ChoiceField(
        choices=PUBLIC_STATE_CHOICES,
        allow_blank=True,
        read_only=True,
        help_text="The public status page's state: investigating, identified, monitoring or "
        "resolved; empty when never published.",
    )

    class Meta:
        model = Incident
        fields = [
            "reference",
            "title",
            "description",
            "severity",
            "status",
            "channel",
            "category",
            "component",
            "account",
            "is_production_outage",
            "is_security",
            "is_compliance",
            "is_data_loss",
            "is_legal_exposure",
            "is_pr_crisis",
            "is_customer_facing",
            "users_affected",
            "revenue_impact",
            "root_cause",
            "root_cause_key",
            "assignee",
            "level",
            "policy",
            "flagged_for_review",
            "review_reason",
            "opened_at",
            "acknowledged_at",
            "first_response_at",
            "last_public_update_at",
            "resolved_at",
            "closed_at",
            "reopened_count",
            "handoff_at",
            "handoff_acknowledged_at",
            "next_check_at",
            "updated_at",
            "status_page_published_at",
            "status_page_title",
            "status_page_state",
            "status_page_resolved_at",
            "web_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_policy(self, obj: Incident) -> str | None:
        return str(obj.policy) if obj.policy_id else None

    def get_web_url(self, obj: Incident) -> str:
        return settings.SITE_URL + reverse("incidents:detail", args=[obj.reference])


class IncidentCreateSerializer(serializers.Serializer):
    """What the web's "new incident" form asks, plus `opened_at` for imports."""

    title = serializers.CharField(max_length=200)
    severity = serializers.ChoiceField(choices=SEVERITIES, help_text=SEVERITY_HELP)
    channel = SlugLookupField(
        slug_field="code", queryset=Channel.objects.all(), help_text="Channel code, e.g. RUNTIME."
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    component = serializers.PrimaryKeyRelatedField(
        queryset=Component.objects.all(), required=False, allow_null=True
    )
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.all(), required=False, allow_null=True
    )
    is_production_outage = serializers.BooleanField(required=False, default=False)
    is_security = serializers.BooleanField(required=False, default=False)
    is_compliance = serializers.BooleanField(required=False, default=False)
    is_data_loss = serializers.BooleanField(required=False, default=False)
    is_legal_exposure = serializers.BooleanField(required=False, default=False)
    is_pr_crisis = serializers.BooleanField(required=False, default=False)
    is_customer_facing = serializers.BooleanField(required=False, default=False)
    users_affected = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_INT
    )
    revenue_impact = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    root_cause = serializers.CharField(required=False, allow_blank=True, default="")
    root_cause_key = serializers.SlugField(
        max_length=80, required=False, allow_blank=True, default=""
    )
    assignee = UsernameField(required=False, allow_null=True)
    opened_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="For imports: when it really started (never in the future). "
        "Every SLA clock counts from it.",
    )


class IncidentUpdateSerializer(serializers.Serializer):
    """The editable details (incidents.services.EDITABLE_FIELDS); send only what changes."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    component = serializers.PrimaryKeyRelatedField(
        queryset=Component.objects.all(), required=False, allow_null=True
    )
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.all(), required=False, allow_null=True
    )
    is_production_outage = serializers.BooleanField(required=False)
    is_security = serializers.BooleanField(required=False)
    is_compliance = serializers.BooleanField(required=False)
    is_data_loss = serializers.BooleanField(required=False)
    is_legal_exposure = serializers.BooleanField(required=False)
    is_pr_crisis = serializers.BooleanField(required=False)
    is_customer_facing = serializers.BooleanField(required=False)
    users_affected = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_INT
    )
    revenue_impact = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    root_cause = serializers.CharField(required=False, allow_blank=True)
    root_cause_key = serializers.SlugField(max_length=80, required=False, allow_blank=True)


class EventSerializer(serializers.ModelSerializer):
    actor = UsernameField(read_only=True, allow_null=True)

    class Meta:
        model = IncidentEvent
        fields = ["id", "at", "kind", "visibility", "actor", "body", "data"]
        read_only_fields = fields


# --- action bodies ------------------------------------------------------------------------------


class NoteSerializer(serializers.Serializer):
    body = serializers.CharField()


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(help_text="How it was resolved.")


class PauseSerializer(serializers.Serializer):
    waiting_on = serializers.ChoiceField(
        choices=[("customer", "Customer"), ("vendor", "Vendor")], default="customer"
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class OptionalNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[(s.value, s.label) for s in Status])
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required when resolving."
    )


# --- the public status page (seed 002) ---------------------------------------------------------

PUBLIC_STATES = PUBLIC_STATE_CHOICES  # one enum in the schema (PublicStateEnum)


class StatusPagePublishSerializer(serializers.Serializer):
    public_title = serializers.CharField(
        max_length=STATUS_PAGE_TITLE_LIMIT,
        help_text="What anyone reads instead of the internal title.",
    )
    state = serializers.ChoiceField(choices=PUBLIC_STATES, default=PublicState.INVESTIGATING)
    body = serializers.CharField(
        max_length=STATUS_PAGE_UPDATE_LIMIT, help_text="The first public update."
    )


class StatusPageTitleSerializer(serializers.Serializer):
    public_title = serializers.CharField(max_length=STATUS_PAGE_TITLE_LIMIT)


class StatusPageUpdateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=PUBLIC_STATES)
    body = serializers.CharField(max_length=STATUS_PAGE_UPDATE_LIMIT)


class StatusPageWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField()


class AssignSerializer(serializers.Serializer):
    assignee = UsernameField(allow_null=True, help_text="A username, or null for nobody.")


class SeveritySerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=SEVERITIES, help_text=SEVERITY_HELP)
    reason = serializers.CharField()


# --- catalogue ----------------------------------------------------------------------------------


class AccountSerializer(serializers.ModelSerializer):
    time_zone = serializers.CharField(read_only=True)

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "tier",
            "health_score",
            "arr",
            "primary_contact_name",
            "primary_contact_email",
            "time_zone",
        ]
        read_only_fields = fields


class ComponentSerializer(serializers.ModelSerializer):
    owning_team = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)

    class Meta:
        model = Component
        fields = ["id", "name", "description", "owning_team"]
        read_only_fields = fields


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "code", "name", "description", "is_active"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "description"]
        read_only_fields = fields
