"""The Today section (the first screen, the cockpit's front page): the day at a glance, updated live, and acted on.

From the top: the day plan's top three (the planner's `day_plan` artifact, `today.plan`;
`p` makes one when there is none), the timeline (events, the free slots left, a now
line), deadlines, bills, pull requests and issues, repositories, and every source's
freshness. Below WIDE columns it is one column, the sources on one line under the
date; from WIDE on, the plan and the timeline are on the left and the rest on the right.

A cursor (j/k or the arrows) moves over the rows that can be acted on; Enter:
- on a bill proposes `bills.mark_paid` through the policy plane (after a yes) and says
  what the policy decided: done, waiting for approval (key 5), or denied;
- on a pull request or an issue opens its URL in the browser (`opener`);
- on a repository shows its status, with `s` for a shell in its folder (`shell`);
- on an event shows its time, place, calendar, description and conflicts.

The screen renders messages and does no IO itself (the URL and the shell go through
`opener` and `shell`, oxymus.tui.outside, which tests replace). Ages tick once a second from the last
reply, with no round trip; the now line and the free slots follow the clock. While
the daemon is unreachable the last day stays on screen, marked as possibly out of date.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import TYPE_CHECKING, Any, Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Label, Static

from oxymus.today.view import Today, TodayBill
from oxymus.tui.link.live import Command, LiveQuery
from oxymus.tui.link.queries import PLAN, TODAY, date_changed  # noqa: F401  (declared there; tests import them here)
from oxymus.tui.link.messages import (
    ActionFollowed, ActivityHappened, BillNotProposed, BillProposed, Connected, Connecting, Disconnected, PlannerFailed,
    PlannerRan, RefreshFinished, TodayFailed, TodayLoaded, TodayPlanFailed, TodayPlanLoaded,
)
from oxymus.tui import outside
from oxymus.tui.screens import today_detail as detail
from oxymus.tui.screens.base import SectionScreen
from oxymus.tui.screens.confirm import ConfirmScreen
from oxymus.tui.widgets import SectionBar, SourcesPanel
from oxymus.tui.widgets import today_panels as panels

if TYPE_CHECKING:
    from oxymus.client.protocol import TodayPlanResult

# Enter on a bill: `bills.mark_paid` through the policy plane, as `oxymus paid` does.
PAY = Command("actions.propose", lambda result, r: BillProposed(r.params["payload"]["bill"], r.params["payload"]["due"], result.action),
              lambda error, r: BillNotProposed(r.params["payload"]["bill"], r.params["payload"]["due"], error),
              "oxymus.client.protocol:ProposeResult")
# An action proposed here that was allowed: asked again when actions change, until it is done or failed.
FOLLOW = LiveQuery("today.follow", "actions.get", lambda a: ActionFollowed(a.value), "oxymus.actions.model:ActionDetail")
# `p`: make the day plan now.
PLAN_NOW = Command("agents.run", lambda run, _r: PlannerRan(run), lambda error, _r: PlannerFailed(error),
                   "oxymus.agents.base:AgentRun")

WAITING = "Waiting for the daemon…"
WIDE = 120  # columns: from here the panels go side by side and the sources get a panel of their own
TICK = 1.0  # seconds between re-renders of the ages and the now line
LEFT = ("plan", "events")
RIGHT = ("deadlines", "bills", "prs", "repos", "problems")
HINTS = {"bill": "mark paid", "pr": "open in the browser", "issue": "open in the browser", "repo": "status, shell",
         "event": "details"}
DECIDED = {
    "approved": "allowed by policy; it is recorded in a moment",
    "executing": "allowed by policy; being recorded",
    "succeeded": "done: recorded as paid",
    "awaiting_approval": "waiting for your approval (5 Approvals)",
    "denied": "denied by policy",
    "failed": "failed",
}

Opener = Callable[[Any, str], str]


class TodayScreen(SectionScreen):
    SECTION = "today"
    BINDINGS = [
        Binding("r", "refresh", "Refresh"),
        Binding("p", "plan", "Plan day"),
        Binding("enter", "act", "Act"),
        Binding("j,down", "move(1)", "Down", show=False),
        Binding("k,up", "move(-1)", "Up", show=False),
        Binding("g,home", "jump(0)", "First", show=False),
        Binding("G,end", "jump(-1)", "Last", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
    ]

    # What leaves the TUI; replace them on the instance (tests check the URL or the folder).
    opener: Opener = staticmethod(outside.open_url)
    shell: Opener = staticmethod(outside.open_shell)

    def __init__(self) -> None:
        super().__init__()
        self.today: Today | None = None
        self.plan: TodayPlanResult | None = None
        self.plan_error: str | None = None  # why the daemon could not give the plan (none shown yet)
        self.received_at = 0.0
        self.online = False
        self.cursor: str | None = None  # the key of the row under the cursor
        self._cursor_at = 0  # its place among the rows
        self.rows: list[tuple[str, panels.Row]] = []  # (panel, row) in the order the cursor visits them
        self._panels: dict[str, panels.Panel] = {}
        self._phases: tuple = ()
        self._following: dict[str, str] = {}  # action id -> the bill's name, until it is done

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="today-scroll", can_focus=False):
            yield Static("", id="today-header")
            yield Static("", id="today-freshness")
            yield Static("", id="today-source-trouble")
            yield Static("", id="today-offline")
            yield Static("", id="today-error")
            with Horizontal(id="today-columns"):
                with Vertical(id="today-left", classes="today-column"):
                    for part in LEFT:
                        yield Static("", id=f"today-{part}", classes="today-part")
                with Vertical(id="today-right", classes="today-column"):
                    for part in RIGHT:
                        yield Static("", id=f"today-{part}", classes="today-part")
                    yield SourcesPanel(id="today-sources")
        yield Label(WAITING, id="today-waiting")

    def on_mount(self) -> None:
        # (SectionScreen.on_mount, which starts listening, runs too: Textual calls each class's handler.)
        self.query_one("#today-scroll").display = False
        self._fit(self.size.width)
        self.set_interval(TICK, self._tick, name="today-ages")

    def on_resize(self, event) -> None:
        self._fit(event.size.width)
        self.call_after_refresh(self._render_day)  # lines are fitted to the panels' new widths

    @property
    def wide(self) -> bool:
        return not self.has_class("-narrow")

    def _fit(self, width: int) -> None:
        self.set_class(0 < width < WIDE, "-narrow")

    # ---- time ---------------------------------------------------------------

    def clock(self) -> float:
        """Seconds since the epoch, from the app (tests freeze it for stable screenshots)."""
        return getattr(self.app, "clock", time.time)()

    @property
    def elapsed(self) -> float:
        """Seconds since the day shown arrived: what every source's age has grown by."""
        return max(0.0, self.clock() - self.received_at)

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc)

    # ---- the cursor -----------------------------------------------------------

    @property
    def selected(self) -> panels.Row | None:
        return next((row for _, row in self.rows if row.key == self.cursor), None)

    def action_move(self, step: int) -> None:
        if not self.rows:
            return
        keys = [row.key for _, row in self.rows]
        at = keys.index(self.cursor) if self.cursor in keys else (-1 if step > 0 else len(keys))
        self._select(keys[max(0, min(len(keys) - 1, at + step))])

    def action_jump(self, where: int) -> None:
        scroll = self.query_one("#today-scroll", VerticalScroll)
        if self.rows:
            self._select(self.rows[where][1].key)
        if where == 0:
            scroll.scroll_home(animate=False)
        else:
            scroll.scroll_end(animate=False)

    def action_page(self, pages: int) -> None:
        scroll = self.query_one("#today-scroll", VerticalScroll)
        scroll.scroll_page_down(animate=False) if pages > 0 else scroll.scroll_page_up(animate=False)

    def _select(self, key: str) -> None:
        before = next((part for part, row in self.rows if row.key == self.cursor), None)
        self.cursor = key
        self._cursor_at = [row.key for _, row in self.rows].index(key)
        part = next(part for part, row in self.rows if row.key == key)
        for name in {before, part} - {None}:
            self._show_panel(name)
        self._scroll_to(part, key)

    def _scroll_to(self, part: str, key: str) -> None:
        """Bring the cursor's line into view (the panel's offset inside the scroll, plus the line)."""
        scroll = self.query_one("#today-scroll", VerticalScroll)
        widget: Widget | None = self.query_one(f"#today-{part}")
        line = self._panels[part].line_of(key) or 0
        y = 0
        while widget is not None and widget is not scroll:
            y += widget.virtual_region.y
            widget = widget.parent if isinstance(widget.parent, Widget) else None
        scroll.scroll_to_region(Region(0, y + line, 1, 1), animate=False)

    # ---- actions ------------------------------------------------------------

    def action_refresh(self) -> None:
        self.oxymus.connection.refresh_state()

    def action_plan(self) -> None:
        self.oxymus.connection.live.send(PLAN_NOW, name="planner")
        self.notify("Making the day plan…", timeout=3)

    def action_act(self) -> None:
        row = self.selected
        if row is None:
            self.notify("Nothing selected: j/k or the arrows move to a bill, a pull request, a repository or an event.",
                        timeout=4)
            return
        getattr(self, f"_act_{row.kind}")(row.item)

    def _act_bill(self, bill: TodayBill) -> None:
        if bill.status in ("paid", "autopay"):
            paid = f"paid {bill.paid_at[:10]}" if bill.paid_at else "paid automatically (autopay)"
            self.notify(f"{bill.name} due {bill.due} is already {paid}.", timeout=4)
            return
        question = ConfirmScreen(f"Mark {bill.name} paid?",
                                 f"{bill.amount:,.2f} {bill.currency} due {bill.due}; policy may ask you to approve.",
                                 yes="mark paid", no="cancel")

        def answer(yes: bool | None) -> None:
            if yes:
                self.oxymus.connection.live.send(PAY, kind="bills.mark_paid", payload={"bill": bill.bill, "due": bill.due},
                                                 reason="you marked it paid on Today")
        self.app.push_screen(question, answer)

    def _open(self, url: str) -> None:
        try:
            how = self.opener(self.app, url)
        except outside.CannotOpen as exc:
            self.notify(f"{exc}. The URL: {url}", title="Not opened", severity="warning", timeout=12)
            return
        self.notify(f"Opened {url} {how}.", timeout=5)

    def _act_pr(self, pr) -> None:
        self._open(pr.url)

    def _act_issue(self, issue) -> None:
        self._open(issue.url)

    def _act_event(self, event) -> None:
        self.app.push_screen(detail.EventScreen(event))

    def _act_repo(self, repo) -> None:
        def chosen(what: str | None) -> None:
            if what == "shell":
                try:
                    how = self.shell(self.app, repo.path)
                except outside.CannotOpen as exc:
                    self.notify(str(exc), title="No shell", severity="warning", timeout=8)
                    return
                self.notify(f"{repo.name}: {how}.", timeout=4)
        self.app.push_screen(detail.RepoScreen(repo), chosen)

    # ---- messages -----------------------------------------------------------

    @on(TodayLoaded)
    def _loaded(self, message: TodayLoaded) -> None:
        self.today, self.received_at = message.today, message.received_at
        self.query_one("#today-error", Static).display = False
        self.query_one("#today-waiting", Label).display = False
        self.query_one("#today-scroll").display = True
        self._render_day()
        if os.environ.get("OXYMUS_TUI_EXIT_AFTER_PAINT") == "1":  # bench/startup.py only: first full paint, then out
            self.call_after_refresh(self.app.exit, 0)

    @on(TodayFailed)
    def _failed(self, message: TodayFailed) -> None:
        error = self.query_one("#today-error", Static)
        error.update(f"The daemon could not give the day: {message.reason}")
        error.display = True
        if self.today is None:
            self.query_one("#today-waiting", Label).display = False
            self.query_one("#today-scroll").display = True

    @on(TodayPlanLoaded)
    def _plan_loaded(self, message: TodayPlanLoaded) -> None:
        self.plan, self.plan_error = message.result, None
        self._render_day()

    @on(TodayPlanFailed)
    def _plan_failed(self, message: TodayPlanFailed) -> None:
        self.plan_error = message.reason  # said in the panel (the last plan shown stays)
        self._render_day()

    def _bill_name(self, bill: str, due: str) -> str:
        known = self.today.bills if self.today is not None else []
        return next((f"{b.name} ({b.due})" for b in known if b.bill == bill and b.due == due), f"{bill} ({due})")

    @on(BillProposed)
    def _bill_proposed(self, message: BillProposed) -> None:
        action, name = message.action, self._bill_name(message.bill, message.due)
        said = DECIDED.get(action.status, action.status)
        if action.status in ("approved", "executing"):
            self._following[action.id] = name
        if action.status == "denied" and action.decision.reason:
            said += f": {action.decision.reason}"
        self.notify(f"{name} paid — {said}.", title="Marked paid" if action.status != "denied" else "Not marked paid",
                    severity="error" if action.status in ("denied", "failed") else "information", timeout=8)

    @on(BillNotProposed)
    def _bill_not_proposed(self, message: BillNotProposed) -> None:
        self.notify(f"{self._bill_name(message.bill, message.due)}: {message.reason}", title="Not marked paid", severity="error", timeout=10)

    @on(ActivityHappened)
    def _activity(self, message: ActivityHappened) -> None:
        for action_id in self._following:
            self.oxymus.connection.live.ask(FOLLOW, id=action_id)

    @on(ActionFollowed)
    def _followed(self, message: ActionFollowed) -> None:
        action = message.action
        if action.id not in self._following or action.status in ("approved", "executing"):
            return
        name = self._following.pop(action.id)
        said = DECIDED.get(action.status, action.status) + (f": {action.error}" if action.error else "")
        self.notify(f"{name} paid — {said}.", severity="error" if action.status == "failed" else "information", timeout=8)

    @on(PlannerRan)
    def _planner_ran(self, message: PlannerRan) -> None:
        run = message.run
        ok = run.outcome == "succeeded"
        self.notify(run.summary or run.error or run.outcome, title="Day plan made" if ok else f"Planner {run.outcome}",
                    severity="information" if ok else "error", timeout=8)

    @on(PlannerFailed)
    def _planner_failed(self, message: PlannerFailed) -> None:
        self.notify(message.reason, title="No day plan made", severity="error", timeout=8)

    @on(Connected)
    def _online(self, message: Connected) -> None:
        self.online = True
        self._show_offline()

    @on(Connecting)
    @on(Disconnected)
    def _offline(self, message: Connecting | Disconnected) -> None:
        self.online = False
        self._show_offline()

    @on(RefreshFinished)
    def _refreshed(self, message: RefreshFinished) -> None:
        if message.error and self.is_active:
            self.notify(message.error, title="Refresh failed", severity="error", timeout=8)

    # ---- rendering ------------------------------------------------------------

    def _show_offline(self) -> None:
        offline = self.query_one("#today-offline", Static)
        if self.online or self.today is None:
            offline.display = False
            return
        shown = time.strftime("%H:%M", time.localtime(self.received_at))
        offline.update(f"Not connected: this is the day as loaded at {shown}; it may be out of date.")
        offline.display = True

    def _width(self, part: str) -> int:
        width = self.query_one(f"#today-{part}").content_size.width
        if width <= 0:  # not laid out yet: what the column will have
            width = (self.size.width - 4) // (2 if self.wide else 1)
        return max(20, width)

    def _render_day(self) -> None:
        today = self.today
        if today is None:
            return
        now = self._now()
        self.query_one("#today-header", Static).update(panels.header(today))
        configured = bool(today.sources)
        made: dict[str, panels.Panel | None] = {
            "plan": panels.top_three(self.plan, today, self._width("plan"), error=self.plan_error) if configured else None,
            "events": panels.timeline(today, self.plan, now, self._width("events")) if configured else None,
            "deadlines": panels.deadlines(today.deadlines, self._width("deadlines")),
            "bills": panels.bills(today.bills, self._width("bills")),
            "prs": panels.work(today.pull_requests, today.issues, today.issues_assigned, self._width("prs")),
            "repos": panels.repos(today.repos, self._width("repos")),
            "problems": panels.problems(today.problems, self._width("problems")),
        }
        self._panels = {name: panel for name, panel in made.items() if panel is not None}
        self.rows = [(name, row) for name in (*LEFT, *RIGHT) if name in self._panels
                     for _, row in sorted(self._panels[name].rows.items())]
        keys = [row.key for _, row in self.rows]
        if self.cursor not in keys:  # its row went (a bill paid): the row now in its place
            self.cursor = keys[min(self._cursor_at, len(keys) - 1)] if keys else None
        self._cursor_at = keys.index(self.cursor) if self.cursor in keys else 0
        for name in made:
            widget = self.query_one(f"#today-{name}", Static)
            widget.display = name in self._panels
            if name in self._panels:
                self._show_panel(name)
        self.query_one("#today-left").display = configured
        self.set_class(not configured, "-unconfigured")  # the hint alone, full width
        self._phases = panels.phases(today.events, now)
        self._render_ages(now)
        self._show_offline()

    def _show_panel(self, name: str) -> None:
        panel = self._panels.get(name)
        if panel is None:
            return
        row = self.selected
        hint = HINTS.get(row.kind, "") if row is not None else ""
        self.query_one(f"#today-{name}", Static).update(panel.text(self.cursor, hint))

    def _render_ages(self, now: dt.datetime) -> None:
        assert self.today is not None
        elapsed = self.elapsed
        sources = self.today.sources
        one_line = not self.wide and bool(sources)
        freshness = self.query_one("#today-freshness", Static)
        freshness.display = one_line
        trouble = self.query_one("#today-source-trouble", Static)
        details = [(v.source, panels.source_detail(v, elapsed, now)) for v in sources] if one_line else []
        details = [(name, text) for name, text in details if text is not None]
        trouble.display = bool(details)
        if one_line:
            width = freshness.content_size.width or self.size.width - 4  # laid out: inside the scrollbar, if any
            freshness.update(panels.sources_line(sources, elapsed, max(20, width)))
        if details:
            out = Text()
            for n, (name, text) in enumerate(details):
                out.append(("\n" if n else "") + f"{name}: ", style=panels.BAD)
                out.append_text(text)
            trouble.update(out)
        self.query_one("#today-sources", SourcesPanel).display = not one_line
        if not one_line:
            self.query_one("#today-sources", SourcesPanel).show(sources, elapsed, now)
        summary = self.query_one("#summary")
        width = summary.content_size.width or 200
        self.query_one("#section-bar", SectionBar).set_summary(panels.summary(self.today, elapsed, width))

    def _tick(self) -> None:
        if self.today is None:
            return
        now = self._now()
        phases = panels.phases(self.today.events, now)
        if phases != self._phases and "events" in self._panels:  # a minute passed, or an event started or ended
            self._phases = phases
            self._panels["events"] = panels.timeline(self.today, self.plan, now, self._width("events"))
            self.rows = [(name, row) for name in (*LEFT, *RIGHT) if name in self._panels
                         for _, row in sorted(self._panels[name].rows.items())]
            self._show_panel("events")
        self._render_ages(now)
