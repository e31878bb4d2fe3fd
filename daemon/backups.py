"""The daily backup: one consistent copy of the database a day, the oldest beyond `[backup] keep` deleted.

It runs with the daemon's other housekeeping (daemon/maintenance.py, every few
hours and once at start), and takes a backup only when the newest one is a day old
or more, so a laptop that sleeps through the night still gets one when it wakes. The
copy runs in a thread: SQLite's backup API reads the WAL-mode file while the daemon
keeps writing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Callable

from oxymus.store import backup

log = logging.getLogger("oxymus.daemon.backups")

DAY = dt.timedelta(days=1)


class DailyBackups:
    def __init__(self, db_path: str, folder: str, keep: int, now: Callable[[], dt.datetime] | None = None):
        self.db_path = db_path
        self.folder = folder
        self.keep = keep
        self.now = now or (lambda: dt.datetime.now(dt.timezone.utc))

    def due(self) -> bool:
        if self.keep <= 0:
            return False
        backups = backup.listing(self.folder, daily_only=True)
        return not backups or self.now() - backups[-1][0] >= DAY

    async def backup_if_due(self) -> str | None:
        """Take today's backup if it is due; returns its path (None when not due)."""
        if not self.due():
            return None
        dest = backup.default_path(self.folder, self.now())
        size = await asyncio.to_thread(backup.take, self.db_path, dest)
        removed = backup.rotate(self.folder, self.keep)
        log.info("daily backup: wrote %s (%d bytes)%s", dest, size,
                 f", removed {len(removed)} older than the newest {self.keep}" if removed else "")
        return dest
