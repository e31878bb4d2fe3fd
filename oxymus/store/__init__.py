"""The SQLite store: one file per profile, WAL mode, versioned migrations.

Modules here split by weight: `db`, `migrations` and `capture_sql` use only the
stdlib `sqlite3` (the CLI writes captures through them when the daemon is down);
`repos` holds the async repositories the daemon uses, built on aiosqlite and the
pydantic models.
"""
