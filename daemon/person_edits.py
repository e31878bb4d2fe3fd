"""An edit the person asked for (PLANS.md, the theme), run as an action and waited for.

The person's own edits pass the policy plane like anything else (by default they run at
once), but the person is waiting at the keyboard: the reply waits for the outcome and,
when there is none yet, says in words why (paused, queued, denied, waiting for approval).
"""

from __future__ import annotations

from typing import Any

from oxymus.actions.model import Action, Proposer
from oxymus.client import wire


async def run_as_person(desk: Any, kind: str, payload: dict[str, Any], *, reason: str, what: str,
                        done_word: str = "made", waiting_ok: bool = False) -> Action:
    """The succeeded action (or, with `waiting_ok`, one waiting for the person's approval); anything else is
    an RpcError naming the action. `what` is how the reply names it ("the edit", "the theme"), `done_word`
    what happens to it when it runs ("made", "saved")."""
    action, _ = await desk.propose(kind, payload, proposer=Proposer(type="user", name="user"), reason=reason)
    if action.status == "approved" and await desk.store.actions.pause_state() is not None:
        # Nothing runs while paused, the person's own edits included: say so instead of waiting.
        raise wire.RpcError(wire.INVALID_INPUT, f"automation is paused: {what} waits as action {action.id} "
                                                f"and is {done_word} when you resume (`oxymus resume`, or P in the TUI)")
    action = await desk.wait_settled(action, timeout=15)
    if action.status in ("approved", "executing"):
        raise wire.RpcError(wire.INVALID_INPUT, f"{what} is queued as action {action.id} and has not run yet; "
                                                f"`oxymus explain {action.id}` shows why")
    if action.status == "failed":
        raise wire.RpcError(wire.INVALID_INPUT, action.error or f"{what} failed")
    if action.status != "succeeded" and not (waiting_ok and action.status != "denied"):
        raise wire.RpcError(wire.INVALID_INPUT, not_applied(action, what))
    return action


def not_applied(action: Action, what: str = "the edit") -> str:
    if action.status == "denied":
        return f"{what} was denied by policy rule {action.decision.rule!r} (action {action.id})"
    return f"{what} waits for approval (action {action.id}, rule {action.decision.rule!r})"
