"""A capture typed in the TUI with no daemon goes to disk at once (the path `oxymus capture` falls
back to), and the TUI never quits holding one that is only in memory."""

from __future__ import annotations

import asyncio
import json
import os

from conftest import DaemonProcess, run_cli, until
from oxymus.tui.app import create_app
from oxymus.tui.screens.capture import CaptureScreen
from oxymus.tui.screens.inbox import InboxScreen

SIZE = (100, 30)


def on_disk() -> list[tuple[str, str]]:
    """(text, source) of the open captures, read by `oxymus inbox --json` with no daemon: from the file."""
    proc = run_cli("inbox", "--json")
    assert proc.returncode == 0, proc.stderr
    return [(c["text"], c["source"]) for c in json.loads(proc.stdout)]


def rows(app) -> list[tuple[str, str]]:
    table = app.screen_stack[0].table
    return [tuple(str(cell) for cell in table.get_row_at(i))[:2] for i in range(table.row_count)]


async def test_a_capture_typed_without_a_daemon_is_written_to_disk(profile):
    app = create_app(profile, start_daemon=False, retry_max=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "unreachable" in app.screen_stack[0].status_bar.text, what="no daemon")
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen_stack[0], InboxScreen), what="the inbox")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CaptureScreen), what="the capture dialog")
        await pilot.press(*"typed while down", "enter")
        await until(pilot, lambda: rows(app) and rows(app)[0] != ("sending…", "typed while down"), what="stored, not sending")
        assert rows(app)[0][1] == "typed while down" and not app.connection.outbox
        assert "1 open" in str(app.screen_stack[0].query_one("#summary").render())
        assert await asyncio.to_thread(on_disk) == [("typed while down", "tui")]  # before quitting

        # The daemon starting later finds it there, once.
        daemon = await asyncio.to_thread(DaemonProcess(profile).start)
        try:
            await until(pilot, lambda: app.connection.connected, what="the reconnect")
            await until(pilot, lambda: app.connection.inbox and not app.connection.outbox, what="the inbox reloaded")
            assert [c.text for c in app.connection.inbox.values()] == ["typed while down"]
            assert [r[1] for r in rows(app)] == ["typed while down"]
        finally:
            await asyncio.to_thread(daemon.stop)


async def test_quitting_right_after_a_capture_keeps_it(profile):
    app = create_app(profile, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "unreachable" in app.screen_stack[0].status_bar.text, what="no daemon")
        app.connection.add_capture("said just before q")  # no pause: its write is still on its way
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, what="the app to exit")
    assert not app.connection.outbox
    assert on_disk() == [("said just before q", "tui")]


async def test_a_capture_that_cannot_be_written_is_said_and_holds_the_quit(profile):
    profile.ensure()
    os.makedirs(profile.db_file)  # a folder where the database should be: no write can succeed
    app = create_app(profile, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "unreachable" in app.screen_stack[0].status_bar.text, what="no daemon")
        capture_id = app.connection.add_capture("nowhere to go")
        await until(pilot, lambda: any(n.title == "Capture not saved yet" for n in app._notifications), what="the warning")
        assert capture_id in app.connection.outbox
        await pilot.press("q")
        await until(pilot, lambda: any(n.title == "Not saved" for n in app._notifications), what="the quit to be held")
        assert app.is_running
        await pilot.press("q")  # told, and asked again: it quits
        await until(pilot, lambda: not app.is_running, what="the app to exit")
