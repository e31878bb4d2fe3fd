"""What can go wrong with the disk and the database file, in words a person can act on.

SQLite reports a full disk as SQLITE_FULL, but a write that fails while growing the
shared-memory file arrives as a plain "disk I/O error"; a damaged file is
SQLITE_CORRUPT or SQLITE_NOTADB. `classify` turns those (and ENOSPC from our own
file writes) into one of the domain errors below, each naming the file; the RPC
layer and the CLI print them instead of "internal error: OperationalError".

Stdlib only: the offline capture path uses it.
"""

from __future__ import annotations

import errno
import os
import sqlite3

from oxymus.store import backup_files

# Primary result codes (the low byte of an extended code).
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_NOTADB = 10, 11, 13, 26
# Below this much free space an I/O error is taken for a full disk: SQLite needs a few pages at least.
NEARLY_FULL_BYTES = 64 * 1024


class StorageError(Exception):
    """The store cannot read or write its file. `path` is the file, `headline` the fact without advice."""

    kind = "io"  # on the wire, so a client can tell them apart

    def __init__(self, path: str, headline: str, advice: str):
        self.path = path
        self.headline = headline
        self.advice = advice
        super().__init__(f"{headline}; {advice}")


class DiskFull(StorageError):
    kind = "disk_full"

    def __init__(self, path: str):
        super().__init__(path, f"the disk holding {path} is full", "free some space — Oxymus keeps running and retries")


class DiskIOError(StorageError):
    def __init__(self, path: str, detail: str):
        super().__init__(path, f"cannot read or write {path} ({detail})", "check the disk it is on")


class DatabaseDamaged(StorageError):
    """The database file is corrupt or not a database at all. Nothing rewrites it."""

    kind = "damaged"

    def __init__(self, path: str, detail: str):
        self.detail = detail
        super().__init__(path, f"{path} is damaged ({detail})", f"Oxymus left it untouched; {restore_advice(path)}")


def restore_advice(db_path: str) -> str:
    folder = backup_files.dir_for(db_path)
    newest = backup_files.newest(folder)
    if newest is not None:
        return f"restore the newest backup with `oxymus restore {newest}` (backups are in {folder})"
    return f"there is no backup in {folder}; restore a copy you have with `oxymus restore FILE`"


def classify(exc: BaseException, path: str) -> StorageError | None:
    """The domain error behind `exc` (or behind what it interrupted), or None when it is not about storage."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:  # a failed ROLLBACK hides the real error in __context__
        found = _one(current, path)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def _one(exc: BaseException, path: str) -> StorageError | None:
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(path)
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc)
    if code == SQLITE_FULL or text == "database or disk is full":
        return DiskFull(path)
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB) or text in ("file is not a database", "database disk image is malformed"):
        return DatabaseDamaged(path, text)
    if code == SQLITE_IOERR or text.startswith("disk I/O error"):
        return DiskFull(path) if nearly_full(path) else DiskIOError(path, text)
    return None


def nearly_full(path: str) -> bool:
    folder = os.path.dirname(os.path.abspath(path))
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < NEARLY_FULL_BYTES
