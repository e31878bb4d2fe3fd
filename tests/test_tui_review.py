"""The morning review in the TUI, driven by keys through Pilot against a real daemon: Enter all the way
through, every step's keys, leaving mid-review and resuming at the same step, and the palette."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import DaemonProcess, pin_today, until, write_config
from oxymus.client.sync_client import connect
from oxymus.tui.app import create_app
from oxymus.tui.screens.review import ReviewScreen
from oxymus.tui.screens.review_steps import DonePane
from test_review_daemon import CONFIG, PLANS, seed_past, today

SIZE = (80, 24)
POLICY = '[[rule]]\nname = "memory needs me"\nkind = "memory.update"\noutcome = "require_approval"\n'
SURE = "buy oat milk"  # triage: a next action, pre-selected
CALL = "call Ana tomorrow 2pm about the workshop"  # triage: a next action (a calendar event needs CalDAV)


@pytest.fixture
def daemon(profile, monkeypatch):
    pin_today(monkeypatch, "Europe/Berlin")  # the seeded days stay yesterday and 3 days ago across midnight
    write_config(profile, CONFIG + "\n[agents.triage]\nenabled = false\n")
    Path(profile.config_dir, "PLANS.md").write_text(PLANS)
    Path(profile.policy_file).write_text(POLICY)
    d = DaemonProcess(profile)
    seed_past(profile, PLANS, plan_days_ago=1, review_days_ago=3)
    d.start()
    with connect(profile.socket) as c:
        for text in (SURE, CALL):
            c.call("capture.add", {"text": text})
        c.call("agents.run", {"name": "triage"})
        waiting = c.call("actions.propose", {"kind": "memory.update", "payload": {"op": "add", "record": {
            "kind": "decision", "title": "Publish on Thursdays"}}})["action"]
        assert waiting["status"] == "awaiting_approval"
        d.waiting_id = waiting["id"]
    yield d
    d.stop()


def review(app) -> ReviewScreen:
    screen = app.screen
    assert isinstance(screen, ReviewScreen), screen
    return screen


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def at_step(pilot, step: str):
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.view is not None
                and app.screen.step == step, what=f"the review at {step}")
    assert f"[{ {'top': 'Top three'}.get(step, step.capitalize())}]" in text(app, "#review-progress")


def status(profile) -> dict:
    with connect(profile.socket) as c:
        return c.call("review.status")


async def test_enter_all_the_way_through_finishes_a_sensible_review(daemon, profile):
    app = create_app(profile, start_daemon=False, review=True)
    async with app.run_test(size=SIZE) as pilot:
        await at_step(pilot, "yesterday")
        assert "3 days since your last review: 2 items to carry" in text(app, "#yesterday-since")
        keys = 0
        for step in ("yesterday", "calendar", "inbox", "approvals", "top"):
            await at_step(pilot, step)
            await pilot.press("enter")
            keys += 1
        await until(pilot, lambda: "Review done" in str(app.screen.query_one("#done-text").render()), what="the review done")
        assert keys == 5
        await until(pilot, lambda: status(profile)["status"] == "done", what="the review recorded as done")
        await pilot.press("enter")  # closes the review
        await until(pilot, lambda: not isinstance(app.screen, ReviewScreen), what="the review closed")

    plan = Path(profile.data_dir, "artifacts", "planner", f"{today()}.md").read_text()
    assert "1. **Write the workshop outline**" in plan and "2. **Renew the domain**" in plan  # the planner's, kept
    plans = Path(profile.config_dir, "PLANS.md").read_text()
    assert "- [ ] Buy oat milk" in plans  # the pre-selected suggestion was accepted
    with connect(profile.socket) as c:
        open_ = [x["text"] for x in c.call("inbox.list", {})["captures"]]
        assert open_ == [CALL]  # not offered: no CalDAV calendar, so it stays
        assert c.call("actions.get", {"id": daemon.waiting_id})["action"]["status"] == "awaiting_approval"  # Enter leaves it


async def test_every_step_by_its_keys_and_a_review_left_mid_way_resumes_there(daemon, profile):
    app = create_app(profile, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the connection")
        await pilot.press("R")
        await at_step(pilot, "yesterday")
        rows = review(app).query_one("#yesterday-table")
        assert [str(rows.get_row_at(i)[1]) for i in range(rows.row_count)] == ["Write the workshop outline", "Send the invoice"]
        await pilot.press("d", "x")  # the outline is done, the invoice dropped
        assert [str(rows.get_row_at(i)[0]) for i in range(rows.row_count)] == ["✓ done", "✗ drop"]
        await pilot.press("enter")
        await at_step(pilot, "calendar")
        await until(pilot, lambda: "- [x] Write the workshop outline" in Path(profile.config_dir, "PLANS.md").read_text(),
                    what="the outline checked in PLANS.md")
        assert "Working hours 09:00–18:00" in text(app, "#calendar-timeline") and "── now" in text(app, "#calendar-timeline")
        await pilot.press("n")  # skipped
        await at_step(pilot, "inbox")
        await until(pilot, lambda: status(profile)["step"] == "inbox", what="the step recorded")

        await pilot.press("escape")  # leave mid-review
        await until(pilot, lambda: not isinstance(app.screen, ReviewScreen), what="the review left")
        await pilot.press("R")  # and come back: the same step
        await at_step(pilot, "inbox")
        assert "resumed at Inbox" in text(app, "#review-title")

        table = review(app).query_one("#inbox-review-table")
        texts = [e.capture.text for e in review(app).view.inbox]  # the rows, in order (shown cut to the column)
        # Triage offers only what can be carried out: with no CalDAV calendar the call is a next action at
        # most, and not pre-selected, so `A` leaves it alone.
        call = review(app).view.inbox[texts.index(CALL)]
        assert call.suggestion is not None and call.suggestion.to != "calendar_event" and not call.suggestion.preselected
        table.move_cursor(row=texts.index(CALL))
        await pilot.press("x")  # archive it
        await pilot.press("A")  # and accept every pre-selected suggestion
        marks = {texts[i]: str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert marks == {SURE: "✓ accepted", CALL: "✓ archived"}
        with connect(profile.socket) as c:
            await until(pilot, lambda: c.call("inbox.list", {})["total"] == 0, what="the inbox emptied")
        await pilot.press("enter")

        await at_step(pilot, "approvals")
        assert "memory: add" in text(app, "#approvals-review-preview")
        with connect(profile.socket) as c:  # proposed while the review is open: the step shows it too
            c.call("actions.propose", {"kind": "memory.update", "payload": {"op": "add", "record": {
                "kind": "decision", "title": "Review on Mondays"}}})
        await until(pilot, lambda: text(app, "#approvals-review-head").startswith("2 waiting"), what="the new one listed")
        await pilot.press("a")
        await until(pilot, lambda: text(app, "#approvals-review-head") == "1 waiting for your decision · 1 decided here",
                    what="the approval made")
        await pilot.press("s")  # snooze the other: the dialog offers 1h, Enter takes it
        await until(pilot, lambda: not isinstance(app.screen, ReviewScreen), what="the snooze dialog")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen)
                    and text(app, "#approvals-review-head") == "Nothing else waits (2 decided here). Enter moves on.",
                    what="the snooze made")
        await pilot.press("enter")

        await at_step(pilot, "top")
        top = review(app).query_one("#top-table")
        ranked = lambda: [str(top.get_row_at(i)[2]) for i in range(top.row_count) if str(top.get_row_at(i)[0])]  # noqa: E731
        first = ranked()
        assert len(first) == 3
        await pilot.press("J")  # the first goes down one
        assert ranked() == [first[1], first[0], first[2]]
        await pilot.press("K")
        assert ranked() == first
        await pilot.press("b")  # no CalDAV calendar: no focus block, and it says why
        await until(pilot, lambda: any("No CalDAV calendar" in n.message for n in app._notifications), what="why no block")
        await pilot.press("space")  # the first out
        assert ranked() == first[1:]
        await pilot.press("enter")
        await until(pilot, lambda: review(app).step == "done", what="the Done step")
        done = str(review(app).query_one(DonePane).query_one("#done-text").render())
        assert f"1. {first[1]}" in done and f"2. {first[2]}" in done and "3." not in done

    plan = Path(profile.data_dir, "artifacts", "planner", f"{today()}.md").read_text()
    assert f"1. **{first[1]}**" in plan and f"2. **{first[2]}**" in plan and "3. **" not in plan
    st = status(profile)
    assert st["status"] == "done" and st["days_since_last"] == 0


async def test_the_palette_opens_the_morning_review(daemon, profile):
    app = create_app(profile, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the connection")
        await pilot.press("ctrl+p")
        await pilot.press(*"Morning review")
        await pilot.press("enter")
        await at_step(pilot, "yesterday")

