"""What every section shares: the title line, the status bar, the footer, `c` to capture, and listening to the connection."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from oxymus.tui.messages import Connected, Connecting, Disconnected, RefreshFinished, RefreshStarted
from oxymus.tui.screens.capture import CaptureScreen
from oxymus.tui.widgets import SectionBar, StatusBar

if TYPE_CHECKING:
    from oxymus.tui.app import OxymusApp


class SectionScreen(Screen):
    """A top-level section (Today, Inbox, later Plans, ...). Subclasses set SECTION and compose_body()."""

    SECTION = ""
    BINDINGS = [Binding("c", "capture", "Capture")]

    @property
    def oxymus(self) -> "OxymusApp":
        return cast("OxymusApp", self.app)

    def compose(self) -> ComposeResult:
        yield SectionBar(self.oxymus.section_tabs(), self.SECTION, id="section-bar")
        yield from self.compose_body()
        yield StatusBar(id="status")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        return iter(())

    def on_mount(self) -> None:
        self.oxymus.connection.listen(self)

    def on_unmount(self) -> None:
        self.oxymus.connection.unlisten(self)

    def action_capture(self) -> None:
        """Capture a thought, from any section: the dialog, then the connection's outbox."""
        self.app.push_screen(CaptureScreen(), self._captured)

    def _captured(self, text: str | None) -> None:
        if text:
            self.oxymus.connection.add_capture(text)

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
