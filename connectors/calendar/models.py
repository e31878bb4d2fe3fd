"""The typed `data` of calendar state items: `calendar.event` and `calendar.deadline`.

Times in `data` are local to the person's zone (the store's `starts_at`/`ends_at`
carry the same moments in UTC for range queries). All-day values are plain dates.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CalendarEvent(BaseModel):
    """One occurrence of an event (a repeating event gives one item per occurrence).

    Item key: `{uid}@{occurrence}`, where occurrence is the slot the occurrence has
    in its series (its RECURRENCE-ID), as `YYYY-MM-DDTHH:MM:SSZ` in UTC or, for
    all-day events, `YYYY-MM-DD`. A moved occurrence keeps its key.
    """

    model_config = ConfigDict(frozen=True)

    uid: str
    summary: str = Field(description='the title, or "(no title)"')
    start: str = Field(description="local ISO time with offset, or YYYY-MM-DD for an all-day event")
    end: str = Field(description="local ISO time; for all-day events the day after the last day (exclusive, as in iCalendar)")
    all_day: bool
    calendar: str = Field(description="the source's name (the `name` of its [[calendar.ics]] or [[calendar.caldav]] entry)")
    collection: str | None = Field(default=None, description="the calendar inside the source: a CalDAV calendar's or vdir subfolder's name")
    recurring: bool = Field(description="part of a repeating series")
    status: str | None = Field(default=None, description="CONFIRMED, TENTATIVE or none (cancelled ones are left out)")
    location: str | None = None
    description: str | None = Field(default=None, description="at most 2000 characters")
    url: str | None = Field(default=None, description="the event's URL property")
    href: str | None = Field(default=None, description="where it is stored: the CalDAV object URL or the .ics file")


class Deadline(BaseModel):
    """An open to-do (VTODO) with a due date.

    Item key: `todo:{uid}`, or `todo:{uid}@{occurrence}` for a repeating to-do.
    `starts_at` is the due moment; for an all-day due date, local midnight starting
    that day, with `ends_at` the next local midnight so a day's range query finds it.
    """

    model_config = ConfigDict(frozen=True)

    uid: str
    summary: str = Field(description='the title, or "(no title)"')
    due: str = Field(description="local ISO time with offset, or YYYY-MM-DD when all_day")
    all_day: bool
    calendar: str
    collection: str | None = None
    priority: int | None = Field(default=None, description="1 (highest) to 9; none when unset")
    status: str | None = Field(default=None, description="NEEDS-ACTION, IN-PROCESS or none")
    recurring: bool = False
    href: str | None = None
