"""Times of day: the one `HH:MM` parser, windows of the day, the 12-hour clock, and a
wall-clock time on a day in a zone (stdlib only: the CLI, the policy and the agents use it).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

__all__ = ["hour24", "in_window", "local_at", "optional_window", "parse_clock", "parse_window", "valid_clock"]

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DASH = re.compile(r"\s*[-–]\s*")


def parse_clock(text: str, example: str = "09:00") -> dt.time:
    """`09:00` (or `9:00`) -> time(9, 0); ValueError naming the text otherwise."""
    m = _CLOCK.match(text.strip())
    if not m:
        raise ValueError(f"not a time of day: {text!r} (use HH:MM, e.g. {example})")
    return dt.time(int(m.group(1)), int(m.group(2)))


def parse_window(text: str, *, wraps: bool = False) -> tuple[dt.time, dt.time]:
    """`09:00-12:00` (or with an en dash) -> (09:00, 12:00). With `wraps` the window may
    cross midnight (`22:00-07:00`); without, the end must come after the start."""
    parts = _DASH.split(text.strip())
    example = "22:00-07:00" if wraps else "09:00-12:00"
    what = "a time window" if wraps else "a window of the day"
    try:
        if len(parts) != 2:
            raise ValueError
        start, end = parse_clock(parts[0]), parse_clock(parts[1])
    except ValueError:
        raise ValueError(f"not {what}: {text!r} (use HH:MM-HH:MM, e.g. {example})") from None
    if not wraps and end <= start:
        raise ValueError(f"{text!r}: the end must come after the start (a window cannot cross midnight)")
    return start, end


def optional_window(text: str) -> str:
    """A config value that is a window which may cross midnight, or empty for none: checked, stripped
    (for pydantic's AfterValidator; quiet hours in [notify] and [agents.sentinel])."""
    if text.strip():
        parse_window(text, wraps=True)
    return text.strip()


def in_window(moment: dt.time, window: tuple[dt.time, dt.time]) -> bool:
    """`moment` is inside [start, end) of a window that may wrap midnight."""
    start, end = window
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # wraps midnight


def valid_clock(hour: int, minute: int, ampm: str | None) -> bool:
    """An hour and minute as written: 0-23 on the 24-hour clock, 1-12 with am/pm."""
    if minute > 59:
        return False
    return 1 <= hour <= 12 if ampm is not None else hour <= 23


def hour24(hour: int, ampm: str | None) -> int:
    """The hour on the 24-hour clock: 12am is 0, 12pm is 12, 2pm is 14."""
    if ampm == "pm":
        return hour if hour == 12 else hour + 12
    if ampm == "am":
        return 0 if hour == 12 else hour
    return hour


def local_at(day: dt.date, clock: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The moment `clock` on `day` in `zone`, in UTC (fold=0 and the round trip through
    UTC put a time inside a spring-forward gap just after the gap)."""
    return dt.datetime.combine(day, clock, zone).astimezone(dt.timezone.utc)
