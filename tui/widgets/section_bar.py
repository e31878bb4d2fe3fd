"""The title line: the app's name, the sections with their keys, and the section's own summary.

Below NARROW columns the name is left out and the sections are spaced by one column
rather than two, so that on an 80-column terminal the six sections leave twenty columns
for the summary ("2 waiting, 1 snoozed").
"""

from __future__ import annotations

from typing import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

NARROW = 96


class SectionBar(Horizontal):
    def __init__(self, sections: Iterable[tuple[str, str, str]], current: str, **kwargs) -> None:
        """`sections` are (name, key, label) in display order; `current` is the name shown as active."""
        super().__init__(**kwargs)
        self.sections = list(sections)
        self.current = current

    def compose(self) -> ComposeResult:
        yield Label("Oxymus", id="brand")
        yield Label(self._tabs(narrow=False), id="sections")
        yield Label("", id="summary")

    def _tabs(self, narrow: bool) -> Text:
        tabs = Text()
        for n, (name, key, label) in enumerate(self.sections):
            current = name == self.current
            if narrow:  # one column between sections; the current one keeps its frame
                if not current and (n == 0 or self.sections[n - 1][0] != self.current):
                    tabs.append(" ")
                tabs.append(f" {key} {label} " if current else f"{key} {label}", style="reverse bold" if current else "")
            else:
                tabs.append(f" {key} {label} ", style="reverse bold" if current else "")
        return tabs

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW
        if narrow != self.has_class("-narrow"):
            self.query_one("#sections", Label).update(self._tabs(narrow))
        self.set_class(narrow, "-narrow")

    def set_summary(self, text: str) -> None:
        self.query_one("#summary", Label).update(text)
