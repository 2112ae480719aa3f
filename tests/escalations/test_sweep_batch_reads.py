"""A sweep batch's incidents, built from their rows, are what the ORM would load."""

import pytest
from django.db import transaction
from django.db.models import signals

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
            value, expected = getattr(incident, field.attname), getattr(loaded, field.attname)
            assert (value, type(value)) == (expected, type(expected)), field
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


def test_a_post_init_receiver_still_sees_each_incident_built(agent):
    made = make_incident(actor=agent)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    signals.post_init.connect(receiver, sender=Incident)
    try:
        claimed = _claimed_incidents([made.pk])
    finally:
        signals.post_init.disconnect(receiver, sender=Incident)
    assert seen == claimed and claimed[0].pk == made.pk
