"""Reads for the incident page's escalation panel."""

from __future__ import annotations

from django.utils import timezone

from incidents.models import Incident

from .engine import handoff_context, pending_handoff
from .forms import DecisionForm, DeEscalateForm, EscalateForm, ManagerRequestForm
from .policies import policy_spec


def escalation_panel(incident: Incident, user, bound: dict | None = None) -> dict:
    """Records, pending handoff, context and the forms the user may use."""
    bound = bound or {}
    records = list(
        incident.escalations.select_related("actor", "acknowledged_by", "decision_by").order_by(
            "at", "id"
        )
    )
    panel = {"escalations": records, "policy_spec": None}
    if incident.policy_id is None:
        return panel
    spec = policy_spec(incident.policy)
    level = incident.current_level
    management = user.has_perm("escalations.escalate_as_management")
    can_work = user.has_perm("incidents.change_incident") and incident.is_open
    higher = spec.next_level(level)
    undecided = [r for r in records if r.is_up and r.decision_sought and not r.decision_at]
    panel.update(
        {
            "policy_spec": spec,
            "level_name": spec.level(level).name
            if level in {lv.number for lv in spec.levels}
            else "",
            "pending_handoff": pending_handoff(incident) if incident.is_open else None,
            "can_escalate": can_work and higher is not None,
            "can_de_escalate": can_work and any(lv.number < level for lv in spec.levels),
            "can_decide": user.has_perm("escalations.record_decision"),
            "undecided": undecided[-1] if undecided else None,
            "can_request_manager": can_work
            and incident.account_id is not None
            and incident.account.tier == "enterprise",
        }
    )
    if panel["can_escalate"]:
        panel["escalate_form"] = bound.get("escalate") or EscalateForm(
            spec=spec, level=level, management=management
        )
        panel["handoff_context"] = handoff_context(
            incident, spec, higher.number, timezone.now()
        ).as_dict()
    if panel["can_de_escalate"]:
        panel["de_escalate_form"] = bound.get("de_escalate") or DeEscalateForm(
            spec=spec, level=level
        )
    if panel["undecided"] is not None and panel["can_decide"]:
        panel["decision_form"] = bound.get("decide") or DecisionForm()
    if panel["can_request_manager"]:
        panel["manager_form"] = bound.get("manager") or ManagerRequestForm()
    return panel
