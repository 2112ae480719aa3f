"""What escalations shows on the incident page (incidents.panels), registered in
EscalationsConfig.ready(): the SLA clocks, the escalation panel and the follow-up work."""

from __future__ import annotations

from escalations.rules.clocks import ClockReading
from escalations.sla.services import incident_clocks
from escalations.web.panels import escalation_panel, follow_up_panel
from incidents.models import Incident
from incidents.panels import BoundForms, DetailPanel, register_detail_panel


def most_urgent(clocks: list[ClockReading]) -> ClockReading | None:
    """The running clock due first: the page's header shows it."""
    live = [c for c in clocks if c.is_live and c.due_at is not None]
    return min(live, key=lambda c: c.due_at) if live else None


def clocks_context(incident: Incident, user, bound: BoundForms) -> dict:
    clocks = incident_clocks(incident)
    return {"clocks": clocks, "urgent_clock": most_urgent(clocks)}


PANELS = (
    DetailPanel("sla_clocks", clocks_context),
    DetailPanel("escalations", escalation_panel, template="escalations/_panel.html"),
    DetailPanel("follow_up", follow_up_panel, template="escalations/_follow_up.html"),
)


def register_incident_page_panels() -> None:
    for panel in PANELS:
        register_detail_panel(panel)
