"""RPC methods for PLANS.md: read it parsed, edit it through a `plans.edit` action."""

from __future__ import annotations

from oxymus.actions.model import Proposer
from oxymus.client import protocol as proto
from oxymus.client import wire
from oxymus.client.protocol import NoParams
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session
from oxymus.store.repos import Store


class PlansHandlers:
    def __init__(self, store: Store, keeper, desk):
        self.store = store
        self.plans = keeper
        self.desk = desk

    def _result(self) -> proto.PlansResult:
        k = self.plans
        return proto.PlansResult(path=k.path, exists=k._stat is not None, document=k.document, error=k.error, read_at=k.read_at)

    @rpc("plans.get")
    async def get(self, session: Session, p: NoParams) -> proto.PlansResult:
        return self._result()

    @rpc("plans.edit")
    async def edit(self, session: Session, p: proto.PlansEditParams) -> proto.PlansEditResult:
        return await self.action(session, p.model_dump(exclude_unset=True))

    async def action(self, session: Session, payload: dict) -> proto.PlansEditResult:
        """A PLANS.md edit is a `plans.edit` action proposed by the person: the policy plane
        decides (by default your own edits run at once), and the reply waits for the result."""
        action, _ = await self.desk.propose("plans.edit", payload, proposer=Proposer(type="user", name="user"),
                                            reason=f"edited from {session.client}")
        if action.status == "approved" and await self.store.actions.pause_state() is not None:
            # Nothing runs while paused, the person's own edits included: say so instead of waiting.
            raise wire.RpcError(wire.INVALID_INPUT, f"automation is paused: the edit waits as action {action.id} "
                                                    "and is made when you resume (`oxymus resume`, or P in the TUI)")
        action = await self.desk.wait_settled(action, timeout=15)
        if action.status in ("approved", "executing"):
            raise wire.RpcError(wire.INVALID_INPUT, f"the edit is queued as action {action.id} and has not run yet; "
                                                    f"`oxymus explain {action.id}` shows why")
        if action.status == "failed":
            raise wire.RpcError(wire.INVALID_INPUT, action.error or "the edit failed")
        if action.status == "denied":
            raise wire.RpcError(wire.INVALID_INPUT, not_applied(action))
        data = action.receipt.data if action.receipt else {}
        return proto.PlansEditResult(
            sha256_before=data.get("sha256_before"), sha256_after=data.get("sha256_after"), diff=data.get("diff", ""),
            document=self.plans.document, action=action,
        )


def not_applied(action) -> str:
    if action.status == "denied":
        return f"the edit was denied by policy rule {action.decision.rule!r} (action {action.id})"
    return f"the edit waits for approval (action {action.id}, rule {action.decision.rule!r})"
