from datetime import UTC, datetime, timedelta

import pytest

from escalations.policies.services import policy_create_from_spec
from escalations.rules.clocks import IncidentFacts
from escalations.rules.spec import LevelSpec, MatchSpec, TargetSpec, WorkflowSpec

H = timedelta(hours=1)
MONDAY = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def facts(**changes) -> IncidentFacts:
    """A P1 at L1 since it opened, new, on Monday 1 June 2026 at 09:00 UTC (MONDAY), for
    the pure clocks; `changes` replace any of it."""
    values = {
        "opened_at": MONDAY,
        "severity": "P1",
        "level": 1,
        "level_entered_at": MONDAY,
        "statuses": ((MONDAY, "new"),),
    }
    return IncidentFacts(**{**values, **changes})


def simple_spec(**changes) -> WorkflowSpec:
    """Two round-the-clock levels: L1 1h/8h, L2 2h/4h; P1 updates hourly."""
    base = {
        "levels": (
            LevelSpec(1, "Front line", sla=TargetSpec(first_response=H, resolution=8 * H)),
            LevelSpec(2, "Specialists", sla=TargetSpec(first_response=2 * H, resolution=4 * H)),
        ),
        "matrix": ((("P1", 1), TargetSpec(update_interval=H)),),
    }
    return WorkflowSpec(**{**base, **changes})


@pytest.fixture
def make_policy(db):
    def make(name, **changes):
        match = changes.pop("match", None)
        spec = simple_spec(**changes, **({"match": MatchSpec(**match)} if match else {}))
        return policy_create_from_spec(spec=spec, name=name)

    return make


@pytest.fixture
def support_preset(roles):
    """The shipped support-3-tier workflow (seed 001) as the default policy."""
    from django.core.management import call_command

    from incidents.models import Channel

    Channel.objects.get_or_create(code="CUSTOMER", defaults={"name": "Customer"})
    call_command("load_workflow", "support-3-tier", "--default", verbosity=0)


@pytest.fixture
def engineering_preset(roles):
    """The shipped engineering-5-level workflow (seed 000) as the default policy."""
    from django.core.management import call_command

    from incidents.models import Channel

    Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})
    call_command("load_workflow", "engineering-5-level", "--default", verbosity=0)
