"""Times and durations as a person types them: `2h`, `tomorrow 9:00`, `monday`, `2026-11-23T14:00`.

Computed by code in the user's zone, never guessed: anything not understood is an
error that lists the forms that are.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator

from oxymus.time.timeofday import hour24, local_at, valid_clock

FORMS = "2h, 30m, 90s, 1d, 1h30m, today 18:00, tomorrow, tomorrow 9:00, monday, 2026-11-23, 2026-11-23 14:00, 14:00"
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)\s*([smhdw]))+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MORNING = dt.time(9, 0)


class WhenError(ValueError):
    pass


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def date_problem(text: str) -> str | None:
    """Why `text` is not a YYYY-MM-DD date ("not a real date: February 2026 has 28 days"), or None."""
    m = _ISO_DATE.fullmatch(text.strip())
    if not m:
        return "is not a date: write it as YYYY-MM-DD"
    year, month, day = (int(g) for g in m.groups())
    if not 1 <= month <= 12:
        return f"is not a real date: there is no month {month}"
    if year < 1:
        return "is not a real date: there is no year 0"
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return f"is not a real date: {calendar.month_name[month]} {year} has {last} days"
    return None


def parse_date(text: str, field: str) -> dt.date:
    """A YYYY-MM-DD date; WhenError naming `field` and saying what is wrong otherwise."""
    problem = date_problem(text)
    if problem:
        raise WhenError(f"`{field}` {text.strip()} {problem}")
    return dt.date.fromisoformat(text.strip())


def parse_duration(text: str) -> float:
    """Seconds in `2h`, `30m`, `1h30m`, `10s`, `2d`, `1w`; WhenError otherwise."""
    compact = text.strip().lower().replace(" ", "")
    if not compact or not _DURATION.match(compact):
        raise WhenError(f"not a duration: {text!r} (use e.g. 10s, 30m, 2h, 1h30m, 1d)")
    return float(sum(float(n) * _UNIT[u] for n, u in _PART.findall(compact)))


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_when(text: str, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """An aware UTC datetime in the future for what the person typed; WhenError if not understood or past."""
    raw = text.strip()
    lowered = raw.lower()
    local_now = now.astimezone(zone)
    try:
        seconds = parse_duration(lowered)
    except WhenError:
        seconds = None
    if seconds is not None:  # a duration that is not in the future says so, not "not a time"
        return _future(now + dt.timedelta(seconds=seconds), now, raw)
    try:
        moment = dt.datetime.fromisoformat(raw.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", raw) else raw)
    except ValueError:
        moment = None
    if moment is not None:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone) if len(raw) > 10 else dt.datetime.combine(moment.date(), MORNING, zone)
        return _future(moment.astimezone(dt.timezone.utc), now, raw)
    words = lowered.split(None, 1)
    day_word, clock_text = (words[0], words[1] if len(words) > 1 else None) if words else ("", None)
    day: dt.date | None = None
    if day_word == "today":
        day = local_now.date()
    elif day_word == "tomorrow":
        day = local_now.date() + dt.timedelta(days=1)
    elif day_word in _DAYS or day_word[:3] in [d[:3] for d in _DAYS] and len(day_word) == 3:
        target = [d[:3] for d in _DAYS].index(day_word[:3])
        ahead = (target - local_now.weekday()) % 7 or 7
        day = local_now.date() + dt.timedelta(days=ahead)
    if day is not None:
        clock = _clock(clock_text, raw) if clock_text else MORNING
        return _future(local_at(day, clock, zone), now, raw)
    if _CLOCK.match(lowered):
        clock = _clock(lowered, raw)
        moment = local_at(local_now.date(), clock, zone)
        if moment <= now:
            moment = local_at(local_now.date() + dt.timedelta(days=1), clock, zone)
        return moment
    raise WhenError(f"not a time: {text!r} (use e.g. {FORMS})")


def _clock(text: str, raw: str) -> dt.time:
    m = _CLOCK.match(text.strip())
    if not m:
        raise WhenError(f"not a time of day in {raw!r} (use e.g. 9:00, 14:30, 9am)")
    hour, minute, ampm = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if not valid_clock(hour, minute, ampm):
        if ampm and not 1 <= hour <= 12:
            raise WhenError(f"not a time of day in {raw!r} (with am/pm the hour is 1 to 12)")
        raise WhenError(f"not a time of day in {raw!r}")
    return dt.time(hour24(hour, ampm), minute)


def _future(moment: dt.datetime, now: dt.datetime, raw: str) -> dt.datetime:
    moment = moment.astimezone(dt.timezone.utc)
    if moment <= now:
        raise WhenError(f"{raw!r} is in the past")
    return moment


def _checked_duration(value: str) -> str:
    parse_duration(value)  # WhenError is a ValueError: pydantic reports it with the field's name
    return value


WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_FULL_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _checked_weekdays(values: list[str]) -> list[str]:
    """Day names as `mon`..`sun` (full names accepted); anything else is an error naming it."""
    days = []
    for day in values:
        word = day.strip().lower()
        if word not in WEEKDAYS and word not in _FULL_DAYS:
            raise ValueError(f"unknown weekday {day!r} (use mon, tue, wed, thu, fri, sat, sun)")
        days.append(word[:3])
    return days


# Settings fields typed with these are checked where they are read, one message for all of them.
Duration = Annotated[str, AfterValidator(_checked_duration)]
Weekdays = Annotated[list[str], AfterValidator(_checked_weekdays)]
