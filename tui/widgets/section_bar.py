"""The title line: the app's name, the sections with their keys, and the section's own summary.

The line takes the first of three forms that leaves the summary room to be whole (at
least SUMMARY_ROOM columns, "2 waiting, 1 snoozed"): the name and every section spaced by two columns; without
the name, spaced by one; then only the current section named and the others by their key
alone (` 5 Approvals  1 2 3 4 6 7`), as lazygit numbers its panels. `?` and the palette
still list every section by name.
"""

from __future__ import annotations

from typing import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

SUMMARY_ROOM = 24  # columns the summary keeps, its padding included
BRAND = len(" Oxymus ")


class SectionBar(Horizontal):
    def __init__(self, sections: Iterable[tuple[str, str, str]], current: str, **kwargs) -> None:
        """`sections` are (name, key, label) in display order; `current` is the name shown as active."""
        super().__init__(**kwargs)
        self.sections = list(sections)
        self.current = current
        self.summary = ""

    def compose(self) -> ComposeResult:
        yield Label("Oxymus", id="brand")
        yield Label(self._tabs("wide"), id="sections")
        yield Label("", id="summary")

    def _tabs(self, form: str) -> Text:
        """`form`: "wide" (two columns between sections), "narrow" (one) or "compact" (keys only)."""
        tabs = Text()
        for n, (name, key, label) in enumerate(self.sections):
            current = name == self.current
            if form == "wide":
                tabs.append(f" {key} {label} ", style="reverse bold" if current else "")
                continue
            # one column between sections; the current one keeps its frame
            if not current and (n == 0 or self.sections[n - 1][0] != self.current):
                tabs.append(" ")
            shown = label if current or form == "narrow" else ""
            tabs.append(f" {key} {shown} " if current else f"{key} {shown}".rstrip(), style="reverse bold" if current else "")
        return tabs

    def form_for(self, width: int) -> str:
        room = max(SUMMARY_ROOM, len(self.summary) + 2)
        if width - BRAND - len(self._tabs("wide").plain) >= room:
            return "wide"
        if width - len(self._tabs("narrow").plain) >= room:
            return "narrow"
        return "compact"

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        if not self.size.width:
            return  # not laid out yet: on_resize fits it
        form = self.form_for(self.size.width)
        self.query_one("#sections", Label).update(self._tabs(form))
        self.set_class(form != "wide", "-narrow")

    def set_summary(self, text: str) -> None:
        self.summary = text
        self.query_one("#summary", Label).update(text)
        self._fit()
