"""RPC methods for the person's UI settings: `ui.set_theme` saves the TUI's theme through a `ui.theme` action."""

from __future__ import annotations

from oxymus.actions.model import Proposer
from oxymus.client import protocol as proto
from oxymus.client import wire
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session


class UiHandlers:
    def __init__(self, store, desk):
        self.store = store
        self.desk = desk

    @rpc("ui.set_theme")
    async def set_theme(self, session: Session, p: proto.ThemeSetParams) -> proto.ThemeSetResult:
        """Proposed as the person: the policy plane decides (by default your own edits run at once); the
        reply waits for the edit, or says why it was not made."""
        action, _ = await self.desk.propose("ui.theme", p.model_dump(), proposer=Proposer(type="user", name="user"),
                                            reason=f"theme picked in {session.client}")
        if action.status == "approved" and await self.store.actions.pause_state() is not None:
            raise wire.RpcError(wire.INVALID_INPUT, f"automation is paused: the theme waits as action {action.id} "
                                                    "and is saved when you resume")
        action = await self.desk.wait_settled(action, timeout=15)
        if action.status in ("approved", "executing"):
            raise wire.RpcError(wire.INVALID_INPUT, f"the theme is queued as action {action.id} and not saved yet; "
                                                    f"`oxymus explain {action.id}` shows why")
        if action.status == "failed":
            raise wire.RpcError(wire.INVALID_INPUT, action.error or "saving the theme failed")
        if action.status == "denied":
            raise wire.RpcError(wire.INVALID_INPUT, f"saving the theme was denied by policy rule {action.decision.rule!r}")
        if action.status != "succeeded":
            raise wire.RpcError(wire.INVALID_INPUT, f"the theme waits for approval (action {action.id}, "
                                                    f"rule {action.decision.rule!r})")
        data = action.receipt.data if action.receipt else {}
        return proto.ThemeSetResult(theme=p.theme, path=str(data.get("path", "")),
                                    changed=not (action.receipt and action.receipt.already_done), action=action)
