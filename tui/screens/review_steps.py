"""The morning review's steps, one widget each (the screen shows one at a time): the shared base, and the
Yesterday, Calendar and Done steps. Inbox and Approvals are in review_queue.py, Top three in review_top.py.

A step shows its part of the `ReviewView`, handles its own keys (`key`) and says what
Enter accepts (`accept`: the decisions to record, or None when it does the work itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from oxymus.agents.review import ReviewView
from oxymus.client.protocol import ReviewFinishResult
from oxymus.kernel.textfmt import tilde
from oxymus.tui.widgets.review_views import MARKS, timeline_text

NOW_TICK = 30.0  # seconds between redraws of the timeline's now line

if TYPE_CHECKING:
    from oxymus.tui.screens.review import ReviewScreen


class StepPane(Vertical):
    """One step of the review."""

    STEP = ""
    HINT = ""  # the step's keys, one line under 80 columns

    DEFAULT_CSS = """
    StepPane { height: 1fr; }
    StepPane DataTable { height: 1fr; }
    StepPane .review-text { padding: 0 1; }
    StepPane .review-detail { height: auto; max-height: 8; padding: 0 1; border-top: solid $primary 50%; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view: ReviewView | None = None
        self.decisions: dict[str, str] = {}

    @property
    def review(self) -> "ReviewScreen":
        return self.screen  # type: ignore[return-value]

    def show(self, view: ReviewView) -> None:
        self.view = view
        self.decisions = {k: v for k, v in view.record.decisions.items() if self.owns(k)}

    def owns(self, key: str) -> bool:
        return False

    def hint(self) -> str:
        return self.HINT

    def key(self, key: str) -> bool:
        """Handle one of the step's keys; False: it does nothing here."""
        return False

    def accept(self) -> dict[str, str] | None:
        """Enter: the decisions to record before moving on (None: the step moves on by itself)."""
        return dict(self.decisions)

    def focus_body(self) -> None:
        for table in self.query(DataTable):
            table.focus()
            return


class YesterdayPane(StepPane):
    STEP = "yesterday"
    HINT = "c carry · x drop · d done · Enter accept as marked · n skip · q leave"

    def compose(self) -> ComposeResult:
        yield Static("", id="yesterday-missed", classes="review-line")
        yield Static("", id="yesterday-since", classes="review-line")
        table: DataTable = DataTable(id="yesterday-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("", "From the last plan", "Why")
        yield table
        yield Static("", id="yesterday-empty", classes="review-text")

    def owns(self, key: str) -> bool:
        return key.startswith("yesterday:")

    def show(self, view: ReviewView) -> None:
        super().show(view)
        for item in view.yesterday:
            self.decisions.setdefault(item.key, item.default)
        missed = self.query_one("#yesterday-missed", Static)
        missed.display = bool(view.missed)
        if view.missed:
            # The review starts with what no desktop and no TUI could show (finishing marks them seen).
            lines = [f"Missed notifications ({len(view.missed)}), not shown on a desktop or here:",
                     *(f"  {line}" for line in view.missed[:5])]
            if len(view.missed) > 5:
                lines.append(f"  and {len(view.missed) - 5} more: oxymus notifications")
            missed.update(Text("\n".join(lines), style="bold", no_wrap=True, overflow="ellipsis"))  # one line each
        since = self.query_one("#yesterday-since", Static)
        head = f"Looking back at the plan of {view.yesterday_date}." if view.yesterday_date else "No earlier day plan to look back at."
        since.update(Text(head + (f"\n{view.since_line}" if view.since_line else ""), style="bold"))
        self._fill()

    def _fill(self) -> None:
        assert self.view is not None
        table = self.query_one("#yesterday-table", DataTable)
        row = table.cursor_row
        table.clear()
        for item in self.view.yesterday:
            table.add_row(MARKS[self.decisions.get(item.key, item.default)], item.title, item.why, key=item.key)
        table.display = bool(self.view.yesterday)
        if self.view.yesterday:
            table.move_cursor(row=min(row, table.row_count - 1))
        self.query_one("#yesterday-empty", Static).update(
            "" if self.view.yesterday else "Nothing left over from the last plan. Enter moves on.")

    def key(self, key: str) -> bool:
        decision = {"c": "carry", "x": "drop", "d": "done"}.get(key)
        if decision is None or self.view is None:
            return False
        if not self.view.yesterday:
            self.review.notify("Nothing to decide here: Enter moves on.", timeout=3)
            return True
        table = self.query_one("#yesterday-table", DataTable)
        item = self.view.yesterday[table.cursor_row]
        if decision == "done" and item.kind != "plan":
            self.review.notify("Done: it leaves the list (only PLANS.md items are checked in the file).", timeout=4)
        self.decisions[item.key] = decision
        self._fill()
        table.move_cursor(row=min(table.cursor_row + 1, table.row_count - 1))
        return True


class CalendarPane(StepPane):
    STEP = "calendar"
    HINT = "Enter next · n skip · q leave the review"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="calendar-scroll"):
            yield Static("", id="calendar-timeline", classes="review-text")

    def on_mount(self) -> None:
        self.set_interval(NOW_TICK, self.redraw)  # the now line moves with the clock

    def show(self, view: ReviewView) -> None:
        super().show(view)
        self.redraw()

    def redraw(self) -> None:
        view, timeline = self.view, self.query_one("#calendar-timeline", Static)
        if view is None:
            return
        if view.plan is None:
            timeline.update(Text(f"No day plan: {view.plan_error}", style="red"))
        else:
            timeline.update(timeline_text(view.plan, self.review.oxymus.clock()))

    def focus_body(self) -> None:
        self.query_one("#calendar-scroll").focus()


class DonePane(StepPane):
    STEP = "done"
    HINT = "Enter or q close the review"

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id="done-text", classes="review-text")

    def show(self, view: ReviewView) -> None:
        super().show(view)
        if view.plan is not None and view.record.status == "done":
            lines = [f"Today's review is done ({view.date})."] + [f"{t.rank}. {t.title}" for t in view.plan.top]
            self.query_one("#done-text", Static).update("\n".join(lines))

    def finished(self, result: ReviewFinishResult) -> None:
        text = Text("Review done. ", style="bold green")
        text.append("The day plan is written")
        text.append(f": {tilde(result.path)}\n\n" if result.path else ".\n\n")
        text.append("Top three\n", style="bold")
        for item in result.plan.top:
            text.append(f"{item.rank}. {item.title}\n")
            text.append(f"   {item.why}\n", style="dim")
        if not result.plan.top:
            text.append("nothing urgent: a free day\n", style="dim")
        if result.block is not None:
            state = {"awaiting_approval": "waits for your approval (key 5)", "approved": "approved",
                     "succeeded": "in your calendar"}.get(result.block.status, result.block.status)
            text.append(f"\nFocus block: {result.block.preview.summary}: {state}\n")
        self.query_one("#done-text", Static).update(text)

    def accept(self) -> dict[str, str] | None:
        return None
