"""Edit an action's payload, then approve it (`e` in Approvals).

The payload is shown as pretty JSON in a TextArea. ctrl+s approves the edited
payload: text that is not a JSON object is refused here, with the parser's line and
column; otherwise it goes to the daemon, which prepares and decides the edited
action again (an edit cannot slip past a deny rule). The dialog closes only once the
daemon replied that the approval is stored; a refusal (for example a validation
error naming `payload.text`) is shown and the dialog stays, with the text as typed.
It listens to the connection itself, for the answer to its own request.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea

from oxymus.actions.model import Action
from oxymus.tui.link.messages import DecisionFailed, DecisionMade
from oxymus.tui.screens.decisions import decide

if TYPE_CHECKING:
    from oxymus.tui.app import OxymusApp

HINT = "ctrl+s approves this payload (the policy decides it again) · Escape cancels"


def parse_payload(text: str) -> dict | str:
    """The payload typed, or why it is not one."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    if not isinstance(value, dict):
        return "The payload must be a JSON object: { … }"
    return value


class PayloadEditScreen(ModalScreen[bool]):
    """Returns True once the edited payload was approved, False when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", priority=True),
        Binding("ctrl+s", "approve", "Approve", priority=True),
    ]

    def __init__(self, action: Action) -> None:
        super().__init__()
        self.action = action
        self.ticket: int | None = None  # the approval on its way, if any

    @property
    def connection(self):
        return cast("OxymusApp", self.app).connection

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-dialog"):
            yield Label(f"Edit, then approve: {self.action.preview.summary}", id="edit-heading", markup=False)
            yield Label(f"{self.action.kind} · {self.action.id}", id="edit-subject", markup=False)
            # The error above the payload: at 80x24 the dialog is taller than the screen, and what is cut is its bottom.
            yield Label("", id="edit-error", markup=False)
            yield TextArea(json.dumps(self.action.payload, indent=2, ensure_ascii=False), id="edit-payload",
                           soft_wrap=True, tab_behavior="indent", show_line_numbers=True)
            yield Label(HINT, id="edit-hint", markup=False)

    def on_mount(self) -> None:
        self.connection.listen(self)
        self.query_one("#edit-payload", TextArea).focus()

    def on_unmount(self) -> None:
        self.connection.unlisten(self)

    def action_approve(self) -> None:
        if self.ticket is not None:
            return  # one request at a time: its answer decides what happens
        payload = parse_payload(self.query_one("#edit-payload", TextArea).text)
        if isinstance(payload, str):
            self._show_error(payload)
            return
        self._show_error("")
        self.query_one("#edit-hint", Label).update("Approving… (waiting for the daemon)")
        self.ticket = decide(self.connection, "approve", self.action.id, payload=payload)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(DecisionMade)
    def _made(self, message: DecisionMade) -> None:
        if message.ticket == self.ticket:
            self.dismiss(True)

    @on(DecisionFailed)
    def _failed(self, message: DecisionFailed) -> None:
        if message.ticket == self.ticket:
            self.ticket = None
            self.query_one("#edit-hint", Label).update(HINT)
            self._show_error(message.reason)

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        if self.ticket is None:
            self._show_error("")

    def _show_error(self, text: str) -> None:
        error = self.query_one("#edit-error", Label)
        error.update(text)
        error.set_class(bool(text), "-visible")
