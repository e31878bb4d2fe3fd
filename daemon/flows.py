"""Running flows: each step in its turn, and on a failure for good, the done steps taken back.

The executor calls `advance(flow_id)` whenever a flow starts or one of its actions
settles, and again for every running flow at start. It looks at what is stored and
takes the next single step, so it is idempotent and a crash between any two steps
(or during a compensation) is picked up where it stopped:

- all steps done: the flow succeeds;
- the next step waits in `proposed`: it becomes `approved` and the executor runs it;
- a step failed (after its retries) or expired: the steps after it are `cancelled`,
  and the done ones are taken back newest first, each by a compensation action of
  its own kind (`compensates` = the step, key `compensate:STEP`) that runs through the
  executor like any action: audited, retried, with a receipt, crash-safe. When it
  succeeds the step becomes `compensated` in the same transaction;
- every done step taken back: the flow ends `compensated` (nothing half-done) and the
  person is told;
- a done step that cannot be taken back (a push that landed), or whose compensation
  failed (the file moved on): the flow stops `failed` with exactly what is left to
  do by hand, shown in `oxymus log --problems`, and the person is notified.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from oxymus.actions.effects import Preview
from oxymus.actions.model import FLOW, Action, Decision, InputRef, Proposer, RuleCheck
from oxymus.kernel import faults
from oxymus.kernel.ulid import new_ulid
from oxymus.store.action_repo import Conflict

log = logging.getLogger("oxymus.daemon.flows")

BROKEN = ("failed", "expired", "denied")  # a step in one of these did not happen and will not
COMPENSATION_RULE = "built-in: take back a done step of a flow that failed"


def compensation_decision(flow: Action, now: str) -> Decision:
    """The policy plane's word on a compensation: allowed, because the person approved the
    flow knowing its done steps are taken back if a later one fails (its preview says so)."""
    check = RuleCheck(index=0, name=COMPENSATION_RULE, outcome="allow", matched=True, why="")
    return Decision(outcome="allow", rule=COMPENSATION_RULE, rule_index=0, path=[check], decided_at=now,
                    reason=f"flow {flow.id} was decided by {flow.decision.rule!r} ({flow.decision.outcome})")


def _label(step: Action) -> str:
    return f"step {step.step} ({step.kind})"


class FlowRunner:
    def __init__(self, desk, tell: Callable[[Action], Awaitable[None]]):
        self.desk = desk
        self.repo = desk.repo
        self.tell = tell  # the executor's way of telling the person about a failure

    async def advance(self, flow_id: str) -> Action | None:
        flow = await self.repo.get(flow_id)
        if flow is None or flow.kind != FLOW or flow.status != "executing":
            return flow
        actions = await self.repo.flow_actions(flow.id)
        steps = [a for a in actions if a.step is not None]
        compensations = {a.compensates: a for a in actions if a.compensates}
        broken = next((s for s in steps if s.status in BROKEN), None)
        if broken is None:
            return await self._forward(flow, steps)
        await self.repo.cancel_steps(flow, self.desk.now_iso(), f"{_label(broken)} failed")
        return await self._backward(flow, steps, compensations, broken)

    async def _forward(self, flow: Action, steps: list[Action]) -> Action:
        upcoming = next((s for s in steps if s.status != "succeeded"), None)
        if upcoming is None:
            receipt = {
                "summary": f"all {len(steps)} steps done",
                "data": {"steps": [{"id": s.id, "kind": s.kind, "receipt": s.receipt.summary if s.receipt else ""} for s in steps]},
            }
            return await self._finish(flow, "succeeded", {"receipt": receipt, "error": None}, {"receipt": receipt["summary"]})
        if upcoming.status == "proposed":
            try:
                approved = await self.repo.transition(
                    upcoming, "approved", actor="daemon", now=self.desk.now_iso(), changes={"next_attempt_at": self.desk.now_iso()},
                    details={"reason": f"its turn in flow {flow.id}", "flow": flow.id, "step": upcoming.step},
                )
            except Conflict:
                return flow
            await self.desk.changed(approved, "proposed")
        return flow

    async def _backward(self, flow: Action, steps: list[Action], compensations: dict[str, Action], broken: Action) -> Action:
        undone: list[Action] = []
        for step in reversed([s for s in steps if s.status in ("succeeded", "compensated")]):
            if step.status == "compensated":
                undone.append(step)
                continue
            comp = compensations.get(step.id)
            if comp is None:
                spec = self.desk.specs.get(step.kind)
                if spec is None or not spec.compensable:
                    why = f"{step.kind} cannot be taken back by Oxymus"
                    return await self._stuck(flow, steps, broken, undone, step, why)
                await self._compensate(flow, step, broken)
                return flow
            if comp.status in ("approved", "executing"):
                return flow  # under way; the executor comes back here when it settles
            if comp.status != "succeeded":
                return await self._stuck(flow, steps, broken, undone, step, comp.error or f"its compensation {comp.id} {comp.status}")
        what = f"{_label(broken)} failed: {broken.error or broken.status}"
        taken = (f"; the {len(undone)} step{'s' if len(undone) != 1 else ''} done before it "
                 f"{'were' if len(undone) != 1 else 'was'} taken back") if undone else "; nothing had been done before it"
        message = what + taken
        updated = await self._finish(flow, "compensated", {"error": message}, {"error": message, "failed_step": broken.id,
                                                                              "compensated": [s.id for s in undone]})
        await self.tell(updated)
        return updated

    async def _compensate(self, flow: Action, step: Action, broken: Action) -> None:
        now = self.desk.now_iso()
        action = Action(
            id=new_ulid(), kind=step.kind, payload=step.payload, proposer=Proposer(type="system", name="flow"),
            reason=f"take back {_label(step)} of flow {flow.id}: {_label(broken)} failed",
            inputs=[InputRef(kind="action", ref=step.id, note=step.receipt.summary[:500] if step.receipt else "")],
            risk=step.risk, idempotency_key=f"compensate:{step.id}", decision=compensation_decision(flow, now),
            preview=Preview(summary=f"undo: {step.preview.summary}"[:500]), trace_id=flow.trace_id, status="approved",
            max_attempts=step.max_attempts, next_attempt_at=now, created_at=now, updated_at=now,
            flow_id=flow.id, compensates=step.id,
        )
        from oxymus.store import audit_sql

        audit = [audit_sql.statement(actor="daemon", verb="action.proposed", subject=action.id, trace_id=flow.trace_id, details={
            "kind": step.kind, "summary": action.preview.summary, "reason": action.reason, "compensates": step.id,
            "flow": flow.id, "key": action.idempotency_key, "rule": COMPENSATION_RULE,
        })]
        if await self.repo.insert(action, audit):
            log.info("flow %s: taking back %s (%s) with %s", flow.id, step.id, step.kind, action.id)
            faults.point("flows.compensation_proposed")
            await self.desk.changed(action, "proposed")

    async def _stuck(self, flow: Action, steps: list[Action], broken: Action, undone: list[Action], step: Action, why: str) -> Action:
        """A done step cannot be taken back: stop, and say exactly what is left to do by hand."""
        left = [s for s in steps if s.status == "succeeded" and (s.step or 0) <= (step.step or 0)]
        lines = [f"{_label(broken)} failed: {broken.error or broken.status}."]
        if undone:
            lines.append("Taken back: " + ", ".join(_label(s) for s in undone) + ".")
        lines.append(f"Could not take back {_label(step)}: {why}.")
        lines.append("Left to do by hand: " + "; ".join(
            f"{_label(s)} {s.receipt.summary if s.receipt else s.preview.summary}" for s in reversed(left)) + ".")
        message = " ".join(lines)
        updated = await self._finish(flow, "failed", {"error": message}, {"error": message, "failed_step": broken.id,
                                                                          "left": [s.id for s in left]})
        log.error("flow %s stopped: %s", flow.id, message)
        await self.tell(updated)
        return updated

    async def _finish(self, flow: Action, to: str, changes: dict, details: dict) -> Action:
        try:
            updated = await self.repo.transition(flow, to, actor="executor", now=self.desk.now_iso(), changes=changes, details=details)
        except Conflict:
            return await self.repo.get(flow.id) or flow
        log.info("flow %s %s", flow.id, to)
        await self.desk.changed(updated, "executing")
        return updated
