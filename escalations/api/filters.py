import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from escalations.models import (
    OPEN_ITEM_STATUSES,
    ActionItem,
    ActionItemStatus,
    Escalation,
    Policy,
    PolicyStatus,
    PostIncidentReview,
    ReviewStatus,
    Trigger,
)
from portal.api.filters import IsoDateTimeFilter


class EscalationFilter(django_filters.FilterSet):
    incident = django_filters.CharFilter(
        field_name="incident__reference", label="Incident reference"
    )
    trigger = django_filters.MultipleChoiceFilter(choices=Trigger.choices)
    to_level = django_filters.NumberFilter()
    direction = django_filters.ChoiceFilter(
        choices=[("up", "Escalations"), ("down", "De-escalations")], method="filter_direction"
    )
    awaiting_acknowledgement = django_filters.BooleanFilter(
        method="filter_awaiting", label="Moves up whose handoff nobody acknowledged yet"
    )
    undecided = django_filters.BooleanFilter(
        method="filter_undecided", label="Asked for a decision that is not recorded yet"
    )
    after = IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    before = IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = Escalation
        fields = []

    def filter_direction(self, queryset, name, value):
        if value == "up":
            return queryset.exclude(trigger=Trigger.DE_ESCALATION)
        return queryset.filter(trigger=Trigger.DE_ESCALATION)

    def filter_awaiting(self, queryset, name, value):
        awaiting = {"acknowledged_at__isnull": True}
        up = queryset.exclude(trigger=Trigger.DE_ESCALATION)
        return up.filter(**awaiting) if value else queryset.exclude(**awaiting)

    def filter_undecided(self, queryset, name, value):
        pending = queryset.exclude(decision_sought="").filter(decision_at__isnull=True)
        return pending if value else queryset.exclude(pk__in=pending.values("pk"))


class PolicyFilter(django_filters.FilterSet):
    name = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=PolicyStatus.choices)
    is_default = django_filters.BooleanFilter()

    class Meta:
        model = Policy
        fields = []


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A whole number (NumberFilter takes decimals, which ids never are)."""

    field_class = forms.IntegerField


class ReviewFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=ReviewStatus.choices, label="Status; repeat for several"
    )
    required = django_filters.BooleanFilter(label="Required by the incident's policy")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Not published and past its due time"
    )
    incident = django_filters.CharFilter(
        field_name="incident__reference", label="Incident reference"
    )
    owner = django_filters.CharFilter(field_name="owner__username", label="Owner username")

    class Meta:
        model = PostIncidentReview
        fields = []

    def filter_overdue(self, queryset, name, value):
        # As the review queue: overdue from the due instant on, until published.
        late = Q(due_at__lte=timezone.now()) & ~Q(status=ReviewStatus.PUBLISHED)
        return queryset.filter(late) if value else queryset.exclude(late)


class ActionItemFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=ActionItemStatus.choices, label="Status; repeat for several"
    )
    is_open = django_filters.BooleanFilter(
        method="filter_open", label="Open or in progress (true), done or dropped (false)"
    )
    owner = django_filters.CharFilter(field_name="owner__username", label="Owner username")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Still open and past the end of its due date"
    )
    incident = django_filters.CharFilter(
        field_name="incident__reference", label="Incident reference"
    )
    review = IdFilter(field_name="review_id", label="Review id")

    class Meta:
        model = ActionItem
        fields = []

    def filter_open(self, queryset, name, value):
        still_open = Q(status__in=OPEN_ITEM_STATUSES)
        return queryset.filter(still_open) if value else queryset.exclude(still_open)

    def filter_overdue(self, queryset, name, value):
        # As the action-item queue and the overdue reminder: from the due instant on.
        late = Q(status__in=OPEN_ITEM_STATUSES, due_at__lte=timezone.now())
        return queryset.filter(late) if value else queryset.exclude(late)
