"""The weekly review's records: one per ISO week, where it stands, the answers and the proposals decided."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from oxymus.agents.weekly import WeeklyRecord
from oxymus.kernel.ulid import new_ulid
from oxymus.store import audit_sql

if TYPE_CHECKING:
    from oxymus.store.repos import Store

COLUMNS = "week, status, step, answers, decisions, started_at, updated_at, finished_at"
_NAMES = [c.strip() for c in COLUMNS.split(",")]


def _record(row: tuple) -> WeeklyRecord:
    data = dict(zip(_NAMES, row))
    data["answers"] = json.loads(data["answers"])
    data["decisions"] = json.loads(data["decisions"])
    return WeeklyRecord.model_validate(data)


class WeeklyRepo:
    def __init__(self, store: "Store"):
        self.store = store

    async def get(self, week: str) -> WeeklyRecord | None:
        row = await self.store.fetchone(f"SELECT {COLUMNS} FROM weekly_reviews WHERE week = ?", (week,))
        return None if row is None else _record(row)

    async def save(self, record: WeeklyRecord, *, actor: str, verb: str) -> WeeklyRecord:
        """Insert or replace the week's record, with an audit line (`review.weekly_started`, `…_step`, `…_done`)."""
        await self.store.transaction([
            (f"INSERT INTO weekly_reviews ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
             "ON CONFLICT (week) DO UPDATE SET status = excluded.status, step = excluded.step, answers = excluded.answers, "
             "decisions = excluded.decisions, updated_at = excluded.updated_at, finished_at = excluded.finished_at",
             (record.week, record.status, record.step,
              json.dumps({k: v.model_dump(mode="json") for k, v in record.answers.items()}, ensure_ascii=False),
              json.dumps(record.decisions, ensure_ascii=False), record.started_at, record.updated_at, record.finished_at)),
            audit_sql.statement(actor=actor, verb=verb, subject=f"review:{record.week}", trace_id=new_ulid(),
                                details={"step": record.step, "status": record.status, "answers": len(record.answers),
                                         "decisions": len(record.decisions)}),
        ])
        return record
