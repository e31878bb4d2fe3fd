"""The Inbox section: open captures, newest first, updated live; `c` captures a new one, `r` reloads.

Triage, on the capture under the cursor: `m` turns it into a memory record (a dialog
pre-filled with its first line as the title and its text as the body), `x` archives
it, `p` makes it a next action in PLANS.md (a one-line dialog pre-filled with its
first line; Enter adds it under "Next actions"). Either way it leaves the inbox once
the daemon has done it, and a capture triaged by another client leaves it live too.

Suggestions: the triage agent's suggestion for each capture shows in a column. The
highlighted capture is shown whole (wrapped) with its whole suggestion in the detail
pane: under the table, or beside it on a wide terminal. A pre-selected one (★, confident enough) is
the default: Enter accepts it. `y` accepts any suggestion, pre-selected or not. A
calendar event or a bill is proposed as you, so it may wait in Approvals (key 5).

Paging: the link loads the newest page (a screenful and MARGIN rows: connection.first_page) and
keeps it live; the table is a window of at most MOST rows over all the open captures, so a huge
inbox opens rendering about a screenful of rows. Scrolling within MARGIN rows of the window's edge
asks the daemon for the next PAGE by seq (`PAGE_QUERY`), and the far side is dropped, so a
100,000-capture inbox costs what a 1,000-row one does; g and G ask for the newest or the oldest
page. New captures join the window only while it shows the newest ones; the count is the
daemon's either way.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Label, Static

from oxymus.client.protocol import InboxListResult
from oxymus.kernel.textfmt import open_count
from oxymus.models import Capture
from oxymus.tui.link.connection import PAGE_MARGIN
from oxymus.tui.link.live import LiveQuery
from oxymus.tui.link.messages import (
    CaptureAdded, CaptureFailed, CaptureQueued, CaptureTriaged, InboxCounted, InboxLoaded, InboxPaged, SuggestionAccepted,
    SuggestionsLoaded, TriageFailed,
)
from oxymus.tui.screens.base import SectionScreen
from oxymus.tui.screens.line_input import LineInputScreen
from oxymus.tui.screens.record_form import RecordFormScreen
from oxymus.tui.widgets import CaptureTable, SectionBar
from oxymus.tui.widgets.capture_table import SuggestionLine, capture_text, suggestion_text

WAITING = "Waiting for the daemon…"
EMPTY = "Nothing in the inbox. Press c to capture a thought."
WIDE = 160  # columns from which the detail pane stands beside the table rather than under it
PAGE = 200  # captures asked for per page as the cursor nears the window's edge
MARGIN = PAGE_MARGIN  # rows from the edge at which the next page is asked for (more than a PageDown, so it is there in time)
MOST = 1000  # rows the window keeps; rendering stays cheap whatever the inbox holds


def _direction(params: dict) -> str:
    return "down" if "before" in params else "up" if "after" in params else "end" if params.get("oldest") else "top"


PAGE_QUERY = LiveQuery(
    "inbox.page", "inbox.list",
    lambda a: InboxPaged(_direction(a.params), a.value.captures, a.value.newer, a.value.total, dict(a.value.suggestions),
                         a.params["limit"]),
    InboxListResult,
    failed=lambda error, params: InboxPaged(_direction(params), [], 0, None, {}, params.get("limit", PAGE), error=error))


class InboxScreen(SectionScreen):
    SECTION = "inbox"
    BINDINGS = [
        # Shown in the line under the table rather than the footer; priority, so the table's own Enter gives way.
        Binding("enter", "accept_default", "Accept suggestion", show=False, priority=True),
        Binding("y", "accept_any", "Accept suggestion", show=False),
        # Short labels, so the footer is whole at 80 columns; `r` (reload) is rarely needed: not in the footer.
        Binding("m", "remember", "Memory"),
        Binding("p", "plan", "Next action"),
        Binding("x", "archive", "Archive"),
        Binding("r", "refresh", "Reload", show=False),
    ]

    total: int | None = None  # open in all, as the daemon counted them (the table holds one window)
    at_head = True  # the window starts at the newest open capture (so new ones join it)
    at_end = False  # the window reaches the oldest
    asking: str | None = None  # the page asked for and not answered yet

    def compose_body(self) -> ComposeResult:
        view = Vertical(id="inbox-view")
        view.display = False  # until there is something to show
        with view:
            yield CaptureTable(id="inbox-table")
            with VerticalScroll(id="inbox-detail"):
                yield Static("", id="inbox-capture")
                line = SuggestionLine("", id="inbox-suggestion")
                line.display = False
                yield line
        yield Label(WAITING, id="inbox-empty")

    def on_resize(self, event) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")

    @property
    def table(self) -> CaptureTable:
        return self.query_one("#inbox-table", CaptureTable)

    def action_refresh(self) -> None:
        self.oxymus.connection.refresh()

    def _selected(self) -> Capture | None:
        """The stored capture under the cursor; says why when there is none to triage."""
        capture_id = self.table.selected_id if self.query_one("#inbox-view").display else None
        if capture_id is None:
            self.notify("No capture selected.", timeout=3)
            return None
        capture = self.table.captures.get(capture_id)
        if capture is None:
            self.notify("This capture is still being sent; try again in a moment.", timeout=4)
        return capture

    def action_remember(self) -> None:
        capture = self._selected()
        if capture is None:
            return
        self.app.push_screen(RecordFormScreen.triage(capture), lambda fields: self._remember(capture.id, fields))

    def _remember(self, capture_id: str, fields: dict | None) -> None:
        if fields is not None:
            self.oxymus.connection.triage(capture_id, "memory", fields)

    def action_plan(self) -> None:
        capture = self._selected()
        if capture is None:
            return
        dialog = LineInputScreen("Make it a next action", value=next((ln.strip() for ln in capture.text.splitlines() if ln.strip()), "")[:500],
                                 hint="Enter adds it under “Next actions” in PLANS.md · Escape cancels")
        self.app.push_screen(dialog, lambda text: self._plan(capture.id, text))

    def _plan(self, capture_id: str, text: str | None) -> None:
        if text:
            self.oxymus.connection.triage(capture_id, "plan_action", text=text)

    def action_accept_default(self) -> None:
        """Enter: accept the highlighted capture's suggestion if it is pre-selected; otherwise say what to do."""
        capture = self._selected()
        if capture is None:
            return
        suggestion = self.table.suggestions.get(capture.id)
        if suggestion is None:
            self.notify("No suggestion for this capture yet: m, p or x to choose.", timeout=4)
        elif suggestion.stale:
            self.notify(f"The suggestion no longer holds ({suggestion.stale}): m, p or x to choose.", timeout=5)
        elif not suggestion.preselected:
            self.notify("Not pre-selected (triage is unsure): y accepts it anyway, or m, p or x.", timeout=5)
        else:
            self.oxymus.connection.accept(capture.id)

    def action_accept_any(self) -> None:
        """y: accept the highlighted capture's suggestion, pre-selected or not."""
        capture = self._selected()
        if capture is None:
            return
        suggestion = self.table.suggestions.get(capture.id)
        if suggestion is None:
            self.notify("No suggestion for this capture yet: m, p or x to choose.", timeout=4)
        elif suggestion.stale:
            self.notify(f"The suggestion no longer holds ({suggestion.stale}): m, p or x to choose.", timeout=5)
        else:
            self.oxymus.connection.accept(capture.id)

    @on(SuggestionsLoaded)
    def _suggestions(self, message: SuggestionsLoaded) -> None:
        self.table.show_suggestions(message.suggestions)
        self._update_summary()
        self._show_suggestion()

    @on(SuggestionAccepted)
    def _accepted(self, message: SuggestionAccepted) -> None:
        if self.is_active:
            self.notify(message.summary, title="Accepted", timeout=5)

    @on(DataTable.RowHighlighted, "#inbox-table")
    def _highlighted(self, message: DataTable.RowHighlighted) -> None:
        self._show_suggestion()
        self._page_if_near_edge()

    # ---- paging -------------------------------------------------------------

    def _page_if_near_edge(self) -> None:
        table = self.table
        if self.asking is not None or not table.captures or table.cursor_row is None:
            return
        seqs = [c.seq for c in table.captures.values()]
        if not self.at_end and table.cursor_row >= table.row_count - MARGIN:
            self._ask("down", before=min(seqs))
        elif not self.at_head and table.cursor_row < MARGIN:
            self._ask("up", after=max(seqs))

    def _ask(self, direction: str, **cursor) -> None:
        if self.oxymus.connection.live.ask(PAGE_QUERY, status="open", limit=PAGE, **cursor) is not None:
            self.asking = direction

    @on(CaptureTable.Edge)
    def _edge(self, message: CaptureTable.Edge) -> None:
        if message.where == "end":
            self._ask("end", oldest=True)
        else:
            self._ask("top")

    @on(InboxPaged)
    def _paged(self, message: InboxPaged) -> None:
        if message.direction != self.asking:
            return  # an answer to another screen's question, or one overtaken by a newer one
        self.asking = None
        if message.error is not None:
            self.notify(f"Could not load more of the inbox: {message.error}", severity="error", timeout=6)
            return
        table = self.table
        if message.total is not None:
            self.total = message.total
        if message.direction in ("end", "top"):
            table.captures = {}
            table.page(message.captures, MOST, keep_oldest=True)
            self.at_head, self.at_end = message.newer == 0, message.direction == "end" or len(message.captures) < message.limit
            table.move_cursor(row=table.row_count - 1 if message.direction == "end" else 0, animate=False)
        elif message.direction == "down":
            if table.page(message.captures, MOST, keep_oldest=True):
                self.at_head = False
            self.at_end = len(message.captures) < message.limit
        else:
            if table.page(message.captures, MOST, keep_oldest=False):
                self.at_end = False
            self.at_head = message.newer == 0 or len(message.captures) < message.limit
        table.show_suggestions({**table.suggestions, **message.suggestions})
        self._update_summary()

    def _show_suggestion(self) -> None:
        """The detail pane: the highlighted capture whole, and its whole suggestion."""
        table = self.table
        selected = table.selected_id
        self.query_one("#inbox-capture", Static).update(
            capture_text(table.captures.get(selected), table.pending.get(selected)) if selected else "")
        line = self.query_one("#inbox-suggestion", SuggestionLine)
        suggestion = table.selected_suggestion if selected else None
        line.display = suggestion is not None
        if suggestion is not None:
            line.update(suggestion_text(suggestion))

    def action_archive(self) -> None:
        capture = self._selected()
        if capture is not None:
            self.oxymus.connection.triage(capture.id, "archive")

    @on(CaptureTriaged)
    def _triaged(self, message: CaptureTriaged) -> None:
        self.table.drop(message.capture_id)
        self._update_summary()
        self._show_suggestion()
        if message.mine and self.is_active:
            done = {"memory": "Remembered as a memory record.", "plan_action": "Added to the plan's next actions."}.get(
                message.to, "Archived.")
            self.notify(done, timeout=3)

    @on(TriageFailed)
    def _triage_failed(self, message: TriageFailed) -> None:
        if self.is_active:
            self.notify(message.reason, title="Not triaged", severity="error", timeout=8)

    @on(InboxLoaded)
    def _loaded(self, message: InboxLoaded) -> None:
        self.table.show(message.captures)  # the newest page again (a reload or a reconnect): the window starts over
        self.at_head, self.asking = True, None
        self.at_end = self.total is not None and len(message.captures) >= self.total
        self.query_one("#inbox-empty", Label).update(EMPTY)
        self._update_summary()

    @on(InboxCounted)
    def _counted(self, message: InboxCounted) -> None:
        self.total = message.total
        if self.at_head:
            self.at_end = message.total is None or len(self.table.captures) >= message.total
        self._update_summary()

    @on(CaptureAdded)
    def _added(self, message: CaptureAdded) -> None:
        if self.at_head:
            self.table.add(message.capture)
        elif message.capture.id in self.table.pending:  # stored, and above the window: shown once scrolled back up
            self.table.drop(message.capture.id)
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
        table = self.table
        table.more_above, table.more_below = not self.at_head, not self.at_end
        stored, pending = len(self.table.captures), len(self.table.pending)
        summary = open_count(stored, self.total)
        if self.size.width < 100 and self.total is not None and self.total > stored:
            summary = f"{self.total:,} open"  # "showing 500 of 100,000 open" would be cut beside the tabs at 80
        if pending:
            summary += f", {pending} sending"
        ready = sum(1 for cid, s in self.table.suggestions.items() if cid in self.table.captures and s.preselected and not s.stale)
        if ready:
            summary += f", {ready} ★ ready" if self.size.width >= 100 else f", {ready} ★"  # whole beside the tabs at 80
        self.query_one("#section-bar", SectionBar).set_summary(summary)
        self.query_one("#inbox-empty", Label).display = not (stored or pending)
        self.query_one("#inbox-view").display = bool(stored or pending)
        if (stored or pending) and self.focused is None and self.is_active:
            table.focus()  # it was hidden when the screen opened, so nothing took the focus: j/k/G move at once
        self._show_suggestion()
