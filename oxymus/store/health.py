"""Is a database file sound? `PRAGMA quick_check` on a read-only connection.

Read-only, so checking a damaged file never changes it: no journal mode switch, no
migration, no checkpoint on close. The daemon runs it before it opens the store;
`oxymus restore` and every backup run it on the file they are about to trust.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse

from oxymus.store.storage_errors import DatabaseDamaged, DiskIOError, StorageError, classify


def open_read_only(path: str) -> sqlite3.Connection:
    return open_existing(path, "ro")


def open_existing(path: str, mode: str = "rw") -> sqlite3.Connection:
    """A connection to a database file that must exist (SQLite would create a missing one)."""
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + f"?mode={mode}"
    db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=5.0)
    db.execute("PRAGMA busy_timeout=5000")
    return db


def inspect(path: str) -> StorageError | None:
    """What is wrong with `path`, or None. A missing or empty file is sound (a new store)."""
    try:
        if os.path.getsize(path) == 0:
            return None
    except FileNotFoundError:
        return None
    try:
        db = open_read_only(path)
        try:
            rows = db.execute("PRAGMA quick_check(5)").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        # "file is not a database" is damage; "unable to open" or an I/O error is the disk's.
        return classify(exc, path) or DiskIOError(path, str(exc))
    found = [r[0] for r in rows if r[0] != "ok"]
    return DatabaseDamaged(path, "; ".join(found)) if found else None


def check(path: str) -> None:
    """Raise the StorageError naming `path` (for damage: with how to restore it) when it is not sound."""
    problem = inspect(path)
    if problem is not None:
        raise problem


def schema_version(path: str) -> int:
    db = open_read_only(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()
