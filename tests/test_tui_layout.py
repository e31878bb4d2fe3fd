"""What a person reads on the Inbox, Approvals and Activity screens and the status bar, at 80x24 and 200x60:
whole texts, columns that share the width, ages that tick, lines that follow what happens, against a real
daemon. The screen's text is read as drawn (`drawn`), never from the widgets' data alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PLANS_NEED_ME, DaemonProcess, run_cli, start_daemon, until, wait_for, write_config
from textual.geometry import Region

from oxymus.tui.app import OxymusApp, create_app
from oxymus.tui.screens.approvals import ApprovalsScreen

SMALL, LARGE = (80, 24), (200, 60)
POLICY = PLANS_NEED_ME
LONG_ACTION = "Write to the landlord about the broken heating in the bathroom"


def drawn(app: OxymusApp) -> list[str]:
    """The screen as the person sees it, one string per terminal line."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


@pytest.fixture
def waiting_daemon(profile):
    d = start_daemon(profile)
    yield d
    d.stop()


def propose(d: DaemonProcess, text: str) -> dict:
    """A plans.edit waiting for approval, once the notification asking about it has run (its events are logged too)."""
    with d.client() as conn:
        action = conn.call("actions.propose", {"kind": "plans.edit", "payload": {"op": "add_action", "text": text},
                                               "reason": "test"})["action"]
        wait_for(lambda: any(n["decides"] == action["id"] and n["state"] != "pending"
                             for n in conn.call("notifications.list", {"all": True})["notifications"]),
                 what="the approval's notification")
    assert action["status"] == "awaiting_approval", action
    return action


async def open_approvals(pilot, count: int) -> ApprovalsScreen:
    app: OxymusApp = pilot.app
    await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
    await pilot.press("5")
    await until(pilot, lambda: isinstance(app.screen, ApprovalsScreen) and app.screen.loaded
                and app.screen.table.row_count == count, what=f"{count} waiting action(s)")
    await pilot.pause()
    return app.screen


# ---- Approvals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_approvals_show_the_summary_and_the_proposer_and_the_footer_keeps_undo(waiting_daemon, size):
    summary = propose(waiting_daemon, "Buy milk")["preview"]["summary"]
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=size) as pilot:
        screen = await open_approvals(pilot, 1)
        widths = screen.table.widths()
        lines = drawn(app)
        row = next(line for line in lines if line.startswith(" low "))
        # The summary takes the slack of the row; the preview under (or beside) the queue says it whole.
        assert summary[:30] in row and widths["summary"] >= 30, row
        assert " user " in row
        assert any(summary in line and not line.startswith(" low ") for line in lines), "the whole summary in the preview"
        footer = lines[-1]
        assert "u Undo" in footer and "a Approve" in footer and "e Edit" in footer, footer
        if size == LARGE:
            # The row whole: the queue keeps the full width (its preview and story below have the height).
            assert "Kind" in lines[1] and summary in row and "…" not in row


async def test_approvals_by_is_whole_at_200_columns(profile):
    # An agent's label is longer than "user": at 200 columns it is never cut.
    d = start_daemon(profile)
    try:
        with d.client() as conn:
            conn.call("actions.propose", {"kind": "plans.edit", "payload": {"op": "add_action", "text": LONG_ACTION},
                                          "reason": "test", "proposer": {"type": "agent", "name": "reflection-and-review"}})
        app = create_app(d.paths, start_daemon=False)
        async with app.run_test(size=LARGE) as pilot:
            screen = await open_approvals(pilot, 1)
            by = str(screen.table.get_row_at(0)[3])
            assert by == "agent:reflection-and-review"
            row = next(line for line in drawn(app) if "agent:" in line)
            assert "agent:reflection-and-review" in row and LONG_ACTION in row and "…" not in row, row
    finally:
        d.stop()


async def test_approvals_by_says_the_agents_name_when_its_label_would_be_cut(profile):
    d = start_daemon(profile)
    try:
        with d.client() as conn:
            for name in ("intake", "reflection", "publisher"):
                conn.call("actions.propose", {"kind": "plans.edit", "payload": {"op": "add_action", "text": f"from {name}"},
                                              "reason": "test", "proposer": {"type": "agent", "name": name}})
        app = create_app(d.paths, start_daemon=False)
        async with app.run_test(size=SMALL) as pilot:
            screen = await open_approvals(pilot, 3)
            column = screen.table.get_column_index("by")
            assert sorted(str(screen.table.get_row_at(i)[column]) for i in range(3)) == ["intake", "publisher", "reflection"]
            assert not any("agent:" in line for line in drawn(app)[:5])
    finally:
        d.stop()


async def test_ages_tick_as_the_apps_clock_advances(waiting_daemon):
    propose(waiting_daemon, "Buy milk")
    now = [__import__("time").time()]
    app = create_app(waiting_daemon.paths, start_daemon=False, clock=lambda: now[0])
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_approvals(pilot, 1)
        age = lambda: str(screen.table.get_row_at(0)[screen.table.get_column_index("age")])  # noqa: E731
        assert age() in ("0s", "1s", "2s")
        asked = app.connection.live.ticket  # nothing is refetched for an age
        before = {name: asked(q) for name, q in app.connection.live.queries.items()}
        now[0] += 7 * 60
        await until(pilot, lambda: age().startswith("7m"), what="the age to tick to 7 minutes")
        assert {name: asked(q) for name, q in app.connection.live.queries.items()} == before
        assert any(age() in line for line in drawn(app))


async def test_an_approved_actions_line_follows_it_to_done(profile):
    d = start_daemon(profile, policy='[settings]\nundo_grace = "1s"\n\n' + POLICY)
    try:
        propose(d, "Buy milk")
        app = create_app(d.paths, start_daemon=False)
        async with app.run_test(size=SMALL) as pilot:
            screen = await open_approvals(pilot, 1)
            await pilot.press("a")
            # With a 1 s grace a loaded machine may show "done" before a poll sees "approved": either is the approval.
            await until(pilot, lambda: "approved" in screen.line_text or screen.line_text.startswith("done: "), what="the approval")
            await until(pilot, lambda: screen.line_text.startswith("done: "), what="the line to say it is done")
            assert any(line.strip().startswith("done: ") for line in drawn(app))
    finally:
        d.stop()


async def test_snoozed_actions_are_counted_apart_from_waiting_ones(waiting_daemon):
    first = propose(waiting_daemon, "Buy milk")["id"]
    propose(waiting_daemon, "Buy bread")
    propose(waiting_daemon, "Buy eggs")
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
        await until(pilot, lambda: app.screen.status_bar.attention == "3 waiting", what="three waiting")
        with waiting_daemon.client() as conn:
            conn.call("actions.snooze", {"id": first, "until": "2h"})
        await until(pilot, lambda: app.screen.status_bar.attention == "2 waiting · 1 snoozed", what="one snoozed apart")
        assert any("2 waiting · 1 snoozed" in line for line in drawn(app))
    # A new TUI learns it from `status`, not from the event; so does `oxymus status`.
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: app.screen.status_bar.attention == "2 waiting · 1 snoozed", what="the count at connect")
    assert "approvals: 2 waiting, 1 snoozed (`oxymus approvals`)" in run_cli("status").stdout.decode()


# ---- Inbox --------------------------------------------------------------------------------------

INBOX_CONFIG = '[llm]\nenabled = false\n[agents.triage]\nenabled = false\n[plans]\nfile = "PLANS.md"\n'
LONG_CAPTURE = ("Read the SQLite WAL documentation again before changing the checkpoint settings, "
                "and write down which pragmas the daemon sets at start.\nAlso check what happens on a full disk "
                "while a checkpoint runs, and whether the backup API copes with it.")


def widget_text(widget) -> str:
    """The words a widget draws, its lines joined (a wrapped text reads as one)."""
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return " ".join(" ".join(strip.text.split()) for strip in strips).strip()


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_the_inbox_shows_the_whole_capture_and_its_whole_suggestion(profile, size):
    from oxymus.tui.screens.inbox import InboxScreen

    write_config(profile, INBOX_CONFIG)
    Path(profile.config_dir, "PLANS.md").write_text("# Plans\n\n## Next actions\n\n- [ ] Release 0.2\n")
    d = DaemonProcess(profile).start()
    try:
        with d.client() as c:
            c.call("capture.add", {"text": "buy oat milk"})
            c.call("capture.add", {"text": LONG_CAPTURE})
            c.call("agents.run", {"name": "triage"})
            label = next(s["label"] for s in c.call("inbox.list", {})["suggestions"].values()
                         if s["label"].startswith("next action “Read the SQLite"))
        app = create_app(d.paths, start_daemon=False)
        async with app.run_test(size=size) as pilot:
            await until(pilot, lambda: app.connection.connected, what="the connection")
            await pilot.press("2")
            screen = app.screen
            assert isinstance(screen, InboxScreen)
            await until(pilot, lambda: screen.table.row_count == 2 and len(screen.table.columns) == 3, what="the inbox")
            await until(pilot, lambda: "Read the SQLite" in widget_text(screen.query_one("#inbox-capture")),
                        what="the newest capture in the detail pane")
            await pilot.pause()
            capture = widget_text(screen.query_one("#inbox-capture"))
            assert " ".join(LONG_CAPTURE.split()) in capture, capture
            suggestion = widget_text(screen.query_one("#inbox-suggestion"))
            assert label in suggestion and "Enter accepts it" in suggestion, suggestion
            widths = screen.table.widths()
            # The titles do not fit beside these captures: the column says each kind whole, the pane the title.
            assert widths["text"] > widths["suggestion"] >= len("★ next action 0.80")
            lines = drawn(app)
            if size == LARGE:
                # Beside the table, not under it: one terminal line holds a row and the capture's first words.
                assert any(line.startswith(" 20") and "│ Read the SQLite WAL" in line for line in lines), "\n".join(lines[:6])
            else:
                # Under the table, and the footer still whole below the pane.
                assert lines[-1].lstrip().startswith("m Memory") and "? Keys" in lines[-1], lines[-1]
    finally:
        d.stop()


# ---- Activity -----------------------------------------------------------------------------------


async def open_activity(pilot, rows: int):
    from oxymus.tui.screens.activity import ActivityScreen

    app: OxymusApp = pilot.app
    await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
    await pilot.press("6")
    await until(pilot, lambda: isinstance(app.screen, ActivityScreen) and app.screen.loaded
                and app.screen.table.row_count == rows, what=f"{rows} rows of the log ({app.screen.table.row_count})")
    await pilot.pause()
    return app.screen


def row_index(table, predicate) -> int:
    return next(i for i in range(table.row_count) if predicate([str(c) for c in table.get_row_at(i)]))


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_activity_folds_quiet_runs_and_enter_expands_them_or_opens_a_trace(waiting_daemon, size):
    with waiting_daemon.client() as conn:
        for _ in range(3):
            run = conn.call("agents.run", {"name": "sentinel"})
            assert run["outcome"] == "succeeded", run
    action = propose(waiting_daemon, LONG_ACTION)
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=size) as pilot:
        # Three quiet runs (six events) are one row; the proposal's two events stand apart, and so do the
        # four of the notification that asked about it.
        screen = await open_activity(pilot, 7)
        table = screen.table
        lines = drawn(app)
        assert any("agent:sentinel" in line and "▸ 3 quiet runs" in line for line in lines), "\n".join(lines)
        assert not any("agent.started" in line for line in lines)
        # The note column has the room to say something: the proposal's summary, whole at 200 columns.
        widths = table.widths()
        assert widths["note"] >= 24
        summary = action["preview"]["summary"]
        proposed = next(line for line in lines if "action.proposed" in line and "notify" not in line)
        assert (summary if size == LARGE else summary[:20]) in proposed, proposed
        if size == LARGE:
            assert "Subject" in lines[1]  # (an id is shortened by design: 01M96QR3…NFZBP5)

        # Enter on the fold shows the runs; Enter again folds them.
        table.move_cursor(row=row_index(table, lambda cells: "quiet runs" in cells[2]))
        await pilot.press("enter")
        await until(pilot, lambda: table.row_count == 13, what="the quiet runs shown")
        assert "▾ 3 quiet runs" in str(table.get_row_at(table.cursor_row)[2])
        assert sum("agent.started" in line for line in drawn(app)) == 3
        await pilot.press("enter")
        await until(pilot, lambda: table.row_count == 7, what="the runs folded again")

        # Enter on the proposal opens its trace, from the trigger to the receipt.
        table.move_cursor(row=row_index(table, lambda cells: cells[2] == "action.proposed"))
        await pilot.press("enter")
        await until(pilot, lambda: screen.trace_id == action["trace_id"] and table.row_count == 6, what="the trace")
        verbs = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        # The request, then the notification that asked about it (the same trace).
        assert verbs == ["action.proposed", "action.awaiting_approval", "action.proposed", "action.approved",
                         "action.executing", "action.succeeded"]
        assert any(line.strip().startswith(f"Trace {action['trace_id']}") for line in drawn(app))
        await pilot.press("escape")
        await until(pilot, lambda: screen.trace_id is None and table.row_count == 7, what="back to the log")
