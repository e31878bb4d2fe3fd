"""`oxymus capture`: the fast path, stdlib only.

Through the daemon when it answers; otherwise straight into the store with the
same code and the same durability. The id is chosen here, before either attempt,
so a reply lost after the daemon committed cannot turn into a duplicate when we
fall back to writing directly (inserts are idempotent on the id).
"""

from __future__ import annotations

import json
import sys

from oxymus import paths as paths_mod
from oxymus.store.capture_sql import CaptureError, check_text
from oxymus.ulid import new_ulid

USAGE = "usage: oxymus capture [--source NAME] [--json] (TEXT... | -)"


class UsageError(Exception):
    pass


def parse(argv: list[str]) -> tuple[list[str], str, bool] | None:
    """(words, source, as_json), or None when argparse should handle it (--help)."""
    words: list[str] = []
    source = "cli"
    as_json = False
    it = iter(argv)
    for arg in it:
        if arg == "-" or not arg.startswith("-"):
            words.append(arg)
        elif arg == "--":
            words.extend(it)
        elif arg == "--json":
            as_json = True
        elif arg == "--source" or arg.startswith("--source="):
            source = arg.partition("=")[2] if "=" in arg else next(it, "")
            if not source:
                raise UsageError("--source needs a value")
        elif arg in ("-h", "--help"):
            return None
        else:
            raise UsageError(f"unknown option {arg}")
    if not words:
        raise UsageError("nothing to capture: give the text, or - to read it from stdin")
    return words, source, as_json


def read_text(words: list[str]) -> tuple[str, str | None]:
    """The capture text and, for stdin, the source to record."""
    if words == ["-"]:
        raw = sys.stdin.buffer.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise CaptureError(f"stdin is not valid UTF-8 (line {line}, byte {exc.start}); nothing was captured") from None
        return text.rstrip("\r\n"), "stdin"
    return " ".join(words), None


def store(text: str, source: str, capture_id: str, paths: paths_mod.Paths) -> dict:
    from oxymus import wire
    from oxymus.client import Connection, DaemonUnavailable, hello_params

    try:
        with Connection(paths.socket) as conn:
            _, result = conn.pipeline([
                ("hello", hello_params("oxymus-capture")),
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
        if exc.code not in (wire.PROTOCOL_MISMATCH, wire.SHUTTING_DOWN):
            raise
    import sqlite3

    from oxymus.store import capture_sql, db

    try:
        paths.ensure()
        conn = db.connect(paths.db_file)
        try:
            row, _created = capture_sql.add_sync(conn, text, source, capture_id)
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        from oxymus.store.storage_errors import classify

        problem = classify(exc, paths.db_file)
        if problem is None:
            raise
        raise problem from exc
    return row


def _plainly(exc: Exception) -> str:
    from oxymus.store.storage_errors import DiskFull, StorageError

    if isinstance(exc, DiskFull):
        return f"{exc.headline}; free some space and capture again"
    if isinstance(exc, StorageError):
        return str(exc)
    return str(exc) or type(exc).__name__


def main(argv: list[str]) -> int | None:
    try:
        parsed = parse(argv)
        if parsed is None:
            return None
        words, source, as_json = parsed
        text, implied = read_text(words)
        if implied and source == "cli":
            source = implied
        check_text(text)
        capture = store(text, source, new_ulid(), paths_mod.resolve())
    except UsageError as exc:
        print(f"oxymus capture: {exc}\n{USAGE}", file=sys.stderr)
        return 2
    except CaptureError as exc:
        print(f"oxymus capture: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the wire's RpcError, sqlite errors, paths errors: say it plainly
        print(f"oxymus capture: nothing was captured: {_plainly(exc)}", file=sys.stderr)
        return 1
    print(json.dumps(capture, ensure_ascii=False) if as_json else capture["id"])
    return 0

