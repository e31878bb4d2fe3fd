"""Noticing other processes' database writes without polling SQLite: real files, real inotify, real SQLite."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from oxymus.daemon import file_changes
from oxymus.daemon.events import EventBus
from oxymus.daemon.file_changes import FileChanges
from oxymus.daemon.watcher import CaptureWatcher
from oxymus.store import capture_sql, db
from oxymus.store.repos import Store

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")


async def _wakes(changes: FileChanges) -> None:
    # Generous: a wake-up that never comes fails here instead of hanging the suite.
    await asyncio.wait_for(changes.wait(), 30)


@linux_only
async def test_a_write_to_a_watched_file_wakes_and_other_files_do_not(tmp_path):
    (tmp_path / "x.db-wal").write_bytes(b"")
    changes = FileChanges(str(tmp_path), {"x.db", "x.db-wal"})
    changes.start()
    try:
        assert changes.method == "inotify"
        (tmp_path / "other.log").write_text("not ours")
        (tmp_path / "x.db-shm").write_text("read traffic, not a write")
        await asyncio.sleep(0)  # let the loop read those events first
        (tmp_path / "x.db-wal").write_bytes(b"a commit")
        await _wakes(changes)
        # Several writes before anyone waits make one wake-up, and none is lost.
        for i in range(5):
            (tmp_path / "x.db-wal").write_bytes(b"commit %d" % i)
        await _wakes(changes)
        assert changes.wakeups == 2
        assert not changes._changed.is_set()
    finally:
        changes.close()


@linux_only
async def test_a_file_renamed_into_place_wakes(tmp_path):
    """A restore replaces the database with rename(2): the directory watch still sees it."""
    changes = FileChanges(str(tmp_path), {"x.db"})
    changes.start()
    try:
        (tmp_path / "restored.tmp").write_text("new database")
        os.replace(tmp_path / "restored.tmp", tmp_path / "x.db")
        await _wakes(changes)
    finally:
        changes.close()


async def test_without_inotify_a_slow_stat_poll_still_notices(tmp_path, monkeypatch):
    monkeypatch.setattr(file_changes, "_inotify_fd", lambda directory: None)
    (tmp_path / "x.db").write_text("v1")
    changes = FileChanges(str(tmp_path), {"x.db"}, poll_interval=0.01)
    changes.start()
    assert changes.method == "poll every 0.01s"
    looks = 0
    real_stat_all = changes._stat_all

    def counting():
        nonlocal looks
        looks += 1
        return real_stat_all()

    changes._stat_all = counting
    waiter = asyncio.create_task(changes.wait())
    deadline = asyncio.get_running_loop().time() + 30
    while looks < 3:  # three looks at an unchanged file...
        assert asyncio.get_running_loop().time() < deadline, "the poll stopped looking"
        await asyncio.sleep(0.01)
    assert not waiter.done()  # ...and it keeps waiting
    (tmp_path / "x.db").write_text("version two")
    await asyncio.wait_for(waiter, 30)
    changes.close()


def test_event_buffers_are_parsed_by_name_and_overflow():
    from oxymus.kernel import inotify

    ev = inotify._EVENT
    data = ev.pack(1, inotify.IN_MODIFY, 0, 8) + b"x.db\0\0\0\0" + ev.pack(1, inotify.IN_CREATE, 0, 0)
    assert file_changes._names(data) == ({"x.db", ""}, False)
    assert file_changes._names(ev.pack(-1, inotify.IN_Q_OVERFLOW, 0, 0))[1] is True


@linux_only
async def test_the_capture_watcher_publishes_another_process_write_and_sleeps_while_idle(tmp_path):
    path = str(tmp_path / "oxymus.db")
    store = await Store.open(path)
    bus = EventBus()
    sub = bus.subscribe(["capture.*"], "test")
    watcher = CaptureWatcher(store, bus, min_gap=0)
    await watcher.start()
    try:
        assert watcher.changes.method == "inotify"
        # Reads by the daemon itself do not wake the watcher.
        for _ in range(20):
            await store.data_version()
        await asyncio.sleep(0)
        assert watcher.changes.wakeups == 0

        def write_beside() -> str:
            conn = db.connect(path)
            try:
                row, _ = capture_sql.add_sync(conn, "written by another process", "cli")
            finally:
                conn.close()
            return row["id"]

        written = await asyncio.to_thread(write_beside)
        event = await asyncio.wait_for(sub.queue.get(), 30)
        assert event["topic"] == "capture.added" and event["data"]["id"] == written
    finally:
        await watcher.stop()
        await store.close()
