"""The weekly review in the TUI, driven by keys through Pilot against a real daemon at 80x24: Enter all the
way through, every step's keys (answering, a decision, skipping, deciding a proposal), leaving mid-review and
resuming at the same step, and the palette."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import DaemonProcess, pin_today, until, write_config
from oxymus.client.sync_client import connect
from oxymus.tui.app import create_app
from oxymus.tui.screens.line_input import LineInputScreen
from oxymus.tui.screens.weekly import WeeklyReviewScreen
from test_review_daemon import CONFIG, PLANS
from test_weekly_review_daemon import the_week, seed_week

SIZE = (80, 24)
LABELS = {"week": "The week", "questions": "Questions", "proposals": "Proposals", "done": "Done"}


@pytest.fixture
def daemon(profile, monkeypatch):
    pin_today(monkeypatch, "Europe/Berlin")  # the seeded week stays the daemon's week across midnight
    write_config(profile, CONFIG)
    Path(profile.config_dir, "PLANS.md").write_text(PLANS)
    seed_week(profile)
    d = DaemonProcess(profile).start()
    yield d
    d.stop()


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def at_step(pilot, step: str):
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, WeeklyReviewScreen) and app.screen.view is not None
                and app.screen.step == step, timeout=30, what=f"the weekly review at {step}")
    assert f"[{LABELS[step]}]" in text(app, "#review-progress")


def weekly(profile) -> dict:
    with connect(profile.socket) as c:
        return c.call("review.status")["weekly"]


def call(profile, method: str, params: dict | None = None):
    with connect(profile.socket) as c:
        return c.call(method, params or {})


async def test_enter_all_the_way_through_records_the_week_as_done(daemon, profile):
    app = create_app(profile, start_daemon=False, review="weekly")
    async with app.run_test(size=SIZE) as pilot:
        await at_step(pilot, "week")
        shown = text(app, "#week-text")
        assert "Slipped" in shown and "Write the workshop outline" in shown and "Numbers" in shown
        for step in ("week", "questions", "proposals"):
            await at_step(pilot, step)
            await pilot.press("enter")
        await until(pilot, lambda: "Weekly review done" in text(app, "#weekly-done-text"), what="the review done")
        done = text(app, "#weekly-done-text")
        assert "no answers recorded (every question skipped)" in done and "2 still waiting" in done
        assert weekly(profile)["status"] == "done"
        await pilot.press("enter")  # closes it
        await until(pilot, lambda: not isinstance(app.screen, WeeklyReviewScreen), what="the review closed")
    queue = call(profile, "actions.list", {"status": ["awaiting_approval"]})["actions"]
    assert sorted(a["kind"] for a in queue) == ["memory.update", "plans.edit"]


async def test_every_step_by_its_keys_and_a_review_left_mid_way_resumes_there(daemon, profile):
    week = the_week().key
    app = create_app(profile, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the connection")
        await pilot.press("W")
        await at_step(pilot, "week")
        await pilot.press("n")  # skipped
        await at_step(pilot, "questions")
        await until(pilot, lambda: weekly(profile)["step"] == "questions", what="the step recorded")

        await pilot.press("escape")  # leave mid-review
        await until(pilot, lambda: not isinstance(app.screen, WeeklyReviewScreen), what="the review left")
        await pilot.press("W")  # and come back: the same step
        await at_step(pilot, "questions")
        assert f"Weekly review · {week} · resumed at Questions" in text(app, "#review-title")

        table = app.screen.query_one("#questions-table")
        assert table.row_count == 3
        await pilot.press("t")  # nothing answered yet: says what to do
        await until(pilot, lambda: any("Answer it first" in n.message for n in app._notifications), what="the hint")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, LineInputScreen), what="the answer input")
        await pilot.press(*"Keep the plan, outline first")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, WeeklyReviewScreen), what="back from the input")
        await pilot.press("t")  # a decision
        assert str(table.get_row_at(0)[0]) == "decision" and str(table.get_row_at(0)[1]) == "Is this still the right plan?"
        assert "decision: Keep the plan, outline first (not recorded yet)" in text(app, "#questions-detail")  # whole
        await pilot.press("j", "e")
        await until(pilot, lambda: isinstance(app.screen, LineInputScreen), what="the second answer input")
        await pilot.press(*"Late emails", "enter")
        await until(pilot, lambda: isinstance(app.screen, WeeklyReviewScreen), what="back again")
        await pilot.press("x")  # and skipped after all
        assert str(table.get_row_at(1)[0]) == "skipped"
        await pilot.press("j", "e")
        await until(pilot, lambda: isinstance(app.screen, LineInputScreen), what="the third answer input")
        await pilot.press(*"Ship the workshop", "enter")
        await until(pilot, lambda: isinstance(app.screen, WeeklyReviewScreen), what="back once more")
        assert "2 answered" in text(app, "#questions-head")
        await pilot.press("enter")
        await at_step(pilot, "proposals")
        await until(pilot, lambda: len(app.screen.query_one("#step-questions").states) == 2
                    and set(app.screen.query_one("#step-questions").states.values()) == {"succeeded"},
                    what="the answers in memory")

        pane = app.screen.query_one("#step-proposals")
        await until(pilot, lambda: len(pane.waiting) == 2, what="the week's two proposals")
        first = pane.waiting[0]
        await pilot.press("a")  # approve the highlighted one, with its preview shown
        await until(pilot, lambda: pane.decisions.get(f"action:{first.id}") == "approve", what="the approval")
        await pilot.press("enter")
        await until(pilot, lambda: "Weekly review done" in text(app, "#weekly-done-text"), what="the review done")
        done = text(app, "#weekly-done-text")
        assert "decision: “Is this still the right plan?” → Keep the plan, outline first (in memory)" in done
        assert "reflection: “What is the one thing for next week?” → Ship the workshop (in memory)" in done
        assert "proposals: 1 approved; 1 still waiting" in done

    hits = call(profile, "memory.search", {"query": "", "tag": "weekly-review"})["hits"]
    kinds = {h["title"]: h["kind"] for h in hits if h["kind"] in ("decision", "reflection")}
    assert kinds == {"Keep the plan, outline first": "decision", "Ship the workshop": "reflection"}
    assert weekly(profile)["status"] == "done"


async def test_the_palette_opens_the_weekly_review(daemon, profile):
    app = create_app(profile, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the connection")
        await pilot.press("ctrl+p")
        await pilot.press(*"Weekly review")
        await pilot.press("enter")
        await at_step(pilot, "week")
