"""Background tasks of the daemon's parts (watchers, the executor, agent listeners)."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("oxymus.daemon")


async def cancel(task: asyncio.Task | None) -> None:
    """Stop a background task and wait until it has: a part's stop() returns only once it is quiet."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:  # it failed before it was cancelled: say so, the stop goes on
        log.exception("task %s had failed", task.get_name())
