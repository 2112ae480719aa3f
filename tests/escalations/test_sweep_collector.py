"""Each batch of a sweep is built with the cyclic garbage collector paused (the batch's
objects all live until its rows are written), and the collector is back on after it,
also when the batch fails."""

import gc

import pytest
from django.utils import timezone

from escalations.engine import services
from escalations.engine.services import sla_sweep
from tests.escalations.test_sweep_concurrency import due_incidents


@pytest.mark.django_db
def test_the_collector_is_paused_for_each_batch_and_on_again_after(monkeypatch):
    now = timezone.now()
    due_incidents(now, count=5)
    seen = []
    batch = services._sweep_batch

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return batch(*args, **kwargs)

    monkeypatch.setattr(services, "_sweep_batch", watched)
    assert gc.isenabled()
    assert sla_sweep(now=now, batch_size=2)["escalated"] == 5
    assert seen == [False, False, False]
    assert gc.isenabled()


@pytest.mark.django_db
def test_a_failing_batch_leaves_the_collector_on(monkeypatch):
    now = timezone.now()
    due_incidents(now, count=1)

    def failing(*args, **kwargs):
        raise RuntimeError("the batch failed")

    monkeypatch.setattr(services, "_sweep_batch", failing)
    with pytest.raises(RuntimeError, match="the batch failed"):
        sla_sweep(now=now)
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_process_stays_off():
    gc.disable()
    try:
        with services._collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
