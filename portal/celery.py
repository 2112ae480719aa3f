import os

from celery import Celery
from celery.signals import beat_init
from kombu.transport import TRANSPORT_ALIASES

# `filesystem://` means the safe embedded broker of portal/broker.py, never
# kombu's own transport, which can hand a worker a half-written message.
TRANSPORT_ALIASES["filesystem"] = "portal.broker:Transport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
def apply_configured_intervals(sender=None, **kwargs) -> None:
    """SLA_SWEEP_INTERVAL and OUTBOX_DRAIN_INTERVAL, when set, win over the stored schedule."""
    from portal.schedules import sync_intervals

    sync_intervals()
