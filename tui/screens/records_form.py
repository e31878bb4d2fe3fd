"""Add or edit a canonical record from the Records section (`a` on the board, `e` on a record).

One line per field of the kind's schema, as the daemon describes it (`records.kinds`), so a
plugin kind gets its form without TUI code. What is typed goes to the daemon as text
(lists comma-separated) and is validated there, by the kind's schema, the one place that
decides: a refusal is shown in the dialog, naming the field, and the dialog stays open
with what was typed. Enter moves to the next field and saves on the last one; ctrl+s (^s)
saves from anywhere; Escape cancels.

    RecordEditScreen.add(kind)            -> the new Record, or None
    RecordEditScreen.edit(kind, record)   -> the changed Record, or None (nothing changed: None)
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, TextArea

from oxymus.records.model import FieldView, KindView, Record
from oxymus.tui.link.live import Command

TYPE_HINTS = {"number": "a number", "integer": "a whole number", "date": "a date, YYYY-MM-DD",
              "date-time": "a date and time, YYYY-MM-DD HH:MM", "array": "comma-separated", "boolean": "yes or no"}


class RecordSaved(Message):
    bubble = False

    def __init__(self, record: Record, ticket: int) -> None:
        super().__init__()
        self.record = record
        self.ticket = ticket


class RecordSaveFailed(Message):
    bubble = False

    def __init__(self, reason: str, ticket: int) -> None:
        super().__init__()
        self.reason = reason
        self.ticket = ticket


ADD = Command("records.add", done=lambda record, r: RecordSaved(record, r.ticket),
              failed=lambda error, r: RecordSaveFailed(error, r.ticket), result=Record, invalidates=("record.changed",))
EDIT = Command("records.edit", done=lambda record, r: RecordSaved(record, r.ticket),
               failed=lambda error, r: RecordSaveFailed(error, r.ticket), result=Record, invalidates=("record.changed",))


def shown(value: Any) -> str:
    """A stored field value as the person types it back."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and "T" in value[:11]:
        try:
            return dt.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    return str(value)


def typed(field: FieldView, text: str) -> Any:
    """What is sent for a field's text: lists split on commas; the rest as text, for the schema to read."""
    text = text.strip()
    if "array" in field.type.split(" or "):
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def placeholder(field: FieldView) -> str:
    hint = next((TYPE_HINTS[t] for t in field.type.split(" or ") if t in TYPE_HINTS), "")
    words = [w for w in (field.description, hint) if w]
    return "; ".join(words)


def changes(fields: list[FieldView], before: dict[str, Any], typed_text: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """(fields to set, fields to clear) between a record's fields and what the dialog holds."""
    set_: dict[str, Any] = {}
    unset: list[str] = []
    for field in fields:
        text = typed_text.get(field.name, "")
        if text.strip() == shown(before.get(field.name)).strip():
            continue
        if not text.strip():
            if before.get(field.name) not in (None, "", []):
                unset.append(field.name)
            continue
        set_[field.name] = typed(field, text)
    return set_, unset


class FieldLine(Input):
    """One field's line. Enter moves the focus at once, in the key's own handling, so what is typed
    right after it lands in the next field (a posted Submitted message would be handled after
    keys already queued)."""

    BINDINGS = [Binding("enter", "next_field", "Next field", show=False)]

    def action_next_field(self) -> None:
        cast("RecordEditScreen", self.screen).next_field(self)


class RecordEditScreen(ModalScreen[Record | None]):
    DEFAULT_CSS = """
    RecordEditScreen { align: center middle; }
    RecordEditScreen #rform { width: 84; max-width: 98%; height: auto; max-height: 98%; border: round $accent;
                              background: $surface; padding: 0 1; }
    RecordEditScreen #rform-heading { text-style: bold; width: 1fr; margin-bottom: 1; }
    RecordEditScreen #rform-fields { height: auto; max-height: 1fr; }
    RecordEditScreen .rform-row { height: 1; }
    RecordEditScreen .rform-row Label { width: 16; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    RecordEditScreen .rform-row Input { width: 1fr; height: 1; border: none; padding: 0 1; background: $panel; }
    RecordEditScreen .rform-row Input:focus { background: $primary 25%; }
    RecordEditScreen #rform-body-label { color: $text-muted; }
    RecordEditScreen #rform-body { height: 4; border: none; background: $panel; }
    RecordEditScreen #rform-error { color: $error; height: auto; display: none; }
    RecordEditScreen #rform-error.-visible { display: block; }
    RecordEditScreen #rform-hint { color: $text-muted; width: 1fr; margin-top: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", priority=True),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]

    def __init__(self, kind: KindView, record: Record | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.record = record
        self.ticket: int | None = None
        # The title field first: it names the record everywhere else.
        self.fields = sorted(kind.fields, key=lambda f: f.name != kind.title_field)

    @classmethod
    def add(cls, kind: KindView) -> "RecordEditScreen":
        return cls(kind)

    @classmethod
    def edit(cls, kind: KindView, record: Record) -> "RecordEditScreen":
        return cls(kind, record)

    @property
    def heading(self) -> str:
        singular = self.kind.label.rstrip("s").lower() if self.kind.label.endswith("s") else self.kind.name
        if self.record is None:
            first = self.kind.statuses[0].label if self.kind.statuses else ""
            return f"New {singular}" + (f" (starts as {first})" if first else "")
        return f"Edit {singular} “{self.record.title}” (version {self.record.version})"

    def compose(self) -> ComposeResult:
        before = self.record.fields if self.record else {}
        with Vertical(id="rform"):
            yield Label(self.heading, id="rform-heading", markup=False)
            yield Label("", id="rform-error", markup=False)
            with VerticalScroll(id="rform-fields"):
                for field in self.fields:
                    with Horizontal(classes="rform-row"):
                        yield Label(field.name.replace("_", " ") + (" *" if field.required else ""), markup=False)
                        yield FieldLine(shown(before.get(field.name)), placeholder=placeholder(field), id=f"rform-f-{field.name}")
                yield Label("notes", id="rform-body-label")
                yield TextArea(self.record.body if self.record else "", id="rform-body", soft_wrap=True, tab_behavior="focus")
            yield Label("Enter: next field (saves on the last) · ^s save · Esc cancel · * needed", id="rform-hint",
                        markup=False)

    def on_mount(self) -> None:
        self.app.connection.listen(self)  # type: ignore[attr-defined]
        self.query(Input).first().focus()

    def on_unmount(self) -> None:
        self.app.connection.unlisten(self)  # type: ignore[attr-defined]

    def typed_text(self) -> dict[str, str]:
        return {f.name: self.query_one(f"#rform-f-{f.name}", Input).value for f in self.fields}

    def next_field(self, line: FieldLine) -> None:
        lines = list(self.query(FieldLine))
        index = lines.index(line)
        if index + 1 < len(lines):
            self.set_focus(lines[index + 1])
        else:
            self.action_save()

    @on(Input.Changed)
    def _typed(self, _event: Input.Changed) -> None:
        self._error("")

    def action_save(self) -> None:
        if self.ticket is not None:
            return  # one save at a time: its answer decides
        body = self.query_one("#rform-body", TextArea).text
        live = self.app.connection.live  # type: ignore[attr-defined]
        if self.record is None:
            fields = {f.name: typed(f, text) for f in self.fields if (text := self.typed_text()[f.name]).strip()}
            self.ticket = live.send(ADD, kind=self.kind.name, fields=fields, body=body)
            return
        set_, unset = changes(self.fields, self.record.fields, self.typed_text())
        new_body = body if body != self.record.body else None
        if not set_ and not unset and new_body is None:
            self.dismiss(None)
            return
        self.ticket = live.send(EDIT, id=self.record.id, fields=set_, unset=unset, body=new_body, note="edited in the TUI")

    def on_record_saved(self, message: RecordSaved) -> None:
        if message.ticket == self.ticket:
            self.dismiss(message.record)

    def on_record_save_failed(self, message: RecordSaveFailed) -> None:
        if message.ticket == self.ticket:
            self.ticket = None
            self._error(message.reason)

    def _error(self, text: str) -> None:
        label = self.query_one("#rform-error", Label)
        label.update(text)
        label.set_class(bool(text), "-visible")

    def action_cancel(self) -> None:
        self.dismiss(None)
