"""How the metrics look: one line per metric with its sparkline, latest value, change and item count,
under a heading per family that says which way is better. Render only (pure functions and one table).

The rows are laid out by hand in one column (fixed widths, like the plan's sections in
plans_views.py), so a family's heading can run across the columns. A month with no data is
a gap (`·`), never a zero bar; the bars of a row are scaled from 0 to the row's highest month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding

from oxymus.metrics.models import Metric, MetricsResult, MonthValue
from oxymus.tui.widgets.nav_table import NavTable

BARS = "▁▂▃▄▅▆▇█"
GAP = "·"
SPARK = 12  # columns of a sparkline whatever the months: 12 x 1, 6 x 2, 3 x 4 (WIDE_SPARK on a wide terminal)
WIDE_SPARK = 36
WIDE = 120  # columns from which the sparklines are WIDE_SPARK wide
LABEL, VALUE, CHANGE, ITEMS = 22, 14, 14, 8
GUTTER = "  "
HEAD = "§"  # row keys of family headings start with it (they are not metrics)
FAMILY_ORDER = ("handoffs", "resolution", "errors", "agents")
FAMILY_HEAD = {
    "handoffs": "Manual handoffs per finished item · fewer is better",
    "resolution": "Time to resolution, median · shorter is better",
    "errors": "Failures per 100 · fewer is better",
    "agents": "Agents' proposals you settled, share · more accepted as-is is better",
}
FAMILY_ABOUT = {
    "handoffs": "How often you had to step in (approve, deny, edit, type an action, move a record by hand) "
                "per action or record that finished. Enter shows it per flow.",
    "resolution": "How long things waited, the median of those that ended in the month.",
    "errors": "Of the agent runs and actions that ended in the month, how many failed per 100.",
    "agents": "Of each agent's proposals that waited for you, the share you accepted as-is, edited first, "
              "denied, or let expire. Enter on an agent shows all four.",
}
LABELS = {
    "resolution.lead_first_reply": "Lead → first reply",
    "resolution.idea_published": "Idea → published",
    "resolution.capture_triaged": "Capture → triaged",
    "resolution.approval_wait": "Waiting for approval",
    "errors.runs": "Failed agent runs",
    "errors.actions": "Failed actions",
}
ABOUT = {
    "handoffs.all": "Manual handoffs per finished item: every action and record flow together.",
    "resolution.lead_first_reply": "From a lead's arrival to its first move out of “new” (your first reply).",
    "resolution.idea_published": "From a post recorded as an idea to its first “published” (a post begun as a draft is not counted).",
    "resolution.capture_triaged": "From a capture to its triage (into memory, a plan, an action, or archived).",
    "resolution.approval_wait": "From a proposal that needs you to your approval or denial (a snoozed one still waits).",
    "errors.runs": "Agent runs that failed, per 100 runs that ended.",
    "errors.actions": "Actions that failed, per 100 that ran.",
}
OUTCOME_LABEL = {"unchanged": "as-is", "edited": "edited first", "denied": "denied", "expired": "expired"}
ARROW = {"up": "↑", "down": "↓", "flat": "→"}


@dataclass(frozen=True)
class Row:
    key: str  # a metric's key, or HEAD + family for a heading
    label: str
    metric: Metric | None = None
    expandable: bool = False
    expanded: bool = False
    depth: int = 0


def flow_label(flow: str) -> str:
    """An action kind as it is ("calendar.create"), a record kind's flow as "lead records"."""
    return f"{flow.removeprefix('record:')} records" if flow.startswith("record:") else flow


def rows_for(result: MetricsResult, expanded: set[str]) -> list[Row]:
    """The lines shown, in order: each family's heading, then its metrics; parts only under an expanded row."""
    by_family: dict[str, list[Metric]] = {f: [] for f in FAMILY_ORDER}
    for metric in result.metrics:
        by_family.setdefault(metric.family, []).append(metric)
    out: list[Row] = []
    for family, metrics in by_family.items():
        if not metrics:
            continue
        out.append(Row(HEAD + family, FAMILY_HEAD.get(family, family)))
        if family == "handoffs":
            total = next((m for m in metrics if m.key == "handoffs.all"), None)
            flows = [m for m in metrics if m.key != "handoffs.all"]
            if total is not None:
                out.append(Row(total.key, "All work", total, bool(flows), total.key in expanded))
            if total is None or total.key in expanded:
                out += [Row(m.key, flow_label(m.key.removeprefix("handoffs.")), m, depth=1) for m in flows]
        elif family == "agents":
            agents: dict[str, dict[str, Metric]] = {}
            for m in metrics:
                name, _, outcome = m.key.removeprefix("agents.").rpartition(".")
                agents.setdefault(name, {})[outcome] = m
            for name, outcomes in agents.items():
                group = f"agents.{name}"
                first = outcomes.get("unchanged")
                if first is not None:
                    out.append(Row(first.key, f"{name} as-is", first, True, group in expanded))
                if first is None or group in expanded:
                    out += [Row(m.key, OUTCOME_LABEL.get(o, o), m, depth=1) for o, m in outcomes.items() if o != "unchanged"]
        else:
            out += [Row(m.key, LABELS.get(m.key) or m.label.strip(), m) for m in metrics]
    return out


def group_of(row: Row) -> str | None:
    """What Enter expands on this row: handoffs.all, or agents.NAME."""
    if row.key == "handoffs.all":
        return row.key
    if row.key.startswith("agents.") and row.expandable:
        return row.key.rpartition(".")[0]
    return None


def has_data(result: MetricsResult) -> bool:
    return any(v.count for m in result.metrics for v in m.months)


def value_text(value: float, unit: str) -> str:
    if unit == "hours":
        if value >= 48:
            return f"{value / 24:.1f} days"
        if value < 1:
            return f"{value * 60:.0f} min"
        return f"{value:.1f} h" if value < 10 else f"{value:.0f} h"
    if unit == "share":
        return f"{value:.0f}%"
    if unit == "per_100":
        return f"{value:.1f} /100"
    return f"{value:.2f} /item"


def latest(metric: Metric) -> MonthValue | None:
    """The newest month with data (the one the trend compares)."""
    return next((v for v in reversed(metric.months) if v.value is not None), None)


def month_name(key: str) -> str:
    return dt.date(int(key[:4]), int(key[5:7]), 1).strftime("%b")


def spark_columns(screen_width: int) -> int:
    return WIDE_SPARK if screen_width >= WIDE else SPARK


def spark_width(months: int, columns: int = SPARK) -> int:
    return max(1, columns // max(1, months))


def sparkline(metric: Metric, columns: int = SPARK) -> Text:
    """One bar per month (oldest left), scaled from 0 to the row's highest; a month with no data is a gap."""
    width = spark_width(len(metric.months), columns)
    top = max((v.value for v in metric.months if v.value is not None), default=0.0)
    out = Text()
    for v in metric.months:
        if v.value is None:
            out.append(GAP.ljust(width), style="dim")
            continue
        bar = BARS[round(v.value / top * (len(BARS) - 1))] if top > 0 else BARS[0]
        out.append((bar * (width - 1 if width > 2 else 1)).ljust(width), style="bold")
    return out


def months_head(months: list[str], columns: int = SPARK) -> str:
    """The sparkline column's heading: each month under its bars ("Aug Sep Oct ", "M J J A S O ", "NDJFMAMJJASO")."""
    width = spark_width(len(months), columns)
    names = [month_name(m) for m in months]
    return "".join((n if width >= 4 else n[0]).ljust(width) for n in names)


def change_text(metric: Metric) -> Text:
    if metric.trend is None or metric.change is None:
        return Text("–", style="dim")
    arrow = ARROW[metric.trend]
    if metric.trend == "flat":
        return Text(f"{arrow} steady", style="dim")
    if metric.unit == "share":
        amount = f"{abs(metric.change):.0f}pt"
    elif metric.change_pct is not None:
        amount = f"{abs(metric.change_pct):.0f}%"
    else:  # from 0 a percentage means nothing: the change in the metric's unit
        amount = "+" + value_text(abs(metric.change), metric.unit).replace(" days", "d").replace(" /item", "").replace(" /100", "")
    word, style = ("better", "green") if metric.improving else ("worse", "red")
    return Text(f"{arrow} {amount} {word}", style=style)


def items_text(value: MonthValue | None) -> Text:
    if value is None:
        return Text("")
    if value.count == 1:
        return Text("1 item", style="yellow")
    return Text(f"{value.count} items")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def line(row: Row, current: str, columns: int = SPARK) -> Text:
    """A row as one line of fixed-width parts; `current` is this month (an older latest month is named)."""
    if row.metric is None:
        return Text(" " + row.label, style="bold")
    metric = row.metric
    mark = ("▾ " if row.expanded else "▸ ") if row.expandable else "  "
    out = Text(" " + mark + "  " * row.depth)
    out.append(_cut(row.label, LABEL - 2 * row.depth - 2).ljust(LABEL - 2 * row.depth - 2))
    out.append(GUTTER)
    spark = sparkline(metric, columns)
    spark.pad_right(max(0, columns - spark.cell_len))
    out.append_text(spark)
    out.append(GUTTER)
    last = latest(metric)
    if last is None:
        out.append("no data".ljust(VALUE), style="dim")
    else:
        shown = value_text(last.value, metric.unit)
        out.append(shown)
        when = "" if last.month == current else f" {month_name(last.month)}"
        out.append(when, style="dim")
        out.append(" " * max(0, VALUE - len(shown) - len(when)))
    out.append(GUTTER)
    change = change_text(metric) if last is not None else Text("")
    change.pad_right(max(0, CHANGE - change.cell_len))
    out.append_text(change)
    out.append(GUTTER)
    out.append_text(items_text(last))
    return out


def head_line(result: MetricsResult, columns: int = SPARK) -> Text:
    """The column headings, over the rows' parts."""
    out = Text(" " + "  " + "Metric".ljust(LABEL - 2), style="bold")
    out.append(GUTTER)
    out.append(months_head(result.months, columns).ljust(columns), style="bold")
    for title, width in (("Latest", VALUE), ("vs month before", CHANGE), ("Items", ITEMS)):
        out.append(GUTTER)
        out.append(title.ljust(width), style="bold")
    return Text(out.plain.rstrip(), style="bold")


def by_month(metric: Metric) -> list[str]:
    """Each month as "Aug 1.50 (2)" ("Aug –" without data): the figures behind the sparkline (the unit is in
    the Latest column; durations and shares keep theirs)."""
    def short(value: float) -> str:
        text = value_text(value, metric.unit)
        return text.removesuffix(" /item").removesuffix(" /100")

    return [f"{month_name(v.month)} {short(v.value)} ({v.count})" if v.value is not None
            else f"{month_name(v.month)} –" for v in metric.months]


def packed(parts: list[str], width: int, prefix: str = "", sep: str = " · ") -> str:
    """`prefix`, then `parts` joined by `sep`, a new line where the next would pass `width` (a part is never split)."""
    lines: list[str] = [prefix.rstrip()] if prefix else []
    for i, part in enumerate(parts):
        if prefix and i == 0 and len(prefix) + len(part) <= width:
            lines[-1] = prefix + part
            continue
        if lines and len(lines[-1]) + len(sep) + len(part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return "\n".join(lines)


def about(row: Row) -> str:
    """What a row measures, in a sentence a newcomer can read."""
    if row.metric is None:
        return FAMILY_ABOUT.get(row.key.removeprefix(HEAD), "")
    metric = row.metric
    if metric.key in ABOUT:
        return ABOUT[metric.key]
    if metric.family == "handoffs":
        return f"Manual handoffs per finished item, for {flow_label(metric.key.removeprefix('handoffs.'))} only."
    if metric.family == "agents":
        name, _, outcome = metric.key.removeprefix("agents.").rpartition(".")
        better = "more is better" if metric.better == "higher" else "less is better"
        return f"Of {name}'s proposals you settled, the share {OUTCOME_LABEL.get(outcome, outcome)} ({better})."
    return metric.label.strip()


def trend_note(metric: Metric) -> str:
    """Why a row shows no change, or that its value stands on one item."""
    last = latest(metric)
    if last is None:
        return "Nothing ended in these months."
    notes = []
    if metric.trend is None:
        at = metric.months.index(last)
        notes.append("No change shown: it is the first month with data." if at == 0 or not any(
            v.value is not None for v in metric.months[:at]) else f"No change shown: {month_name(metric.months[at - 1].month)} has no data.")
    if last.count == 1:
        notes.append(f"{month_name(last.month)}'s value is one item: read it as an anecdote, not a trend.")
    return " ".join(notes)


class MetricsTable(NavTable):
    """The metrics, one line each under their family's heading; keyed by metric key (HEAD + family for headings)."""

    DEFAULT_CSS = "MetricsTable { scrollbar-size-vertical: 1; }"

    BINDINGS = [Binding("enter", "select_cursor", "Expand/fold",
                        tooltip="Expand or fold: handoffs per flow, an agent's outcomes")]

    def __init__(self, **kwargs) -> None:
        # No cell padding and a thin scrollbar: the line lays out its own gutters, and at 80 columns with a
        # scrollbar the items column must still fit.
        super().__init__(cursor_type="row", zebra_stripes=False, show_header=False, cell_padding=0, **kwargs)
        self.rows_shown: list[Row] = []

    def on_mount(self) -> None:
        if not self.columns:
            self.add_column("metric", key="metric")

    @property
    def current_row(self) -> Row | None:
        if not self.rows_shown or self.cursor_row is None or not (0 <= self.cursor_row < len(self.rows_shown)):
            return None
        return self.rows_shown[self.cursor_row]

    def show(self, rows: list[Row], current: str, columns: int = SPARK) -> None:
        """Replace the lines, keeping the cursor on the same row key when it is still there."""
        keep = self.current_row.key if self.current_row is not None else None
        self.clear()
        self.rows_shown = rows
        for row in rows:
            self.add_row(line(row, current, columns), key=row.key)
        keys = [r.key for r in rows]
        if keep in keys:
            self.move_cursor(row=keys.index(keep), animate=False)
        elif rows:
            first = next((i for i, r in enumerate(rows) if r.metric is not None), 0)
            self.move_cursor(row=first, animate=False)
