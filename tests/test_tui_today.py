"""The Today screen driven through Pilot against a real daemon polling a real bills.toml.

Dates are computed from today's date in the profile's zone, so "overdue" and
"upcoming" are true whenever the tests run. Nothing sleeps to wait for state:
`until` polls a condition with a deadline while the app runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import signal
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import DaemonProcess, eventually, run_cli, until

from oxymus.client.protocol import Event
from oxymus.profile import paths as paths_mod
from oxymus.today.view import Today
from oxymus.tui.app import OxymusApp, create_app
from oxymus.tui.link.connection import DaemonConnection
from oxymus.tui.link.messages import RefreshFinished, RefreshStarted, TodayLoaded
from oxymus.tui.screens.capture import CaptureScreen
from oxymus.tui.screens.inbox import InboxScreen
from oxymus.tui.screens.today import TODAY, TodayScreen, date_changed
from oxymus.tui.widgets import SourcesPanel

SIZE = (100, 30)
BERLIN = ZoneInfo("Europe/Berlin")


def berlin_today() -> dt.date:
    return dt.datetime.now(BERLIN).date()  # the profile's zone, not the machine's


def bills_toml(extra: str = "") -> str:
    today = berlin_today()
    soon, past = today + dt.timedelta(days=3), today - dt.timedelta(days=5)
    return (
        f'[[bill]]\nname = "Internet"\namount = 39.9\nschedule = "monthly"\nday = {soon.day}\nstart = {soon.isoformat()}\n\n'
        f'[[bill]]\nname = "Tax advisor"\namount = 480\nschedule = "once"\ndate = "{past.isoformat()}"\n' + extra
    )


def write_profile(profile: paths_mod.Paths) -> Path:
    config = Path(profile.config_dir)
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text('[time]\nzone = "Europe/Berlin"\n[bills]\n')
    (config / "bills.toml").write_text(bills_toml())
    return config / "bills.toml"


@pytest.fixture
def bills_daemon(profile):
    write_profile(profile)
    d = DaemonProcess(profile).start()
    yield d
    d.stop()


def today_screen(app: OxymusApp) -> TodayScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, TodayScreen)
    return screen


def shown(app: OxymusApp, part: str) -> str:
    """The plain text of one panel of the Today screen ("" while it is hidden).

    "sources" is the Sources panel when there is room for it, else the one line of freshness
    under the date and, under it, what is wrong with a failing source."""
    screen = today_screen(app)
    if part == "sources" and not screen.query_one("#today-sources").display:
        lines = [screen.query_one(f"#today-{name}") for name in ("freshness", "source-trouble")]
        return "\n".join(str(w.render()) for w in lines if w.display)
    widget = screen.query_one(f"#today-{part}")
    if not widget.display:
        return ""
    return widget.text if isinstance(widget, SourcesPanel) else str(widget.render())


def status(app: OxymusApp) -> str:
    return app.screen_stack[0].status_bar.text


def summary(app: OxymusApp) -> str:
    return str(app.screen_stack[0].query_one("#summary").render())


def bill_line(app: OxymusApp, name: str) -> str:
    return next((line for line in shown(app, "bills").splitlines() if name in line), "")


async def connected_with_bills(pilot):
    app = pilot.app
    await until(pilot, lambda: app.connection.connected and "Connected" in status(app), what="the TUI to connect")
    await until(pilot, lambda: re.search(r"bills\s+ok \d+s", shown(app, "sources")), what="bills polled, with its age")
    await until(pilot, lambda: "Tax advisor" in shown(app, "bills"), what="the bills")


class Recorder:
    """A listener that keeps every message the connection sends."""

    def __init__(self) -> None:
        self.seen: list[object] = []

    def post_message(self, message) -> bool:
        self.seen.append(message)
        return True


async def test_today_is_the_first_screen_with_bills_overdue_marked_and_sources_aged(bills_daemon):
    app = create_app(bills_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        assert app.current_mode == "today" and isinstance(app.screen, TodayScreen)
        await connected_with_bills(pilot)
        day = berlin_today()
        assert shown(app, "header") == f"{day:%A} {day.day} {day:%B %Y} · Europe/Berlin"
        assert "1 Today" in str(app.screen.query_one("#sections").render())

        overdue, upcoming = bill_line(app, "Tax advisor"), bill_line(app, "Internet")
        assert overdue.split()[0] == "OVERDUE" and "480.00 EUR" in overdue and "5 days ago" in overdue
        assert upcoming.split()[0] == "upcoming" and "39.90 EUR" in upcoming and "in 3 days" in upcoming
        assert shown(app, "bills").index("Tax advisor") < shown(app, "bills").index("Internet")
        assert "1 overdue" in summary(app)
        assert "nothing scheduled" in shown(app, "events")

        # Ages tick from the last reply, with no round trip: move the display clock on two minutes.
        loaded = app.connection.live.answer(TODAY)
        real = time.time()
        app.clock = lambda: real + 125
        await until(pilot, lambda: re.search(r"bills\s+ok 2m\d\ds", shown(app, "sources")), 3, "the age to tick")
        assert app.connection.live.answer(TODAY) is loaded, "no reload was needed"


async def test_r_polls_now_and_a_new_bill_appears(bills_daemon):
    app = create_app(bills_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected_with_bills(pilot)
        recorder = Recorder()
        app.connection.listen(recorder)
        bills = Path(bills_daemon.paths.config_dir, "bills.toml")
        bills.write_text(bills_toml(f'[[bill]]\nname = "Gym"\namount = 30\nschedule = "once"\ndate = "{berlin_today().isoformat()}"\n'))
        await pilot.press("r")
        await until(pilot, lambda: "Gym" in shown(app, "bills"), what="the new bill")
        assert bill_line(app, "Gym").strip().startswith("DUE TODAY") and "30.00 EUR" in bill_line(app, "Gym")
        await until(pilot, lambda: any(isinstance(m, RefreshFinished) for m in recorder.seen), what="the refresh to end")
        kinds = [type(m) for m in recorder.seen if isinstance(m, (RefreshStarted, RefreshFinished))]
        assert kinds == [RefreshStarted, RefreshFinished]
        assert [m.error for m in recorder.seen if isinstance(m, RefreshFinished)] == [None]
        assert status(app) == "Connected to the daemon.", "no 'refreshing…' left behind"


async def test_status_bar_says_refreshing_until_the_poll_returns(bills_daemon):
    app = create_app(bills_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected_with_bills(pilot)
        screen = today_screen(app)
        screen.post_message(RefreshStarted())
        await until(pilot, lambda: status(app) == "Connected to the daemon. — refreshing…", what="refreshing…")
        screen.post_message(RefreshFinished())
        await until(pilot, lambda: status(app) == "Connected to the daemon.", what="refreshing… to go")


async def test_a_broken_bills_file_shows_failing_with_the_error_and_keeps_the_bills(bills_daemon):
    app = create_app(bills_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected_with_bills(pilot)
        Path(bills_daemon.paths.config_dir, "bills.toml").write_text(bills_toml('[[bill]]\nname = "Broken\n'))
        await pilot.press("r")
        await until(pilot, lambda: re.search(r"bills failing\n", shown(app, "sources")), what="bills failing")
        sources = shown(app, "sources")
        assert sources.splitlines()[0] == "Sources  bills failing", "at 100 columns: one line of freshness"
        assert sources.splitlines()[1].startswith("bills: ") and "bills.toml: TOML syntax error" in sources
        assert re.search(r"last ok \d+s ago · next try in \d+s", sources)
        assert "Tax advisor" in shown(app, "bills") and "Internet" in shown(app, "bills"), "the last known bills stay"
        assert "1 source failing" in summary(app)


async def test_a_change_polled_elsewhere_shows_up_live(bills_daemon):
    app = create_app(bills_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected_with_bills(pilot)
        Path(bills_daemon.paths.config_dir, "bills.toml").write_text(bills_toml(
            f'[[bill]]\nname = "Phone"\namount = 20\nschedule = "once"\ndate = "{(berlin_today() + dt.timedelta(days=1)).isoformat()}"\n'))
        proc = await asyncio.to_thread(run_cli, "refresh", "bills")  # another client asks; the TUI hears the events
        assert proc.returncode == 0, proc.stderr
        await until(pilot, lambda: "Phone" in shown(app, "bills"), 5, "the bill from the event-driven reload")
        assert "tomorrow" in bill_line(app, "Phone")


async def test_keys_switch_sections_and_c_captures_from_today(bills_daemon):
    app = create_app(bills_daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected_with_bills(pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CaptureScreen), what="the capture dialog over Today")
        await pilot.press(*"from today", "enter")
        await until(pilot, lambda: isinstance(app.screen, TodayScreen), what="back on Today")
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, InboxScreen), what="the inbox")
        assert "2 Inbox" in str(app.screen.query_one("#sections").render())
        await until(pilot, lambda: app.screen.table.row_count == 1, what="the capture in the inbox")
        await pilot.press("1")
        await until(pilot, lambda: isinstance(app.screen, TodayScreen), what="Today again")
        assert "Tax advisor" in shown(app, "bills")


async def test_daemon_gone_keeps_the_day_marked_out_of_date_then_recovers(bills_daemon):
    app = create_app(bills_daemon.paths, start_daemon=False, retry_max=0.5)
    async with app.run_test(size=SIZE) as pilot:
        await connected_with_bills(pilot)
        assert shown(app, "offline") == ""
        bills_daemon.signal(signal.SIGKILL)
        bills_daemon.wait()
        await until(pilot, lambda: "unreachable" in status(app), 5, "the unreachable message")
        assert "may be out of date" in shown(app, "offline")
        assert "Tax advisor" in shown(app, "bills")
        await pilot.press("r")  # while down: retry now, no refresh, still responsive
        await pilot.pause()
        assert app.is_running and not app.connection.refreshing and "refreshing" not in status(app)
        again = await asyncio.to_thread(DaemonProcess(bills_daemon.paths).start)
        try:
            await until(pilot, lambda: "Connected" in status(app), 5, "the reconnect")
            await until(pilot, lambda: shown(app, "offline") == "", what="the out-of-date mark to go")
            assert "Tax advisor" in shown(app, "bills")
        finally:
            await asyncio.to_thread(again.stop)


async def test_no_sources_configured_gives_a_hint(daemon):
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "No sources configured — see `oxymus init`" in shown(app, "sources"), what="the hint")
        assert shown(app, "events") == "" and summary(app) == "no sources"


async def test_usable_at_80x24_the_sources_on_one_line_and_the_cursor_scrolls_the_day(bills_daemon):
    app = create_app(bills_daemon.paths, start_daemon=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected_with_bills(pilot)
        day = berlin_today()
        more = "".join(f'[[bill]]\nname = "Bill {n}"\namount = {n}\nschedule = "once"\ndate = "{day + dt.timedelta(days=n)}"\n'
                       for n in range(1, 14))
        Path(bills_daemon.paths.config_dir, "bills.toml").write_text(bills_toml(more))
        await pilot.press("r")
        await until(pilot, lambda: "Bill 13" in shown(app, "bills"), what="a day longer than the screen")
        screen = today_screen(app)
        assert screen.has_class("-narrow") and not screen.query_one("#today-sources").display
        freshness = screen.query_one("#today-freshness")
        assert freshness.region.height == 1 and re.fullmatch(r"Sources  bills ok \d+s", shown(app, "sources"))
        scroll = screen.query_one("#today-scroll")
        await until(pilot, lambda: scroll.max_scroll_y > 0, what="more than fits: the day scrolls")
        await pilot.press("G")  # the last row: the cursor's line is scrolled into view
        await until(pilot, lambda: scroll.scroll_y > 0, what="scrolling down")
        assert "Bill 13" in screen.selected.item.name
        bills = screen.query_one("#today-bills")
        line = bills.region.y + bills.render().plain.splitlines().index(
            next(x for x in bills.render().plain.splitlines() if "Bill 13" in x))
        assert scroll.region.y <= line < scroll.region.y + scroll.region.height
        await pilot.press("g")
        await until(pilot, lambda: scroll.scroll_y == 0, what="back to the top")
        assert screen.selected.kind == "bill" and "Tax advisor" in screen.selected.item.name


# ---- the connection's reloads, without a daemon ---------------------------------


def _day(date: str) -> Today:
    return Today(date=date, zone="Europe/Berlin", generated_at="2026-11-21T07:00:00.000Z", events=[], deadlines=[],
                 bills=[], repos=[], pull_requests=[], issues_assigned=0, problems=[], sources=[])


class FakeClient:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def call(self, method, params=None, model=None, timeout=10.0):
        self.calls.append(method)
        return _day(berlin_today().isoformat())


async def test_a_burst_of_events_costs_one_reload_and_midnight_costs_one(tmp_path):
    conn = DaemonConnection(paths_mod.resolve({"OXYMUS_HOME": str(tmp_path)}), start_daemon=False, date_check_interval=0.05,
                            queries=(TODAY,))
    recorder = Recorder()
    conn.listen(recorder)
    client = FakeClient()
    conn.client, conn._loaded = client, True
    conn.live.answers[TODAY.name] = _day(berlin_today().isoformat())
    task = asyncio.create_task(conn._keep_fresh())
    try:
        for _ in range(10):  # ten events within ~50 ms
            conn.live.event(Event(topic="state.changed", ts="2026-11-21T12:00:00Z"))
            await asyncio.sleep(0.005)
        await eventually(lambda: client.calls, what="the reload")
        # The burst is over once the debouncer waits for the next event again: nothing more may follow.
        await eventually(lambda: not conn.live.pending(TODAY) and len(client.calls) == 1, what="the loop to go idle")
        assert client.calls == ["today.get"]
        assert sum(isinstance(m, TodayLoaded) for m in recorder.seen) == 1

        conn.live.answers[TODAY.name] = _day((berlin_today() - dt.timedelta(days=1)).isoformat())  # midnight just passed
        await eventually(lambda: len(client.calls) == 2, what="the reload for the new date")
        await eventually(lambda: conn.live.answer(TODAY).date == berlin_today().isoformat(), what="the new day")
        assert client.calls == ["today.get", "today.get"], "one reload for the new date"
        assert conn.live.answer(TODAY).date == berlin_today().isoformat()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_date_changed_uses_the_days_zone():
    # 2026-11-21 23:30 UTC is already 2026-11-22 in Berlin.
    late = dt.datetime(2026, 11, 21, 23, 30, tzinfo=dt.timezone.utc).timestamp()
    assert date_changed(_day("2026-11-21"), late)
    assert not date_changed(_day("2026-11-22"), late)
    assert not date_changed(None, late)
