"""One debounce helper for every asyncio part of Oxymus (the TUI's live queries; later the daemon's).

    reload = Debouncer(0.2, load)   # load: an async function without arguments
    reload()                        # an event arrived: `load` runs 0.2 s later...
    reload()                        # ...once, however many more arrive meanwhile
    reload.cancel()                 # the connection ended: nothing pending runs

A call while `function` runs is not lost: one more run follows (after the delay
again), so what changed during a run is always picked up. An exception from
`function` is logged and the debouncer keeps working. asyncio only: the core
never imports Textual.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

log = logging.getLogger("oxymus.kernel.debounce")


class Debouncer:
    def __init__(self, delay: float, function: Callable[[], Awaitable[object]], *, name: str = "debounced") -> None:
        self.delay = delay
        self.function = function
        self.name = name
        self._wanted = False
        self._task: asyncio.Task | None = None

    @property
    def pending(self) -> bool:
        """A run is waiting for its delay (or running, with another asked for)."""
        return self._wanted

    @property
    def busy(self) -> bool:
        """Waiting or running."""
        return self._task is not None and not self._task.done()

    def __call__(self) -> None:
        """Ask for a run: the first call of a burst starts the delay, the rest join it."""
        self._wanted = True
        if not self.busy:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name=f"oxymus-{self.name}")

    def cancel(self) -> None:
        """Forget what was asked for and stop a run in progress."""
        self._wanted = False
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _loop(self) -> None:
        while self._wanted:
            await asyncio.sleep(self.delay)  # let the rest of a burst arrive
            self._wanted = False
            try:
                await self.function()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed", self.name)
