"""Store one capture, whatever state the daemon is in: the one write path for the CLI and the TUI.

Through the daemon when it answers; otherwise straight into the store with the same
code (`oxymus/store/capture_sql.py`) and the same durability. The caller chooses the
id before trying, so a reply lost after the daemon committed cannot turn into a
duplicate when we fall back to writing directly (inserts are idempotent on the id);
storing the same id twice, from two threads or two processes, stores it once.

This is the only way the TUI reaches the database without the daemon (see
ARCHITECTURE.md, "Capture never waits on the daemon"). Stdlib only, and the store is
imported only when the daemon did not answer, so `oxymus capture` stays light and the
TUI loads no store code unless it has to write.
"""

from __future__ import annotations

from oxymus.profile import paths as paths_mod


class CaptureRefused(ValueError):
    """The capture cannot be stored as given (empty, too long, a bad source): retrying will not help."""


def store(text: str, source: str, capture_id: str, paths: paths_mod.Paths, *, client: str = "oxymus-capture",
          timeout: float = 10.0) -> dict:
    """Store the capture and return its row (a dict); durable on return. Raises CaptureRefused, or what failed."""
    from oxymus.client import wire
    from oxymus.client.sync_client import Connection, DaemonUnavailable, hello_params

    try:
        with Connection(paths.socket, timeout=timeout) as conn:
            _, result = conn.pipeline([
                ("hello", hello_params(client)),
                ("capture.add", {"text": text, "source": source, "id": capture_id}),
            ])
            return result["capture"]
    except DaemonUnavailable:
        pass
    except wire.RpcError as exc:
        if exc.code == wire.STORAGE_ERROR and (exc.data or {}).get("kind") == "disk_full":
            from oxymus.store.storage_errors import DiskFull

            raise DiskFull(exc.data["path"]) from None  # no use writing directly: it is the same disk
        # A daemon from another version, or one on its way out: the capture still must land.
        if exc.code in (wire.INVALID_INPUT, wire.INVALID_PARAMS):
            raise CaptureRefused(exc.message) from None
        if exc.code not in (wire.PROTOCOL_MISMATCH, wire.SHUTTING_DOWN):
            raise
    return store_directly(text, source, capture_id, paths)


def store_directly(text: str, source: str, capture_id: str, paths: paths_mod.Paths) -> dict:
    """The fallback on its own: one IMMEDIATE transaction, synchronous=FULL, as the daemon writes.
    A full disk or a damaged file raises the store's StorageError naming the file."""
    import sqlite3

    from oxymus.store import capture_sql, db

    try:
        paths.ensure()
        conn = db.connect(paths.db_file)
        try:
            row, _created = capture_sql.add_sync(conn, text, source, capture_id)
        except capture_sql.CaptureError as exc:
            raise CaptureRefused(str(exc)) from None
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        from oxymus.store.storage_errors import classify

        problem = classify(exc, paths.db_file)
        if problem is None:
            raise
        raise problem from exc
    return row
