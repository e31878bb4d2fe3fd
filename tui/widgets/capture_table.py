"""The inbox list: captures newest first, one line each, keyed by capture id.

Rows are keyed by capture id, so a capture that arrives twice (an event and a
reply, or a replay after a reconnect) is shown once. Captures the user typed that
the daemon has not stored yet are shown on top as "sending…" until they are.
DataTable only renders the rows in view, so a long inbox costs little.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from oxymus.models import Capture
from oxymus.textfmt import local_time, one_line

WHEN_WIDTH = 16  # "YYYY-MM-DD HH:MM"
PENDING = "sending…"


class CaptureTable(DataTable):
    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.captures: dict[str, Capture] = {}
        self.pending: dict[str, str] = {}
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
        if self.pending.pop(capture_id, None) is not None or self.captures.pop(capture_id, None) is not None:
            self._render_rows()

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

    def _wanted_text_width(self) -> int:
        # Two columns with one cell of padding each side, and room for a vertical scrollbar.
        return max(10, self.size.width - WHEN_WIDTH - 4 - 2)

    def _render_rows(self) -> None:
        keep = None
        if self.row_count and self.cursor_row is not None:
            try:
                keep = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
            except Exception:
                keep = None
        self._text_width = self._wanted_text_width()
        self.clear(columns=True)
        self.add_column("When", width=WHEN_WIDTH, key="when")
        self.add_column("Capture", width=self._text_width, key="text")
        rows = []
        for capture_id in self.ordered_ids:
            if capture_id in self.pending:
                when = Text(PENDING, style="italic")
                text = Text(one_line(self.pending[capture_id], self._text_width), style="italic")
            else:
                capture = self.captures[capture_id]
                when = Text(local_time(capture.created_at))
                text = Text(one_line(capture.text, self._text_width))
            rows.append((capture_id, when, text))
        for capture_id, when, text in rows:
            self.add_row(when, text, key=capture_id)
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep), animate=False)
