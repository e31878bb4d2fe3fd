"""One memory record: what it says, where it came from, and every version it has had.

Pushed over the Memory section (Enter on a result); Escape goes back. The history
lists the versions newest first; the one under the cursor is shown on the left, so
moving through the history shows what the record said then (`tab` moves between the
history and the text). `e` edits (the dialog of record_form.py) and `f` forgets
(after a confirmation). The record is loaded on connecting (and reconnecting), and
reloaded whenever it changes, by anyone.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from oxymus.client.protocol import MemoryGetResult
from oxymus.kernel.textfmt import local_time
from oxymus.memory import records as mem
from oxymus.tui.link.live import LiveQuery
from oxymus.tui.link.messages import (
    BudgetLoaded, Connected, MemoryChanged, MemoryEdited, MemoryFailed, MemoryForgotten, MemoryLoaded,
)
from oxymus.tui.screens.base import SectionScreen
from oxymus.tui.screens.record_actions import ask_to_edit, ask_to_forget
from oxymus.tui.widgets import HistoryTable, SectionBar
from oxymus.tui.widgets.memory_views import budget_text, provenance_line, tags_text, tier_text, version_note

# One record and its history; only the answer to the newest request is shown.
RECORD = LiveQuery("memory.get", "memory.get", lambda a: MemoryLoaded(a.value.record, a.value.history),
                   MemoryGetResult, failed=lambda error, p: MemoryFailed("get", p["id"], error))

LOADING = "Loading the history…"


class RecordScreen(SectionScreen):
    SECTION = "memory"
    HELP_TITLE = "A memory record"
    AUTO_FOCUS = "#record-history"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("e", "edit", "Edit"),
        Binding("f", "forget", "Forget"),
    ]

    def __init__(self, record_id: str, record: mem.MemoryRecord | None = None, *, edit_when_loaded: bool = False) -> None:
        """`record`, when the caller has it, is shown until the daemon's answer, with its history, arrives;
        `edit_when_loaded` opens the edit form on that answer (`e` on a search hit, which has no body)."""
        super().__init__()
        self.record_id = record_id
        self.record = record
        self.history: list[mem.MemoryVersion] = []
        self.loaded = False
        self.gone = False
        self.edit_when_loaded = edit_when_loaded

    def compose_body(self) -> ComposeResult:
        with Vertical(id="record-view"):
            yield Static("", id="record-title")
            yield Static("", id="record-meta")
            with Horizontal(id="record-columns"):
                with VerticalScroll(id="record-text"):
                    yield Static("", id="record-version")
                    yield Static("", id="record-body")
                with Vertical(id="record-side"):
                    yield Static("History", id="record-history-title")
                    yield HistoryTable(id="record-history")

    def on_mount(self) -> None:
        self._render_record()  # the record is loaded on Connected, replayed at once when connected

    @on(Connected)
    def _connected_load(self, message: Connected) -> None:
        self.oxymus.connection.live.ask(RECORD, id=self.record_id)

    @property
    def history_table(self) -> HistoryTable:
        return self.query_one("#record-history", HistoryTable)

    # ---- actions ------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_edit(self) -> None:
        if self.record is not None and not self.gone:
            ask_to_edit(self, self.record)

    def action_forget(self) -> None:
        if self.record is not None and not self.gone:
            ask_to_forget(self, self.record)

    # ---- messages -----------------------------------------------------------

    @on(MemoryLoaded)
    def _loaded(self, message: MemoryLoaded) -> None:
        if message.record.id != self.record_id:
            return
        grew = len(message.history) != len(self.history)
        self.record, self.history, self.loaded = message.record, message.history, True
        self.history_table.show(self.history, newest=grew)
        self._render_record()
        if self.edit_when_loaded:
            self.edit_when_loaded = False
            ask_to_edit(self, message.record)

    @on(MemoryEdited)
    def _edited_elsewhere_or_here(self, message: MemoryEdited) -> None:
        if message.record.id != self.record_id:
            return
        if self.is_active:
            self.notify(f"Saved as version {message.record.version}.", timeout=3)
        self.oxymus.connection.live.ask(RECORD, id=self.record_id)

    @on(MemoryChanged)
    def _changed(self, message: MemoryChanged) -> None:
        if message.record_id not in (self.record_id, None) or self.gone:
            return
        if message.verb == "purged":
            self._close("This record was deleted.")
            return
        self.oxymus.connection.live.ask(RECORD, id=self.record_id)

    @on(MemoryForgotten)
    def _forgotten(self, message: MemoryForgotten) -> None:
        if message.record_id == self.record_id:
            title = self.record.title if self.record else self.record_id
            self._close(f"Forgotten: {title}")

    @on(MemoryFailed)
    def _failed(self, message: MemoryFailed) -> None:
        if message.record_id != self.record_id:
            return
        if message.action == "get" and not self.loaded:
            meta = self.query_one("#record-meta", Static)
            meta.update(Text(f"Could not load this record: {message.reason}", style="bold red"))
        elif self.is_active:
            self.notify(message.reason, title=f"Could not {message.action}", severity="error", timeout=8)

    @on(BudgetLoaded)
    def _budget(self, message: BudgetLoaded) -> None:
        self.query_one("#section-bar", SectionBar).set_summary(budget_text(message.report))

    @on(DataTable.RowHighlighted, "#record-history")
    def _version_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._render_version()

    def _close(self, note: str) -> None:
        self.gone = True
        if self.is_active:
            self.notify(note, timeout=4)
            self.app.pop_screen()
        else:
            self._render_record()

    # ---- rendering ------------------------------------------------------------

    def _render_record(self) -> None:
        record = self.record
        title = self.query_one("#record-title", Static)
        meta = self.query_one("#record-meta", Static)
        if record is None:
            title.update(Text(self.record_id, style="bold"))
            meta.update(LOADING)
            return
        title.update(Text(record.title, style="bold"))
        first = Text()
        first.append(record.kind)
        first.append(" · ")
        first.append_text(tier_text(record.tier))
        if record.tags:
            first.append(" · " + tags_text(record.tags))
        first.append(f" · version {record.version}")
        if record.archived or self.gone:
            first.append(" · forgotten", style="bold red")
        lines = [first, Text(provenance_line(record.provenance, full=True))]
        if record.links:
            links = ", ".join(f"{link.capture_id} ({local_time(link.created_at)})" for link in record.links)
            lines.append(Text(f"captures: {links}"))
        lines.append(Text(f"created {local_time(record.created_at)} · updated {local_time(record.updated_at)}", style="dim"))
        meta.update(Text("\n").join(lines))
        self._render_version()

    def _render_version(self) -> None:
        record = self.record
        header = self.query_one("#record-version", Static)
        body = self.query_one("#record-body", Static)
        version = self.history_table.selected if self.loaded else None
        if record is None:
            return
        if version is None:
            header.update(Text("current text" + ("" if self.loaded else f" · {LOADING}"), style="dim"))
            body.update(Text(record.body or "(no body)"))
            return
        newest = max(v.version for v in self.history)
        head = Text(f"version {version.version} of {newest}", style="bold")
        if version.version == newest:
            head.append(" (current)", style="bold")
        head.append(f" · {local_time(version.changed_at)} · by {version.actor}")
        head.append(f" · {version_note(version)}", style="italic")
        if (version.kind, version.tier, version.tags) != (record.kind, record.tier, record.tags):
            head.append(f"\nthen: {version.kind} · {version.tier}" + (f" · {tags_text(version.tags)}" if version.tags else ""))
        if version.title != record.title:
            head.append("\ntitle then: ")
            head.append(version.title, style="bold")
        header.update(head)
        body.update(Text(version.body or "(no body)"))
