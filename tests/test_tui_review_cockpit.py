"""The morning review's Calendar and Inbox steps against a real daemon whose day is pinned (tests/cockpit_seed.py):
all-day events come first on the Calendar step, as on Today; the Inbox step follows captures added and
triaged elsewhere while the review is open."""

from __future__ import annotations

import pytest

import cockpit_seed as seed
from conftest import until
from oxymus.tui.app import create_app
from oxymus.tui.screens.review import ReviewScreen

SIZE = (80, 24)
LATER = "renew the passport before the summer trip"


@pytest.fixture
def cockpit(profile, monkeypatch):
    d = seed.start(profile, monkeypatch)
    yield d
    d.stop()


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def at_step(pilot, step: str) -> ReviewScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.view is not None
                and app.screen.step == step, what=f"the review at {step}")
    return app.screen


def shown(screen: ReviewScreen) -> list[str]:
    return [e.capture.text for e in screen.query_one("#step-inbox").entries]


async def test_the_calendar_step_shows_all_day_events_before_the_timed_ones_and_the_now_line(cockpit, profile):
    app = create_app(profile, start_daemon=False, review=True, clock=lambda: seed.APP_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await at_step(pilot, "yesterday")
        await pilot.press("n")
        await at_step(pilot, "calendar")
        lines = [ln.strip() for ln in text(app, "#calendar-timeline").splitlines()]
        assert lines[0].startswith("Working hours 09:00–18:00")
        assert lines[1] == "all day       Offsite in Leipzig"
        first_timed = min(i for i, ln in enumerate(lines) if "Standup" in ln)
        now_line = next(i for i, ln in enumerate(lines) if ln.startswith("── now 10:30"))
        assert 1 < first_timed < now_line  # the standup (09:00) is over, the now line (10:30) follows it
        assert lines.index("all day       Offsite in Leipzig") < first_timed


async def test_the_inbox_step_follows_captures_added_and_triaged_elsewhere(cockpit, profile):
    app = create_app(profile, start_daemon=False, review=True, clock=lambda: seed.APP_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await at_step(pilot, "yesterday")
        await pilot.press("n", "n")
        screen = await at_step(pilot, "inbox")
        assert sorted(shown(screen)) == sorted([seed.SURE, seed.CALL, seed.IDEA])
        assert text(app, "#inbox-review-head").startswith("3 open captures")

        with cockpit.client("phone") as c:  # another client captures while the review is open
            added = c.call("capture.add", {"text": LATER})["capture"]["id"]
        await until(pilot, lambda: shown(screen)[:1] == [LATER], what="the new capture on top of the step")
        assert text(app, "#inbox-review-head").startswith("4 open captures")

        table = screen.query_one("#inbox-review-table")
        table.move_cursor(row=shown(screen).index(seed.IDEA))
        await pilot.press("x")  # archived here: it keeps its row and mark
        await until(pilot, lambda: str(table.get_row_at(shown(screen).index(seed.IDEA))[0]) == "✓ archived",
                    what="the archive mark")

        with cockpit.client("laptop") as c:  # and another triages one: it leaves the step
            c.call("inbox.triage", {"capture_id": added, "to": "archive"})
        await until(pilot, lambda: LATER not in shown(screen), what="the capture triaged elsewhere gone")
        assert seed.IDEA in shown(screen)  # decided here: still shown with its mark
        assert str(table.get_row_at(shown(screen).index(seed.IDEA))[0]) == "✓ archived"
        assert table.cursor_row == shown(screen).index(seed.IDEA)  # the cursor stayed on its capture
