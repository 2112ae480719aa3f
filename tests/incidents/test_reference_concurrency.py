"""References stay unique when many incidents open at the same moment (PostgreSQL)."""

import threading

import pytest

from incidents.models import Incident
from tests.concurrency import run_together
from tests.factories import UserFactory, make_incident


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_gives_unique_references(monkeypatch, roles):
    # A tiny suffix space forces real collisions between the threads' inserts.
    import incidents.services

    alphabet = iter(range(10**9))
    lock = threading.Lock()

    def tiny_suffix(length):
        with lock:
            n = next(alphabet)
        return "AB"[n % 2] * length if length == 3 else "C" * (length - 3) + str(n)

    monkeypatch.setattr(incidents.services, "random_suffix", tiny_suffix)
    user = UserFactory(username="importer", role="Support Agent")
    threads_count, per_thread = 8, 5

    def work():
        for _ in range(per_thread):
            make_incident(actor=user)

    run_together(work, threads=threads_count)
    references = list(Incident.objects.values_list("reference", flat=True))
    assert len(references) == threads_count * per_thread
    assert len(set(references)) == len(references)
    assert {"AAA", "BBB"} <= {r.rsplit("-", 1)[1] for r in references}
