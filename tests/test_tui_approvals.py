"""The Approvals section (key 5), the waiting count and `P` (pause) on every section, through Pilot
against a real daemon whose policy makes every `plans.edit` wait for approval.

What the TUI did is checked in the daemon's store through the sync client
(`actions.get`, `status`), never by trusting the screen. Nothing sleeps to wait for
state: `until` polls a condition.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from conftest import PLANS_NEED_ME, DaemonProcess, start_daemon, until
from textual.widgets import Input, TextArea

from oxymus.actions.effects import Preview
from oxymus.actions.model import Action, ActionDetail, Decision, InputRef, PauseState, Proposer, RuleCheck
from oxymus.models import AuditEvent
from oxymus.tui.app import OxymusApp, create_app
from oxymus.tui.link.messages import (
    ActionLoaded, ApprovalsLoaded, DecisionFailed, DecisionSent, PauseChanged, WaitingCounted,
)
from oxymus.tui.screens.approvals import ApprovalsScreen
from oxymus.tui.screens.line_input import LineInputScreen
from oxymus.tui.screens.payload_edit import PayloadEditScreen
from oxymus.tui.screens.today import TodayScreen

SIZE = (110, 34)
POLICY = PLANS_NEED_ME


@pytest.fixture
def waiting_daemon(profile):
    d = start_daemon(profile)
    yield d
    d.stop()


def propose(d: DaemonProcess, text: str, reason: str = "") -> str:
    with d.client() as conn:
        action = conn.call("actions.propose", {"kind": "plans.edit", "payload": {"op": "add_action", "text": text},
                                               "reason": reason})["action"]
    assert action["status"] == "awaiting_approval", action
    return action["id"]


def stored(d: DaemonProcess, action_id: str) -> dict:
    with d.client() as conn:
        return conn.call("actions.get", {"id": action_id})


def daemon_status(d: DaemonProcess) -> dict:
    with d.client() as conn:
        return conn.call("status")


def rows(screen: ApprovalsScreen) -> list[str]:
    table = screen.table
    return [table.get_row_at(i)[2].plain for i in range(table.row_count)] if table.display else []


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def open_approvals(pilot, count: int) -> ApprovalsScreen:
    app: OxymusApp = pilot.app
    await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
    await pilot.press("5")
    await until(pilot, lambda: isinstance(app.screen, ApprovalsScreen) and app.screen.loaded
                and len(rows(app.screen)) == count, what=f"{count} waiting action(s)")
    return app.screen


async def test_the_queue_shows_a_waiting_action_with_its_preview_and_story(waiting_daemon):
    action_id = propose(waiting_daemon, "Buy milk", reason="we are out of it")
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_approvals(pilot, 1)
        cells = [str(getattr(c, "plain", c)) for c in screen.table.get_row_at(0)]
        assert cells[0] == "low" and cells[1] == "plans.edit" and "Buy milk" in cells[2] and cells[3] == "user"
        assert cells[5].startswith("expires in ")
        assert "1 waiting" in str(screen.query_one("#summary").render())
        await until(pilot, lambda: "Policy decision:" in text_of(screen, "#approvals-story"), what="the story")
        preview = text_of(screen, "#approvals-preview")
        assert "+- [ ] Buy milk" in preview, "the diff is shown"
        story = text_of(screen, "#approvals-story")
        assert "Reason: we are out of it" in story
        assert "matched  #1" in story and "plans need me -> require_approval" in story
        assert "awaiting_approval  by policy: plans need me" in story
        assert screen.detail is not None and screen.detail.action.id == action_id


async def test_a_approves_and_the_action_leaves_the_queue(waiting_daemon):
    action_id = propose(waiting_daemon, "Buy milk")
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_approvals(pilot, 1)
        await pilot.press("a")
        await until(pilot, lambda: rows(screen) == [] and "approved" in screen.line_text, what="the approval")
        assert "u to undo" in screen.line_text and "runs in" in screen.line_text
        detail = stored(waiting_daemon, action_id)
        assert detail["action"]["status"] in ("approved", "executing", "succeeded")
        assert [(a["decision"], a["via"]) for a in detail["approvals"]] == [("approved", "tui")]
        assert text_of(screen, "#approvals-empty") == "Nothing waits for your decision."


async def test_shift_d_denies_with_a_reason(waiting_daemon):
    action_id = propose(waiting_daemon, "Buy milk")
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_approvals(pilot, 1)
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, LineInputScreen), what="the reason dialog")
        await pilot.press(*"not this week", "enter")
        await until(pilot, lambda: rows(screen) == [] and "denied" in screen.line_text, what="the denial")
        detail = stored(waiting_daemon, action_id)
        assert detail["action"]["status"] == "denied"
        assert [(a["decision"], a["via"], a["reason"]) for a in detail["approvals"]] == [("denied", "tui", "not this week")]


async def test_escape_in_the_deny_dialog_decides_nothing(waiting_daemon):
    action_id = propose(waiting_daemon, "Buy milk")
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_approvals(pilot, 1)
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, LineInputScreen), what="the reason dialog")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="the dialog closed")
        assert rows(screen) == ["PLANS.md: add to Next actions: Buy milk"]
        assert stored(waiting_daemon, action_id)["action"]["status"] == "awaiting_approval"


async def test_s_snoozes_and_the_row_says_until_when(waiting_daemon):
    action_id = propose(waiting_daemon, "Buy milk")
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_approvals(pilot, 1)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, LineInputScreen), what="the snooze dialog")
        assert app.screen.query_one("#line-input", Input).value == "1h"
        await pilot.press("enter")
        await until(pilot, lambda: "Snoozed until" in screen.line_text, what="the snooze")
        detail = stored(waiting_daemon, action_id)
        assert detail["action"]["status"] == "snoozed" and detail["action"]["snoozed_until"]
        await until(pilot, lambda: str(screen.table.get_row_at(0)[5]).startswith("snoozed → "), what="the row updated")
        assert str(screen.query_one("#summary").render()) == "1 snoozed"


async def test_a_refused_snooze_is_shown_and_the_row_stays(waiting_daemon):
    action_id = propose(waiting_daemon, "Buy milk")
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_approvals(pilot, 1)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, LineInputScreen), what="the snooze dialog")
        app.screen.query_one("#line-input", Input).value = "whenever"
        await pilot.press("enter")
        await until(pilot, lambda: "Could not snooze" in screen.line_text, what="the refusal")
        assert rows(screen) == ["PLANS.md: add to Next actions: Buy milk"]
        assert stored(waiting_daemon, action_id)["action"]["status"] == "awaiting_approval"


async def test_e_edits_the_payload_then_approves_it(waiting_daemon):
    action_id = propose(waiting_daemon, "Buy milk")
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_approvals(pilot, 1)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, PayloadEditScreen), what="the edit dialog")
        dialog = app.screen
        area = dialog.query_one("#edit-payload", TextArea)
        payload = json.loads(area.text)
        assert payload["text"] == "Buy milk" and payload["op"] == "add_action"

        area.text = '{"op": "add_action", "text": "Buy oat milk",}'  # not JSON
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Not valid JSON" in text_of(dialog, "#edit-error"), what="the JSON error")
        assert app.screen is dialog

        area.text = json.dumps({**payload, "text": "Buy oat milk", "x": 1})  # the daemon refuses it
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "payload.x" in text_of(dialog, "#edit-error"), what="the daemon's refusal")
        assert app.screen is dialog and "Could not approve" in screen.line_text
        assert stored(waiting_daemon, action_id)["action"]["status"] == "awaiting_approval"

        area.text = json.dumps({**payload, "text": "Buy oat milk"}, indent=2)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen and "approved (edited)" in screen.line_text, what="the approval")
        detail = stored(waiting_daemon, action_id)
        assert detail["action"]["status"] in ("approved", "executing", "succeeded")
        assert detail["action"]["payload"]["text"] == "Buy oat milk"
        assert "Buy oat milk" in detail["action"]["preview"]["summary"]
        assert [a["decision"] for a in detail["approvals"]] == ["edited", "approved"]


async def test_u_undoes_an_approval_within_the_grace_period(waiting_daemon):
    action_id = propose(waiting_daemon, "Buy milk")
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_approvals(pilot, 1)
        await pilot.press("a")
        await until(pilot, lambda: rows(screen) == [] and "approved" in screen.line_text, what="the approval")
        await pilot.press("u")
        await until(pilot, lambda: "Undone" in screen.line_text and len(rows(screen)) == 1, what="the undo")
        detail = stored(waiting_daemon, action_id)
        assert detail["action"]["status"] == "awaiting_approval"
        assert [a["decision"] for a in detail["approvals"]] == ["approved", "undone"]
        await pilot.press("u")  # nothing decided here since
        assert "Undone" in screen.line_text


async def test_u_too_late_shows_the_daemons_refusal(profile):
    d = start_daemon(profile, policy='[settings]\nundo_grace = "1s"\n\n' + POLICY)
    try:
        action_id = propose(d, "Buy milk")
        app = create_app(d.paths, start_daemon=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_approvals(pilot, 1)
            await pilot.press("a")
            # Not "approved" on the line: with a 1 s grace it runs at once, and a busy machine can show
            # what followed before a check sees that line.
            await until(pilot, lambda: stored(d, action_id)["action"]["status"] == "succeeded", what="it ran")
            await pilot.press("u")
            await until(pilot, lambda: "Could not undo" in screen.line_text, what="the refusal")
            assert "succeeded" in screen.line_text
    finally:
        d.stop()


async def test_the_waiting_count_shows_on_every_section_live(waiting_daemon):
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
        today = app.screen
        assert isinstance(today, TodayScreen)
        assert today.status_bar.attention == ""
        first = propose(waiting_daemon, "Buy milk")
        await until(pilot, lambda: today.status_bar.attention == "1 waiting", what="one waiting")
        propose(waiting_daemon, "Buy bread")
        await until(pilot, lambda: today.status_bar.attention == "2 waiting", what="two waiting")
        with waiting_daemon.client() as conn:
            conn.call("actions.deny", {"id": first})
        await until(pilot, lambda: today.status_bar.attention == "1 waiting", what="one again")
        await pilot.press("2")
        await until(pilot, lambda: app.screen.status_bar.attention == "1 waiting", what="the count on the Inbox")


async def test_P_pauses_and_resumes_from_any_section(waiting_daemon):
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
        await pilot.press("4")
        await until(pilot, lambda: app.current_mode == "plans", what="Plans")
        plans = app.screen
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, LineInputScreen), what="the until dialog")
        await pilot.press("enter")  # empty: until resumed
        await until(pilot, lambda: plans.status_bar.attention == "PAUSED", what="paused")
        state = daemon_status(waiting_daemon)["pause"]
        assert state is not None and state["until"] is None

        await pilot.press("1")
        await until(pilot, lambda: app.screen.status_bar.attention == "PAUSED", what="paused on Today too")
        await pilot.press("P")  # resumes at once
        await until(pilot, lambda: app.screen.status_bar.attention == "", what="resumed")
        assert daemon_status(waiting_daemon)["pause"] is None

        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, LineInputScreen), what="the until dialog")
        await pilot.press(*"2h", "enter")
        await until(pilot, lambda: app.screen_stack[-1].status_bar.attention.startswith("PAUSED until "),
                    what="paused for two hours")
        assert daemon_status(waiting_daemon)["pause"]["until"] is not None


async def test_a_pause_from_outside_shows_live(waiting_daemon):
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
        with waiting_daemon.client() as conn:
            conn.call("pause.set", {"reason": "not today"})
        await until(pilot, lambda: app.screen.status_bar.attention == "PAUSED", what="paused")
        with waiting_daemon.client() as conn:
            conn.call("pause.clear")
        await until(pilot, lambda: app.screen.status_bar.attention == "", what="resumed")


async def test_a_decision_shows_as_pending_until_the_daemon_answers(waiting_daemon):
    action_id = propose(waiting_daemon, "Buy milk")
    app = create_app(waiting_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_approvals(pilot, 1)
        # What the connection posts around a request, held apart so the pending state can be looked at.
        screen.post_message(DecisionSent(9999, "approve", action_id))
        await until(pilot, lambda: str(screen.table.get_row_at(0)[5]) == "approving…", what="the pending row")
        assert "waiting for the daemon" in screen.line_text
        await pilot.press("a")  # a second decision on it is not sent while one is on its way
        screen.post_message(DecisionFailed(9999, "approve", action_id, "the daemon said no"))
        await until(pilot, lambda: str(screen.table.get_row_at(0)[5]).startswith("expires in"), what="the row back")
        assert screen.line_text == "Could not approve: the daemon said no"
        assert stored(waiting_daemon, action_id)["action"]["status"] == "awaiting_approval"


async def test_a_decision_while_the_daemon_is_down_is_refused_and_the_row_stays(waiting_daemon):
    propose(waiting_daemon, "Buy milk")
    app = create_app(waiting_daemon.paths, start_daemon=False, retry_initial=5.0, retry_max=5.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_approvals(pilot, 1)
        waiting_daemon.stop()
        await until(pilot, lambda: not app.connection.connected, what="the drop")
        await pilot.press("a")
        await until(pilot, lambda: "Could not approve: not connected" in screen.line_text, what="the refusal")
        assert rows(screen) == ["PLANS.md: add to Next actions: Buy milk"], "the last known queue stays"


# ---- snapshot: a queue built by hand, so every id, time and age is fixed ------------------

SNAP_SIZE = (100, 34)
NOW = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)
DIFF = (
    "--- a/PLANS.md\n+++ b/PLANS.md\n@@ -6,3 +6,4 @@\n ## Next actions\n - [ ] Release 0.2\n"
    "-- [ ] Call the bank\n+- [x] Call the bank (done 2026-11-21)\n+- [ ] Order the new card\n"
)


def _at(minutes_ago: float) -> str:
    return (NOW - dt.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _action(n: int, kind: str, risk: str, summary: str, minutes_ago: float, expires_in_h: float, *, rule: str,
            proposer: Proposer, preview_format: str = "text", body: str = "", **extra) -> Action:
    action_id = f"01JD4KQX5T8M2N9P3R6S7V0W{n}A"
    decision = Decision(outcome="require_approval", rule=rule, rule_index=1, decided_at=_at(minutes_ago),
                        expires_in_s=expires_in_h * 3600,
                        path=[RuleCheck(index=1, name=rule, outcome="require_approval", matched=True)])
    return Action(
        id=action_id, kind=kind, payload={"n": n}, proposer=proposer, risk=risk, idempotency_key=f"action:{action_id}",
        decision=decision, preview=Preview(summary=summary, format=preview_format, body=body),
        trace_id=f"01JD4KQX5T8M2N9P3R6S7V0W{n}T", status=extra.pop("status", "awaiting_approval"),
        created_at=_at(minutes_ago), updated_at=_at(minutes_ago),
        expires_at=(NOW + dt.timedelta(hours=expires_in_h) - dt.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        **extra,
    )


def handcrafted_queue() -> list[Action]:
    return [
        _action(1, "plans.edit", "low", "PLANS.md: check “Call the bank”, add “Order the new card”", 125, 24,
                rule="agents edit plans only with me", proposer=Proposer(type="agent", name="planner", run_id="run-7"),
                preview_format="diff", body=DIFF, reason="You said you called the bank; the card comes next.",
                inputs=[InputRef(kind="capture", ref="01JD4KPZ3B7C9D2E4F6G8H0J1K", note="called the bank")],
                confidence=0.8),
        _action(2, "git.push", "high", "push 3 commits of ~/blog to origin/main", 25, 4, rule="pushes need me",
                proposer=Proposer(type="agent", name="blogger"), body="3f2a1c0 Publish: eight layers"),
        _action(3, "calendar.create_event", "medium", "add “Dentist” on Tue 24 Nov 10:00", 95, 24,
                rule="calendar needs me", proposer=Proposer(), preview_format="event",
                body="Dentist\nTue 24 Nov 10:00–11:00\nTorstr. 12", status="snoozed", snoozed_until="2026-11-21T13:00:00.000Z"),
    ]


def handcrafted_detail(action: Action) -> ActionDetail:
    def event(seq: int, minutes_ago: float, actor: str, verb: str, **details) -> AuditEvent:
        return AuditEvent(seq=seq, ts=_at(minutes_ago), actor=actor, verb=verb, subject=action.id,
                          trace_id=action.trace_id, details=details)

    return ActionDetail(action=action, history=[
        event(41, 125, "agent:planner", "action.proposed", summary=action.preview.summary, reason=action.reason),
        event(42, 125, "policy", "action.awaiting_approval", rule="agents edit plans only with me"),
    ])


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_snapshot_approvals_with_a_diff_selected(utc, daemon, snap_compare):
    # A real daemon with nothing waiting (so no event brings another queue), then a queue posted by hand.
    app = create_app(daemon.paths, start_daemon=False, clock=lambda: NOW.timestamp())
    queue = handcrafted_queue()

    async def run_before(pilot):
        await pilot.pause()
        await until(pilot, lambda: app.connection.connected, what="the connection")
        await pilot.press("5")
        await until(pilot, lambda: isinstance(app.screen, ApprovalsScreen) and app.screen.loaded, what="the (empty) queue")
        screen = app.screen
        screen.post_message(ApprovalsLoaded(queue))
        # The daemon does not know these ids: wait for its "no action" so it cannot land after the story.
        await until(pilot, lambda: screen.detail_error is not None, what="the daemon's answer about the first")
        screen.post_message(ActionLoaded(handcrafted_detail(queue[0])))
        screen.post_message(WaitingCounted(3))
        screen.post_message(PauseChanged(PauseState(since=_at(30), until="2026-11-21T13:00:00.000Z")))
        await until(pilot, lambda: screen.detail is not None and "Connected" in screen.status_bar.text
                    and "PAUSED" in screen.status_bar.attention, what="the story shown")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SNAP_SIZE, run_before=run_before)


def test_a_messages_long_line_wraps_under_itself_in_the_preview():
    from rich.console import Console

    from oxymus.actions.effects import Preview
    from oxymus.tui.widgets.approvals_views import preview_text

    preview = Preview(summary="email ana@acme.test: Re: Workshop", format="message",
                      body="To: Ana <ana@acme.test>\n\nThank you for getting in touch about a two-day workshop on writing.\n")
    console = Console(width=40, record=True, color_system=None)
    console.print(preview_text(preview))
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    assert lines[:3] == ["email ana@acme.test: Re: Workshop", "Message:", "  To: Ana <ana@acme.test>"]
    assert lines[4:] == ["  Thank you for getting in touch about a", "  two-day workshop on writing."], lines
