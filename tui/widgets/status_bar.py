"""The one-line connection status at the bottom of every section."""

from __future__ import annotations

from textual.widgets import Static

REFRESHING = "refreshing…"


class StatusBar(Static):
    """Says plainly whether the daemon is reachable, and what the TUI is doing about it."""

    DEFAULT_CLASSES = "-connecting"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._line = ""
        self._refreshing = False

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

    def _set(self, state: str, text: str) -> None:
        self.remove_class("-connecting", "-connected", "-unreachable")
        self.add_class(state)
        self._line = text
        self._show()

    def _show(self) -> None:
        self.update(f"{self._line} — {REFRESHING}" if self._refreshing else self._line)

    @property
    def text(self) -> str:
        return str(self.render())
