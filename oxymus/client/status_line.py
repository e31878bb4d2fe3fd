"""The counts a status bar shows, whatever state the daemon is in. Stdlib only.

Asks the daemon (`status.line`, one round trip after the handshake); when nothing
answers, runs the same queries (`oxymus.store.status_counts`) on a read-only
connection to the database: it never creates, migrates or writes the file, so a
status bar polling every few seconds cannot disturb the profile.
"""

from __future__ import annotations

import os

from oxymus.profile import paths as paths_mod


class NoDatabase(Exception):
    """The profile has no database yet (or it cannot be read): there is nothing to count."""

    def __init__(self, short: str, detail: str):
        super().__init__(detail)
        self.short = short  # a few words for the bar: "no database", "database unreadable"


def fetch(paths: paths_mod.Paths, *, timeout: float = 2.0) -> tuple[dict, bool]:
    """(counts, daemon_up). Raises NoDatabase when the daemon is down and there is no database to read."""
    from oxymus.client import wire
    from oxymus.client.sync_client import Connection, DaemonUnavailable, hello_params

    try:
        with Connection(paths.socket, timeout=timeout) as conn:
            _, result = conn.pipeline([("hello", hello_params("oxymus-status-line")), ("status.line", None)])
            return result, True
    except (DaemonUnavailable, wire.RpcError):
        pass  # down, on its way out, or another version: the file still says what there is
    return read_directly(paths.db_file), False


def read_directly(db_file: str) -> dict:
    """The counts from the database file, read-only (`mode=ro`): the file and its folder stay as they are."""
    import sqlite3

    from oxymus.store import status_counts

    if not os.path.isfile(db_file) or os.path.getsize(db_file) == 0:
        raise NoDatabase("no database", f"no database at {db_file}")
    # A read-only connection to a WAL database creates its -wal and -shm files when they are
    # missing. With neither there, the last writer checkpointed and closed: the file alone is the
    # whole database, read as immutable (no locks, nothing created). With them, read through them.
    wal = os.path.exists(db_file + "-wal") or os.path.exists(db_file + "-shm")
    mode = "mode=ro" if wal else "mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(f"file:{_uri_path(db_file)}?{mode}", uri=True, timeout=1.0)
        try:
            return status_counts.read(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise NoDatabase("database unreadable", f"cannot read {db_file}: {exc}") from None


def _uri_path(path: str) -> str:
    """The path as a file: URI's path (escaping what a URI would misread), without loading urllib."""
    return os.path.abspath(path).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
