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

from textual import on
from textual.binding import Binding

from oxymus.agents.weekly import WEEKLY_LABELS, WEEKLY_STEPS, next_weekly_step
from oxymus.tui.link.live import NOT_CONNECTED
from oxymus.tui.screens.review_frame import FRAME_BINDINGS, GuidedReview
from oxymus.tui.screens.review_steps import StepPane
from oxymus.tui.screens.weekly_link import (
    WEEKLY, WEEKLY_FINISH, WEEKLY_STEP, WeeklyFailed, WeeklyFinished, WeeklyLoaded, WeeklyStepped,
)
from oxymus.tui.screens.weekly_steps import ProposalsPane, QuestionsPane, WeekPane, WeeklyDonePane

LOADING = "Loading the week's review… (the reflection agent writes it if it has not yet)"
STEP_KEYS = {"e": "Questions: answer", "t": "Questions: decision or reflection", "x": "Questions: skip it",
             "a": "Proposals: approve", "d": "Proposals: deny", "s": "Proposals: snooze"}


class WeeklyReviewScreen(GuidedReview):
    help_title = "Weekly review"
    NAME = "Weekly review"
    STEPS = WEEKLY_STEPS
    LABELS = WEEKLY_LABELS
    LOADING = LOADING
    FINISHING = "Recording the review…"
    GET = WEEKLY
    BINDINGS = [*FRAME_BINDINGS, *(Binding(k, f"step_key('{k}')", what, show=False) for k, what in STEP_KEYS.items())]

    def panes(self) -> list[StepPane]:
        return [WeekPane(id="step-week"), QuestionsPane(id="step-questions"), ProposalsPane(id="step-proposals"),
                WeeklyDonePane(id="step-done")]

    def decisions_pane(self) -> ProposalsPane:
        return self.query_one(ProposalsPane)

    # ---- showing ---------------------------------------------------------------------

    @on(WeeklyLoaded)
    def _loaded(self, message: WeeklyLoaded) -> None:
        self.loaded(message.view, message.view.week)

    @on(WeeklyFailed)
    def _failed(self, message: WeeklyFailed) -> None:
        if message.what == "get":
            self.load_failed(message.reason, waiting=message.reason == NOT_CONNECTED)
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
        self.go("done")

    # ---- keys ------------------------------------------------------------------------

    def action_accept(self) -> None:
        if not self.ready():
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
        if not self.ready():
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
        self.go(go_to)

    def _finish(self) -> None:
        self.finishing = True
        self.oxymus.connection.live.send(WEEKLY_FINISH, decisions=dict(self.query_one(ProposalsPane).decisions))
