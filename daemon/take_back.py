"""`oxymus undo` on a done action: its effect taken back, for the kinds that allow it (`ActionSpec.undoable`).

The undo is an action of its own, like a flow's compensation (daemon/flows.py): the
same kind, `compensates` = the done action, key `undo:ACTION`, decided by the person who
asked for it, and run by the executor through the kind's `compensate()`: audited,
retried, crash-safe, and refused (not forced) when the world moved on since. Asking
twice gives back the same undo.
"""

from __future__ import annotations

import logging

from oxymus.actions.effects import Preview
from oxymus.actions.errors import CannotDecide
from oxymus.actions.model import Action, Decision, InputRef, Proposer, RuleCheck
from oxymus.kernel.ulid import new_ulid
from oxymus.store import audit_sql

log = logging.getLogger("oxymus.daemon.take_back")

UNDO_RULE = "built-in: the person takes back a done action"


async def applies(desk, action: Action) -> bool:
    """A done action of an undoable kind, or one already taken back by an undo (asked again: the same answer)."""
    spec = desk.specs.get(action.kind)
    if spec is None or not (spec.undoable and spec.compensable):
        return False
    return action.status == "succeeded" or (action.status == "compensated" and await desk.repo.by_key(f"undo:{action.id}") is not None)


async def take_back(desk, action: Action, *, via: str) -> Action:
    """The action that takes `action`'s effect back (made now, or the one made before)."""
    key = f"undo:{action.id}"
    earlier = await desk.repo.by_key(key)
    if earlier is not None:
        return earlier
    if action.receipt is None:
        raise CannotDecide(f"nothing to undo on action {action.id}: it has no receipt")
    now = desk.now_iso()
    check = RuleCheck(index=0, name=UNDO_RULE, outcome="allow", matched=True, why="")
    undo = Action(
        id=new_ulid(), kind=action.kind, payload=action.payload, proposer=Proposer(type="user", name="user"),
        reason=f"undo of action {action.id}, asked via {via}",
        inputs=[InputRef(kind="action", ref=action.id, note=action.receipt.summary[:500])],
        risk=action.risk, idempotency_key=key,
        decision=Decision(outcome="allow", rule=UNDO_RULE, rule_index=0, path=[check], decided_at=now, reason=f"asked via {via}"),
        preview=Preview(summary=f"undo: {action.preview.summary}"[:500]), trace_id=action.trace_id, status="approved",
        max_attempts=action.max_attempts, next_attempt_at=now, created_at=now, updated_at=now, compensates=action.id,
    )
    audit = [audit_sql.statement(actor="user", verb="action.proposed", subject=undo.id, trace_id=action.trace_id, details={
        "kind": action.kind, "summary": undo.preview.summary, "reason": undo.reason, "compensates": action.id,
        "key": key, "rule": UNDO_RULE, "via": via,
    })]
    if not await desk.repo.insert(undo, audit):
        return await desk.repo.by_key(key) or undo
    log.info("action %s (%s) taken back by %s, asked via %s", action.id, action.kind, undo.id, via)
    await desk.changed(undo, "proposed")
    return undo
