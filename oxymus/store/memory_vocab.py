"""The memory vocabulary snapshot: each indexed term and how many live records hold it.

The search planner (`oxymus/memory/search_plan.py`) reads it to tell a rare word from
a common one before it runs a query. FTS5's own `fts5vocab` table has the same numbers
but computes them by walking every posting of the terms asked for (tens of ms for one
common term at a million records, seconds for a one-letter prefix), so it is read whole
now and then, on a reader thread, and kept in `memory_vocab`, where a term or a prefix
is one index lookup. A snapshot a little behind costs only a less good plan, never a
wrong answer: the plan decides how to search, not what matches.
"""

from __future__ import annotations

import sqlite3

VOCAB_MIN_RECORDS = 2_000  # below this every search is ranked over all matches: no snapshot needed
REFRESH_GROWTH = 0.10  # refresh once the live records changed by this share since the snapshot
WRITE_CHUNK = 2_000  # vocabulary rows per write transaction
WORD_COLUMNS = "('title', 'body', 'tags')"


def create(db: sqlite3.Connection) -> None:
    """The migration's part (012)."""
    db.execute("CREATE TABLE memory_vocab (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) STRICT, WITHOUT ROWID")
    db.execute(
        "CREATE TABLE memory_vocab_info (id INTEGER PRIMARY KEY CHECK (id = 1), records INTEGER NOT NULL, "
        "built_at TEXT NOT NULL) STRICT"
    )


def records(conn: sqlite3.Connection) -> int:
    """Live (indexed) records now: the FTS index keeps one docsize row for each."""
    return conn.execute("SELECT count(*) FROM memory_fts_docsize").fetchone()[0]


def snapshot_records(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT records FROM memory_vocab_info WHERE id = 1").fetchone()
    return None if row is None else row[0]


def needs_refresh(conn: sqlite3.Connection) -> bool:
    now = records(conn)
    then = snapshot_records(conn)
    if then is None:
        return now >= VOCAB_MIN_RECORDS
    return abs(now - then) > max(REFRESH_GROWTH * then, VOCAB_MIN_RECORDS / 2)


def read_snapshot(conn: sqlite3.Connection) -> tuple[dict[str, int], int]:
    """(term -> records, live records) straight from the FTS index: the slow read, for a reader thread."""
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.memory_fts_vocab USING fts5vocab(main, memory_fts, 'col')")
    conn.execute("BEGIN")  # one snapshot of the index for the terms and the count
    try:
        # The words people type, not the meta column's filter tokens (kindfact, tierhot). A term in
        # several columns counts its biggest column: at most what it is in, close enough for a plan.
        terms = dict(conn.execute(
            f"SELECT term, max(doc) FROM temp.memory_fts_vocab WHERE col IN {WORD_COLUMNS} GROUP BY term"
        ))
        return terms, records(conn)
    finally:
        conn.execute("ROLLBACK")


def write_statements(conn: sqlite3.Connection, terms: dict[str, int], live: int, now: str) -> list[list[tuple[str, tuple]]]:
    """The writes that make `memory_vocab` hold `terms`, in transactions of WRITE_CHUNK rows (read on a reader:
    only the terms that changed are written)."""
    stored = dict(conn.execute("SELECT term, docs FROM memory_vocab"))
    upsert = "INSERT INTO memory_vocab (term, docs) VALUES (?, ?) ON CONFLICT (term) DO UPDATE SET docs = excluded.docs"
    rows = [(upsert, (t, d)) for t, d in terms.items() if stored.get(t) != d]
    rows += [("DELETE FROM memory_vocab WHERE term = ?", (t,)) for t in stored.keys() - terms.keys()]
    chunks = [rows[i:i + WRITE_CHUNK] for i in range(0, len(rows), WRITE_CHUNK)] or [[]]
    chunks[-1].append((
        "INSERT INTO memory_vocab_info (id, records, built_at) VALUES (1, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET records = excluded.records, built_at = excluded.built_at", (live, now),
    ))
    return chunks


def refresh_sync(db: sqlite3.Connection, now: str) -> int:
    """Refresh in one go on a plain connection (the offline CLI, the benchmark's build); returns the terms."""
    terms, live = read_snapshot(db)
    for chunk in write_statements(db, terms, live, now):
        db.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in chunk:
                db.execute(sql, params)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    return len(terms)


def lookup(conn: sqlite3.Connection, stem: str, prefix: bool, completions: int) -> tuple[int, list[str]]:
    """(records holding it, its commonest terms) for a word; a prefix sums over the terms it starts."""
    if not prefix:
        row = conn.execute("SELECT docs FROM memory_vocab WHERE term = ?", (stem,)).fetchone()
        return (0 if row is None else row[0]), [stem]
    rows = conn.execute(
        "SELECT term, docs FROM memory_vocab WHERE term >= ? AND term < ? ORDER BY docs DESC",
        (stem, stem + "\U0010ffff"),
    ).fetchall()
    return sum(d for _, d in rows), [t for t, _ in rows[:completions]]


def have_snapshot(conn: sqlite3.Connection) -> bool:
    return snapshot_records(conn) is not None
