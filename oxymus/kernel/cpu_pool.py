"""Seconds of pure-Python work in a process of its own, so the daemon's loop never waits behind it.

A worker thread shares the GIL with the event loop: while the intake agent read and
picked apart 10,000 messages in a thread, `status` from a second client took p50 24 ms
and p99 96 ms against 2 ms with nothing running (bench/intake_maildir.py), and no
switch interval or `sleep(0)` brought that near the floor. A process has its own GIL.

One worker, started on first use with `spawn` (forking a daemon that runs threads can
copy a lock some thread holds) and stopped after `idle_s` without work, so a daemon that
reads mail every quarter of an hour keeps no idle interpreter most of the time. Work is
a module-level function and its arguments, pickled to our own child and back: the same
user and our own code on both ends, no trust boundary in between. A worker that dies
fails its call with `WorkerDied` and the next call starts a fresh one; a caller that is
cancelled (a run's timeout, the daemon stopping) kills the worker, so no work runs on
after its caller has gone, and a worker whose daemon was killed outright exits within a second.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")

IDLE_S = 300.0


class WorkerDied(RuntimeError):
    """The worker process ended while it ran the call (killed, out of memory, a crash in C code)."""


class CpuPool:
    def __init__(self, *, idle_s: float = IDLE_S):
        self.idle_s = idle_s
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0
        self._idle: asyncio.TimerHandle | None = None
        self.started = 0  # workers started so far (the tests read it)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in the worker process; its return value, or its exception as raised there."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_end_with, initargs=(os.getpid(),))
            self.started += 1
        pool = self._pool
        self._busy += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args))
        except BrokenProcessPool:
            self._stop(pool)
            raise WorkerDied(f"the worker process died while running {getattr(fn, '__qualname__', fn)}") from None
        except asyncio.CancelledError:
            self._stop(pool)  # the work would run on, unwatched: end it with its caller
            raise
        finally:
            self._busy -= 1
            if self._busy == 0 and self._pool is not None:
                self._idle = asyncio.get_running_loop().call_later(self.idle_s, self.close)

    def close(self) -> None:
        """Stop the worker (the daemon stopping, or idle long enough); the next `run` starts another."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._pool is not None:
            self._stop(self._pool)

    def _stop(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            self._pool = None
        # ProcessPoolExecutor cannot stop a call that runs (terminate_workers() comes in 3.14): kill its process.
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            if proc.is_alive():
                proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)


def _end_with(parent: int) -> None:
    """In the worker: exit when the daemon is gone. A daemon killed outright (SIGKILL, out of memory) never
    says so, and the worker holds both ends of its own call queue, so it would wait for work forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="end-with-the-daemon", daemon=True).start()


async def breathe() -> None:
    """Between two slices of CPU work on the event loop: let waiting requests and the store's threads run.

    `sleep(0)` lets the loop run its ready callbacks, but the loop thread keeps the GIL, so
    a store thread woken meanwhile (a `status` call's query) waits for the interpreter's
    5 ms switch interval at every step. A millisecond's sleep in the selector releases it.
    """
    await asyncio.sleep(0.001)
