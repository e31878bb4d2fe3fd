"""A one-line dialog: a title, an Input (optionally pre-filled), Enter saves, Escape cancels.

Returns the text (trimmed) or None. Used to add a next action to the plan (`a` in
Plans), to turn a capture into one (`p` in the Inbox), and for the optional reason of
a denial, the time of a snooze and the end of a pause (`allow_empty`: Enter on an
empty line returns "", Escape still None).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

EMPTY_REFUSED = "Nothing to save: type something first (Escape cancels)."


class LineInputScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", priority=True)]

    def __init__(self, title: str, value: str = "", placeholder: str = "", hint: str = "Enter saves · Escape cancels",
                 max_length: int = 500, allow_empty: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint
        self.max_length = max_length
        self.allow_empty = allow_empty

    def compose(self) -> ComposeResult:
        with Vertical(id="line-dialog"):
            yield Label(self.title_text, id="line-title", markup=False)
            yield Input(self.value, placeholder=self.placeholder, max_length=self.max_length, id="line-input")
            yield Label("", id="line-error", markup=False)
            yield Label(self.hint, id="line-hint", markup=False)

    @on(Input.Submitted, "#line-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = " ".join(event.value.split())  # one line, however it was pasted
        if not text and not self.allow_empty:
            error = self.query_one("#line-error", Label)
            error.update(EMPTY_REFUSED)
            error.add_class("-visible")
            return
        self.dismiss(text)

    @on(Input.Changed, "#line-input")
    def _changed(self, event: Input.Changed) -> None:
        error = self.query_one("#line-error", Label)
        if error.has_class("-visible"):
            error.remove_class("-visible")
            error.update("")

    def action_cancel(self) -> None:
        self.dismiss(None)
