"""The metrics as text: one row per metric, one column per month, then the trend (pure; the CLI prints it)."""

from __future__ import annotations

import datetime as dt

from oxymus.metrics.models import Metric, MetricsResult

LABEL = 16  # the label column's least width; it grows to the longest label up to MAX_LABEL
MAX_LABEL = 28
CELL = 6
ARROWS = {"up": "↑", "down": "↓", "flat": "→"}
# What the weekly review quotes: one per family that moves week to week.
HEADLINES = ("handoffs.all", "resolution.approval_wait", "errors.actions")
FAMILIES = {"handoffs": "Manual handoffs per finished item", "resolution": "Time to resolution (median)",
            "errors": "Error rates", "agents": "Agents' proposals settled by you (share)"}


def cell(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "hours":
        if value >= 48:
            return f"{value / 24:.1f}d"
        return f"{value:.1f}h" if value < 10 else f"{value:.0f}h"
    if unit == "share":
        return f"{value:.0f}%"
    if unit == "per_100":
        return f"{value:.1f}"
    return f"{value:.2f}"


def change(metric: Metric) -> str:
    """The newest month's change against the one before: arrow, then percent (points for shares)."""
    if metric.trend is None or metric.change is None:
        return ""
    arrow = ARROWS[metric.trend]
    if metric.unit == "share":
        return f"{arrow} {metric.change:+.0f}pt"
    if metric.change_pct is None:
        return f"{arrow} {metric.change:+.1f}"
    return f"{arrow} {metric.change_pct:+.0f}%"


def month_label(key: str) -> str:
    month = dt.date(int(key[:4]), int(key[5:7]), 1)
    return month.strftime("%b") if month.month != 1 else month.strftime("%b%y")


def _row(label: str, cells: list[str], tail: str, width: int = LABEL) -> str:
    label = label if len(label) <= width else label[: width - 1] + "…"
    return f"{label:<{width}}" + "".join(f"{c:>{CELL + 1}}" for c in cells) + ("  " + tail if tail else "")


def render(result: MetricsResult) -> str:
    # As wide as the longest label ("publisher expired%"), so no agent's row is cut to a guess.
    width = max([LABEL, *(min(MAX_LABEL, len(m.label)) for m in result.metrics)])
    lines = [_row("", [month_label(k) for k in result.months], "trend", width)]
    family = None
    for metric in result.metrics:
        if metric.family != family:
            family = metric.family
            lines.append(FAMILIES[family])
        lines.append(_row(metric.label, [cell(v.value, metric.unit) for v in metric.months], change(metric), width))
    lines.append("- no data; h hours, d days; trend: latest month with data vs the one before")
    return "\n".join(line.rstrip() for line in lines)


def headline(result: MetricsResult, keys: tuple[str, ...]) -> list[str]:
    """A sentence per metric in `keys` that has a trend: what it was this month and the change (the weekly review quotes these)."""
    out = []
    by_key = {m.key: m for m in result.metrics}
    for key in keys:
        metric = by_key.get(key)
        if metric is None or metric.trend is None:
            continue
        last = next(v for v in reversed(metric.months) if v.value is not None)
        out.append(f"{_name(metric)}: {cell(last.value, metric.unit)} in {month_label(last.month)} ({change(metric)} vs the month before)")
    return out


def _name(metric: Metric) -> str:
    return {"handoffs.all": "manual handoffs per finished item", "resolution.capture_triaged": "capture to triaged (median)",
            "resolution.approval_wait": "approval waiting (median)", "errors.actions": "failed actions per 100",
            "errors.runs": "failed runs per 100"}.get(metric.key, metric.label.strip())


