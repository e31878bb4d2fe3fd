"""What every section shares: the title line, the status bar, the footer, listening to the connection,
`c` to capture, and `P` to pause automation or resume it.

The status bar of every section shows how many actions wait for a decision and
whether automation is paused, kept fresh by the connection (`WaitingCounted`,
`PauseChanged`). `P` asks until when to pause (a line; empty: until resumed) and
resumes at once when paused, saying how many stale proposals expired meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from oxymus.tui.link.messages import (
    CaptureNotStored, Connected, Connecting, Disconnected, DraftingChanged, LlmStatusChanged, PauseChanged, PauseFailed, PauseSet,
    RefreshFinished, RefreshStarted, Resumed, WaitingCounted,
)
from oxymus.tui.screens.capture import CaptureScreen
from oxymus.tui.screens.line_input import LineInputScreen
from oxymus.tui.widgets import SectionBar, StatusBar
from oxymus.tui.widgets.field_input import FieldInput
from oxymus.tui.widgets.status_bar import pause_text

if TYPE_CHECKING:
    from oxymus.tui.app import OxymusApp
    from oxymus.tui.link.live import LiveQuery


class SectionScreen(Screen):
    """A top-level section (Today, Inbox, later Plans, ...). Subclasses set SECTION and compose_body()."""

    SECTION = ""
    LIVE: tuple[LiveQuery, ...] = ()  # the section's own live queries, declared on the link when it first mounts
    HELP_TITLE = ""  # the help screen's heading for this screen's own keys (default: its section's label)
    HELP_GROUP = "Every section"  # ... and for the keys declared here, which every section has
    # Not in the footer (it keeps a section's own keys and `?`): `?` lists them.
    BINDINGS = [
        Binding("c", "capture", "Capture", show=False, tooltip="Capture a thought"),
        Binding("P", "toggle_pause", "Pause", show=False, tooltip="Pause automation, or resume it"),
    ]

    @property
    def oxymus(self) -> "OxymusApp":
        return cast("OxymusApp", self.app)

    @property
    def help_title(self) -> str:
        return self.HELP_TITLE or next((label for name, _k, label in self.oxymus.section_tabs() if name == self.SECTION),
                                       self.SECTION)

    def compose(self) -> ComposeResult:
        yield SectionBar(self.oxymus.section_tabs(), self.SECTION, id="section-bar")
        yield from self.compose_body()
        yield StatusBar(id="status")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        return iter(())

    def on_mount(self) -> None:
        connection = self.oxymus.connection
        connection.listen(self)
        # A section loads on first show, so its own queries join the link then (the link's standing
        # ones are declared at start, tui/link/queries.py); a standing one runs now, then on its topics.
        fresh = [q for q in self.LIVE if q.name not in connection.live.queries]
        connection.live.declare(*self.LIVE)
        for query in fresh:
            if query.standing:
                connection.live.ask(query)

    def on_unmount(self) -> None:
        self.oxymus.connection.unlisten(self)

    def on_screen_suspend(self) -> None:
        for field in self.query(FieldInput):
            field.disarm()  # coming back, the focus is there because the screen opened, not chosen

    def action_capture(self) -> None:
        """Capture a thought, from any section: the dialog, then the connection's outbox."""
        self.app.push_screen(CaptureScreen(), self._captured)

    def _captured(self, text: str | None) -> None:
        if text:
            self.oxymus.connection.add_capture(text)

    def action_toggle_pause(self) -> None:
        """Pause automation (asking until when), or resume it at once when it is paused."""
        connection = self.oxymus.connection
        if not connection.ready:
            self.notify("Not connected to the daemon.", severity="warning", timeout=4)
            return
        if connection.pause is not None:
            connection.resume()
            return
        dialog = LineInputScreen("Pause: nothing runs by itself until…",
                                 placeholder="2h, 14:00, tomorrow 9:00 — empty: until you resume",
                                 hint="Proposals still queue · Enter pauses · Escape cancels", allow_empty=True)
        self.app.push_screen(dialog, self._pause)

    def _pause(self, until: str | None) -> None:
        if until is not None:
            self.oxymus.connection.set_pause(until or None)

    @on(CaptureNotStored)
    def _not_stored(self, message: CaptureNotStored) -> None:
        if self.is_active:  # every section hears it; the one in front says it
            self.notify(f"Kept in memory, tried again before quitting: {message.reason}", title="Capture not saved yet",
                        severity="error", timeout=10)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one("#status", StatusBar)

    @on(Connecting)
    def _connecting(self, message: Connecting) -> None:
        self.status_bar.show_connecting(message.socket, message.starting)

    @on(Connected)
    def _connected(self, message: Connected) -> None:
        self.status_bar.show_connected()

    @on(Disconnected)
    def _disconnected(self, message: Disconnected) -> None:
        self.status_bar.show_disconnected(message.socket, message.reason, message.retry_in)

    @on(RefreshStarted)
    def _refresh_started(self, message: RefreshStarted) -> None:
        self.status_bar.show_refreshing(True)

    @on(RefreshFinished)
    def _refresh_finished(self, message: RefreshFinished) -> None:
        self.status_bar.show_refreshing(False)

    @on(WaitingCounted)
    def _waiting_counted(self, message: WaitingCounted) -> None:
        self.status_bar.show_waiting(message.waiting, message.snoozed)

    @on(LlmStatusChanged)
    def _llm_status(self, message: LlmStatusChanged) -> None:
        self.status_bar.show_llm(message.status)

    @on(DraftingChanged)
    def _drafting(self, message: DraftingChanged) -> None:
        self.status_bar.show_drafting(message.drafting)

    @on(PauseChanged)
    def _pause_changed(self, message: PauseChanged) -> None:
        self.status_bar.show_pause(message.pause, self.oxymus.clock())

    @on(PauseSet)
    def _pause_set(self, message: PauseSet) -> None:
        if self.is_active:
            until = pause_text(message.pause, self.oxymus.clock()).removeprefix("PAUSED")
            self.notify(f"Paused{until}: nothing runs by itself; "
                        "proposals still queue. P resumes.", timeout=5)

    @on(Resumed)
    def _resumed(self, message: Resumed) -> None:
        if self.is_active:
            stale = f"; {message.expired} stale proposal{'s' if message.expired != 1 else ''} expired" if message.expired else ""
            self.notify(f"Resumed{stale}.", timeout=6)

    @on(PauseFailed)
    def _pause_failed(self, message: PauseFailed) -> None:
        if self.is_active:
            self.notify(message.reason, title="Not paused" if message.verb == "pause" else "Not resumed",
                        severity="error", timeout=8)
