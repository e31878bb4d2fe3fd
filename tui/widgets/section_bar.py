"""The title line: the app's name, the sections with their keys, and the section's own summary.

Below NARROW columns the name is left out, so that on an 80-column terminal the
six sections still leave room for the summary.
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
        tabs = Text()
        for name, key, label in self.sections:
            style = "reverse bold" if name == self.current else ""
            tabs.append(f" {key} {label} ", style=style)
        yield Label(tabs, id="sections")
        yield Label("", id="summary")

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")

    def set_summary(self, text: str) -> None:
        self.query_one("#summary", Label).update(text)
