"""What the person is asked when a request waits for their decision: one notification with
Approve/Deny buttons per request, or, for the requests an agent run made, one for them all.

An intake run over a year of mail proposes a hundred requests; a hundred desktop
notifications is noise no one reads. While a run is under way (`gathering()`), its
requests are collected and asked for together when it ends; a run with one request
keeps that request's own notification, buttons and all.
"""

from __future__ import annotations

import contextvars
import dataclasses
from typing import Any

from oxymus.actions.model import Action

LISTED = 5  # requests a gathered notification names; the rest are counted
FACTS = 50  # facts a notify.send payload holds: a gathered notification's are its first requests'


@dataclasses.dataclass
class Gathering:
    actions: list[Action] = dataclasses.field(default_factory=list)
    # Closed when the run ends: a task the run started (it copied the context) that asks later asks alone.
    open: bool = True


_CURRENT: contextvars.ContextVar[Gathering | None] = contextvars.ContextVar("oxymus_asks_gathered", default=None)


def start() -> tuple[Gathering, contextvars.Token]:
    gathering = Gathering()
    return gathering, _CURRENT.set(gathering)


def end(gathering: Gathering, token: contextvars.Token) -> list[Action]:
    _CURRENT.reset(token)
    gathering.open = False
    return gathering.actions


def gathered(action: Action) -> bool:
    """Whether a run under way took this request, to be asked for with the run's others."""
    gathering = _CURRENT.get()
    if gathering is None or not gathering.open:
        return False
    gathering.actions.append(action)
    return True


def one(action: Action) -> tuple[dict[str, Any], str, str]:
    """The notification (payload, reason, key) asking for one request, with its buttons."""
    return ({"title": f"Approve? {action.preview.summary}"[:200],
             "body": (action.reason or action.preview.body)[:1000], "urgency": "normal",
             "buttons": [{"id": "approve", "label": "Approve"}, {"id": "deny", "label": "Deny"}], "decides": action.id,
             "kind": "approval", "facts": [f"approval:{action.id}:{action.updated_at}"]},
            f"action {action.id} waits for your decision", f"ask:{action.id}:{action.updated_at}")


def together(waiting: list[Action], by: str) -> tuple[dict[str, Any], str, str]:
    """The notification asking for several requests at once: no button decides them all."""
    lines = [f"- {a.preview.summary}"[:160] for a in waiting[:LISTED]]
    if len(waiting) > LISTED:
        lines.append(f"and {len(waiting) - LISTED} more")
    return ({"title": f"Approve? {len(waiting)} requests from {by}"[:200],
             "body": ("\n".join(lines) + "\n\nThe TUI's Approvals (5) or `oxymus approvals` shows them.")[:1000],
             "urgency": "normal", "kind": "approval", "facts": [f"approval:{a.id}:{a.updated_at}" for a in waiting[:FACTS]]},
            f"{len(waiting)} requests from {by} wait for your decision", f"ask:{waiting[0].id}:{len(waiting)}")
