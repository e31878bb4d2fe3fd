"""The cockpit's screens at two sizes in a light and a dark theme (SVG under tests/__snapshots__/).

Today, Inbox, Approvals and every step of the morning review (Yesterday, Calendar, Inbox, Approvals,
Top three, Done), each at 80x24 and 160x50, in "textual-light" and "textual-dark" (`[ui] theme` in the
profile's config.toml, as a person sets it). Every date is fixed: the daemon's clock is pinned by
OXYMUS_NOW and its stores seeded (tests/cockpit_seed.py), the TUI's display clock is frozen, and the
Today and Approvals sections show a day and a queue built by hand (tests/test_tui_snapshots.py,
tests/test_tui_approvals.py); the review shows the daemon's own. Update with `--snapshot-update`,
then read the new SVGs' text.
"""

from __future__ import annotations

import time

import pytest

import cockpit_seed as seed
from conftest import until
from oxymus.tui.app import create_app
from oxymus.tui.link.messages import ActionLoaded, ApprovalsLoaded, TodayLoaded, TodayPlanLoaded, WaitingCounted
from oxymus.tui.screens.approvals import ApprovalsScreen
from oxymus.tui.screens.inbox import InboxScreen
from oxymus.tui.screens.review import ReviewScreen
from oxymus.tui.screens.today import TodayScreen
from test_tui_approvals import handcrafted_detail, handcrafted_queue
from test_tui_snapshots import RECEIVED, handcrafted_day, handcrafted_plan

SIZES = {"80x24": (80, 24), "160x50": (160, 50)}
THEMES = ("textual-light", "textual-dark")
# The morning review walked to each step: Enter carries yesterday's items and moves on, `n` skips
# (so nothing is accepted or decided on the way), Enter on Top three writes the day plan.
WALK = {"yesterday": (), "calendar": ("enter",), "inbox": ("enter", "enter"), "approvals": ("enter", "enter", "n"),
        "top": ("enter", "enter", "n", "n"), "done": ("enter", "enter", "n", "n", "enter")}
SCREENS = ("today", "inbox", "approvals", *(f"review-{step}" for step in WALK))


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def _connected(pilot) -> None:
    app = pilot.app
    await pilot.pause()
    await until(pilot, lambda: app.connection.connected and "Connected" in app.screen_stack[0].status_bar.text,
                what="the connection")


async def _today(pilot) -> None:
    app = pilot.app
    screen = app.screen_stack[0]
    assert isinstance(screen, TodayScreen)
    await until(pilot, lambda: app.connection.connected and screen.today is not None and screen.plan is not None,
                what="the daemon's day and plan")
    day, plan = handcrafted_day(), handcrafted_plan()
    screen.post_message(TodayLoaded(day, RECEIVED))
    screen.post_message(TodayPlanLoaded(plan))
    await until(pilot, lambda: screen.today is day and screen.plan is plan and "Connected" in screen.status_bar.text,
                what="the day shown")


async def _inbox(pilot) -> None:
    app = pilot.app
    await _connected(pilot)
    await pilot.press("2")
    await until(pilot, lambda: isinstance(app.screen, InboxScreen) and app.screen.table.row_count == len(seed.CAPTURES)
                and len(app.connection.suggestions) == len(seed.CAPTURES), what="the inbox with its suggestions")
    await pilot.pause()


async def _approvals(pilot) -> None:
    """A queue built by hand (tests/test_tui_approvals.py): a real action's story has random ids and audit times."""
    app = pilot.app
    await _connected(pilot)
    await pilot.press("5")
    await until(pilot, lambda: isinstance(app.screen, ApprovalsScreen) and app.screen.loaded
                and app.screen.table.row_count == 1, what="the daemon's queue")
    screen, queue = app.screen, handcrafted_queue()
    screen.post_message(ApprovalsLoaded(queue))
    # The daemon does not know these ids: wait for its "no action" so it cannot land after the story.
    await until(pilot, lambda: screen.detail_error is not None, what="the daemon's answer about the first")
    screen.post_message(ActionLoaded(handcrafted_detail(queue[0])))
    screen.post_message(WaitingCounted(3))
    await until(pilot, lambda: screen.detail is not None and screen.detail.action.id == queue[0].id
                and "3 waiting" in screen.status_bar.attention, what="the story shown")
    await pilot.pause()


def _review(step: str):
    async def walk(pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.view is not None,
                    what="the review loaded")
        for key in WALK[step]:
            before = app.screen.step
            await pilot.press(key)
            await until(pilot, lambda: app.screen.step != before, what=f"the review past {before}")
        if step == "done":
            await until(pilot, lambda: "Review done" in str(app.screen.query_one("#done-text").render()),
                        what="the day plan written")
        await until(pilot, lambda: "Connected" in app.screen_stack[0].status_bar.text, what="the connection")
        await pilot.pause()

    return walk


RUN = {"today": _today, "inbox": _inbox, "approvals": _approvals, **{f"review-{s}": _review(s) for s in WALK}}


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", SCREENS)
def test_snapshot_cockpit(screen, size, theme, profile, monkeypatch, utc, snap_compare):
    daemon = seed.start(profile, monkeypatch, theme=theme)
    monkeypatch.setenv("HOME", profile.home)  # paths in the profile are written from ~, the same in every run
    try:
        app = create_app(profile, start_daemon=False, clock=lambda: seed.APP_NOW, review=screen.startswith("review-"))
        assert app.theme == theme
        assert snap_compare(app, terminal_size=SIZES[size], run_before=RUN[screen])
    finally:
        daemon.stop()
