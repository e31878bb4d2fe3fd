"""The TUI's keys, through Pilot against a real daemon: lists (j/k/g/G/Home/End), `/` and Escape in the
search and filter boxes, the digits while Memory's search has the focus, `?` (the keys of the screen in
front), the command palette, `d`/`D` in Approvals, and the footer at 80 columns.

The daemon is seeded as any client would (captures, `memory.add`, `actions.propose` under a policy that
makes every `plans.edit` wait); what a key decided is checked in the daemon's store. Nothing sleeps to wait
for state: `until` polls a condition with a deadline.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from conftest import PLANS_NEED_ME, DaemonProcess, seed_captures, until, write_config
from textual.command import CommandPalette
from textual.widgets import DataTable, Input
from textual.widgets._footer import FooterKey

import oxymus.tui
from oxymus.tui.app import SECTIONS, OxymusApp, create_app
from oxymus.tui.commands import palette_commands
from oxymus.tui.screens.activity import ActivityScreen
from oxymus.tui.screens.approvals import ApprovalsScreen
from oxymus.tui.screens.help import HelpScreen
from oxymus.tui.screens.inbox import InboxScreen
from oxymus.tui.screens.line_input import LineInputScreen
from oxymus.tui.screens.memory import MemoryScreen, SearchInput
from oxymus.tui.widgets.nav_table import NavTable

SIZE = (80, 24)
POLICY = PLANS_NEED_ME
CAPTURES = 5


@pytest.fixture
def seeded(profile):
    """A daemon with 5 open captures, 3 memory records and 2 actions waiting for approval."""
    write_config(profile, "")
    Path(profile.policy_file).write_text(POLICY)
    seed_captures(profile, CAPTURES)
    d = DaemonProcess(profile).start()
    with d.client() as conn:
        for title in ("Alpha note", "Beta note", "Gamma note"):
            conn.call("memory.add", {"record": {"kind": "fact", "title": title, "body": "", "tier": "warm", "tags": []}})
        d.waiting = [propose(conn, text) for text in ("Buy milk", "Call Ana")]
    yield d
    d.stop()


def propose(conn, text: str) -> str:
    action = conn.call("actions.propose", {"kind": "plans.edit", "payload": {"op": "add_action", "text": text}})["action"]
    assert action["status"] == "awaiting_approval", action
    return action["id"]


def stored(d: DaemonProcess, action_id: str) -> dict:
    with d.client() as conn:
        return conn.call("actions.get", {"id": action_id})


async def connected(pilot) -> OxymusApp:
    app = pilot.app
    await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
    return app


async def section(pilot, key: str, kind: type, ready=lambda s: True):
    app = pilot.app
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, kind) and ready(app.screen), what=f"{kind.__name__} ready")
    return app.screen


def memory_ready(screen: MemoryScreen) -> bool:
    return screen.searched and screen.table.row_count == 3


def approvals_ready(screen: ApprovalsScreen) -> bool:
    return screen.loaded and screen.table.row_count == 2


# ---- lists ---------------------------------------------------------------------------------------


def test_every_table_of_the_tui_is_a_nav_table():
    """One list mechanism: a DataTable anywhere in the TUI that is not a NavTable would lack j/k/g/G."""
    for info in pkgutil.walk_packages(oxymus.tui.__path__, "oxymus.tui."):
        importlib.import_module(info.name)
    tables = set()
    todo = [DataTable]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("oxymus.tui."):
                tables.add(sub)
    assert len(tables) >= 7, tables  # NavTable and the six lists
    assert all(issubclass(t, NavTable) for t in tables), [t for t in tables if not issubclass(t, NavTable)]


async def test_j_k_g_G_home_end_in_the_inbox_and_approvals(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        inbox = await section(pilot, "2", InboxScreen, lambda s: s.table.row_count == CAPTURES)
        table = inbox.table
        assert table.has_focus and table.cursor_row == 0
        moves = [("j", 1), ("j", 2), ("k", 1), ("G", CAPTURES - 1), ("g", 0), ("end", CAPTURES - 1), ("home", 0),
                 ("k", 0)]
        for key, row in moves:
            await pilot.press(key)
            assert table.cursor_row == row, f"after {key}"
        approvals = await section(pilot, "5", ApprovalsScreen, approvals_ready)
        assert approvals.table.selected_id == seeded.waiting[0]
        await pilot.press("G")
        await until(pilot, lambda: approvals.detail_for == seeded.waiting[1], what="the last action's story followed")
        await pilot.press("g")
        await until(pilot, lambda: approvals.detail_for == seeded.waiting[0], what="the first action's again")


async def test_j_k_in_memory_results_and_k_on_the_first_goes_back_to_the_search(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = await section(pilot, "3", MemoryScreen, memory_ready)
        await pilot.press("down")
        assert screen.table.has_focus and screen.table.cursor_row == 0
        await pilot.press("j", "j")
        assert screen.table.cursor_row == 2
        await pilot.press("g")
        assert screen.table.cursor_row == 0
        await pilot.press("k")
        box = screen.query_one("#memory-query", SearchInput)
        assert box.has_focus and not box.armed
        await pilot.press("6")  # not chosen: the digit still switches
        await until(pilot, lambda: isinstance(app.screen, ActivityScreen), what="Activity")


# ---- Memory's search: digits, `/`, Escape -------------------------------------------------------------


async def test_digits_switch_sections_until_the_memory_search_is_chosen_and_escape_leaves_it(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = await section(pilot, "3", MemoryScreen, memory_ready)
        box = screen.query_one("#memory-query", SearchInput)
        assert box.has_focus and not box.armed, "the section opened: the focus is there, not chosen"
        await pilot.press("4")
        await until(pilot, lambda: app.current_mode == "plans", what="4 switched to Plans")
        await pilot.press("3")
        await until(pilot, lambda: app.screen is screen and box.has_focus, what="back in Memory")
        assert box.value == ""
        await pilot.press("slash")
        assert box.armed and box.value == "", "/ chooses the box and is not typed"
        await pilot.press("4", "5", "6")
        assert box.value == "456" and app.current_mode == "memory"
        await until(pilot, lambda: screen.last_search.query == "456" and not screen.table.display, what="nothing found")
        await pilot.press("escape")
        assert app.focused is None, "no list shown: Escape leaves the box for the screen itself"
        assert not box.armed and app.current_mode == "memory" and app.is_running
        await pilot.press("2")
        await until(pilot, lambda: app.current_mode == "inbox", what="2 switched to the Inbox after Escape")


async def test_escape_in_the_memory_search_goes_to_the_results(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = await section(pilot, "3", MemoryScreen, memory_ready)
        await pilot.press("slash", "n", "o", "t", "e")
        await until(pilot, lambda: screen.last_search is not None and screen.last_search.query == "note"
                    and screen.table.row_count == 3, what="the search for 'note'")
        await pilot.press("escape")
        assert screen.table.has_focus
        await pilot.press("escape", "escape")  # nothing to leave: nothing happens, nothing quits
        assert app.is_running and app.current_mode == "memory"


async def test_typing_or_clicking_into_the_memory_search_chooses_it(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = await section(pilot, "3", MemoryScreen, memory_ready)
        box = screen.query_one("#memory-query", SearchInput)
        await pilot.press("n", "4")
        assert box.value == "n4" and app.current_mode == "memory", "typing a word chose the box"
        await pilot.press("escape")
        assert not box.armed
        await pilot.click("#memory-query")
        assert box.has_focus and box.armed
        await pilot.press("end", "5")
        assert box.value == "n45" and app.current_mode == "memory"


async def test_slash_focuses_the_activity_filter_and_escape_clears_it_and_returns_to_the_rows(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = await section(pilot, "6", ActivityScreen, lambda s: s.loaded and s.table.row_count > 0)
        await pilot.press("slash")
        box = screen.query_one("#activity-filter", Input)
        assert box.has_focus
        await pilot.press("z", "z", "z", "1")  # matches nothing; the digit types (the box was chosen)
        await until(pilot, lambda: screen.table.row_count == 0, what="no row matches")
        assert box.value == "zzz1" and app.current_mode == "activity"
        await pilot.press("escape")
        await until(pilot, lambda: screen.table.has_focus and screen.table.row_count > 0, what="the rows back, focused")
        assert box.value == "" and not box.display


async def test_escape_never_quits_on_any_section(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        for s in SECTIONS:
            await pilot.press(s.key)
            await until(pilot, lambda: app.current_mode == s.name, what=s.label)
            await pilot.press("escape", "escape")
            assert app.is_running and app.current_mode == s.name


# ---- `?` ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key, kind", [("5", ApprovalsScreen), ("3", MemoryScreen), ("6", ActivityScreen)])
async def test_question_mark_lists_every_binding_of_the_screen_in_front(seeded, key, kind):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = await section(pilot, key, kind)
        if kind is MemoryScreen:
            await pilot.press("escape")  # `?` would pass through the unchosen box too; from the screen itself here
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        text = app.screen.text
        for binding in kind.BINDINGS:
            assert (binding.tooltip or binding.description) in text, binding
        for heading in (screen.help_title, "Lists", "Every section"):
            assert heading in text
        for what in ("Capture a thought", "Go to Approvals", "Next row", "Last row", "Command palette"):
            assert what in text
        if kind is ApprovalsScreen:
            assert "Deny at once" in text and "Deny, saying why" in text
        if kind is MemoryScreen:
            assert "In the search box" in text and "Leave the box" in text
        for close in ("escape", "question_mark", "q"):
            await pilot.press(close)
            await until(pilot, lambda: app.screen is screen, what=f"{close} closed the help")
            assert app.is_running
            if close != "q":
                await pilot.press("question_mark")
                await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help again")


async def test_the_help_scrolls_at_80x24_with_its_hint_on_screen(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await section(pilot, "5", ApprovalsScreen, approvals_ready)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        help_ = app.screen
        hint = help_.query_one("#help-hint").region
        assert hint.height == 1 and hint.bottom <= SIZE[1] and hint.y > 0
        scroll = help_.query_one("#help-scroll")
        assert scroll.max_scroll_y > 0, "at 80x24 the keys are more than the dialog shows"
        await pilot.press("G")
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("k")
        assert scroll.scroll_y == scroll.max_scroll_y - 1
        await pilot.press("g")
        assert scroll.scroll_y == 0


# ---- the command palette ------------------------------------------------------------------------------


async def palette(pilot, text: str, expect: str) -> list[str]:
    """Open the palette, type `text`, wait for a hit named `expect`; returns each hit as "name\nhelp"."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
    await pilot.press(*text)
    options = app.screen.query_one("CommandList")

    def hits() -> list[str]:
        return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]

    await until(pilot, lambda: expect in [h.splitlines()[0] for h in hits()], what=f"{expect!r} among the hits")
    return hits()


async def test_the_palette_finds_approvals_and_approves_the_selected_action(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = await section(pilot, "5", ApprovalsScreen, approvals_ready)
        hits = await palette(pilot, "appro", "Approve selected action")
        names = [h.splitlines()[0] for h in hits]
        assert "Approvals" in names and "Approve selected action" in names
        assert any("Buy milk" in h for h in hits), "the help line names the action it approves"
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="the palette closed")
        hits = await palette(pilot, "approve sel", "Approve selected action")
        assert hits[0].startswith("Approve selected action"), hits
        await pilot.press("enter")
        await until(pilot, lambda: stored(seeded, seeded.waiting[0])["action"]["status"] != "awaiting_approval",
                    what="the approval stored")
        detail = stored(seeded, seeded.waiting[0])
        assert [(a["decision"], a["via"]) for a in detail["approvals"]] == [("approved", "tui")]
        assert stored(seeded, seeded.waiting[1])["action"]["status"] == "awaiting_approval"


async def test_the_palette_offers_every_section_and_the_app_commands(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        names = [c.name for c in palette_commands(app, app.screen)]
        for s in SECTIONS:
            assert s.label in names
        for name in ("Capture a thought", "Pause automation", "Refresh every source", "Search memory",
                     "Approve selected action", "Deny selected action", "Deny selected action with a reason",
                     "Keys of this screen", "Filter the activity log", "Add a next action"):
            assert name in names
        assert "Today: Refresh" in names, "the keys of the screen in front are offered too"


async def test_search_memory_from_the_palette_opens_memory_with_the_search_chosen(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        hits = await palette(pilot, "search mem", "Search memory")
        assert hits[0].startswith("Search memory"), hits
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen), what="Memory")
        box = app.screen.query_one("#memory-query", SearchInput)
        await until(pilot, lambda: box.has_focus and box.armed, what="the search chosen")
        await pilot.press("1")
        assert box.value == "1" and app.current_mode == "memory"


# ---- d and D ------------------------------------------------------------------------------------------


async def test_d_denies_at_once_and_shift_d_asks_why(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = await section(pilot, "5", ApprovalsScreen, approvals_ready)
        first, second = seeded.waiting
        await pilot.press("d")
        assert app.screen is screen, "no dialog"
        await until(pilot, lambda: screen.table.row_count == 1 and "denied" in screen.line_text, what="the denial")
        detail = stored(seeded, first)
        assert detail["action"]["status"] == "denied"
        assert [(a["decision"], a["via"], a["reason"]) for a in detail["approvals"]] == [("denied", "tui", None)]
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, LineInputScreen), what="the reason dialog")
        await pilot.press(*"not now", "enter")
        await until(pilot, lambda: stored(seeded, second)["action"]["status"] == "denied", what="the second denial")
        assert [(a["decision"], a["reason"]) for a in stored(seeded, second)["approvals"]] == [("denied", "not now")]


# ---- the footer ---------------------------------------------------------------------------------------


async def test_the_footer_fits_80_columns_and_every_key_in_it_has_an_action(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        for s in SECTIONS:
            await pilot.press("escape")  # Memory's box would take the digit once typed into; leave it first
            await pilot.press(s.key)
            await until(pilot, lambda: app.current_mode == s.name, what=s.label)
            if s.name == "memory":
                await until(pilot, lambda: memory_ready(app.screen), what="the results")
            await until(pilot, lambda: any(k.has_class("-command-palette") for k in app.screen.query(FooterKey)),
                        what=f"the footer of {s.label}")  # the footer composes its keys after the screen mounts
            await until(pilot, lambda: all(k.region.width > 0 for k in app.screen.query(FooterKey)),
                        what=f"the footer of {s.label} laid out")  # and lays them out on a later refresh
            keys = list(app.screen.query(FooterKey))
            palette_key = next(k for k in keys if k.has_class("-command-palette"))
            shown = [k for k in keys if not k.has_class("-command-palette")]
            assert any(k.key == "question_mark" for k in shown), f"? in the footer of {s.label}"
            for key in shown:
                assert key.region.width > 0 and key.region.right <= palette_key.region.x, (
                    f"{s.label}: {key.key} {key.description} is cut")
                active = app.screen.active_bindings[key.key]
                name = active.binding.action.split("(")[0]
                assert hasattr(active.node, f"action_{name}"), f"{s.label}: {key.key} does nothing"
