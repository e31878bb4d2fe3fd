"""Where record status moves come from, and which of them were a person's: the one seam to change when
the agent graph's handoffs table lands (it will say automatic or manual per move; this reads the audit log)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Move:
    ts: str
    record_id: str
    kind: str
    to: str
    manual: bool


def is_manual(actor: str) -> bool:
    """A move is the person's when a client made it directly (`records edit` in the CLI or TUI: the actor is the
    client's name). An agent's `record.update` has actor `agent:NAME`; the person's own `record.update` action has
    actor `user`, and is counted as that action's handoffs (typed and approved), so not again here."""
    return not actor.startswith("agent:") and actor != "user"


def record_moves(db: sqlite3.Connection, until: str) -> list[Move]:
    """Every record status move stored before `until`, oldest first (the audit log's `record.status` lines)."""
    rows = db.execute(
        "SELECT ts, actor, subject, json_extract(details, '$.kind'), json_extract(details, '$.to') FROM audit_log "
        "WHERE verb = 'record.status' AND ts < ? ORDER BY seq", (until,),
    ).fetchall()
    return [Move(ts=ts, record_id=rid, kind=kind or "?", to=to or "?", manual=is_manual(actor)) for ts, actor, rid, kind, to in rows]


