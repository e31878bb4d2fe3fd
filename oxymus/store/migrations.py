"""Versioned schema: an ordered list of small named steps, tracked in PRAGMA user_version.

Append new steps; never edit a released one. Each step runs in its own
IMMEDIATE transaction together with the version bump, so a crash mid-migration
leaves the previous version intact, and two processes starting at once (the
daemon and an offline `oxymus capture`) serialise instead of racing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from oxymus.store import memory_vocab
from oxymus.store.migrations_later import m010_reviews, m011_weekly_reviews, m012_notifications, m014_records, m015_not_before, m016_handoffs


class SchemaError(Exception):
    """The database cannot be used by this version of Oxymus."""


class Migration:
    """One named step. A plain class: typing.NamedTuple costs the capture path ~2 ms to import."""

    __slots__ = ("name", "apply")

    def __init__(self, name: str, apply: Callable[[sqlite3.Connection], None]):
        self.name = name
        self.apply = apply


def _m001_captures(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE captures (
            seq        INTEGER PRIMARY KEY,          -- arrival order, for 'since' queries
            id         TEXT NOT NULL UNIQUE,         -- ULID, chosen by the writer (idempotent retries)
            text       TEXT NOT NULL,
            source     TEXT NOT NULL,
            created_at TEXT NOT NULL,                -- UTC ISO-8601, ms, Z
            status     TEXT NOT NULL DEFAULT 'open'
                       CHECK (status IN ('open', 'triaged', 'archived'))
        ) STRICT
        """
    )
    db.execute("CREATE INDEX captures_by_status ON captures(status, seq)")


def _m002_audit_log(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE audit_log (
            seq      INTEGER PRIMARY KEY,
            ts       TEXT NOT NULL,
            actor    TEXT NOT NULL,
            verb     TEXT NOT NULL,
            subject  TEXT NOT NULL,
            trace_id TEXT NOT NULL,
            details  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
        ) STRICT
        """
    )
    db.execute("CREATE INDEX audit_by_trace ON audit_log(trace_id, seq)")
    # Append-only is enforced by the database, not by convention.
    db.execute(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )


def _m003_state(db: sqlite3.Connection) -> None:
    # A cache of what sources reported: rebuildable by polling again, so it can be
    # replaced wholesale per source; first_seen/changed_at say what is new.
    db.execute(
        """
        CREATE TABLE state_items (
            source      TEXT NOT NULL,
            key         TEXT NOT NULL,
            kind        TEXT NOT NULL,
            observed_at TEXT NOT NULL,
            first_seen  TEXT NOT NULL,
            changed_at  TEXT NOT NULL,
            starts_at   TEXT,
            ends_at     TEXT,
            data        TEXT NOT NULL CHECK (json_valid(data)),
            error       TEXT,
            PRIMARY KEY (source, key)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX state_by_start ON state_items(starts_at) WHERE starts_at IS NOT NULL")
    db.execute("CREATE INDEX state_by_kind ON state_items(kind, source)")
    db.execute(
        """
        CREATE TABLE source_health (
            source               TEXT PRIMARY KEY,
            last_attempt         TEXT,
            last_success         TEXT,
            last_error           TEXT,
            last_error_at        TEXT,
            error_class          TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            next_attempt         TEXT,
            item_count           INTEGER NOT NULL DEFAULT 0,
            suspect              TEXT,
            warnings             TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(warnings))
        ) STRICT
        """
    )
    # Paid bills are Oxymus' own records (bills.toml only says what is owed and when).
    db.execute(
        """
        CREATE TABLE bill_payments (
            bill    TEXT NOT NULL,
            due     TEXT NOT NULL,
            paid_at TEXT NOT NULL,
            amount  REAL,
            note    TEXT,
            PRIMARY KEY (bill, due)
        ) STRICT
        """
    )


def _m004_memory(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE memory_records (
            seq        INTEGER PRIMARY KEY,          -- the FTS rowid
            id         TEXT NOT NULL UNIQUE,         -- ULID
            kind       TEXT NOT NULL,
            title      TEXT NOT NULL,
            body       TEXT NOT NULL DEFAULT '',
            tags       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
            tier       TEXT NOT NULL DEFAULT 'warm' CHECK (tier IN ('hot', 'warm', 'cold')),
            archived   INTEGER NOT NULL DEFAULT 0,   -- forgotten: out of retrieval, history kept
            provenance TEXT NOT NULL CHECK (json_valid(provenance)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            touched_at TEXT NOT NULL,                -- last edited or opened: what tiers age by
            version    INTEGER NOT NULL DEFAULT 1,
            -- kind and tier as search tokens, so filters narrow the MATCH itself
            meta       TEXT GENERATED ALWAYS AS ('kind' || kind || ' tier' || tier) VIRTUAL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX memory_by_tier ON memory_records(tier, archived, touched_at)")
    # Every version of every record, the first included: an edit never destroys text.
    db.execute(
        """
        CREATE TABLE memory_versions (
            record_id  TEXT NOT NULL,
            version    INTEGER NOT NULL,
            kind       TEXT NOT NULL,
            title      TEXT NOT NULL,
            body       TEXT NOT NULL,
            tags       TEXT NOT NULL,
            tier       TEXT NOT NULL,
            archived   INTEGER NOT NULL,
            changed_at TEXT NOT NULL,
            actor      TEXT NOT NULL,
            note       TEXT,
            PRIMARY KEY (record_id, version)
        ) STRICT
        """
    )
    # External-content FTS over live records only (forgotten ones leave the index),
    # kept in step by triggers; touching a record (touched_at) does not re-index it.
    db.execute(
        "CREATE VIRTUAL TABLE memory_fts USING fts5(title, body, tags, meta, content='memory_records', "
        "content_rowid='seq', tokenize='porter unicode61 remove_diacritics 2')"
    )
    cols = "title, body, tags, meta"
    db.execute(
        f"CREATE TRIGGER memory_fts_insert AFTER INSERT ON memory_records WHEN new.archived = 0 BEGIN "
        f"INSERT INTO memory_fts(rowid, {cols}) VALUES (new.seq, new.title, new.body, new.tags, new.meta); END"
    )
    db.execute(
        f"CREATE TRIGGER memory_fts_delete AFTER DELETE ON memory_records WHEN old.archived = 0 BEGIN "
        f"INSERT INTO memory_fts(memory_fts, rowid, {cols}) VALUES ('delete', old.seq, old.title, old.body, old.tags, old.meta); END"
    )
    # One trigger, two statements in order: separate triggers would fire in an
    # unspecified order, and indexing the new text before removing the old corrupts FTS.
    db.execute(
        f"CREATE TRIGGER memory_fts_update AFTER UPDATE OF kind, title, body, tags, tier, archived ON memory_records BEGIN "
        f"INSERT INTO memory_fts(memory_fts, rowid, {cols}) "
        f"SELECT 'delete', old.seq, old.title, old.body, old.tags, old.meta WHERE old.archived = 0; "
        f"INSERT INTO memory_fts(rowid, {cols}) SELECT new.seq, new.title, new.body, new.tags, new.meta WHERE new.archived = 0; "
        f"END"
    )
    db.execute(
        """
        CREATE TABLE capture_links (
            capture_id  TEXT NOT NULL,
            target_kind TEXT NOT NULL CHECK (target_kind IN ('memory', 'plan_action')),
            target_id   TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (capture_id, target_kind, target_id)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX capture_links_by_target ON capture_links(target_kind, target_id)")


def _m005_actions(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE actions (
            seq             INTEGER PRIMARY KEY,
            id              TEXT NOT NULL UNIQUE,           -- ULID
            kind            TEXT NOT NULL,
            status          TEXT NOT NULL CHECK (status IN ('proposed', 'awaiting_approval', 'approved', 'denied',
                            'executing', 'succeeded', 'failed', 'snoozed', 'expired', 'compensated')),
            payload         TEXT NOT NULL CHECK (json_valid(payload)),
            proposer        TEXT NOT NULL CHECK (json_valid(proposer)),
            reason          TEXT NOT NULL DEFAULT '',
            inputs          TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(inputs)),
            confidence      REAL,
            risk            TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,           -- a repeated proposal finds the first one
            decision        TEXT NOT NULL CHECK (json_valid(decision)),
            preview         TEXT NOT NULL CHECK (json_valid(preview)),
            trace_id        TEXT NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            max_attempts    INTEGER NOT NULL DEFAULT 5,
            next_attempt_at TEXT,
            expires_at      TEXT,
            snoozed_until   TEXT,
            created_at      TEXT NOT NULL,
            updated_at      TEXT NOT NULL,
            error           TEXT,
            receipt         TEXT CHECK (receipt IS NULL OR json_valid(receipt))
        ) STRICT
        """
    )
    db.execute("CREATE INDEX actions_by_status ON actions(status, next_attempt_at)")
    db.execute("CREATE INDEX actions_by_trace ON actions(trace_id)")
    # The executor asks "what is due next" after every decision: with a thousand requests
    # waiting, these keep that a lookup instead of a scan.
    db.execute("CREATE INDEX actions_by_status_expiry ON actions(status, expires_at)")
    db.execute("CREATE INDEX actions_by_status_snooze ON actions(status, snoozed_until)")
    # Decisions by people (and their undoing): append-only, the record the executor requires.
    db.execute(
        """
        CREATE TABLE action_approvals (
            seq       INTEGER PRIMARY KEY,
            action_id TEXT NOT NULL,
            decision  TEXT NOT NULL CHECK (decision IN ('approved', 'denied', 'snoozed', 'undone', 'edited')),
            actor     TEXT NOT NULL,
            via       TEXT NOT NULL,
            at        TEXT NOT NULL,
            reason    TEXT,
            until     TEXT
        ) STRICT
        """
    )
    db.execute("CREATE INDEX action_approvals_by_action ON action_approvals(action_id, seq)")
    db.execute(
        """
        CREATE TABLE action_receipts (
            action_id    TEXT NOT NULL,
            attempt      INTEGER NOT NULL,
            at           TEXT NOT NULL,
            summary      TEXT NOT NULL,
            ref          TEXT,
            data         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
            already_done INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (action_id, attempt)
        ) STRICT
        """
    )
    for table in ("action_approvals", "action_receipts"):
        for op in ("UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    # The invariant the whole policy plane rests on, enforced by the database itself:
    # an action that needed approval runs only if the latest decision on it is a yes,
    # and a denied one never runs.
    db.execute(
        """
        CREATE TRIGGER actions_execute_needs_yes BEFORE UPDATE OF status ON actions
        WHEN new.status = 'executing' AND (
            json_extract(old.decision, '$.outcome') = 'deny'
            OR (json_extract(old.decision, '$.outcome') = 'require_approval' AND coalesce(
                (SELECT decision FROM action_approvals WHERE action_id = old.id ORDER BY seq DESC LIMIT 1), '') != 'approved')
        )
        BEGIN SELECT RAISE(ABORT, 'action needs an approval before it can execute'); END
        """
    )
    db.execute(
        """
        CREATE TABLE settings (
            key        TEXT PRIMARY KEY,
            value      TEXT NOT NULL CHECK (json_valid(value)),
            updated_at TEXT NOT NULL
        ) STRICT
        """
    )
    # Retention: the audit log stays append-only except for one controlled prune.
    # Only rows older than the cutoff written in audit_retention may go, and never
    # any row of a trace that holds a failure, a denial or an expiry: routine
    # successes make room, the record of what went wrong never does.
    db.execute("CREATE TABLE audit_retention (id INTEGER PRIMARY KEY CHECK (id = 1), cutoff TEXT NOT NULL) STRICT")
    db.execute("CREATE INDEX audit_by_verb ON audit_log(verb)")
    db.execute("DROP TRIGGER audit_log_no_delete")
    db.execute(
        """
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        WHEN old.ts >= coalesce((SELECT cutoff FROM audit_retention WHERE id = 1), '')
          OR old.verb IN ('action.failed', 'action.denied', 'action.expired')
          OR EXISTS (SELECT 1 FROM audit_log a WHERE a.trace_id = old.trace_id
                     AND a.verb IN ('action.failed', 'action.denied', 'action.expired'))
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only (only routine records past retention may be pruned)'); END
        """
    )


def _m006_agents(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE agent_runs (
            seq         INTEGER PRIMARY KEY,
            id          TEXT NOT NULL UNIQUE,
            agent       TEXT NOT NULL,
            trigger     TEXT NOT NULL,
            trace_id    TEXT NOT NULL,
            started_at  TEXT NOT NULL,
            finished_at TEXT,
            duration_ms REAL,
            outcome     TEXT NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'skipped')),
            error       TEXT,
            summary     TEXT NOT NULL DEFAULT '',
            inputs      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(inputs)),
            artifacts   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(artifacts)),
            actions     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(actions)),
            llm         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(llm)),
            llm_available INTEGER
        ) STRICT
        """
    )
    db.execute("CREATE INDEX agent_runs_by_agent ON agent_runs(agent, seq)")
    # What agents made. One per (agent, kind, key): a re-run replaces today's plan, it does not stack.
    db.execute(
        """
        CREATE TABLE artifacts (
            seq        INTEGER PRIMARY KEY,
            id         TEXT NOT NULL UNIQUE,
            agent      TEXT NOT NULL,
            run_id     TEXT NOT NULL,
            kind       TEXT NOT NULL,
            key        TEXT NOT NULL,
            title      TEXT NOT NULL,
            content    TEXT NOT NULL,
            data       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
            path       TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (agent, kind, key)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX artifacts_by_kind ON artifacts(kind, seq)")
    # Small per-agent memory of its own: what the sentinel already said, when a schedule last ran.
    db.execute(
        """
        CREATE TABLE agent_state (
            agent      TEXT NOT NULL,
            key        TEXT NOT NULL,
            value      TEXT NOT NULL CHECK (json_valid(value)),
            updated_at TEXT NOT NULL,
            PRIMARY KEY (agent, key)
        ) STRICT
        """
    )


def _m007_capture_links_to_actions(db: sqlite3.Connection) -> None:
    # A capture accepted as a calendar event or a bill becomes an action (proposed as the
    # person, perhaps awaiting approval): it links to that action. SQLite cannot change a
    # CHECK in place, so the table is rebuilt with its rows and its index.
    db.execute(
        """
        CREATE TABLE capture_links_new (
            capture_id  TEXT NOT NULL,
            target_kind TEXT NOT NULL CHECK (target_kind IN ('memory', 'plan_action', 'action')),
            target_id   TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (capture_id, target_kind, target_id)
        ) STRICT
        """
    )
    db.execute(
        "INSERT INTO capture_links_new (capture_id, target_kind, target_id, created_at) "
        "SELECT capture_id, target_kind, target_id, created_at FROM capture_links"
    )
    db.execute("DROP TABLE capture_links")
    db.execute("ALTER TABLE capture_links_new RENAME TO capture_links")
    db.execute("CREATE INDEX capture_links_by_target ON capture_links(target_kind, target_id)")


def _m008_flows(db: sqlite3.Connection) -> None:
    # Flows: several actions approved as one and run in order (daemon/flows.py). A step
    # names its flow (the parent action of kind 'flow', which carries the approval) and
    # its place; a compensation names the step it takes back. A step that never ran
    # because an earlier one failed ends 'cancelled'. SQLite cannot change a CHECK in
    # place, so the table is rebuilt with its rows, indexes and trigger.
    db.execute(
        """
        CREATE TABLE actions_new (
            seq             INTEGER PRIMARY KEY,
            id              TEXT NOT NULL UNIQUE,
            kind            TEXT NOT NULL,
            status          TEXT NOT NULL CHECK (status IN ('proposed', 'awaiting_approval', 'approved', 'denied',
                            'executing', 'succeeded', 'failed', 'snoozed', 'expired', 'compensated', 'cancelled')),
            payload         TEXT NOT NULL CHECK (json_valid(payload)),
            proposer        TEXT NOT NULL CHECK (json_valid(proposer)),
            reason          TEXT NOT NULL DEFAULT '',
            inputs          TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(inputs)),
            confidence      REAL,
            risk            TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            decision        TEXT NOT NULL CHECK (json_valid(decision)),
            preview         TEXT NOT NULL CHECK (json_valid(preview)),
            trace_id        TEXT NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            max_attempts    INTEGER NOT NULL DEFAULT 5,
            next_attempt_at TEXT,
            expires_at      TEXT,
            snoozed_until   TEXT,
            created_at      TEXT NOT NULL,
            updated_at      TEXT NOT NULL,
            error           TEXT,
            receipt         TEXT CHECK (receipt IS NULL OR json_valid(receipt)),
            flow_id         TEXT,                           -- the flow this is a step (or a compensation) of
            step            INTEGER,                        -- 1-based place in the flow; NULL for a compensation
            compensates     TEXT                            -- the step this action takes back
        ) STRICT
        """
    )
    db.execute(
        "INSERT INTO actions_new (seq, id, kind, status, payload, proposer, reason, inputs, confidence, risk, idempotency_key, "
        "decision, preview, trace_id, attempts, max_attempts, next_attempt_at, expires_at, snoozed_until, created_at, updated_at, "
        "error, receipt) SELECT seq, id, kind, status, payload, proposer, reason, inputs, confidence, risk, idempotency_key, "
        "decision, preview, trace_id, attempts, max_attempts, next_attempt_at, expires_at, snoozed_until, created_at, updated_at, "
        "error, receipt FROM actions"
    )
    db.execute("DROP TABLE actions")
    db.execute("ALTER TABLE actions_new RENAME TO actions")
    db.execute("CREATE INDEX actions_by_status ON actions(status, next_attempt_at)")
    db.execute("CREATE INDEX actions_by_trace ON actions(trace_id)")
    db.execute("CREATE INDEX actions_by_status_expiry ON actions(status, expires_at)")
    db.execute("CREATE INDEX actions_by_status_snooze ON actions(status, snoozed_until)")
    db.execute("CREATE INDEX actions_by_flow ON actions(flow_id, step) WHERE flow_id IS NOT NULL")
    # The invariant of 005, extended to flows: a step carries its flow's decision and runs
    # only on the latest decision on the flow being a yes, and only while the flow runs.
    db.execute(
        """
        CREATE TRIGGER actions_execute_needs_yes BEFORE UPDATE OF status ON actions
        WHEN new.status = 'executing' AND (
            json_extract(old.decision, '$.outcome') = 'deny'
            OR (json_extract(old.decision, '$.outcome') = 'require_approval' AND coalesce(
                (SELECT decision FROM action_approvals WHERE action_id = coalesce(old.flow_id, old.id) ORDER BY seq DESC LIMIT 1),
                '') != 'approved')
            OR (old.flow_id IS NOT NULL AND coalesce((SELECT status FROM actions WHERE id = old.flow_id), '') != 'executing')
        )
        BEGIN SELECT RAISE(ABORT, 'action needs an approval before it can execute'); END
        """
    )


def _m009_agent_runs_stopped(db: sqlite3.Connection) -> None:
    # A run can end `stopped` (it could not do its job and says why: the person has to
    # act), beside `failed` (its job failed). SQLite cannot change a CHECK in place, so
    # the table is rebuilt with its rows (seq kept: it orders the history) and its index.
    db.execute(
        """
        CREATE TABLE agent_runs_new (
            seq         INTEGER PRIMARY KEY,
            id          TEXT NOT NULL UNIQUE,
            agent       TEXT NOT NULL,
            trigger     TEXT NOT NULL,
            trace_id    TEXT NOT NULL,
            started_at  TEXT NOT NULL,
            finished_at TEXT,
            duration_ms REAL,
            outcome     TEXT NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'stopped', 'skipped')),
            error       TEXT,
            summary     TEXT NOT NULL DEFAULT '',
            inputs      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(inputs)),
            artifacts   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(artifacts)),
            actions     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(actions)),
            llm         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(llm)),
            llm_available INTEGER
        ) STRICT
        """
    )
    columns = ("seq, id, agent, trigger, trace_id, started_at, finished_at, duration_ms, outcome, error, summary, "
               "inputs, artifacts, actions, llm, llm_available")
    db.execute(f"INSERT INTO agent_runs_new ({columns}) SELECT {columns} FROM agent_runs")
    db.execute("DROP TABLE agent_runs")
    db.execute("ALTER TABLE agent_runs_new RENAME TO agent_runs")
    db.execute("CREATE INDEX agent_runs_by_agent ON agent_runs(agent, seq)")


MIGRATIONS: list[Migration] = [
    Migration("001_captures", _m001_captures),
    Migration("002_audit_log", _m002_audit_log),
    Migration("003_state", _m003_state),
    Migration("004_memory", _m004_memory),
    Migration("005_actions", _m005_actions),
    Migration("006_agents", _m006_agents),
    Migration("007_capture_links_to_actions", _m007_capture_links_to_actions),
    Migration("008_flows", _m008_flows),
    Migration("009_agent_runs_stopped", _m009_agent_runs_stopped),
    Migration("010_reviews", m010_reviews),
    Migration("011_weekly_reviews", m011_weekly_reviews),
    Migration("012_notifications", m012_notifications),
    Migration("013_memory_vocab", memory_vocab.create),
    Migration("014_records", m014_records),
    Migration("015_not_before", m015_not_before),
    Migration("016_handoffs", m016_handoffs),
]

LATEST = len(MIGRATIONS)


def schema_version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite3.Connection, target: int = LATEST, path: str = "") -> list[str]:
    """Bring `db` (an autocommit connection) up to `target`; return the names applied."""
    current = schema_version(db)
    if current > LATEST:
        raise SchemaError(
            f"{path or 'database'}: schema version {current} is newer than this Oxymus "
            f"understands ({LATEST}); upgrade Oxymus instead of downgrading the data"
        )
    applied: list[str] = []
    while current < target:
        db.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            current = schema_version(db)
            if current >= target:
                db.execute("COMMIT")
                break
            step = MIGRATIONS[current]
            step.apply(db)
            db.execute(f"PRAGMA user_version = {current + 1}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # a full disk has already rolled it back
                db.execute("ROLLBACK")
            raise
        applied.append(step.name)
        current += 1
    return applied
