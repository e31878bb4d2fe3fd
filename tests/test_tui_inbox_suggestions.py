"""The Inbox shows the triage agent's suggestions; Enter accepts a pre-selected one, y any one, m/p/x still choose.

Driven headless through Pilot against a real daemon whose triage agent runs only when the test says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import DaemonProcess, until, write_config
from oxymus.tui.app import create_app
from oxymus.tui.screens.inbox import InboxScreen
from oxymus.tui.screens.today import TodayScreen
from oxymus.tui.widgets.capture_table import SuggestionLine

SIZE = (120, 32)
CONFIG = """[llm]
enabled = false

[agents.triage]
enabled = false

[plans]
file = "PLANS.md"
"""
SURE = "buy oat milk"  # a next action, 0.80: pre-selected
UNSURE = "thought about local-first sync"  # a memory fact, 0.35: shown, not pre-selected


@pytest.fixture
def daemon(profile):
    write_config(profile, CONFIG)
    Path(profile.config_dir, "PLANS.md").write_text("# Plans\n\n## Next actions\n\n- [ ] Release 0.2\n")
    d = DaemonProcess(profile).start()
    yield d
    d.stop()


def screen(app) -> InboxScreen:
    s = app.screen_stack[0]
    assert isinstance(s, InboxScreen)
    return s


def cells(app) -> dict[str, tuple[str, ...]]:
    """Each row's cells by its capture text."""
    table = screen(app).table
    rows = [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
    return {row[1]: row for row in rows}


def line(app) -> str:
    widget = screen(app).query_one("#inbox-suggestion", SuggestionLine)
    return str(widget.render()) if widget.display else ""


async def open_inbox(pilot, rows: int):
    app = pilot.app
    await until(pilot, lambda: app.connection.connected, what="the connection")
    assert isinstance(app.screen_stack[0], TodayScreen)
    await pilot.press("2")
    await until(pilot, lambda: isinstance(app.screen_stack[0], InboxScreen) and screen(app).table.row_count == rows,
                what="the inbox")


async def select(pilot, text: str):
    table = screen(pilot.app).table
    index = next(i for i in range(table.row_count) if str(table.get_row_at(i)[1]) == text)
    table.move_cursor(row=index)
    await until(pilot, lambda: table.selected_id is not None and str(table.get_row_at(table.cursor_row)[1]) == text,
                what=f"the cursor on {text!r}")


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_preselected_suggestion_is_accepted_with_one_key_and_an_unsure_one_is_not(daemon, profile):
    with daemon.client() as c:
        sure = c.call("capture.add", {"text": SURE})["capture"]["id"]
        unsure = c.call("capture.add", {"text": UNSURE})["capture"]["id"]
        c.call("agents.run", {"name": "triage"})
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_inbox(pilot, 2)
        await until(pilot, lambda: len(cells(app)[SURE]) == 3, what="the suggestion column")
        assert cells(app)[SURE][2] == "★ next action “Buy oat milk” in Next actions 0.80"
        assert cells(app)[UNSURE][2].startswith("· memory fact") and cells(app)[UNSURE][2].endswith("0.35")
        assert str(screen(app).query_one("#summary").render()) == "2 open, 1 ★ ready"

        # The unsure one: shown, not the default. Enter only says so.
        await select(pilot, UNSURE)
        await until(pilot, lambda: line(app).startswith("· Maybe (0.35): memory fact"), what="the suggestion line")
        assert "y accepts it anyway" in line(app)
        await pilot.press("enter")
        await until(pilot, lambda: any("Not pre-selected" in m for m in messages(app)), what="the hint")
        assert UNSURE in cells(app)

        # The sure one: Enter accepts it; it leaves the inbox and lands in PLANS.md.
        await select(pilot, SURE)
        await until(pilot, lambda: line(app).startswith("★ Suggested (0.80): next action"), what="the suggestion line")
        assert "Enter accepts it" in line(app)
        await pilot.press("enter")
        await until(pilot, lambda: SURE not in cells(app), what="the accepted capture to leave")
        await until(pilot, lambda: any(m == "added to Next actions: Buy oat milk" for m in messages(app)), what="the summary")
        assert "- [ ] Buy oat milk" in Path(profile.config_dir, "PLANS.md").read_text()

        # y accepts the unsure one on purpose.
        await select(pilot, UNSURE)
        await pilot.press("y")
        await until(pilot, lambda: screen(app).table.row_count == 0, what="the inbox to empty")
    with daemon.client() as c:
        links = c.call("inbox.list", {"status": "triaged"})["links"]
    assert links[sure][0]["target_kind"] == "plan_action" and links[unsure][0]["target_kind"] == "memory"


async def test_suggestions_arrive_live_and_m_p_x_still_choose(daemon):
    with daemon.client() as c:
        c.call("capture.add", {"text": SURE})
        c.call("capture.add", {"text": "asdf"})
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_inbox(pilot, 2)
        assert all(len(row) == 2 for row in cells(app).values())  # no suggestions yet: no column
        await pilot.press("enter")
        await until(pilot, lambda: any("No suggestion for this capture yet" in m for m in messages(app)), what="the hint")
        with daemon.client() as c:
            c.call("agents.run", {"name": "triage"})
        await until(pilot, lambda: all(len(row) == 3 for row in cells(app).values()), what="the suggestions, live")
        assert cells(app)["asdf"][2].startswith("★ archive (noise)")
        # Choosing differently: x archives the pre-selected next action instead of accepting it.
        await select(pilot, SURE)
        await pilot.press("x")
        await until(pilot, lambda: SURE not in cells(app), what="the archived capture to leave")
        await select(pilot, "asdf")
        await pilot.press("enter")
        await until(pilot, lambda: screen(app).table.row_count == 0, what="the inbox to empty")
    with daemon.client() as c:
        assert c.call("inbox.list", {"status": "archived"})["captures"][0]["text"] in (SURE, "asdf")
        assert len(c.call("inbox.list", {"status": "archived"})["captures"]) == 2


async def test_at_80_columns_the_row_says_the_suggestions_kind_and_the_pane_says_it_whole(daemon):
    """A title cut to a dozen letters ("next action “Buy o…") says less than its kind; the capture gets the room."""
    long = "ask the landlord about the heating before the cold weekend and the bill"
    with daemon.client() as c:
        for text in (SURE, UNSURE, long):
            c.call("capture.add", {"text": text})
        c.call("agents.run", {"name": "triage"})
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_inbox(pilot, 3)
        await until(pilot, lambda: len(cells(app)[SURE]) == 3, what="the suggestion column")
        assert cells(app)[SURE][2] == "★ next action 0.80"
        assert cells(app)[UNSURE][2] == "· memory fact 0.35"
        assert all("…" not in row[2] for row in cells(app).values()), cells(app)
        assert long[:40] in next(t for t in cells(app) if t.startswith(long[:20])), "the capture has the room the titles left"
        await select(pilot, SURE)
        await until(pilot, lambda: line(app).startswith("★ Suggested (0.80): next action “Buy oat milk” in Next actions"),
                    what="the whole suggestion below the table")
