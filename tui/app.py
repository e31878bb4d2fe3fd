"""The Oxymus TUI: an App whose sections are screens (Textual modes), fed by one DaemonConnection.

    create_app(paths, start_daemon=True) -> OxymusApp   # used by the CLI and by tests
    run(paths, start_daemon=True) -> int                 # `oxymus` / `oxymus tui [--no-start]`

The TUI reaches data only through the daemon (oxymus.client.async_client, oxymus.client.launcher);
it never opens the store itself. The one exception is the capture fallback `oxymus
capture` uses too (oxymus.client.capture): a capture typed while no daemon answers is
written to disk, never kept only in memory. Adding a section: write screens/<name>.py with a
SectionScreen subclass, add a Section to SECTIONS, and its standing queries to link/queries.py.

A section's screen module is imported when the section is first shown (Textual builds a mode's
screen on the first switch to it), the reviews' and `?`'s when first opened: the first paint of
Today imports Today and what the link needs, not every screen and its models. The keys and the
palette's commands for the sections are declared here, so they work before their screens exist.

The colour theme is `[ui] theme` in config.toml, applied at start and saved when picked
from the command palette (theme.py).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable

from textual import events, on
from textual.app import App
from textual.binding import Binding
from textual.notifications import Notification, Notify
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import DataTable

from oxymus.profile.config import DEFAULT_THEME
from oxymus.profile.paths import Paths
from oxymus.tui import theme as themes
from oxymus.tui import toasts
from oxymus.tui.commands import OxymusCommands, without_textual_keys
from oxymus.tui.link.connection import DaemonConnection, first_page
from oxymus.tui.link.messages import MissedCounted, NotificationPosted, ThemeNotSaved, ThemeSaved
from oxymus.tui.link.queries import STANDING


@dataclass(frozen=True)
class Section:
    name: str  # the Textual mode name
    key: str  # the key that switches to it
    label: str
    screen: str  # "module:Class", imported when the section is first shown

    def build(self) -> Screen:
        return screen_class(self.screen)()


def screen_class(ref: str) -> type[Screen]:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


SECTIONS: tuple[Section, ...] = (
    Section("today", "1", "Today", "oxymus.tui.screens.today:TodayScreen"),  # the first is the screen shown on start
    Section("inbox", "2", "Inbox", "oxymus.tui.screens.inbox:InboxScreen"),
    Section("memory", "3", "Memory", "oxymus.tui.screens.memory:MemoryScreen"),
    Section("plans", "4", "Plans", "oxymus.tui.screens.plans:PlansScreen"),
    Section("approvals", "5", "Approvals", "oxymus.tui.screens.approvals:ApprovalsScreen"),
    Section("activity", "6", "Activity", "oxymus.tui.screens.activity:ActivityScreen"),
    Section("records", "7", "Records", "oxymus.tui.screens.records:RecordsScreen"),
    Section("metrics", "8", "Metrics", "oxymus.tui.screens.metrics:MetricsScreen"),
)
REVIEW = "oxymus.tui.screens.review:ReviewScreen"
WEEKLY = "oxymus.tui.screens.weekly:WeeklyReviewScreen"


class OxymusApp(App[int]):
    TITLE = "Oxymus"
    CSS_PATH = "app.tcss"
    MODES = {s.name: s.build for s in SECTIONS}
    DEFAULT_MODE = SECTIONS[0].name
    COMMANDS = App.COMMANDS | {OxymusCommands}
    # The footer shows a section's own keys and `?`; these work everywhere and are listed by `?`.
    BINDINGS = [
        Binding("question_mark", "help", "Keys", tooltip="Keys: this list"),
        Binding("R", "review", "Morning review", show=False, tooltip="Morning review: the day, step by step"),
        Binding("W", "weekly_review", "Weekly review", show=False, tooltip="Weekly review: the week, its questions, its proposals"),
        Binding("q", "quit", "Quit", show=False, tooltip="Quit (unsent captures are saved)"),
        *(Binding(s.key, f"section('{s.name}')", s.label, show=False, tooltip=f"Go to {s.label}") for s in SECTIONS),
    ]

    def __init__(self, connection: DaemonConnection, clock: Callable[[], float] = time.time,
                 theme: str = DEFAULT_THEME, theme_problem: str | None = None, review: bool | str = False) -> None:
        super().__init__()
        self.connection = connection
        # open straight into a review: True or "morning" (`oxymus review morning`), "weekly" (`oxymus review weekly`)
        self.start_review = "morning" if review is True else review
        # Wall-clock seconds for what screens display (ages, "now"); tests pass a frozen one.
        self.clock = clock
        self._quit_anyway = False  # set once the person was told captures would be lost
        self._missed_told = 0  # missed notifications the person was last told of (a toast only when there are more)
        self._missed_toast: Notification | None = None  # taken down when the morning review, which lists them, opens
        self.theme = theme  # `[ui] theme` (validated against Textual's themes when the config was read)
        self._theme_problem = theme_problem
        self._saved_theme = theme  # what config.toml says (or will once the daemon saved it)

    def on_mount(self) -> None:
        self.connection.first_page = first_page(self.size.height)  # before it connects: the inbox it loads first
        self.connection.listen(self)  # the answers to saving a theme
        self.theme_changed_signal.subscribe(self, self._theme_picked)
        if self._theme_problem:
            self.notify(self._theme_problem, title="Theme not read", severity="error", timeout=15, markup=False)
        self.run_worker(self.connection.run(), name="daemon-connection", group="connection", exit_on_error=False)
        if self.start_review == "weekly":
            self.action_weekly_review()
        elif self.start_review:
            self.action_review()

    # ---- toasts never cover the row the person acts on (toasts.py) --------------------

    def notify(self, message: str, **kwargs) -> None:  # type: ignore[override]
        super().notify(message, **kwargs)
        self._place_toasts()

    # ---- the daemon's notifications: a toast and the terminal bell (daemon/notices.py) ----

    def on_notification_posted(self, message: NotificationPosted) -> None:
        text, title, severity, timeout = toasts.for_notification(message)
        self.notify(text, title=title, severity=severity, timeout=timeout, markup=False)
        self.bell()

    def on_missed_counted(self, message: MissedCounted) -> None:
        on = type(self.screen)
        if message.missed > self._missed_told and f"{on.__module__}:{on.__qualname__}" != REVIEW:  # never imports it
            title, text = toasts.for_missed(message.missed, message.titles, self.size.width, self.size.height)
            self._missed_toast = Notification(text, title=title, severity="warning", timeout=20)
            self.post_message(Notify(self._missed_toast))
            self._place_toasts()
        self._missed_told = message.missed

    def _take_down_missed_toast(self) -> None:
        """The morning review lists the missed notifications: the toast saying so would only cover its keys."""
        if self._missed_toast is not None:
            self._unnotify(self._missed_toast)  # as Textual's own toast does when clicked
            self._missed_toast = None

    @on(DataTable.RowHighlighted)
    @on(events.DescendantFocus)
    @on(events.Resize)
    def _moved(self, _message) -> None:
        self.call_after_refresh(self._place_toasts)  # once the table has scrolled to its cursor

    def _place_toasts(self) -> None:
        if self.screen_stack:
            toasts.place(self.screen, self.focused)

    def action_review(self) -> None:
        """`R` and the palette's "Morning review": today's review, at the step where it was left."""
        review = screen_class(REVIEW)
        self._take_down_missed_toast()
        if not isinstance(self.screen, review):
            self.push_screen(review())

    def action_weekly_review(self) -> None:
        """`W` and the palette's "Weekly review": the week's review, at the step where it was left."""
        weekly = screen_class(WEEKLY)
        if not isinstance(self.screen, weekly):
            self.push_screen(weekly())

    def _theme_picked(self, theme: Theme) -> None:
        """A theme was picked (the command palette's Theme): it shows at once and is saved in config.toml."""
        if theme.name != self._saved_theme:
            self._saved_theme = theme.name
            self.connection.live.send(themes.SAVE, theme=theme.name)

    @on(ThemeSaved)
    def _theme_saved(self, message: ThemeSaved) -> None:
        result = message.result
        if result.changed:
            self.notify(f"Theme {result.theme} saved as [ui] theme in {os.path.basename(result.path)}.", timeout=5,
                        markup=False)

    @on(ThemeNotSaved)
    def _theme_not_saved(self, message: ThemeNotSaved) -> None:
        self._saved_theme = None  # picking it again tries again
        self.notify(f"{message.theme} is shown until you quit, but it was not saved: {message.reason}",
                    title="Theme not saved", severity="error", timeout=15, markup=False)

    def section_tabs(self) -> list[tuple[str, str, str]]:
        return [(s.name, s.key, s.label) for s in SECTIONS]

    @property
    def section_keys(self) -> frozenset[str]:
        """The keys that switch sections (a field the person has not chosen yet lets them through)."""
        return frozenset(s.key for s in SECTIONS)

    def action_help(self) -> None:
        """`?`: the keys of the screen in front, grouped (not over the help itself)."""
        from oxymus.tui.screens.help import HelpScreen, key_groups

        if isinstance(self.screen, HelpScreen):
            return
        title = getattr(self.screen, "help_title", "") or type(self.screen).__name__.removesuffix("Screen")
        self.push_screen(HelpScreen(title, key_groups(self.screen, title)))

    def get_system_commands(self, screen: Screen):  # Textual's own (theme, screenshot, ...), its "Keys" given way to `?`
        yield from without_textual_keys(super().get_system_commands(screen))

    def action_section(self, name: str) -> None:
        if self.current_mode != name:
            self.switch_mode(name)

    async def action_quit(self) -> None:
        """Quit, never holding a capture that is only in memory: the outbox goes to disk first."""
        failed = await asyncio.to_thread(self.connection.save_outbox)
        if failed and not self._quit_anyway:
            self._quit_anyway = True
            reason = next(iter(failed.values()))
            self.notify(f"{len(failed)} capture(s) could not be saved ({reason}). Press q again to quit and lose them.",
                        title="Not saved", severity="error", timeout=30)
            return
        self.exit(0)


def create_app(
    paths: Paths,
    *,
    start_daemon: bool = True,
    retry_initial: float = 0.5,
    retry_max: float = 5.0,
    clock: Callable[[], float] | None = None,
    review: bool | str = False,
) -> OxymusApp:
    """The TUI for a profile. With start_daemon, the daemon is started (in the background) if it is not running.

    `clock` (tests only) replaces time.time for what the screens display, so a
    screenshot of ages and times can be the same on every run.
    """
    connection = DaemonConnection(paths, start_daemon=start_daemon, retry_initial=retry_initial, retry_max=retry_max,
                                  queries=STANDING)
    theme, problem = themes.configured(paths)
    return OxymusApp(connection, clock=clock or time.time, theme=theme, theme_problem=problem, review=review)


def run(paths: Paths, *, start_daemon: bool = True, review: bool | str = False) -> int:
    app = create_app(paths, start_daemon=start_daemon, review=review)
    app.run()
    # However it ended (q, a signal, a crash in a screen), what was typed goes to disk.
    failed = app.connection.save_outbox()
    for capture_id, reason in failed.items():
        print(f"oxymus: capture {capture_id} was not saved: {reason}", file=sys.stderr)
    return 1 if failed else app.return_code or 0
