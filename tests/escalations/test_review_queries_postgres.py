"""On PostgreSQL, each review queue can use its partial index: the queue's predicate
matches the index condition, so counting and listing never scan every incident."""

import pytest
from django.db import connection
from django.utils import timezone

from escalations.analytics import queues
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

EXPECTED_INDEX = {
    "breaching-soon": "incident_sla_warning_idx",
    "breached": "incident_sla_due_idx",
    "handoffs": "incident_handoff_pending_idx",
    "decisions": "escalation_undecided_idx",
    "unassigned": "incident_unassigned_idx",
    "ping-pong": "incident_flagged_idx",
    "security": "incident_security_open_idx",
    "pirs": "review_status_due_idx",
    "action-items": "item_status_due_idx",
    "notifications": "notification_failed_idx",
}


def plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


@pytest.mark.parametrize("slug", sorted(EXPECTED_INDEX))
def test_each_queue_reads_its_partial_index(roles, slug):
    manager = UserFactory(username="pg-manager", role="Engineering Manager")
    queue = queues.BY_SLUG[slug]
    rows = queues.queue_rows(queue, manager, now=timezone.now(), filters={})
    assert EXPECTED_INDEX[slug] in plan(rows)
    # Sorted and sliced, the planner may as well walk the sort column's index on
    # these empty tables; what must never happen is reading the whole table.
    page = plan(queues.sorted_rows(queue, rows, queue.default_sort)[:50])
    assert "Seq Scan on incidents_incident" not in page
    assert "Seq Scan on notifications_notification" not in page
