"""The notifications table: one row per notification and where it reached the person (migration 012)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from oxymus.models import Notification

if TYPE_CHECKING:
    from oxymus.store.repos import Store

COLUMNS = ("id, kind, title, body, urgency, decides, facts, created_at, held_until, desktop, desktop_at, desktop_note, "
           "tui, tui_at, state, seen_at")
_NAMES = [c.strip() for c in COLUMNS.split(",")]


def _row(row: tuple) -> Notification:
    data = dict(zip(_NAMES, row))
    data["facts"] = json.loads(data["facts"])
    return Notification.model_validate(data)


def insert_statements(n: Notification) -> list[tuple[str, tuple]]:
    """The row and its fact claims, for the transaction that stores its notify.send action."""
    values = n.model_dump()
    values["facts"] = json.dumps(n.facts, ensure_ascii=False)
    statements = [(f"INSERT OR IGNORE INTO notifications ({COLUMNS}) VALUES ({', '.join('?' * len(_NAMES))})",
                   tuple(values[k] for k in _NAMES))]
    return statements


def claim_statements(n: Notification) -> list[tuple[str, tuple]]:
    """One INSERT OR IGNORE per fact: a claim that inserts nothing means another notification said it first."""
    return [("INSERT OR IGNORE INTO notification_facts (fact, notification, claimed_at) VALUES (?, ?, ?)",
             (fact, n.id, n.created_at)) for fact in n.facts]


class NoticeRepo:
    def __init__(self, store: "Store"):
        self.store = store

    async def get(self, notification_id: str) -> Notification | None:
        row = await self.store.fetchone(f"SELECT {COLUMNS} FROM notifications WHERE id = ?", (notification_id,))
        return None if row is None else _row(row)

    async def by_facts(self, facts: list[str]) -> str | None:
        """The id of the newest notification that already announced every one of `facts` (None: some fact is new)."""
        if not facts:
            return None
        rows = await self.store.fetchall(
            f"SELECT fact, notification FROM notification_facts WHERE fact IN ({', '.join('?' * len(facts))})", tuple(facts))
        if len(rows) < len(set(facts)):
            return None
        return max(r[1] for r in rows)

    async def ensure(self, n: Notification) -> None:
        """Store the row if it is not there yet (a flow's notify.send step has none until it runs)."""
        await self.store.transaction(insert_statements(n))

    async def update(self, notification_id: str, **changes: Any) -> Notification | None:
        if changes:
            sets = ", ".join(f"{k} = ?" for k in changes)
            await self.store.transaction([(f"UPDATE notifications SET {sets} WHERE id = ?", (*changes.values(), notification_id))])
        return await self.get(notification_id)

    async def listing(self, *, missed_only: bool, limit: int = 200) -> list[Notification]:
        """Missed and not yet seen (oldest first), or every notification (newest first)."""
        if missed_only:
            sql = f"SELECT {COLUMNS} FROM notifications WHERE state = 'missed' AND seen_at IS NULL ORDER BY created_at, id LIMIT ?"
        else:
            sql = f"SELECT {COLUMNS} FROM notifications ORDER BY created_at DESC, id DESC LIMIT ?"
        return [_row(r) for r in await self.store.fetchall(sql, (limit,))]

    async def count_missed(self) -> int:
        row = await self.store.fetchone("SELECT count(*) FROM notifications WHERE state = 'missed' AND seen_at IS NULL")
        return int(row[0]) if row else 0

    async def mark_seen(self, now: str, ids: list[str] | None = None) -> list[str]:
        """Mark missed notifications seen (all of them, or those of `ids`); returns the ids marked."""
        where = "state = 'missed' AND seen_at IS NULL"
        params: tuple = ()
        if ids:
            where += f" AND id IN ({', '.join('?' * len(ids))})"
            params = tuple(ids)
        rows = await self.store.fetchall(f"SELECT id FROM notifications WHERE {where}", params)
        marked = [r[0] for r in rows]
        if marked:
            from oxymus.kernel.ulid import new_ulid
            from oxymus.store import audit_sql

            await self.store.transaction([
                (f"UPDATE notifications SET seen_at = ? WHERE id IN ({', '.join('?' * len(marked))})", (now, *marked)),
                audit_sql.statement(actor="user", verb="notifications.seen", subject="notifications", trace_id=new_ulid(),
                                    details={"ids": marked[:100], "count": len(marked)}),
            ])
        return marked

    async def scheduled_since(self, since: str) -> list[str]:
        """When each notification counted by the rate limit was (or will be) shown, from `since` on, sorted.

        Approvals are not counted: they are never held by the rate limit."""
        rows = await self.store.fetchall(
            "SELECT coalesce(held_until, created_at) AS at FROM notifications WHERE kind != 'approval' "
            "AND state NOT IN ('silenced', 'failed') AND coalesce(held_until, created_at) >= ? ORDER BY at", (since,))
        return [r[0] for r in rows]

    async def to_redeliver(self) -> list[Notification]:
        """What the desktop did not show and still matters: missed and unseen, or asking a decision still waiting."""
        rows = await self.store.fetchall(
            f"SELECT {', '.join('n.' + c for c in _NAMES)} FROM notifications n LEFT JOIN actions a ON a.id = n.decides "
            "WHERE n.desktop IN ('unavailable', 'error') AND n.state != 'failed' AND "
            # An Approve button for a request already decided would only fail: those stay in the list.
            "((n.decides IS NULL AND n.state = 'missed' AND n.seen_at IS NULL) OR a.status = 'awaiting_approval')"
            " ORDER BY n.created_at, n.id LIMIT 100")
        return [_row(r) for r in rows]
