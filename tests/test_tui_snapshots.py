"""Snapshot tests of the TUI (SVG under tests/__snapshots__/). Update with `pytest --snapshot-update`.

Everything shown must be stable: captures are seeded with fixed ids (so fixed
times) and shown in UTC, and the unreachable state uses a fixed profile path
that never exists.
"""

from __future__ import annotations

import os
import time

import pytest

from conftest import DaemonProcess
from oxymus import paths as paths_mod
from oxymus.tui.app import create_app
from oxymus.tui.screens.capture import CaptureScreen

SIZE = (100, 30)
# 2025-03-14 09:26:53 UTC, then a few minutes and hours apart.
FIXED_MS = 1_741_944_413_000
SEED = [
    (FIXED_MS, "renew the passport before the summer trip"),
    (FIXED_MS + 7 * 60_000, "idea: a weekly review that writes itself from the activity log"),
    (FIXED_MS + 3 * 3_600_000, "call the dentist"),
]
NO_DAEMON_HOME = "/tmp/oxymus-tui-snapshot-no-daemon"


async def until(pilot, predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await pilot.pause(0.02)


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def seeded_daemon(profile, utc):
    from oxymus.store import capture_sql, db
    from oxymus.ulid import new_ulid

    conn = db.connect(profile.db_file)
    try:
        for ms, text in SEED:
            capture_sql.add_sync(conn, text, "cli", capture_id=new_ulid(ms=ms))
    finally:
        conn.close()
    daemon = DaemonProcess(profile).start()
    yield daemon
    daemon.stop()


def _inbox_ready(app) -> bool:
    screen = app.screen_stack[0]
    return app.connection.connected and "Connected" in screen.status_bar.text and screen.table.row_count == len(SEED)


def test_snapshot_inbox(seeded_daemon, snap_compare):
    app = create_app(seeded_daemon.paths, start_daemon=False)

    async def run_before(pilot):
        await pilot.pause()
        await until(pilot, lambda: _inbox_ready(app), what="the seeded inbox")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_capture_dialog(seeded_daemon, snap_compare):
    app = create_app(seeded_daemon.paths, start_daemon=False)

    async def run_before(pilot):
        await pilot.pause()
        await until(pilot, lambda: _inbox_ready(app), what="the seeded inbox")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CaptureScreen), what="the capture dialog")
        await pilot.press(*"pick up the parcel")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_daemon_unreachable(utc, snap_compare):
    assert not os.path.exists(NO_DAEMON_HOME), f"{NO_DAEMON_HOME} must not exist for this test"
    paths = paths_mod.resolve({"OXYMUS_HOME": NO_DAEMON_HOME})
    # A constant delay keeps the message the same however long the screenshot takes.
    app = create_app(paths, start_daemon=False, retry_initial=5.0, retry_max=5.0)

    async def run_before(pilot):
        await pilot.pause()
        await until(pilot, lambda: "unreachable" in app.screen_stack[0].status_bar.text, what="the unreachable message")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
