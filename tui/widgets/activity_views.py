"""How the audit log looks: one event per row (local time, actor, verb, subject, a short note). Render only.

Rows are keyed by the event's seq, so an event that arrives twice (a page and a live
reload overlapping) is shown once. New events are added and the rows re-ordered
in place, and older pages appended, so the rows already shown are never measured
again (a DataTable measures every row it is given). The table says when its end
comes into view, so the screen can load the next older page.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.message import Message

from oxymus.actions.explain import event_note, local
from oxymus.kernel.textfmt import one_line
from oxymus.models import PROBLEM_VERBS, AuditEvent
from oxymus.tui.widgets.nav_table import NavTable

TIME_W, ACTOR_W, VERB_W, SUBJECT_W = 14, 14, 24, 15
END_MARGIN = 3  # rows from the end at which the next page is asked for


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


def event_cells(event: AuditEvent, note_w: int) -> tuple[Text, ...]:
    return (
        Stamp(local(event.ts, None, "%m-%d %H:%M:%S"), event.seq or 0, style="dim"),
        Text(one_line(event.actor, ACTOR_W)),
        Text(one_line(event.verb, VERB_W), style=verb_style(event.verb)),
        Text(short_subject(event.subject)),
        Text(one_line(event_note(event.details), note_w)),
    )


def matches(event: AuditEvent, text: str) -> bool:
    """The text filter: every word in the verb, actor, subject or note (case-insensitive)."""
    haystack = " ".join((event.verb, event.actor, event.subject, event_note(event.details))).lower()
    return all(word in haystack for word in text.lower().split())


class ActivityTable(NavTable):
    class EndReached(Message):
        """The last rows came into view (by scrolling or by the cursor)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.newest_first = True
        self.events: dict[int, AuditEvent] = {}  # what the rows show, by seq
        self._note_w = 0

    def on_mount(self) -> None:
        self._columns()

    def on_resize(self) -> None:
        if self._wanted_note_width() != self._note_w:
            self.show(list(self.events.values()), self.newest_first)

    def _wanted_note_width(self) -> int:
        # Five columns with one cell of padding each side, and room for a vertical scrollbar.
        return max(12, self.size.width - (TIME_W + ACTOR_W + VERB_W + SUBJECT_W) - 10 - 2)

    def _columns(self) -> None:
        self._note_w = self._wanted_note_width()
        self.add_column("Time", width=TIME_W, key="time")
        self.add_column("Actor", width=ACTOR_W, key="actor")
        self.add_column("Verb", width=VERB_W, key="verb")
        self.add_column("Subject", width=SUBJECT_W, key="subject")
        self.add_column("Note", width=self._note_w, key="note")

    def show(self, events: list[AuditEvent], newest_first: bool = True) -> None:
        """Replace every row (a new view or filter), keeping the cursor on the same event when it is still shown."""
        keep = self.selected_seq
        self.newest_first = newest_first
        self.clear(columns=True)
        self._columns()
        ordered = sorted(events, key=lambda e: e.seq or 0, reverse=newest_first)
        self.events = {e.seq or 0: e for e in ordered}
        for event in ordered:
            self.add_row(*event_cells(event, self._note_w), key=str(event.seq))
        if keep is not None and str(keep) in self.rows:
            self.move_cursor(row=self.get_row_index(str(keep)), animate=False)

    def merge(self, events: list[AuditEvent]) -> int:
        """Add the events not shown yet, in their place by seq; returns how many were added."""
        keep = self.selected_seq
        fresh = [e for e in events if str(e.seq) not in self.rows]
        for event in fresh:
            self.events[event.seq or 0] = event
            self.add_row(*event_cells(event, self._note_w), key=str(event.seq))
        if fresh:
            self.sort("time", key=lambda stamp: stamp.seq, reverse=self.newest_first)
            if keep is not None:
                self.move_cursor(row=self.get_row_index(str(keep)), animate=False)
        return len(fresh)

    @property
    def selected_seq(self) -> int | None:
        if not self.row_count or self.cursor_row is None:
            return None
        try:
            return int(self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value)
        except Exception:
            return None

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new > old and self.max_scroll_y and new >= self.max_scroll_y - END_MARGIN:
            self.post_message(self.EndReached())

    def watch_cursor_coordinate(self, old, new) -> None:
        super().watch_cursor_coordinate(old, new)
        if self.row_count and new.row > old.row and new.row >= self.row_count - 1:
            self.post_message(self.EndReached())
