"""Blocking calls run off the UI's event loop, in daemon threads the app never waits for on quitting."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable


async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking call in a daemon thread: the UI keeps running, and quitting never waits for it."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def work() -> None:
        try:
            value, error = fn(*args), None
        except BaseException as exc:  # handed to the awaiting coroutine
            value, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:
            pass  # the loop is gone: the app has quit

    threading.Thread(target=work, name=f"oxymus-tui-{getattr(fn, '__name__', 'call')}", daemon=True).start()
    return await future
