"""A search or filter field inside a section: Escape leaves it, and it keeps the section keys until it was chosen.

A focused Input takes every printable key, so a field that has the focus only because
its section opened (Memory's search) would swallow the digits that switch sections.
`FieldInput.armed` says whether the person chose the field: `/` (the screen calls
`arm()`; pressed in the field itself, it arms it and is not typed), a click, or typing
into it. Until then the app's section keys (and `?`) are
not consumed: they switch sections (or open the help) as anywhere else. Leaving the
field (focus elsewhere, or the screen left) disarms it again.

Escape always leaves the field: to the first list shown on the screen (a NavTable), or
nowhere (the screen keeps the keys) when no list is shown. It never quits.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input

from oxymus.tui.widgets.nav_table import NavTable

HELP_KEY = "question_mark"
ARM_KEY = "slash"  # the key that chooses a search or filter field


class FieldInput(Input):
    HELP_GROUP = "In the search or filter box"

    BINDINGS = [Binding("escape", "leave", "Leave the box", show=False)]

    def __init__(self, *args, armed: bool = True, **kwargs) -> None:
        """`armed=False`: a field the screen focuses by itself; it passes the section keys on until chosen."""
        super().__init__(*args, **kwargs)
        self._armed = armed
        self._arms_on_focus = armed

    @property
    def armed(self) -> bool:
        return self._armed

    @armed.setter
    def armed(self, value: bool) -> None:
        if value != self._armed:
            self._armed = value
            if self.is_attached:
                self.screen.refresh_bindings()  # the footer's `/` comes and goes with it

    def arm(self) -> None:
        """The person chose this field (`/`): from now on every printable key types, digits too."""
        self.armed = True
        self.focus()

    def _passes(self, key: str) -> bool:
        if self.armed:
            return False
        return key in getattr(self.app, "section_keys", ()) or key == HELP_KEY

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if self._passes(key):
            return False
        return super().check_consume_key(key, character)

    async def _on_key(self, event: events.Key) -> None:
        if self._passes(event.key):
            event.prevent_default()  # not typed: the key goes on to the screen's and the app's bindings
            return
        if not self.armed and event.key == ARM_KEY:
            event.prevent_default()  # `/` chooses the field it is in, as it does from anywhere on the screen
            event.stop()
            self.armed = True
            return
        if event.is_printable:
            self.armed = True  # typing into it is choosing it

    def _on_click(self, event: events.Click) -> None:
        self.armed = True

    def _on_blur(self, event: events.Blur) -> None:
        self.disarm()

    def disarm(self) -> None:
        """Back to how it started: left, or its screen was (a screen switch does not blur the focused widget)."""
        self.armed = self._arms_on_focus

    def action_leave(self) -> None:
        """Escape: back to the screen's list, or to no widget at all when no list is shown."""
        target = first_list(self.screen)
        if target is not None:
            target.focus()
        else:
            self.screen.set_focus(None)


def shown(widget: Widget) -> bool:
    return all(getattr(node, "display", True) for node in widget.ancestors_with_self)


def first_list(screen) -> NavTable | None:
    """The first list the screen shows, if any."""
    return next((t for t in screen.query(NavTable) if shown(t)), None)
