"""The `metrics.get` method's params and result: light (pydantic only), so the protocol loads them cheaply."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Family = Literal["handoffs", "resolution", "errors", "agents"]
Unit = Literal["per_item", "hours", "per_100", "share"]
Trend = Literal["up", "down", "flat"]


class MetricsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    months: int = Field(default=6, ge=1, le=36, description="how many calendar months, the current one last")


class MonthValue(BaseModel):
    """One metric in one month. `value` is None when the month has nothing to measure (`count` 0), never 0 for "no data"."""

    month: str = Field(description="YYYY-MM in the person's zone")
    value: float | None = Field(description="the median for durations, otherwise the rate or share")
    count: int = Field(description="how many items the value is over (the denominator)")
    p90: float | None = Field(default=None, description="durations only: the 90th percentile (nearest rank)")


class Metric(BaseModel):
    key: str = Field(description="stable name, e.g. resolution.capture_triaged or agents.triage.edited")
    family: Family
    label: str = Field(description="short name for a table row")
    unit: Unit
    better: Literal["lower", "higher"] = Field(description="which way is an improvement")
    months: list[MonthValue]
    trend: Trend | None = Field(default=None, description="the newest month with data against the month before it; None without both")
    change: float | None = Field(default=None, description="that month's value minus the previous month's, in the metric's unit")
    change_pct: float | None = Field(default=None, description="the same change relative to the previous month, in percent")
    improving: bool | None = Field(default=None, description="whether the change goes the `better` way (None when flat or unknown)")


class MetricsResult(BaseModel):
    zone: str = Field(description="the zone months are cut in")
    months: list[str] = Field(description="the months, oldest first")
    computed_at: str
    metrics: list[Metric]
