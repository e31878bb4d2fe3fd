"""What an expansion yields: the window, event occurrences, to-do deadlines, and occurrence ids."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Window:
    """The span to expand, as aware datetimes, and the zone for floating times."""

    start: dt.datetime
    end: dt.datetime
    zone: ZoneInfo

    @classmethod
    def of_days(cls, first: dt.date, last: dt.date, zone: ZoneInfo) -> "Window":
        """From local midnight of `first` to local midnight after `last` (both days included)."""
        return cls(local_midnight(first, zone), local_midnight(last + dt.timedelta(days=1), zone), zone)


@dataclass
class EventOccurrence:
    uid: str
    occurrence: str  # the RECURRENCE-ID (or start) as "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ"
    summary: str
    start: dt.date | dt.datetime  # a date when all_day, else aware in the window's zone
    end: dt.date | dt.datetime
    starts_at: dt.datetime  # aware UTC
    ends_at: dt.datetime
    all_day: bool
    recurring: bool
    status: str | None = None
    location: str | None = None
    description: str | None = None
    url: str | None = None


@dataclass
class TodoDue:
    uid: str
    occurrence: str | None  # None for a single to-do; the occurrence id for a repeating one
    summary: str
    due: dt.date | dt.datetime  # a date when all_day, else aware in the window's zone
    starts_at: dt.datetime  # aware UTC: the due moment, or local midnight starting an all-day due date
    ends_at: dt.datetime  # the due moment, or the next local midnight for an all-day due date
    all_day: bool
    recurring: bool
    status: str | None = None
    priority: int | None = None


@dataclass
class Expansion:
    events: list[EventOccurrence] = field(default_factory=list)
    todos: list[TodoDue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone)


def utc_key(moment: dt.date | dt.datetime) -> str:
    """An occurrence id: "YYYY-MM-DD" for a date, "YYYY-MM-DDTHH:MM:SSZ" for an aware time."""
    if isinstance(moment, dt.datetime):
        utc = moment.astimezone(dt.timezone.utc)
        if utc.year < 1000:  # strftime's %Y does not pad; isoformat (faster, 26,000 calls a big poll) does
            return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        return utc.replace(tzinfo=None, microsecond=0).isoformat() + "Z"
    return moment.isoformat()
