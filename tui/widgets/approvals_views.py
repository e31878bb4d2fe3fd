"""How the approval queue looks: the table of waiting actions, an action's preview, and its story. Render only.

The story is `oxymus explain`'s text (oxymus.actions.explain), so the CLI and the TUI tell
an action's decision path and history in the same words; the preview is rendered
here because a diff reads better coloured.
"""

from __future__ import annotations

import datetime as dt

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from oxymus.actions.effects import Preview
from oxymus.actions.explain import explain_text
from oxymus.actions.model import Action, ActionDetail
from oxymus.kernel.textfmt import duration, one_line, who
from oxymus.tui.widgets.columns import Column, fit
from oxymus.tui.widgets.nav_table import NavTable
from oxymus.tui.widgets.status_bar import local_when

RISK_STYLE = {"low": "green", "medium": "yellow", "high": "bold red"}
PENDING_WORDS = {"approve": "approving…", "deny": "denying…", "snooze": "snoozing…", "undo": "undoing…"}
STORY_HEADINGS = ("Policy decision:", "History:", "Same trace:", "Payload:")
# Column widths (tui/widgets/columns.py): the summary takes the slack; the kind goes first when the room is short
# (the detail below says it), then the proposer is cut.
RISK_W, AGE_W, STATUS_W = 6, 6, 17
KIND_MAX, BY_MAX = 24, 32
SUMMARY_LEAST, BY_LEAST = 28, 10


def seconds_since(iso_utc: str, now: float) -> float:
    return now - dt.datetime.fromisoformat(iso_utc).timestamp()


def risk_text(risk: str) -> Text:
    return Text(risk, style=RISK_STYLE.get(risk, ""))


def status_text(action: Action, now: float, pending: str | None = None) -> Text:
    """What the row waits for: a decision being sent, the end of a snooze, its time (not_before), or its expiry."""
    if pending:
        return Text(PENDING_WORDS.get(pending, "sending…"), style="italic")
    if action.status == "snoozed" and action.snoozed_until:
        return Text(f"snoozed → {local_when(action.snoozed_until, now)}", style="cyan")
    if action.not_before and seconds_since(action.not_before, now) < 0:  # approved, it still waits for this time
        return Text(f"held until {local_when(action.not_before, now)}", style="cyan")
    if action.expires_at:
        left = -seconds_since(action.expires_at, now)
        return Text(f"expires in {duration(max(left, 0))}", style="bold red" if left < 3600 else "")
    return Text("")


def age_text(action: Action, now: float) -> Text:
    return Text(duration(max(seconds_since(action.created_at, now), 0)), style="dim")


def preview_text(preview: Preview) -> RenderableType:
    """The preview as the person should read it: a diff with +/- coloured, a message or event as written."""
    out = Text(preview.summary + "\n", style="bold")
    body = preview.body.rstrip("\n")
    if not body:
        return out.append("(no details)", style="dim")
    if preview.format == "diff":
        for i, line in enumerate(body.splitlines()):
            if line.startswith(("+++", "---")):
                style = "bold"
            elif line.startswith("+"):
                style = "green"
            elif line.startswith("-"):
                style = "red"
            elif line.startswith("@@"):
                style = "cyan"
            else:
                style = ""
            out.append(("\n" if i else "") + line, style=style)
        return out
    label = {"message": "Message", "event": "Event"}.get(preview.format)
    if label:
        out.append(f"{label}:", style="dim")
        # Indented as a block, so a long line wraps under itself, not at the pane's edge.
        return Group(out, Padding(Text(body), (0, 0, 0, 2)))
    return out.append(body)


def story_text(detail: ActionDetail) -> Text:
    """The reason, inputs, decision path, history and payload, in `oxymus explain`'s words (local times)."""
    lines = explain_text(detail.model_dump(mode="json"), None, preview=False)
    out = Text()
    for i, line in enumerate(lines[3:]):  # the first three repeat the row and the preview's summary
        out.append(("\n" if i else "") + line, style="bold" if line in STORY_HEADINGS else "")
    return out


class ApprovalsTable(NavTable):
    """The queue, oldest first, keyed by action id; keeps the cursor on the same action across updates."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.rows_shown: list[tuple[Action, str | None]] = []
        self.now = 0.0

    def on_resize(self) -> None:
        if self.rows_shown:
            self._render_rows()

    def show(self, rows: list[tuple[Action, str | None]], now: float) -> None:
        """Replace the rows: (action, the decision being sent for it or None), in order."""
        self.rows_shown = rows
        self.now = now
        self._render_rows()

    @property
    def selected_id(self) -> str | None:
        if not self.row_count or self.cursor_row is None:
            return None
        try:
            return str(self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value)
        except Exception:
            return None

    def widths(self) -> dict[str, int]:
        """The columns' widths for the rows shown at the table's width now (a column left out has no key)."""
        actions = [a for a, _ in self.rows_shown]
        kind_w = min(KIND_MAX, max([len(a.kind) for a in actions] + [4]))
        by_w = min(BY_MAX, max([len(a.proposer.label()) for a in actions] + [2]))
        summary_w = max([len(a.preview.summary) for a in actions] + [7])
        return fit(self.size.width, [
            Column("risk", RISK_W, RISK_W), Column("status", STATUS_W, STATUS_W), Column("age", AGE_W, AGE_W),
            Column("by", by_w, min(by_w, BY_LEAST)), Column("kind", kind_w, kind_w, optional=True),
            Column("summary", summary_w, SUMMARY_LEAST, flex=1),
        ])

    def tick(self, now: float) -> None:
        """Ages and expiries as of `now`, in place (no refetch, no re-measuring)."""
        self.now = now
        for action, pending in self.rows_shown:
            if action.id in self.rows:
                self.update_cell(action.id, "age", age_text(action, now))
                self.update_cell(action.id, "status", status_text(action, now, pending))

    def _render_rows(self) -> None:
        keep, row = self.selected_id, self.cursor_row
        widths = self.widths()
        self.clear(columns=True)
        titles = {"risk": "Risk", "kind": "Kind", "summary": "Summary", "by": "By", "age": "Age", "status": "Waits"}
        for key in ("risk", "kind", "summary", "by", "age", "status"):
            if key in widths:
                self.add_column(titles[key], width=widths[key], key=key)
        for action, pending in self.rows_shown:
            dim = "dim" if pending else ""
            cells = {
                "risk": risk_text(action.risk), "kind": Text(one_line(action.kind, widths.get("kind", 0)), style=dim),
                "summary": Text(one_line(action.preview.summary, widths["summary"]), style=dim),
                # "intake" where "agent:intake" would be cut; the preview below says "Proposed by agent:intake".
                "by": Text(who(action.proposer.label(), widths["by"]), style=dim),
                "age": age_text(action, self.now), "status": status_text(action, self.now, pending),
            }
            self.add_row(*(cells[key] for key in titles if key in widths), key=action.id)
        if not self.row_count:
            return
        target = self.get_row_index(keep) if keep is not None and keep in self.rows else min(row or 0, self.row_count - 1)
        self.move_cursor(row=target, animate=False)
