"""The store on real SQLite files: migrations, durability settings, captures, the audit log."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from oxymus.kernel.ulid import is_ulid, new_ulid
from oxymus.store import capture_sql, db, migrations
from oxymus.store.repos import Store


def test_migrates_an_empty_database_to_latest(tmp_path):
    conn = db.connect(str(tmp_path / "x.db"))
    assert migrations.schema_version(conn) == migrations.LATEST
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"captures", "audit_log"} <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_migrates_from_the_previous_version_keeping_data(tmp_path):
    path = str(tmp_path / "old.db")
    old = db.connect(path, migrate_schema=False)
    assert migrations.migrate(old, target=1) == ["001_captures"]
    old.execute(
        "INSERT INTO captures (id, text, source, created_at) VALUES (?, 'kept through the upgrade', 'cli', '2026-01-01T00:00:00.000Z')",
        (new_ulid(),),
    )
    old.close()

    conn = db.connect(path)
    assert migrations.schema_version(conn) == migrations.LATEST
    assert conn.execute("SELECT text FROM captures").fetchall() == [("kept through the upgrade",)]
    row, created = capture_sql.add_sync(conn, "after the upgrade", "cli")
    assert created and conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 1


def test_agent_runs_learn_stopped_keeping_their_rows(tmp_path):
    path = str(tmp_path / "runs.db")
    old = db.connect(path, migrate_schema=False)
    step = next(i for i, m in enumerate(migrations.MIGRATIONS) if m.name == "009_agent_runs_stopped")
    migrations.migrate(old, target=step)
    row = ("01JD0000000000000000000001", "publisher", "by hand", "T1", "2026-11-23T05:30:00.000Z", "failed", "build failed")
    old.execute("INSERT INTO agent_runs (id, agent, trigger, trace_id, started_at, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?)", row)
    with pytest.raises(sqlite3.IntegrityError):
        old.execute("INSERT INTO agent_runs (id, agent, trigger, trace_id, started_at, outcome) VALUES ('X', 'a', 't', 'T', 's', 'stopped')")
    old.close()

    conn = db.connect(path)
    assert conn.execute("SELECT seq, id, agent, trigger, trace_id, started_at, outcome, error FROM agent_runs").fetchall() == [(1, *row)]
    conn.execute("INSERT INTO agent_runs (id, agent, trigger, trace_id, started_at, outcome) VALUES ('X', 'a', 't', 'T', 's', 'stopped')")
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'agent_runs'")}
    assert "agent_runs_by_agent" in indexes


def test_migration_is_a_no_op_when_current(tmp_path):
    conn = db.connect(str(tmp_path / "x.db"))
    assert migrations.migrate(conn) == []


def test_a_database_from_a_newer_oxymus_is_refused_clearly(tmp_path):
    path = str(tmp_path / "new.db")
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 5}")
    conn.close()
    with pytest.raises(migrations.SchemaError, match=r"new\.db: schema version \d+ is newer"):
        db.connect(path)


def test_a_failing_migration_leaves_the_previous_version(tmp_path, monkeypatch):
    path = str(tmp_path / "x.db")
    conn = db.connect(path, migrate_schema=False)
    migrations.migrate(conn, target=1)

    def broken(c):
        c.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("disk on fire")

    patched = [migrations.MIGRATIONS[0], migrations.Migration("002_broken", broken)]
    monkeypatch.setattr(migrations, "MIGRATIONS", patched)
    with pytest.raises(RuntimeError):
        migrations.migrate(conn)
    assert migrations.schema_version(conn) == 1
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name='half_done'").fetchone()[0] == 0


def test_two_processes_migrating_at_once_do_not_collide(tmp_path):
    path = str(tmp_path / "race.db")
    errors = []

    def open_it():
        try:
            db.connect(path).close()
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert migrations.schema_version(db.connect(path)) == migrations.LATEST


def test_add_sync_is_idempotent_on_the_id(tmp_path):
    conn = db.connect(str(tmp_path / "x.db"))
    cid = new_ulid()
    first, created1 = capture_sql.add_sync(conn, "once", "cli", cid)
    second, created2 = capture_sql.add_sync(conn, "once", "cli", cid)
    assert (created1, created2) == (True, False)
    assert first == second
    assert conn.execute("SELECT count(*) FROM captures").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 1


def test_created_at_comes_from_the_id():
    params = capture_sql.insert_params("x", "cli", new_ulid(ms=1_700_000_000_123))
    assert params[3] == "2023-11-14T22:13:20.123Z"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("x" * (capture_sql.MAX_CAPTURE_BYTES + 1), "too long"),
        ("nul\x00byte", "NUL"),
        ("lone \udc80 surrogate", "not valid Unicode"),
    ],
)
def test_bad_capture_text_is_refused(text, message):
    with pytest.raises(capture_sql.CaptureError, match=message):
        capture_sql.check_text(text)


def test_non_ascii_and_multiline_text_is_stored_verbatim(tmp_path):
    conn = db.connect(str(tmp_path / "x.db"))
    text = "Grüße, 東京 🌧\n  indented second line\r\nthird"
    row, _ = capture_sql.add_sync(conn, text, "stdin")
    assert row["text"] == text and is_ulid(row["id"])


def test_bad_ids_and_sources_are_refused():
    with pytest.raises(capture_sql.CaptureError, match="invalid capture id"):
        capture_sql.insert_params("x", "cli", "not-a-ulid")
    with pytest.raises(capture_sql.CaptureError, match="invalid capture source"):
        capture_sql.insert_params("x", "bad source!", None)


def test_audit_log_is_append_only(tmp_path):
    conn = db.connect(str(tmp_path / "x.db"))
    capture_sql.add_sync(conn, "something", "cli")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit_log SET verb = 'forged'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_log")
    assert conn.execute("SELECT verb FROM audit_log").fetchall() == [("capture.added",)]


async def test_async_store_shares_the_write_path(tmp_path):
    path = str(tmp_path / "x.db")
    store = await Store.open(path)
    try:
        trace = new_ulid()
        capture, created = await store.captures.add("from the daemon", "tui", trace_id=trace)
        again, created_again = await store.captures.add("from the daemon", "tui", capture.id)
        assert created and not created_again and again == capture
        assert [c.id for c in await store.captures.list()] == [capture.id]
        events = await store.audit.list(trace_id=trace)
        assert [(e.verb, e.subject, e.actor) for e in events] == [("capture.added", capture.id, "tui")]
        # A write by another connection is visible, and data_version tells us it happened.
        before = await store.data_version()
        other = db.connect(path)
        capture_sql.add_sync(other, "from the offline cli", "cli")
        other.close()
        assert await store.data_version() != before
        assert [c.text for c in await store.captures.since(capture.seq)] == ["from the offline cli"]
    finally:
        await store.close()


def test_two_writers_creating_the_database_at_once_both_get_it(tmp_path):
    """The TUI's capture and its save on quit (or a capture and a starting daemon) may both
    create the file: neither may fail with "database is locked" while it switches to WAL."""
    import threading

    from oxymus.store import db as db_mod

    errors: list[BaseException] = []
    for i in range(25):
        path = str(tmp_path / f"new{i}.db")

        def open_it() -> None:
            try:
                db_mod.connect(path).close()
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
