"""The inbox list: captures newest first, one line each, keyed by capture id.

Rows are keyed by capture id, so a capture that arrives twice (an event and a
reply, or a replay after a reconnect) is shown once. Captures the user typed that
the daemon has not stored yet are shown on top as "sending…" until they are.
DataTable only renders the rows in view, so a long inbox costs little.

Once the triage agent has suggested something for any capture, a third column shows
each capture's suggestion: `★` marks a pre-selected one (the default, which Enter
accepts), `·` one that is only shown. `SuggestionLine` shows the highlighted capture's
suggestion in full under the table, with its reason and what may be wrong with it.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from oxymus.kernel.textfmt import local_time, one_line
from oxymus.models import Capture
from oxymus.tui.widgets.columns import Column, fit
from oxymus.tui.widgets.nav_table import NavTable

WHEN_WIDTH = 16  # "YYYY-MM-DD HH:MM"
WHEN_SHORT = 11  # "MM-DD HH:MM", when the room is short
TEXT_LEAST, SUGGESTION_LEAST = 24, 20
PENDING = "sending…"
PRESELECTED = "★"
SHOWN = "·"


def suggestion_cell(suggestion, width: int) -> Text:
    """One line for the suggestion column: the mark, what it becomes, the confidence."""
    if suggestion is None:
        return Text("")
    tail = f" {suggestion.confidence:.2f}"
    if suggestion.stale:
        room = max(4, width - 8)
        return Text(one_line(f"{SHOWN} {_fitting(suggestion.label, room)}", room) + " (stale)", style="dim strike")
    mark = PRESELECTED if suggestion.preselected else SHOWN
    room = max(4, width - len(tail))
    body = one_line(f"{mark} {_fitting(suggestion.label, room)}", room)
    return Text(body + tail, style="bold" if suggestion.preselected else "dim")


def _fitting(label: str, room: int) -> str:
    """The label whole when it fits beside its mark in `room` cells, else its kind alone."""
    return label if len(label) + 2 <= room else kind_of(label)


def kind_of(label: str) -> str:
    """What a suggestion makes of the capture (`next action`, `memory fact`), without the title it quotes.

    A title cut to a dozen letters says less than the kind alone, and the highlighted
    capture's suggestion is shown whole in the pane below the table."""
    return label.split(" \u201c", 1)[0]


def suggestion_text(suggestion) -> Text:
    """The highlighted capture's suggestion in full: what, why, doubts, and the keys."""
    if suggestion.stale:
        head = Text(f"{SHOWN} Suggested: {suggestion.label} — {suggestion.stale}", style="dim")
        head.append("\n  m, p or x to choose differently")
        return head
    text = Text()
    if suggestion.preselected:
        text.append(f"{PRESELECTED} Suggested ({suggestion.confidence:.2f}): ", style="bold")
    else:
        text.append(f"{SHOWN} Maybe ({suggestion.confidence:.2f}): ", style="dim")
    text.append(suggestion.label)
    text.append(f" — {suggestion.why}", style="italic")
    for note in suggestion.notes[:2]:
        text.append(f"\n  ! {note}", style="yellow")
    keys = "Enter accepts it" if suggestion.preselected else "not pre-selected: y accepts it anyway"
    text.append(f"\n  {keys} · m memory · p next action · x archive", style="dim")
    return text


class SuggestionLine(Static):
    """The highlighted capture's suggestion, whole, in the detail pane; hidden when it has none."""

    DEFAULT_CSS = """
    SuggestionLine {
        height: auto;
        margin-top: 1;
    }
    """


def capture_text(capture: Capture | None, pending: str | None = None) -> Text:
    """The highlighted capture whole (wrapped by the pane), under a line saying when and from where."""
    if capture is None:
        return Text.assemble((f"{PENDING}\n", "italic dim"), pending or "")
    return Text.assemble((f"{local_time(capture.created_at)} · from {capture.source}\n", "dim"), capture.text.strip())


class CaptureTable(NavTable):
    # The inbox holds a window of the open captures; these say whether there are more past its edges, so that
    # g and G ask for the newest or the oldest page (`Edge`) rather than stop at the window's end.
    more_above = False
    more_below = False

    class Edge(Message):
        """g/G pressed with more captures past the window's edge: "top" or "end"."""

        def __init__(self, where: str) -> None:
            super().__init__()
            self.where = where

    def action_first(self) -> None:
        if self.more_above:
            self.post_message(self.Edge("top"))
        else:
            super().action_first()

    def action_last(self) -> None:
        if self.more_below:
            self.post_message(self.Edge("end"))
        else:
            super().action_last()

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.captures: dict[str, Capture] = {}
        self.pending: dict[str, str] = {}
        self.suggestions: dict = {}
        self._text_width = 0

    def on_mount(self) -> None:
        self._render_rows()

    def on_resize(self) -> None:
        if self._wanted_text_width() != self._text_width:
            self._render_rows()

    # ---- what the screen calls --------------------------------------------

    def show(self, captures: list[Capture]) -> None:
        """Replace everything shown with these captures (pending ones stay until stored)."""
        self.captures = {c.id: c for c in captures}
        for capture_id in list(self.pending):
            if capture_id in self.captures:
                del self.pending[capture_id]
        self._render_rows()

    def page(self, captures: list[Capture], most: int, keep_oldest: bool) -> int:
        """Add a page of stored captures; then, past `most` rows, drop the newest (keep_oldest) or the oldest.
        Returns how many were dropped."""
        for capture in captures:
            self.pending.pop(capture.id, None)
            self.captures[capture.id] = capture
        extra = max(0, len(self.captures) - most)
        if extra:
            ordered = sorted(self.captures.values(), key=lambda c: c.seq, reverse=keep_oldest)
            for capture in ordered[:extra]:
                del self.captures[capture.id]
                self.suggestions.pop(capture.id, None)
        self._render_rows()
        return extra

    def add(self, capture: Capture) -> None:
        if capture.id in self.captures and capture.id not in self.pending:
            return
        self.pending.pop(capture.id, None)
        self.captures[capture.id] = capture
        self._render_rows()

    def add_pending(self, capture_id: str, text: str) -> None:
        if capture_id in self.captures:
            return
        self.pending[capture_id] = text
        self._render_rows()

    def drop(self, capture_id: str) -> None:
        self.suggestions.pop(capture_id, None)
        if self.pending.pop(capture_id, None) is not None or self.captures.pop(capture_id, None) is not None:
            self._render_rows()

    def show_suggestions(self, suggestions: dict) -> None:
        """Replace the suggestions shown (capture id -> protocol.TriageSuggestion)."""
        if suggestions == self.suggestions:
            return
        self.suggestions = dict(suggestions)
        self._render_rows()

    @property
    def selected_suggestion(self):
        capture_id = self.selected_id
        return self.suggestions.get(capture_id) if capture_id in self.captures else None

    @property
    def selected_id(self) -> str | None:
        """The id of the row under the cursor (a stored or a pending capture), if any."""
        if not self.row_count or self.cursor_row is None:
            return None
        try:
            return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        except Exception:
            return None

    @property
    def ordered_ids(self) -> list[str]:
        newest_pending = sorted(self.pending, reverse=True)
        stored = sorted(self.captures.values(), key=lambda c: c.seq, reverse=True)
        return newest_pending + [c.id for c in stored]

    # ---- rendering ----------------------------------------------------------

    @property
    def _with_suggestions(self) -> bool:
        return any(capture_id in self.captures for capture_id in self.suggestions)

    def widths(self) -> dict[str, int]:
        """The columns' widths at the table's width now: the capture takes the most of the slack."""
        width = self.size.width
        when = WHEN_WIDTH if width >= 100 else WHEN_SHORT
        texts = [" ".join(c.text.split()) for c in self.captures.values()] + [" ".join(t.split()) for t in self.pending.values()]
        columns = [Column("when", when, when), Column("text", max([len(t) for t in texts] + [7]), TEXT_LEAST, flex=3)]
        if self._with_suggestions:
            shown = [s for cid, s in self.suggestions.items() if cid in self.captures]
            labels = [len(s.label) + (15 if s.stale else 7) for s in shown]
            columns.append(Column("suggestion", max(labels + [10]), SUGGESTION_LEAST, flex=2))
            widths = fit(width, columns)
            if widths["suggestion"] >= max(labels + [10]):
                return widths
            # Too narrow for the titles: the column says each suggestion's kind, and the capture gets the room.
            kinds = [len(kind_of(s.label)) + (15 if s.stale else 7) for s in shown]
            columns[-1] = Column("suggestion", max(kinds + [10]), max(kinds + [10]))
        return fit(width, columns)

    def _wanted_text_width(self) -> int:
        return self.widths()["text"]

    def _suggestion_width(self) -> int:
        return self.widths().get("suggestion", 0)

    def _render_rows(self) -> None:
        keep = None
        if self.row_count and self.cursor_row is not None:
            try:
                keep = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
            except Exception:
                keep = None
        widths = self.widths()
        self._text_width = widths["text"]
        with_suggestions = self._with_suggestions
        self.clear(columns=True)
        self.add_column("When", width=widths["when"], key="when")
        self.add_column("Capture", width=self._text_width, key="text")
        if with_suggestions:
            self.add_column("Suggestion", width=self._suggestion_width(), key="suggestion")
        rows = []
        for capture_id in self.ordered_ids:
            if capture_id in self.pending:
                when = Text(PENDING, style="italic")
                text = Text(one_line(self.pending[capture_id], self._text_width), style="italic")
            else:
                capture = self.captures[capture_id]
                when = Text(local_time(capture.created_at)[-widths["when"]:])
                text = Text(one_line(capture.text, self._text_width))
            rows.append((capture_id, when, text))
        for capture_id, when, text in rows:
            if with_suggestions:
                self.add_row(when, text, suggestion_cell(self.suggestions.get(capture_id), self._suggestion_width()), key=capture_id)
            else:
                self.add_row(when, text, key=capture_id)
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep), animate=False)
