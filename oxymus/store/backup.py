"""Backups of the database: consistent copies through SQLite's online backup API.

The copy is one read transaction on the source, so it is consistent while the daemon
keeps writing (WAL readers do not block writers). It is written to a temporary name
next to its destination, checked with quick_check, made owner-only, fsynced and only
then renamed into place: a backup that exists is a whole, sound database.

Stdlib only, like the rest of the store's sync side.
"""

from __future__ import annotations

import os
import sqlite3

from oxymus.kernel.files import fsync_path
from oxymus.store.backup_files import DIR_NAME, default_path, dir_for, listing, newest
from oxymus.store.storage_errors import DatabaseDamaged, classify

__all__ = ["DIR_NAME", "BackupError", "default_path", "dir_for", "listing", "newest", "rotate", "take"]

class BackupError(Exception):
    """A backup that cannot be made as asked (no database yet, a folder given as FILE)."""


def take(db_path: str, dest: str) -> int:
    """Copy the database at `db_path` to `dest` (replacing it); returns the copy's size in bytes."""
    if not os.path.exists(db_path):
        raise BackupError(f"{db_path}: there is no database to back up yet")
    if os.path.isdir(dest):
        raise BackupError(f"{dest} is a folder; give a file name for the backup")
    folder = os.path.dirname(os.path.abspath(dest))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(dest)}.partial-{os.getpid()}")
    try:
        _copy(db_path, tmp)
        os.chmod(tmp, 0o600)
        fsync_path(tmp)
        os.replace(tmp, dest)
        fsync_path(folder)
    except BaseException as exc:
        _remove(tmp, tmp + "-journal")
        trouble = classify(exc, dest)
        if isinstance(trouble, DatabaseDamaged) and trouble.path != db_path:
            trouble = DatabaseDamaged(db_path, trouble.detail)  # damage is the source's, never the new copy's
        if trouble is not None and trouble is not exc:
            raise trouble from exc
        raise
    return os.path.getsize(dest)


def _remove(*paths: str) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _copy(db_path: str, tmp: str) -> None:
    from oxymus.store.health import open_existing

    # Read-write but only read from: a read-only connection to a WAL database leaves empty
    # -wal and -shm files behind, a read-write one removes them when it is the last to close.
    src = open_existing(db_path)
    try:
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            src.backup(dst)  # all pages in one step: one read transaction, one consistent state
            # The source's header says WAL; a backup is one self-contained file instead.
            dst.execute("PRAGMA journal_mode=DELETE")
            problems = [r[0] for r in dst.execute("PRAGMA quick_check(5)").fetchall() if r[0] != "ok"]
        finally:
            dst.close()
    finally:
        src.close()
    if problems:
        raise DatabaseDamaged(db_path, "; ".join(problems))


def rotate(folder: str, keep: int) -> list[str]:
    """Delete all but the `keep` newest daily backups in `folder`; returns what was deleted."""
    backups = listing(folder, daily_only=True)
    doomed = [path for _when, path in backups[: max(len(backups) - keep, 0)]]
    _remove(*doomed)
    return doomed
