"""Bills as the user writes them in bills.toml, and their due dates. Pure date arithmetic."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oxymus.time.when import date_problem, parse_date

Schedule = Literal["monthly", "yearly", "weekly", "once"]


class Bill(BaseModel):
    """One `[[bill]]` table."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    id: str | None = Field(default=None, description="stable key for paid records (default: from the name)")
    amount: float = Field(ge=0)
    currency: str = Field(default="EUR", min_length=3, max_length=3)
    schedule: Schedule
    day: int | None = Field(default=None, ge=1, le=31, description="monthly: day of the month (clamped to the month's end)")
    date: str | None = Field(default=None, description="yearly: MM-DD; once: YYYY-MM-DD")
    every: int = Field(default=1, ge=1, le=520, description="weekly: every N weeks; monthly: every N months")
    start: dt.date | None = Field(default=None, description="first due date (anchor for every N weeks/months)")
    autopay: bool = False
    url: str | None = None
    notes: str | None = None

    @field_validator("start", mode="before")
    @classmethod
    def _real_start(cls, value):
        # pydantic's own message for 2026-02-30 is "day value is outside expected range"
        if isinstance(value, str) and (problem := date_problem(value)):
            raise ValueError(f"{value.strip()} {problem}")  # pydantic puts "start: " in front
        return value

    @model_validator(mode="after")
    def _schedule_fields(self) -> "Bill":
        if self.schedule == "monthly" and self.day is None and self.start is None:
            raise ValueError("a monthly bill needs `day` (1-31) or `start`")
        if self.schedule == "yearly":
            if not self.date or not re.fullmatch(r"\d{2}-\d{2}", self.date):
                raise ValueError("a yearly bill needs `date` as MM-DD")
            month, day = map(int, self.date.split("-"))
            if not 1 <= month <= 12:
                raise ValueError(f"`date` {self.date} is not a day of the year: there is no month {month}")
            last = calendar.monthrange(2024, month)[1]  # a leap year: 02-29 is accepted
            if not 1 <= day <= last:
                raise ValueError(f"`date` {self.date} is not a day of the year: "
                                 f"{calendar.month_name[month]} has at most {last} days")
        if self.schedule == "weekly" and self.start is None:
            raise ValueError("a weekly bill needs `start` (YYYY-MM-DD), the first due date")
        if self.schedule == "once":
            if not self.date:
                raise ValueError("a one-off bill needs `date` as YYYY-MM-DD")
            parse_date(self.date, "date")
        self.currency = self.currency.upper()
        return self

    @property
    def key(self) -> str:
        return self.id or re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "bill"

    def due_dates(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Every due date in [start, end], ascending."""
        if self.schedule == "once":
            due = dt.date.fromisoformat(self.date or "")
            return [due] if start <= due <= end else []
        out: list[dt.date] = []
        if self.schedule == "weekly":
            assert self.start is not None
            step = dt.timedelta(weeks=self.every)
            first = self.start
            if first < start:
                first += step * ((start - first) // step)
            d = first
            while d <= end:
                if d >= start and d >= self.start:
                    out.append(d)
                d += step
            return out
        if self.schedule == "yearly":
            month, day = map(int, (self.date or "01-01").split("-"))
            for year in range(start.year, end.year + 1):
                d = dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))
                if start <= d <= end and (self.start is None or d >= self.start):
                    out.append(d)
            return out
        # monthly, every N months from the anchor
        anchor = self.start or dt.date(start.year, start.month, 1)
        day = self.day or anchor.day
        year, month = anchor.year, anchor.month
        while (year, month) <= (end.year, end.month):
            d = dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))
            if start <= d <= end and (self.start is None or d >= self.start):
                out.append(d)
            month += self.every
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        return out

    def last_due_before(self, day: dt.date, lookback_days: int) -> dt.date | None:
        """The most recent due date before `day` (within the lookback; any age for one-off bills)."""
        if self.schedule == "once":
            due = dt.date.fromisoformat(self.date or "")
            return due if due < day else None
        past = self.due_dates(day - dt.timedelta(days=lookback_days), day - dt.timedelta(days=1))
        return past[-1] if past else None
