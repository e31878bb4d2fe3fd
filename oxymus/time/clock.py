"""Time stamps. Stored times are UTC ISO-8601 with milliseconds and a Z, so they sort as text."""

from __future__ import annotations

import time


def iso_from_ms(ms: int) -> str:
    secs, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{millis:03d}Z"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def now_iso() -> str:
    return iso_from_ms(now_ms())
