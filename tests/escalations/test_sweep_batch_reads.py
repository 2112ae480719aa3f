"""A sweep batch's incidents, built from their rows, are what the ORM would load."""

import pytest
from django.db import transaction

from escalations.engine.services import _claimed_incidents
from incidents.models import Incident
from incidents.services import incident_save
from tests.factories import AccountFactory, make_incident

pytestmark = pytest.mark.django_db


def test_claimed_incidents_equal_the_orms(agent):
    made = [
        make_incident(actor=agent, assignee=agent, account=AccountFactory()),
        make_incident(actor=agent, severity="P0", users_affected=12),
    ]
    claimed = {i.pk: i for i in _claimed_incidents([m.pk for m in made] + [10**9])}
    assert sorted(claimed) == sorted(m.pk for m in made)
    for loaded in Incident.objects.filter(pk__in=claimed):
        incident = claimed[loaded.pk]
        for field in Incident._meta.concrete_fields:
            assert getattr(incident, field.attname) == getattr(loaded, field.attname), field
        assert (incident._state.adding, incident._state.db) == (False, "default")
        assert incident.channel == loaded.channel and incident.account == loaded.account


def test_claimed_incidents_save_as_loaded_ones(agent):
    made = make_incident(actor=agent)
    (incident,) = _claimed_incidents([made.pk])
    incident.title = "Renamed"
    with transaction.atomic():
        incident_save(incident=incident, fields=["title"])
    assert Incident.objects.get(pk=made.pk).title == "Renamed"
    assert Incident.objects.count() == 1  # an update, not an insert
