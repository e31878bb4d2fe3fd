"""Handoffs: each time a record reaches a status, who moved it, who takes it over, and whether
that was automatic (an agent's move the policy allowed, its consumer started by the runtime)
or manual (a person moved it, approved the move, or has to pick it up). Metrics count the
manual ones: each is a place where the person was the glue.

Migration 015 (migrations_later.py) creates the table; the daemon writes a row per consumer (or one row with no consumer) on each `record.status`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oxymus.kernel.ulid import new_ulid
from oxymus.records.model import Handoff

if TYPE_CHECKING:
    from oxymus.store.repos import Store


_COLS = "id, at, record_id, kind, from_status, to_status, by, to_agent, mode, action_id, run_id"


class HandoffRepo:
    def __init__(self, store: "Store"):
        self.store = store

    async def add(self, handoff: Handoff) -> Handoff:
        handoff = handoff if handoff.id else handoff.model_copy(update={"id": new_ulid()})
        await self.store.transaction([(f"INSERT INTO handoffs ({_COLS}) VALUES ({', '.join('?' * 11)})",
                                       tuple(getattr(handoff, c.strip()) for c in _COLS.split(",")))])
        return handoff

    async def started(self, handoff_id: str, run_id: str) -> None:
        await self.store.transaction([("UPDATE handoffs SET run_id = ? WHERE id = ?", (run_id, handoff_id))])

    async def of_record(self, record_id: str) -> list[Handoff]:
        rows = await self.store.fetchall(f"SELECT {_COLS} FROM handoffs WHERE record_id = ? ORDER BY at, id", (record_id,))
        return [Handoff(**dict(zip([c.strip() for c in _COLS.split(",")], row))) for row in rows]

    async def count(self, mode: str, since: str = "") -> int:
        row = await self.store.fetchone("SELECT count(*) FROM handoffs WHERE mode = ? AND at >= ?", (mode, since))
        return int(row[0]) if row else 0
