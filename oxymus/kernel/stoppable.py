"""Blocking work in a worker thread that ends when its caller gives up.

`asyncio.to_thread` cannot stop a thread: when the coroutine awaiting it is
cancelled (a poll's `wait_for` timed out), the thread runs on, and the next poll
starts another beside it. Here the work gets a `threading.Event`; a cancelled
caller sets it and waits for the thread to end before passing the cancellation
on, so when the caller's timeout fires, the work has stopped. The work must look
at the flag often (see `calendar.expand.Limits`); parts that cannot (a network
read) are bounded by their own timeouts.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def run_stoppable(work: Callable[[threading.Event], T]) -> T:
    """`work(stop)` in a worker thread; on cancellation, set `stop` and wait for the thread to end."""
    stop = threading.Event()
    future = asyncio.ensure_future(asyncio.to_thread(work, stop))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        stop.set()
        await asyncio.wait({future})  # wait() never cancels what it waits for
        if not future.cancelled():
            future.exception()  # retrieved: its ExpansionStopped (or result) is dropped with the poll
        raise
