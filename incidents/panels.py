"""Parts of the incident page that other apps add.

`incidents` imports no other app: an app that shows something on the incident page
(escalations: the SLA clocks, the escalation panel, the follow-up work) registers a
`DetailPanel` in its `AppConfig.ready()`. The page asks each panel, in the order they
were registered, for its part of the template context, and includes each panel's
template below its own columns. Without a panel the page shows the incident without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms

from incidents.models import Incident

# The page's forms that came back with errors, by the action key they were posted
# under ("comment", "escalate", "war_room_assign", ...): each panel takes its own.
BoundForms = Mapping[str, forms.Form]

# (incident, the person looking, bound forms) -> template context; a panel's keys must
# not clash with another panel's or the page's own.
PanelContext = Callable[[Incident, Any, BoundForms], dict[str, Any]]


@dataclass(frozen=True)
class DetailPanel:
    name: str
    context: PanelContext
    template: str = ""  # included after the timeline and details; "" adds context only


_panels: dict[str, DetailPanel] = {}


def register_detail_panel(panel: DetailPanel) -> None:
    """Add a part to the incident page; registering a name again replaces it in place
    (`ready()` may run more than once, e.g. in tests)."""
    _panels[panel.name] = panel


def unregister_detail_panel(name: str) -> DetailPanel | None:
    return _panels.pop(name, None)


def detail_panels() -> tuple[DetailPanel, ...]:
    return tuple(_panels.values())
