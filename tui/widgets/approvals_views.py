"""How the approval queue looks: the table of waiting actions, an action's preview, and its story. Render only.

The story is `oxymus explain`'s text (oxymus.actions.explain), so the CLI and the TUI tell
an action's decision path and history in the same words; the preview is rendered
here because a diff reads better coloured.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text

from oxymus.actions.effects import Preview
from oxymus.actions.explain import explain_text
from oxymus.actions.model import Action, ActionDetail
from oxymus.kernel.textfmt import duration, one_line
from oxymus.tui.widgets.nav_table import NavTable
from oxymus.tui.widgets.status_bar import local_when

RISK_STYLE = {"low": "green", "medium": "yellow", "high": "bold red"}
PENDING_WORDS = {"approve": "approving…", "deny": "denying…", "snooze": "snoozing…", "undo": "undoing…"}
STORY_HEADINGS = ("Policy decision:", "History:", "Same trace:", "Payload:")
# Column widths; the summary takes what is left.
RISK_W, AGE_W, STATUS_W = 6, 6, 17
KIND_MAX, BY_MAX = 18, 14


def seconds_since(iso_utc: str, now: float) -> float:
    return now - dt.datetime.fromisoformat(iso_utc).timestamp()


def risk_text(risk: str) -> Text:
    return Text(risk, style=RISK_STYLE.get(risk, ""))


def status_text(action: Action, now: float, pending: str | None = None) -> Text:
    """What the row waits for: a decision being sent, the end of a snooze, or its expiry."""
    if pending:
        return Text(PENDING_WORDS.get(pending, "sending…"), style="italic")
    if action.status == "snoozed" and action.snoozed_until:
        return Text(f"snoozed → {local_when(action.snoozed_until, now)}", style="cyan")
    if action.expires_at:
        left = -seconds_since(action.expires_at, now)
        return Text(f"expires in {duration(max(left, 0))}", style="bold red" if left < 3600 else "")
    return Text("")


def preview_text(preview: Preview) -> Text:
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
        out.append(f"{label}:\n", style="dim")
        return out.append("\n".join("  " + line for line in body.splitlines()))
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

    def _render_rows(self) -> None:
        keep, row = self.selected_id, self.cursor_row
        actions = [a for a, _ in self.rows_shown]
        kind_w = min(KIND_MAX, max([len(a.kind) for a in actions] + [4]))
        by_w = min(BY_MAX, max([len(a.proposer.label()) for a in actions] + [2]))
        # Six columns with one cell of padding each side, and room for a vertical scrollbar.
        summary_w = max(12, self.size.width - (RISK_W + kind_w + by_w + AGE_W + STATUS_W) - 12 - 2)
        self.clear(columns=True)
        self.add_column("Risk", width=RISK_W, key="risk")
        self.add_column("Kind", width=kind_w, key="kind")
        self.add_column("Summary", width=summary_w, key="summary")
        self.add_column("By", width=by_w, key="by")
        self.add_column("Age", width=AGE_W, key="age")
        self.add_column("Waits", width=STATUS_W, key="status")
        for action, pending in self.rows_shown:
            dim = "dim" if pending else ""
            self.add_row(
                risk_text(action.risk), Text(one_line(action.kind, kind_w), style=dim),
                Text(one_line(action.preview.summary, summary_w), style=dim),
                Text(one_line(action.proposer.label(), by_w), style=dim),
                Text(duration(max(seconds_since(action.created_at, self.now), 0)), style="dim"),
                status_text(action, self.now, pending), key=action.id,
            )
        if not self.row_count:
            return
        target = self.get_row_index(keep) if keep is not None and keep in self.rows else min(row or 0, self.row_count - 1)
        self.move_cursor(row=target, animate=False)
