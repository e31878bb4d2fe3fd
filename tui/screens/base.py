"""What every section shares: the title line, the status bar, the footer, and listening to the connection."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from oxymus.tui.messages import Connected, Connecting, Disconnected
from oxymus.tui.widgets import SectionBar, StatusBar

if TYPE_CHECKING:
    from oxymus.tui.app import OxymusApp


class SectionScreen(Screen):
    """A top-level section (Inbox, later Today, Plans, ...). Subclasses set SECTION and compose_body()."""

    SECTION = ""

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
