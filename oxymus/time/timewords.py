"""When a capture says it happens: "call Ana tomorrow 2pm", "dentist on friday at 10:30".

`find_when(text, now, zone)` finds the time phrase in a line of text and computes it
in code, in the person's zone (never by an LLM). It returns a `Found` with the start
(aware, in `zone`), an end when a duration or a range was given, the spans of text it
used (so a summary can drop them: "call Ana tomorrow 2pm" -> "Call Ana"), and what it
was not sure of. It returns None when the text names no day, time or offset at all.

What it understands:

- days: today, tonight, tomorrow, the day after tomorrow; weekday names (monday,
  mon with "on"/"next"/"this" or a time after it); "next tuesday", "this friday";
  "in 3 days", "in 2 weeks";
- dates: 2026-12-03, "3 dec", "3rd of December", "dec 3", "December 3, 2026",
  3/12 and 3/12/2026, 3.12. and 3.12.2026;
- times: 2pm, 2:30 pm, 14:00, "at 9", "at 9.30", "at 14h30", 9.30 right after a day
  ("tomorrow 9.30"), a bare hour right after a day ("friday 10"), noon, midday, midnight;
- offsets: "in 20 minutes", "in 2 hours", "in an hour", "in half an hour";
- durations: "for 1h", "for 90 minutes", "for 1.5 hours", "for an hour", "for half an
  hour", "for 1h30"; ranges "14:00-15:30", "2-3pm", "from 2pm to 3:30pm".

Choices, made once here and reported rather than guessed silently:

- Numeric dates are day first (3/12 is 3 December). When the month-first reading of a
  slashed date is also a date and differs, the result is flagged `ambiguous`; 12/25
  can only be month first and is read so (noted); dotted dates (3.12.) are day first.
- A date without a year is this year's; if that was more than 30 days ago it is next
  year's (noted); within the last 30 days it is reported `past`.
- A weekday name is the next such day after today ("friday" said on a Friday is a
  week away). "next friday" is the Friday of next week (weeks start on Monday); when
  that differs from the coming Friday it is flagged `ambiguous`. "this friday" is the
  coming one, today included.
- A time with no day is today's if still ahead, else tomorrow's (noted).
- A bare hour (no minutes, no am/pm) from 1 to 7 is read as afternoon ("at 3" is
  15:00) and flagged `ambiguous`; 8 to 23 are read as written ("at 9" is 09:00). With
  "afternoon", "evening", "night" or "tonight" hours 1 to 11 are pm, unflagged.
- "in 2 hours" is an exact offset from now; "in 2 days" is a date (plus a time if one
  is given), at the same wall-clock time rules as any other date.
- Wall-clock times are built in the zone, so they are right across daylight-saving
  changes. A time that does not exist (the spring-forward gap) is moved forward by the
  gap; one that happens twice (fall-back) is the first. Both are flagged `ambiguous`.
- Durations are exact (an hour is 3600 s, even across a DST change).
- A time before now is reported as `past`, never moved to another day silently.
- Two different days, or two times, in one text: the first is used, flagged `ambiguous`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from oxymus.time.timeofday import hour24, valid_clock

__all__ = ["Found", "find_when", "strip_spans"]

UTC = dt.timezone.utc
PAST_YEAR_GRACE = dt.timedelta(days=30)

_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}
_FULL_DAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
_DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty-five": 45}

_MONTH_RE = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY_RE = "(" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + ")"
_AMPM = r"(am|pm|a\.m\.|p\.m\.)"
_PART_OF_DAY = r"(?:\s(morning|afternoon|evening|night))?"
_COUNT = r"(\d+(?:[.,]\d+)?|half\san?|forty-five|" + "|".join(k for k in _NUMBERS if k != "forty-five") + ")"
# Words after a number that make it a quantity, not a time.
_UNIT_AFTER = (r"(?!\s?(?:%|€|\$|£|eur\b|euros?\b|usd\b|gbp\b|chf\b|dollars?\b|pounds?\b|percent|minutes?\b|mins?\b|"
               r"hours?\b|hrs?\b|days?\b|weeks?\b|months?\b|years?\b|kg\b|km\b|people|persons?|times|x\b))")


@dataclass(frozen=True)
class _Part:
    kind: str  # day, weekday, date, delta, delta_day, time, range, duration
    start: int
    end: int
    data: dict = field(default_factory=dict, hash=False, compare=False)
    weak: bool = False  # a time only when right after a day


def _patterns() -> list[tuple[str, re.Pattern, bool]]:
    p = []

    def add(kind: str, regex: str, weak: bool = False) -> None:
        p.append((kind, re.compile(regex), weak))

    add("day", r"\b(?:on\s)?(?:the\s)?day\safter\stomorrow\b" + _PART_OF_DAY)
    add("day", r"\b(today|tonight|tomorrow|tmrw|tmr)\b" + _PART_OF_DAY)
    add("weekday", r"\b(?:(on|next|this|coming)\s)?(?:(next|this)\s)?" + _WEEKDAY_RE + r"\b" + _PART_OF_DAY)
    add("date", r"\b(?:on\s)?(\d{4})-(\d{2})-(\d{2})\b")
    add("date", r"\b(?:on\s)?(?:the\s)?(\d{1,2})(?:st|nd|rd|th)?(?:\sof)?\s" + _MONTH_RE + r"(?![a-z])(?:,?\s(\d{4})\b)?")
    add("date", r"\b(?:on\s)?" + _MONTH_RE + r"\s(\d{1,2})(?:st|nd|rd|th)?(?![\d:.a-z])(?:,?\s(\d{4})\b)?")
    add("date", r"\b(?:on\s)?(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?(?![\d/])")
    add("date", r"\b(?:on\s)?(\d{1,2})\.(\d{1,2})\.(\d{4})?(?![\d.])")
    add("delta", r"\bin\s" + _COUNT + r"\s?(minutes?|mins?|min|m|hours?|hrs?|hr|h|days?|weeks?|wks?)\b")
    t = r"(\d{1,2})(?:[:.](\d{2}))?\s?" + _AMPM + "?"
    add("range", r"(?:\b(?:from|at)\s)?(?<![\d:.])" + t + r"\s?(?:-|–|—|\bto\b|\buntil\b|\btill\b)\s?" + t + r"(?![\d:])" + _UNIT_AFTER)
    add("time", r"(?:\bat\s|@\s?)(\d{1,2})(?:[:.h](\d{2}))?(?:\s?" + _AMPM + r")?(?![\d,:/]|\.\d)" + _UNIT_AFTER)
    add("time", r"(?<![\d:.,/])(\d{1,2})(?:[:.](\d{2}))?\s?" + _AMPM + r"(?![a-z])")
    add("time", r"(?<![\d:.,/])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])(?:\s?(?:h|uhr)\b)?")
    add("time", r"\b(?:at\s)?(noon|midday|midnight)\b")
    add("time", r"\b(?<![\d:.,/])(\d{1,2})\.([0-5]\d)(?![\d,]|\.\d)" + _UNIT_AFTER, weak=True)
    add("time", r"\b(?<![\d:.,/\-])(\d{1,2})(?![\d,:/\-]|\.\d)" + _UNIT_AFTER, weak=True)
    add("duration", r"\bfor\s(?:about\s|around\s)?" + _COUNT + r"\s?(minutes?|mins?|min|m|hours?|hrs?|hr|h)"
        r"(?:(\d{2})(?!\d)|\s(?:and\s)?(\d{1,2})\s?(?:minutes?|mins?|min|m)\b)?\b")
    return p


_PATTERNS = _patterns()


def _lower(text: str) -> str:
    """Lower case, one character for one, so spans in the result are spans in the text."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _count(word: str) -> float:
    word = word.replace(",", ".")
    if word.startswith("half"):
        return 0.5
    if word in _NUMBERS:
        return float(_NUMBERS[word])
    return float(word)


def _scan(low: str) -> list[_Part]:
    found: list[_Part] = []
    for kind, regex, weak in _PATTERNS:
        for m in regex.finditer(low):
            part = _part(kind, m, weak)
            if part is not None:
                found.append(part)
    # Longest first at each place, earlier places first; no overlaps.
    found.sort(key=lambda p: (p.start, -(p.end - p.start), p.weak))
    chosen: list[_Part] = []
    taken_until = -1
    for part in found:
        if part.start >= taken_until:
            chosen.append(part)
            taken_until = part.end
    return chosen


def _part(kind: str, m: re.Match, weak: bool) -> _Part | None:
    g = m.groups()
    s, e = m.span()
    if kind == "day":
        word = "day after tomorrow" if "after" in m.group(0) else g[0]
        return _Part("day", s, e, {"word": word, "part_of_day": g[-1]})
    if kind == "weekday":
        prefix = g[1] or g[0]
        word = g[2]
        if word not in _FULL_DAYS and not (g[0] or g[1]):
            # mon, wed, sat, sun are ordinary words too: only with on/next/this or a time right after.
            if not re.match(r"\s\d", m.string[e:e + 2]):
                return None
        return _Part("weekday", s, e, {"weekday": _WEEKDAYS[word], "prefix": prefix if prefix in ("next", "this", "coming") else None,
                                       "part_of_day": g[3]})
    if kind == "date":
        return _date_part(m, s, e)
    if kind == "delta":
        n, unit = _count(g[0]), g[1]
        if unit.startswith(("d", "w")):
            days = n * (7 if unit.startswith("w") else 1)
            if days != int(days):
                return None
            return _Part("delta_day", s, e, {"days": int(days)})
        minutes = n * (60 if unit.startswith("h") else 1)
        return _Part("delta", s, e, {"delta": dt.timedelta(minutes=minutes)})
    if kind == "range":
        a = _clock_parts(g[0], g[1], g[2])
        b = _clock_parts(g[3], g[4], g[5])
        if a is None or b is None:
            return None
        # A range of bare numbers ("2-3 days", "10-12") is not a time.
        if not (g[1] or g[2] or g[4] or g[5]):
            return None
        return _Part("range", s, e, {"a": a, "b": b})
    if kind == "time":
        if g[0] in ("noon", "midday", "midnight"):
            return _Part("time", s, e, {"hour": 0 if g[0] == "midnight" else 12, "minute": 0, "ampm": None, "word": g[0]})
        ampm = g[2] if len(g) > 2 else None
        clock = _clock_parts(g[0], g[1] if len(g) > 1 else None, ampm)
        if clock is None:
            return None
        return _Part("time", s, e, clock, weak=weak)
    if kind == "duration":
        n, unit, extra = _count(g[0]), g[1], g[2] or g[3]
        minutes = n * (60 if unit.startswith("h") else 1) + (int(extra) if extra else 0)
        if minutes <= 0:
            return None
        return _Part("duration", s, e, {"delta": dt.timedelta(minutes=minutes)})
    return None


def _clock_parts(hour: str, minute: str | None, ampm: str | None) -> dict | None:
    h, mi = int(hour), int(minute or 0)
    ap = ampm.replace(".", "") if ampm else None
    if not valid_clock(h, mi, ap):
        return None
    return {"hour": h, "minute": mi, "ampm": ap, "bare": minute is None and ap is None}


def _date_part(m: re.Match, s: int, e: int) -> _Part | None:
    g = m.groups()
    text = m.group(0)
    if re.search(r"\d{4}-\d{2}-\d{2}", text):
        y, mo, d = int(g[0]), int(g[1]), int(g[2])
        return _Part("date", s, e, {"year": y, "month": mo, "day": d})
    if "/" in text or re.search(r"\d\.\d", text):
        d, mo = int(g[0]), int(g[1])
        year = int(g[2]) if g[2] else None
        if year is not None and year < 100:
            year += 2000
        if mo > 12 and d <= 12 and "/" in text:  # 12/25: only the month-first reading is a date
            return _Part("date", s, e, {"year": year, "month": d, "day": mo, "numeric": True, "other": None,
                                        "note": f"{d}/{mo} read month first ({mo} is not a month)"})
        if not (1 <= mo <= 12 and 1 <= d <= 31):
            return None
        other = None
        if "/" in text and d <= 12 and mo <= 12 and d != mo:  # 3.12. is always day first
            other = (d, mo)  # (month, day): the month-first reading is a date too
        return _Part("date", s, e, {"year": year, "month": mo, "day": d, "numeric": True, "other": other})
    if g[0] and g[0].isdigit():  # 3 dec [2026]
        d, mo, year = int(g[0]), _MONTHS[g[1]], int(g[2]) if g[2] else None
    else:  # dec 3 [2026]
        mo, d, year = _MONTHS[g[0]], int(g[1]), int(g[2]) if g[2] else None
    return _Part("date", s, e, {"year": year, "month": mo, "day": d})


@dataclass(frozen=True)
class Found:
    """A time phrase found in a text, computed in the person's zone."""

    start: dt.datetime  # aware, in the zone; midnight of the day when has_time is False
    end: dt.datetime | None  # from a duration or a range; None when not said
    has_time: bool  # False: only a day was said ("on friday")
    spans: tuple[tuple[int, int], ...]  # the pieces of the text that said it
    past: bool = False
    ambiguous: str | None = None  # why the reading may not be what was meant
    notes: tuple[str, ...] = ()

    @property
    def span(self) -> tuple[int, int]:
        return (min(s for s, _ in self.spans), max(e for _, e in self.spans))

    @property
    def duration(self) -> dt.timedelta | None:
        # Subtracting two times in one zone gives the wall-clock difference in Python: go through UTC.
        return None if self.end is None else self.end.astimezone(UTC) - self.start.astimezone(UTC)

    @property
    def day(self) -> dt.date:
        return self.start.date()

    def rest(self, text: str) -> str:
        """The text without the time phrase: "call Ana tomorrow 2pm" -> "call Ana"."""
        return strip_spans(text, self.spans)

    def describe(self) -> str:
        """e.g. "Tue 24 Nov 14:00–14:30" or "Fri 27 Nov"."""
        start = self.start
        day = f"{start:%a} {start.day} {start:%b}"
        if not self.has_time:
            return day
        text = f"{day} {start:%H:%M}"
        if self.end is not None:
            end = self.end.astimezone(start.tzinfo)
            text += f"–{end:%H:%M}" if end.date() == start.date() else f" – {end:%a} {end.day} {end:%b} {end:%H:%M}"
        return text


_CONNECTORS = re.compile(r"(?:^|\s)(?:on|at|for|from|by|next|this|in|,|-|–)\s*$", re.I)


def strip_spans(text: str, spans: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> str:
    """`text` with the spans cut out, connecting words left dangling ("on", "at") removed, tidied."""
    pieces, last = [], 0
    for s, e in sorted(spans):
        piece = text[last:s]
        while True:  # "lunch at " + [span] -> "lunch"
            trimmed = _CONNECTORS.sub("", piece)
            if trimmed == piece:
                break
            piece = trimmed
        pieces.append(piece)
        last = max(last, e)
    pieces.append(text[last:])
    out = " ".join(" ".join(pieces).split())
    out = re.sub(r"\s+([,.;:!?])", r"\1", out)
    return out.strip(" ,;:-–—")


def find_when(text: str, now: dt.datetime, zone: ZoneInfo) -> Found | None:
    """The time phrase in `text`, computed for `now` in `zone`; None when there is none (rules: module doc)."""
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    low = _lower(text)
    parts = _scan(low)
    days = [p for p in parts if p.kind in ("day", "weekday", "date", "delta_day")]
    # A weak time (9.30, a bare 10) counts only right after a day: "tomorrow 9.30", "friday 10".
    kept: list[_Part] = []
    for p in parts:
        if p.weak:
            before = [d for d in days if d.end <= p.start and re.fullmatch(r"\s*(?:at\s*)?,?\s*", low[d.end:p.start])]
            if not before:
                continue
        kept.append(p)
    parts = kept
    times = [p for p in parts if p.kind in ("time", "range")]
    offsets = [p for p in parts if p.kind == "delta"]
    durations = [p for p in parts if p.kind == "duration"]
    if not (days or times or offsets):
        return None
    local_now = now.astimezone(zone)
    notes: list[str] = []
    doubts: list[str] = []
    used: list[_Part] = []

    if offsets:
        offset = offsets[0]
        used.append(offset)
        start = _plus(now, offset.data["delta"], zone)
        if days or times:
            doubts.append(f"“{text[offset.start:offset.end].strip()}” and another time are both given; the offset is used")
        end = None
        if durations:
            used.append(durations[0])
            end = _plus(start, durations[0].data["delta"], zone)
        return _found(start, end, True, used, now, notes, doubts)

    day_part = days[0] if days else None
    if len({_day_key(d) for d in days}) > 1:
        doubts.append(f"two days are named (“{text[days[0].start:days[0].end].strip()}”, "
                      f"“{text[days[1].start:days[1].end].strip()}”); the first is used")
    time_part = None
    if times:
        # The time nearest after the day, else the first.
        after = [t for t in times if day_part is not None and t.start >= day_part.end]
        time_part = after[0] if after else times[0]
        if len(times) > 1:
            doubts.append(f"more than one time is given; “{text[time_part.start:time_part.end].strip()}” is used")
    if day_part is not None:
        used.append(day_part)
        day = _resolve_day(day_part, local_now, notes, doubts)
        if day is None:
            return None
    else:
        day = None
    part_of_day = day_part.data.get("part_of_day") if day_part is not None else None
    if day_part is not None and day_part.data.get("word") == "tonight":
        part_of_day = "night"
    if time_part is None:
        if day is None:
            return None
        if part_of_day:
            notes.append(f"“{part_of_day}” gives no time of day")
        start = dt.datetime.combine(day, dt.time(0, 0), zone)
        past = day < local_now.date()
        return Found(start=start, end=None, has_time=False, spans=tuple((p.start, p.end) for p in used), past=past,
                     ambiguous="; ".join(doubts) or None, notes=tuple(notes))
    used.append(time_part)
    end_clock = None
    if time_part.kind == "range":
        a, b = dict(time_part.data["a"]), dict(time_part.data["b"])
        if a["ampm"] is None and b["ampm"] is not None:
            b24 = _hour24(b, None, [])
            a_pm = a["hour"] + 12 if b["ampm"] == "pm" and a["hour"] < 12 else a["hour"]
            a["ampm"] = "pm" if b["ampm"] == "pm" and a_pm <= b24 else "am"
            if a["hour"] == 12:
                a["ampm"] = "pm"
        clock = (_hour24(a, part_of_day, doubts), a["minute"])
        end_clock = (_hour24(b, part_of_day, doubts), b["minute"])
    else:
        clock = (_hour24(time_part.data, part_of_day, doubts), time_part.data["minute"])
        if time_part.data.get("word") == "midnight":
            doubts.append("“midnight” is read as 00:00 at the start of the day")
    if day is None:
        today_at = _at(local_now.date(), clock, zone, [], [])
        if today_at > now:
            day = local_now.date()
        else:
            day = local_now.date() + dt.timedelta(days=1)
            notes.append(f"tomorrow: {clock[0]:02d}:{clock[1]:02d} today has passed")
    start = _at(day, clock, zone, notes, doubts)
    end = None
    if end_clock is not None:
        end_day = day if end_clock > clock else day + dt.timedelta(days=1)
        end = _at(end_day, end_clock, zone, notes, doubts)
        if durations:
            doubts.append("both a range and a duration are given; the range is used")
    elif durations:
        used.append(durations[0])
        end = _plus(start, durations[0].data["delta"], zone)
    return _found(start, end, True, used, now, notes, doubts)


def _plus(moment: dt.datetime, delta: dt.timedelta, zone: ZoneInfo) -> dt.datetime:
    """Exact time arithmetic (aware + timedelta in one zone is wall-clock arithmetic in Python)."""
    return (moment.astimezone(UTC) + delta).astimezone(zone)


def _day_key(p: _Part) -> tuple:
    return (p.kind, tuple(sorted((k, str(v)) for k, v in p.data.items() if k != "part_of_day")))


def _found(start: dt.datetime, end: dt.datetime | None, has_time: bool, used: list[_Part], now: dt.datetime,
           notes: list[str], doubts: list[str]) -> Found:
    past = start <= now
    return Found(start=start, end=end, has_time=has_time, spans=tuple(sorted((p.start, p.end) for p in used)), past=past,
                 ambiguous="; ".join(doubts) or None, notes=tuple(notes))


def _hour24(clock: dict, part_of_day: str | None, doubts: list[str]) -> int:
    h, ampm = clock["hour"], clock.get("ampm")
    if ampm is not None:
        return hour24(h, ampm)
    if part_of_day in ("afternoon", "evening", "night") and 1 <= h <= 11:
        return h + 12
    if clock.get("bare") and 1 <= h <= 7 and part_of_day != "morning":
        doubts.append(f"“{h}” has no am/pm: read as {h + 12}:00, not {h:02d}:00")
        return h + 12
    return h


def _resolve_day(p: _Part, local_now: dt.datetime, notes: list[str], doubts: list[str]) -> dt.date | None:
    today = local_now.date()
    if p.kind == "day":
        word = p.data["word"]
        offset = {"today": 0, "tonight": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "day after tomorrow": 2}[word]
        return today + dt.timedelta(days=offset)
    if p.kind == "delta_day":
        return today + dt.timedelta(days=p.data["days"])
    if p.kind == "weekday":
        target, prefix = p.data["weekday"], p.data["prefix"]
        coming = today + dt.timedelta(days=(target - today.weekday()) % 7 or 7)
        if prefix == "this":
            return today + dt.timedelta(days=(target - today.weekday()) % 7)
        if prefix == "next":
            next_week = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7 + target)
            if next_week != coming:
                doubts.append(f"“next {_DAY_NAMES[target]}” is read as {_short(next_week)} (next week), "
                              f"not the coming {_short(coming)}")
            return next_week
        return coming
    # an explicit date
    d = p.data
    try:
        if d["year"] is not None:
            day = dt.date(d["year"], d["month"], d["day"])
        else:
            day = dt.date(today.year, d["month"], d["day"])
            if day < today - PAST_YEAR_GRACE:
                day = dt.date(today.year + 1, d["month"], d["day"])
                notes.append(f"no year given: {day.year}")
    except ValueError:
        return None
    if d.get("note"):
        notes.append(d["note"])
    if d.get("numeric") and d.get("other"):
        mo, dd = d["other"]
        try:
            other = dt.date(day.year, mo, dd)
        except ValueError:
            other = None
        if other is not None:
            doubts.append(f"{d['day']}/{d['month']} is read day first as {_short(day)}, not {_short(other)}")
    return day


def _short(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _at(day: dt.date, clock: tuple[int, int], zone: ZoneInfo, notes: list[str], doubts: list[str]) -> dt.datetime:
    """The wall-clock time on `day` in `zone`, aware; gaps and folds of DST changes reported."""
    naive = dt.datetime.combine(day, dt.time(*clock))
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    back = first.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != naive:  # in the gap: it does not exist
        doubts.append(f"{clock[0]:02d}:{clock[1]:02d} does not exist on {_short(day)} (clocks go forward): "
                      f"read as {back:%H:%M}")
        return back
    doubts.append(f"{clock[0]:02d}:{clock[1]:02d} happens twice on {_short(day)} (clocks go back): the first is used")
    return first
