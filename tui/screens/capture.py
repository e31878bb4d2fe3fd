"""The capture dialog: one line of text; Enter saves, Escape cancels. Returns the text or None."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

EMPTY_REFUSED = "Nothing to capture: type something first (Escape cancels)."


class CaptureScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", priority=True)]

    def compose(self) -> ComposeResult:
        with Vertical(id="capture-dialog"):
            yield Label("Capture a thought", id="capture-title")
            yield Input(placeholder="What's on your mind?", id="capture-input")
            yield Label("", id="capture-error", markup=False)
            yield Label("Enter saves · Escape cancels", id="capture-hint")

    @on(Input.Submitted, "#capture-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            error = self.query_one("#capture-error", Label)
            error.update(EMPTY_REFUSED)
            error.add_class("-visible")
            return
        self.dismiss(event.value)

    @on(Input.Changed, "#capture-input")
    def _changed(self, event: Input.Changed) -> None:
        error = self.query_one("#capture-error", Label)
        if error.has_class("-visible"):
            error.remove_class("-visible")
            error.update("")

    def action_cancel(self) -> None:
        self.dismiss(None)
