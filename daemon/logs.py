"""Logging: a rotating file in the state dir, plus stderr when running in the foreground."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup(log_file: str, level: str, *, to_stderr: bool, max_bytes: int, backups: int) -> None:
    root = logging.getLogger("oxymus")
    root.setLevel(level.upper())
    root.handlers.clear()
    root.propagate = False
    # Create the file owner-only: logs can mention capture ids and paths.
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    if to_stderr:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
        root.addHandler(console)
