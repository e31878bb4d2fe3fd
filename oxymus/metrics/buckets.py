"""Months in the person's zone, and the statistics every family shares (pure)."""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections import defaultdict
from statistics import median

from oxymus.metrics.models import Metric, MonthValue, Trend

# Below this relative change a month is "flat": a 3% wobble over a handful of items is noise.
FLAT_PCT = 5.0


class Months:
    """The last `n` calendar months of the zone, the current one included, and which one a stored UTC time falls in."""

    def __init__(self, now: dt.datetime, zone: dt.tzinfo, n: int):
        self.zone = zone
        local = now.astimezone(zone)
        y, m = local.year, local.month
        firsts: list[tuple[int, int]] = []
        for _ in range(n):
            firsts.append((y, m))
            y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        firsts.reverse()
        ny, nm = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        starts = [dt.datetime(yy, mm, 1, tzinfo=zone) for yy, mm in [*firsts, (ny, nm)]]
        self.keys = [f"{yy:04d}-{mm:02d}" for yy, mm in firsts]
        # Stored times are UTC ISO text with a Z, so they compare as text against bounds in the same form:
        # a month is found by bisecting its start instants, without converting each time to the zone.
        self.bounds = [_iso(s) for s in starts]
        self.lo = self.bounds[0]
        self.hi = self.bounds[-1]

    def sql(self, column: str) -> tuple[str, tuple[str, ...]]:
        """An SQL expression (and its parameters) giving the month key of `column` (a stored UTC time), NULL outside
        the window: the same bisection as `of`, done by SQLite so a big read hands back keys, not times to parse."""
        whens = " ".join(f"WHEN {column} < ? THEN ?" for _ in self.keys)
        params: list[str] = [self.lo]
        for bound, key in zip(self.bounds[1:], self.keys):
            params += [bound, key]
        return f"(CASE WHEN {column} < ? THEN NULL {whens} ELSE NULL END)", tuple(params)

    def of(self, ts: str | None) -> str | None:
        """The month `ts` falls in, or None outside the window."""
        if not ts or not (self.lo <= ts < self.hi):
            return None
        return self.keys[bisect_right(self.bounds, ts) - 1]


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def hours_sql(start: str, end: str) -> str:
    """An SQL expression for the hours from `start` to `end` (stored UTC times; julianday reads their `Z`)."""
    return f"((julianday({end}) - julianday({start})) * 24.0)"


def hours_between(start: str, end: str) -> float:
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds() / 3600.0


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


class Durations:
    """Durations in hours by month: median, p90 and count."""

    def __init__(self) -> None:
        self.by_month: dict[str, list[float]] = defaultdict(list)

    def add(self, month: str | None, hours: float) -> None:
        if month is not None:
            self.by_month[month].append(max(0.0, hours))

    def values(self, months: Months) -> list[MonthValue]:
        out = []
        for key in months.keys:
            vs = self.by_month.get(key, [])
            out.append(MonthValue(month=key, value=round(median(vs), 3) if vs else None, count=len(vs),
                                  p90=round(p90(vs), 3) if vs else None))
        return out


class Ratio:
    """A numerator over a denominator by month, times `scale` (100 for per 100, 1 for per item or a share)."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self.num: dict[str, float] = defaultdict(float)
        self.den: dict[str, int] = defaultdict(int)

    def add(self, month: str | None, num: float, den: int = 1) -> None:
        if month is not None:
            self.num[month] += num
            self.den[month] += den

    def values(self, months: Months) -> list[MonthValue]:
        return [MonthValue(month=k, value=round(self.num[k] * self.scale / self.den[k], 3) if self.den.get(k) else None,
                           count=self.den.get(k, 0)) for k in months.keys]


def metric(key: str, family, label: str, unit, better, values: list[MonthValue]) -> Metric:
    """The metric with its trend: the newest month with data against the month before it (which must have data too)."""
    trend: Trend | None = None
    change = change_pct = None
    improving = None
    with_data = [i for i, v in enumerate(values) if v.value is not None]
    if with_data and with_data[-1] > 0 and values[with_data[-1] - 1].value is not None:
        new, old = values[with_data[-1]].value, values[with_data[-1] - 1].value
        assert new is not None and old is not None
        change = round(new - old, 3)
        change_pct = round(100.0 * change / old, 1) if old else None
        relative = abs(change_pct) if change_pct is not None else (0.0 if change == 0 else math.inf)
        trend = "flat" if relative < FLAT_PCT else ("up" if change > 0 else "down")
        if trend != "flat":
            improving = (trend == "down") == (better == "lower")
    return Metric(key=key, family=family, label=label, unit=unit, better=better, months=values, trend=trend,
                  change=change, change_pct=change_pct, improving=improving)


