"""The weekly review's steps, one widget each (the screen shows one at a time): The week, Questions,
Proposals and Done. They share the morning review's step base (review_steps.py), and Proposals is the
morning review's Approvals step narrowed to what this week's review proposed.

Questions: the review's questions with the facts under each; `e` answers the highlighted one in a
text input, `t` makes the answer a decision or a reflection (the default), `x` skips it again. Enter
records the answers (each a memory record, through the policy plane) and moves on.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from oxymus.actions.model import Action
from oxymus.agents.weekly import MAX_ANSWER, SECTIONS, WeeklyQuestion, WeeklyView, proposal_of
from oxymus.client.protocol import WeeklyFinishResult
from oxymus.kernel.textfmt import one_line
from oxymus.tui.screens.line_input import LineInputScreen
from oxymus.tui.screens.review_queue import ApprovalsPane
from oxymus.tui.screens.review_steps import StepPane
from oxymus.tui.widgets.nav_table import NavTable

KINDS = {"reflection": "decision", "decision": "reflection"}  # `t` turns one into the other
STATES = {"succeeded": "✓ in memory", "approved": "… being saved", "awaiting_approval": "… waits (key 5)",
          "denied": "✗ refused", "failed": "✗ failed"}


class WeekPane(StepPane):
    STEP = "week"
    HINT = "↑/↓ scroll · Enter next: the questions · n skip · q leave"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="week-scroll"):
            yield Static("", id="week-text", classes="review-text")

    def show(self, view: WeeklyView) -> None:  # type: ignore[override]
        super().show(view)  # type: ignore[arg-type]
        text = Text()
        if view.error:
            text.append(f"No review of the week: {view.error}\n", style="red")
            text.append("Enter moves on.", style="dim")
        else:
            text.append(f"{view.start} – {view.end}", style="bold")
            if view.headline:
                text.append(f": {view.headline}", style="bold")
            text.append("\n")
            if view.narrative:
                text.append(f"\n{view.narrative}\n", style="italic")
            for title in SECTIONS:
                text.append(f"\n{title}\n", style="bold underline")
                for line in view.sections.get(title) or ["- nothing"]:
                    text.append(f"{line}\n")
            if view.path:
                text.append(f"\n{view.path}", style="dim")
        self.query_one("#week-text", Static).update(text)

    def focus_body(self) -> None:
        self.query_one("#week-scroll").focus()


class QuestionsPane(StepPane):
    STEP = "questions"
    DEFAULT_CSS = """
    QuestionsPane .review-detail { max-height: 14; }
    """
    HINT = "e answer · t decision/reflection · x skip it · Enter record & next · q leave"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.answers: dict[str, tuple[str, str]] = {}  # question id -> (text, kind), as typed here or recorded
        self.states: dict[str, str] = {}  # question id -> its memory action's status, once recorded

    def compose(self) -> ComposeResult:
        yield Static("", id="questions-head", classes="review-line")
        yield NavTable(id="questions-table", zebra_stripes=True)
        yield Static("", id="questions-detail", classes="review-detail")

    @property
    def questions(self) -> list[WeeklyQuestion]:
        return self.view.questions if self.view is not None else []  # type: ignore[attr-defined]

    def show(self, view: WeeklyView) -> None:  # type: ignore[override]
        super().show(view)  # type: ignore[arg-type]
        self.recorded(view)
        self._fill()

    def recorded(self, view: WeeklyView) -> None:
        """What the daemon recorded: the answers and their memory actions' status."""
        for qid, answer in view.record.answers.items():
            self.answers[qid] = (answer.text, answer.kind)
            self.states[qid] = answer.status or ""
        if self.view is not None:
            self._fill()

    def on_resize(self) -> None:
        if self.view is not None:
            self._fill()

    def _fill(self) -> None:
        table = self.query_one("#questions-table", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        width = self.size.width or 80
        longest = max((len(q.text) for q in self.questions), default=20)
        question_w = max(20, min(longest, width // 2))  # the reflection's three fit at 80 columns
        answer_w = max(12, width - question_w - 10 - 8)  # three columns with a cell of padding each side; a scrollbar
        table.add_column("Kind", width=10)
        table.add_column("Question", width=question_w)
        table.add_column("Answer", width=answer_w)
        for q in self.questions:
            text, kind = self.answers.get(q.id, ("", "reflection"))
            table.add_row(Text(kind if text else "skipped", style="bold" if text else "dim"), one_line(q.text, question_w),
                          Text(one_line(text, answer_w) if text else "—", style="" if text else "dim"), key=q.id)
        if self.questions:
            table.move_cursor(row=min(row, table.row_count - 1))
        answered = sum(1 for q in self.questions if self.answers.get(q.id, ("",))[0])
        head = (f"{len(self.questions)} questions, {answered} answered: Enter records the answers and moves on"
                if self.questions else "No questions to answer. Enter moves on.")
        self.query_one("#questions-head", Static).update(Text(head, style="bold"))
        self._detail()

    @on(DataTable.RowHighlighted, "#questions-table")
    def _highlighted(self, _message: DataTable.RowHighlighted) -> None:
        self._detail()

    def _current(self) -> WeeklyQuestion | None:
        table = self.query_one("#questions-table", DataTable)
        qs = self.questions
        return qs[min(table.cursor_row, len(qs) - 1)] if qs else None

    def _detail(self) -> None:
        detail = self.query_one("#questions-detail", Static)
        q = self._current()
        detail.display = q is not None
        if q is None:
            return
        text = Text(f"{q.text}\n", style="bold")
        answer, kind = self.answers.get(q.id, ("", "reflection"))
        if answer:  # the answer before the facts, so a long list of facts never hides it
            state = STATES.get(self.states.get(q.id, ""), "not recorded yet")
            text.append(f"{kind}: ", style="bold green")
            text.append(f"{one_line(answer, 300)} ({state})")
        else:
            text.append("e answers it (a reflection; t makes it a decision)", style="dim")
        for line in q.context:
            text.append(f"\n{line}", style="dim")
        detail.update(text)

    def key(self, key: str) -> bool:
        if key not in ("e", "t", "x"):
            return False
        q = self._current()
        if q is None:
            self.review.notify("No question here: Enter moves on.", timeout=3)
            return True
        text, kind = self.answers.get(q.id, ("", "reflection"))
        if key == "e":
            dialog = LineInputScreen(one_line(q.text, 70), value=text, placeholder="your answer", max_length=MAX_ANSWER,
                                     hint=f"Enter keeps it (a {kind}) · empty: skip · Escape cancels",
                                     allow_empty=True)
            self.app.push_screen(dialog, lambda answer: self._answered(q, answer))
        elif key == "t":
            if not text:
                self.review.notify("Answer it first (e): then t makes it a decision or a reflection.", timeout=4)
                return True
            self._set(q, text, KINDS[kind])
        else:
            self._set(q, "", kind)
        return True

    def _answered(self, q: WeeklyQuestion, answer: str | None) -> None:
        if answer is not None:
            self._set(q, answer, self.answers.get(q.id, ("", "reflection"))[1])

    def _set(self, q: WeeklyQuestion, text: str, kind: str) -> None:
        if (text, kind) != self.answers.get(q.id):
            self.states.pop(q.id, None)  # a new answer: not recorded yet
        self.answers[q.id] = (text, kind)
        self._fill()

    def to_send(self) -> dict[str, dict[str, str]]:
        """The answers to record (the daemon records an answer it already has once)."""
        return {qid: {"text": text, "kind": kind} for qid, (text, kind) in self.answers.items() if text}

    def accept(self) -> dict[str, str] | None:
        return None


class ProposalsPane(ApprovalsPane):
    """The morning review's Approvals step, narrowed to the actions proposed from this week's review."""

    STEP = "proposals"
    DEFAULT_CSS = """
    ProposalsPane .review-detail { max-height: 14; }
    """
    HINT = "a approve · d deny · s snooze · Enter finish (the rest wait) · q leave"

    everything: list[Action] | None = None  # the link's newest queue, before it is narrowed to this week

    def show(self, view: WeeklyView) -> None:  # type: ignore[override]
        self.live = None
        super().show(view)  # type: ignore[arg-type]
        if self.everything is not None:
            self.queue(self.everything)

    def queue(self, actions: list[Action]) -> None:
        self.everything = list(actions)
        week = getattr(self.view, "week", None)
        if week is not None:  # (before the review is loaded, its own list of waiting proposals is shown)
            super().queue([a for a in actions if proposal_of(a, week)])

    def _fill(self) -> None:
        super()._fill()
        if self.view is not None and not self.waiting:  # Enter finishes here (the morning's moves on)
            decided = len(self.decisions)
            head = (f"Nothing else waits ({decided} decided here). Enter finishes the review." if decided
                    else "The week's review proposes nothing that waits. Enter finishes the review.")
            self.query_one("#approvals-review-head", Static).update(Text(head, style="bold"))


class WeeklyDonePane(StepPane):
    STEP = "done"
    HINT = "Enter or q close the review"

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id="weekly-done-text", classes="review-text")

    def show(self, view: WeeklyView) -> None:  # type: ignore[override]
        super().show(view)  # type: ignore[arg-type]
        if view.record.status == "done":
            text = Text(f"The weekly review of {view.week} is done ({(view.record.finished_at or '')[:10]}).\n\n", style="bold")
            for line in view.done:
                text.append(f"• {line}\n", style="")
            self.query_one("#weekly-done-text", Static).update(text)

    def finished(self, result: WeeklyFinishResult) -> None:
        text = Text("Weekly review done. ", style="bold green")
        text.append(f"Recorded for {result.record.week}:\n\n")
        for line in result.lines:
            text.append(f"• {line}\n")
        self.query_one("#weekly-done-text", Static).update(text)

    def accept(self) -> dict[str, str] | None:
        return None
