"""The later migration steps (010 on, but 013 in memory_vocab.py), kept apart so that neither module outgrows its limit.

The list itself, and the rules for adding a step, are in migrations.py; a step here is a
plain function of the connection, run inside that module's transaction.
"""

from __future__ import annotations

import sqlite3


def m010_reviews(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE reviews (
            date        TEXT PRIMARY KEY,             -- the local date reviewed, YYYY-MM-DD
            status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
            step        TEXT NOT NULL CHECK (step IN ('yesterday', 'calendar', 'inbox', 'approvals', 'top', 'done')),
            decisions   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(decisions)),
            top         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(top)),
            started_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL,
            finished_at TEXT
        ) STRICT
        """
    )


def m011_weekly_reviews(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE weekly_reviews (
            week        TEXT PRIMARY KEY,             -- the ISO week reviewed, YYYY-Www
            status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
            step        TEXT NOT NULL CHECK (step IN ('week', 'questions', 'proposals', 'done')),
            answers     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(answers)),
            decisions   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(decisions)),
            started_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL,
            finished_at TEXT
        ) STRICT
        """
    )


def m012_notifications(db: sqlite3.Connection) -> None:
    # One row per notification (the notify.send action's id), with where it reached the
    # person: a notification that reached neither the desktop nor a TUI stays 'missed'
    # until seen, so nothing the daemon meant to say is lost with a missing server.
    db.execute(
        """
        CREATE TABLE notifications (
            id           TEXT PRIMARY KEY,            -- the notify.send action's id
            kind         TEXT NOT NULL,               -- approval, bill, meeting, ... (the [notify.kinds] switches)
            title        TEXT NOT NULL,
            body         TEXT NOT NULL DEFAULT '',
            urgency      TEXT NOT NULL CHECK (urgency IN ('low', 'normal', 'critical')),
            decides      TEXT,                        -- the action its buttons approve or deny
            facts        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(facts)),
            created_at   TEXT NOT NULL,
            held_until   TEXT,                        -- quiet hours or the rate limit: shown at this time
            desktop      TEXT NOT NULL DEFAULT 'pending'
                         CHECK (desktop IN ('pending', 'shown', 'shown_plain', 'unavailable', 'error', 'off')),
            desktop_at   TEXT,
            desktop_note TEXT,
            tui          TEXT NOT NULL DEFAULT 'pending' CHECK (tui IN ('pending', 'shown', 'none')),
            tui_at       TEXT,
            state        TEXT NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('held', 'pending', 'delivered', 'missed', 'silenced', 'failed')),
            seen_at      TEXT
        ) STRICT
        """
    )
    db.execute("CREATE INDEX notifications_by_state ON notifications(state, created_at)")
    # A fact is announced once, whichever agent saw it first: the claim is taken in the
    # same transaction as the notify.send action (see ActionDesk.propose).
    db.execute(
        """
        CREATE TABLE notification_facts (
            fact         TEXT PRIMARY KEY,
            notification TEXT NOT NULL,
            claimed_at   TEXT NOT NULL
        ) STRICT
        """
    )


def m014_records(db: sqlite3.Connection) -> None:
    # A canonical record is a memory record (same id: title, body, tiers, history) plus this row:
    # its kind's status and typed fields, in the schema version they were written under.
    db.execute(
        """
        CREATE TABLE records (
            id             TEXT PRIMARY KEY,      -- the memory record's id
            kind           TEXT NOT NULL,
            status         TEXT NOT NULL,
            schema_version INTEGER NOT NULL,
            fields         TEXT NOT NULL CHECK (json_valid(fields)),
            problem        TEXT,                  -- why it fails its schema: reported, never dropped
            updated_at     TEXT NOT NULL
        ) STRICT
        """
    )
    # "records of kind K in status S": what the board and status-driven agents ask.
    db.execute("CREATE INDEX records_by_status ON records(kind, status, updated_at)")
    # The fields and status at each memory version that changed them (a title-only memory
    # edit reuses the row below it).
    db.execute(
        """
        CREATE TABLE record_versions (
            record_id      TEXT NOT NULL,
            version        INTEGER NOT NULL,
            status         TEXT NOT NULL,
            schema_version INTEGER NOT NULL,
            fields         TEXT NOT NULL,
            PRIMARY KEY (record_id, version)
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE record_links (
            record_id   TEXT NOT NULL,
            target_type TEXT NOT NULL,            -- record, capture, action, run, calendar, repo, file, email
            target_ref  TEXT NOT NULL,
            relation    TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            actor       TEXT NOT NULL,
            PRIMARY KEY (record_id, target_type, target_ref, relation)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX record_links_by_target ON record_links(target_type, target_ref)")
    # A purged memory record takes its record part with it, whichever path purged it.
    db.execute(
        """
        CREATE TRIGGER records_purge AFTER DELETE ON memory_records BEGIN
            DELETE FROM records WHERE id = old.id;
            DELETE FROM record_versions WHERE record_id = old.id;
            DELETE FROM record_links WHERE record_id = old.id OR (target_type = 'record' AND target_ref = old.id);
        END
        """
    )


def m015_not_before(db: sqlite3.Connection) -> None:
    # An approved action held until a time (issue 15). Its due time stays next_attempt_at,
    # which the executor already wakes for (actions_by_status): this column only says why
    # it waits and keeps the time an approval or undo recomputes the due time from.
    db.execute("ALTER TABLE actions ADD COLUMN not_before TEXT")


def m016_handoffs(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE handoffs (
            id          TEXT PRIMARY KEY,
            at          TEXT NOT NULL,
            record_id   TEXT NOT NULL,
            kind        TEXT NOT NULL,
            from_status TEXT,
            to_status   TEXT NOT NULL,
            by          TEXT NOT NULL,           -- who moved it: a person's client, or agent:NAME
            to_agent    TEXT,                    -- the agent that takes it over; NULL: a person
            mode        TEXT NOT NULL CHECK (mode IN ('automatic', 'manual')),
            action_id   TEXT,                    -- the record.update that moved it, if one did
            run_id      TEXT                     -- the consumer's run, once started
        ) STRICT
        """
    )
    db.execute("CREATE INDEX handoffs_by_record ON handoffs(record_id, at)")
    db.execute("CREATE INDEX handoffs_by_mode ON handoffs(mode, at)")
    db.execute("CREATE TRIGGER handoffs_purge AFTER DELETE ON memory_records BEGIN DELETE FROM handoffs WHERE record_id = old.id; END")
