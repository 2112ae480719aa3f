import django_filters

from escalations.models import Escalation, Policy, PolicyStatus, Trigger


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
    after = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    before = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

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
