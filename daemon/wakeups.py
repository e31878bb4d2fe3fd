"""When the executor should look at the outbox again: the desk asks, the executor takes.

`poke(at)` moves the next look earlier (to `at`, a UTC ISO time, or at once) without a
query, so deciding stays cheap with a long queue; `take()` returns what was asked since
the last take and forgets it; `wait(timeout)` sleeps until a poke or the timeout.
"""

from __future__ import annotations

import asyncio


class Wakeups:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._now = False
        self._at: str | None = None

    def poke(self, at: str | None = None) -> None:
        """Look at `at` (UTC ISO) at the latest, or at once when `at` is None."""
        if at is None:
            self._now = True
        elif self._at is None or at < self._at:
            self._at = at
        self._event.set()

    def take(self) -> tuple[bool, str | None]:
        """(look at once?, the earliest time asked for), and forget them."""
        now, at = self._now, self._at
        self._now, self._at = False, None
        self._event.clear()
        return now, at

    async def wait(self, timeout: float) -> bool:
        """True when poked within `timeout` seconds, False when the time ran out."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True
