"""The morning review's Top three step: the planner's candidates, why each was suggested, and the choice.

The rules' top three come chosen (1, 2, 3). `space` takes the highlighted candidate in or
out (in, when three are chosen already: it replaces the third); `K`/`J` (or shift+↑/↓)
move a chosen one up or down; `b` also blocks focus time for the first one in today's
first free slot, offered only when a CalDAV calendar can take it (a `calendar.create_event`
proposed as you, so the policy plane decides). Enter writes the day plan.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from oxymus.agents.review import TOP, Candidate, ReviewView
from oxymus.kernel.textfmt import one_line
from oxymus.tui.screens.review_steps import StepPane

SOURCES = {"planner": "planner", "defer": "deferred", "carried": "carried"}


class TopPane(StepPane):
    STEP = "top"
    HINT = "space in/out · K/J move · Enter write the day plan · n skip · q leave"

    def hint(self) -> str:
        if self.view is not None and self.view.block_calendar:
            return "space in/out · K/J move · b focus block · Enter write the day plan · q leave"
        return self.HINT

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.chosen: list[str] = []
        self.block = False

    def compose(self) -> ComposeResult:
        yield Static("", id="top-head", classes="review-line")
        table: DataTable = DataTable(id="top-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="top-why", classes="review-detail")

    def show(self, view: ReviewView) -> None:
        super().show(view)
        known = {c.id for c in view.candidates}
        self.chosen = [c for c in view.record.top if c in known][:TOP]
        self._fill()

    @property
    def rows(self) -> list[Candidate]:
        if self.view is None:
            return []
        by_id = {c.id: c for c in self.view.candidates}
        return [by_id[c] for c in self.chosen] + [c for c in self.view.candidates if c.id not in self.chosen]

    def _fill(self, keep: str | None = None) -> None:
        table = self.query_one("#top-table", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        width = max(20, self.size.width - 22) if self.size.width else 50
        table.add_column("#", width=2)
        table.add_column("From", width=8)
        table.add_column("Candidate", width=width)
        rows = self.rows
        for cand in rows:
            rank = str(self.chosen.index(cand.id) + 1) if cand.id in self.chosen else ""
            style = "bold" if rank else "dim"
            table.add_row(Text(rank, style="bold green"), Text(SOURCES[cand.source], style="dim"),
                          Text(one_line(cand.title, width), style=style), key=cand.id)
        if keep is not None and keep in [c.id for c in rows]:
            row = [c.id for c in rows].index(keep)
        if rows:
            table.move_cursor(row=min(row, len(rows) - 1))
        block = ""
        if self.view is not None and self.view.block_calendar:
            block = f" · focus block: {'yes, in ' + self.view.block_calendar if self.block else 'no (b)'}"
        head = (f"Today's top three: {len(self.chosen)} chosen{block}" if rows
                else "No candidates: nothing urgent, due or planned. Enter writes a free day.")
        self.query_one("#top-head", Static).update(Text(head, style="bold"))
        self._why()

    def on_resize(self) -> None:
        if self.view is not None:
            self._fill(self._current())

    def _current(self) -> str | None:
        rows, table = self.rows, self.query_one("#top-table", DataTable)
        return rows[table.cursor_row].id if rows and table.cursor_row < len(rows) else None

    @on(DataTable.RowHighlighted, "#top-table")
    def _highlighted(self, _message: DataTable.RowHighlighted) -> None:
        self._why()

    def _why(self) -> None:
        current = self._current()
        cand = next((c for c in self.rows if c.id == current), None)
        why = self.query_one("#top-why", Static)
        why.display = cand is not None
        if cand is not None:
            text = Text(f"{cand.title}\n", style="bold")
            text.append(f"why: {cand.why}")
            if cand.item is not None:
                text.append(f"\nrule: {cand.item.rule}", style="dim")
            why.update(text)

    def key(self, key: str) -> bool:
        if key not in ("space", "K", "J", "b"):
            return False
        current = self._current()
        if key == "b":
            if self.view is None or not self.view.block_calendar:
                self.review.notify("No CalDAV calendar can take a focus block ([[calendar.caldav]] in config.toml).",
                                   timeout=5)
                return True
            self.block = not self.block
        elif current is None:
            self.review.notify("No candidate here.", timeout=3)
            return True
        elif key == "space":
            if current in self.chosen:
                self.chosen.remove(current)
            elif len(self.chosen) >= TOP:
                self.chosen[-1] = current
            else:
                self.chosen.append(current)
        else:
            if current not in self.chosen:
                self.review.notify("Only a chosen one moves: space takes it in first.", timeout=4)
                return True
            i = self.chosen.index(current)
            j = i - 1 if key == "K" else i + 1
            if 0 <= j < len(self.chosen):
                self.chosen[i], self.chosen[j] = self.chosen[j], self.chosen[i]
        self._fill(current)
        return True

    def accept(self) -> dict[str, str] | None:
        return None
