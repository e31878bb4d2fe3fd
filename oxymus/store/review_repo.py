"""The morning review's records: one per local date, where it stands and what was decided."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from oxymus.agents.review import ReviewRecord
from oxymus.kernel.ulid import new_ulid
from oxymus.store import audit_sql

if TYPE_CHECKING:
    from oxymus.store.repos import Store

COLUMNS = "date, status, step, decisions, top, started_at, updated_at, finished_at"
_NAMES = [c.strip() for c in COLUMNS.split(",")]


def _record(row: tuple) -> ReviewRecord:
    data = dict(zip(_NAMES, row))
    data["decisions"] = json.loads(data["decisions"])
    data["top"] = json.loads(data["top"])
    return ReviewRecord.model_validate(data)


class ReviewRepo:
    def __init__(self, store: "Store"):
        self.store = store

    async def get(self, date: str) -> ReviewRecord | None:
        row = await self.store.fetchone(f"SELECT {COLUMNS} FROM reviews WHERE date = ?", (date,))
        return None if row is None else _record(row)

    async def last_done(self, before: str) -> ReviewRecord | None:
        """The newest finished review of a date before `before`."""
        row = await self.store.fetchone(f"SELECT {COLUMNS} FROM reviews WHERE status = 'done' AND date < ? "
                                        "ORDER BY date DESC LIMIT 1", (before,))
        return None if row is None else _record(row)

    async def save(self, record: ReviewRecord, *, actor: str, verb: str) -> ReviewRecord:
        """Insert or replace the day's record, with an audit line (`review.started`, `review.step`, `review.done`)."""
        await self.store.transaction([
            (f"INSERT INTO reviews ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
             "ON CONFLICT (date) DO UPDATE SET status = excluded.status, step = excluded.step, decisions = excluded.decisions, "
             "top = excluded.top, updated_at = excluded.updated_at, finished_at = excluded.finished_at",
             (record.date, record.status, record.step, json.dumps(record.decisions, ensure_ascii=False),
              json.dumps(record.top, ensure_ascii=False), record.started_at, record.updated_at, record.finished_at)),
            audit_sql.statement(actor=actor, verb=verb, subject=f"review:{record.date}", trace_id=new_ulid(),
                                details={"step": record.step, "status": record.status, "decisions": len(record.decisions),
                                         "top": record.top}),
        ])
        return record
