"""The Memory section (key 3): search as you type, filter by kind and tier, open, edit and forget records.

The search field has the focus when the section opens: typing searches (debounced
by SEARCH_DEBOUNCE; one search out at a time, the newest text waiting for its answer,
or SEARCH_STALE at most, when the daemon stops the older one; the connection numbers
the requests and only the newest answer is shown). An empty search lists the most recently touched records. `ctrl+k` and
`ctrl+t` cycle the kind and tier filters from anywhere in the section.

A focused Input takes every printable key, so the single-letter keys (`e`, `f`,
`c`, `q`) work on the results: `down`, `tab`, `escape` or Enter leave the search
field; `up` (or `k`) on the first result or `/` goes back to it. The section digits
and `?` still work while the field has the focus only because the section opened;
once the person chose it (`/`, a click, typing into it) they type (widgets/field_input.py).
Enter opens a record (screens/record.py); `e` edits and `f` forgets the one under
the cursor. The hot-memory budget is in the title line, reloaded after every change.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label

from oxymus.client.protocol import MemorySearchResult
from oxymus.memory import records as mem
from oxymus.tui.link.live import LiveQuery
from oxymus.tui.link.messages import (
    BudgetLoaded, Connected, MemoryChanged, MemoryEdited, MemoryFailed, MemoryForgotten, MemorySearched,
)
from oxymus.tui.screens.base import SectionScreen
from oxymus.tui.screens.record import RecordScreen
from oxymus.tui.screens.record_actions import ask_to_forget
from oxymus.tui.screens.record_form import TIERS
from oxymus.tui.widgets import CycleField, MemoryTable, SectionBar
from oxymus.tui.widgets.field_input import FieldInput
from oxymus.tui.widgets.memory_views import budget_text

SEARCH_DEBOUNCE = 0.15  # seconds after the last keystroke before searching
SEARCH_STALE = 0.3  # seconds a search may be out before the newest text is sent anyway (the daemon stops the older)
KIND_FILTERS: tuple[str | None, ...] = (None, *mem.DEFAULT_KINDS)
TIER_FILTERS: tuple[str | None, ...] = (None, *TIERS)
WAITING = "Waiting for the daemon…"
NO_MEMORY = "No memory yet. Press 2 for the Inbox and m on a capture to remember it."
SEARCH_LIMIT = 50  # memory search results asked for
# A search (an empty query lists the most recently touched records); only the newest answer is shown.
SEARCH = LiveQuery("memory.search", "memory.search",
                   lambda a: MemorySearched(a.ticket, a.params["query"], a.params.get("kind"), a.params.get("tier"),
                                            a.value.hits),
                   MemorySearchResult, failed=lambda error, _p: MemoryFailed("search", None, error), offline_quiet=True)


class SearchInput(FieldInput):
    """The search field; `down` moves on to the results (when there are some), Escape leaves it."""

    HELP_GROUP = "In the search box"
    BINDINGS = [Binding("down", "results", "Results", tooltip="To the results")]

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "results":
            return self.screen.query_one("#memory-results").display
        return True

    def action_results(self) -> None:
        self.screen.query_one("#memory-results").focus()


class MemoryScreen(SectionScreen):
    SECTION = "memory"
    AUTO_FOCUS = "#memory-query"
    BINDINGS = [
        Binding("ctrl+k", "cycle_filter('kind')", "Kind", priority=True),
        Binding("ctrl+t", "cycle_filter('tier')", "Tier", priority=True),
        Binding("slash", "search", "Search", tooltip="To the search box (then digits type)"),
        Binding("e", "edit", "Edit"),
        Binding("f", "forget", "Forget"),
        Binding("r", "refresh", "Reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.searched = False  # an answer has been shown
        self.shown_ticket = 0
        self.wanted_ticket = 0
        self._open_on_answer = False  # Enter was pressed before the answer came: open its best hit
        self.last_search: MemorySearched | None = None
        self._timer: Timer | None = None
        self._in_flight = False  # a search is out and its answer has not come
        self._pending = False  # typed on meanwhile: the newest text waits for that answer
        self._stale: Timer | None = None

    def compose_body(self) -> ComposeResult:
        yield SearchInput(placeholder="Search memory — type words; ↓ for the results", id="memory-query", armed=False)
        with Horizontal(id="memory-filters"):
            yield CycleField("kind", KIND_FILTERS, None, key_hint="^k", focusable=False, id="memory-kind")
            yield CycleField("tier", TIER_FILTERS, None, key_hint="^t", focusable=False, id="memory-tier")
            yield Label("", id="memory-count")
        table = MemoryTable(id="memory-results")
        table.display = False  # until there is something to show
        yield table
        yield Label(WAITING, id="memory-empty", markup=False)

    @property
    def table(self) -> MemoryTable:
        return self.query_one("#memory-results", MemoryTable)

    @property
    def kind(self) -> str | None:
        return self.query_one("#memory-kind", CycleField).value

    @property
    def tier(self) -> str | None:
        return self.query_one("#memory-tier", CycleField).value

    # ---- searching ------------------------------------------------------------

    def search_soon(self) -> None:
        """Search once typing pauses: every call restarts the wait."""
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SEARCH_DEBOUNCE, self.search_now, name="memory-search")

    def search_now(self) -> None:
        """Search for what the field says now; while a search is out, only the newest text waits for it
        (never faster than the daemon answers), and goes anyway after SEARCH_STALE (the daemon then
        stops the older search, which was typed past)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._in_flight:
            self._pending = True
            if self._stale is None:
                self._stale = self.set_timer(SEARCH_STALE, self._send_pending, name="memory-search-stale")
            return
        self._send()

    def _send_pending(self) -> None:
        self._stale = None
        if self._pending:
            self._send()

    def _settled(self) -> None:
        """The newest search answered (or failed): send what was typed meanwhile."""
        self._in_flight = False
        if self._stale is not None:
            self._stale.stop()
            self._stale = None
        if self._pending:
            self._send()

    def _send(self) -> None:
        self._pending = False
        params = {"query": self.query_text, "limit": SEARCH_LIMIT}
        if self.kind:
            params["kind"] = self.kind
        if self.tier:
            params["tier"] = self.tier
        ticket = self.oxymus.connection.live.ask(SEARCH, **params)
        if ticket is not None:
            self.wanted_ticket = ticket
            self._in_flight = True

    @on(Input.Changed, "#memory-query")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_text = event.value
        self.search_soon()

    @on(Input.Submitted, "#memory-query")
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter in the search field opens the record under the cursor (the best hit, unless one was chosen).

        Typed faster than the answers came: search now, and open the best hit of that answer.
        """
        event.stop()
        if self._timer is not None:
            self.search_now()
        if self.wanted_ticket > self.shown_ticket or self._pending:
            self._open_on_answer = True
        elif self.table.selected is not None:
            self._open(self.table.selected)

    @on(CycleField.Changed)
    def _filter_changed(self, event: CycleField.Changed) -> None:
        event.stop()
        self.search_now()

    # ---- actions ------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "search":  # in the search field once chosen, `/` types a slash: offer it only elsewhere
            box = self.query_one("#memory-query", SearchInput)
            return not (box.has_focus and box.armed)
        return True


    def action_cycle_filter(self, name: str) -> None:
        self.query_one(f"#memory-{name}", CycleField).cycle(1)

    def action_search(self) -> None:
        """`/`: the search box, chosen (what is typed goes in it, digits too)."""
        self.query_one("#memory-query", SearchInput).arm()

    def action_refresh(self) -> None:
        self.search_now()

    def action_edit(self) -> None:
        hit = self._selected()
        if hit is not None:
            # A hit has no body to edit: the record screen loads it and opens the form.
            self._open(hit, edit=True)

    def action_forget(self) -> None:
        hit = self._selected()
        if hit is not None:
            ask_to_forget(self, hit)

    def _selected(self) -> mem.SearchHit | None:
        hit = self.table.selected if self.table.display else None
        if hit is None:
            self.notify("No record selected.", timeout=3)
        return hit

    @on(DataTable.RowSelected, "#memory-results")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        hit = self.table.hits.get(event.row_key.value)
        if hit is not None:
            self._open(hit)

    def _open(self, hit: mem.SearchHit, edit: bool = False) -> None:
        self.table.focus()  # so that coming back (escape) lands on the results, where single keys work
        self.app.push_screen(RecordScreen(hit.id, edit_when_loaded=edit))

    # ---- messages -----------------------------------------------------------

    @on(Connected)
    def _connected_search(self, message: Connected) -> None:
        self.search_now()  # on opening the section, and again after a reconnect

    @on(MemorySearched)
    def _searched(self, message: MemorySearched) -> None:
        if message.ticket < self.shown_ticket:
            return
        if message.ticket >= self.wanted_ticket:
            self._settled()
        self.shown_ticket, self.last_search, self.searched = message.ticket, message, True
        self.table.show(message.hits)
        self._render_state()
        if self._open_on_answer and message.ticket >= self.wanted_ticket:
            self._open_on_answer = False
            if message.hits and self.is_active:
                self.table.move_cursor(row=0, animate=False)
                self._open(message.hits[0])

    @on(MemoryFailed)
    def _failed(self, message: MemoryFailed) -> None:
        if message.action == "search":
            self._settled()
            self.query_one("#memory-count", Label).update(f"search failed: {message.reason}")
        elif self.is_active:
            self.notify(message.reason, title=f"Could not {message.action}", severity="error", timeout=8)

    @on(MemoryChanged)
    def _memory_changed(self, message: MemoryChanged) -> None:
        self.search_soon()  # added, edited or forgotten, here or elsewhere: the results may differ

    @on(MemoryEdited)
    def _memory_edited(self, message: MemoryEdited) -> None:
        if self.is_active:
            self.notify(f"Saved as version {message.record.version}.", timeout=3)

    @on(MemoryForgotten)
    def _memory_forgotten(self, message: MemoryForgotten) -> None:
        hit = self.table.hits.get(message.record_id)
        self.table.drop(message.record_id)
        self._render_state()
        if hit is not None and self.is_active:
            self.notify(f"Forgotten: {hit.title}", timeout=4)

    @on(BudgetLoaded)
    def _budget(self, message: BudgetLoaded) -> None:
        self.query_one("#section-bar", SectionBar).set_summary(budget_text(message.report))

    def _render_state(self) -> None:
        count = len(self.table.order)
        asked = self.last_search
        filtered = asked is not None and bool(asked.kind or asked.tier)
        if asked is None:
            counted = ""
        elif asked.query.strip():
            counted = f"{count} found" if count else "nothing found"
        else:
            counted = f"{count} recent" if count else ""
        self.query_one("#memory-count", Label).update(counted)
        empty = self.query_one("#memory-empty", Label)
        if asked is not None and not count:
            if asked.query.strip() or filtered:
                empty.update("Nothing matches." + (" Filters are on: ctrl+k / ctrl+t change them." if filtered else ""))
            else:
                empty.update(NO_MEMORY)
        had_focus = self.table.has_focus
        if self.table.display != bool(count):
            self.table.display = bool(count)
            self.refresh_bindings()  # the search box's ↓ (to the results) comes and goes with them
        empty.display = not count
        if had_focus and not count:
            self.query_one("#memory-query", SearchInput).focus()  # not chosen: the digits still switch sections
