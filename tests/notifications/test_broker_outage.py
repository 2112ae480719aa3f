"""A broker outage delays notifications and never loses or doubles them (real Redis)."""

import threading
import time
from datetime import timedelta

import pytest
from celery.signals import task_postrun
from django.contrib.auth.models import Group
from django.core import mail

from escalations.models import Escalation
from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, OverrideSpec, TargetSpec, WorkflowSpec
from notifications.models import Notification, Status
from tests.factories import UserFactory, make_incident
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.redis_server, pytest.mark.django_db(transaction=True)]


class DrainsFinished:
    """Set once `task` has finished `count` times in the worker (Celery's task_postrun)."""

    def __init__(self, task, *, count: int):
        self.task_name = task.name
        self.count = count
        self.finished = 0
        self.event = threading.Event()

    def _on_postrun(self, sender=None, **kwargs):
        if getattr(sender, "name", None) == self.task_name:
            self.finished += 1
            if self.finished >= self.count:
                self.event.set()

    def wait(self, *, timeout: float) -> bool:
        return self.event.wait(timeout)

    def __enter__(self):
        task_postrun.connect(self._on_postrun, weak=False)
        return self

    def __exit__(self, *exc):
        task_postrun.disconnect(self._on_postrun)


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture
def celery_on(redis_server, settings):
    """Point the portal's Celery app at the private Redis; restore afterwards."""
    from portal.celery import app

    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    app.conf.broker_url = redis_server.url
    app.conf.broker_transport_options = {}
    app._after_fork()  # drop pooled connections to the previous broker
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    yield app
    app.conf.broker_url, app.conf.broker_transport_options = saved
    app._after_fork()


def test_escalations_commit_while_redis_is_down_and_mail_goes_once_it_is_back(
    redis_server, celery_on, roles
):
    from celery.contrib.testing.worker import start_worker

    from notifications.tasks import deliver_due

    team = "responders"
    group = Group.objects.create(name=team)
    for n in range(3):
        group.user_set.add(UserFactory(username=f"responder{n}", email=f"r{n}@example.com"))
    spec = WorkflowSpec(
        levels=(
            LevelSpec(1, "Front"),
            LevelSpec(
                2, "Responders", team=team, sla=TargetSpec(first_response=timedelta(hours=1))
            ),
        ),
        overrides=(OverrideSpec("P1", 2, "email"),),
    )
    policy_create_from_spec(spec=spec, name="outage", make_default=True)
    agent = UserFactory(username="outage-agent", role="Support Agent")

    redis_server.stop()
    started = time.monotonic()
    incident = make_incident(actor=agent, severity="P1")  # routes to L2 at once
    assert time.monotonic() - started < 10  # the broker being down costs little
    assert Escalation.objects.filter(incident=incident).count() == 1  # committed
    pending = Notification.objects.filter(incident=incident, status=Status.PENDING)
    assert pending.count() == 3 and len(mail.outbox) == 0

    redis_server.start()
    drains = DrainsFinished(deliver_due, count=2)
    with (
        drains,
        start_worker(celery_on, pool="solo", perform_ping_check=False, shutdown_timeout=30),
    ):
        deliver_due.delay()  # what beat's "Outbox drain" sends every few seconds
        deliver_due.delay()  # and a second time: nothing may go twice
        # Wait without touching the database: the worker runs in a thread of this
        # process, and on SQLite the test database is a shared-cache in-memory one, where
        # a read that meets the worker's open write transaction fails at once with
        # "database table is locked" (shared-cache locks ignore the busy timeout).
        assert drains.wait(timeout=120), "the worker did not run both drains"
    # the worker thread has stopped: the database is ours alone again
    assert not Notification.objects.filter(
        incident=incident, status__in=[Status.PENDING, Status.SENDING]
    ).exists()
    assert Notification.objects.filter(incident=incident, status=Status.SENT).count() == 3
    recipients = sorted(to for message in mail.outbox for to in message.to)
    assert recipients == ["r0@example.com", "r1@example.com", "r2@example.com"]
