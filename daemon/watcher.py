"""Publishes `capture.added` for every new capture, whoever wrote it.

The daemon's own writes poke it at once; writes by other processes (`oxymus
capture` while the daemon was down or unreachable, a future drop folder) are
noticed through `PRAGMA data_version`, which changes when another connection
commits. That question is asked only when the database files change on disk
(inotify, or a slow stat poll where there is none), so an idle daemon does not
wake. One place publishes, in seq order, so events are neither lost nor doubled.
"""

from __future__ import annotations

import asyncio
import logging
import os

from oxymus.daemon.events import EventBus
from oxymus.daemon.file_changes import FileChanges
from oxymus.store.repos import Store
from oxymus.daemon.tasks import cancel

log = logging.getLogger("oxymus.daemon.watcher")


class CaptureWatcher:
    def __init__(self, store: Store, bus: EventBus, min_gap: float = 0.25):
        self.store = store
        self.bus = bus
        # The daemon's own commits touch the same files; at most one look per gap
        # while it is busy, none while it is idle.
        self.min_gap = min_gap
        self.changes: FileChanges | None = None
        self.last_seq = 0
        self.lock = asyncio.Lock()
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        self.last_seq = await self.store.captures.max_seq()
        self._data_version = await self.store.data_version()
        directory, name = os.path.split(os.path.abspath(self.store.path))
        self.changes = FileChanges(directory, {name, name + "-wal", name + "-journal"})
        self.changes.start()
        log.debug("watching %s for other processes' writes (%s)", self.store.path, self.changes.method)
        self.task = asyncio.create_task(self._loop(), name="capture-watcher")

    async def poke(self) -> None:
        async with self.lock:
            while True:
                new = await self.store.captures.since(self.last_seq)
                for capture in new:
                    self.bus.publish("capture.added", capture.model_dump(mode="json"))
                    self.last_seq = capture.seq
                if len(new) < 1000:
                    return

    async def _loop(self) -> None:
        assert self.changes is not None
        while True:
            await self.changes.wait()
            try:
                version = await self.store.data_version()
                if version != self._data_version:
                    self._data_version = version
                    await self.poke()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("watching for external writes failed; will retry")
            await asyncio.sleep(self.min_gap)

    async def stop(self) -> None:
        await cancel(self.task)
        if self.changes is not None:
            self.changes.close()
