"""The record dialog: title, kind, tier and body of a memory record, used to edit one or to triage a capture into one.

    RecordFormScreen.edit(record)      -> the changed fields (a dict, maybe empty) or None
    RecordFormScreen.triage(capture)   -> RecordFields as a dict, or None

Enter in the title (or ctrl+s anywhere) saves; Escape cancels; ctrl+k and ctrl+t
cycle the kind and the tier (as does left/right on them when focused). The body is a
TextArea, so Enter there is a new line. What is typed is checked with the same rules
the daemon applies (RecordFields) before the dialog closes, and a problem is shown.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, TextArea

from oxymus.memory import records as mem
from oxymus.models import Capture
from oxymus.tui.widgets import CycleField

TIERS = ("hot", "warm", "cold")
EDITABLE = ("title", "body", "kind", "tier")


def first_line(text: str) -> str:
    """A capture's first non-empty line, as a title (at most the daemon's limit)."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), text.strip())
    return line[: mem.MAX_TITLE]


class RecordFormScreen(ModalScreen[dict[str, Any] | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", priority=True),
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+k", "cycle('kind')", "Kind", priority=True),
        Binding("ctrl+t", "cycle('tier')", "Tier", priority=True),
    ]

    def __init__(self, heading: str, *, title: str, body: str, kind: str, tier: str,
                 tags: list[str] | None = None, original: mem.MemoryRecord | None = None, subject: str = "") -> None:
        super().__init__()
        self.heading = heading
        self.subject = subject
        self.initial = {"title": title, "body": body, "kind": kind, "tier": tier}
        self.tags = list(tags or [])
        self.original = original

    @classmethod
    def edit(cls, record: mem.MemoryRecord) -> "RecordFormScreen":
        return cls("Edit memory record", title=record.title, body=record.body, kind=record.kind, tier=record.tier,
                   tags=record.tags, original=record, subject=f"version {record.version} · {record.id}")

    @classmethod
    def triage(cls, capture: Capture) -> "RecordFormScreen":
        return cls("Remember this capture", title=first_line(capture.text), body=capture.text, kind="fact",
                   tier="warm", subject=f"capture {capture.id}")

    def compose(self) -> ComposeResult:
        with Vertical(id="form-dialog"):
            yield Label(self.heading, id="form-heading")
            if self.subject:
                yield Label(self.subject, id="form-subject", markup=False)
            yield Input(self.initial["title"], placeholder="Title", id="form-title")
            with Horizontal(id="form-choices"):
                yield CycleField("kind", mem.DEFAULT_KINDS, self.initial["kind"], key_hint="^k", id="form-kind")
                yield CycleField("tier", TIERS, self.initial["tier"], key_hint="^t", id="form-tier")
            # The error above the body: at 80x24 the dialog is taller than the screen, and what is cut is its bottom.
            yield Label("", id="form-error", markup=False)
            yield TextArea(self.initial["body"], id="form-body", soft_wrap=True, tab_behavior="focus")
            yield Label("Enter (in the title) or ctrl+s saves · Escape cancels", id="form-hint")

    def on_mount(self) -> None:
        title = self.query_one("#form-title", Input)
        title.focus()
        title.cursor_position = len(title.value)

    def values(self) -> dict[str, Any]:
        return {
            "title": self.query_one("#form-title", Input).value,
            "body": self.query_one("#form-body", TextArea).text,
            "kind": self.query_one("#form-kind", CycleField).value,
            "tier": self.query_one("#form-tier", CycleField).value,
        }

    def action_cycle(self, name: str) -> None:
        self.query_one(f"#form-{name}", CycleField).cycle(1)

    @on(Input.Submitted, "#form-title")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(CycleField.Changed)
    def _changed(self, event) -> None:
        error = self.query_one("#form-error", Label)
        if error.has_class("-visible"):
            error.remove_class("-visible")
            error.update("")

    def action_save(self) -> None:
        try:
            fields = mem.RecordFields(**self.values(), tags=self.tags)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            self._show_error(f"{where}: {first['msg'].removeprefix('Value error, ')}")
            return
        if self.original is None:
            self.dismiss(fields.model_dump())
            return
        changes = {name: getattr(fields, name) for name in EDITABLE if getattr(fields, name) != getattr(self.original, name)}
        self.dismiss(changes)

    def _show_error(self, text: str) -> None:
        error = self.query_one("#form-error", Label)
        error.update(text)
        error.add_class("-visible")

    def action_cancel(self) -> None:
        self.dismiss(None)
