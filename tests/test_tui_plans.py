"""The Plans section (key 4) and inbox `p`, driven through Pilot against a real daemon.

PLANS.md is written with CRLF line endings into the profile and configured before
the daemon starts. Nothing sleeps to wait for state: `until` polls a condition.
"""

from __future__ import annotations

import pytest
from conftest import DaemonProcess, until, write_config
from textual.widgets import Input

from oxymus.tui.app import OxymusApp, create_app
from oxymus.tui.screens.inbox import InboxScreen
from oxymus.tui.screens.line_input import LineInputScreen
from oxymus.tui.screens.plans import EDIT as PLANS_EDIT
from oxymus.tui.screens.plans import PlansScreen

SIZE = (110, 34)
PLANS = (
    "# Plans\r\n\r\n## Goals\r\n- Ship the workshop\r\n\r\n## Next actions\r\n"
    "- [ ] Outline the workshop\r\n  - [ ] Draft the exercises\r\n- [ ] Café with Zoë ☕\r\n\r\n"
    "## Publishing order\r\n1. [draft] The eight layers — eight-layers\r\n2. [someday] Ideas\r\n"
)


@pytest.fixture
def plans_daemon(profile, home):
    plans_file = home / "notes" / "PLANS.md"
    plans_file.parent.mkdir()
    plans_file.write_bytes(PLANS.encode())
    write_config(profile, f'[plans]\nfile = "{plans_file}"\n')
    d = DaemonProcess(profile).start()
    yield d, plans_file
    d.stop()


def plain(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def action_rows(screen: PlansScreen) -> list[str]:
    table = screen.table
    return [table.get_row_at(i)[0].plain for i in range(table.row_count)]


def texts(screen: PlansScreen) -> list[tuple[str, bool]]:
    doc = screen.document
    return [(a.text, a.done) for a in doc.actions] if doc is not None else []


async def open_plans(pilot) -> PlansScreen:
    app: OxymusApp = pilot.app
    await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
    await pilot.press("4")
    await until(pilot, lambda: isinstance(app.screen, PlansScreen) and app.screen.document is not None,
                what="the plan")
    return app.screen


def select(screen: PlansScreen, text: str) -> None:
    action = next(a for a in screen.document.actions if a.text == text)
    screen.table.move_cursor(row=screen.table.get_row_index(action.id), animate=False)


def changed_lines(before: bytes, after: bytes) -> list[int]:
    a, b = before.split(b"\r\n"), after.split(b"\r\n")
    assert len(a) == len(b), "no line added or removed; CRLF kept"
    return [i for i, (x, y) in enumerate(zip(a, b)) if x != y]


async def test_plans_shows_goals_actions_proposals_and_unparsed(plans_daemon):
    d, plans_file = plans_daemon
    app = create_app(d.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plans(pilot)
        assert str(plans_file) in plain(screen, "#plans-path")
        assert "Ship the workshop" in plain(screen, "#plans-goals")
        rows = action_rows(screen)
        assert rows == ["Plans › Next actions", "[ ] Outline the workshop", "  [ ] Draft the exercises", "[ ] Café with Zoë ☕"]
        proposals = plain(screen, "#plans-proposals")
        assert "1. draft  The eight layers" in proposals
        unparsed = plain(screen, "#plans-unparsed")
        assert "Not understood (kept as written)" in unparsed and "line 13: 2. [someday] Ideas" in unparsed
        assert "someday" in unparsed.split("Ideas", 1)[1], "the reason is shown"
        assert not screen.query_one("#plans-error").display


async def test_space_checks_an_action_changing_only_its_line(plans_daemon):
    d, plans_file = plans_daemon
    app = create_app(d.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plans(pilot)
        select(screen, "Draft the exercises")
        await pilot.press("space")
        await until(pilot, lambda: ("Draft the exercises", True) in texts(screen), what="the action checked")
        after = plans_file.read_bytes()
        assert changed_lines(PLANS.encode(), after) == [7]
        assert after.split(b"\r\n")[7].startswith(b"  - [x] Draft the exercises (done ")
        assert "[x] Draft the exercises" in action_rows(screen)[2]
        assert screen.table.selected_id == screen.document.actions[1].id, "the cursor stays on the action"

        await pilot.press("space")  # and back
        await until(pilot, lambda: ("Draft the exercises", False) in texts(screen), what="the action unchecked")
        assert plans_file.read_bytes() == PLANS.encode()


async def test_an_edit_in_the_editor_shows_up_live(plans_daemon):
    d, plans_file = plans_daemon
    app = create_app(d.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plans(pilot)
        plans_file.write_bytes(PLANS.replace("Café with Zoë ☕", "Tea with Zoë").encode())
        await until(pilot, lambda: ("Tea with Zoë", False) in texts(screen), what="the external edit")
        assert "[ ] Tea with Zoë" in action_rows(screen)
        # A file the daemon cannot read: the error shows, the last good plan stays.
        plans_file.write_bytes(b"\xff\xfe not utf-8 \r\n")
        await until(pilot, lambda: screen.query_one("#plans-error").display, what="the error")
        assert "last version that could be read" in plain(screen, "#plans-error")
        assert "[ ] Tea with Zoë" in action_rows(screen)


async def test_a_adds_a_next_action(plans_daemon):
    d, plans_file = plans_daemon
    app = create_app(d.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plans(pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, LineInputScreen), what="the dialog")
        await pilot.press(*"Print the handouts", "enter")
        await until(pilot, lambda: ("Print the handouts", False) in texts(screen), what="the new action")
        assert b"- [ ] Print the handouts\r\n" in plans_file.read_bytes()
        assert "[ ] Print the handouts" in action_rows(screen)


async def test_a_stale_edit_is_refused_and_nothing_written(plans_daemon):
    d, plans_file = plans_daemon
    app = create_app(d.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plans(pilot)
        seen = screen.document
        target = next(a for a in seen.actions if a.text == "Outline the workshop")
        edited = PLANS.replace("Café with Zoë ☕", "Café with Zoë ☕ and Sam").encode()
        plans_file.write_bytes(edited)
        notified: list[str] = []
        original = screen.notify
        screen.notify = lambda message, **kw: (notified.append(str(message)), original(message, **kw))  # type: ignore[method-assign]
        # What space does, against the document the user was looking at (deterministic: an old sha).
        app.connection.live.send(PLANS_EDIT, op="set_done", action_id=target.id, done=True, expected_sha256=seen.sha256)
        await until(pilot, lambda: notified, what="the refusal")
        assert "changed on disk" in notified[0]
        assert plans_file.read_bytes() == edited, "nothing written"
        await until(pilot, lambda: ("Café with Zoë ☕ and Sam", False) in texts(screen), what="the reload")


async def test_inbox_p_makes_a_capture_a_next_action(plans_daemon):
    d, plans_file = plans_daemon
    with d.client() as conn:
        conn.call("capture.add", {"text": "Buy a projector adapter\nthe HDMI one", "source": "cli"})
    app = create_app(d.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, InboxScreen) and app.screen.table.row_count == 1,
                    what="the capture")
        inbox = app.screen
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, LineInputScreen), what="the dialog")
        field = app.screen.query_one("#line-input", Input)
        assert field.value == "Buy a projector adapter"
        field.value = "Buy an HDMI adapter"
        await pilot.press("enter")
        await until(pilot, lambda: inbox.table.row_count == 0 and not app.connection.inbox, what="the capture gone")
        assert b"- [ ] Buy an HDMI adapter\r\n" in plans_file.read_bytes()
        await pilot.press("4")
        await until(pilot, lambda: isinstance(app.screen, PlansScreen)
                    and ("Buy an HDMI adapter", False) in texts(app.screen), what="the action in the plan")


async def test_no_plan_yet_says_how_to_start_one(daemon):
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
        await pilot.press("4")
        await until(pilot, lambda: isinstance(app.screen, PlansScreen) and app.screen.result is not None, what="the answer")
        assert "does not exist yet" in plain(app.screen, "#plans-empty")
        assert "Press a" in plain(app.screen, "#plans-empty")
