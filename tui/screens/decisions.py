"""Deciding on an action (the Approvals section and the payload editor): one command per verb.

`decide()` posts `DecisionSent` at once and `DecisionMade` only when the daemon replied,
which means the decision is stored; otherwise `DecisionFailed` with the daemon's message.
It always sends `via: "tui"`.
"""

from __future__ import annotations

from typing import Any

from oxymus.client.protocol import ActionResult
from oxymus.tui.link.live import Command, Request
from oxymus.tui.link.messages import DecisionFailed, DecisionMade, DecisionSent

VIA = "tui"
VERBS = ("approve", "deny", "snooze", "undo")


def _command(verb: str) -> Command:
    def done(result: ActionResult, request: Request) -> DecisionMade:
        return DecisionMade(request.ticket, verb, result.action, "payload" in request.params)

    def failed(error: str, request: Request) -> DecisionFailed:
        return DecisionFailed(request.ticket, verb, request.params["id"], error)

    return Command(f"actions.{verb}", done, failed, ActionResult,
                   sent=lambda request: DecisionSent(request.ticket, verb, request.params["id"]))


DECISIONS = {verb: _command(verb) for verb in VERBS}


def decide(connection: Any, verb: str, action_id: str, *, reason: str | None = None,
           payload: dict[str, Any] | None = None, until: str | None = None) -> int:
    """Approve (optionally an edited `payload`), deny (optionally with a `reason`), snooze (`until`: 2h,
    tomorrow 9:00, ...) or undo. Returns the request's ticket, carried by `DecisionSent`, then
    `DecisionMade` or `DecisionFailed`.
    """
    if verb not in DECISIONS:
        raise ValueError(f"not a decision: {verb!r}")
    params: dict[str, Any] = {"id": action_id, "via": VIA}
    if verb == "snooze":
        params["until"] = until or ""
    elif verb != "undo":
        if reason:
            params["reason"] = reason
        if payload is not None and verb == "approve":
            params["payload"] = payload
    return connection.live.send(DECISIONS[verb], **params)
