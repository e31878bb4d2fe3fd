"""The morning review's Inbox and Approvals steps.

Inbox: the open captures with the triage agent's suggestions. Only suggestions that can
be carried out now are offered (★: pre-selected). Enter accepts every offered ★ one not
decided yet and moves on; `A` does the same and stays; `y` accepts the highlighted one,
`m`/`p`/`x` make it a memory record, a next action or archive it, `e` edits the suggested
record or action first. They go through the link's `accept` and `triage`, as in the Inbox.

Approvals: the queue with the highlighted action's preview; `a`, `d`, `s` decide as in
the Approvals section (screens/decisions.py); Enter moves on, leaving the rest waiting.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from oxymus.actions.model import Action
from oxymus.agents.review import InboxEntry, ReviewView
from oxymus.kernel.textfmt import one_line
from oxymus.tui.screens.decisions import decide
from oxymus.tui.screens.line_input import LineInputScreen
from oxymus.tui.screens.record_form import RecordFormScreen
from oxymus.tui.screens.review_steps import StepPane
from oxymus.tui.widgets.approvals_views import ApprovalsTable, preview_text
from oxymus.tui.widgets.capture_table import kind_of, suggestion_text
from oxymus.tui.widgets.columns import Column, fit
from oxymus.tui.widgets.review_views import MARKS

DEFAULT_SNOOZE = "1h"
AGE_TICK = 1.0  # seconds between redraws of the queue's ages


class InboxPane(StepPane):
    STEP = "inbox"
    HINT = "Enter ★ & next · A all ★ · y accept · m memory · p action · x archive · e edit"

    def compose(self) -> ComposeResult:
        yield Static("", id="inbox-review-head", classes="review-line")
        yield DataTable(id="inbox-review-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="inbox-review-detail", classes="review-detail")

    def owns(self, key: str) -> bool:
        return key.startswith("capture:")

    @property
    def entries(self) -> list[InboxEntry]:
        return self.view.inbox if self.view is not None else []

    def show(self, view: ReviewView) -> None:
        super().show(view)
        self._fill()

    def on_resize(self) -> None:
        if self.view is not None:
            self._fill()

    def _fill(self) -> None:
        table = self.query_one("#inbox-review-table", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        width = self.size.width or 80
        labels = {e.capture.id: self._label(e) for e in self.entries}
        texts = [" ".join(e.capture.text.split()) for e in self.entries]
        columns = [Column("mark", 2, 2), Column("capture", max([len(t) for t in texts] + [7]), 16, flex=1),
                   Column("what", max([len(w) for w in labels.values()] + [10]), 16, flex=1)]
        widths = fit(width, columns)
        if widths["what"] < columns[-1].want:
            # Too narrow for the titles (the capture again, in quotes): each suggestion's kind, whole; the
            # highlighted one is whole in the pane below, and the captures get the room.
            labels = {e.capture.id: self._label(e, short=True) for e in self.entries}
            columns[-1] = Column("what", max([len(w) for w in labels.values()] + [10]), 16)
            widths = fit(width, columns)
        capture_w, what_w = widths["capture"], widths["what"]
        table.add_column("", width=2)
        table.add_column("Capture", width=capture_w)
        table.add_column("Suggestion", width=what_w)
        for entry in self.entries:
            decided = self.decisions.get(f"capture:{entry.capture.id}")
            s = entry.suggestion
            if decided:
                mark = MARKS.get(decided, decided)
            else:
                mark = "★" if entry.offered and s is not None and s.preselected else ("·" if entry.offered else "")
            what = labels[entry.capture.id]
            table.add_row(mark, one_line(entry.capture.text, capture_w), Text(one_line(what, what_w), style="" if entry.offered else "dim"),
                          key=entry.capture.id)
        if self.entries:
            table.move_cursor(row=min(row, table.row_count - 1))
        ready = len(self._ready())
        head = (f"{len(self.entries)} open capture{'s' if len(self.entries) != 1 else ''}"
                + (f" of {self.view.inbox_total}" if self.view and self.view.inbox_total > len(self.entries) else "")
                + (f", {ready} ★ ready: Enter accepts them" if ready else "")) if self.entries else "The inbox is empty. Enter moves on."
        self.query_one("#inbox-review-head", Static).update(Text(head, style="bold"))
        self._detail()

    @staticmethod
    def _label(entry: InboxEntry, short: bool = False) -> str:
        s = entry.suggestion
        if s is None or not entry.offered:
            return entry.why_not or ""
        return kind_of(s.label) if short else s.label

    def _ready(self) -> list[InboxEntry]:
        return [e for e in self.entries if e.offered and e.suggestion is not None and e.suggestion.preselected
                and f"capture:{e.capture.id}" not in self.decisions]

    def _selected(self) -> InboxEntry | None:
        table = self.query_one("#inbox-review-table", DataTable)
        if not self.entries or table.cursor_row is None:
            self.review.notify("No capture here: Enter moves on.", timeout=3)
            return None
        entry = self.entries[min(table.cursor_row, len(self.entries) - 1)]
        if f"capture:{entry.capture.id}" in self.decisions:
            self.review.notify("Already decided in this review.", timeout=3)
            return None
        return entry

    @on(DataTable.RowHighlighted, "#inbox-review-table")
    def _highlighted(self, _message: DataTable.RowHighlighted) -> None:
        self._detail()

    def _detail(self) -> None:
        detail = self.query_one("#inbox-review-detail", Static)
        table = self.query_one("#inbox-review-table", DataTable)
        entry = self.entries[table.cursor_row] if self.entries and table.cursor_row < len(self.entries) else None
        detail.display = entry is not None
        if entry is None:
            return
        text = Text(f"“{one_line(entry.capture.text, 300)}”\n", style="bold")  # the whole capture: the table cuts it
        if entry.suggestion is not None and entry.offered:
            lines = suggestion_text(entry.suggestion).split("\n")  # the Inbox section's own keys line is left out
            text.append_text(Text("\n").join(list(lines)[:-1]))
            text.append("\n  y accepts it · m, p, x or e to choose · Enter accepts every ★ and moves on", style="dim")
        else:
            text.append(f"Not offered: {entry.why_not}. m, p or x to choose.", style="dim")
        detail.update(text)

    def _decide(self, entry: InboxEntry, decision: str) -> None:
        self.decisions[f"capture:{entry.capture.id}"] = decision
        self._fill()

    def accept_ready(self) -> int:
        ready = self._ready()
        for entry in ready:
            self.review.oxymus.connection.accept(entry.capture.id)
            self.decisions[f"capture:{entry.capture.id}"] = "accepted"
        if ready:
            self._fill()
            self.review.notify(f"Accepting {len(ready)} ★ suggestion{'s' if len(ready) != 1 else ''}.", timeout=3)
        return len(ready)

    def key(self, key: str) -> bool:
        if key == "A":
            if not self.accept_ready():
                self.review.notify("No ★ suggestion left to accept.", timeout=3)
            return True
        if key not in ("y", "m", "p", "x", "e"):
            return False
        entry = self._selected()
        if entry is None:
            return True
        connection, capture, s = self.review.oxymus.connection, entry.capture, entry.suggestion
        if key == "y":
            if not entry.offered or s is None:
                self.review.notify(f"Not offered ({entry.why_not}): m, p or x to choose.", timeout=5)
                return True
            connection.accept(capture.id)
            self._decide(entry, "accepted")
        elif key == "x":
            connection.triage(capture.id, "archive")
            self._decide(entry, "archive")
        elif key == "m" or (key == "e" and s is not None and s.to == "memory" and s.record is not None):
            form = RecordFormScreen.triage(capture)
            if key == "e":
                assert s is not None and s.record is not None
                form = RecordFormScreen("Edit the suggested record", title=s.record.title, body=s.record.body,
                                        kind=s.record.kind, tier=s.record.tier, tags=s.record.tags, subject=f"capture {capture.id}")
            self.app.push_screen(form, lambda fields: self._remembered(entry, fields))
        elif key == "p" or (key == "e" and s is not None and s.to == "plan_action"):
            first = next((ln.strip() for ln in capture.text.splitlines() if ln.strip()), "")[:500]
            value = s.text if key == "e" and s is not None and s.text else first
            dialog = LineInputScreen("Make it a next action", value=value,
                                     hint="Enter adds it under “Next actions” in PLANS.md · Escape cancels")
            self.app.push_screen(dialog, lambda text: self._planned(entry, text))
        else:
            self.review.notify("Only a suggested record or next action can be edited: m, p or x.", timeout=4)
        return True

    def _remembered(self, entry: InboxEntry, fields: dict | None) -> None:
        if fields is not None:
            self.review.oxymus.connection.triage(entry.capture.id, "memory", fields)
            self._decide(entry, "memory")

    def _planned(self, entry: InboxEntry, text: str | None) -> None:
        if text:
            self.review.oxymus.connection.triage(entry.capture.id, "plan_action", text=text)
            self._decide(entry, "plan_action")

    def failed(self, capture_id: str, reason: str) -> None:
        """The daemon refused: the capture stays undecided (and in the inbox)."""
        if self.decisions.pop(f"capture:{capture_id}", None) is not None and self.view is not None:
            self._fill()

    def accept(self) -> dict[str, str] | None:
        self.accept_ready()
        return dict(self.decisions)

    # ---- following the inbox while the review is open ----------------------------------

    def follow(self, inbox: list[InboxEntry], total: int) -> None:
        """The daemon's inbox now (asked again after a capture was added or a suggestion saved elsewhere):
        new captures come in on top, the rest take the daemon's newest suggestion, and one decided here keeps
        its row and mark even after it left the inbox. The cursor stays on its capture."""
        if self.view is None:
            return
        fresh = {e.capture.id: e for e in inbox}
        shown = {e.capture.id for e in self.entries}
        kept = [fresh.get(e.capture.id, e) for e in self.entries
                if e.capture.id in fresh or f"capture:{e.capture.id}" in self.decisions]
        entries = [e for e in inbox if e.capture.id not in shown] + kept
        self._replace(entries, max(total, len(inbox)))

    def left(self, capture_id: str) -> None:
        """A capture was triaged elsewhere (another client, the CLI): its row goes, unless it was decided here."""
        if self.view is None or f"capture:{capture_id}" in self.decisions:
            return
        entries = [e for e in self.entries if e.capture.id != capture_id]
        if len(entries) != len(self.entries):
            self._replace(entries, max(0, self.view.inbox_total - 1))

    def _replace(self, entries: list[InboxEntry], total: int) -> None:
        assert self.view is not None
        table = self.query_one("#inbox-review-table", DataTable)
        current = self.entries[table.cursor_row].capture.id if self.entries and table.cursor_row < len(self.entries) else None
        self.view = self.view.model_copy(update={"inbox": entries, "inbox_total": total})
        self._fill()
        ids = [e.capture.id for e in entries]
        if current in ids:
            table.move_cursor(row=ids.index(current))
            self._detail()


class ApprovalsPane(StepPane):
    STEP = "approvals"
    HINT = "a approve · d deny · s snooze · Enter next (the rest wait) · n skip · q leave"

    def compose(self) -> ComposeResult:
        yield Static("", id="approvals-review-head", classes="review-line")
        yield ApprovalsTable(id="approvals-review-table")
        yield Static("", id="approvals-review-preview", classes="review-detail")

    def owns(self, key: str) -> bool:
        return key.startswith("action:")

    @property
    def waiting(self) -> list[Action]:
        return [a for a in (self.view.approvals if self.view else []) if f"action:{a.id}" not in self.decisions]

    def show(self, view: ReviewView) -> None:
        super().show(view)
        if self.live is not None:
            self.queue(self.live)
        self._fill()

    def on_mount(self) -> None:
        self.set_interval(AGE_TICK, self._tick)  # the ages and expiries count on

    def _tick(self) -> None:
        if self.display and self.view is not None:
            self.query_one("#approvals-review-table", ApprovalsTable).show([(a, None) for a in self.waiting],
                                                                          self.review.oxymus.clock())

    live: list[Action] | None = None  # the link's newest queue (the Approvals section's live query), once heard

    def queue(self, actions: list[Action]) -> None:
        self.live = [a for a in actions if a.status == "awaiting_approval"]
        if self.view is not None:
            self.view = self.view.model_copy(update={"approvals": self.live})
            self._fill()

    def _fill(self) -> None:
        table = self.query_one("#approvals-review-table", ApprovalsTable)
        waiting = self.waiting
        table.show([(a, None) for a in waiting], self.review.oxymus.clock())
        table.display = bool(waiting)
        decided = len(self.decisions)
        if waiting:
            head = f"{len(waiting)} waiting for your decision" + (f" · {decided} decided here" if decided else "")
        elif decided:
            head = f"Nothing else waits ({decided} decided here). Enter moves on."
        else:
            head = "Nothing waits for your decision. Enter moves on."
        self.query_one("#approvals-review-head", Static).update(Text(head, style="bold"))
        self._preview()

    @on(DataTable.RowHighlighted, "#approvals-review-table")
    def _highlighted(self, _message: DataTable.RowHighlighted) -> None:
        self._preview()

    def _selected(self) -> Action | None:
        selected = self.query_one("#approvals-review-table", ApprovalsTable).selected_id
        return next((a for a in self.waiting if a.id == selected), None)

    def _preview(self) -> None:
        preview = self.query_one("#approvals-review-preview", Static)
        action = self._selected()
        preview.display = action is not None
        if action is not None:
            preview.update(preview_text(action.preview))

    def key(self, key: str) -> bool:
        if key not in ("a", "d", "s"):
            return False
        action = self._selected()
        if action is None:
            self.review.notify("Nothing waits for your decision: Enter moves on.", timeout=3)
            return True
        connection = self.review.oxymus.connection
        self.asked = self.asked | {action.id}
        if key == "a":
            decide(connection, "approve", action.id)
        elif key == "d":
            dialog = LineInputScreen(f"Deny: {one_line(action.preview.summary, 56)}", placeholder="why (optional)",
                                     hint="Enter denies · Escape cancels", allow_empty=True)
            self.app.push_screen(dialog, lambda reason: reason is not None and decide(connection, "deny", action.id,
                                                                                       reason=reason or None))
        else:
            dialog = LineInputScreen(f"Snooze: {one_line(action.preview.summary, 54)}", value=DEFAULT_SNOOZE,
                                     placeholder="2h, 14:00, tomorrow 9:00, monday",
                                     hint="e.g. 2h, tomorrow 9:00 · Enter snoozes · Escape cancels")
            self.app.push_screen(dialog, lambda until: until and decide(connection, "snooze", action.id, until=until))
        return True

    asked: frozenset[str] = frozenset()  # the actions decided from this step (others' decisions are not ours to record)

    def decided(self, action: Action, verb: str) -> None:
        if action.id in self.asked:
            self.decisions[f"action:{action.id}"] = verb
            self._fill()
