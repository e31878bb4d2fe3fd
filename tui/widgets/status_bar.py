"""The status line at the bottom of every section: the connection, and what waits for the person.

On the left, whether the daemon is reachable and what the TUI is doing about it. On
the right, highlighted and only when true: how many actions wait for a decision, and
that automation is paused (until when), so neither goes unnoticed from any section.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

if TYPE_CHECKING:
    from oxymus.actions.model import PauseState
    from oxymus.tui.link.messages import Drafting

REFRESHING = "refreshing…"


def local_when(iso_utc: str, now: float) -> str:
    """A stored UTC time, in the local zone, as short as is clear from `now`: "14:00", "Mon 09:00", "02 Dec 09:00"."""
    when = dt.datetime.fromisoformat(iso_utc).astimezone()
    days = (when.date() - dt.datetime.fromtimestamp(now).astimezone().date()).days
    fmt = "%H:%M" if days == 0 else "%a %H:%M" if 0 < days < 7 else "%d %b %H:%M"
    return when.strftime(fmt)


def pause_text(pause: PauseState, now: float) -> str:
    """ "PAUSED until 14:00", "PAUSED until Mon 09:00", or "PAUSED" (until resumed)."""
    return f"PAUSED until {local_when(pause.until, now)}" if pause.until else "PAUSED"


class StatusBar(Horizontal):
    """Says plainly whether the daemon is reachable, and what waits for the person."""

    DEFAULT_CLASSES = "-connecting"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._line = ""
        self._refreshing = False
        # Made here, not in compose, so a message that arrives before mounting still lands.
        self._line_label = Label("", id="status-line", markup=False)
        self._waiting_label = Label("", id="status-waiting", classes="badge", markup=False)
        self._paused_label = Label("", id="status-paused", classes="badge", markup=False)
        self._llm_label = Label("", id="status-llm", classes="badge", markup=False)
        self._drafting_label = Label("", id="status-drafting", classes="badge", markup=False)

    def compose(self) -> ComposeResult:
        yield self._line_label
        yield self._waiting_label
        yield self._paused_label
        yield self._drafting_label
        yield self._llm_label

    def show_connecting(self, socket: str, starting: bool) -> None:
        verb = "Starting the daemon" if starting else "Connecting to the daemon"
        self._set("-connecting", f"{verb} at {socket}…")

    def show_connected(self) -> None:
        self._set("-connected", "Connected to the daemon.")

    def show_disconnected(self, socket: str, reason: str, retry_in: float) -> None:
        self._set("-unreachable", f"Daemon unreachable at {socket} — retrying in {retry_in:g}s ({reason})")

    def show_refreshing(self, refreshing: bool) -> None:
        """Add (or take away) "refreshing…" after the connection state, while sources are polled on request."""
        self._refreshing = refreshing
        self._show()

    def show_waiting(self, waiting: int, snoozed: int = 0) -> None:
        """ "2 waiting", "2 waiting · 1 snoozed", "1 snoozed": a snoozed action is not counted as waiting."""
        parts = ([f"{waiting} waiting"] if waiting else []) + ([f"{snoozed} snoozed"] if snoozed else [])
        self._waiting_label.update(" · ".join(parts))
        self._waiting_label.set_class(bool(parts), "-visible")

    def show_pause(self, pause: PauseState | None, now: float) -> None:
        self._paused_label.update(pause_text(pause, now) if pause is not None else "")
        self._paused_label.set_class(pause is not None, "-visible")

    def show_llm(self, status: str | None) -> None:
        """Say plainly when agents run without the LLM (their deterministic paths); nothing when it is there."""
        missing = status is not None and status != "available"
        self._llm_label.update("LLM unavailable" if missing else "")
        self._llm_label.tooltip = status if missing else None
        self._llm_label.set_class(missing, "-visible")

    def show_drafting(self, drafting: tuple[Drafting, ...]) -> None:
        """While an agent's LLM answer streams: "publisher drafting… 1.2k chars" (and how many more); gone when it ends."""
        text = drafting[0].line() + (f" +{len(drafting) - 1}" if len(drafting) > 1 else "") if drafting else ""
        self._drafting_label.update(text)
        self._drafting_label.set_class(bool(drafting), "-visible")

    def _set(self, state: str, text: str) -> None:
        self.remove_class("-connecting", "-connected", "-unreachable")
        self.add_class(state)
        self._line = text
        self._show()

    def _show(self) -> None:
        self._line_label.update(f"{self._line} — {REFRESHING}" if self._refreshing else self._line)

    @property
    def text(self) -> str:
        """The connection line."""
        return str(self._line_label.render())

    @property
    def attention(self) -> str:
        """The highlighted notes on the right ("2 waiting", "PAUSED until 14:00", "publisher drafting… 850 chars"), as shown."""
        shown = [label for label in (self._waiting_label, self._paused_label, self._drafting_label)
                 if label.has_class("-visible")]
        return "  ".join(str(label.render()) for label in shown)
