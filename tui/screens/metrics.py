"""The Metrics section (key 8): the compounding metrics per month, each as a sparkline with its trend.

Each row: what is measured, a bar per month (a gap where a month has nothing to measure),
the newest month's value with its unit (named when it is not this month), the change
against the month before with an arrow, green when better and red when worse (the family's
heading says which way is better), and how many items the value is over. Enter on "All work"
shows the handoffs per flow, on an agent its four outcomes; the panel under the table says
what the row under the cursor measures, month by month. `m` shows 3, 6 or 12 months in turn,
`r` computes again now. The figures refresh by themselves after records, actions and runs
change (screens/metrics_link.py); the last ones stay shown while the next are computed.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from oxymus.metrics.models import MetricsResult
from oxymus.tui.screens.base import SectionScreen
from oxymus.tui.screens.metrics_link import MetricsFailed, MetricsLoaded, metrics_query
from oxymus.tui.widgets import SectionBar
from oxymus.tui.widgets.metrics_views import (
    MetricsTable, about, by_month, group_of, has_data, head_line, month_name, packed, rows_for, spark_columns, trend_note,
)

WAITING = "Waiting for the daemon…"
MONTHS = (3, 6, 12)
DEFAULT_MONTHS = 6
LEGEND = "One bar per month, oldest left (“·”: no data) · green: better, red: worse"


class MetricsScreen(SectionScreen):
    SECTION = "metrics"
    AUTO_FOCUS = "#metrics-table"
    DEFAULT_CSS = """
    MetricsScreen #metrics-title { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    MetricsScreen #metrics-head { height: 1; padding: 0 0; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    MetricsScreen #metrics-table { height: 1fr; }
    MetricsScreen #metrics-about { height: auto; max-height: 5; padding: 0 1; background: $panel; }
    MetricsScreen #metrics-legend { height: auto; padding: 0 1; color: $text-muted; }
    MetricsScreen #metrics-empty { padding: 1 2; color: $text-muted; }
    """
    BINDINGS = [
        Binding("m", "months", "Months", tooltip="Months shown: 3, 6 or 12, in turn"),
        Binding("r", "refresh", "Refresh", tooltip="Compute the metrics again now"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.months = DEFAULT_MONTHS
        self.result: MetricsResult | None = None
        self.error: str | None = None
        self.refreshing = True  # until the first answer
        self.expanded: set[str] = set()
        # The query asks for the months this screen shows, so it is made per screen (one per app: a mode's
        # screen is built once) rather than declared on the class.
        self.metrics_query = metrics_query(lambda: self.months)
        self.LIVE = (self.metrics_query,)

    def compose_body(self) -> ComposeResult:
        yield Label("", id="metrics-title", markup=False)
        yield Label("", id="metrics-head", markup=False)
        yield MetricsTable(id="metrics-table")
        yield Static("", id="metrics-about", markup=False)
        yield Static(LEGEND, id="metrics-legend", markup=False)
        yield Label(WAITING, id="metrics-empty", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self._render_result()

    def on_resize(self) -> None:
        if self.result is not None:  # the sparklines' width and the panel's lines follow the terminal's
            self.call_after_refresh(self._render_result)

    @property
    def table(self) -> MetricsTable:
        return self.query_one("#metrics-table", MetricsTable)

    # ---- in sight or not: figures nobody sees are not computed -------------------

    def on_screen_suspend(self) -> None:
        super().on_screen_suspend()
        self.oxymus.connection.live.hold(self.metrics_query)

    def on_screen_resume(self) -> None:
        self.oxymus.connection.live.release(self.metrics_query)

    # ---- keys -----------------------------------------------------------------------

    def action_months(self) -> None:
        self.months = MONTHS[(MONTHS.index(self.months) + 1) % len(MONTHS)] if self.months in MONTHS else DEFAULT_MONTHS
        self.action_refresh()

    def action_refresh(self) -> None:
        if self.oxymus.connection.live.ask(self.metrics_query) is not None:
            self.refreshing = True
        self._render_title()

    @on(DataTable.RowSelected, "#metrics-table")
    def _toggle(self, _message: DataTable.RowSelected) -> None:
        row = self.table.current_row
        group = group_of(row) if row is not None else None
        if group is None:
            return
        self.expanded ^= {group}
        self._render_result()

    @on(DataTable.RowHighlighted, "#metrics-table")
    def _highlighted(self, _message: DataTable.RowHighlighted) -> None:
        self._render_about()

    # ---- answers --------------------------------------------------------------------

    @on(MetricsLoaded)
    def _loaded(self, message: MetricsLoaded) -> None:
        if message.months != self.months:
            return  # asked for a window since changed: its own answer follows
        self.result, self.error, self.refreshing = message.result, None, False
        self._render_result()

    @on(MetricsFailed)
    def _failed(self, message: MetricsFailed) -> None:
        self.refreshing, self.error = False, message.reason
        if self.result is not None and self.is_active:
            self.notify(message.reason, title="Metrics not computed", severity="error", timeout=8, markup=False)
        self._render_result()

    # ---- what is shown --------------------------------------------------------------

    def _render_result(self) -> None:
        result = self.result
        empty = self.query_one("#metrics-empty", Label)
        shown = result is not None and has_data(result)
        for part in ("#metrics-head", "#metrics-table", "#metrics-about", "#metrics-legend"):
            self.query_one(part).display = shown
        empty.display = not shown
        self.query_one("#section-bar", SectionBar).set_summary(f"{self.months} months")
        self._render_title()
        if result is None:
            empty.update(f"Could not compute the metrics: {self.error}" if self.error else WAITING)
            return
        if not shown:
            empty.update(f"No finished items yet in the last {len(result.months)} months.\n\n"
                         "The metrics count what has ended: actions approved, denied or run, records at the end of "
                         "their pipeline, captures triaged, agent runs finished. m shows more months.")
            return
        columns = spark_columns(self.size.width)
        self.query_one("#metrics-head", Label).update(head_line(result, columns))
        self.table.show(rows_for(result, self.expanded), result.months[-1], columns)
        if self.is_active and self.focused is None:
            self.table.focus()  # hidden until now, it could not take the focus when the screen opened
        self._render_about()

    def _render_title(self) -> None:
        result = self.result
        if result is None:
            line = f"Last {self.months} months" + (" · computing…" if self.refreshing else "")
        else:
            first, last = result.months[0], result.months[-1]
            span = f"{month_name(first)} {first[:4]}–{month_name(last)} {last[:4]}" if first[:4] != last[:4] \
                else f"{month_name(first)}–{month_name(last)} {last[:4]}"
            line = f"Last {len(result.months)} months ({span}, {result.zone}) · computed {_clock(result)}"
            if self.refreshing:
                line += f" · computing {self.months} months…" if self.months != len(result.months) else " · computing…"
        self.query_one("#metrics-title", Label).update(line)

    def _render_about(self) -> None:
        row = self.table.current_row
        box = self.query_one("#metrics-about", Static)
        if row is None:
            box.update("")
            return
        width = max(20, (box.content_region.width or self.size.width - 2))
        text = Text(about(row), style="bold" if row.metric is None else "")
        note = trend_note(row.metric) if row.metric is not None else ""
        if note:
            text.append(" " + note)
        if row.metric is not None:
            text.append("\n" + packed(by_month(row.metric), width, prefix="By month, value (items): "), style="dim")
        box.update(text)


def _clock(result: MetricsResult) -> str:
    """When the daemon computed it, in the months' zone."""
    try:
        at = dt.datetime.fromisoformat(result.computed_at.replace("Z", "+00:00"))
        return at.astimezone(ZoneInfo(result.zone)).strftime("%H:%M")
    except (ValueError, KeyError):
        return result.computed_at
