"""Handoff notes that carry context (seed 001: the receiving tier should never ask
the customer to repeat). Pure: no Django import.

Which note fields a level requires is policy data (LevelSpec.handoff_fields);
this module knows what each field means, checks a note against a level, and
writes the note for automatic escalations from the same facts a person sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from escalations.rules.spec import HANDOFF_FIELDS

# Seed 000 step 1 and seed 003's handoff checklist, merged: all must be ticked.
CHECKLIST: dict[str, str] = {
    "documented": "Incident fully documented on the timeline",
    "root_cause": "Root cause identified, or an investigation summary written",
    "options": "Remediation options evaluated",
    "impact": "Impact assessment complete",
    "sla_status": "Timeline and SLA status clear",
    "recommendation": "Recommendation formulated",
    "decision": "Required decision identified",
    "diagnostics": "Diagnostic data collected",
    "customer_expectation": "Customer expectation set",
}

# Seed 003's last two handoff items happen after the move, so nobody ticks them:
# the portal checks them from what happened (after_handoff_items).
AFTER_HANDOFF: dict[str, str] = {
    "next_tier_assigned": "Next tier engineer assigned",
    "customer_notified": "Customer notified of escalation",
}


def after_handoff_items(*, taken_by: str, notice_status: str | None) -> list[tuple[str, bool, str]]:
    """(label, done, how we know) for seed 003's "Next tier engineer assigned" (someone
    at the receiving level took the handoff, and with it the incident) and "Customer
    notified of escalation" (the escalation email to the customer went out)."""
    if taken_by:
        assigned = (AFTER_HANDOFF["next_tier_assigned"], True, f"{taken_by} took the handoff")
    else:
        assigned = (AFTER_HANDOFF["next_tier_assigned"], False, "nobody has taken the handoff")
    label = AFTER_HANDOFF["customer_notified"]
    if notice_status is None:
        notified = (label, False, "no customer address on file: tell them another way")
    elif notice_status == "sent":
        notified = (label, True, "escalation email sent")
    elif notice_status in ("pending", "sending"):
        notified = (label, False, "escalation email queued")
    else:
        notified = (label, False, f"escalation email {notice_status}")
    return [assigned, notified]


@dataclass(frozen=True)
class HandoffContext:
    """What the sender (or the system) knows when handing off, filled in for them."""

    reference: str
    title: str
    severity: str  # e.g. "P1 · High · Sev 2"
    channel: str
    status: str
    level_from: str
    level_to: str
    description: str = ""
    elapsed: str = ""  # "5h 10m (64% of the resolution SLA)"
    account: Mapping[str, str] = field(default_factory=dict)  # name, tier, health, ARR, contact
    impact: Sequence[str] = ()  # "production outage", "250 users affected", ...
    steps: Sequence[str] = ()  # internal notes and updates already logged, oldest first
    root_cause: str = ""

    def as_dict(self) -> dict:
        return {
            "reference": self.reference,
            "title": self.title,
            "severity": self.severity,
            "channel": self.channel,
            "status": self.status,
            "from": self.level_from,
            "to": self.level_to,
            "elapsed": self.elapsed,
            "account": dict(self.account),
            "impact": list(self.impact),
            "steps_logged": list(self.steps),
        }


def missing_fields(required: Sequence[str], note: Mapping[str, object]) -> list[str]:
    """Required fields left empty (whitespace counts as empty)."""
    return [name for name in required if not str(note.get(name) or "").strip()]


def missing_checklist(ticked: Sequence[str]) -> list[str]:
    return [key for key in CHECKLIST if key not in set(ticked)]


def field_label(name: str) -> str:
    return HANDOFF_FIELDS.get(name, name.replace("_", " ").capitalize())


def _lines(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def generated_note(required: Sequence[str], context: HandoffContext, reason: str) -> dict:
    """The note an automatic escalation writes: every required field filled from facts."""
    account = context.account
    customer = ", ".join(f"{k}: {v}" for k, v in account.items() if v) or "No account recorded."
    impact = _lines(context.impact) if context.impact else "No impact details recorded."
    steps = _lines(context.steps) if context.steps else "Nothing logged on the timeline yet."
    summary = f"{context.title} ({context.severity}, {context.status})."
    if context.description:
        summary += f"\n{context.description}"
    by_field = {
        "investigation_summary": summary,
        "context": summary,
        "situation": summary,
        "symptoms": summary,
        "current_status": f"{context.status}; {context.elapsed}".strip("; "),
        "timeline": context.elapsed,
        "proposed_next_steps": f"Receiving level to assess: {reason}",
        "suggested_next_step": f"Receiving level to assess: {reason}",
        "recommendation": "Assess and decide at the receiving level.",
        "decision_sought": "How to proceed given the escalation reason.",
        "blocking_issues": reason,
        "customer_context": customer,
        "customer_impact": impact,
        "business_impact": impact,
        "stakeholder_impact": impact,
        "financial_impact": impact,
        "steps_taken": steps,
        "logs_and_evidence": steps,
        "technical_assessment": context.root_cause or "Root cause not yet identified.",
        "resource_requirements": "To be assessed by the receiving level.",
        "options": "To be assessed by the receiving level.",
        "governance_implications": "To be assessed by the receiving level.",
        "security_assessment": "To be assessed by the receiving level.",
    }
    note = {"generated": True, "facts": context.as_dict()}
    for name in required:
        note[name] = by_field.get(name, f"Not provided (automatic escalation): {reason}")
    return note
