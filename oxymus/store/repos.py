"""Async repositories over aiosqlite, used by the daemon. One class per aggregate."""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import logging
import os
import sqlite3
from typing import TYPE_CHECKING, Any, Callable, Hashable, TypeVar

import aiosqlite

from oxymus.kernel.ulid import new_ulid
from oxymus.models import PROBLEM_VERBS, AuditEvent, Capture, SourceHealth
from oxymus.store import audit_sql, capture_sql
from oxymus.store.db import PRAGMAS, connect, rollback
from oxymus.store.readers import Readers, ReadSuperseded
from oxymus.store.storage_errors import StorageError, classify
from oxymus.time.clock import now_iso

if TYPE_CHECKING:
    from oxymus.sources.contract import StateItem
    from oxymus.store.action_repo import ActionRepo
    from oxymus.store.agent_repo import AgentRepo
    from oxymus.store.handoffs import HandoffRepo
    from oxymus.store.memory_repo import MemoryRepo
    from oxymus.store.notice_repo import NoticeRepo
    from oxymus.store.record_repo import RecordRepo
    from oxymus.store.review_repo import ReviewRepo
    from oxymus.store.weekly_repo import WeeklyRepo

log = logging.getLogger("oxymus.store")

T = TypeVar("T")


class Store:
    """The daemon's handle on the database: one writer connection for short transactions and
    short reads, and read-only reader threads for long reads (`read`).

    A single writer with a lock keeps every write transaction whole (aiosqlite shares
    one thread, so interleaved BEGINs from two coroutines would collide). Everything sent
    to it runs in turn, so a long read there would hold up every write: those go to
    `read()` instead, on connections of their own (WAL: readers block nobody).
    """

    def __init__(self, db: aiosqlite.Connection, path: str):
        self.db = db
        self.path = path
        self.readers = Readers(path)
        self.write_lock = asyncio.Lock()
        self.trouble: StorageError | None = None  # the storage problem writes last hit, until one succeeds
        self.captures = CaptureRepo(self)
        self.audit = AuditLog(self)
        self.state = StateRepo(self)

    # The repositories built on the agent, action and memory models come on first use: the
    # daemon opens its store and answers `status` before it loads any of those.
    @functools.cached_property
    def memory(self) -> MemoryRepo:
        from oxymus.store.memory_repo import MemoryRepo

        return MemoryRepo(self)

    @functools.cached_property
    def actions(self) -> ActionRepo:
        from oxymus.store.action_repo import ActionRepo

        return ActionRepo(self)

    @functools.cached_property
    def agents(self) -> AgentRepo:
        from oxymus.store.agent_repo import AgentRepo

        return AgentRepo(self)

    @functools.cached_property
    def reviews(self) -> ReviewRepo:
        from oxymus.store.review_repo import ReviewRepo

        return ReviewRepo(self)

    @functools.cached_property
    def weekly(self) -> WeeklyRepo:
        from oxymus.store.weekly_repo import WeeklyRepo

        return WeeklyRepo(self)

    @functools.cached_property
    def records(self) -> RecordRepo:
        from oxymus.store.record_repo import RecordRepo

        return RecordRepo(self)

    @functools.cached_property
    def notices(self) -> NoticeRepo:
        from oxymus.store.notice_repo import NoticeRepo

        return NoticeRepo(self)

    @functools.cached_property
    def handoffs(self) -> HandoffRepo:
        from oxymus.store.handoffs import HandoffRepo

        return HandoffRepo(self)

    @classmethod
    async def open(cls, path: str) -> "Store":
        # Migrations run on a plain sqlite3 connection: one implementation for the
        # daemon and the offline CLI path.
        await asyncio.to_thread(lambda: connect(path).close())
        db = await aiosqlite.connect(path, isolation_level=None)
        for pragma in PRAGMAS:
            await db.execute(pragma)
        # Also the -wal and -shm (recent captures) an older Oxymus left readable by others.
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.chmod(path + suffix, 0o600)
        return cls(db, path)

    async def close(self) -> None:
        await asyncio.to_thread(self.readers.close)
        async with self.write_lock:
            await self.db.close()

    async def read(self, fn: Callable[[sqlite3.Connection], T], *, supersede: Hashable | None = None) -> T:
        """`fn(conn)` on a reader thread's read-only connection: it sees every committed write and
        holds up no other read or write. With `supersede`, a read still running under the same key
        is stopped and raises ReadSuperseded (a search typed further). Storage trouble is a StorageError."""
        try:
            return await self.readers.run(fn, supersede=supersede)
        except ReadSuperseded:
            raise
        except Exception as exc:
            problem = classify(exc, self.path)
            if problem is not None and problem is not exc:
                raise problem from exc
            raise

    async def schema_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cur:
            return (await cur.fetchone())[0]

    async def data_version(self) -> int:
        """Changes whenever another connection commits: how the daemon notices offline captures."""
        async with self.db.execute("PRAGMA data_version") as cur:
            return (await cur.fetchone())[0]

    async def fetchall(self, sql: str, params: tuple = ()) -> list[tuple]:
        async with self.db.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def fetchone(self, sql: str, params: tuple = ()) -> tuple | None:
        async with self.db.execute(sql, params) as cur:
            return await cur.fetchone()

    async def transaction(self, statements: list[tuple[str, tuple]]) -> None:
        """Run statements in one IMMEDIATE transaction; durable when this returns.

        Raises a StorageError (naming the file) when the disk is full or the file damaged."""
        async with self.write_lock:
            try:
                await self.db.execute("BEGIN IMMEDIATE")
                try:
                    # Runs of the same statement go as one executemany: one hop to the
                    # writer's thread for a whole batch rather than one per row.
                    for sql, group in itertools.groupby(statements, key=lambda st: st[0]):
                        rows = [params for _, params in group]
                        if len(rows) == 1:
                            await self.db.execute(sql, rows[0])
                        else:
                            await self.db.executemany(sql, rows)
                    await self.db.execute("COMMIT")
                except BaseException:
                    await rollback(self.db)
                    raise
            except Exception as exc:
                self.storage_failed(exc)
                raise
        self.storage_ok()

    def storage_failed(self, exc: BaseException) -> None:
        """Turn a write's sqlite error into the StorageError behind it (raised), logging when trouble starts."""
        problem = classify(exc, self.path)
        if problem is None:
            return
        if self.trouble is None or type(self.trouble) is not type(problem):
            log.error("%s", problem)
        self.trouble = problem
        if problem is not exc:
            raise problem from exc

    def storage_ok(self) -> None:
        if self.trouble is not None:
            log.info("writing to %s works again (after: %s)", self.path, self.trouble.headline)
            self.trouble = None


class CaptureRepo:
    def __init__(self, store: Store):
        self.store = store

    async def add(self, text: str, source: str, capture_id: str | None = None, trace_id: str | None = None) -> tuple[Capture, bool]:
        """Store a capture and its audit line in one transaction. Returns (capture, created)."""
        params = capture_sql.insert_params(text, source, capture_id)
        existing = await self.get(params[0])
        if existing is not None:
            return existing, False
        await self.store.transaction(capture_sql.add_statements(params, trace_id or new_ulid()))
        capture = await self.get(params[0])
        assert capture is not None
        return capture, True

    async def get(self, capture_id: str) -> Capture | None:
        row = await self.store.fetchone(capture_sql.SELECT_BY_ID, (capture_id.upper(),))
        return None if row is None else Capture(**capture_sql.row_to_dict(row))

    async def list(self, status: str = "open", limit: int = 500, *, before: int | None = None, after: int | None = None,
                   oldest: bool = False) -> list[Capture]:
        """Newest first: the newest `limit`, or the page older than seq `before`, newer than seq `after`, or the oldest."""
        if before is not None:
            rows = await self.store.fetchall(capture_sql.SELECT_BEFORE, (status, before, limit))
        elif after is not None or oldest:
            # Read upwards from the cursor (or the very bottom), so the page touches the cursor; then newest first.
            rows = await self.store.fetchall(capture_sql.SELECT_AFTER, (status, after, limit)) if after is not None else \
                await self.store.fetchall(capture_sql.SELECT_OLDEST, (status, limit))
            rows = list(reversed(rows))
        else:
            rows = await self.store.fetchall(capture_sql.SELECT_BY_STATUS, (status, limit))
        return [Capture(**capture_sql.row_to_dict(r)) for r in rows]

    async def count(self, status: str = "open", *, newer_than: int | None = None) -> int:
        if newer_than is None:
            row = await self.store.fetchone(capture_sql.COUNT_BY_STATUS, (status,))
        else:
            row = await self.store.fetchone(capture_sql.COUNT_NEWER, (status, newer_than))
        return int(row[0]) if row else 0

    async def since(self, seq: int, limit: int = 1000) -> list[Capture]:
        rows = await self.store.fetchall(capture_sql.SELECT_SINCE, (seq, limit))
        return [Capture(**capture_sql.row_to_dict(r)) for r in rows]

    @staticmethod
    def link_statements(capture_id: str, target_kind: str, target_id: str, actor: str) -> list[tuple[str, tuple]]:
        """Link a capture to what it became and mark it triaged: run them in the target's own transaction."""
        return [
            ("INSERT OR IGNORE INTO capture_links (capture_id, target_kind, target_id, created_at) VALUES (?, ?, ?, ?)",
             (capture_id, target_kind, target_id, now_iso())),
            ("UPDATE captures SET status = 'triaged' WHERE id = ?", (capture_id,)),
            audit_sql.statement(actor=actor, verb="capture.triaged", subject=capture_id, trace_id=new_ulid(),
                                details={"to": target_kind, "target": target_id}),
        ]

    async def links(self, capture_id: str):
        """What this capture became (the other direction of MemoryRecord.links)."""
        from oxymus.memory.records import CaptureLink

        rows = await self.store.fetchall(
            "SELECT capture_id, target_kind, target_id, created_at FROM capture_links WHERE capture_id = ? ORDER BY created_at",
            (capture_id.upper(),),
        )
        return [CaptureLink(capture_id=a, target_kind=b, target_id=c, created_at=d) for a, b, c, d in rows]

    async def set_status(self, capture_id: str, status: str, *, actor: str = "user") -> None:
        await self.store.transaction([
            ("UPDATE captures SET status = ? WHERE id = ?", (status, capture_id)),
            audit_sql.statement(actor=actor, verb=f"capture.{status}", subject=capture_id, trace_id=new_ulid()),
        ])

    async def max_seq(self) -> int:
        row = await self.store.fetchone(capture_sql.MAX_SEQ)
        return row[0] if row else 0


class AuditLog:
    def __init__(self, store: Store):
        self.store = store

    async def append(self, *, actor: str, verb: str, subject: str, trace_id: str, details: dict[str, Any] | None = None) -> None:
        await self.store.transaction([audit_sql.statement(actor=actor, verb=verb, subject=subject, trace_id=trace_id, details=details)])

    async def list(self, trace_id: str | None = None, limit: int = 200) -> list[AuditEvent]:
        return await self.query(trace_id=trace_id, limit=limit)

    PROBLEM_VERBS = PROBLEM_VERBS

    async def query(self, *, trace_id: str | None = None, subject: str | None = None, verb: str | None = None,
                    problems: bool = False, before_seq: int | None = None, since: str | None = None,
                    limit: int = 200) -> list[AuditEvent]:
        """Newest first; one trace, or everything since a time, is read oldest first (trigger to receipt)."""
        where, params = [], []
        if since:
            where.append("ts >= ?")
            params.append(since)
        if trace_id:
            where.append("trace_id = ?")
            params.append(trace_id)
        if subject:
            where.append("subject = ?")
            params.append(subject)
        if verb:
            if verb.endswith("*"):
                where.append("verb >= ? AND verb < ?")
                params += [verb[:-1], verb[:-1] + "\U0010ffff"]
            else:
                where.append("verb = ?")
                params.append(verb)
        if problems:
            where.append(f"verb IN ({', '.join('?' * len(self.PROBLEM_VERBS))})")
            params += list(self.PROBLEM_VERBS)
        if before_seq is not None:
            where.append("seq < ?")
            params.append(before_seq)
        order = "ASC" if (trace_id or since) and before_seq is None else "DESC"
        sql = f"SELECT {audit_sql.COLUMNS} FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "")
        sql += f" ORDER BY seq {order} LIMIT ?"
        # On a reader: a filter the indexes do not serve scans the whole log, and the writer need not wait.
        args = (*params, limit)
        rows = await self.store.read(lambda conn: conn.execute(sql, args).fetchall())
        return [
            AuditEvent(seq=r[0], ts=r[1], actor=r[2], verb=r[3], subject=r[4], trace_id=r[5], details=json.loads(r[6]))
            for r in rows
        ]

    async def prune(self, cutoff: str) -> int:
        """Drop routine records older than `cutoff`; the database itself refuses to drop any
        record of a trace with a failure, a denial or an expiry."""
        async with self.store.write_lock:
            db = self.store.db
            await db.execute("BEGIN IMMEDIATE")
            try:
                await db.execute("INSERT INTO audit_retention (id, cutoff) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET cutoff = excluded.cutoff", (cutoff,))
                cur = await db.execute(
                    f"DELETE FROM audit_log WHERE ts < ? AND trace_id NOT IN (SELECT trace_id FROM audit_log WHERE verb IN "
                    f"({', '.join('?' * len(self.PROBLEM_VERBS))}))", (cutoff, *self.PROBLEM_VERBS),
                )
                deleted = cur.rowcount
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return deleted


class StateDiff:
    __slots__ = ("added", "changed", "removed")

    def __init__(self, added: int = 0, changed: int = 0, removed: int = 0):
        self.added, self.changed, self.removed = added, changed, removed

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def as_dict(self) -> dict[str, int]:
        return {"added": self.added, "changed": self.changed, "removed": self.removed}


def _items_sql(*, kinds: list[str] | None = None, sources: list[str] | None = None, start: str | None = None,
               end: str | None = None, errors_only: bool = False, limit: int = 100_000) -> tuple[str, tuple]:
    where, params = [], []
    if errors_only:
        where.append("error IS NOT NULL")
    if kinds:
        where.append(f"kind IN ({', '.join('?' * len(kinds))})")
        params += kinds
    if sources:
        where.append(f"source IN ({', '.join('?' * len(sources))})")
        params += sources
    if end is not None:
        where.append("starts_at < ?")
        params.append(end)
    if start is not None:
        # Zero-length items (a deadline at an instant) count when they fall inside.
        where.append("(ends_at > ? OR (ends_at = starts_at AND starts_at >= ?))")
        params += [start, start]
    sql = "SELECT source, key, kind, observed_at, starts_at, ends_at, data, error FROM state_items"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql + " ORDER BY starts_at, source, key LIMIT ?", (*params, limit)


def _item(r: tuple) -> StateItem:
    from oxymus.sources.contract import StateItem  # the connector contract: loaded with the sources, not at start

    return StateItem(source=r[0], key=r[1], kind=r[2], observed_at=r[3], starts_at=r[4], ends_at=r[5], data=json.loads(r[6]), error=r[7])


REPLACE_CHUNK = 500  # state rows written per transaction: a few ms of the writer each
UPSERT_STATE = (
    "INSERT INTO state_items (source, key, kind, observed_at, starts_at, ends_at, data, error, first_seen, changed_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, key) DO UPDATE SET "
    "kind = excluded.kind, observed_at = excluded.observed_at, starts_at = excluded.starts_at, "
    "ends_at = excluded.ends_at, data = excluded.data, error = excluded.error, changed_at = excluded.changed_at"
)


class StateRepo:
    """State items per source, and each source's health. Replacing a source's items is one transaction."""

    ITEM_COLUMNS = "source, key, kind, observed_at, starts_at, ends_at, data, error, first_seen, changed_at"

    def __init__(self, store: Store):
        self.store = store
        # Bumped after every commit that changes state items or bill payments (here, and by
        # `changed()` from whoever writes them elsewhere): a day view read under an older
        # generation may be stale. Read it before reading the state, compare it after.
        self.generation = 0

    def changed(self) -> None:
        self.generation += 1

    async def replace(self, source: str, items: list[StateItem]) -> StateDiff:
        """Make `items` the source's whole state. Unchanged rows keep their first_seen and changed_at.

        The stored rows are read and compared on a reader thread, so neither the event loop
        nor the writer waits on a big source; only the rows that differ are written, at most
        REPLACE_CHUNK per transaction, so a capture waits for one short chunk, never for a
        20,000-event calendar (a crash between chunks leaves a state the next poll completes)."""
        statements, diff = await self.store.read(lambda conn: self._diff(conn, source, items))
        for start in range(0, len(statements), REPLACE_CHUNK):
            await self.store.transaction(statements[start:start + REPLACE_CHUNK])
            self.changed()
        return diff

    @staticmethod
    def _diff(conn: sqlite3.Connection, source: str, items: list[StateItem]) -> tuple[list[tuple[str, tuple]], StateDiff]:
        existing = {
            key: (kind, starts, ends, data, error)
            for key, kind, starts, ends, data, error in conn.execute(
                "SELECT key, kind, starts_at, ends_at, data, error FROM state_items WHERE source = ?", (source,)
            )
        }
        now = now_iso()
        diff = StateDiff()
        upserts: list[tuple[str, tuple]] = []
        seen: set[str] = set()
        for item in items:
            if item.key in seen:
                continue  # a source that repeats a key: the first wins, deterministically
            seen.add(item.key)
            data = json.dumps(item.data, sort_keys=True, ensure_ascii=False, default=str)
            row = (item.kind, item.starts_at, item.ends_at, data, item.error)
            old = existing.get(item.key)
            if old is None:
                diff.added += 1
            elif old != row:
                diff.changed += 1
            if old != row:
                upserts.append((UPSERT_STATE, (source, item.key, *row[:1], item.observed_at, *row[1:], now, now)))
        deletes = [("DELETE FROM state_items WHERE source = ? AND key = ?", (source, key)) for key in existing.keys() - seen]
        diff.removed = len(deletes)
        return upserts + deletes, diff

    async def items(
        self, *, kinds: list[str] | None = None, sources: list[str] | None = None,
        start: str | None = None, end: str | None = None, errors_only: bool = False, limit: int = 100_000,
    ) -> list[StateItem]:
        """Items filtered by kind/source; with start/end, those whose [starts_at, ends_at) overlaps [start, end)."""
        sql, params = _items_sql(kinds=kinds, sources=sources, start=start, end=end, errors_only=errors_only, limit=limit)
        return [_item(r) for r in await self.store.fetchall(sql, params)]

    async def day_inputs(self, start: str, end: str, deadlines_end: str) -> tuple[list[StateItem], dict[tuple[str, str], str]]:
        """What the day view of [start, end) reads: its events, deadlines up to deadlines_end, bills,
        repos, PRs and issues, calendar errors, and the bills' payments. One read on a reader
        thread (one snapshot; nothing waits behind the writer), rows made into items there too."""
        queries = [
            _items_sql(kinds=["calendar.event"], start=start, end=end),
            _items_sql(kinds=["calendar.deadline"], end=deadlines_end),
            _items_sql(kinds=["bills.due", "bills.error", "git.repo", "git.root", "github.review_request", "github.pr",
                              "github.issue"]),
        ]

        def read(conn: sqlite3.Connection) -> tuple[list[StateItem], dict[tuple[str, str], str]]:
            items = [_item(r) for sql, params in queries for r in conn.execute(sql, params)]
            sql, params = _items_sql(errors_only=True)
            items += [_item(r) for r in conn.execute(sql, params) if r[2].startswith("calendar.")]
            bills = sorted({i.data.get("bill", "") for i in items if i.kind == "bills.due"})
            rows = conn.execute(f"SELECT bill, due, paid_at FROM bill_payments WHERE bill IN ({', '.join('?' * len(bills))})",
                                bills).fetchall() if bills else []
            return items, {(b, d): p for b, d, p in rows}

        return await self.store.read(read)

    async def count(self, source: str) -> int:
        # On a reader: counting a 20,000-event calendar's rows on the writer's thread would hold up
        # the captures queued behind it.
        return await self.store.read(
            lambda conn: conn.execute("SELECT count(*) FROM state_items WHERE source = ?", (source,)).fetchone()[0])

    async def forget_sources_except(self, keep: set[str]) -> list[str]:
        """Drop the state of sources no longer configured (the config is the truth)."""
        rows = await self.store.fetchall("SELECT source FROM source_health UNION SELECT DISTINCT source FROM state_items")
        gone = sorted({r[0] for r in rows} - keep)
        if gone:
            marks = ", ".join("?" * len(gone))
            await self.store.transaction([
                (f"DELETE FROM state_items WHERE source IN ({marks})", tuple(gone)),
                (f"DELETE FROM source_health WHERE source IN ({marks})", tuple(gone)),
            ])
            self.changed()
        return gone

    async def load_health(self, source: str) -> dict | None:
        row = await self.store.fetchone(
            "SELECT last_attempt, last_success, last_error, last_error_at, error_class, consecutive_failures, "
            "next_attempt, item_count, suspect, warnings FROM source_health WHERE source = ?", (source,)
        )
        if row is None:
            return None
        keys = ("last_attempt", "last_success", "last_error", "last_error_at", "error_class", "consecutive_failures",
                "next_attempt", "item_count", "suspect", "warnings")
        out = dict(zip(keys, row))
        out["warnings"] = json.loads(out["warnings"])
        return out

    async def save_health(self, h: SourceHealth) -> None:
        await self.store.transaction([(
            "INSERT INTO source_health (source, last_attempt, last_success, last_error, last_error_at, error_class, "
            "consecutive_failures, next_attempt, item_count, suspect, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (source) DO UPDATE SET last_attempt = excluded.last_attempt, last_success = excluded.last_success, "
            "last_error = excluded.last_error, last_error_at = excluded.last_error_at, error_class = excluded.error_class, "
            "consecutive_failures = excluded.consecutive_failures, next_attempt = excluded.next_attempt, "
            "item_count = excluded.item_count, suspect = excluded.suspect, warnings = excluded.warnings",
            (h.source, h.last_attempt, h.last_success, h.last_error, h.last_error_at, h.error_class,
             h.consecutive_failures, h.next_attempt, h.item_count, h.suspect, json.dumps(h.warnings, ensure_ascii=False)),
        )])

    async def payments(self, bills: list[str]) -> dict[tuple[str, str], str]:
        """(bill, due) -> paid_at for the given bills."""
        if not bills:
            return {}
        rows = await self.store.fetchall(
            f"SELECT bill, due, paid_at FROM bill_payments WHERE bill IN ({', '.join('?' * len(bills))})", tuple(bills)
        )
        return {(b, d): p for b, d, p in rows}
