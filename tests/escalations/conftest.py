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
