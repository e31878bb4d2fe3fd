"""Where notifications (Textual's toasts) show: never over the row the person acts on.

Textual docks its toast rack at the bottom right, over a table's lower rows and the preview
panes. Oxymus makes toasts compact (app.tcss) and places the current screen's rack on the side
of the focused list's cursor row that has more room (under the section bar when the cursor is in
the lower half, at the bottom over the footer's keys when it is in the upper half) and caps its
height to the rows between the bar or the screen's foot and the cursor row, so a toast never
covers it. With no list focused, toasts sit at the bottom. The app calls `place` after every notification, cursor move, focus change and resize.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable
from textual.widgets._toast import ToastRack  # the rack every screen has (Textual's notification area)

if TYPE_CHECKING:
    from oxymus.tui.link.messages import NotificationPosted

TOP = 1  # the section bar: toasts go under it
COMPACT_BELOW = 32  # screen rows under which the missed-notifications toast is cut to three lines
BOTTOM = 0  # the footer: a toast may cover its keys for a moment (the status bar above it says what waits)


def cursor_region(widget: Widget | None) -> Region | None:
    """The focused table's cursor row on the screen (None: no table focused, or an empty one)."""
    if not isinstance(widget, DataTable) or not widget.row_count or not widget.display:
        return None
    row = widget._get_row_region(widget.cursor_row)  # in the table's virtual space, header included
    top = widget.content_region.y + row.y - int(widget.scroll_offset.y)
    return Region(widget.content_region.x, top, widget.content_region.width, max(1, row.height))


def place(screen: Screen, focused: Widget | None) -> None:
    """Dock the screen's toast rack away from the focused list's cursor row."""
    try:
        rack = screen.get_child_by_type(ToastRack)
    except Exception:  # a screen being built or torn down has none yet: nothing to place
        return
    height = screen.size.height
    cursor = cursor_region(focused)
    styles = rack.styles
    if cursor is None or cursor.y < height // 2:
        room = height - BOTTOM - (cursor.bottom if cursor is not None else 0)
        styles.dock = "bottom"
        styles.align_vertical = "bottom"
        styles.margin = (0, 0, BOTTOM, 0)
    else:
        room = cursor.y - TOP
        styles.dock = "top"
        styles.align_vertical = "top"
        styles.margin = (TOP, 0, 0, 0)
    styles.max_height = max(0, room)


def for_notification(n: "NotificationPosted") -> tuple[str, str, str, float]:
    """A daemon notification as a toast: (text, title, severity, seconds shown). An approval says how to decide
    here; a critical one stays longer."""
    lines = [n.body] if n.body else []
    if n.decides:
        lines.append("press 5 (Approvals) to decide")
    severity = "error" if n.urgency == "critical" else "warning" if n.kind == "approval" else "information"
    return "\n".join(lines) or n.title, n.title, severity, 20.0 if n.urgency == "critical" or n.decides else 8.0


def for_missed(count: int, titles: tuple[str, ...], screen_width: int = 80, screen_height: int = 40) -> tuple[str, str]:
    """The toast at connect when notifications reached neither the desktop nor a TUI: (title, text)."""
    # Short: it sits over the day. Textual's toast is 60 columns, at most half the
    # screen, less its border and padding; a title gets one line of that.
    inner = min(60, screen_width // 2) - 4
    if screen_height < COMPACT_BELOW:
        # Three lines, not six: on a small screen it covers the rows the person came to read for its 20 s.
        head = f"{count} missed notification{'s' if count != 1 else ''}"
        rest = f"and {count - 1} more · R: the morning review" if count > 1 else "R: the morning review lists it"
        return head, "\n".join([f"· {_cut(titles[0], inner - 2)}" if titles else "", rest]).strip()
    head = f"{count} could not be shown"
    why = " (no desktop, no TUI open)"
    head += why if len(head + why) <= inner else ""  # a wrapped first line would push the titles down
    shown = [f"· {_cut(t, inner - 2)}" for t in titles[:2]]
    more = [f"  and {count - 2} more"] if count > 2 else []
    return "Missed notifications", "\n".join([head, *shown, *more, "R: the morning review lists them all"])


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
