"""The pid a running daemon writes into its lock file (read by clients; informational only)."""

from __future__ import annotations


def read_pid(path: str) -> int | None:
    try:
        with open(path) as fh:
            return int(fh.read().strip() or 0) or None
    except (OSError, ValueError):
        return None
