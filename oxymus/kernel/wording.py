"""Days, times and money in words, the way Oxymus writes them (never the locale's: this
text is stored), and the check that an LLM's wording invents no number or weekday."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_LONG_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")


def day_words(day: dt.date) -> str:
    """`Mon 23 Nov`"""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def long_day(day: dt.date) -> str:
    """`Monday 23 November 2026`"""
    return f"{_LONG_DAYS[day.weekday()]} {day.day} {_LONG_MONTHS[day.month - 1]} {day.year}"


def changes_offset(day: dt.date, zone: ZoneInfo) -> bool:
    """The zone's UTC offset changes during `day` (a daylight-saving day)."""
    start = dt.datetime.combine(day, dt.time(), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    return (end.astimezone(dt.timezone.utc) - start.astimezone(dt.timezone.utc)) != dt.timedelta(days=1)


def clock(moment: dt.datetime, zone: ZoneInfo, *, day: dt.date | None = None, with_zone: bool = False) -> str:
    """`09:45`; `Tue 24 Nov 01:00` when not on `day`; with the zone's abbreviation on a DST day (`02:30 CEST`)."""
    local = moment.astimezone(zone)
    text = f"{local:%H:%M}"
    if day is not None and local.date() != day:
        text = f"{day_words(local.date())} {text}"
    if with_zone:
        text += f" {local.tzname()}"
    return text


def duration_words(minutes: int) -> str:
    """`4 h 15 min`, `45 min`, `3 h`"""
    hours, mins = divmod(int(minutes), 60)
    parts = [f"{hours} h" if hours else "", f"{mins} min" if mins else ""]
    return " ".join(p for p in parts if p) or "0 min"


def relative_days(days: int) -> str:
    """"today", "tomorrow", "in 3 days", "2 days ago"."""
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


def money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}".strip()


_NUMBER = re.compile(r"\d+")
_WEEKDAY_WORD = re.compile(r"\b(" + "|".join(_LONG_DAYS) + r")\b", re.IGNORECASE)


def only_known_facts(text: str, facts: str) -> bool:
    """True when every number and weekday name in `text` also occurs in `facts`.

    An LLM's wording is accepted only if it invents no figure, date or weekday: those
    come from code, so a sentence that states one the facts do not hold is wrong.
    """
    known_numbers = set(_NUMBER.findall(facts))
    if any(n not in known_numbers for n in _NUMBER.findall(text)):
        return False
    known_days = {d.lower() for d in _WEEKDAY_WORD.findall(facts)}
    known_days |= {d.lower() for d in _LONG_DAYS if d[:3] in re.findall(r"\b(" + "|".join(_DAYS) + r")\b", facts)}
    return all(d.lower() in known_days for d in _WEEKDAY_WORD.findall(text))
