"""Snapshot tests of the TUI (SVG under tests/__snapshots__/). Update with `pytest --snapshot-update`.

Everything shown must be stable: captures are seeded with fixed ids (so fixed
times) and shown in UTC, and the unreachable state uses a fixed profile path
that never exists. The Today screenshot shows a day built by hand (fixed date,
ages and times) posted as the daemon's answer, with the display clock frozen; the
Memory screenshot likewise shows search results and a budget built by hand, and the
Plans screenshot a PLANS.md parsed from text written here.
"""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from textual.widgets import Input
from conftest import DaemonProcess

from oxymus import plans
from oxymus.agents.dayplan import DayPlan, PlanItem, PlanSlot
from oxymus.client.protocol import PlansResult, TodayPlanResult
from oxymus.memory import records as mem
from oxymus.models import SourceView
from oxymus.profile import paths as paths_mod
from oxymus.today.view import (
    Today, TodayBill, TodayDeadline, TodayEvent, TodayIssue, TodayProblem, TodayPullRequest, TodayRepo,
)
from oxymus.tui.app import create_app
from oxymus.tui.link.messages import BudgetLoaded, MemorySearched, PlansLoaded, TodayLoaded, TodayPlanLoaded
from oxymus.tui.screens.capture import CaptureScreen
from oxymus.tui.screens.inbox import InboxScreen
from oxymus.tui.screens.memory import MemoryScreen
from oxymus.tui.screens.plans import PlansScreen
from oxymus.tui.screens.today import TodayScreen

SIZE = (100, 30)
# 2025-03-14 09:26:53 UTC, then a few minutes and hours apart.
FIXED_MS = 1_741_944_413_000
SEED = [
    (FIXED_MS, "renew the passport before the summer trip"),
    (FIXED_MS + 7 * 60_000, "idea: a weekly review that writes itself from the activity log"),
    (FIXED_MS + 3 * 3_600_000, "call the dentist"),
]
NO_DAEMON_HOME = "/tmp/oxymus-tui-snapshot-no-daemon"


async def until(pilot, predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await pilot.pause(0.02)


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def seeded_daemon(profile, utc):
    from oxymus.kernel.ulid import new_ulid
    from oxymus.store import capture_sql, db

    conn = db.connect(profile.db_file)
    try:
        for ms, text in SEED:
            capture_sql.add_sync(conn, text, "cli", capture_id=new_ulid(ms=ms))
    finally:
        conn.close()
    daemon = DaemonProcess(profile).start()
    yield daemon
    daemon.stop()


def _inbox_ready(app) -> bool:
    screen = app.screen_stack[0]
    return (
        isinstance(screen, InboxScreen) and app.connection.connected and "Connected" in screen.status_bar.text
        and screen.table.row_count == len(SEED)
    )


async def _open_inbox(pilot):
    await until(pilot, lambda: pilot.app.connection.connected, what="the connection")
    await pilot.press("2")
    await until(pilot, lambda: _inbox_ready(pilot.app), what="the seeded inbox")


def test_snapshot_inbox(seeded_daemon, snap_compare):
    app = create_app(seeded_daemon.paths, start_daemon=False)

    async def run_before(pilot):
        await pilot.pause()
        await _open_inbox(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_capture_dialog(seeded_daemon, snap_compare):
    app = create_app(seeded_daemon.paths, start_daemon=False)

    async def run_before(pilot):
        await pilot.pause()
        await _open_inbox(pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CaptureScreen), what="the capture dialog")
        await pilot.press(*"pick up the parcel")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_daemon_unreachable(utc, snap_compare):
    assert not os.path.exists(NO_DAEMON_HOME), f"{NO_DAEMON_HOME} must not exist for this test"
    paths = paths_mod.resolve({"OXYMUS_HOME": NO_DAEMON_HOME})
    # A constant delay keeps the message the same however long the screenshot takes.
    app = create_app(paths, start_daemon=False, retry_initial=5.0, retry_max=5.0)

    async def run_before(pilot):
        await pilot.pause()
        await until(pilot, lambda: "unreachable" in app.screen_stack[0].status_bar.text, what="the unreachable message")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# ---- Today: a day built by hand, so every date, time and age is fixed ----------

NOW = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)  # 10:30 in Berlin
RECEIVED = NOW.timestamp() - 3  # the answer arrived three seconds before the screenshot


def _utc(local: str) -> str:
    """A Berlin wall time in November (UTC+1) as the daemon's UTC timestamp."""
    return (dt.datetime.fromisoformat(local) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _source(name: str, status: str, age: float | None, **extra) -> SourceView:
    last = None if age is None else (NOW - dt.timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return SourceView(source=name, interval=300, stale_after=3600, last_success=last, status=status, age_s=age,
                      stale=status == "stale", **extra)


def handcrafted_day() -> Today:
    event = lambda key, summary, start, end, s, e, **kw: TodayEvent(  # noqa: E731
        key=key, summary=summary, start=start, end=end, source="calendar.personal", starts_at=_utc(s), ends_at=_utc(e), **kw)
    return Today(
        date="2026-11-21", zone="Europe/Berlin", generated_at="2026-11-21T09:29:57.000Z",
        events=[
            event("e1", "Offsite in Leipzig", "2026-11-20", "2026-11-22", "2026-11-20T00:00", "2026-11-23T00:00",
                  all_day=True, day_of=[2, 3]),
            event("e2", "Standup", "09:00", "09:15", "2026-11-21T09:00", "2026-11-21T09:15", recurring=True),
            event("e3", "Dentist", "10:00", "11:00", "2026-11-21T10:00", "2026-11-21T11:00", location="Torstr. 12",
                  conflicts=["10:30–11:30 Call with Ana"]),
            event("e5", "Call with Ana", "10:30", "11:30", "2026-11-21T10:30", "2026-11-21T11:30",
                  conflicts=["10:00–11:00 Dentist"]),
            event("e4", "Late party", "22:00", "2026-11-22 02:00", "2026-11-21T22:00", "2026-11-22T02:00", day_of=[1, 2]),
        ],
        deadlines=[
            TodayDeadline(key="d1", summary="Send the tax return", due="2026-11-20 17:00", overdue=True, days_left=-1,
                          source="calendar.work"),
            TodayDeadline(key="d2", summary="Invoice for October", due="2026-11-24 12:00", overdue=False, days_left=3,
                          source="calendar.work"),
        ],
        bills=[
            TodayBill(bill="water", name="Water", amount=48.2, currency="EUR", due="2026-11-14", status="overdue", days_left=-7),
            TodayBill(bill="gym", name="Gym", amount=30, currency="EUR", due="2026-11-21", status="due_today", days_left=0),
            TodayBill(bill="rent", name="Rent", amount=950, currency="EUR", due="2026-11-25", status="upcoming", days_left=4),
        ],
        repos=[TodayRepo(name="blog", path="/code/blog", branch="main", attention=["2 unpushed commits"])],
        pull_requests=[
            TodayPullRequest(title="Add feeds", repo="me/blog", number=4, url="u1", why="review requested"),
            TodayPullRequest(title="Fix the build", repo="me/site", number=9, url="u2", why="CI failing", ci="failure",
                             failing_checks=["lint", "test"]),
        ],
        issues_assigned=1,
        issues=[TodayIssue(title="Crash on start", repo="me/site", number=12, url="u3", labels=["bug"])],
        problems=[TodayProblem(source="bills", key="error:0", message="bills.toml:9: bill 'Domain': amount: not a number")],
        sources=[
            _source("git", "ok", 12.0),
            _source("calendar.personal", "stale", 7260.0),
            _source("github", "failing", 7500.0, consecutive_failures=3, last_error="GitHub refused the token (401)",
                    error_class="unavailable", next_attempt="2026-11-21T09:34:00.000Z"),
            _source("bills", "ok", 30.0),
        ],
    )


def handcrafted_plan() -> TodayPlanResult:
    item = lambda rank, kind, title, why, ref: PlanItem(id=f"c{rank}", rank=rank, kind=kind, title=title, why=why,  # noqa: E731
                                                      rule="overdue", ref_kind="state", ref=ref)
    plan = DayPlan(
        date="2026-11-21", title="Day plan for Saturday 21 November 2026", zone="Europe/Berlin",
        generated_at="2026-11-21T05:30:00.000Z", made="Sat 21 Nov 06:30", working_hours="09:00–18:00", min_slot="30 min",
        top=[item(1, "bill", "Pay Water", "overdue since Sat 14 Nov (7 days ago): 48.20 EUR", "bills.due:water@2026-11-14"),
             item(2, "deadline", "Send the tax return", "overdue: it was due Fri 20 Nov at 17:00", "calendar.deadline:d1"),
             item(3, "review", "Review me/blog#4: Add feeds", "someone is waiting for your review", "u1")],
    )
    slot = lambda s, e: PlanSlot(start=s[11:16], end=e[11:16], starts_at=_utc(s), ends_at=_utc(e),  # noqa: E731
                                 minutes=int((dt.datetime.fromisoformat(e) - dt.datetime.fromisoformat(s)).total_seconds() // 60))
    return TodayPlanResult(date="2026-11-21", zone="Europe/Berlin", plan=plan, made_at="2026-11-21T05:30:00.000Z",
                           free_slots=[slot("2026-11-21T11:30", "2026-11-21T18:00")], working_hours="09:00–18:00")


def _today_app(daemon):
    # A real daemon with no sources (so it never sends another day), and a frozen display clock.
    app = create_app(daemon.paths, start_daemon=False, clock=lambda: NOW.timestamp())
    day, plan = handcrafted_day(), handcrafted_plan()

    async def run_before(pilot):
        await pilot.pause()
        screen = app.screen_stack[0]
        assert isinstance(screen, TodayScreen)
        await until(pilot, lambda: app.connection.connected and screen.today is not None and screen.plan is not None,
                    what="the daemon's day and plan")
        screen.post_message(TodayLoaded(day, RECEIVED))
        screen.post_message(TodayPlanLoaded(plan))
        await until(pilot, lambda: screen.today is day and screen.plan is plan and "Connected" in screen.status_bar.text,
                    what="the day shown")
        await pilot.press("j", "j", "j", "j")  # the cursor on the Dentist, which overlaps the call

    return app, run_before


def test_snapshot_today(utc, daemon, snap_compare):
    app, run_before = _today_app(daemon)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_today_wide(utc, daemon, snap_compare):
    app, run_before = _today_app(daemon)
    assert snap_compare(app, terminal_size=(200, 60), run_before=run_before)


# ---- Memory: results and a budget built by hand ---------------------------------


def _hit(rid: str, kind: str, title: str, body: str, tier: str, tags: list[str], provenance: mem.Provenance) -> mem.SearchHit:
    at = "2026-11-21T09:30:00.000Z"
    record = mem.MemoryRecord(id=rid, kind=kind, title=title, body=body, tags=tags, tier=tier, archived=False,
                              provenance=provenance, created_at=at, updated_at=at, touched_at=at, version=1)
    return mem.SearchHit.of(record, 1.0, "")


def handcrafted_hits() -> list[mem.SearchHit]:
    return [
        _hit("01JD4KQX5T8M2N9P3R6S7V0W1A", "person", "Anna Schmidt", "Sister. Likes hiking; birthday 3 May.", "hot",
             ["family"], mem.Provenance(source="capture", ref="01JD4KPZ3B7C9D2E4F6G8H0J1K")),
        _hit("01JD4KQX5T8M2N9P3R6S7V0W1B", "decision", "SQLite for everything local",
             "One file per profile, WAL mode, FTS5 for search; no server to run.", "warm", ["oxymus", "storage"],
             mem.Provenance()),
        _hit("01JD4KQX5T8M2N9P3R6S7V0W1C", "commitment", "Send the tax return by the end of November",
             "The advisor needs the receipts first.", "hot", [], mem.Provenance(source="import", ref="vault/tax.md")),
        _hit("01JD4KQX5T8M2N9P3R6S7V0W1D", "preference", "Coffee", "", "cold", [], mem.Provenance(source="agent")),
    ]


def test_snapshot_memory(utc, daemon, snap_compare):
    # A real daemon with no memory (so no event brings other results), then the results posted by hand.
    app = create_app(daemon.paths, start_daemon=False)
    hits = handcrafted_hits()
    budget = mem.BudgetReport(limit_words=1500, used_words=312, over=False, records=[])

    async def run_before(pilot):
        await pilot.pause()
        await until(pilot, lambda: app.connection.connected, what="the connection")
        await pilot.press("3")
        # Settled: answered, nothing out, nothing typed waiting (a busy machine can take longer than
        # SEARCH_STALE, and a search still out would answer over the hits posted below).
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen) and app.screen.searched
                    and app.screen.shown_ticket == app.screen.wanted_ticket and not app.screen._in_flight
                    and not app.screen._pending and app.screen._timer is None and app.screen._stale is None,
                    what="the daemon's (empty) answer")
        screen = app.screen
        screen.post_message(MemorySearched(screen.wanted_ticket, "", None, None, hits))
        screen.post_message(BudgetLoaded(budget))
        await until(pilot, lambda: screen.table.row_count == len(hits)
                    and "hot 312/1500" in str(screen.query_one("#summary").render()), what="the results shown")
        for box in screen.query(Input):
            box.cursor_blink = False  # a blinking cursor is in either phase when the picture is taken
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# ---- Plans: a PLANS.md parsed from text written here ------------------------------

PLANS_PATH = "/home/me/notes/PLANS.md"
PLANS_TEXT = (
    "# Plans for the winter\r\n\r\n## Goals\r\n- Ship Oxymus 0.2 before the holidays\r\n- Write one post a month\r\n\r\n"
    "## Next actions\r\n- [ ] Release 0.2\r\n  - [x] Tag the release candidate (done 2026-11-20)\r\n"
    "  - [ ] Write the changelog\r\n    - [ ] Collect merged PRs\r\n- [ ] Review the PR about calendar time zones\r\n\r\n"
    "### Office\r\n- [ ] Order a second monitor\r\n\r\n"
    "## Publishing order\r\n1. [published 2026-11-01] Why I moved to SQLite — why-sqlite\r\n"
    "2. [draft] Local-first sync, part 2\r\n3. [scheduled 2026-12-03] Notes from a conference\r\n4. [someday] Ideas\r\n"
)


def test_snapshot_plans(utc, daemon, snap_compare):
    # A real daemon with no PLANS.md (so no plans.changed brings another), then a plan posted by hand.
    app = create_app(daemon.paths, start_daemon=False)
    result = PlansResult(path=PLANS_PATH, exists=True, document=plans.parse(PLANS_TEXT.encode(), PLANS_PATH),
                         error=None, read_at="2026-11-21T09:30:00.000Z")

    async def run_before(pilot):
        await pilot.pause()
        await until(pilot, lambda: app.connection.connected, what="the connection")
        await pilot.press("4")
        await until(pilot, lambda: isinstance(app.screen, PlansScreen) and app.screen.result is not None,
                    what="the daemon's (missing) plan")
        screen = app.screen
        screen.post_message(PlansLoaded(result))
        await until(pilot, lambda: screen.result is result and screen.table.row_count == 8
                    and "Connected" in screen.status_bar.text, what="the plan shown")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
