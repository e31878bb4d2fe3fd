"""How memory looks: the results list, a record's version history, and the small texts they share.

Both tables are keyed by id (record id, version number), keep the row under the
cursor across re-renders, and render only what they are given.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from oxymus.kernel.textfmt import local_time, one_line
from oxymus.memory import records as mem
from oxymus.tui.widgets.nav_table import NavTable

TIER_STYLE = {"hot": "bold #ff8700", "warm": "#d7af00", "cold": "#5f87af"}
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def short_ref(ref: str | None) -> str:
    """A provenance reference short enough for a column: a ULID's first 8 characters, "· email" for a
    Message-ID (its end is a mail server's name: "…il.gmail.com>" says nothing), else its end (a file's name)."""
    if not ref:
        return ""
    if _ULID.match(ref):
        return ref[:8] + "…"
    if ref.startswith("<") and ref.endswith(">") and "@" in ref:
        return "· email"
    return ref if len(ref) <= 14 else "…" + ref[-13:]


def provenance_line(provenance: mem.Provenance, full: bool = False) -> str:
    """ "from capture 01JD4KQX…", "from user"; `full` gives the whole reference and the note."""
    ref = provenance.ref if full else short_ref(provenance.ref)
    line = f"from {provenance.source}" + (f" {ref}" if ref else "")
    if full and provenance.note:
        line += f" — {provenance.note}"
    return line


def tier_text(tier: str) -> Text:
    return Text(tier, style=TIER_STYLE.get(tier, ""))


def tags_text(tags: list[str]) -> str:
    return " ".join(f"#{t}" for t in tags)


def version_note(version: mem.MemoryVersion) -> str:
    """Why a version exists: its note ("created", "forgotten", "aged from hot …"), else "edited"."""
    return version.note or "edited"


def budget_text(report: mem.BudgetReport) -> str:
    text = f"hot {report.used_words}/{report.limit_words} words"
    return text + " — over budget" if report.over else text


def _keep_cursor(table: DataTable) -> str | None:
    if table.row_count and table.cursor_row is not None:
        try:
            return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        except Exception:
            return None
    return None


class MemoryTable(NavTable):
    """Search results, best first; two lines a record: title and tags, then the snippet."""

    BINDINGS = [Binding("enter", "select_cursor", "Open")]
    TIER_WIDTH, KIND_WIDTH, FROM_WIDTH = 4, 11, 14

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.hits: dict[str, mem.SearchHit] = {}
        self.order: list[str] = []
        self._text_width = 0

    def on_mount(self) -> None:
        self._render_rows()

    def on_resize(self) -> None:
        if self._wanted_text_width() != self._text_width:
            self._render_rows()

    def show(self, hits: list[mem.SearchHit]) -> None:
        self.hits = {h.id: h for h in hits}
        self.order = [h.id for h in hits]
        self._render_rows()

    def drop(self, record_id: str) -> None:
        if self.hits.pop(record_id, None) is not None:
            self.order.remove(record_id)
            self._render_rows()

    @property
    def selected(self) -> mem.SearchHit | None:
        key = _keep_cursor(self)
        return self.hits.get(key) if key else None

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0:
            self.screen.focus_previous()  # from the top row, up goes back to what is above (the search field)
            return
        super().action_cursor_up()

    def _wanted_text_width(self) -> int:
        # Four columns with one cell of padding each side, and room for a vertical scrollbar.
        return max(12, self.size.width - self.TIER_WIDTH - self.KIND_WIDTH - self.FROM_WIDTH - 8 - 2)

    def _render_rows(self) -> None:
        keep = _keep_cursor(self)
        width = self._text_width = self._wanted_text_width()
        self.clear(columns=True)
        self.add_column("Tier", width=self.TIER_WIDTH, key="tier")
        self.add_column("Kind", width=self.KIND_WIDTH, key="kind")
        self.add_column("Record", width=width, key="record")
        self.add_column("From", width=self.FROM_WIDTH, key="from")
        for record_id in self.order:
            hit = self.hits[record_id]
            line = Text(one_line(hit.title, width), style="bold")
            tags = tags_text(hit.tags)
            if tags and line.cell_len + 2 < width:
                line.append("  " + one_line(tags, width - line.cell_len - 2), style="dim")
            snippet = one_line(hit.snippet, width)
            line.append("\n" + snippet, style="italic dim")
            source = Text(f"from {hit.source}")
            ref = short_ref(hit.ref)
            if ref:
                source.append("\n" + ref, style="dim")
            self.add_row(tier_text(hit.tier), Text(one_line(hit.kind, self.KIND_WIDTH)), line, source,
                         height=2, key=record_id)
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep), animate=False)


class HistoryTable(NavTable):
    """A record's versions, newest first: number, when, who (and the note, on a second line)."""

    WHEN_WIDTH = 16  # "YYYY-MM-DD HH:MM"

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.versions: dict[str, mem.MemoryVersion] = {}

    def show(self, history: list[mem.MemoryVersion], newest: bool = False) -> None:
        """Replace the versions shown; the cursor stays on the same version unless `newest`."""
        keep = None if newest else _keep_cursor(self)
        self.versions = {str(v.version): v for v in history}
        self.clear(columns=True)
        self.add_column("v", width=3, key="v")
        self.add_column("When", width=self.WHEN_WIDTH, key="when")
        self.add_column("By", key="by")
        for version in sorted(history, key=lambda v: -v.version):
            who = Text(version.actor)
            who.append("\n" + version_note(version), style="dim italic")
            self.add_row(Text(str(version.version)), Text(local_time(version.changed_at)), who,
                         height=2, key=str(version.version))
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep), animate=False)
        elif self.row_count:
            self.move_cursor(row=0, animate=False)

    @property
    def selected(self) -> mem.MemoryVersion | None:
        key = _keep_cursor(self)
        return self.versions.get(key) if key else None
