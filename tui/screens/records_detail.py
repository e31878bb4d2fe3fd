"""One canonical record (Enter on the Records board): its fields, notes, links both ways, the
actions and runs linked to it, and every version it has had; `m` moves it on along its
pipeline, as on the board; `e` edits its fields and notes. Escape goes back. Reloaded whenever a record changes.

`move_on` is the one way both screens move a record: the next status when there is one,
a choice (MoveChoiceScreen) where the kind lets the person choose (won or lost).
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from oxymus.kernel.textfmt import local_time
from oxymus.records.model import KindView, Record, RecordDetail, RecordLink
from oxymus.tui.link.messages import Connected, TodayLoaded
from oxymus.tui.screens.base import SectionScreen
from oxymus.tui.screens.records_link import DETAIL, KINDS, MOVE, RecordDetailLoaded, RecordsFailed, RecordsLoaded


def move_on(screen, record: Record, kind: KindView | None) -> None:
    """Send the record's move: at once when its pipeline has one way on, after a choice when several."""
    labels = {s.word: s.label for s in kind.statuses} if kind else {}
    status = next((s for s in kind.statuses if s.word == record.status), None) if kind else None
    moves = status.next if status else []
    if not moves:
        screen.notify(f"{record.title} is {record.status_label}: the end of its pipeline", title="Records", timeout=4, markup=False)
        return

    def send(word: str | None) -> None:
        if word:
            screen.oxymus.connection.live.send(MOVE, id=record.id, status=word)

    if len(moves) == 1:
        send(moves[0])
    else:
        screen.app.push_screen(MoveChoiceScreen(record.title, [(w, labels.get(w, w)) for w in moves]), send)


class MoveChoiceScreen(ModalScreen[str | None]):
    """Where a record moves on to, where the person chooses: Enter picks, Escape cancels."""

    DEFAULT_CSS = """
    MoveChoiceScreen { align: center middle; }
    MoveChoiceScreen #move-dialog { width: 44; height: auto; border: round $primary; padding: 0 1; background: $surface; }
    MoveChoiceScreen OptionList { height: auto; max-height: 10; }
    MoveChoiceScreen Label { width: 1fr; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="move-dialog"):
            yield Label(f"Move “{self.title_text}” to:", markup=False)
            yield OptionList(*[Option(label, id=word) for word, label in self.choices], id="move-choices")
            yield Label("Enter: move · Escape: cancel", markup=False)

    @on(OptionList.OptionSelected)
    def _picked(self, message: OptionList.OptionSelected) -> None:
        self.dismiss(message.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _link_line(link: RecordLink, ref: str, arrow: str, kind: str) -> Text:
    line = Text(f"  {link.relation} {arrow} {kind} ", style="dim")
    line.append(link.label or ref)
    if link.starts_at:  # a calendar event, as last polled
        line.append(f"  {local_time(link.starts_at, '%a %Y-%m-%d %H:%M')}")
    if link.status:
        line.append(f"  [{link.status.replace('_', ' ')}]", style="italic")
    return line


def detail_text(detail: RecordDetail, labels: dict[str, str]) -> Text:
    r = detail.record
    out = Text()
    out.append(r.title + "\n", style="bold")
    out.append(f"{r.kind} · {r.status_label} · version {r.version} · schema v{r.schema_version}"
               + (" · forgotten" if r.archived else "") + "\n", style="dim")
    if r.problem:
        out.append(f"Problem: {r.problem} (kept as written)\n", style="bold red")
    if detail.next:
        out.append("m moves it on to " + " or ".join(labels.get(w, w) for w in detail.next) + "\n", style="dim")
    out.append("\n")
    # A field naming another record reads as that record's title (its link says it).
    titles = {x.target_ref: x.label.split(": ", 1)[-1] for x in detail.links if x.target_type == "record" and x.label}
    for name, value in r.fields.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        if isinstance(value, str) and value in titles:
            shown = f"{titles[value]} ({value[:10]}…)"
        out.append(f"{name}: ", style="bold")
        out.append(shown + "\n")
    if r.body:
        out.append("\n" + r.body + "\n")
    if detail.brief is not None:
        b = detail.brief
        how = {"llm": "LLM summary, citations checked", "deterministic": "sources and facts"}.get(b.made_with, b.made_with)
        out.append("\nBrief\n", style="bold underline")
        out.append(f"  by {b.agent}, {local_time(b.created_at)}" + (f", for version {b.version}" if b.version else "")
                   + (f" · {how}" if how else "") + "\n", style="dim")
        out.append(b.content.rstrip() + "\n")
    around = [x for x in detail.links if x.target_type in ("action", "run")]
    others = [x for x in detail.links if x.target_type not in ("action", "run")]
    if others or detail.linked_from:
        out.append("\nLinks\n", style="bold underline")
    for link in others:
        out.append_text(_link_line(link, link.target_ref, "→", link.target_type))
        out.append("\n")
    for link in detail.linked_from:
        out.append_text(_link_line(link, link.record_id, "←", "record"))
        out.append("\n")
    out.append("\nActions and runs\n", style="bold underline")
    if not around:
        out.append("  none linked\n", style="dim")
    for link in around:
        out.append_text(_link_line(link, link.target_ref, "→", link.target_type))
        out.append("\n")
    out.append("\nHistory\n", style="bold underline")
    for v in reversed(detail.history):
        out.append(f"  v{v.version}  {local_time(v.changed_at)}  {v.actor}  ", style="dim")
        out.append(labels.get(v.status, v.status.replace("_", " ")))
        if v.note:
            out.append(f"  {v.note}", style="italic")
        out.append("\n")
    return out


class RecordDetailScreen(SectionScreen):
    SECTION = "records"
    HELP_TITLE = "A record"
    AUTO_FOCUS = "#record-detail"
    DEFAULT_CSS = """
    RecordDetailScreen #record-detail { height: 1fr; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("m", "move", "Move on", tooltip="Move the record along its pipeline"),
        Binding("e", "edit", "Edit", tooltip="Edit the record's fields and notes"),
    ]

    def __init__(self, record_id: str, record: Record | None = None) -> None:
        super().__init__()
        self.record_id = record_id
        self.record = record
        self.detail: RecordDetail | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="record-detail", can_focus=True):
            yield Static(self.record.title if self.record else "Loading…", id="record-detail-text", markup=False)

    @on(Connected)
    def _connected(self, _message: Connected) -> None:
        self.oxymus.connection.live.ask(DETAIL, id=self.record_id)

    def on_today_loaded(self, _message: TodayLoaded) -> None:
        # The day reloads after every poll that changed the state: a linked event may have moved or gone.
        if self.detail is not None and any(x.target_type == "calendar" for x in self.detail.links):
            self.oxymus.connection.live.ask(DETAIL, id=self.record_id)

    def on_records_loaded(self, _message: RecordsLoaded) -> None:
        # The board's reload says some record changed: this one's links or history may have.
        self.oxymus.connection.live.ask(DETAIL, id=self.record_id)

    def on_records_failed(self, message: RecordsFailed) -> None:
        # The board under this page tells of moves and their failures; this page of its own record.
        if message.what == "get" and message.record_id == self.record_id:
            self.notify(message.reason, title="Records", severity="error", markup=False)

    def _labels(self) -> dict[str, str]:
        kind = self._kind()
        return {s.word: s.label for s in kind.statuses} if kind else {}

    def _kind(self) -> KindView | None:
        answer = self.oxymus.connection.live.answer(KINDS)
        record = self.detail.record if self.detail else self.record
        if answer is None or record is None:
            return None
        return next((k for k in answer.kinds if k.name == record.kind), None)

    def on_record_detail_loaded(self, message: RecordDetailLoaded) -> None:
        if message.detail.record.id != self.record_id:
            return
        self.detail = message.detail
        self.record = message.detail.record
        self.query_one("#record-detail-text", Static).update(detail_text(message.detail, self._labels()))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_move(self) -> None:
        if self.record is not None:
            move_on(self, self.record, self._kind())

    def action_edit(self) -> None:
        from oxymus.tui.screens.records_form import RecordEditScreen  # the dialog loads when first asked for

        kind = self._kind()
        if self.record is not None and kind is not None:
            self.app.push_screen(RecordEditScreen.edit(kind, self.record), self._edited)

    def _edited(self, record: Record | None) -> None:
        if record is not None:
            self.notify(f"{record.title}: saved (version {record.version})", title="Records", timeout=3, markup=False)
