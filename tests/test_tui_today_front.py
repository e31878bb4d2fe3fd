"""Today as the cockpit's front page, through Pilot against a real daemon: the day plan's top three,
Enter on each kind of row, and the layout at 80x24 and 200x60.

The daemons poll real sources: bills.toml, an ICS file, a git repository and a loopback
GitHub (tests/github_server.py). The URL opener and the shell are replaced on the screen
so a test sees the URL or the folder without opening anything. Nothing sleeps to wait.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import BIG_PAYMENTS_NEED_ME, DaemonProcess, until, write_config
from git_helpers import git, isolated_git  # noqa: F401
from github_server import github_server  # noqa: F401
from rich.cells import cell_len
from test_tui_today import BERLIN, berlin_today, bills_toml, connected_with_bills, shown, summary, today_screen

from oxymus.tui.app import OxymusApp, create_app
from oxymus.tui.outside import CannotOpen
from oxymus.tui.screens.confirm import ConfirmScreen
from oxymus.tui.screens.today import TodayScreen
from oxymus.tui.screens.today_detail import EventScreen, RepoScreen

POLICY = BIG_PAYMENTS_NEED_ME


def notes(app: OxymusApp) -> list[str]:
    return [n.message for n in app._notifications]


async def select(pilot, screen: TodayScreen, kind: str, has: str = "") -> None:
    """Move the cursor with j (from the first row) to the first row of this kind whose line holds `has`."""
    await pilot.press("g")
    for _ in range(len(screen.rows) + 1):
        row = screen.selected
        if row is not None and row.kind == kind and has in _line(screen, row.key):
            return
        await pilot.press("j")
    raise AssertionError(f"no {kind} row with {has!r}: {[r.key for _, r in screen.rows]}")


def _part(screen: TodayScreen, key: str) -> str:
    return next(part for part, row in screen.rows if row.key == key)


def _line(screen: TodayScreen, key: str) -> str:
    panel = screen._panels[_part(screen, key)]
    return str(panel.text(key)).splitlines()[panel.line_of(key)]


# ---- the day plan ----------------------------------------------------------------------


@pytest.fixture
def policy_daemon(profile):
    write_config(profile, '[time]\nzone = "Europe/Berlin"\n[bills]\n', bills_toml=bills_toml())
    Path(profile.policy_file).write_text(POLICY)
    d = DaemonProcess(profile).start()
    yield d
    d.stop()


async def test_the_top_three_come_from_the_day_plan_and_p_makes_one(policy_daemon):
    app = create_app(policy_daemon.paths, start_daemon=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected_with_bills(pilot)
        await until(pilot, lambda: "No day plan yet" in shown(app, "plan"), what="no plan yet, said once")
        plan = shown(app, "plan").splitlines()
        assert len(plan) == 2 and "p makes one now" in plan[1] and "planner runs at 06:30" in plan[1]

        await pilot.press("p")  # agents.run planner: the artifact is saved, artifact.saved reloads the plan
        await until(pilot, lambda: "1 Pay Tax advisor" in shown(app, "plan"), what="the plan's top three")
        with policy_daemon.client() as conn:
            stored = conn.call("artifacts.list", {"kind": "day_plan", "key": berlin_today().isoformat()})["artifacts"]
        top = [item["title"] for item in stored[0]["data"]["top"]]
        lines = shown(app, "plan").splitlines()
        assert lines[0].startswith("Top three · made ")
        assert [re.match(r"  \d (.*?) — ", line).group(1) for line in lines[1:]] == top == ["Pay Tax advisor"]
        assert "overdue" in lines[1]
        await until(pilot, lambda: any("day plan for" in n for n in notes(app)), what="the planner's summary")

        # The top item is a bill: the first row, and Enter acts on that bill.
        screen = today_screen(app)
        await pilot.press("g")
        assert screen.selected.kind == "bill" and screen.selected.key.startswith("plan:")
        assert "⏎ mark paid" in shown(app, "plan").splitlines()[0]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert "Mark Tax advisor paid?" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("y")
        await until(pilot, lambda: any("Tax advisor" in n and "waiting for your approval" in n for n in notes(app)),
                    what="the decision")


async def test_enter_on_a_bill_proposes_mark_paid_and_shows_what_the_policy_decided(policy_daemon):
    app = create_app(policy_daemon.paths, start_daemon=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected_with_bills(pilot)
        screen = today_screen(app)

        # 480 EUR: the policy wants the person's yes.
        await select(pilot, screen, "bill", "Tax advisor")
        assert "⏎ mark paid" in shown(app, "bills").splitlines()[0]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await until(pilot, lambda: any("Tax advisor" in n and "waiting for your approval" in n for n in notes(app)),
                    what="the decision: waiting")
        with policy_daemon.client() as conn:
            waiting = conn.call("actions.list", {"status": ["awaiting_approval"]})["actions"]
        due = (berlin_today() - dt.timedelta(days=5)).isoformat()
        assert [(a["kind"], a["payload"]["bill"], a["payload"]["due"], a["proposer"]["type"]) for a in waiting] == [
            ("bills.mark_paid", "tax-advisor", due, "user")]
        assert "OVERDUE" in shown(app, "bills"), "not paid until approved"

        # 39.90 EUR: allowed, recorded, and followed until it is done; the bill turns paid.
        await select(pilot, screen, "bill", "Internet")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await until(pilot, lambda: any("Internet" in n and "allowed by policy" in n for n in notes(app)), what="allowed")
        await until(pilot, lambda: any("Internet" in n and "done: recorded as paid" in n for n in notes(app)), what="done")
        await until(pilot, lambda: "paid" in next(line for line in shown(app, "bills").splitlines() if "Internet" in line),
                    what="the bill shown paid")

        # Escape at the question proposes nothing.
        await select(pilot, screen, "bill", "Tax advisor")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, TodayScreen), what="back")
        with policy_daemon.client() as conn:
            kinds = [a["kind"] for a in conn.call("actions.list", {})["actions"]]
        # The two marks; the approval request's own notification is an action too (missed: no desktop here).
        assert sorted(k for k in kinds if k != "notify.send") == ["bills.mark_paid", "bills.mark_paid"]
        assert kinds.count("notify.send") <= 1


# ---- a profile with every kind of row ------------------------------------------------------


def _utc(day: dt.date, hour: int, minute: int = 0) -> str:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN).astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def ics(day: dt.date) -> str:
    def event(uid: str, start: tuple[int, int], end: tuple[int, int], summary: str, extra: str = "") -> str:
        return (f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{_utc(day, *start)}\r\n"
                f"DTEND:{_utc(day, *end)}\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\n")
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oxymus tests//EN\r\n"
            + event("review@t", (10, 0), (11, 0), "Design review", "LOCATION:Room 4\r\nDESCRIPTION:Bring the mockups\r\n")
            + event("dentist@t", (10, 30), (11, 30), "Dentist")
            + "END:VCALENDAR\r\n")


@pytest.fixture
def cockpit(profile, tmp_path, isolated_git, github_server, monkeypatch):  # noqa: F811
    root = tmp_path / "code"
    repo = root / "blog"
    repo.mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "post.md").write_text("hello\n")
    git(repo, "add", "post.md")
    git(repo, "commit", "-q", "-m", "First post")
    (repo / "draft.md").write_text("not yet\n")  # untracked: the repo needs attention
    (tmp_path / "work.ics").write_text(ics(berlin_today()))
    gh = github_server
    pull = gh.state.add_pull("octo/app", "Add feeds", author="someone", requested_reviewers=[gh.state.me])
    issue = gh.state.add_issue("octo/app", "Crash on start", assignees=[gh.state.me])
    monkeypatch.setenv("GITHUB_TOKEN", gh.state.token)
    write_config(profile, f'[time]\nzone = "Europe/Berlin"\n[bills]\n[git]\nroots = ["{root}"]\n'
                          f'[[calendar.ics]]\npath = "{tmp_path / "work.ics"}"\nname = "work"\n'
                          f'[github]\napi_url = "{gh.url}"\ninterval = 3600\n', bills_toml=bills_toml())
    d = DaemonProcess(profile).start()
    d.repo, d.pull, d.issue = repo, pull, issue
    yield d
    d.stop()


async def everything_polled(pilot) -> TodayScreen:
    app = pilot.app
    await connected_with_bills(pilot)
    await until(pilot, lambda: "Add feeds" in shown(app, "prs") and "Crash on start" in shown(app, "prs"), what="GitHub")
    await until(pilot, lambda: "blog" in shown(app, "repos"), what="the repo")
    await until(pilot, lambda: "Dentist" in shown(app, "events"), what="the calendar")
    return today_screen(app)


async def test_enter_on_a_pull_request_or_an_issue_opens_its_url(cockpit):
    app = create_app(cockpit.paths, start_daemon=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await everything_polled(pilot)
        opened: list[str] = []
        screen.opener = lambda _app, url: opened.append(url) or "in the test browser"

        await select(pilot, screen, "pr", "Add feeds")
        await pilot.press("enter")
        await until(pilot, lambda: opened, what="the opener")
        assert opened == [screen.selected.item.url] and opened[0].endswith(f"/octo/app/pull/{cockpit.pull.number}")
        await until(pilot, lambda: any(n == f"Opened {opened[0]} in the test browser." for n in notes(app)), what="said")

        await select(pilot, screen, "issue", "Crash on start")
        await pilot.press("enter")
        await until(pilot, lambda: len(opened) == 2, what="the issue's URL")
        assert opened[1].endswith(f"/octo/app/issues/{cockpit.issue.number}")

        def no_browser(_app, url):
            raise CannotOpen("no browser found: set $BROWSER to one")
        screen.opener = no_browser
        await pilot.press("enter")
        await until(pilot, lambda: any(n.startswith("no browser found: set $BROWSER to one. The URL: ") for n in notes(app)),
                    what="no browser, said with the URL")
        assert app.is_running


async def test_enter_on_a_repo_shows_its_status_and_s_opens_a_shell_there(cockpit):
    app = create_app(cockpit.paths, start_daemon=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await everything_polled(pilot)
        shells: list[str] = []
        screen.shell = lambda _app, path: shells.append(path) or "back from /bin/sh"

        await select(pilot, screen, "repo", "blog")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RepoScreen), what="the repo's status")
        text = app.screen.text
        assert "blog" in text and str(cockpit.repo) in text
        assert "Branch      main (no upstream: nothing is pushed)" in text
        assert "Changes     1 untracked" in text and "First post" in text
        await pilot.press("s")
        await until(pilot, lambda: shells, what="the shell")
        assert shells == [str(cockpit.repo)] and isinstance(app.screen, TodayScreen)
        await until(pilot, lambda: "blog: back from /bin/sh." in notes(app), what="back from the shell")

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RepoScreen), what="the status again")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TodayScreen), what="closed without a shell")
        assert shells == [str(cockpit.repo)]


async def test_enter_on_an_event_shows_its_details_and_conflicts(cockpit):
    app = create_app(cockpit.paths, start_daemon=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await everything_polled(pilot)
        review = next(line for line in shown(app, "events").splitlines() if "Design review" in line)
        assert "10:00–11:00" in review and "Room 4" in review and "⚠ overlaps" in review

        await select(pilot, screen, "event", "Design review")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EventScreen), what="the event")
        lines = app.screen.text.splitlines()
        assert lines[0] == "Design review"
        assert "When      10:00 – 11:00" in lines and "Where     Room 4" in lines and "Calendar  work" in lines
        assert "Conflicts ⚠ overlaps 10:30–11:30 Dentist" in lines
        assert lines[-1] == "Bring the mockups"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TodayScreen), what="closed")


# ---- the layout ---------------------------------------------------------------------------


def fits(screen: TodayScreen) -> None:
    """No line of any panel is wider than the panel (nothing is cut by the screen's edge)."""
    for part in ("header", "freshness", "plan", "events", "deadlines", "bills", "prs", "repos"):
        widget = screen.query_one(f"#today-{part}")
        if widget.display:
            for line in str(widget.render()).splitlines():
                assert cell_len(line) <= widget.content_size.width, f"{part}: {line!r} is wider than {widget.content_size.width}"


async def test_at_80x24_one_column_the_sources_on_one_line_and_nothing_cut(cockpit):
    app = create_app(cockpit.paths, start_daemon=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await everything_polled(pilot)
        await until(pilot, lambda: "Top three" in shown(app, "plan"), what="the plan panel")
        assert not screen.wide and not screen.query_one("#today-sources").display
        freshness = screen.query_one("#today-freshness")
        line = str(freshness.render())
        assert freshness.region.height == 1 and "\n" not in line
        assert line.startswith("Sources  ") and all(name in line for name in ("bills", "calendar.work", "git", "github"))
        header = screen.query_one("#today-header")
        assert freshness.region.y == header.region.y + 1, "right under the date, above the fold"
        day = berlin_today()
        assert str(header.render()) == f"{day:%A} {day.day} {day:%B %Y} · Europe/Berlin"
        bar = screen.query_one("#summary")
        assert "…" not in summary(app) and cell_len(summary(app)) <= bar.content_size.width, summary(app)
        assert "1 overdue" in summary(app)
        # One column, in this order: the plan, the timeline, deadlines, bills, pull requests, repos.
        ys = [screen.query_one(f"#today-{p}").region.y for p in ("plan", "events", "bills", "prs", "repos")]
        assert ys == sorted(ys)
        fits(screen)
        await pilot.press("G")  # the last row, scrolled into view
        scroll = screen.query_one("#today-scroll")
        await until(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y > 0, what="the end")
        assert screen.selected.kind == "repo"


async def test_at_200x60_the_panels_are_side_by_side(cockpit):
    app = create_app(cockpit.paths, start_daemon=False)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await everything_polled(pilot)
        assert screen.wide and not screen.query_one("#today-freshness").display
        left, right = screen.query_one("#today-left"), screen.query_one("#today-right")
        assert left.region.y == right.region.y and right.region.x >= left.region.right
        for part in ("plan", "events"):
            assert screen.query_one(f"#today-{part}").region.x < right.region.x
        for part in ("bills", "prs", "repos", "sources"):
            assert screen.query_one(f"#today-{part}").region.x >= right.region.x
        sources = screen.query_one("#today-sources").text
        assert all(name in sources for name in ("bills", "calendar.work", "git", "github"))
        assert summary(app) == "2 events · 1 overdue", "all of it: there is room"
        fits(screen)


# ---- lines fitted to a width (pure) ----------------------------------------------------------


def test_a_line_that_does_not_fit_shortens_its_least_important_part_first():
    from oxymus.tui.widgets.today_panels import fit

    parts = [("  ", ""), ("OVERDUE  ", ""), ("A rather long bill name", ""), ("  3 Dec · 3 days ago", "")]
    assert fit(parts, 80, shrink=(2,)).plain == "  OVERDUE  A rather long bill name  3 Dec · 3 days ago"
    line = fit(parts, 40, shrink=(2,)).plain
    assert cell_len(line) == 40 and line.endswith("…  3 Dec · 3 days ago") and line.startswith("  OVERDUE  A rather")
    assert cell_len(fit(parts, 20, shrink=(2,)).plain) == 20, "what still does not fit is cut at the end"


def test_the_sources_line_sums_up_the_sources_that_are_fine_when_they_do_not_all_fit():
    from oxymus.models import SourceView
    from oxymus.tui.widgets.today_panels import sources_line

    views = [SourceView(source=name, interval=300, stale_after=3600, status="ok", age_s=age, stale=False)
             for name, age in (("bills", 5.0), ("calendar.personal", 40.0), ("git", 12.0))]
    views.append(SourceView(source="github", interval=300, stale_after=3600, status="failing", age_s=7500.0, stale=False,
                            consecutive_failures=3))
    assert sources_line(views, 0.0, 120).plain == ("Sources  bills ok 5s · calendar.personal ok 40s · git ok 12s · "
                                                   "github failing 3x")
    assert sources_line(views, 0.0, 60).plain == "Sources  3 ok, oldest 40s · github failing 3x"
    assert sources_line(views, 20.0, 60).plain == "Sources  3 ok, oldest 1m00s · github failing 3x", "ages tick"


def test_a_top_three_reason_that_does_not_fit_goes_on_its_own_line_whole():
    from oxymus.agents.dayplan import DayPlan, PlanItem
    from oxymus.client.protocol import TodayPlanResult
    from oxymus.today.view import Today
    from oxymus.tui.widgets.today_panels import top_three

    why = "overdue since Thu 3 Dec (3 days ago): 12.00 EUR"
    items = [PlanItem(id="c1", rank=1, kind="deadline", title="Pay Domain renewal oxymus.dev", why=why, rule="overdue",
                      ref_kind="deadline", ref="x"),
             PlanItem(id="c2", rank=2, kind="deadline", title="Short", why="due today", rule="due", ref_kind="deadline", ref="y")]
    result = TodayPlanResult.model_construct(plan=DayPlan.model_construct(made="Sun 6 Dec 06:30", ranking="rules", top=items))
    lines = [line.plain for line in top_three(result, Today.model_construct(bills=[]), 60).lines]
    assert lines == ["  1 Pay Domain renewal oxymus.dev", f"    {why}", "  2 Short — due today"]
    assert [line.plain for line in top_three(result, Today.model_construct(bills=[]), 120).lines][0] == \
        f"  1 Pay Domain renewal oxymus.dev — {why}"
