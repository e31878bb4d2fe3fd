"""The Today section's sources: one row per source with its status and age, details under a failing one.

A widget per row (rather than one block of text) so that a long error wraps
under its source with its indent kept, at whatever width the panel has.
"""

from __future__ import annotations

import datetime as dt

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from oxymus.models import SourceView
from oxymus.tui.widgets import today_panels as panels


class SourcesPanel(Vertical):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._names: list[str] = []
        self._rows: list[tuple[Static, Static]] = []  # (row, detail) per source, in order

    def compose(self) -> ComposeResult:
        yield Static(panels.sources_title([]), classes="sources-title")
        hint = Static(panels.NO_SOURCES, classes="sources-hint")
        hint.display = False  # until a day says there are none
        yield hint

    def show(self, sources: list[SourceView], elapsed: float, now: dt.datetime) -> None:
        """Render these sources, aged by `elapsed` seconds; called on every load and every tick."""
        names = [s.source for s in sources]
        if names != self._names:  # rows are rebuilt only when the set of sources changes
            for row, detail in self._rows:
                row.remove()
                detail.remove()
            self._names = names
            self._rows = [(Static("", classes="source-row"), Static("", classes="source-detail")) for _ in names]
            self.mount_all([widget for pair in self._rows for widget in pair])
        self.query_one(".sources-title", Static).update(panels.sources_title(sources))
        self.query_one(".sources-hint", Static).display = not sources
        width = max((len(n) for n in names), default=0)
        for view, (row, detail) in zip(sources, self._rows):
            row.update(panels.source_row(view, elapsed, width))
            text = panels.source_detail(view, elapsed, now)
            detail.display = text is not None
            if text is not None:
                detail.update(text)

    @property
    def text(self) -> str:
        """What the panel shows, as plain text: one line per row (a wrapped row stays one line)."""
        return "\n".join(str(child.render()) for child in self.query(Static) if child.display)
