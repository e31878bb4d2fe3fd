"""iCalendar text in: decoding bytes and parsing a document into its calendars and components.

Tolerant, as expand.py's rules say: a broken component costs only itself, with a
warning naming the origin, its line and its UID; `IcsError` when the whole
document is unusable. Used by expand.py, which walks what is parsed here.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import icalendar
import x_wr_timezone

from oxymus.connectors.calendar import plain_rule
from oxymus.connectors.calendar.plain import PlainEvent, plain_event, series_duration, unescape

if TYPE_CHECKING:
    from oxymus.connectors.calendar.occurrence import Window

_PROPERTY_LINE = re.compile(r"^[A-Za-z0-9-]+(;[^:]*)?:")
_UID_LINE = re.compile(r"^UID(;[^:]*)?:(.*)$", re.IGNORECASE)


class IcsError(Exception):
    """The whole document is unusable; the message names the line when there is one."""


# ---------------------------------------------------------------- decoding


def decode(data: bytes) -> tuple[str, str | None]:
    """Text from bytes, and a warning (without origin) when it was not UTF-8."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec).lstrip("\ufeff"), None
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
    try:
        text, name = data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        text, name = data.decode("latin-1"), "Latin-1"
    return text, f"line {line}: not valid UTF-8, read as {name}"


# ---------------------------------------------------------------- parsing
#
# The document is cut into its top-level components by a line scanner, and each
# component is parsed on its own: a broken one costs only itself, every warning
# knows its line, and a single event that clearly lies outside the window (no
# recurrence, dates more than two days away) is never parsed at all, which keeps
# a 10 MB feed of years of history fast.


@dataclass
class _Item:
    component: icalendar.cal.Component
    line: int  # 1-based line of its BEGIN


@dataclass
class _Parsed:
    calendar: icalendar.Calendar  # calendar-level properties and VTIMEZONEs
    items: list[_Item]
    lines: list[str]
    plain: list[PlainEvent] = field(default_factory=list)  # plain single events, read without icalendar (plain.py)


@dataclass
class _Block:
    name: str
    line: int
    lines: list[str]

    unfolded: list[str] | None = field(default=None, repr=False)

    def logical(self) -> list[str]:
        """Unfolded lines (RFC 5545 folding: a continuation starts with a space or tab); worked out once."""
        if self.unfolded is None:
            out: list[str] = []
            for line in self.lines:
                if line[:1] in (" ", "\t") and out:
                    out[-1] += line[1:]
                else:
                    out.append(line)
            self.unfolded = out
        return self.unfolded

    def uid(self) -> str | None:
        for line in self.logical():
            if m := _UID_LINE.match(line):
                return m.group(2).strip()
        return None


def _where(origin: str, line: int | None, uid: str | None) -> str:
    place = origin + (f" line {line}" if line else "")
    return f"{place} (UID {uid})" if uid else place


def _split(lines: list[str], origin: str, warnings: list[str]) -> list[tuple[list[str], list[_Block]]]:
    """Cut a document into calendars: (calendar-level property lines, top-level blocks)."""
    calendars: list[tuple[list[str], list[_Block]]] = []
    outside: list[int] = []
    junk: list[int] = []
    header: list[str] = []
    blocks: list[_Block] = []
    block: _Block | None = None
    depth = 0  # 0 outside, 1 in VCALENDAR, 2+ inside a component
    for number, line in enumerate(lines, 1):
        if depth > 1 and (first := line[:1]) and first not in "BbEe" and not first.isspace():
            block.lines.append(line)  # the bulk: a component's property line, neither BEGIN nor END
            continue
        upper = line.strip().upper()
        if depth == 0:
            if upper == "BEGIN:VCALENDAR":
                depth, header, blocks = 1, [], []
            elif upper:
                outside.append(number)
            continue
        if depth == 1:
            if upper == "END:VCALENDAR":
                calendars.append((header, blocks))
                depth = 0
            elif upper.startswith("BEGIN:"):
                block = _Block(upper[6:], number, [line])
                depth = 2
            elif upper.startswith("END:"):
                junk.append(number)
            elif line[:1] in (" ", "\t") or _PROPERTY_LINE.match(line):
                header.append(line)
            elif upper:
                junk.append(number)
            continue
        if upper == "END:VCALENDAR":  # a component that never ended
            warnings.append(f"{_where(origin, block.line, block.uid())}: {block.name} has no END, skipped")
            calendars.append((header, blocks))
            depth = 0
            continue
        block.lines.append(line)
        if upper.startswith("BEGIN:"):
            depth += 1
        elif upper.startswith("END:"):
            depth -= 1
            if depth == 1:
                blocks.append(block)
    if depth:
        raise IcsError(f"{origin} line {len(lines)}: ends before END:VCALENDAR (cut off?)")
    if outside:
        warnings.append(f"{origin} line {outside[0]}: {_lines(outside)} outside any calendar, ignored")
    if junk:
        warnings.append(f"{origin} line {junk[0]}: {_lines(junk)} not iCalendar, ignored")
    return calendars


def _lines(numbers: list[int]) -> str:
    return "1 line" if len(numbers) == 1 else f"{len(numbers)} lines"


_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DURATION = re.compile(r"^[+]?P(?:(\d+)W)?(?:(\d+)D)?(T.*)?$")
_RECURRENCE = ("RRULE", "RDATE", "EXRULE", "RECURRENCE-ID")


def _clearly_outside(block: _Block, first: dt.date, last: dt.date) -> bool:
    """A single (non-recurring) VEVENT whose dates are more than two days outside [first, last]."""
    start = end = None
    duration = None
    for line in block.logical():
        name, _, value = line.partition(":")
        name = name.split(";", 1)[0].strip().upper()
        if name in _RECURRENCE:
            return False
        if name in ("DTSTART", "DTEND"):
            m = _DATE.match(value.strip())
            if not m:
                return False
            try:
                day = dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return False
            if name == "DTSTART":
                start = day
            else:
                end = day
        elif name == "DURATION":
            m = _DURATION.match(value.strip())
            if not m:
                return False
            duration = dt.timedelta(weeks=int(m[1] or 0), days=int(m[2] or 0) + (1 if m[3] else 0))
    if start is None:
        return False
    if end is None:
        end = start + (duration or dt.timedelta(days=1))
    margin = dt.timedelta(days=2)
    return end + margin < first or start - margin > last


def _parse_block(block: _Block, origin: str, warnings: list[str]):
    try:
        return icalendar.cal.Component.from_ical("\r\n".join(block.lines))
    except ValueError as e:
        warnings.append(f"{_where(origin, block.line, block.uid())}: {block.name} skipped: {e}")
        return None


def parse(text: str, origin: str, warnings: list[str], window: "Window | None" = None, cap: int = 1000) -> list[_Parsed]:
    """Parse a document into calendars, keeping every component that reads (see the rules above)."""
    if not text.strip():
        raise IcsError(f"{origin}: is empty")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not any(line.strip().upper() == "BEGIN:VCALENDAR" for line in lines):
        start = next((line.strip() for line in lines if line.strip()), "")[:60]
        raise IcsError(f"{origin} line 1: not an iCalendar document (no BEGIN:VCALENDAR; it starts with {start!r})")
    if window is not None:
        first = window.start.astimezone(window.zone).date()
        last = window.end.astimezone(window.zone).date()
    result = []
    for header, blocks in _split(lines, origin, warnings):
        try:
            cal = icalendar.Calendar.from_ical("\r\n".join(["BEGIN:VCALENDAR", *header, "END:VCALENDAR"]))
        except ValueError as e:
            warnings.append(f"{origin}: calendar properties ignored: {e}")
            cal = icalendar.Calendar()
        # time zones first: a custom TZID must be known before the times that use it are read
        for block in blocks:
            if block.name == "VTIMEZONE" and (comp := _parse_block(block, origin, warnings)) is not None:
                cal.add_component(comp)
        plain = _plain_events(blocks, header, window, cap)
        wanted = [b for b in blocks if b.name == "VTODO" or (b.name == "VEVENT" and id(b) not in plain and (
            window is None or not _clearly_outside(b, first, last)))]
        kept: list[int] = []
        for block in wanted:
            if id(block) in plain:
                continue
            if (comp := _parse_block(block, origin, warnings)) is not None:
                cal.add_component(comp)
                kept.append(block.line)
        if cal.get("X-WR-TIMEZONE"):
            # Google-style exports: UTC and floating times belong to this zone (wall-clock RRULEs)
            cal = x_wr_timezone.to_standard(cal)
        comps = [c for c in cal.subcomponents if c.name in ("VEVENT", "VTODO")]
        result.append(_Parsed(cal, [_Item(c, line) for c, line in zip(comps, kept)], lines, list(plain.values())))
    return result


_TZID_LINE = re.compile(r"^TZID(;[^:]*)?:(.*)$", re.IGNORECASE)


def _plain_events(blocks: list[_Block], header: list[str], window: "Window | None" = None,
                  cap: int = 1000) -> dict[int, PlainEvent]:
    """The VEVENT blocks that are plain events (plain.py), by the block's id().

    Not in a calendar with X-WR-TIMEZONE (its UTC and floating times are rewritten), and
    not when another event shares the UID (an override, a duplicate: expand.py groups them).
    A plain single event is read whatever its dates; its window test comes after (expand.py).
    A plain repeating one needs the window: its starts around it are found here
    (plain_rule.py), at most `cap` of them, or it goes the full way.
    """
    if any(line.upper().startswith(("X-WR-TIMEZONE:", "X-WR-TIMEZONE;")) for line in header):
        return {}
    custom = {m.group(2).strip().strip('"') for b in blocks if b.name == "VTIMEZONE"
              for line in b.logical() if (m := _TZID_LINE.match(line))}
    found: dict[int, PlainEvent] = {}
    uids: dict[str, int] = {}
    for block in blocks:
        if block.name != "VEVENT":
            continue
        ev = plain_event(block.logical(), custom)
        if ev is not None and ev.rrule is not None:
            ev.starts = None if window is None else plain_rule.starts(
                ev.rrule, ev.start, list(ev.exdates), series_duration(ev), window.start, window.end, window.zone, cap)
            if ev.starts is None:
                ev = None
        if ev is not None:
            found[id(block)] = ev
            uid = ev.uid
        else:
            uid = unescape(block.uid() or "").strip()
        uids[uid] = uids.get(uid, 0) + 1
    return {key: ev for key, ev in found.items() if uids[ev.uid] == 1}
