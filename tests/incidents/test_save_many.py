"""incidents_save_many stores the named columns of a batch as the instances hold them, in
one statement (arrays bound in binary on PostgreSQL), and nothing else."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from incidents.models import Incident
from incidents.services import incidents_save_many
from tests.factories import make_incident

pytestmark = pytest.mark.django_db

FIELDS = ["bounces", "assignee", "handoff_at", "flagged_for_review", "review_reason"]


def test_each_kind_of_value_is_stored_as_held(agent, other_agent):
    first = make_incident(actor=agent, assignee=agent)
    second = make_incident(actor=agent)
    before = {first.pk: first.updated_at, second.pk: second.updated_at}
    at = timezone.now().replace(microsecond=123456) - timedelta(days=3)
    first.bounces, first.assignee, first.handoff_at = 3, None, at
    first.flagged_for_review = True
    first.review_reason = 'Bounced: "L1" -> {L2, L3} \\ NULL, again'
    second.bounces, second.assignee, second.handoff_at = 0, other_agent, None
    second.flagged_for_review, second.review_reason = False, ""
    second.title = "Not in the fields: stays as stored"
    with transaction.atomic():
        incidents_save_many(incidents=[first, second], fields=FIELDS)

    stored = {i.pk: i for i in Incident.objects.filter(pk__in=[first.pk, second.pk])}
    for incident in (first, second):
        row = stored[incident.pk]
        assert [getattr(row, f) for f in FIELDS] == [getattr(incident, f) for f in FIELDS]
        assert row.updated_at == incident.updated_at > before[incident.pk]
    assert stored[first.pk].assignee_id is None and stored[first.pk].handoff_at == at
    assert stored[second.pk].title == "Checkout fails with a gateway timeout"


def test_an_empty_batch_writes_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        incidents_save_many(incidents=[], fields=FIELDS)


def test_a_refused_value_is_djangos_error_and_nothing_is_stored(agent):
    incident = make_incident(actor=agent)
    incident.bounces = -1  # below the column's check
    with pytest.raises(IntegrityError), transaction.atomic():
        incidents_save_many(incidents=[incident], fields=["bounces"])
    assert Incident.objects.get(pk=incident.pk).bounces == 0


def test_nothing_runs_in_a_transaction_marked_for_rollback(agent):
    incident = make_incident(actor=agent)
    incident.bounces = 2
    with pytest.raises(TransactionManagementError), transaction.atomic():
        transaction.set_rollback(True)
        incidents_save_many(incidents=[incident], fields=["bounces"])
    assert Incident.objects.get(pk=incident.pk).bounces == 0
