"""Putting a backup back: check it, set the current file aside, move the copy in.

Only with no daemon running: we hold the profile lock (run/daemon.lock) throughout,
so none can start on a half-restored profile. The file being replaced (damaged or
not) is renamed with a timestamp, its -wal and -shm with it, never deleted: what it
still holds can be read from it later. The backup is copied through SQLite's backup
API into the data dir first, so a failed copy leaves the current file in place.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from typing import NamedTuple

from oxymus.kernel.files import fsync_path
from oxymus.profile.lock import AlreadyRunning, ProfileLock
from oxymus.store import backup, health
from oxymus.store.migrations import LATEST


class RestoreRefused(Exception):
    """The restore was not done; str() says why and what to do."""


class Restored(NamedTuple):
    source: str
    target: str
    aside: str | None  # where the replaced database went (None: there was none)
    schema: int
    size: int


def validate(path: str) -> int:
    """The schema version of the Oxymus database at `path`; RestoreRefused when it cannot be restored."""
    if not os.path.isfile(path):
        raise RestoreRefused(f"{path}: no such file")
    if os.path.getsize(path) == 0:
        raise RestoreRefused(f"{path} is empty, not an Oxymus database")
    problem = health.inspect(path)
    if problem is not None:
        raise RestoreRefused(f"{path} cannot be restored: {problem.headline}")
    db = health.open_read_only(path)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        has_captures = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'captures'").fetchone()
    except sqlite3.Error as exc:
        raise RestoreRefused(f"{path} cannot be read: {exc}") from None
    finally:
        db.close()
    if version > LATEST:
        raise RestoreRefused(
            f"{path} has schema version {version}, newer than this Oxymus understands ({LATEST}); upgrade Oxymus first"
        )
    if version < 1 or not has_captures:
        raise RestoreRefused(f"{path} is an SQLite database but not an Oxymus one (no captures table, schema version {version})")
    return version


def restore(source: str, db_path: str, lock_file: str, now: dt.datetime | None = None) -> Restored:
    source = os.path.abspath(source)
    if os.path.abspath(db_path) == source:
        raise RestoreRefused(f"{source} is the database itself; give a backup to restore from")
    lock = ProfileLock(lock_file)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        raise RestoreRefused(f"the daemon is running ({exc}); stop it with `oxymus down`, then restore") from None
    try:
        schema = validate(source)
        folder = os.path.dirname(os.path.abspath(db_path))
        staged = os.path.join(folder, f".{os.path.basename(db_path)}.restoring")
        size = backup.take(source, staged)  # consistent even if the backup has a -wal of its own
        aside = _set_aside(db_path, now or dt.datetime.now(dt.timezone.utc))
        os.replace(staged, db_path)
        fsync_path(folder)
    finally:
        lock.release()
    return Restored(source, db_path, aside, schema, size)


def _set_aside(db_path: str, now: dt.datetime) -> str | None:
    """Rename the current database and its -wal/-shm with a timestamp; returns the new name (None: there was none)."""
    if not os.path.exists(db_path):
        return None
    aside = f"{db_path}.replaced-{now.strftime('%Y%m%dT%H%M%S')}Z"
    # Keep SQLite's naming (NAME-wal next to NAME), so the aside file opens with its WAL.
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db_path + suffix):
            os.rename(db_path + suffix, aside + suffix)
    return aside
