"""Time stamps. Stored times are UTC ISO-8601 with milliseconds and a Z, so they sort as text."""

from __future__ import annotations

import datetime as dt
import time
from contextvars import ContextVar
from typing import Callable

# Set only while history is written with its own dates (oxymus.metrics.seed_history): what the
# store stamps then is that moment, in this task alone; everything else reads the real clock.
_STAMP: ContextVar[int | None] = ContextVar("oxymus_clock_stamp", default=None)


def iso_from_ms(ms: int) -> str:
    secs, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{millis:03d}Z"


def now_ms() -> int:
    stamp = _STAMP.get()
    return time.time_ns() // 1_000_000 if stamp is None else stamp


def stamp_at(ms: int | None) -> None:
    """From now on in this context (an asyncio task has its own), the store stamps `ms` (None: the real clock again)."""
    _STAMP.set(ms)


def now_iso() -> str:
    return iso_from_ms(now_ms())


PIN_ENV = "OXYMUS_NOW"


def pinned(value: str | None) -> Callable[[], dt.datetime] | None:
    """`OXYMUS_NOW`'s clock: it starts at that instant and runs on with the monotonic clock (None: unset, real time).

    Tests and screenshots pin the daemon's day with it (`2026-11-21T09:27:00Z`), so what the daemon
    reads as today (the morning review's date, the planner's day, an action's age) does not depend on
    when they run. Raises ValueError naming the variable for a value that is not an ISO time with a zone.
    """
    if not value:
        return None
    try:
        start = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{PIN_ENV}={value!r} is not an ISO time (e.g. 2026-11-21T09:27:00Z)") from None
    if start.tzinfo is None:
        raise ValueError(f"{PIN_ENV}={value!r} has no zone: end it with Z or an offset (e.g. +01:00)")
    start = start.astimezone(dt.timezone.utc)
    began = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - began)
