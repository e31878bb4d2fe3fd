"""What the morning and the weekly review share: one step per screen, a progress line, the keys.

A review screen is a `GuidedReview`: it names its steps and their labels, the live query
that loads it, and its step panes (`StepPane` widgets, only the current one shown). This
frame draws the progress line, the title and the hint, shows the current step, and gives
every review the same keys: Enter accepts the step's default and moves on, `n` or `tab`
skips, Escape or `q` leaves, and the step's own keys go to its pane (`step_key`). It also
follows the approval queue and the decisions, for the panes that decide on actions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from oxymus.tui.link.live import LiveQuery
from oxymus.tui.link.messages import ApprovalsLoaded, Connected, DecisionFailed, DecisionMade
from oxymus.tui.screens.review_steps import StepPane
from oxymus.tui.widgets.review_views import progress_text

if TYPE_CHECKING:
    from oxymus.tui.app import OxymusApp

FRAME_BINDINGS = [
    Binding("enter", "accept", "Accept", show=False, priority=True),
    Binding("n", "skip", "Skip", show=False),
    Binding("tab", "skip", "Skip", show=False, priority=True),
    Binding("escape", "leave", "Leave", show=False),
    Binding("q", "leave", "Leave", show=False),
]


class GuidedReview(Screen):
    NAME: ClassVar[str]  # "Morning review": the title before the date or week
    STEPS: ClassVar[tuple[str, ...]]
    LABELS: ClassVar[dict[str, str]]
    LOADING: ClassVar[str]  # said while the daemon prepares the review
    FINISHING: ClassVar[str]  # said when a key comes while the finish is on its way
    GET: ClassVar[LiveQuery]  # loads the review (its answer's message calls `loaded`)
    DEFAULT_CSS = """
    GuidedReview #review-progress { height: 1; padding: 0 1; background: $panel; }
    GuidedReview #review-title { height: 1; padding: 0 1; color: $text-muted; }
    GuidedReview #review-hint { dock: bottom; height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    GuidedReview .review-line { height: auto; padding: 0 1; }
    GuidedReview #review-loading { padding: 1 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.view: Any = None  # the loaded review (its `record` has `status` and `step`)
        self.step = self.STEPS[0]
        self.finishing = False

    @property
    def oxymus(self) -> "OxymusApp":
        return cast("OxymusApp", self.app)

    def panes(self) -> list[StepPane]:
        """One pane per step, each with id `step-<step>`."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        yield Static("", id="review-progress")  # drawn once the review is loaded: its keys work from then on
        yield Static(self.NAME, id="review-title")
        yield Static(self.LOADING, id="review-loading")
        with Vertical(id="review-steps"):
            for pane in self.panes():
                pane.display = False
                yield pane
        yield Static("Escape or q leaves the review", id="review-hint")

    def pane(self, step: str | None = None) -> StepPane:
        return self.query_one(f"#step-{step or self.step}", StepPane)

    def on_mount(self) -> None:
        self.oxymus.connection.listen(self)
        self.oxymus.connection.live.ask(self.GET)

    def on_unmount(self) -> None:
        self.oxymus.connection.unlisten(self)

    # ---- showing ---------------------------------------------------------------------

    def go(self, step: str) -> None:
        self.step = step
        for name in self.STEPS:
            self.pane(name).display = name == step
        finished = self.view is not None and self.view.record.status == "done"
        self.query_one("#review-progress", Static).update(
            progress_text(step, finished and step == "done", self.STEPS, self.LABELS))
        self.query_one("#review-hint", Static).update(Text(self.pane().hint(), style="dim"))
        self.pane().focus_body()

    def loaded(self, view: Any, when: str) -> None:
        """The review as the daemon has it: every pane shown its part, and the step where it stands."""
        self.view = view
        self.query_one("#review-loading", Static).display = False
        for name in self.STEPS:
            self.pane(name).show(view)
        title = f"{self.NAME} · {when}"
        if view.record.status == "open" and view.record.step != self.STEPS[0]:
            title += f" · resumed at {self.LABELS[view.record.step]}"
        self.query_one("#review-title", Static).update(Text(title, style="bold"))
        self.go("done" if view.record.status == "done" else view.record.step)

    def load_failed(self, reason: str, waiting: bool = False) -> None:
        loading = self.query_one("#review-loading", Static)
        if waiting:  # asked again once the link is up (Connected)
            loading.update(Text("Waiting for the daemon to answer… (started if it was not running)", style="dim"))
        else:
            loading.update(Text(f"Could not load the {self.NAME.lower()}: {reason}", style="red"))

    @on(Connected)
    def _connected(self, _message: Connected) -> None:
        if self.view is None:  # opened before the link was up: ask now
            self.oxymus.connection.live.ask(self.GET)

    # ---- the approval queue, for the panes that decide on actions -----------------------

    def decisions_pane(self) -> Any:
        """The pane that decides on actions (it has `queue(actions)` and `decided(action, verb)`)."""
        raise NotImplementedError

    @on(ApprovalsLoaded)
    def _queue(self, message: ApprovalsLoaded) -> None:
        """The queue as it is now (another client may decide)."""
        self.decisions_pane().queue(message.actions)

    @on(DecisionMade)
    def _decided(self, message: DecisionMade) -> None:
        self.decisions_pane().decided(message.action, message.verb)

    @on(DecisionFailed)
    def _decision_failed(self, message: DecisionFailed) -> None:
        self.notify(f"Could not {message.verb}: {message.reason}", severity="error", timeout=8)

    # ---- keys ------------------------------------------------------------------------

    def ready(self) -> bool:
        if self.view is None:
            self.notify(f"The {self.NAME.lower()} is still loading.", timeout=3)
            return False
        if self.finishing:
            self.notify(self.FINISHING, timeout=3)
            return False
        return True

    def action_step_key(self, key: str) -> None:
        if not self.ready():
            return
        if not self.pane().key(key):
            shown = {"space": "space"}.get(key, key)
            self.notify(f"{shown} does nothing on {self.LABELS[self.step]}: {self.pane().hint()}", timeout=4)

    def action_leave(self) -> None:
        self.dismiss()
