"""incidents' admin knows nothing of escalations: escalations' admin registers a subclass
that adds the level filter, the follow-up inlines, the SLA clocks and the escalate and
de-escalate actions."""

import pytest
from django.contrib import admin

from escalations.admin.site import EscalationsIncidentAdmin, LevelFilter
from incidents.admin import IncidentAdmin, IncidentEventInline
from incidents.models import Incident
from tests.factories import make_incident


def test_incidents_own_admin_offers_no_escalation_parts():
    assert not {"escalate", "de_escalate"} & set(IncidentAdmin.actions)
    assert IncidentAdmin.inlines == [IncidentEventInline]
    assert LevelFilter not in IncidentAdmin.list_filter


def test_the_site_shows_incidents_through_escalations_admin():
    registered = admin.site._registry[Incident]
    assert type(registered) is EscalationsIncidentAdmin
    assert registered.actions[-2:] == ["escalate", "de_escalate"]
    assert registered.inlines[-1] is IncidentEventInline  # the timeline stays last
    assert len(registered.inlines) == 6  # review, regulatory report, war room, vendor, items
    filters = registered.list_filter
    assert filters[filters.index("assignee") + 1] is LevelFilter


@pytest.mark.django_db
def test_the_clocks_field_shows_the_policy_clocks(default_policy, manager):
    incident = make_incident(actor=manager)

    assert "<table>" in admin.site._registry[Incident].sla_clocks(incident)
    # incidents' own admin knows no clock
    assert "No SLA policy applies." in IncidentAdmin(Incident, admin.site).sla_clocks(incident)
