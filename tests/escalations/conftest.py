import pytest

from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, MatchSpec, TargetSpec, WorkflowSpec

H = __import__("datetime").timedelta(hours=1)


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
