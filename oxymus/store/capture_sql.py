"""The one write path for captures, shared by the daemon and the offline CLI.

Kept to the stdlib so `oxymus capture` with the daemon down pays no pydantic or
asyncio import. Ids are chosen by the writer, and inserts are idempotent on the
id: a client that lost the daemon's reply can retry (or fall back to writing
directly) without creating a duplicate.
"""

from __future__ import annotations

from oxymus.kernel.ulid import is_ulid, new_ulid, ulid_ms
from oxymus.store import audit_sql
from oxymus.time.clock import iso_from_ms

MAX_CAPTURE_BYTES = 256 * 1024
STATUSES = ("open", "triaged", "archived")
COLUMNS = "seq, id, text, source, created_at, status"

INSERT = (
    "INSERT INTO captures (id, text, source, created_at, status) VALUES (?, ?, ?, ?, 'open') "
    "ON CONFLICT(id) DO NOTHING"
)
SELECT_BY_ID = f"SELECT {COLUMNS} FROM captures WHERE id = ?"
SELECT_BY_STATUS = f"SELECT {COLUMNS} FROM captures WHERE status = ? ORDER BY seq DESC LIMIT ?"
SELECT_BEFORE = f"SELECT {COLUMNS} FROM captures WHERE status = ? AND seq < ? ORDER BY seq DESC LIMIT ?"
SELECT_AFTER = f"SELECT {COLUMNS} FROM captures WHERE status = ? AND seq > ? ORDER BY seq LIMIT ?"
SELECT_OLDEST = f"SELECT {COLUMNS} FROM captures WHERE status = ? ORDER BY seq LIMIT ?"
COUNT_NEWER = "SELECT count(*) FROM captures WHERE status = ? AND seq > ?"
SELECT_SINCE = f"SELECT {COLUMNS} FROM captures WHERE seq > ? ORDER BY seq LIMIT ?"
MAX_SEQ = "SELECT coalesce(max(seq), 0) FROM captures"
# Answered from the captures_by_status index: a few ms for 100,000 open captures.
COUNT_BY_STATUS = "SELECT count(*) FROM captures WHERE status = ?"


class CaptureError(ValueError):
    """A capture that cannot be stored as given."""


def check_text(text: str) -> str:
    """Validate capture text; returns it unchanged (captures are stored verbatim)."""
    if not isinstance(text, str):
        raise CaptureError("capture text must be a string")
    if not text.strip():
        raise CaptureError("nothing to capture: the text is empty")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CAPTURE_BYTES:
        raise CaptureError(f"capture is too long: {size} bytes (limit {MAX_CAPTURE_BYTES})")
    if "\x00" in text:
        raise CaptureError("capture text contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CaptureError(f"capture text is not valid Unicode at character {exc.start}") from None
    return text


def check_source(source: str) -> str:
    if not source or len(source) > 64 or not source.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise CaptureError(f"invalid capture source {source!r}: use 1-64 letters, digits, '-', '_' or '.'")
    return source


def insert_params(text: str, source: str, capture_id: str | None = None) -> tuple[str, str, str, str]:
    """Validated parameters for INSERT. created_at comes from the id, so a retry is identical."""
    check_text(text)
    check_source(source)
    if capture_id is None:
        capture_id = new_ulid()
    elif not is_ulid(capture_id):
        raise CaptureError(f"invalid capture id {capture_id!r}: expected a ULID")
    capture_id = capture_id.upper()
    return (capture_id, text, source, iso_from_ms(ulid_ms(capture_id)))


def row_to_dict(row: tuple) -> dict:
    seq, cid, text, source, created_at, status = row
    return {"seq": seq, "id": cid, "text": text, "source": source, "created_at": created_at, "status": status}


def add_statements(params: tuple[str, str, str, str], trace_id: str) -> list[tuple[str, tuple]]:
    """The capture row and its audit line, written together in one transaction."""
    capture_id, text, source, _ = params
    return [
        (INSERT, params),
        audit_sql.statement(
            actor=source, verb="capture.added", subject=capture_id, trace_id=trace_id,
            details={"bytes": len(text.encode("utf-8"))},
        ),
    ]


def add_sync(db, text: str, source: str, capture_id: str | None = None) -> tuple[dict, bool]:
    """Insert through a stdlib sqlite3 connection (durable on return). Returns (row, created)."""
    params = insert_params(text, source, capture_id)
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute(SELECT_BY_ID, (params[0],)).fetchone()
        created = row is None
        if created:
            for sql, args in add_statements(params, trace_id=new_ulid()):
                db.execute(sql, args)
            row = db.execute(SELECT_BY_ID, (params[0],)).fetchone()
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # a full disk has already rolled it back
            db.execute("ROLLBACK")
        raise
    return row_to_dict(row), created

