import pytest
from django.db import DatabaseError, connection, transaction

from incidents.models import IncidentEvent
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(agent):
    return make_incident(actor=agent).events.get()


def test_orm_refuses_to_update_an_event(event):
    event.body = "rewritten history"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        IncidentEvent.objects.filter(pk=event.pk).update(body="x")


def test_orm_refuses_to_delete_an_event(event):
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        IncidentEvent.objects.filter(pk=event.pk).delete()
    assert IncidentEvent.objects.filter(pk=event.pk).exists()


def test_database_refuses_a_raw_update(event):
    table = IncidentEvent._meta.db_table
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET body = 'x' WHERE id = %s", [event.pk])
    assert IncidentEvent.objects.get(pk=event.pk).body == event.body


@pytest.mark.postgres
def test_postgres_refuses_a_raw_delete(event):
    table = IncidentEvent._meta.db_table
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [event.pk])
    assert IncidentEvent.objects.filter(pk=event.pk).exists()
