import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from incidents.models import STATUS_CHOICES, Account, Channel, Component, Incident
from incidents.rules import OPEN_STATUSES, Severity

OPEN = "open"


def search_q(value: str) -> Q:
    """The web list's and the API's search: reference (exact or prefix), title or account
    name contains; blank matches everything."""
    value = value.strip()
    if not value:
        return Q()
    return (
        Q(reference__istartswith=value)
        | Q(title__icontains=value)
        | Q(account__name__icontains=value)
    )


class IncidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.ChoiceFilter(
        choices=[(OPEN, "Open (any)"), *STATUS_CHOICES],
        method="filter_status",
        label="Status",
        empty_label="Any status",
    )
    severity = django_filters.ChoiceFilter(
        choices=[(s.value, s.label) for s in Severity], empty_label="Any severity"
    )
    channel = django_filters.ModelChoiceFilter(
        queryset=Channel.objects.all(), empty_label="Any channel"
    )
    component = django_filters.ModelChoiceFilter(
        queryset=Component.objects.all(), empty_label="Any component"
    )
    account = django_filters.ModelChoiceFilter(
        queryset=Account.objects.all(), empty_label="Any account"
    )
    assignee = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.filter(is_active=True), empty_label="Anyone"
    )
    mine = django_filters.BooleanFilter(
        method="filter_mine", label="Assigned to me", widget=forms.CheckboxInput
    )
    order = django_filters.OrderingFilter(
        fields=(("opened_at", "opened"), ("severity", "severity"), ("status", "status")),
        label="Sort",
        empty_label="Newest first",
    )

    class Meta:
        model = Incident
        fields = ["q", "status", "severity", "channel", "component", "account", "assignee", "mine"]

    def search(self, queryset, name, value):
        return queryset.filter(search_q(value))

    def filter_status(self, queryset, name, value):
        if value == OPEN:
            return queryset.filter(status__in=[s.value for s in OPEN_STATUSES])
        return queryset.filter(status=value)

    def filter_mine(self, queryset, name, value):
        if value and self.request is not None:
            return queryset.filter(assignee=self.request.user)
        return queryset
