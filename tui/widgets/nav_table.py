"""The one list behaviour every table of the TUI shares: vim and lazygit keys.

Every list in the TUI is a `NavTable` (a DataTable with a row cursor), so the same keys
move in all of them: `j`/`k` (and the arrows) one row, `g`/Home to the first row, `G`/End
to the last, PgUp/PgDn a page. A subclass keeps its own extra keys (e.g. Enter to open).
The bindings carry descriptions because the help screen (`?`) lists them as "Lists".
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable


class NavTable(DataTable):
    HELP_GROUP = "Lists"  # the help screen's heading for the keys declared here

    BINDINGS = [
        Binding("down,j", "cursor_down", "Next row", show=False),
        Binding("up,k", "cursor_up", "Previous row", show=False),
        Binding("home,g", "first", "First row", show=False),
        Binding("end,G", "last", "Last row", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", False)
        super().__init__(**kwargs)

    def action_first(self) -> None:
        if self.row_count:
            self.action_scroll_top()

    def action_last(self) -> None:
        if self.row_count:
            self.action_scroll_bottom()
