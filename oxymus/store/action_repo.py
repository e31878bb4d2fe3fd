"""Actions in the store: each status change is one transaction with its audit line (and its
approval or receipt row), guarded by the status it expects so that two deciders racing
(the TUI and a notification button) cannot both win."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from oxymus.actions.effects import Receipt
from oxymus.actions.model import Action, ActionStatus, Approval, PauseState, StoredReceipt, check_transition
from oxymus.store import audit_sql
from oxymus.store.db import rollback

if TYPE_CHECKING:
    from oxymus.store.repos import Store

COLUMNS = (
    "id, kind, status, payload, proposer, reason, inputs, confidence, risk, idempotency_key, decision, preview, "
    "trace_id, attempts, max_attempts, next_attempt_at, expires_at, snoozed_until, created_at, updated_at, error, receipt, "
    "flow_id, step, compensates, not_before"
)
_JSON = ("payload", "proposer", "inputs", "decision", "preview", "receipt")
_NAMES = [c.strip() for c in COLUMNS.split(",")]


class Conflict(Exception):
    """The action was not in the status the change expected (someone else decided first)."""

    def __init__(self, action_id: str, expected: tuple[str, ...], actual: str | None):
        self.action_id, self.expected, self.actual = action_id, expected, actual
        super().__init__(f"action {action_id} is {actual or 'gone'}, not {' or '.join(expected)}")


def _row_to_action(row: tuple) -> Action:
    data: dict[str, Any] = dict(zip(_NAMES, row))
    for key in _JSON:
        if data[key] is not None:
            data[key] = json.loads(data[key])
    return Action.model_validate(data)


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


class ActionRepo:
    def __init__(self, store: "Store"):
        self.store = store

    # --- reading ------------------------------------------------------------------------

    async def get(self, action_id: str) -> Action | None:
        row = await self.store.fetchone(f"SELECT {COLUMNS} FROM actions WHERE id = ?", (action_id.upper(),))
        return None if row is None else _row_to_action(row)

    async def by_key(self, key: str) -> Action | None:
        row = await self.store.fetchone(f"SELECT {COLUMNS} FROM actions WHERE idempotency_key = ?", (key,))
        return None if row is None else _row_to_action(row)

    async def list(self, statuses: tuple[str, ...] | list[str] | None = None, *, limit: int = 200, newest_first: bool = False,
                   trace_id: str | None = None) -> list[Action]:
        where, params = [], []
        if statuses:
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            params += list(statuses)
        if trace_id:
            where.append("trace_id = ?")
            params.append(trace_id)
        sql = f"SELECT {COLUMNS} FROM actions" + (" WHERE " + " AND ".join(where) if where else "")
        sql += f" ORDER BY seq {'DESC' if newest_first else 'ASC'} LIMIT ?"
        return [_row_to_action(r) for r in await self.store.fetchall(sql, (*params, limit))]

    async def count(self, statuses: tuple[str, ...]) -> int:
        row = await self.store.fetchone(f"SELECT count(*) FROM actions WHERE status IN ({', '.join('?' * len(statuses))})", statuses)
        return row[0] if row else 0

    async def flow_actions(self, flow_id: str) -> list[Action]:
        """A flow's steps in order, then its compensations in the order they were made."""
        rows = await self.store.fetchall(
            f"SELECT {COLUMNS} FROM actions WHERE flow_id = ? ORDER BY step IS NULL, step, seq", (flow_id,),
        )
        return [_row_to_action(r) for r in rows]

    async def cancel_steps(self, flow: Action, now: str, reason: str) -> list[str]:
        """The flow's steps still waiting for their turn will never run: `cancelled`, each with its audit line."""
        waiting = [a for a in await self.flow_actions(flow.id) if a.status == "proposed"]
        statements: list[tuple[str, tuple]] = []
        for step in waiting:
            check_transition(step.status, "cancelled")
            statements.append(("UPDATE actions SET status = 'cancelled', updated_at = ? WHERE id = ? AND status = 'proposed'", (now, step.id)))
            statements.append(audit_sql.statement(actor="daemon", verb="action.cancelled", subject=step.id, trace_id=step.trace_id,
                                                  details={"from": "proposed", "kind": step.kind, "flow": flow.id, "reason": reason}))
        if statements:
            await self.store.transaction(statements)
        return [a.id for a in waiting]

    async def due(self, now: str, limit: int = 20) -> list[Action]:
        """Approved actions whose time has come, oldest due first (the outbox)."""
        rows = await self.store.fetchall(
            f"SELECT {COLUMNS} FROM actions WHERE status = 'approved' AND coalesce(next_attempt_at, '') <= ? "
            "ORDER BY next_attempt_at, seq LIMIT ?", (now, limit),
        )
        return [_row_to_action(r) for r in rows]

    async def past(self, column: str, statuses: tuple[str, ...], now: str, limit: int = 1000) -> list[Action]:
        """Actions in `statuses` whose `column` (expires_at, snoozed_until) is at or before `now`."""
        assert column in ("expires_at", "snoozed_until")
        rows = await self.store.fetchall(
            f"SELECT {COLUMNS} FROM actions WHERE status IN ({', '.join('?' * len(statuses))}) AND {column} <= ? ORDER BY {column} LIMIT ?",
            (*statuses, now, limit),
        )
        return [_row_to_action(r) for r in rows]

    async def next_wake(self, include_due: bool = True) -> str | None:
        """The earliest time anything needs attention: a due action, an expiry, a snooze ending.

        One MIN per status and column, each answered from an index of migration 005, not a scan.
        """
        queries = [
            "SELECT min(expires_at) FROM actions WHERE status = 'awaiting_approval'",
            "SELECT min(expires_at) FROM actions WHERE status = 'snoozed'",
            "SELECT min(snoozed_until) FROM actions WHERE status = 'snoozed'",
        ]
        if include_due:
            queries.append("SELECT min(next_attempt_at) FROM actions WHERE status = 'approved'")
        times = [row[0] for sql in queries if (row := await self.store.fetchone(sql)) and row[0]]
        return min(times) if times else None

    async def approvals(self, action_id: str) -> list[Approval]:
        rows = await self.store.fetchall(
            "SELECT action_id, decision, actor, via, at, reason, until FROM action_approvals WHERE action_id = ? ORDER BY seq",
            (action_id,),
        )
        keys = ("action_id", "decision", "actor", "via", "at", "reason", "until")
        return [Approval(**dict(zip(keys, r))) for r in rows]

    async def receipts(self, action_id: str) -> list[StoredReceipt]:
        rows = await self.store.fetchall(
            "SELECT action_id, attempt, at, summary, ref, data, already_done FROM action_receipts WHERE action_id = ? ORDER BY attempt",
            (action_id,),
        )
        return [
            StoredReceipt(action_id=a, attempt=n, at=at, summary=s, ref=ref, data=json.loads(d), already_done=bool(done))
            for a, n, at, s, ref, d, done in rows
        ]

    # --- writing ------------------------------------------------------------------------

    async def insert(self, action: Action, audit: list[tuple[str, tuple]], steps: list[Action] | None = None,
                     claims: list[tuple[str, tuple]] | None = None) -> bool:
        """Store a new action (and a flow's steps) with its audit lines; False if its idempotency key is already taken.

        `claims` (INSERT OR IGNORE statements): when there are some and none inserts a row, nothing
        is stored and the answer is False too (a notification whose every fact was already announced)."""
        marks = ", ".join("?" * len(_NAMES))
        async with self.store.write_lock:
            db = self.store.db
            await db.execute("BEGIN IMMEDIATE")
            try:
                for i, row in enumerate([action, *(steps or [])]):
                    values = row.model_dump(mode="json")
                    params = tuple(_dump(values[n]) if n in _JSON and values[n] is not None else values[n] for n in _NAMES)
                    cur = await db.execute(f"INSERT OR IGNORE INTO actions ({COLUMNS}) VALUES ({marks})", params)
                    if cur.rowcount == 0:
                        await db.execute("ROLLBACK")
                        return False
                if claims:
                    taken = 0
                    for sql, p in claims:
                        taken += (await db.execute(sql, p)).rowcount
                    if taken == 0:
                        await db.execute("ROLLBACK")
                        return False
                for sql, p in audit:
                    await db.execute(sql, p)
                await db.execute("COMMIT")
            except BaseException:
                await rollback(db)
                raise
        return True

    async def transition(
        self,
        action: Action,
        to: ActionStatus,
        *,
        actor: str,
        now: str,
        changes: dict[str, Any] | None = None,
        approvals: list[Approval] | None = None,
        receipt: StoredReceipt | None = None,
        details: dict[str, Any] | None = None,
        extra: list[tuple[str, tuple]] | None = None,
        expect: tuple[str, ...] | None = None,
        guard: str | None = None,
    ) -> Action:
        """Move `action` to `to` in one transaction, if it is still in the status it was read in
        (and `guard`, an SQL condition, holds: the executor's 'not paused').

        The approval or receipt row, the audit line and the new status commit together:
        a receipt is stored no later than the status that says the effect happened.
        """
        expected = expect or (action.status,)
        for status in expected:
            check_transition(status, to)
        changes = dict(changes or {})
        sets = ["status = ?", "updated_at = ?"] + [f"{k} = ?" for k in changes]
        params = [to, now] + [_dump(v) if k in _JSON and v is not None else v for k, v in changes.items()]
        statements: list[tuple[str, tuple]] = []
        for approval in approvals or []:
            statements.append((
                "INSERT INTO action_approvals (action_id, decision, actor, via, at, reason, until) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (approval.action_id, approval.decision, approval.actor, approval.via, approval.at, approval.reason, approval.until),
            ))
        first = len(approvals or [])
        if receipt is not None:
            statements.append((
                "INSERT OR IGNORE INTO action_receipts (action_id, attempt, at, summary, ref, data, already_done) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (receipt.action_id, receipt.attempt, receipt.at, receipt.summary, receipt.ref, _dump(receipt.data), int(receipt.already_done)),
            ))
        audit_details = {"from": action.status, "kind": action.kind, **(details or {})}
        statements.append(audit_sql.statement(actor=actor, verb=f"action.{to}", subject=action.id, trace_id=action.trace_id, details=audit_details))
        statements += extra or []
        async with self.store.write_lock:
            db = self.store.db
            await db.execute("BEGIN IMMEDIATE")
            try:
                # Approval rows first: the trigger guarding 'executing' reads them.
                for sql, p in statements[:first]:
                    await db.execute(sql, p)
                cur = await db.execute(
                    f"UPDATE actions SET {', '.join(sets)} WHERE id = ? AND status IN ({', '.join('?' * len(expected))})"
                    + (f" AND {guard}" if guard else ""),
                    (*params, action.id, *expected),
                )
                if cur.rowcount != 1:
                    await db.execute("ROLLBACK")
                    row = await self.store.fetchone("SELECT status FROM actions WHERE id = ?", (action.id,))
                    raise Conflict(action.id, expected, row[0] if row else None)
                for sql, p in statements[first:]:
                    await db.execute(sql, p)
                await db.execute("COMMIT")
            except Conflict:
                raise
            except BaseException:
                await rollback(db)
                raise
        updated = await self.get(action.id)
        assert updated is not None
        return updated

    async def record(self, action: Action, *, actor: str, verb: str, details: dict[str, Any], changes: dict[str, Any] | None = None) -> None:
        """An audit line (and field changes) that is not a status change: a retry scheduled, an edit."""
        statements: list[tuple[str, tuple]] = []
        if changes:
            sets = ", ".join(f"{k} = ?" for k in changes)
            params = [_dump(v) if k in _JSON and v is not None else v for k, v in changes.items()]
            statements.append((f"UPDATE actions SET {sets} WHERE id = ?", (*params, action.id)))
        statements.append(audit_sql.statement(actor=actor, verb=verb, subject=action.id, trace_id=action.trace_id, details=details))
        await self.store.transaction(statements)

    # --- pause --------------------------------------------------------------------------

    async def pause_state(self) -> PauseState | None:
        row = await self.store.fetchone("SELECT value FROM settings WHERE key = 'pause'")
        return None if row is None else PauseState.model_validate_json(row[0])

    def pause_statements(self, state: PauseState | None, now: str) -> list[tuple[str, tuple]]:
        if state is None:
            return [("DELETE FROM settings WHERE key = 'pause'", ())]
        return [(
            "INSERT INTO settings (key, value, updated_at) VALUES ('pause', ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (state.model_dump_json(), now),
        )]


def receipt_row(action: Action, receipt: Receipt, now: str) -> StoredReceipt:
    return StoredReceipt(**receipt.model_dump(), action_id=action.id, attempt=action.attempts, at=now)
