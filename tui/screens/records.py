"""The Records section (key 7): a pipeline board per record kind, one column per status.

`[` and `]` switch kinds; `left` and `right` move between columns, `up` and `down`
within one. Enter opens the record under the cursor (screens/records_detail.py) with its
fields, links, history and the actions and runs linked to it; `m` moves it on along its
pipeline (where a person chooses, as for a lead whose proposal is out, `m` asks which);
`a` adds a record of the kind shown and `e` edits the one under the cursor (screens/records_form.py).
The cursor follows a moved record into its new column. The board is the `BOARD` query's
answer (screens/records_link.py), reloaded after every record event, whoever made it.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from oxymus.records.model import KindView, Record
from oxymus.tui.link.messages import Connected
from oxymus.tui.screens.base import SectionScreen
from oxymus.tui.screens.records_detail import RecordDetailScreen, move_on
from oxymus.tui.screens.records_form import RecordEditScreen
from oxymus.tui.screens.records_link import BOARD, KINDS, RecordKindsLoaded, RecordMoved, RecordsFailed, RecordsLoaded

WAITING = "Waiting for the daemon…"


class StatusColumn(OptionList):
    """One status's records, newest change first."""

    def __init__(self, status: str, records: list[Record], **kw) -> None:
        super().__init__(*self.options_for(records), **kw)
        self.status = status

    @staticmethod
    def options_for(records: list[Record]) -> list[Option]:
        return [Option(("! " if r.problem else "") + r.title, id=r.id) for r in records]

    def show(self, records: list[Record]) -> None:
        self.clear_options()
        self.add_options(self.options_for(records))


class RecordsScreen(SectionScreen):
    SECTION = "records"
    LIVE = (KINDS, BOARD)
    DEFAULT_CSS = """
    RecordsScreen #records-kinds { height: 1; padding: 0 1; }
    RecordsScreen #records-board { height: 1fr; }
    RecordsScreen .records-column { width: 1fr; min-width: 9; border-right: vkey $panel; }
    RecordsScreen .records-column Label {
        width: 1fr; height: 1; padding: 0 1; text-style: bold; background: $panel; text-wrap: nowrap; text-overflow: ellipsis;
    }
    RecordsScreen #records-board.-tall .records-column Label { height: 2; padding: 0 0 0 1; text-wrap: wrap; text-overflow: fold; }
    RecordsScreen .records-column OptionList { height: 1fr; border: none; padding: 0; }
    RecordsScreen .records-column OptionList:focus { background-tint: $primary 10%; }
    RecordsScreen #records-empty { padding: 1 2; color: $text-muted; }
    """
    BINDINGS = [
        Binding("left_square_bracket", "kind(-1)", "Kind ◂", tooltip="The previous kind"),
        Binding("right_square_bracket", "kind(1)", "Kind ▸", tooltip="The next kind"),
        Binding("left", "column(-1)", "Column ◂", show=False, tooltip="The column to the left"),
        Binding("right", "column(1)", "Column ▸", show=False, tooltip="The column to the right"),
        Binding("m", "move", "Move on", tooltip="Move the record along its pipeline"),
        Binding("a", "add", "Add", tooltip="Add a record of this kind"),
        Binding("e", "edit", "Edit", tooltip="Edit the record's fields and notes"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.kinds: list[KindView] = []
        self.broken: dict[str, str] = {}
        self.kind_index = 0
        self.records: list[Record] = []
        self.problems = 0
        self.loaded = False  # the board has shown the daemon's answer
        self.selected: str | None = None  # the record under the cursor, followed across reloads and moves

    def compose_body(self) -> ComposeResult:
        yield Label("", id="records-kinds", markup=False)
        yield Horizontal(id="records-board")
        yield Label(WAITING, id="records-empty", markup=False)

    # ---- what is shown ------------------------------------------------------------

    @property
    def kind(self) -> KindView | None:
        return self.kinds[self.kind_index] if self.kinds else None

    def columns(self) -> list[StatusColumn]:
        return list(self.query(StatusColumn))

    def current(self) -> Record | None:
        """The record under the cursor of the focused column (else the one last under it)."""
        column = self.focused
        if isinstance(column, StatusColumn):
            if column.highlighted is None or not column.option_count:
                return None  # an empty column: no record is under the cursor
            self.selected = column.get_option_at_index(column.highlighted).id
        return next((r for r in self.records if r.id == self.selected), None)

    @on(Connected)
    def _connected(self, _message: Connected) -> None:
        self.oxymus.connection.live.ask(KINDS)

    async def on_record_kinds_loaded(self, message: RecordKindsLoaded) -> None:
        name = self.kind.name if self.kind else None
        self.kinds, self.broken = message.result.kinds, message.result.broken
        names = [k.name for k in self.kinds]
        self.kind_index = names.index(name) if name in names else (names.index("lead") if "lead" in names else 0)
        await self.rebuild()

    async def on_records_loaded(self, message: RecordsLoaded) -> None:
        self.records, self.problems, self.loaded = message.result.records, message.result.problems, True
        await self.rebuild()

    def on_record_moved(self, message: RecordMoved) -> None:
        self.selected = message.record.id
        self.notify(f"{message.record.title}: {message.record.status_label}", title="Moved", timeout=3, markup=False)

    def on_records_failed(self, message: RecordsFailed) -> None:
        if message.what in ("move", "list"):
            self.notify(message.reason, title="Records", severity="error", markup=False)

    async def rebuild(self) -> None:
        kind = self.kind
        board = self.query_one("#records-board", Horizontal)
        mine = [r for r in self.records if kind is not None and r.kind == kind.name and not r.archived]
        self._kinds_line(mine)
        empty = self.query_one("#records-empty", Label)
        if kind is None:
            await board.remove_children()
            empty.update(WAITING)
            empty.display = True
            return
        if not mine and self.loaded:
            empty.update(f"No {kind.label.lower()} yet: a adds one (or `oxymus records add {kind.name} NAME`).")
        empty.display = not mine
        if self.selected not in {r.id for r in mine}:
            order = [s.word for s in kind.statuses]
            first = min(mine, key=lambda r: order.index(r.status) if r.status in order else len(order), default=None)
            self.selected = first.id if first else None
        here = {status.word: [r for r in mine if r.status == status.word] for status in kind.statuses}
        if [c.status for c in self.columns()] == list(here):
            # The same kind: the columns stay (and the focus with them); only what they list changes.
            for column, status in zip(self.columns(), kind.statuses):
                column.show(here[status.word])
                head = column.parent.query_one(Label)
                head.head = f"{status.label} {len(here[status.word])}"
                head.update(head.head)
        else:
            await board.remove_children()
            columns = [
                Vertical(_head(f"{status.label} {len(here[status.word])}"),
                         StatusColumn(status.word, here[status.word], id=f"records-col-{status.word}"), classes="records-column")
                for status in kind.statuses
            ]
            for column, status in zip(columns, kind.statuses):
                # A head wraps at spaces, never inside a word ("distribute/d"): the longest word, its count,
                # the padding and the border always fit; the narrower columns give way.
                column.styles.min_width = max(9, max(len(w) for w in f"{status.label} 000".split()) + 2)
            await board.mount_all(columns)
        self.call_after_refresh(self._fit_heads)
        # The board is all this section has to focus: the cursor is always on it.
        self._restore_cursor()

    def _kinds_line(self, mine: list[Record]) -> None:
        parts = [f"[{k.label}]" if i == self.kind_index else k.label for i, k in enumerate(self.kinds)]
        line = " ".join(parts) + (f"   {len(mine)} record(s)" if self.loaded else "")
        if self.problems:
            line += f" · {self.problems} failing their schema (!)"
        if self.broken:
            line += f" · {len(self.broken)} kind(s) not loaded"
        self.query_one("#records-kinds", Label).update(line)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_heads)

    def _fit_heads(self) -> None:
        """Column heads wrap onto a second line, all of them, when one would be cut ("proposal sent 1" at 80
        columns): a cut status name is a guess for the reader, and heads of one height keep the lists level."""
        board = self.query_one("#records-board", Horizontal)
        heads = [h for h in board.query(".records-column > Label") if h.content_region.width]
        board.set_class(any(len(getattr(h, "head", "")) > h.content_region.width for h in heads), "-tall")

    def _restore_cursor(self) -> None:
        target = next((r for r in self.records if r.id == self.selected), None)
        for column in self.columns():
            if target is not None and column.status == target.status:
                column.highlighted = column.get_option_index(target.id)
                column.focus()
                return
        if self.columns():
            self.columns()[0].focus()

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, message: OptionList.OptionHighlighted) -> None:
        # Every column highlights its first record when mounted: only the focused one's cursor counts.
        if isinstance(message.option_list, StatusColumn) and message.option_list.has_focus and message.option.id:
            self.selected = message.option.id

    @on(OptionList.OptionSelected)
    def _open(self, message: OptionList.OptionSelected) -> None:
        if isinstance(message.option_list, StatusColumn) and message.option.id:
            self.selected = message.option.id
            self.app.push_screen(RecordDetailScreen(message.option.id, self.current()))

    # ---- keys ---------------------------------------------------------------------

    async def action_kind(self, step: int) -> None:
        if self.kinds:
            self.kind_index = (self.kind_index + step) % len(self.kinds)
            self.selected = None
            await self.rebuild()

    def action_column(self, step: int) -> None:
        columns = self.columns()
        if not columns:
            return
        at = columns.index(self.focused) if self.focused in columns else -1
        column = columns[max(0, min(len(columns) - 1, at + step))]
        column.focus()
        if column.option_count and column.highlighted is None:
            column.highlighted = 0
        if column.highlighted is not None and column.option_count:
            self.selected = column.get_option_at_index(column.highlighted).id

    def action_move(self) -> None:
        record = self.current()
        if record is None:
            return
        move_on(self, record, self.kind)

    def action_add(self) -> None:
        if self.kind is not None:
            self.app.push_screen(RecordEditScreen.add(self.kind), self._saved)

    def action_edit(self) -> None:
        record, kind = self.current(), self.kind
        if record is not None and kind is not None:
            self.app.push_screen(RecordEditScreen.edit(kind, record), self._saved)

    def _saved(self, record: Record | None) -> None:
        if record is not None:
            self.selected = record.id  # the reload after the change brings the cursor to it
            self.notify(f"{record.title}: saved (version {record.version})", title="Records", timeout=3, markup=False)


def _head(text: str) -> Label:
    head = Label(text, markup=False)
    head.head = text  # the whole text, to know whether it fits (the label's own may be cut)
    return head
