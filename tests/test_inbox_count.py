"""The inbox counts what is open, not the rows it loaded: a page (the CLI's 500, the TUI's screenful) out of 1,200 says so."""

from __future__ import annotations

import asyncio

from conftest import DaemonProcess, run_cli, seed_captures, until
from oxymus.tui.app import create_app
from oxymus.tui.screens.inbox import InboxScreen

OPEN = 1200  # more than a page (500 in the CLI, 70 in a 30-row TUI), so loaded rows and the real count differ


def summary(app) -> str:
    return str(app.screen_stack[0].query_one("#summary").render())


def test_the_cli_says_how_many_are_open_beyond_the_page(profile):
    ids = seed_captures(profile, OPEN)
    offline = run_cli("inbox").stdout.decode().splitlines()
    assert offline[0] == "showing 500 of 1,200 open (newest first; --limit N shows more)"
    assert len(offline) == 1 + 500
    d = DaemonProcess(profile).start()
    try:
        assert run_cli("inbox").stdout.decode().splitlines()[0] == offline[0]
        with d.client() as conn:
            listed = conn.call("inbox.list", {"status": "open", "limit": 10})
            assert len(listed["captures"]) == 10 and listed["total"] == OPEN
            conn.call("inbox.triage", {"capture_id": ids[0], "to": "archive"})
            assert conn.call("inbox.list", {"status": "archived"})["total"] == 1
        everything = run_cli("inbox", "--limit", "5000").stdout.decode().splitlines()
        assert everything[0] == "1,199 open" and len(everything) == 1 + 1199
    finally:
        d.stop()


async def test_the_tui_header_counts_every_open_capture(profile):
    ids = seed_captures(profile, OPEN)
    daemon = await asyncio.to_thread(DaemonProcess(profile).start)
    try:
        app = create_app(profile, start_daemon=False)
        async with app.run_test(size=(100, 30)) as pilot:  # a first page of 30 + 40 rows
            await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
            await pilot.press("2")
            await until(pilot, lambda: isinstance(app.screen_stack[0], InboxScreen), what="the inbox")
            await until(pilot, lambda: "showing 70 of 1,200 open" in summary(app), what="the real count")

            with daemon.client() as conn:  # one more arrives: it is shown, and counted
                conn.call("capture.add", {"text": "one more", "source": "cli"})
            await until(pilot, lambda: "showing 71 of 1,201 open" in summary(app), what="the count after a capture")

            with daemon.client() as conn:  # the oldest, beyond the loaded page, leaves: the count drops once
                conn.call("inbox.triage", {"capture_id": ids[0], "to": "archive"})
            await until(pilot, lambda: "showing 71 of 1,200 open" in summary(app), what="the count after a triage elsewhere")
            await pilot.press("r")  # a reload asks the daemon again, and agrees
            await until(pilot, lambda: "showing 70 of 1,200 open" in summary(app), what="the count after a reload")
    finally:
        await asyncio.to_thread(daemon.stop)
