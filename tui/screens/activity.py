"""The Activity section (key 6): the audit log, newest first, live.

Each row: the time (local zone), who, the verb, its subject, and a short note (a
receipt, an error, a summary, a reason or the deciding rule). The log is read a page
at a time (`log.query`, LOG_PAGE events): `o`, or reaching the end of the rows,
loads the next older page. Whenever the daemon does something the log records, the
newest page is asked for again and what is new is added on top.

`/` filters the rows loaded so far by words in the verb, actor, subject or note
(Enter keeps the filter and returns to the rows, Escape clears it); `!` shows only
problems (failures, denials, expiries: asked of the daemon, so older pages stay
filtered too). An agent's routine runs (started, succeeded, nothing proposed) fold into
one row per agent ("▸ 58 quiet runs"); Enter on it shows them, Enter again folds them.
Enter on any other row follows its trace: that one story, oldest first, from
the trigger to the receipt; Escape goes back to the log where it was.

While an agent's LLM answer streams, a line above the log says who is drafting, how
much so far and how it ends for now (`DraftingChanged`); it goes when the run ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Label

from oxymus.client.protocol import LogResult
from oxymus.models import AuditEvent
from oxymus.tui.link.live import Command
from oxymus.tui.link.messages import ActivityHappened, Connected, DraftingChanged, LogFailed, LogLoaded
from oxymus.tui.screens.base import SectionScreen
from oxymus.tui.widgets import SectionBar
from oxymus.tui.widgets.activity_views import ActivityTable, fold_quiet, matches
from oxymus.tui.widgets.field_input import FieldInput

WAITING = "Waiting for the daemon…"
NOTHING = "Nothing in the log yet."
NO_MATCH = "No loaded event matches the filter; o loads older ones."
LOG_PAGE = 100  # audit events per page: a DataTable measures every row it is given
TRACE_LIMIT = 1000  # a trace is one trigger's story: small, read whole

# A page of the audit log; `LogLoaded` carries what was asked, so the screen can match it.
LOG = Command("log.query", lambda result, r: LogLoaded(result.events, trace_id=r.params.get("trace_id"),
                                                     problems=r.params["problems"], before_seq=r.params.get("before_seq"),
                                                     limit=r.params["limit"]),
              lambda error, _r: LogFailed(error), LogResult)


@dataclass
class Feed:
    """The log as loaded so far for one `problems` setting: newest first, by seq."""

    problems: bool = False
    events: dict[int, AuditEvent] = field(default_factory=dict)
    exhausted: bool = False  # the oldest event of the log is loaded
    loading_older: int | None = None  # the before_seq asked for, while a page is on its way
    cursor: int | None = None  # the seq under the cursor when a trace was followed

    @property
    def oldest(self) -> int | None:
        return min(self.events) if self.events else None

    @property
    def newest(self) -> int:
        return max(self.events) if self.events else 0

    def ordered(self) -> list[AuditEvent]:
        return [self.events[seq] for seq in sorted(self.events, reverse=True)]


class FilterInput(FieldInput):
    """The text filter; Escape clears it and leaves, Enter and `down` go back to the rows."""

    HELP_GROUP = "In the filter box"
    BINDINGS = [
        Binding("escape", "clear", "Clear filter", tooltip="Clear the filter and go back to the rows"),
        Binding("down", "leave", "Rows", show=False, tooltip="Back to the rows, keeping the filter"),
    ]

    def action_clear(self) -> None:
        self.value = ""
        self.display = False
        self.action_leave()


class ActivityScreen(SectionScreen):
    SECTION = "activity"
    AUTO_FOCUS = "#activity-table"
    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("exclamation_mark", "problems", "Problems only"),
        Binding("o", "older", "Older"),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.feed = Feed()
        self.trace_id: str | None = None
        self.trace: list[AuditEvent] = []
        self.loaded = False  # an answer for the current view has been shown
        self.error: str | None = None
        self.expanded: set[str] = set()  # the folds of quiet runs shown open, by row key

    def compose_body(self) -> ComposeResult:
        search = FilterInput(placeholder="filter: words in the verb, actor, subject or note", id="activity-filter")
        search.display = False
        yield search
        drafting = Label("", id="activity-drafting", markup=False)
        drafting.display = False
        yield drafting
        header = Label("", id="activity-trace", markup=False)
        header.display = False
        yield header
        table = ActivityTable(id="activity-table")
        table.display = False
        yield table
        yield Label(WAITING, id="activity-empty", markup=False)
        yield Label("", id="activity-more", markup=False)

    @on(DraftingChanged)
    def _drafting_changed(self, message: DraftingChanged) -> None:
        line = self.query_one("#activity-drafting", Label)
        line.update("\n".join(f"{d.line()}: …{d.tail}" for d in message.drafting))
        line.display = bool(message.drafting)

    @property
    def table(self) -> ActivityTable:
        return self.query_one("#activity-table", ActivityTable)

    @property
    def filter_text(self) -> str:
        return self.query_one("#activity-filter", FilterInput).value.strip()

    def shown_events(self) -> list[AuditEvent]:
        """What the rows show now: the trace whole, or the feed through the text filter."""
        if self.trace_id is not None:
            return list(self.trace)
        text = self.filter_text
        return [e for e in self.feed.ordered() if not text or matches(e, text)]

    def shown_rows(self):
        """The rows: the trace whole, or the feed's events with each agent's quiet runs folded."""
        if self.trace_id is not None:
            return list(self.trace)
        return fold_quiet(self.shown_events(), self.expanded)

    # ---- asking ---------------------------------------------------------------------------

    def _ask_newest(self) -> None:
        if self.trace_id is not None:
            self.oxymus.connection.live.send(LOG, trace_id=self.trace_id, problems=False, limit=TRACE_LIMIT)
        else:
            self.oxymus.connection.live.send(LOG, problems=self.feed.problems, limit=LOG_PAGE)

    def _ask_older(self) -> None:
        feed = self.feed
        if self.trace_id is not None or feed.exhausted or feed.loading_older is not None or feed.oldest is None:
            return
        feed.loading_older = feed.oldest
        self.oxymus.connection.live.send(LOG, problems=feed.problems, before_seq=feed.oldest, limit=LOG_PAGE)
        self._render_more()

    @on(Connected)
    def _connected(self, message: Connected) -> None:
        self.feed.loading_older = None  # a page asked for before a drop is not coming
        self._ask_newest()

    @on(ActivityHappened)
    def _activity(self, message: ActivityHappened) -> None:
        self._ask_newest()

    # ---- keys -------------------------------------------------------------------------------

    def action_filter(self) -> None:
        self._leave_trace()
        box = self.query_one("#activity-filter", FilterInput)
        box.display = True
        box.focus()

    def action_problems(self) -> None:
        self._leave_trace()
        self.feed = Feed(problems=not self.feed.problems)
        self.loaded = False
        self._render_rows()
        self._ask_newest()

    def action_older(self) -> None:
        if self.trace_id is not None:
            self.notify("This is one whole trace; Escape goes back to the log.", timeout=3)
            return
        if self.feed.exhausted:
            self.notify("That is the start of the log.", timeout=3)
        self._ask_older()

    def action_back(self) -> None:
        if self.trace_id is not None:
            self._leave_trace()
        elif self.filter_text:
            self.query_one("#activity-filter", FilterInput).action_clear()

    @on(ActivityTable.EndReached)
    def _end_reached(self, message: ActivityTable.EndReached) -> None:
        self._ask_older()

    @on(DataTable.RowSelected, "#activity-table")
    def _follow(self, event: DataTable.RowSelected) -> None:
        key = str(event.row_key.value)
        if key in self.table.folds:
            self.expanded ^= {key}
            self._render_rows()
            return
        seq = int(key) if key.isdigit() else None
        chosen = self.feed.events.get(seq) if self.trace_id is None and seq is not None else None
        if chosen is None:
            return
        self.feed.cursor = seq
        self.trace_id, self.trace, self.loaded = chosen.trace_id, [], False
        header = self.query_one("#activity-trace", Label)
        header.update(f"Trace {chosen.trace_id}: from the trigger to the receipt, oldest first · Escape goes back")
        header.display = True
        self.query_one("#activity-filter").display = False
        self._render_rows()
        self._ask_newest()

    def _leave_trace(self) -> None:
        if self.trace_id is None:
            return
        self.trace_id, self.trace = None, []
        self.loaded = bool(self.feed.events)
        self.query_one("#activity-trace").display = False
        self.query_one("#activity-filter").display = bool(self.filter_text)
        self._render_rows()
        if self.feed.cursor is not None and str(self.feed.cursor) in self.table.rows:
            self.table.move_cursor(row=self.table.get_row_index(str(self.feed.cursor)), animate=False)
        self._ask_newest()  # what happened meanwhile

    @on(Input.Changed, "#activity-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._render_rows()
        if self.focused is None and self.table.display:
            self.table.focus()  # Escape cleared the filter while no row matched: the rows are back

    @on(Input.Submitted, "#activity-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        box = self.query_one("#activity-filter", FilterInput)
        box.display = bool(box.value.strip())
        self.table.focus()

    # ---- answers ----------------------------------------------------------------------------

    @on(LogLoaded)
    def _log_loaded(self, message: LogLoaded) -> None:
        if message.trace_id is not None:
            if message.trace_id == self.trace_id:
                self.trace, self.loaded, self.error = message.events, True, None
                self.table.show(self.trace, newest_first=False)
                self._render_state()
            return
        feed = self.feed
        if message.problems != feed.problems:
            return  # an answer for the other setting of `!`
        if message.before_seq is not None:
            if message.before_seq != feed.loading_older:
                return
            feed.loading_older = None
            feed.exhausted = len(message.events) < message.limit
            older = [e for e in message.events if e.seq is not None and e.seq not in feed.events]
            feed.events.update((e.seq, e) for e in older)
            if self.trace_id is None and older:
                self.table.show(self.shown_rows())
        else:
            fresh = [e for e in message.events if e.seq is not None and e.seq > feed.newest]
            if feed.events and len(fresh) == message.limit:
                # More happened than one page holds: what lies between is not loaded, so start again from here.
                feed.events = {}
                feed.loading_older = None
            if not feed.events:
                feed.exhausted = len(message.events) < message.limit
            feed.events.update((e.seq, e) for e in fresh)
            if self.trace_id is None and (fresh or not self.loaded):
                self.table.show(self.shown_rows())  # (new runs may join a fold: the rows are made again)
        if self.trace_id is None:
            self.loaded, self.error = True, None
        self._render_state()

    @on(LogFailed)
    def _log_failed(self, message: LogFailed) -> None:
        self.feed.loading_older = None
        self.error = message.reason
        self._render_state()

    # ---- rendering ------------------------------------------------------------------------

    def _render_rows(self) -> None:
        self.table.show(self.shown_rows(), newest_first=self.trace_id is None)
        self._render_state()

    def _render_state(self) -> None:
        shown = self.table.row_count
        empty = self.query_one("#activity-empty", Label)
        if self.error and not self.loaded:
            empty.update(f"Could not read the log: {self.error}")
        elif not self.loaded:
            empty.update(WAITING)
        elif self.trace_id is None and self.feed.events and self.filter_text:
            empty.update(NO_MATCH)
        else:
            empty.update("No problems in the log." if self.feed.problems and self.trace_id is None else NOTHING)
        self.table.display, empty.display = bool(shown), not shown
        self._render_more()
        self.query_one("#section-bar", SectionBar).set_summary(self._summary())

    def _render_more(self) -> None:
        more = self.query_one("#activity-more", Label)
        feed = self.feed
        if self.trace_id is not None:
            text = f"{len(self.trace)} events in this trace."
        elif feed.loading_older is not None:
            text = "Loading older events…"
        elif not feed.events:
            text = ""
        elif feed.exhausted:
            text = "The start of the log."
        else:
            text = "o (or the end of the rows) loads older events."
        if self.error and self.loaded:
            text = f"Could not read the log: {self.error}"
        more.update(text)

    def _summary(self) -> str:
        if self.trace_id is not None:
            return f"trace {self.trace_id[:10]}…"
        parts = [f"{len(self.feed.events)} events loaded"]
        if self.feed.problems:
            parts.append("problems only")
        if self.filter_text:
            parts.append(f"{self.table.row_count} match “{self.filter_text}”")
        return " · ".join(parts)
