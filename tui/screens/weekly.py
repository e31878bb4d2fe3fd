"""The guided weekly review (`W`, the palette's "Weekly review", `oxymus review weekly`).

One step per screen: The week › Questions › Proposals › Done, the current one marked on
the progress line. Enter accepts the step's default and moves on (the week read, the
answers given recorded, the proposals left waiting; so Enter all the way through records
the week's review as done), `n` or `tab` skips a step, Escape or `q` leaves. Where the
review stands is the daemon's (`review.weekly_step` after every step), so a review left
at any step opens there next time, from any client.

The screen does no IO: it asks `review.weekly_get` once it opens, sends each step and the
finish as commands (screens/weekly_link.py) and renders what comes back. The steps are
widgets (weekly_steps.py); only the current one shows.
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

from oxymus.agents.weekly import WEEKLY_LABELS, WEEKLY_STEPS, WeeklyView, next_weekly_step
from oxymus.tui.link.live import NOT_CONNECTED
from oxymus.tui.link.messages import ApprovalsLoaded, Connected, DecisionFailed, DecisionMade
from oxymus.tui.screens.review_steps import StepPane
from oxymus.tui.screens.weekly_link import (
    WEEKLY, WEEKLY_FINISH, WEEKLY_STEP, WeeklyFailed, WeeklyFinished, WeeklyLoaded, WeeklyStepped,
)
from oxymus.tui.screens.weekly_steps import ProposalsPane, QuestionsPane, WeekPane, WeeklyDonePane
from oxymus.tui.widgets.review_views import progress_text

if TYPE_CHECKING:
    from oxymus.tui.app import OxymusApp

LOADING = "Loading the week's review… (the reflection agent writes it if it has not yet)"
STEP_KEYS = {"e": "Questions: answer", "t": "Questions: decision or reflection", "x": "Questions: skip it",
             "a": "Proposals: approve", "d": "Proposals: deny", "s": "Proposals: snooze"}


class WeeklyReviewScreen(Screen):
    help_title = "Weekly review"
    BINDINGS = [
        Binding("enter", "accept", "Accept", show=False, priority=True),
        Binding("n", "skip", "Skip", show=False),
        Binding("tab", "skip", "Skip", show=False, priority=True),
        Binding("escape", "leave", "Leave", show=False),
        Binding("q", "leave", "Leave", show=False),
        *(Binding(k, f"step_key('{k}')", what, show=False) for k, what in STEP_KEYS.items()),
    ]
    DEFAULT_CSS = """
    WeeklyReviewScreen #weekly-progress { height: 1; padding: 0 1; background: $panel; }
    WeeklyReviewScreen #weekly-title { height: 1; padding: 0 1; color: $text-muted; }
    WeeklyReviewScreen #weekly-hint { dock: bottom; height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    WeeklyReviewScreen .review-line { height: auto; padding: 0 1; }
    WeeklyReviewScreen #weekly-loading { padding: 1 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.view: WeeklyView | None = None
        self.step = "week"
        self.finishing = False

    @property
    def oxymus(self) -> "OxymusApp":
        return cast("OxymusApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static("", id="weekly-progress")  # drawn once the review is loaded: its keys work from then on
        yield Static("Weekly review", id="weekly-title")
        yield Static(LOADING, id="weekly-loading")
        with Vertical(id="weekly-steps"):
            for pane in (WeekPane(id="step-week"), QuestionsPane(id="step-questions"), ProposalsPane(id="step-proposals"),
                         WeeklyDonePane(id="step-done")):
                pane.display = False
                yield pane
        yield Static("Escape or q leaves the review", id="weekly-hint")

    def pane(self, step: str | None = None) -> StepPane:
        return self.query_one(f"#step-{step or self.step}", StepPane)

    def on_mount(self) -> None:
        self.oxymus.connection.listen(self)
        self.oxymus.connection.live.ask(WEEKLY)

    def on_unmount(self) -> None:
        self.oxymus.connection.unlisten(self)

    # ---- showing ---------------------------------------------------------------------

    def _go(self, step: str) -> None:
        self.step = step
        for name in WEEKLY_STEPS:
            self.pane(name).display = name == step
        finished = self.view is not None and self.view.record.status == "done"
        self.query_one("#weekly-progress", Static).update(
            progress_text(step, finished and step == "done", WEEKLY_STEPS, WEEKLY_LABELS))
        self.query_one("#weekly-hint", Static).update(Text(self.pane().hint(), style="dim"))
        self.pane().focus_body()

    @on(WeeklyLoaded)
    def _loaded(self, message: WeeklyLoaded) -> None:
        self.view = view = message.view
        self.query_one("#weekly-loading", Static).display = False
        for name in WEEKLY_STEPS:
            self.pane(name).show(view)  # type: ignore[arg-type]
        title = f"Weekly review · {view.week}"
        if view.record.status == "open" and view.record.step != "week":
            title += f" · resumed at {WEEKLY_LABELS[view.record.step]}"
        self.query_one("#weekly-title", Static).update(Text(title, style="bold"))
        self._go("done" if view.record.status == "done" else view.record.step)

    @on(Connected)
    def _connected(self, _message: Connected) -> None:
        if self.view is None:  # opened before the link was up: ask now
            self.oxymus.connection.live.ask(WEEKLY)

    @on(WeeklyFailed)
    def _failed(self, message: WeeklyFailed) -> None:
        if message.what == "get":
            loading = self.query_one("#weekly-loading", Static)
            if message.reason == NOT_CONNECTED:  # asked again once the link is up (Connected)
                loading.update(Text("Waiting for the daemon to answer… (started if it was not running)", style="dim"))
            else:
                loading.update(Text(f"Could not load the weekly review: {message.reason}", style="red"))
            return
        self.finishing = False
        self.notify(message.reason, title="Weekly review: not recorded", severity="error", timeout=10)

    @on(WeeklyStepped)
    def _stepped(self, message: WeeklyStepped) -> None:
        if self.view is not None:
            self.view = self.view.model_copy(update={"record": message.result.record})
            self.query_one(QuestionsPane).recorded(self.view)
        for problem in message.result.problems:
            self.notify(problem, title="Not recorded", severity="warning", timeout=10)

    @on(WeeklyFinished)
    def _finished(self, message: WeeklyFinished) -> None:
        self.finishing = False
        if self.view is not None:
            self.view = self.view.model_copy(update={"record": message.result.record})
        self.query_one(WeeklyDonePane).finished(message.result)
        self._go("done")

    @on(ApprovalsLoaded)
    def _queue(self, message: ApprovalsLoaded) -> None:
        """The queue as it is now (another client may decide): the Proposals step keeps this week's."""
        self.query_one(ProposalsPane).queue(message.actions)

    @on(DecisionMade)
    def _decided(self, message: DecisionMade) -> None:
        self.query_one(ProposalsPane).decided(message.action, message.verb)

    @on(DecisionFailed)
    def _decision_failed(self, message: DecisionFailed) -> None:
        self.notify(f"Could not {message.verb}: {message.reason}", severity="error", timeout=8)

    # ---- keys ------------------------------------------------------------------------

    def _ready(self) -> bool:
        if self.view is None:
            self.notify("The weekly review is still loading.", timeout=3)
            return False
        if self.finishing:
            self.notify("Recording the review…", timeout=3)
            return False
        return True

    def action_accept(self) -> None:
        if not self._ready():
            return
        if self.step == "done":
            self.action_leave()
        elif self.step == "proposals":
            self._finish()
        elif self.step == "questions":
            self._record(next_weekly_step(self.step), answers=self.query_one(QuestionsPane).to_send())
        else:
            self._record(next_weekly_step(self.step))

    def action_skip(self) -> None:
        if not self._ready():
            return
        if self.step == "done":
            self.action_leave()
        elif self.step == "proposals":
            self._finish()
        else:
            self._record(next_weekly_step(self.step))

    def _record(self, go_to: str, answers: dict | None = None) -> None:
        params = {"answers": answers} if answers else {}
        self.oxymus.connection.live.send(WEEKLY_STEP, step=self.step, go_to=go_to, **params)
        self._go(go_to)

    def _finish(self) -> None:
        self.finishing = True
        self.oxymus.connection.live.send(WEEKLY_FINISH, decisions=dict(self.query_one(ProposalsPane).decisions))

    def action_step_key(self, key: str) -> None:
        if not self._ready():
            return
        if not self.pane().key(key):
            self.notify(f"{key} does nothing on {WEEKLY_LABELS[self.step]}: {self.pane().hint()}", timeout=4)

    def action_leave(self) -> None:
        self.dismiss()
