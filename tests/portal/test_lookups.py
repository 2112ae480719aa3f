"""AnyOf(column, values) filters as column__in=values does."""

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from incidents.models import IncidentEvent
from portal.lookups import AnyOf
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


def test_the_same_rows_as_in(agent):
    incidents = [make_incident(actor=agent) for _ in range(3)]
    ids = [incidents[0].pk, incidents[2].pk, 10**9]  # one id with no rows
    events = IncidentEvent.objects.order_by("pk")
    assert list(events.filter(AnyOf(F("incident_id"), ids))) == list(
        events.filter(incident_id__in=ids)
    )
    assert events.filter(AnyOf(F("incident_id"), ids)).count() > 0
    assert not events.filter(AnyOf(F("incident_id"), []))


@pytest.mark.postgres
def test_one_array_parameter_on_postgresql(agent):
    incident = make_incident(actor=agent)
    with CaptureQueriesContext(connection) as captured:
        list(IncidentEvent.objects.filter(AnyOf(F("incident_id"), [incident.pk, 7])))
    (query,) = captured.captured_queries
    assert '"incident_id" = ANY(' in query["sql"] and " IN (" not in query["sql"]


def test_values_given_as_a_generator_are_read_once(agent):
    incident = make_incident(actor=agent)
    events = IncidentEvent.objects.filter(AnyOf(F("incident_id"), (i for i in [incident.pk])))
    # Each count compiles the query again: both see the incident's events.
    assert events.count() == events.count() > 0
