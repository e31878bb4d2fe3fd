"""The Oxymus TUI: an App whose sections are screens (Textual modes), fed by one DaemonConnection.

    create_app(paths, start_daemon=True) -> OxymusApp   # used by the CLI and by tests
    run(paths) -> int                                    # `oxymus` / `oxymus tui`

The TUI reaches data only through the daemon (oxymus.async_client, oxymus.launcher);
it never opens the store. Adding a section: write screens/<name>.py with a
SectionScreen subclass and add a Section to SECTIONS.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from oxymus.paths import Paths
from oxymus.tui.connection import DaemonConnection
from oxymus.tui.screens.inbox import InboxScreen


@dataclass(frozen=True)
class Section:
    name: str  # the Textual mode name
    key: str  # the key that switches to it
    label: str
    screen: type[Screen]


SECTIONS: tuple[Section, ...] = (
    Section("inbox", "1", "Inbox", InboxScreen),
    # Later: Section("today", "2", "Today", TodayScreen), Plans, Approvals, Memory, Activity.
)


class OxymusApp(App[int]):
    TITLE = "Oxymus"
    CSS_PATH = "app.tcss"
    MODES = {s.name: s.screen for s in SECTIONS}
    DEFAULT_MODE = SECTIONS[0].name
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        *(Binding(s.key, f"section('{s.name}')", s.label, show=False) for s in SECTIONS),
    ]

    def __init__(self, connection: DaemonConnection) -> None:
        super().__init__()
        self.connection = connection

    def on_mount(self) -> None:
        self.run_worker(self.connection.run(), name="daemon-connection", group="connection", exit_on_error=False)

    def section_tabs(self) -> list[tuple[str, str, str]]:
        return [(s.name, s.key, s.label) for s in SECTIONS]

    def action_section(self, name: str) -> None:
        if self.current_mode != name:
            self.switch_mode(name)

    async def action_quit(self) -> None:
        self.exit(0)


def create_app(
    paths: Paths,
    *,
    start_daemon: bool = True,
    retry_initial: float = 0.5,
    retry_max: float = 5.0,
) -> OxymusApp:
    """The TUI for a profile. With start_daemon, the daemon is started (in the background) if it is not running."""
    connection = DaemonConnection(paths, start_daemon=start_daemon, retry_initial=retry_initial, retry_max=retry_max)
    return OxymusApp(connection)


def run(paths: Paths) -> int:
    app = create_app(paths)
    app.run()
    return app.return_code or 0
