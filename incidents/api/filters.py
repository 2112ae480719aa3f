"""Filters of the incident list API: the web list's filters, with API-friendly values
(channel code, usernames) and no ordering (the cursor decides the order)."""

import django_filters

from incidents.filters import OPEN, search_q
from incidents.models import STATUS_CHOICES, Account, Category, Component, Incident
from incidents.rules import OPEN_STATUSES, Severity
from portal.api.filters import IsoDateTimeFilter


class IncidentFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        label="Reference (exact or prefix), title or account name contains",
    )
    status = django_filters.MultipleChoiceFilter(
        choices=[(OPEN, "Open (any open status)"), *STATUS_CHOICES],
        method="filter_status",
        label="Status; repeat for several; `open` means any open status",
    )
    severity = django_filters.MultipleChoiceFilter(
        choices=[(s.value, s.label) for s in Severity], label="Severity; repeat for several"
    )
    channel = django_filters.CharFilter(field_name="channel__code", label="Channel code")
    component = django_filters.ModelChoiceFilter(queryset=Component.objects.all())
    account = django_filters.ModelChoiceFilter(queryset=Account.objects.all())
    category = django_filters.ModelChoiceFilter(queryset=Category.objects.all())
    assignee = django_filters.CharFilter(field_name="assignee__username", label="Assignee username")
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Assigned to me")
    level = django_filters.NumberFilter(field_name="current_level")
    is_security = django_filters.BooleanFilter()
    is_production_outage = django_filters.BooleanFilter()
    flagged_for_review = django_filters.BooleanFilter()
    opened_after = IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = IsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = Incident
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(search_q(value))

    def filter_status(self, queryset, name, values):
        if not values:
            return queryset
        wanted = {v for v in values if v != OPEN}
        if OPEN in values:
            wanted |= {s.value for s in OPEN_STATUSES}
        return queryset.filter(status__in=wanted)

    def filter_mine(self, queryset, name, value):
        if value is None or self.request is None:
            return queryset
        user = self.request.user
        return queryset.filter(assignee=user) if value else queryset.exclude(assignee=user)
