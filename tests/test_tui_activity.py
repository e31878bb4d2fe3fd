"""The Activity section (key 6): the audit log, live, paged, filtered, and one trace followed,
through Pilot against a real daemon. Nothing sleeps to wait for state: `until` polls a condition.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from conftest import PLANS_NEED_ME, DaemonProcess, until, wait_for, write_config

from oxymus.models import AuditEvent
from oxymus.tui.app import OxymusApp, create_app
from oxymus.tui.link.messages import LogLoaded
from oxymus.tui.screens.activity import LOG_PAGE, ActivityScreen

SIZE = (130, 34)
POLICY = PLANS_NEED_ME


@pytest.fixture
def log_daemon(profile):
    write_config(profile, "")
    Path(profile.policy_file).write_text(POLICY)
    d = DaemonProcess(profile).start()
    yield d
    d.stop()


def propose(d: DaemonProcess, text: str) -> dict:
    """A plans.edit waiting for approval, once the notification that asks about it has run (its events, on the
    same trace, are in the log too)."""
    with d.client() as conn:
        action = conn.call("actions.propose", {"kind": "plans.edit", "payload": {"op": "add_action", "text": text},
                                               "reason": f"to {text.lower()}"})["action"]
        wait_for(lambda: any(n["decides"] == action["id"] and n["state"] != "pending"
                             for n in conn.call("notifications.list", {"all": True})["notifications"]),
                 what="the approval's notification")
    return action


def deny(d: DaemonProcess, action_id: str, reason: str) -> None:
    with d.client() as conn:
        conn.call("actions.deny", {"id": action_id, "reason": reason})


def verbs(screen: ActivityScreen) -> list[str]:
    table = screen.table
    return [table.get_row_at(i)[2].plain for i in range(table.row_count)] if table.display else []


def of(screen: ActivityScreen, action: dict, column: int = 2) -> list[str]:
    """One column of the rows about `action` (not the notification that asked about it)."""
    table = screen.table
    short = f"{action['id'][:8]}…{action['id'][-6:]}"
    rows = [table.get_row_at(i) for i in range(table.row_count)] if table.display else []
    return [row[column].plain for row in rows if row[3].plain == short]


def seqs(screen: ActivityScreen) -> list[int]:
    table = screen.table
    return [int(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


def notes(screen: ActivityScreen) -> list[str]:
    table = screen.table
    return [table.get_row_at(i)[4].plain for i in range(table.row_count)] if table.display else []


async def open_activity(pilot) -> ActivityScreen:
    app: OxymusApp = pilot.app
    await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
    await pilot.press("6")
    await until(pilot, lambda: isinstance(app.screen, ActivityScreen) and app.screen.loaded, what="the log")
    return app.screen


async def test_activity_shows_the_log_newest_first_and_follows_it_live(log_daemon):
    first = propose(log_daemon, "Buy milk")
    deny(log_daemon, first["id"], "we have milk")
    app = create_app(log_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_activity(pilot)
        await until(pilot, lambda: of(screen, first)[:3] == ["action.denied", "action.awaiting_approval", "action.proposed"],
                    what="the three events")
        assert seqs(screen) == sorted(seqs(screen), reverse=True), "newest first"
        row = screen.table.get_row_at(0)
        assert row[1].plain == "user" and row[4].plain == "we have milk"
        assert row[3].plain == f"{first['id'][:8]}…{first['id'][-6:]}"

        bread = propose(log_daemon, "Buy bread")  # from outside: it shows up on top
        await until(pilot, lambda: of(screen, bread)[:2] == ["action.awaiting_approval", "action.proposed"],
                    what="the new proposal on top")
        assert "PLANS.md: add to Next actions: Buy bread" in of(screen, bread, 4)[1]
        assert seqs(screen) == sorted(seqs(screen), reverse=True)
        assert "events loaded" in str(screen.query_one("#summary").render())


async def test_problems_only_and_the_text_filter(log_daemon):
    for text in ("Buy milk", "Buy bread", "Call the bank"):
        action = propose(log_daemon, text)
        if text != "Buy bread":
            deny(log_daemon, action["id"], f"no: {text}")
    app = create_app(log_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_activity(pilot)
        await until(pilot, lambda: len(verbs(screen)) >= 8, what="the events")
        await pilot.press("exclamation_mark")
        await until(pilot, lambda: screen.loaded and verbs(screen) == ["action.denied", "action.denied"],
                    what="only the denials")
        assert notes(screen) == ["no: Call the bank", "no: Buy milk"]
        assert "problems only" in str(screen.query_one("#summary").render())
        await pilot.press("exclamation_mark")
        await until(pilot, lambda: screen.loaded and len(verbs(screen)) >= 8, what="everything again")

        await pilot.press("slash")
        await until(pilot, lambda: screen.query_one("#activity-filter").has_focus, what="the filter field")
        await pilot.press(*"bread")
        # Its proposal, and the notification that asked about it (proposed, and its receipt).
        wanted = ["action.succeeded", "action.proposed", "action.proposed"]
        await until(pilot, lambda: verbs(screen) == wanted, what="the rows matching 'bread'")
        assert notes(screen)[2] == "PLANS.md: add to Next actions: Buy bread"
        await pilot.press("enter")  # keeps the filter, back to the rows
        await until(pilot, lambda: screen.table.has_focus, what="the rows focused")
        assert verbs(screen) == wanted
        await pilot.press("escape")  # clears it
        await until(pilot, lambda: len(verbs(screen)) >= 8, what="the filter cleared")


async def test_enter_follows_a_trace_and_escape_goes_back(log_daemon):
    milk = propose(log_daemon, "Buy milk")
    bread = propose(log_daemon, "Buy bread")
    deny(log_daemon, milk["id"], "we have milk")
    app = create_app(log_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_activity(pilot)
        await until(pilot, lambda: verbs(screen)[:1] == ["action.denied"], what="the denial on top")
        everything = len(verbs(screen))
        await pilot.press("enter")  # on the denial: its trace
        await until(pilot, lambda: screen.trace_id == milk["trace_id"] and screen.loaded, what="the trace")
        assert of(screen, milk)[:3] == ["action.proposed", "action.awaiting_approval", "action.denied"], "oldest first"
        assert len(verbs(screen)) > 3, "the notification that asked about it is on its trace"
        assert all(e.trace_id == milk["trace_id"] for e in screen.trace)
        assert seqs(screen) == sorted(seqs(screen))
        assert milk["trace_id"] in str(screen.query_one("#activity-trace").render())

        deny(log_daemon, bread["id"], "no bread")  # another trace: the one followed does not change
        await pilot.press("escape")
        await until(pilot, lambda: screen.trace_id is None and verbs(screen)[:1] == ["action.denied"]
                    and len(verbs(screen)) == everything + 1, what="the log again, with what happened meanwhile")
        assert notes(screen)[0] == "no bread"
        assert not screen.query_one("#activity-trace").display


async def test_the_log_is_paged(log_daemon):
    with log_daemon.client() as conn:
        for i in range(LOG_PAGE + 20):
            conn.call("capture.add", {"text": f"thought {i}", "source": "cli"})
    app = create_app(log_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_activity(pilot)
        assert screen.table.row_count == LOG_PAGE, "one page, not the whole log"
        assert not screen.feed.exhausted
        await pilot.press("o")
        await until(pilot, lambda: screen.table.row_count == LOG_PAGE + 20, what="the older page")
        assert screen.feed.exhausted and "start of the log" in str(screen.query_one("#activity-more").render())
        assert seqs(screen) == sorted(seqs(screen), reverse=True)


async def test_reaching_the_end_of_the_rows_loads_older_events(log_daemon):
    with log_daemon.client() as conn:
        for i in range(2 * LOG_PAGE + 5):
            conn.call("capture.add", {"text": f"thought {i}", "source": "cli"})
    app = create_app(log_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_activity(pilot)
        assert screen.table.row_count == LOG_PAGE
        await pilot.press("ctrl+end")  # the cursor on the last row
        await until(pilot, lambda: screen.table.row_count == 2 * LOG_PAGE, what="the second page")
        screen.table.scroll_end(animate=False)  # scrolling (the wheel) to the end
        await until(pilot, lambda: screen.table.row_count == 2 * LOG_PAGE + 5, what="the third page")


# ---- snapshot: a log built by hand, so every seq, id and time is fixed ---------------------

SNAP_SIZE = (100, 30)
NOW = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)
A1, A2, A3 = "01JD4KQX5T8M2N9P3R6S7V0W1A", "01JD4KQX5T8M2N9P3R6S7V0W2A", "01JD4KQX5T8M2N9P3R6S7V0W3A"


def handcrafted_log() -> list[AuditEvent]:
    rows = [
        (1, 90, "cli", "capture.added", "01JD4KPZ3B7C9D2E4F6G8H0J1K", "T0", {}),
        (2, 61, "user", "action.proposed", A1, "T1", {"summary": "PLANS.md: add to Next actions: Call the bank"}),
        (3, 61, "policy", "action.approved", A1, "T1", {"rule": "default: your own edit to your own files"}),
        (4, 61, "executor", "action.executing", A1, "T1", {}),
        (5, 61, "user", "plans.edited", "/home/me/notes/PLANS.md", "T1", {}),
        (6, 61, "executor", "action.succeeded", A1, "T1", {"receipt": "PLANS.md: add to Next actions: Call the bank"}),
        (7, 30, "agent:blogger", "action.proposed", A2, "T2", {"summary": "push 3 commits of ~/blog to origin/main"}),
        (8, 30, "policy", "action.awaiting_approval", A2, "T2", {"rule": "pushes need me"}),
        (9, 12, "user", "action.denied", A2, "T2", {"via": "tui", "reason": "not before the review"}),
        (10, 5, "system:approvals", "action.proposed", A3, "T3", {"summary": "notify (normal): Approve? push 3 commits"}),
        (11, 5, "executor", "action.failed", A3, "T3", {"error": "no D-Bus session bus: desktop notifications cannot be shown"}),
        (12, 1, "user", "pause.started", "pause", "T4", {"reason": "not today"}),
    ]
    return [AuditEvent(seq=seq, ts=(NOW - dt.timedelta(minutes=ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z"), actor=actor,
                       verb=verb, subject=subject, trace_id=f"01JD4KQX5T8M2N9P3R6S7V0W{trace}", details=details)
            for seq, ago, actor, verb, subject, trace, details in rows]


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_snapshot_activity(utc, daemon, snap_compare):
    # A real daemon with an empty log (nothing happens, so no reload brings other rows), then a page posted by hand.
    app = create_app(daemon.paths, start_daemon=False, clock=lambda: NOW.timestamp())
    events = list(reversed(handcrafted_log()))  # the daemon's order: newest first

    async def run_before(pilot):
        await pilot.pause()
        screen = await open_activity(pilot)
        screen.post_message(LogLoaded(events, trace_id=None, problems=False, before_seq=None, limit=LOG_PAGE))
        await until(pilot, lambda: screen.table.row_count == len(events) and "Connected" in screen.status_bar.text,
                    what="the log shown")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SNAP_SIZE, run_before=run_before)


def test_an_actor_too_long_for_its_column_loses_its_kind_before_a_letter_of_its_name():
    """At 80 columns "agent:distribution" in 14 cells read "agent:distrib…": the name says who it was."""
    from oxymus.kernel.textfmt import who
    from oxymus.tui.widgets.activity_views import event_cells

    event = AuditEvent(seq=1, ts="2026-12-07T10:00:00+00:00", actor="agent:distribution", verb="agent.started",
                       subject="r1", trace_id="t1")
    widths = {"time": 8, "actor": 14, "verb": 20, "note": 20}
    assert str(event_cells(event, widths)["actor"]) == "distribution"
    assert str(event_cells(event, {**widths, "actor": 18})["actor"]) == "agent:distribution"
    assert who("agent:a-very-long-agent-name", 10) == "a-very-lo…"
    assert who("user", 2) == "u…"
