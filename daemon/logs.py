"""Logging: a rotating file in the state dir, plus stderr when running in the foreground.

Under systemd (stderr connected to the journal, $JOURNAL_STREAM) the journal is the
log: stderr only, each line prefixed with its syslog priority (`<3>`) so journalctl
shows levels, no timestamp (the journal adds its own), and no file written beside it.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

# logging level -> syslog priority, as sd-daemon(3) prefixes expect.
PRIORITIES = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


class JournalFormatter(logging.Formatter):
    """`<N>name: message`, with the prefix on every line, so a traceback keeps its priority."""

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        level = next((p for lvl, p in sorted(PRIORITIES.items(), reverse=True) if record.levelno >= lvl), 7)
        return "\n".join(f"<{level}>{line}" for line in super().format(record).splitlines())


def under_journal(stream=None, env=None) -> bool:
    """Is `stream` (stderr) the journal stream systemd set up? ($JOURNAL_STREAM is "DEV:INODE" of it.)

    Comparing the device and inode, as sd_journal_stream_fd(3) advises, keeps a child
    that inherited the variable but writes elsewhere from dropping its log file."""
    env = os.environ if env is None else env
    stream = sys.stderr if stream is None else stream
    dev, _, ino = env.get("JOURNAL_STREAM", "").partition(":")
    try:
        st = os.fstat(stream.fileno())
        return (st.st_dev, st.st_ino) == (int(dev), int(ino))
    except (ValueError, OSError, AttributeError):
        return False


def setup(log_file: str, level: str, *, to_stderr: bool, max_bytes: int, backups: int) -> None:
    root = logging.getLogger("oxymus")
    root.setLevel(level.upper())
    root.handlers.clear()
    root.propagate = False
    if under_journal():
        journal = logging.StreamHandler(sys.stderr)
        journal.setFormatter(JournalFormatter())
        root.addHandler(journal)
        return
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
