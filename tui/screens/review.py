"""The guided morning review (`R`, the palette's "Morning review", `oxymus review morning`).

One step per screen: Yesterday › Calendar › Inbox › Approvals › Top three › Done, the
current one marked on the progress line. Enter accepts the step's default and moves on
(so Enter all the way through finishes a sensible review), `n` or `tab` skips a step,
Escape or `q` leaves. Where the review stands is the daemon's (`review.step` after every
step), so a review left at any step opens there next time, from any client.

The screen does no IO: it asks `review.get` once it opens, sends the step's decisions and
the finish as commands (screens/review_link.py) and renders what comes back. The steps
are widgets (review_steps.py, review_queue.py, review_top.py); only the current one shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from oxymus.agents.review import LABELS, STEPS, ReviewView, next_step
from oxymus.tui.link.messages import (
    ApprovalsLoaded, CaptureAdded, CaptureTriaged, Connected, DecisionFailed, DecisionMade, InboxLoaded, SuggestionAccepted,
    SuggestionsLoaded, TriageFailed,
)
from oxymus.tui.screens.review_link import FINISH, REVIEW, STEP, ReviewFailed, ReviewFinished, ReviewLoaded, ReviewStepped
from oxymus.tui.screens.review_queue import ApprovalsPane, InboxPane
from oxymus.tui.screens.review_steps import CalendarPane, DonePane, StepPane, YesterdayPane
from oxymus.tui.screens.review_top import TopPane
from oxymus.tui.widgets.review_views import progress_text

if TYPE_CHECKING:
    from oxymus.tui.app import OxymusApp

LOADING = "Loading today's review… (the planner makes today's plan if it has not yet)"
STEP_KEYS = ("c", "x", "d", "y", "m", "p", "e", "A", "a", "s", "K", "J", "b")


class ReviewScreen(Screen):
    BINDINGS = [
        Binding("enter", "accept", "Accept", show=False, priority=True),
        Binding("n", "skip", "Skip", show=False),
        Binding("tab", "skip", "Skip", show=False, priority=True),
        Binding("escape", "leave", "Leave", show=False),
        Binding("q", "leave", "Leave", show=False),
        Binding("space", "step_key('space')", show=False, priority=True),
        Binding("shift+up", "step_key('K')", show=False),
        Binding("shift+down", "step_key('J')", show=False),
        *(Binding(k, f"step_key('{k}')", show=False) for k in STEP_KEYS),
    ]
    DEFAULT_CSS = """
    ReviewScreen #review-progress { height: 1; padding: 0 1; background: $panel; }
    ReviewScreen #review-title { height: 1; padding: 0 1; color: $text-muted; }
    ReviewScreen #review-hint { dock: bottom; height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    ReviewScreen .review-line { height: auto; padding: 0 1; }
    ReviewScreen #review-loading { padding: 1 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.view: ReviewView | None = None
        self.step = "yesterday"
        self.finishing = False

    @property
    def oxymus(self) -> "OxymusApp":
        return cast("OxymusApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static("", id="review-progress")  # drawn once the review is loaded: its keys work from then on
        yield Static("Morning review", id="review-title")
        yield Static(LOADING, id="review-loading")
        with Vertical(id="review-steps"):
            for pane in (YesterdayPane(id="step-yesterday"), CalendarPane(id="step-calendar"), InboxPane(id="step-inbox"),
                         ApprovalsPane(id="step-approvals"), TopPane(id="step-top"), DonePane(id="step-done")):
                pane.display = False
                yield pane
        yield Static("Escape or q leaves the review", id="review-hint")

    def pane(self, step: str | None = None) -> StepPane:
        return self.query_one(f"#step-{step or self.step}", StepPane)

    def on_mount(self) -> None:
        self.oxymus.connection.listen(self)
        self.oxymus.connection.live.ask(REVIEW)

    def on_unmount(self) -> None:
        self.oxymus.connection.unlisten(self)

    # ---- showing ---------------------------------------------------------------------

    def _go(self, step: str) -> None:
        self.step = step
        for name in STEPS:
            self.pane(name).display = name == step
        finished = self.view is not None and self.view.record.status == "done"
        self.query_one("#review-progress", Static).update(progress_text(step, finished and step == "done"))
        self.query_one("#review-hint", Static).update(Text(self.pane().hint(), style="dim"))
        self.pane().focus_body()

    @on(ReviewLoaded)
    def _loaded(self, message: ReviewLoaded) -> None:
        if self.view is not None:  # asked again because the inbox changed: only the Inbox step follows
            self.query_one(InboxPane).follow(message.view.inbox, message.view.inbox_total)
            return
        self.view = view = message.view
        self.query_one("#review-loading", Static).display = False
        for name in STEPS:
            self.pane(name).show(view)
        title = f"Morning review · {view.date}"
        if view.record.status == "open" and view.record.step != "yesterday":
            title += f" · resumed at {LABELS[view.record.step]}"
        self.query_one("#review-title", Static).update(Text(title, style="bold"))
        self._go("done" if view.record.status == "done" else view.record.step)

    @on(Connected)
    def _connected(self, _message: Connected) -> None:
        if self.view is None:  # opened before the link was up: ask now
            self.oxymus.connection.live.ask(REVIEW)

    @on(ReviewFailed)
    def _failed(self, message: ReviewFailed) -> None:
        if message.what == "get":
            self.query_one("#review-loading", Static).update(Text(f"Could not load the review: {message.reason}", style="red"))
            return
        self.finishing = False
        self.notify(message.reason, title="Review: not recorded" if message.what == "step" else "Day plan not written",
                    severity="error", timeout=10)

    @on(ReviewStepped)
    def _stepped(self, message: ReviewStepped) -> None:
        for problem in message.result.problems:
            self.notify(problem, title="Not done", severity="warning", timeout=10)

    @on(ReviewFinished)
    def _finished(self, message: ReviewFinished) -> None:
        self.finishing = False
        if self.view is not None:
            self.view = self.view.model_copy(update={"record": message.result.record})
        self.query_one(DonePane).finished(message.result)
        self._go("done")

    # the link's answers to what the Inbox and Approvals steps did
    @on(TriageFailed)
    def _triage_failed(self, message: TriageFailed) -> None:
        self.query_one(InboxPane).failed(message.capture_id, message.reason)
        self.notify(message.reason, title="Not triaged", severity="error", timeout=8)

    @on(SuggestionAccepted)
    def _accepted(self, message: SuggestionAccepted) -> None:
        if "approval" in message.summary:  # done ones were said when sent; one that waits is worth a word
            self.notify(message.summary, title="Accepted", timeout=5)

    @on(CaptureTriaged)
    def _triaged(self, message: CaptureTriaged) -> None:
        """Ours were decided when sent (a refusal, TriageFailed, takes it back); another client's leaves the step."""
        if not message.mine:
            self.query_one(InboxPane).left(message.capture_id)

    @on(CaptureAdded)
    @on(InboxLoaded)
    @on(SuggestionsLoaded)
    def _inbox_changed(self, _message) -> None:
        """A capture came in or the triage agent saved suggestions (the link's inbox, as the Inbox section follows it):
        ask the review again, so the Inbox step shows them as the daemon offers them (newest answer wins)."""
        if self.view is not None:
            self.oxymus.connection.live.ask(REVIEW)

    @on(ApprovalsLoaded)
    def _queue(self, message: ApprovalsLoaded) -> None:
        """The queue as it is now (an event accepted in the Inbox step may wait here; another client may decide)."""
        self.query_one(ApprovalsPane).queue(message.actions)

    @on(DecisionMade)
    def _decided(self, message: DecisionMade) -> None:
        self.query_one(ApprovalsPane).decided(message.action, message.verb)

    @on(DecisionFailed)
    def _decision_failed(self, message: DecisionFailed) -> None:
        self.notify(f"Could not {message.verb}: {message.reason}", severity="error", timeout=8)

    # ---- keys ------------------------------------------------------------------------

    def _ready(self) -> bool:
        if self.view is None:
            self.notify("The review is still loading.", timeout=3)
            return False
        if self.finishing:
            self.notify("Writing the day plan…", timeout=3)
            return False
        return True

    def action_accept(self) -> None:
        if not self._ready():
            return
        if self.step == "done":
            self.action_leave()
            return
        if self.step == "top":
            self._finish()
            return
        decisions = self.pane().accept() or {}
        self._record(decisions, next_step(self.step))

    def action_skip(self) -> None:
        if not self._ready():
            return
        if self.step == "done":
            self.action_leave()
        elif self.step == "top":
            self._finish(skipped=True)
        else:
            self._record({}, next_step(self.step))

    def _record(self, decisions: dict[str, str], go_to: str) -> None:
        self.oxymus.connection.live.send(STEP, step=self.step, decisions=decisions, go_to=go_to)
        self._go(go_to)

    def _finish(self, skipped: bool = False) -> None:
        top = self.query_one(TopPane)
        self.finishing = True
        params = {} if skipped else {"top": list(top.chosen), "block": top.block}
        self.oxymus.connection.live.send(FINISH, **params)

    def action_step_key(self, key: str) -> None:
        if not self._ready():
            return
        if not self.pane().key(key):
            shown = {"space": "space"}.get(key, key)
            self.notify(f"{shown} does nothing on {LABELS[self.step]}: {self.pane().hint()}", timeout=4)

    def action_leave(self) -> None:
        self.dismiss()
