"""How a plan looks: the next actions (a list grouped by section, indented by depth), and
texts for the goals, the publishing order and the parts not understood. Render only.
"""

from __future__ import annotations

from rich.text import Text

from oxymus.plans import PlansDocument
from oxymus.tui.widgets.nav_table import NavTable

STATUS_STYLE = {"published": "green", "scheduled": "cyan", "draft": "yellow", "proposed": "", "dropped": "dim strike"}
SECTION_KEY = "§"  # row keys of section headings start with it (they are not actions)


def section_title(path: tuple[str, ...]) -> str:
    return " › ".join(path) or "(before the first heading)"


def action_text(text: str, done: bool, done_date: str | None, depth: int) -> Text:
    line = Text("  " * depth)
    line.append("[x] " if done else "[ ] ", style="green" if done else "bold")
    line.append(text, style="dim" if done else "")
    if done_date:
        line.append(f"  ✓ {done_date}", style="dim green")
    return line


def goals_text(doc: PlansDocument) -> Text:
    out = Text("Goals\n", style="bold")
    if not doc.goals:
        out.append("  none written down", style="dim")
    for i, goal in enumerate(doc.goals):
        mark = "" if goal.done is None else ("[x] " if goal.done else "[ ] ")
        out.append(("\n" if i else "") + f"  • {mark}{goal.text}")
    return out


def proposals_text(doc: PlansDocument) -> Text:
    out = Text("Publishing order\n", style="bold")
    if not doc.proposals:
        out.append("  nothing queued", style="dim")
    for i, p in enumerate(doc.proposals):
        out.append(("\n" if i else "") + f"  {p.position}. ")
        out.append(p.status, style=STATUS_STYLE.get(p.status, ""))
        if p.date:
            out.append(f" {p.date}", style="dim")
        out.append(f"  {p.title}")
    return out


def unparsed_text(doc: PlansDocument) -> Text:
    out = Text("Not understood (kept as written)\n", style="bold yellow")
    for i, u in enumerate(doc.unparsed):
        first = u.text.strip().splitlines()[0] if u.text.strip() else ""
        out.append(("\n" if i else "") + f"  line {u.line}: ", style="yellow")
        out.append(first[:80])
        out.append(f"\n    {u.reason}", style="dim")
    return out


class ActionsTable(NavTable):
    """The next actions in file order under their section headings; keyed by action id."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, show_header=False, **kwargs)
        self.document: PlansDocument | None = None

    def on_mount(self) -> None:
        if not self.columns:
            self.add_column("action", key="action")

    def show(self, doc: PlansDocument) -> None:
        """Replace the rows, keeping the cursor on the same action (or row) when it is still there."""
        keep = None
        if self.row_count and self.cursor_row is not None:
            try:
                keep = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
            except Exception:
                keep = None
        row = self.cursor_row
        self.document = doc
        self.clear()
        if not self.columns:
            self.add_column("action", key="action")
        section: tuple[str, ...] | None = None
        seen: set[str] = set()
        for action in doc.actions:
            if action.section != section:
                section = action.section
                self.add_row(Text(section_title(section), style="bold"), key=f"{SECTION_KEY}{action.line}")
            key = action.id if action.id not in seen else f"{action.id}@{action.line}"  # the same text twice
            seen.add(action.id)
            self.add_row(action_text(action.text, action.done, action.done_date, action.depth), key=key)
        target = None
        if keep is not None:
            try:
                target = self.get_row_index(keep)
            except Exception:
                target = None
        if target is None:
            target = min(row or 0, max(self.row_count - 1, 0))
            if self.row_count and self._key_at(target).startswith(SECTION_KEY) and target + 1 < self.row_count:
                target += 1  # land on an action, not on a heading
        if self.row_count:
            self.move_cursor(row=target, animate=False)

    def action_first(self) -> None:
        """`g`/Home: the first action (the first row is its section's heading)."""
        super().action_first()
        if self.row_count > 1 and self._key_at(0).startswith(SECTION_KEY):
            self.move_cursor(row=1)

    def _key_at(self, row: int) -> str:
        return str(self.coordinate_to_cell_key((row, 0)).row_key.value)

    @property
    def selected_id(self) -> str | None:
        """The action under the cursor (None on a section heading or when empty)."""
        if not self.row_count or self.cursor_row is None:
            return None
        key = self._key_at(self.cursor_row)
        return None if key.startswith(SECTION_KEY) else key.split("@")[0]
