"""Effects on Oxymus' own data, for the action kinds that need them (see oxymus.effects.LocalEffects).

Both are idempotent, so the executor can retry them after a crash: a payment is keyed
by (bill, due date), and a PLANS.md patch that is already in the file is recognised
instead of being refused as a conflict or applied twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

from oxymus import plans, wire
from oxymus.effects import Permanent
from oxymus.plans.ids import normalise
from oxymus.sources import utc_iso
from oxymus.store import audit_sql
from oxymus.store.repos import Store
from oxymus.ulid import new_ulid
from oxymus.daemon.plans import PlansKeeper, _read

PATCHES = {"set_done": plans.set_done, "add_action": plans.add_action, "set_proposal_status": plans.set_proposal_status}


class DaemonLocalEffects:
    def __init__(self, store: Store, keeper: PlansKeeper, now, bus=None):
        self.store = store
        self.keeper = keeper
        self._now = now
        self.bus = bus

    async def mark_bill_paid(self, *, bill: str, due: str, amount: float | None, note: str | None, action_id: str,
                             trace_id: str | None = None) -> bool:
        async with self.store.write_lock:
            db = self.store.db
            await db.execute("BEGIN IMMEDIATE")
            try:
                cur = await db.execute(
                    "INSERT OR IGNORE INTO bill_payments (bill, due, paid_at, amount, note) VALUES (?, ?, ?, ?, ?)",
                    (bill, due, utc_iso(self._now()), amount, note),
                )
                created = cur.rowcount == 1
                if created:
                    sql, params = audit_sql.statement(actor="executor", verb="bills.paid", subject=f"{bill}@{due}", trace_id=trace_id or new_ulid(),
                                                      details={"bill": bill, "due": due, "amount": amount, "action": action_id})
                    await db.execute(sql, params)
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        if created and self.bus is not None:
            self.bus.publish("state.changed", {"source": "bills", "added": 0, "changed": 1, "removed": 0})
        return created

    async def _current(self) -> bytes | None:
        try:
            return await asyncio.to_thread(_read, self.keeper.path)
        except FileNotFoundError:
            return None

    async def plans_preview(self, op: str, kwargs: dict[str, Any]) -> tuple[str, str]:
        data = await self._current()
        base = data if data is not None else b""
        sha = plans.parse(base, self.keeper.path).sha256
        try:
            new = PATCHES[op](base, expected_sha256=sha, path=self.keeper.path, **kwargs)
        except (plans.PlansError, ValueError, TypeError) as exc:
            from oxymus.effects import ActionInvalid

            raise ActionInvalid(str(exc)) from None
        return (sha if data is not None else ""), plans.diff(base, new, "PLANS.md")

    def _already_applied(self, op: str, kwargs: dict[str, Any], data: bytes) -> bool:
        """True if the file already shows this edit (a retry after a crash, or the person did it by hand)."""
        doc = plans.parse(data, self.keeper.path)
        if op == "add_action":
            want = normalise(kwargs["text"])
            title = (kwargs.get("section_title") or "").strip().lower()
            return any(normalise(a.text) == want and (not title or (a.section and a.section[-1].strip().lower() == title))
                       for a in doc.actions)
        try:
            return PATCHES[op](data, expected_sha256=doc.sha256, path=self.keeper.path, **kwargs) == data
        except (plans.PlansError, ValueError, TypeError):
            return False

    async def edit_plans(self, op: str, kwargs: dict[str, Any], *, expected_sha256: str | None, actor: str,
                         trace_id: str | None = None) -> dict[str, Any]:
        data = await self._current()
        if data is not None and expected_sha256 and plans.parse(data, self.keeper.path).sha256 != expected_sha256:
            if self._already_applied(op, kwargs, data):
                return {"already_done": True, "sha256_after": plans.parse(data, self.keeper.path).sha256, "diff": ""}
        if data is not None and op == "add_action" and self._already_applied(op, kwargs, data):
            return {"already_done": True, "sha256_after": plans.parse(data, self.keeper.path).sha256, "diff": ""}
        try:
            before, after, diff = await self.keeper.edit(op, kwargs, expected_sha256=expected_sha256, actor=actor, trace_id=trace_id)
        except wire.RpcError as exc:
            raise Permanent(exc.message) from None
        return {"sha256_before": before, "sha256_after": after, "diff": diff}
