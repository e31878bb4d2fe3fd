"""Toasts never cover the row the person acts on: through Pilot, with a real daemon and a long inbox, the
focused table's cursor row (at the top, in the middle, at the bottom of the screen) is under no toast."""

from __future__ import annotations

import pytest
from conftest import DaemonProcess, seed_captures, until
from textual.widgets import DataTable
from textual.widgets._toast import Toast

from oxymus.tui import toasts
from oxymus.tui.app import create_app
from oxymus.tui.screens.inbox import InboxScreen

ROWS = 40


@pytest.fixture
def long_inbox(profile):
    seed_captures(profile, ROWS, "a thought worth keeping, number {i}")
    d = DaemonProcess(profile).start()
    yield d
    d.stop()


def shown_toasts(app) -> list:
    return [t for t in app.screen.query(Toast) if t.region.height]


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
@pytest.mark.parametrize("keys", [(), ("j",) * 6, ("G",)], ids=["top", "middle", "bottom"])
async def test_a_toast_never_covers_the_cursor_row_of_the_focused_table(long_inbox, size, keys):
    app = create_app(long_inbox.paths, start_daemon=False)
    async with app.run_test(size=size, notifications=True) as pilot:  # run_test hides toasts unless asked
        await until(pilot, lambda: app.connection.connected, what="the connection")
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, InboxScreen) and app.screen.table.row_count == ROWS,
                    what="the inbox")
        table = app.focused
        assert isinstance(table, DataTable)
        await pilot.press(*keys)
        for n in range(3):  # a stack of them, as a burst of answers brings
            app.notify(f"Something happened, number {n}, worth two lines of a toast to say it all", title="Told")
        await until(pilot, lambda: len(shown_toasts(app)) == 3, what="three toasts shown")
        await pilot.pause()
        row = toasts.cursor_region(table)
        assert row is not None and table.region.contains_region(row), "the cursor row is on the screen"
        on_top = {app.get_widget_at(x, row.y)[0] for x in range(row.x, row.right)}  # what the screen shows there
        covering = [w for w in on_top if w is not table and table not in w.ancestors]  # its scrollbar is the table's
        assert covering == [], f"cursor row {row} is under {covering}"
        # Flush with the screen's right edge: no column of the screen under it shows beside it.
        assert {t.region.right for t in shown_toasts(app)} == {size[0]}


def test_the_missed_toast_is_three_lines_on_a_small_screen_and_names_more_on_a_tall_one():
    titles = ("Approve? 3 requests from intake", "Overdue: Domain renewal oxymus.dev 12.00 EUR (due Fri 4 Dec)")
    title, text = toasts.for_missed(5, titles, 80, 24)
    assert title == "5 missed notifications"
    assert text.splitlines() == ["· Approve? 3 requests from intake", "and 4 more · R: the morning review"]
    assert all(len(line) <= 36 for line in text.splitlines())
    assert toasts.for_missed(1, titles[:1], 80, 24) == ("1 missed notification",
                                                         "· Approve? 3 requests from intake\nR: the morning review lists it")
    title, text = toasts.for_missed(5, titles, 200, 60)
    assert title == "Missed notifications"
    assert text.splitlines() == ["5 could not be shown (no desktop, no TUI open)", "· Approve? 3 requests from intake",
                                 "· Overdue: Domain renewal oxymus.dev 12.00 EUR (due Fri…", "  and 3 more",
                                 "R: the morning review lists them all"]
