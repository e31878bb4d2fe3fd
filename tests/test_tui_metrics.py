"""The Metrics section, driven through Pilot against a real daemon whose store holds three months of
seeded history (tests/metrics_seed.py, "now" pinned to 2026-10-20 12:00 UTC, months in Europe/Berlin).

The figures asserted are the ones tests/test_metrics.py works out by hand, as the screen words them.
Nothing sleeps to wait for state: `until` polls a condition with a deadline, letting the app run.
"""

from __future__ import annotations

import asyncio

import pytest
from conftest import run_cli, start_daemon, until
from metrics_seed import NOW, ZONE, seed
from textual.widgets import Label, Static

from oxymus.time.clock import PIN_ENV
from oxymus.tui.app import OxymusApp, create_app
from oxymus.tui.screens.help import HelpScreen
from oxymus.tui.screens.metrics import LEGEND, MetricsScreen
from oxymus.tui.screens.records import RecordsScreen

SIZE = (100, 34)


@pytest.fixture
def seeded(profile, monkeypatch):
    profile.ensure()
    asyncio.run(seed(profile.data_dir))
    monkeypatch.setenv(PIN_ENV, NOW.isoformat())
    daemon = start_daemon(profile, config=f'[time]\nzone = "{ZONE}"\n')
    yield daemon
    daemon.stop()


def screen_of(app: OxymusApp) -> MetricsScreen:
    screen = app.screen
    assert isinstance(screen, MetricsScreen)
    return screen


def lines(app: OxymusApp) -> dict[str, str]:
    """Each shown row's text (trailing spaces dropped), by row key."""
    table = screen_of(app).table
    return {row.key: table.get_row_at(i)[0].plain.rstrip() for i, row in enumerate(table.rows_shown)}


def label(app: OxymusApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def open_metrics(pilot, months: int = 6) -> MetricsScreen:
    app = pilot.app
    await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
    await pilot.press("8")
    await until(pilot, lambda: isinstance(app.screen, MetricsScreen) and app.screen.result is not None
                and len(app.screen.result.months) == months and app.screen.table.rows_shown, what="the metrics")
    return app.screen


async def test_the_screen_shows_each_metric_with_its_sparkline_latest_value_change_and_items(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_metrics(pilot)
        assert label(app, "#metrics-title") == "Last 6 months (May–Oct 2026, Europe/Berlin) · computed 14:00"
        assert label(app, "#metrics-head").split() == ["Metric", "M", "J", "J", "A", "S", "O", "Latest", "vs", "month",
                                                       "before", "Items"]
        shown = lines(app)
        assert list(shown) == [
            "§handoffs", "handoffs.all", "§resolution", "resolution.lead_first_reply", "resolution.idea_published",
            "resolution.capture_triaged", "resolution.approval_wait", "§errors", "errors.runs", "errors.actions",
            "§agents", "agents.bot.unchanged",
        ], "per-flow and per-outcome rows wait for Enter"
        assert shown["§handoffs"].strip() == "Manual handoffs per finished item · fewer is better"
        # Aug 1.50, Sep 1.17, Oct 1.00 over 0..1.5: the months before have no data (gaps, not zeros).
        assert shown["handoffs.all"].split() == ["▸", "All", "work", "·", "·", "·", "█", "▆", "▆", "1.00", "/item",
                                                 "↓", "14%", "better", "3", "items"]
        # Nothing in October: the latest month with data is named; one item says so.
        assert shown["resolution.lead_first_reply"].split()[-9:] == ["·", "6.0", "h", "Sep", "↓", "75%", "better", "1",
                                                                     "item"]
        assert shown["resolution.idea_published"].split()[3:] == ["·", "·", "·", "·", "█", "·", "31.0", "days", "Sep",
                                                                  "–", "1", "item"]
        assert shown["resolution.approval_wait"].split()[-7:] == ["38", "min", "↓", "38%", "better", "2", "items"]
        # From 0 a percentage means nothing: the change in the metric's own unit.
        assert shown["errors.runs"].split()[-7:] == ["50.0", "/100", "↑", "+50.0", "worse", "2", "items"]
        assert shown["agents.bot.unchanged"].split()[-6:] == ["100%", "↑", "67pt", "better", "2", "items"]
        better = screen.table.get_row("handoffs.all")[0]
        assert any("green" in str(span.style) for span in better.spans if "better" in better.plain[span.start:span.end])
        worse = screen.table.get_row("errors.runs")[0]
        assert any("red" in str(span.style) for span in worse.spans if "worse" in worse.plain[span.start:span.end])
        assert str(screen.query_one("#metrics-legend", Static).render()) == LEGEND

        # The panel says what the row under the cursor measures, month by month.
        assert screen.table.current_row.key == "handoffs.all"
        about = str(screen.query_one("#metrics-about", Static).render())
        assert "every action and record flow together" in about
        assert "Aug 1.50 (2) · Sep 1.17 (6) · Oct 1.00 (3)" in about and "May –" in about
        await pilot.press("j", "j")
        assert screen.table.current_row.key == "resolution.lead_first_reply"
        assert "first move out of “new”" in str(screen.query_one("#metrics-about", Static).render())
        await pilot.press("j")
        about = str(screen.query_one("#metrics-about", Static).render())
        assert "No change shown: it is the first month with data." in about and "Sep's value is one item" in about

        # Enter shows the handoffs per flow, and folds them again.
        await pilot.press("g", "j", "enter")
        await until(pilot, lambda: "handoffs.record:lead" in lines(app), what="the flows")
        flows = lines(app)
        assert list(flows)[1:5] == ["handoffs.all", "handoffs.record:lead", "handoffs.record:post", "handoffs.test.do"]
        assert flows["handoffs.all"].split()[0] == "▾"
        assert flows["handoffs.record:post"].split()[:2] == ["post", "records"]
        assert screen.table.current_row.key == "handoffs.all", "the cursor stays on the row it expanded"
        await pilot.press("enter")
        await until(pilot, lambda: "handoffs.record:lead" not in lines(app), what="the flows folded")

        # An agent's four outcomes.
        await pilot.press("G", "enter")
        await until(pilot, lambda: "agents.bot.denied" in lines(app), what="the agent's outcomes")
        outcomes = lines(app)
        assert list(outcomes)[-4:] == ["agents.bot.unchanged", "agents.bot.edited", "agents.bot.denied", "agents.bot.expired"]
        assert outcomes["agents.bot.denied"].split()[-6:] == ["0%", "↓", "33pt", "better", "2", "items"]
        assert outcomes["agents.bot.edited"].split()[:2] == ["edited", "first"]


async def test_m_cycles_the_months_and_keeps_the_last_figures_while_computing(seeded):
    app = create_app(seeded.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_metrics(pilot)
        await pilot.press("m")
        assert screen.months == 12 and screen.table.display and lines(app), "the last figures stay shown meanwhile"
        await until(pilot, lambda: len(screen.result.months) == 12 and not screen.refreshing, what="12 months")
        assert label(app, "#metrics-head").split()[1] == "NDJFMAMJJASO"
        assert label(app, "#metrics-title").startswith("Last 12 months (Nov 2025–Oct 2026, Europe/Berlin)")
        assert "12 months" in str(screen.query_one("#summary", Label).render())
        # July's failed triage run is in a 12-month window: 100 per 100 from one run.
        assert "········█▃▁▅" in lines(app)["errors.runs"]
        await pilot.press("m")
        await until(pilot, lambda: len(screen.result.months) == 3, what="3 months")
        assert label(app, "#metrics-head").split()[1:4] == ["Aug", "Sep", "Oct"]
        assert lines(app)["handoffs.all"].split()[3:6] == ["███", "▆▆▆", "▆▆▆"]
        await pilot.press("m")
        await until(pilot, lambda: len(screen.result.months) == 6, what="6 months again")
        # r computes again at once (the same figures: nothing changed).
        ticket, shown = app.connection.live.ticket(screen.metrics_query), lines(app)
        await pilot.press("r")
        assert app.connection.live.ticket(screen.metrics_query) == ticket + 1
        await until(pilot, lambda: not screen.refreshing, what="the new answer")
        assert lines(app) == shown and "computing" not in label(app, "#metrics-title")

        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        text = app.screen.text
        for what in ("Months shown: 3, 6 or 12, in turn", "Compute the metrics again now", "Expand or fold", "Next row",
                     "Go to Metrics"):
            assert what in text


async def test_a_record_change_refreshes_the_open_screen_and_a_hidden_one_waits_until_shown(daemon):
    """On a profile with nothing finished yet (real time: what is done now falls in this month)."""
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
        await pilot.press("8")
        await until(pilot, lambda: isinstance(app.screen, MetricsScreen) and app.screen.result is not None, what="the answer")
        screen = app.screen
        assert label(app, "#metrics-empty").startswith("No finished items yet")
        with daemon.client() as conn:
            lead = conn.call("records.add", {"kind": "lead", "fields": {"name": "Cleo"}})
        # Moved out of "new": the lead's first reply, this month, from one item; nobody pressed r.
        assert run_cli("records", "edit", lead["id"], "--status", "qualified").returncode == 0
        await until(pilot, lambda: screen.table.display and "resolution.lead_first_reply" in lines(app)
                    and lines(app)["resolution.lead_first_reply"].split()[-2:] == ["1", "item"], what="the refreshed figures")
        assert "handoffs.all" in lines(app) and lines(app)["handoffs.all"].split()[-1] == "data", "no flow has finished yet"

        # Out of sight, events only mark it stale; shown again, it computes once.
        query = screen.metrics_query
        await pilot.press("7")
        await until(pilot, lambda: isinstance(app.screen, RecordsScreen), what="Records")
        assert app.connection.live.held(query) is False
        ticket = app.connection.live.ticket(query)
        assert run_cli("records", "edit", lead["id"], "--status", "lost").returncode == 0
        await until(pilot, lambda: app.connection.live.held(query), what="the event, held")
        assert app.connection.live.ticket(query) == ticket and not app.connection.live.pending(query)
        await pilot.press("8")
        await until(pilot, lambda: app.connection.live.ticket(query) == ticket + 1, what="one run on return")
        assert app.connection.live.held(query) is None
        # Lost: Cleo's flow ended, after two moves by hand.
        await until(pilot, lambda: lines(app)["handoffs.all"].split()[-6:] == ["█", "2.00", "/item", "–", "1", "item"],
                    what="the handoffs counting Cleo")

        # The daemon goes away: the last figures stay, the status bar says so.
        daemon.stop()
        await until(pilot, lambda: "unreachable" in screen.status_bar.text, what="the daemon gone")
        assert screen.table.display and lines(app)["handoffs.all"].split()[-2:] == ["1", "item"]


async def test_an_empty_profile_says_nothing_has_finished_yet(daemon):
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
        await pilot.press("8")
        await until(pilot, lambda: isinstance(app.screen, MetricsScreen) and app.screen.result is not None, what="the answer")
        text = label(app, "#metrics-empty")
        assert text.startswith("No finished items yet in the last 6 months.")
        assert not app.screen.table.display and not app.screen.query_one("#metrics-head").display


async def test_without_a_daemon_it_waits_like_every_section(profile):
    app = create_app(profile, start_daemon=False, retry_initial=0.05, retry_max=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("8")
        await until(pilot, lambda: isinstance(app.screen, MetricsScreen)
                    and "unreachable" in app.screen.status_bar.text, what="the unreachable daemon")
        assert label(app, "#metrics-empty") == "Waiting for the daemon…"
        assert app.screen.result is None and not app.screen.table.display


@pytest.mark.parametrize("size", [(80, 24), (120, 34)])
def test_snapshot_metrics(seeded, size, snap_compare):
    """The seeded months (the daemon's clock pinned, so "computed 14:00" too), the flows expanded, the
    cursor on the approval wait; at 80x24 and at a width where the sparklines widen."""
    app = create_app(seeded.paths, start_daemon=False)

    async def run_before(pilot):
        screen = await open_metrics(pilot)
        await until(pilot, lambda: "Connected" in screen.status_bar.text, what="the status line")
        await pilot.press("enter")
        await until(pilot, lambda: "handoffs.test.do" in lines(app), what="the flows")
        for _ in range(8):
            await pilot.press("j")
        assert screen.table.current_row.key == "resolution.approval_wait"
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
