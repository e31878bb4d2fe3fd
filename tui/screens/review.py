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

from textual import on
from textual.binding import Binding

from oxymus.agents.review import LABELS, STEPS, next_step
from oxymus.tui.link.live import NOT_CONNECTED
from oxymus.tui.link.messages import (
    CaptureAdded, CaptureTriaged, InboxLoaded, SuggestionAccepted, SuggestionsLoaded, TriageFailed,
)
from oxymus.tui.screens.review_link import FINISH, REVIEW, STEP, ReviewFailed, ReviewFinished, ReviewLoaded, ReviewStepped
from oxymus.tui.screens.review_queue import ApprovalsPane, InboxPane
from oxymus.tui.screens.review_frame import FRAME_BINDINGS, GuidedReview
from oxymus.tui.screens.review_steps import CalendarPane, DonePane, StepPane, YesterdayPane
from oxymus.tui.screens.review_top import TopPane

LOADING = "Loading today's review… (the planner makes today's plan if it has not yet)"
STEP_KEYS = ("c", "x", "d", "y", "m", "p", "e", "A", "a", "s", "K", "J", "b")


class ReviewScreen(GuidedReview):
    NAME = "Morning review"
    STEPS = STEPS
    LABELS = LABELS
    LOADING = LOADING
    FINISHING = "Writing the day plan…"
    GET = REVIEW
    BINDINGS = [
        *FRAME_BINDINGS,
        Binding("space", "step_key('space')", show=False, priority=True),
        Binding("shift+up", "step_key('K')", show=False),
        Binding("shift+down", "step_key('J')", show=False),
        *(Binding(k, f"step_key('{k}')", show=False) for k in STEP_KEYS),
    ]

    def panes(self) -> list[StepPane]:
        return [YesterdayPane(id="step-yesterday"), CalendarPane(id="step-calendar"), InboxPane(id="step-inbox"),
                ApprovalsPane(id="step-approvals"), TopPane(id="step-top"), DonePane(id="step-done")]

    def decisions_pane(self) -> ApprovalsPane:
        return self.query_one(ApprovalsPane)

    # ---- showing ---------------------------------------------------------------------

    @on(ReviewLoaded)
    def _loaded(self, message: ReviewLoaded) -> None:
        if self.view is not None:  # asked again because the inbox changed: only the Inbox step follows
            self.query_one(InboxPane).follow(message.view.inbox, message.view.inbox_total)
            return
        self.loaded(message.view, message.view.date)

    @on(ReviewFailed)
    def _failed(self, message: ReviewFailed) -> None:
        if message.what == "get":
            self.load_failed(message.reason, waiting=message.reason == NOT_CONNECTED)
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
        self.go("done")

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

    # ---- keys ------------------------------------------------------------------------

    def action_accept(self) -> None:
        if not self.ready():
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
        if not self.ready():
            return
        if self.step == "done":
            self.action_leave()
        elif self.step == "top":
            self._finish(skipped=True)
        else:
            self._record({}, next_step(self.step))

    def _record(self, decisions: dict[str, str], go_to: str) -> None:
        self.oxymus.connection.live.send(STEP, step=self.step, decisions=decisions, go_to=go_to)
        self.go(go_to)

    def _finish(self, skipped: bool = False) -> None:
        top = self.query_one(TopPane)
        self.finishing = True
        params = {} if skipped else {"top": list(top.chosen), "block": top.block}
        self.oxymus.connection.live.send(FINISH, **params)
