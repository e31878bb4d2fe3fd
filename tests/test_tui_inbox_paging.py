"""A big inbox is paged from the daemon: the count is every open capture, and scrolling reaches each one."""

from __future__ import annotations

import asyncio

import pytest

from conftest import DaemonProcess, seed_captures, until
from oxymus.tui.app import create_app
from oxymus.tui.link.connection import first_page
from oxymus.tui.screens.inbox import MOST, InboxScreen

OPEN = 5000  # fifty times the first page (a 60-row screen and the margin), five times the window


def summary(app) -> str:
    return str(app.screen_stack[0].query_one("#summary").render())


async def walk(pilot, screen, key: str, stop: str) -> set[str]:
    """Press `key` until capture `stop` is under the cursor; every capture the window held on the way."""
    table, seen = screen.table, set(screen.table.captures)
    for _ in range(OPEN):
        if table.selected_id == stop:
            return seen
        await pilot.press(key)
        await until(pilot, lambda: screen.asking is None, what="a page")
        seen |= set(table.captures)
        assert len(table.captures) <= MOST
    raise AssertionError(f"{key} did not reach {stop}")


@pytest.mark.timeout(300)  # two walks over 5,000 rows, a page at a time: near 120 s on a loaded 2-CPU machine
async def test_scrolling_reaches_every_capture_and_g_and_shift_g_jump_to_the_ends(profile):
    ids = seed_captures(profile, OPEN)  # in order: ids[0] is the oldest, ids[-1] the newest
    daemon = await asyncio.to_thread(DaemonProcess(profile).start)
    try:
        app = create_app(profile, start_daemon=False)
        async with app.run_test(size=(100, 60)) as pilot:
            await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
            await pilot.press("2")
            await until(pilot, lambda: isinstance(app.screen_stack[0], InboxScreen), what="the inbox")
            screen = app.screen_stack[0]
            await until(pilot, lambda: "of 5,000 open" in summary(app), what="the real count")
            table = screen.table
            assert len(table.captures) == first_page(60) == 100  # one screenful and the margin, not the whole inbox
            table.focus()
            await until(pilot, lambda: table.selected_id == ids[-1], what="the newest capture first")

            assert await walk(pilot, screen, "pagedown", ids[0]) == set(ids)  # down to the oldest, page by page
            assert screen.at_end and not screen.at_head and "of 5,000 open" in summary(app)

            await pilot.press("g")  # the newest page, asked for again
            await until(pilot, lambda: table.selected_id == ids[-1] and screen.at_head, what="g to reach the newest")
            await pilot.press("G")  # the oldest page, without walking there
            await until(pilot, lambda: table.selected_id == ids[0] and screen.at_end, what="G to reach the oldest")
            assert "of 5,000 open" in summary(app) and len(table.captures) < 1000

            assert await walk(pilot, screen, "pageup", ids[-1]) == set(ids)  # and back up to the newest
            assert screen.at_head

            with daemon.client() as conn:  # at the top again, a new capture joins the window
                conn.call("capture.add", {"text": "one more", "source": "cli"})
            await until(pilot, lambda: "of 5,001 open" in summary(app)
                        and any(c.text == "one more" for c in table.captures.values()), what="a new capture on top")
    finally:
        await asyncio.to_thread(daemon.stop)
