"""How the audit log looks: one event per row (local time, actor, verb, subject, a short note). Render only.

Rows are keyed by the event's seq, so an event that arrives twice (a page and a live
reload overlapping) is shown once. An agent's routine runs (agent.started and
agent.succeeded, nothing proposed: the sentinel's two lines a minute) fold into one
row, "▸ 58 quiet runs", keyed `fold:ACTOR`; Enter expands it (`fold_quiet`). The
columns share the width by what their cells need (tui/widgets/columns.py), again on
every resize. The table says when its end comes into view, so the screen can load
the next older page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message

from oxymus.actions.explain import event_note, local
from oxymus.kernel.textfmt import one_line, who
from oxymus.models import PROBLEM_VERBS, AuditEvent
from oxymus.tui.widgets.columns import Column, fit
from oxymus.tui.widgets.nav_table import NavTable

# Column widths (tui/widgets/columns.py): the note takes the slack; the subject goes first when the room is
# short (Enter on the row shows its whole trace), and the time loses its date.
TIME_W, TIME_SHORT, SUBJECT_W = 14, 8, 15
ACTOR_MAX, ACTOR_LEAST, VERB_MAX, VERB_LEAST, NOTE_LEAST = 24, 10, 24, 14, 24
WITH_SUBJECT = 120  # narrower, the note says more than an id or a date (Enter shows the row's whole trace)
END_MARGIN = 3  # rows from the end at which the next page is asked for
QUIET_VERBS = frozenset({"agent.started", "agent.succeeded"})  # a run that did only this proposed nothing


@dataclass(frozen=True)
class Fold:
    """An agent's routine runs (started, succeeded, nothing proposed) shown as one row; Enter expands it."""

    actor: str
    events: tuple[AuditEvent, ...]  # newest first
    runs: int
    expanded: bool = False

    @property
    def key(self) -> str:
        return f"fold:{self.actor}"

    @property
    def seq(self) -> float:
        return (self.events[0].seq or 0) + 0.5  # just above its newest run (newest first)


def fold_quiet(events: list[AuditEvent], expanded: set[str]) -> list[AuditEvent | Fold]:
    """The rows for `events` (newest first): each agent's quiet runs, when it has two or more, become one Fold
    (followed by its runs when its key is in `expanded`); every other event stays as it is."""
    traces: dict[str, list[AuditEvent]] = {}
    for event in events:
        traces.setdefault(event.trace_id, []).append(event)
    quiet: dict[str, list[list[AuditEvent]]] = {}
    for trace in traces.values():
        actor = trace[0].actor
        if (actor.startswith("agent:") and all(e.verb in QUIET_VERBS and e.actor == actor for e in trace)
                and any(e.verb == "agent.succeeded" for e in trace)):
            quiet.setdefault(actor, []).append(trace)
    folded = {actor: runs for actor, runs in quiet.items() if len(runs) >= 2}
    hidden = {e.seq for runs in folded.values() for run in runs for e in run}
    rows: list[AuditEvent | Fold] = []
    for actor, runs in folded.items():
        members = tuple(sorted((e for run in runs for e in run), key=lambda e: e.seq or 0, reverse=True))
        rows.append(Fold(actor, members, len(runs), expanded=f"fold:{actor}" in expanded))
    rows += [e for e in events if e.seq not in hidden]
    rows += [e for f in rows if isinstance(f, Fold) and f.expanded for e in f.events]
    return rows


def time_format(width: int) -> str:
    return "%m-%d %H:%M:%S" if width >= TIME_W else "%H:%M:%S"


_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def short_subject(subject: str) -> str:
    """A subject that fits its column: a ULID as its time prefix and random end ("01M80DY8…6EYG"), a path by its end."""
    if _ULID.match(subject):
        return f"{subject[:8]}…{subject[-6:]}"
    return subject if len(subject) <= SUBJECT_W else "…" + subject[-(SUBJECT_W - 1):]


class Stamp(Text):
    """The time cell; it carries its event's seq, which the rows are ordered by."""

    def __init__(self, text: str, seq: int, **kwargs) -> None:
        super().__init__(text, **kwargs)
        self.seq = seq


def verb_style(verb: str) -> str:
    if verb in PROBLEM_VERBS:
        return "bold red"
    if verb in ("action.succeeded", "pause.ended"):
        return "green"
    if verb in ("action.awaiting_approval", "pause.started"):
        return "yellow"
    return ""


def event_cells(event: AuditEvent, widths: dict[str, int], folded: bool = False) -> dict[str, Text]:
    """One event's cells by column key (`folded`: one of a fold's runs, shown under it)."""
    return {
        "time": Stamp(local(event.ts, None, time_format(widths["time"])), event.seq or 0, style="dim"),
        "actor": Text(who(event.actor, widths["actor"]), style="dim" if folded else ""),
        "verb": Text(one_line(("  " if folded else "") + event.verb, widths["verb"]),
                     style="dim" if folded else verb_style(event.verb)),
        "subject": Text(short_subject(event.subject)),
        "note": Text(one_line(event_note(event.details), widths["note"]), style="dim" if folded else ""),
    }


def fold_cells(fold: Fold, widths: dict[str, int]) -> dict[str, Text]:
    newest = fold.events[0]
    mark = "▾" if fold.expanded else "▸"
    note = "Enter folds them" if fold.expanded else "Enter shows them"
    return {
        "time": Stamp(local(newest.ts, None, time_format(widths["time"])), fold.seq, style="dim"),
        "actor": Text(who(fold.actor, widths["actor"]), style="dim"),
        "verb": Text(one_line(f"{mark} {fold.runs} quiet runs", widths["verb"]), style="dim bold"),
        "subject": Text(""),
        "note": Text(one_line(note, widths["note"]), style="dim italic"),
    }


def matches(event: AuditEvent, text: str) -> bool:
    """The text filter: every word in the verb, actor, subject or note (case-insensitive)."""
    haystack = " ".join((event.verb, event.actor, event.subject, event_note(event.details))).lower()
    return all(word in haystack for word in text.lower().split())


class ActivityTable(NavTable):
    class EndReached(Message):
        """The last rows came into view (by scrolling or by the cursor)."""

    TITLES = {"time": "Time", "actor": "Actor", "verb": "Verb", "subject": "Subject", "note": "Note"}

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.newest_first = True
        self.events: dict[int, AuditEvent] = {}  # the events shown, by seq
        self.folds: dict[str, Fold] = {}  # the folded rows shown, by row key
        self.items: list[AuditEvent | Fold] = []
        self._widths: dict[str, int] = {}

    def on_mount(self) -> None:
        self._columns()

    def on_resize(self) -> None:
        if self.widths() != self._widths:
            self.show(self.items, self.newest_first)

    def widths(self) -> dict[str, int]:
        """The columns' widths for the rows shown at the table's width now (a column left out has no key)."""
        events = list(self.events.values())
        actor = min(ACTOR_MAX, max([len(e.actor) for e in events] + [ACTOR_LEAST]))
        verb = min(VERB_MAX, max([len(e.verb) for e in events] + [VERB_LEAST]))
        note = max([len(event_note(e.details)) for e in events[:200]] + [NOTE_LEAST])
        wide = self.size.width >= WITH_SUBJECT
        subject = [Column("subject", SUBJECT_W, SUBJECT_W, optional=True)] if wide else []
        return fit(self.size.width, [
            Column("verb", verb, min(verb, VERB_LEAST)), Column("actor", actor, min(actor, ACTOR_LEAST)),
            Column("time", TIME_W if wide else TIME_SHORT, TIME_SHORT), *subject, Column("note", note, NOTE_LEAST, flex=1),
        ])

    def _columns(self) -> None:
        self._widths = self.widths()
        for key, title in self.TITLES.items():
            if key in self._widths:
                self.add_column(title, width=self._widths[key], key=key)

    def show(self, items: list[AuditEvent | Fold], newest_first: bool = True) -> None:
        """Replace every row (a new view, filter or fold), keeping the cursor on the same row when it is still shown."""
        keep = self.selected_key
        self.newest_first = newest_first
        self.items = list(items)
        self.events = {e.seq or 0: e for e in items if isinstance(e, AuditEvent)}
        for fold in (f for f in items if isinstance(f, Fold)):
            self.events.update((e.seq or 0, e) for e in fold.events)
        self.folds = {f.key: f for f in items if isinstance(f, Fold)}
        self.clear(columns=True)
        self._columns()
        under = {e.seq for f in self.folds.values() if f.expanded for e in f.events}
        ordered = sorted(items, key=lambda i: i.seq or 0, reverse=newest_first)
        for item in ordered:
            if isinstance(item, Fold):
                cells, key = fold_cells(item, self._widths), item.key
            else:
                cells, key = event_cells(item, self._widths, folded=item.seq in under), str(item.seq)
            self.add_row(*(cells[k] for k in self.TITLES if k in self._widths), key=key)
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep), animate=False)

    @property
    def selected_key(self) -> str | None:
        if not self.row_count or self.cursor_row is None:
            return None
        try:
            return str(self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value)
        except Exception:
            return None

    @property
    def selected_seq(self) -> int | None:
        key = self.selected_key
        return int(key) if key is not None and key.isdigit() else None

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new > old and self.max_scroll_y and new >= self.max_scroll_y - END_MARGIN:
            self.post_message(self.EndReached())

    def watch_cursor_coordinate(self, old, new) -> None:
        super().watch_cursor_coordinate(old, new)
        if self.row_count and new.row > old.row and new.row >= self.row_count - 1:
            self.post_message(self.EndReached())
