"""Read-only connections for long reads, each on its own thread, beside the one writer.

The daemon's writer (an aiosqlite connection) serialises everything sent to it, so a
read that takes a second (a ranked search for a common word at a million records)
would make every capture wait that second. In WAL mode readers do not block the
writer nor each other, so long reads run here instead: `Readers.run(fn)` calls
`fn(conn)` on one of a few threads, each with its own `mode=ro` connection.

A read can be superseded: `run(fn, supersede=KEY)` stops the read still running under
the same key (a search typed further) through the connection's progress handler, which
SQLite calls every few thousand VM steps; the stopped call raises `ReadSuperseded`. A
progress handler rather than `interrupt()`: an interrupt lands on whatever that
connection runs at that moment, which may already be the next read.

A reader connection notices that the file it reads was replaced (a restore renames a
new file into place) by its inode, and opens the new one.
"""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
import threading
from typing import Any, Callable, Hashable, TypeVar

from oxymus.store.db import PRAGMAS

T = TypeVar("T")

PROGRESS_STEPS = 2_000  # VM instructions between checks: a few microseconds each way
READER_PRAGMAS = tuple(p for p in PRAGMAS if "journal_mode" not in p and "synchronous" not in p)


class ReadSuperseded(Exception):
    """A newer read under the same key replaced this one before it finished."""

    def __init__(self, key: Hashable):
        super().__init__(f"superseded by a newer request ({key})")
        self.key = key


class _Ticket:
    __slots__ = ("stop", "key")

    def __init__(self, key: Hashable | None):
        self.stop = threading.Event()
        self.key = key


def open_reader(path: str) -> sqlite3.Connection:
    """A read-only connection with the project's pragmas (those a reader can set)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, timeout=5.0, check_same_thread=False)
    for pragma in READER_PRAGMAS:
        conn.execute(pragma)
    return conn


class _Reader(threading.Thread):
    def __init__(self, pool: "Readers", n: int):
        super().__init__(name=f"oxymus-reader-{n}", daemon=True)
        self.pool = pool
        self.conn: sqlite3.Connection | None = None
        self.inode: int | None = None

    def connection(self) -> sqlite3.Connection:
        inode = os.stat(self.pool.path).st_ino
        if self.conn is None or inode != self.inode or self.pool.generation != self._generation:
            if self.conn is not None:
                self.conn.close()
            self.conn, self.inode, self._generation = open_reader(self.pool.path), inode, self.pool.generation
        return self.conn

    _generation = -1

    def run(self) -> None:
        while True:
            job = self.pool.jobs.get()
            if job is None:
                break
            fn, ticket, fut, loop = job
            if fut.cancelled():
                continue
            try:
                result: Any = self._call(fn, ticket)
            except BaseException as exc:  # handed to the waiting coroutine, which raises it
                loop.call_soon_threadsafe(_settle, fut, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, fut, result, None)
        if self.conn is not None:
            self.conn.close()

    def _call(self, fn: Callable[[sqlite3.Connection], Any], ticket: _Ticket) -> Any:
        if ticket.stop.is_set():
            raise ReadSuperseded(ticket.key)
        conn = self.connection()
        conn.set_progress_handler(lambda: 1 if ticket.stop.is_set() else 0, PROGRESS_STEPS)
        try:
            return fn(conn)
        except sqlite3.OperationalError as exc:
            if ticket.stop.is_set() and "interrupted" in str(exc):
                raise ReadSuperseded(ticket.key) from None
            raise
        finally:
            conn.set_progress_handler(None, 0)
            if conn.in_transaction:
                conn.execute("ROLLBACK")  # fn's own BEGIN (a consistent snapshot) ends with it


def _settle(fut: asyncio.Future, result: Any, exc: BaseException | None) -> None:
    if fut.cancelled():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


class Readers:
    """A few reader threads with their own read-only connections to `path`."""

    def __init__(self, path: str, size: int = 2):
        self.path = path
        self.size = size
        self.generation = 0
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.current: dict[Hashable, _Ticket] = {}
        self.threads: list[_Reader] = []
        self.superseded = 0  # how many reads were stopped by a newer one (status, tests)

    def start(self) -> None:
        for n in range(self.size):
            thread = _Reader(self, n)
            thread.start()
            self.threads.append(thread)

    def reopen(self) -> None:
        """Every reader opens its connection again before its next read (after a restore or a migration)."""
        self.generation += 1

    async def run(self, fn: Callable[[sqlite3.Connection], T], *, supersede: Hashable | None = None) -> T:
        """`fn(conn)` on a reader thread. With `supersede`, a read still running under that key is stopped
        (it raises ReadSuperseded), and so is this one when a newer one comes."""
        if not self.threads:
            self.start()
        ticket = _Ticket(supersede)
        if supersede is not None:
            older = self.current.get(supersede)
            if older is not None:
                older.stop.set()
                self.superseded += 1
            self.current[supersede] = ticket
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()
        self.jobs.put((fn, ticket, fut, loop))
        try:
            return await fut
        except asyncio.CancelledError:
            ticket.stop.set()  # the caller went away: the thread need not finish the read
            raise
        finally:
            if supersede is not None and self.current.get(supersede) is ticket:
                del self.current[supersede]

    def close(self) -> None:
        for ticket in self.current.values():
            ticket.stop.set()
        for _ in self.threads:
            self.jobs.put(None)
        for thread in self.threads:
            thread.join(timeout=5.0)
        self.threads = []
