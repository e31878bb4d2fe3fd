"""RPC methods for PLANS.md: read it parsed, edit it through a `plans.edit` action."""

from __future__ import annotations

from oxymus.client import protocol as proto
from oxymus.client.protocol import NoParams
from oxymus.daemon.person_edits import run_as_person
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
        action = await run_as_person(self.desk, "plans.edit", payload, reason=f"edited from {session.client}",
                                     what="the edit", waiting_ok=True)
        data = action.receipt.data if action.receipt else {}
        return proto.PlansEditResult(
            sha256_before=data.get("sha256_before"), sha256_after=data.get("sha256_after"), diff=data.get("diff", ""),
            document=self.plans.document, action=action,
        )

