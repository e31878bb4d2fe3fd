"""The Inbox section: open captures, newest first, updated live; `c` captures a new one, `r` reloads."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label

from oxymus.tui.messages import CaptureAdded, CaptureFailed, CaptureQueued, InboxLoaded
from oxymus.tui.screens.base import SectionScreen
from oxymus.tui.widgets import CaptureTable, SectionBar

WAITING = "Waiting for the daemon…"
EMPTY = "Nothing in the inbox. Press c to capture a thought."


class InboxScreen(SectionScreen):
    SECTION = "inbox"
    BINDINGS = [Binding("r", "refresh", "Reload")]

    def compose_body(self) -> ComposeResult:
        table = CaptureTable(id="inbox-table")
        table.display = False  # until there is something to show
        yield table
        yield Label(WAITING, id="inbox-empty")

    @property
    def table(self) -> CaptureTable:
        return self.query_one("#inbox-table", CaptureTable)

    def action_refresh(self) -> None:
        self.oxymus.connection.refresh()

    @on(InboxLoaded)
    def _loaded(self, message: InboxLoaded) -> None:
        self.table.show(message.captures)
        self.query_one("#inbox-empty", Label).update(EMPTY)
        self._update_summary()

    @on(CaptureAdded)
    def _added(self, message: CaptureAdded) -> None:
        self.table.add(message.capture)
        self._update_summary()

    @on(CaptureQueued)
    def _queued(self, message: CaptureQueued) -> None:
        self.table.add_pending(message.capture_id, message.text)
        self._update_summary()

    @on(CaptureFailed)
    def _failed(self, message: CaptureFailed) -> None:
        self.table.drop(message.capture_id)
        self.notify(f"Not saved: {message.reason}", title="Capture refused", severity="error", timeout=8)
        self._update_summary()

    def _update_summary(self) -> None:
        stored, pending = len(self.table.captures), len(self.table.pending)
        summary = f"{stored} open"
        if pending:
            summary += f", {pending} sending"
        self.query_one("#section-bar", SectionBar).set_summary(summary)
        self.query_one("#inbox-empty", Label).display = not (stored or pending)
        self.table.display = bool(stored or pending)
