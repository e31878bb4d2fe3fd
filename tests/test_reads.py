"""Reads beside the writer (Store.read): a long read holds up no write, a newer search stops the older,
a read sees the writes committed before it, and readers follow a restored file. Real SQLite files."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import threading

import pytest

from oxymus.client import wire
from oxymus.client.async_client import AsyncClient
from oxymus.store import db
from oxymus.store.readers import ReadSuperseded
from oxymus.store.repos import Store

FOREVER = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"  # ends only when stopped


@pytest.fixture
async def store(tmp_path):
    s = await Store.open(str(tmp_path / "oxymus.db"))
    yield s
    await s.close()


async def wait_event(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, 10.0), "the reader thread never got there"


async def test_a_long_read_does_not_hold_up_a_write(store):
    started, gate = threading.Event(), threading.Event()

    def long_read(conn: sqlite3.Connection) -> int:
        conn.execute("BEGIN")
        before = conn.execute("SELECT count(*) FROM captures").fetchone()[0]
        started.set()
        gate.wait(10.0)  # holds its read transaction open until the test lets go
        return before

    reading = asyncio.ensure_future(store.read(long_read))
    await wait_event(started)
    capture, created = await store.captures.add("written while a read holds a snapshot", "test")
    assert created and not reading.done(), "the write finished while the read was still running"
    assert [c.id for c in await store.captures.list()] == [capture.id]
    gate.set()
    assert await reading == 0, "the read's snapshot is from before the write"


async def test_a_newer_read_under_the_same_key_stops_the_older(store):
    started = threading.Event()

    def endless(conn: sqlite3.Connection) -> int:
        started.set()
        return conn.execute(FOREVER).fetchone()[0]

    older = asyncio.ensure_future(store.read(endless, supersede=("session", "memory.search")))
    await wait_event(started)
    newer = await store.read(lambda conn: conn.execute("SELECT 42").fetchone()[0], supersede=("session", "memory.search"))
    assert newer == 42
    with pytest.raises(ReadSuperseded, match="superseded by a newer request"):
        await older
    assert store.readers.superseded == 1
    other = asyncio.ensure_future(store.read(endless, supersede=("another session", "memory.search")))
    assert await store.read(lambda conn: 1, supersede=("third", "memory.search")) == 1
    assert not other.done(), "a read under another key is left alone"
    other.cancel()  # a caller that goes away stops its read too
    with pytest.raises(asyncio.CancelledError):
        await other


async def test_a_read_sees_the_writes_committed_before_it(store):
    for i in range(3):
        capture, _ = await store.captures.add(f"thought {i}", "test")
        seen = await store.read(lambda conn: conn.execute("SELECT id FROM captures ORDER BY seq DESC LIMIT 1").fetchone()[0])
        assert seen == capture.id


async def test_readers_open_the_restored_file(tmp_path, store):
    await store.captures.add("in the file being replaced", "test")
    count = "SELECT group_concat(text) FROM captures"
    assert await store.read(lambda conn: conn.execute(count).fetchone()[0]) == "in the file being replaced"
    other = str(tmp_path / "backup.db")
    conn = db.connect(other)
    conn.execute("INSERT INTO captures (id, text, source, created_at) VALUES ('01JAAAAAAAAAAAAAAAAAAAAAAA', "
                 "'from the backup', 'cli', '2026-01-01T00:00:00.000Z')")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copyfile(other, other + ".copy")
    os.replace(other + ".copy", store.path)  # a restore renames a new file into place
    for suffix in ("-wal", "-shm"):
        if os.path.exists(store.path + suffix):
            os.remove(store.path + suffix)
    # Every reader thread notices the new inode on its next read.
    for _ in range(store.readers.size * 2):
        assert await store.read(lambda conn: conn.execute(count).fetchone()[0]) == "from the backup"


async def test_a_read_on_a_damaged_file_is_a_storage_error(tmp_path):
    path = str(tmp_path / "oxymus.db")
    store = await Store.open(path)
    try:
        with open(path + ".bad", "wb") as f:
            f.write(b"this is not a database" * 300)
        os.replace(path + ".bad", path)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        from oxymus.store.storage_errors import StorageError

        with pytest.raises(StorageError) as info:
            await store.read(lambda conn: conn.execute("SELECT count(*) FROM captures").fetchone())
        assert path in str(info.value)
    finally:
        await store.close()


async def test_a_search_and_a_write_from_one_client_over_the_socket(daemon):
    """memory.search runs beside the connection's next requests; a write then a search sees the write."""
    client = await AsyncClient.connect(daemon.paths.socket, client="pytest")
    try:
        added = await client.call("memory.add", {"record": {"kind": "fact", "title": "Porto trip", "body": "flights booked"}})
        hits = await client.call("memory.search", {"query": "port"})
        assert [h["id"] for h in hits["hits"]] == [added["id"]]
        # Two searches sent back to back: each answers, the first either in full or as superseded.
        first = asyncio.ensure_future(client.call("memory.search", {"query": "p"}))
        second = asyncio.ensure_future(client.call("memory.search", {"query": "porto"}))
        assert [h["id"] for h in (await second)["hits"]] == [added["id"]]
        try:
            await first
        except wire.RpcError as exc:
            assert exc.code == wire.SUPERSEDED
    finally:
        await client.close()
