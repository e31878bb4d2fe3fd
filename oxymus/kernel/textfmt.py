"""Small text helpers shared by the CLI and the TUI (no UI imports)."""

from __future__ import annotations

import os
from datetime import datetime


def local_time(iso_utc: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC timestamp in the machine's local zone."""
    dt = datetime.fromisoformat(iso_utc)
    return dt.astimezone().strftime(fmt)


def one_line(text: str, width: int) -> str:
    """The text on one line, cut to `width` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(0, width - 1)] + "…"


def who(label: str, width: int) -> str:
    """An actor ("agent:intake", "system:approvals") in `width` columns: without its "kind:" part when the
    whole would be cut ("intake" says more than "agent:inta…"), cut only when even the name is too long."""
    if len(label) <= width:
        return label
    return one_line(label.split(":", 1)[-1], width)


def duration(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def open_count(shown: int, total: int | None) -> str:
    """How many captures are open: the real count, not the rows loaded (500 of 100,000 says so).

    `total` None is a daemon too old to count: then the rows are all we know.
    """
    if total is None or total <= shown:
        return f"{shown:,} open"
    return f"showing {shown:,} of {total:,} open"


def tilde(path: str) -> str:
    """A path under the home folder written from `~` (shorter to read, and the same on every machine)."""
    home = os.path.expanduser("~")
    if home not in ("", "/", "~") and (path == home or path.startswith(home.rstrip(os.sep) + os.sep)):
        return "~" + path[len(home.rstrip(os.sep)):]
    return path
