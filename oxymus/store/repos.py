"""Async repositories over aiosqlite, used by the daemon. One class per aggregate."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import aiosqlite

from oxymus.models import AuditEvent, Capture
from oxymus.store import audit_sql, capture_sql
from oxymus.store.db import PRAGMAS, connect
from oxymus.ulid import new_ulid


class Store:
    """The daemon's handle on the database: one aiosqlite connection, writes serialised.

    A single connection with a lock keeps every write transaction whole (aiosqlite
    shares one thread, so interleaved BEGINs from two coroutines would collide).
    """

    def __init__(self, db: aiosqlite.Connection, path: str):
        self.db = db
        self.path = path
        self.write_lock = asyncio.Lock()
        self.captures = CaptureRepo(self)
        self.audit = AuditLog(self)

    @classmethod
    async def open(cls, path: str) -> "Store":
        # Migrations run on a plain sqlite3 connection: one implementation for the
        # daemon and the offline CLI path.
        await asyncio.to_thread(lambda: connect(path).close())
        db = await aiosqlite.connect(path, isolation_level=None)
        for pragma in PRAGMAS:
            await db.execute(pragma)
        os.chmod(path, 0o600)
        return cls(db, path)

    async def close(self) -> None:
        async with self.write_lock:
            await self.db.close()

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
        """Run statements in one IMMEDIATE transaction; durable when this returns."""
        async with self.write_lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    await self.db.execute(sql, params)
                await self.db.execute("COMMIT")
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise


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

    async def list(self, status: str = "open", limit: int = 500) -> list[Capture]:
        rows = await self.store.fetchall(capture_sql.SELECT_BY_STATUS, (status, limit))
        return [Capture(**capture_sql.row_to_dict(r)) for r in rows]

    async def since(self, seq: int, limit: int = 1000) -> list[Capture]:
        rows = await self.store.fetchall(capture_sql.SELECT_SINCE, (seq, limit))
        return [Capture(**capture_sql.row_to_dict(r)) for r in rows]

    async def max_seq(self) -> int:
        row = await self.store.fetchone(capture_sql.MAX_SEQ)
        return row[0] if row else 0


class AuditLog:
    def __init__(self, store: Store):
        self.store = store

    async def append(self, *, actor: str, verb: str, subject: str, trace_id: str, details: dict[str, Any] | None = None) -> None:
        await self.store.transaction([audit_sql.statement(actor=actor, verb=verb, subject=subject, trace_id=trace_id, details=details)])

    async def list(self, trace_id: str | None = None, limit: int = 200) -> list[AuditEvent]:
        if trace_id:
            sql = f"SELECT {audit_sql.COLUMNS} FROM audit_log WHERE trace_id = ? ORDER BY seq LIMIT ?"
            params: tuple = (trace_id, limit)
        else:
            sql = f"SELECT {audit_sql.COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT ?"
            params = (limit,)
        rows = await self.store.fetchall(sql, params)
        return [
            AuditEvent(seq=r[0], ts=r[1], actor=r[2], verb=r[3], subject=r[4], trace_id=r[5], details=json.loads(r[6]))
            for r in rows
        ]
