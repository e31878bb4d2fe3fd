"""Why the daemon is not running: a small file it writes before it exits on a start failure.

`oxymus status` finds no daemon to ask, so the daemon leaves its reason behind (a
damaged database, a full disk, a newer schema); a daemon that starts cleanly, and
`oxymus restore`, remove it. Stdlib only.
"""

from __future__ import annotations

import os

from oxymus.time.clock import now_iso


def record(path: str, message: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"{now_iso()}\n{message}\n")
    except OSError:
        pass  # a full disk may refuse even this; the message still went to stderr


def clear(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def read(path: str) -> tuple[str, str] | None:
    """(when, why) of the last failed start, or None."""
    try:
        with open(path, encoding="utf-8") as fh:
            when, _, why = fh.read().partition("\n")
    except (OSError, UnicodeDecodeError):
        return None
    return (when, why.strip()) if why.strip() else None
