"""`oxymus demo`: a believable sample life in its own profile, its daemon, and the TUI.

The demo never touches the user's real profile: it lives in its own folder
(default: `demo` inside Oxymus' data dir) and runs with OXYMUS_HOME pointing there.
Seeding is idempotent: running it again adds only what is missing.
"""

from __future__ import annotations

import os
import sys

from oxymus import paths as paths_mod

# (minutes ago, source, text): a solo developer-writer's last few days of loose thoughts.
SAMPLE_CAPTURES: list[tuple[int, str, str]] = [
    (3 * 24 * 60 + 40, "cli", "Look into why the blog build takes 40s now; was 8s in spring"),
    (2 * 24 * 60 + 300, "tui", "Ana suggested a call about the workshop in January"),
    (2 * 24 * 60 + 15, "cli", "Idea for a post: 'plans that attach to something real'"),
    (26 * 60, "stdin", "Renew the domain oxymus.dev before Dec 10\n(auto-renew is off since the card changed)"),
    (20 * 60, "cli", "Dentist: reschedule the appointment on the 28th"),
    (5 * 60, "tui", "Read the SQLite WAL docs again before touching the store"),
    (95, "cli", "Invoice March for the consulting gig is still unpaid?"),
    (12, "cli", "call Ana tomorrow 2pm about the workshop outline"),
]


def default_home() -> str:
    import platformdirs

    return os.path.join(platformdirs.user_data_dir(paths_mod.APP), "demo")


def seed(paths: paths_mod.Paths) -> int:
    """Add the sample captures that are not there yet; returns how many were added."""
    from oxymus.clock import now_ms
    from oxymus.store import capture_sql, db
    from oxymus.ulid import new_ulid

    paths.ensure()
    conn = db.connect(paths.db_file)
    try:
        existing = {row[0] for row in conn.execute("SELECT text FROM captures WHERE status = 'open'")}
        added = 0
        now = now_ms()
        for minutes_ago, source, text in SAMPLE_CAPTURES:
            if text in existing:
                continue
            capture_sql.add_sync(conn, text, source, new_ulid(ms=now - minutes_ago * 60_000))
            added += 1
    finally:
        conn.close()
    return added


def run(home: str | None = None, open_tui: bool = True) -> int:
    from oxymus import launcher

    home = os.path.abspath(os.path.expanduser(home or default_home()))
    os.environ[paths_mod.ENV_HOME] = home
    paths = paths_mod.resolve()
    added = seed(paths)
    print(f"demo profile: {home} ({added} sample captures added)")
    try:
        status = launcher.start(paths)
    except launcher.StartFailed as exc:
        print(f"oxymus demo: {exc}", file=sys.stderr)
        return 1
    print(f"daemon running, pid {status['pid']}")
    if not open_tui:
        print(f"try: OXYMUS_HOME={home} oxymus inbox")
        return 0
    from oxymus.tui.app import run as run_tui

    try:
        return run_tui(paths)
    finally:
        launcher.stop(paths)
        print(f"demo daemon stopped; the profile stays in {home}")
