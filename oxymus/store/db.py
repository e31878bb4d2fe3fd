"""Opening the database: the same pragmas for every connection, sync or async."""

from __future__ import annotations

import os
import sqlite3

from oxymus.store.migrations import migrate

# synchronous=FULL: a commit is on disk (one WAL fsync) before we acknowledge it.
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
)


def apply_pragmas(db: sqlite3.Connection) -> None:
    for pragma in PRAGMAS:
        if pragma.startswith("PRAGMA journal_mode"):
            _to_wal(db, pragma)
        else:
            db.execute(pragma)


def _to_wal(db: sqlite3.Connection, pragma: str, wait: float = 5.0) -> None:
    """Switch a new file to WAL. The switch needs the file to itself and SQLite does not wait
    for it (no busy handler), so two writers creating the database at once (the TUI's
    capture and its save on quit, a capture and a starting daemon) would see "database is
    locked": wait for the other as busy_timeout would. A file already in WAL never waits."""
    import time

    deadline = time.monotonic() + wait
    while True:
        try:
            db.execute(pragma)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def connect(path: str, *, migrate_schema: bool = True) -> sqlite3.Connection:
    """A stdlib connection in autocommit mode (explicit transactions), migrated."""
    os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    try:
        apply_pragmas(db)
        if migrate_schema:
            migrate(db, path=path)
    except BaseException:
        db.close()
        raise
    return db


async def rollback(db) -> None:
    """Roll back an aiosqlite connection's open transaction, if there still is one: on a full
    disk SQLite has already rolled back, and a second ROLLBACK would fail and hide the real error."""
    if db.in_transaction:
        await db.execute("ROLLBACK")
