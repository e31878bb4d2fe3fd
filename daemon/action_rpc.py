"""RPC methods for actions, approvals, the policy plane, the pause and the audit log."""

from __future__ import annotations

import datetime as dt

from oxymus.actions.model import FLOW, ActionDetail
from oxymus.client import protocol as proto
from oxymus.client import wire
from oxymus.daemon.desk import ActionDesk
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session
from oxymus.time.when import WhenError, parse_when


class ActionHandlers:
    def __init__(self, desk: ActionDesk):
        self.desk = desk
        self.repo = desk.repo

    def _when(self, text: str) -> dt.datetime:
        try:
            return parse_when(text, self.desk.now(), self.desk.zone)
        except WhenError as exc:
            raise wire.RpcError(wire.INVALID_INPUT, str(exc)) from None

    @rpc("actions.propose")
    async def propose(self, session: Session, p: proto.ProposeParams) -> proto.ProposeResult:
        action, created = await self.desk.propose(
            p.kind, p.payload, proposer=p.proposer, reason=p.reason, inputs=p.inputs,
            confidence=p.confidence, key=p.key, trace_id=p.trace_id, not_before=p.not_before,
        )
        return proto.ProposeResult(action=action, created=created)

    @rpc("actions.list")
    async def list(self, session: Session, p: proto.ActionsListParams) -> proto.ActionsListResult:
        actions = await self.repo.list(p.status, limit=p.limit, newest_first=p.newest_first, trace_id=p.trace_id)
        return proto.ActionsListResult(actions=actions)

    @rpc("actions.get")
    async def get(self, session: Session, p: proto.ActionIdParams) -> ActionDetail:
        action = await self.desk.find(p.id)
        history = await self.desk.store.audit.query(trace_id=action.trace_id, limit=1000)
        steps = await self.repo.flow_actions(action.id) if action.kind == FLOW else []
        return ActionDetail(action=action, approvals=await self.repo.approvals(action.id), receipts=await self.repo.receipts(action.id),
                            history=history, steps=steps)

    @rpc("actions.approve")
    async def approve(self, session: Session, p: proto.DecideParams) -> proto.ActionResult:
        return proto.ActionResult(action=await self.desk.approve(p.id, via=p.via, payload=p.payload, reason=p.reason))

    @rpc("actions.deny")
    async def deny(self, session: Session, p: proto.DecideParams) -> proto.ActionResult:
        return proto.ActionResult(action=await self.desk.deny(p.id, via=p.via, reason=p.reason))

    @rpc("actions.cancel")
    async def cancel(self, session: Session, p: proto.DecideParams) -> proto.ActionResult:
        return proto.ActionResult(action=await self.desk.cancel(p.id, via=p.via, reason=p.reason))

    @rpc("actions.snooze")
    async def snooze(self, session: Session, p: proto.SnoozeParams) -> proto.ActionResult:
        return proto.ActionResult(action=await self.desk.snooze(p.id, self._when(p.until), via=p.via))

    @rpc("actions.undo")
    async def undo(self, session: Session, p: proto.DecideParams) -> proto.ActionResult:
        return proto.ActionResult(action=await self.desk.undo(p.id, via=p.via))

    @rpc("policy.explain")
    async def explain(self, session: Session, p: proto.PolicyExplainParams) -> proto.PolicyExplainResult:
        at = None
        if p.at:
            try:
                at = dt.datetime.fromisoformat(p.at)
            except ValueError:
                raise wire.RpcError(wire.INVALID_INPUT, f"at: not an ISO-8601 time: {p.at!r}") from None
            if at.tzinfo is None:
                at = at.replace(tzinfo=self.desk.zone)
        ev = await self.desk.evaluate(p.kind, p.payload, p.proposer, p.confidence, at)
        return proto.PolicyExplainResult(kind=p.kind, payload=ev.prepared.payload, preview=ev.prepared.preview,
                                         decision=ev.decision, policy_path=self.desk.policy_path)

    @rpc("pause.set")
    async def pause(self, session: Session, p: proto.PauseParams) -> proto.PauseResult:
        until = self._when(p.until) if p.until else None
        return proto.PauseResult(pause=await self.desk.pause(until, p.reason))

    @rpc("pause.clear")
    async def resume(self, session: Session, p: proto.NoParams) -> proto.PauseResult:
        return proto.PauseResult(pause=None, expired=await self.desk.resume())

    @rpc("log.query")
    async def log(self, session: Session, p: proto.LogParams) -> proto.LogResult:
        events = await self.desk.store.audit.query(trace_id=p.trace_id, subject=p.subject, verb=p.verb, problems=p.problems,
                                                   before_seq=p.before_seq, limit=p.limit)
        return proto.LogResult(events=events)
