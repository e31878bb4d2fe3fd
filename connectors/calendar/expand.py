"""iCalendar text to occurrences in a time window: decoding, parsing, recurrence expansion.

Pure code with no Oxymus imports, shared by every calendar source (files, vdir
folders, URLs, CalDAV), so RRULE/RDATE/EXDATE/RECURRENCE-ID, time zones and
all-day rules are the same whatever the data came from. The servers' own
expansion is never used.

Rules, in one place:

- Parsing is tolerant. One bad event (a line that is not iCalendar, a date that
  does not parse, an RRULE that makes no sense) is skipped with a warning naming
  the origin, the line (of the bad property when known, else of its BEGIN) and
  its UID; the rest loads. Stray lines between components are ignored with a
  warning. When the whole document is unusable (not iCalendar at all, cut off
  before END:VCALENDAR, empty) `IcsError` says why and where.
- Bytes are read as UTF-8; anything else falls back to Windows-1252 (then
  Latin-1, which cannot fail) with a warning naming the first bad line.
- Times: a TZID the system knows (IANA names, Windows names icalendar maps, or a
  VTIMEZONE in the document) is honoured; floating times and unknown TZIDs are
  read in the user's zone (an unknown TZID also gives a warning).
- All-day events run from local midnight of their first day to local midnight
  of the day after their last (DTEND is exclusive, as in iCalendar); no DTEND
  means DURATION, else one day. A timed event without DTEND or DURATION lasts 0 s.
- Cancelled events and cancelled single occurrences are dropped.
- An occurrence's identity is its UID and its RECURRENCE-ID (the slot it had in
  the series, so a moved meeting keeps its identity), as a UTC time or a date.
- To-dos: only open ones (not COMPLETED/CANCELLED, no COMPLETED date) with a DUE.
  A single to-do is kept whenever it is due before the window ends, overdue
  ones included; a repeating one gives one deadline per occurrence in the window.
- Bounds: a series keeps at most `max_occurrences` occurrences in the window (a
  warning names its UID and RRULE line). Rules are walked lazily and uncached, so
  memory stays bounded whatever a rule says; an HOURLY/MINUTELY/SECONDLY rule
  without COUNT starts its walk just before the window. A series that needs more
  than `MAX_STEPS` repetitions to get through the window (FREQ=SECONDLY;COUNT=...
  since 1970), or yields more than max(10,000, 2 x max_occurrences) occurrences
  in and around it, is skipped with a warning. `stop` (a threading.Event) is
  checked as rules are walked, so a poll that timed out ends its worker thread
  instead of leaving it running (`ExpansionStopped`).
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import itertools
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events as rie
import x_wr_timezone
from dateutil import rrule as dateutil_rrule
from recurring_ical_events.util import compare_greater, convert_to_datetime, is_pytz, is_pytz_dt, normalize_pytz

MAX_DESCRIPTION = 2000
MAX_OCCURRENCES = 1000  # per series in the window; the config's default
MAX_STEPS = 200_000  # repetitions walked per series (before and in the window): 0.5 s of dateutil at worst
_STOP_EVERY = 1024  # steps between looks at the stop flag
_ESSENTIAL = {"UID", "DTSTART", "DTEND", "DUE", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", None}
_TIME_PROPS = ("DTSTART", "DTEND", "DUE", "RECURRENCE-ID")
_PROPERTY_LINE = re.compile(r"^[A-Za-z0-9-]+(;[^:]*)?:")
_UID_LINE = re.compile(r"^UID(;[^:]*)?:(.*)$", re.IGNORECASE)


class IcsError(Exception):
    """The whole document is unusable; the message names the line when there is one."""


class ExpansionStopped(Exception):
    """The caller set the stop flag (its poll timed out): the expansion gave up half-way."""


class _TooManySteps(Exception):
    """str() says which budget ran out, for the warning."""


@dataclass(frozen=True)
class Limits:
    """What one expansion may cost: occurrences kept per series, steps walked per series, and a stop flag."""

    max_occurrences: int = MAX_OCCURRENCES
    max_steps: int = MAX_STEPS
    stop: threading.Event | None = None

    def check(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise ExpansionStopped("stopped")


class _Steps:
    """Counts the repetitions one series walks; raises when over budget or stopped."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        if self.count > self.limits.max_steps:
            raise _TooManySteps(f"over {self.limits.max_steps:,} repetitions before the window ends")
        if self.count % _STOP_EVERY == 0:
            self.limits.check()


def _occurrences(series: _Series, lo, hi, limits: Limits):
    """series.between(lo, hi), with a budget on what it yields, kept or not.

    The span is the window with two days' margin on each side (for time zones), and
    each occurrence costs the library some 50 us: a FREQ=SECONDLY rule would yield
    350,000 in the margins alone. Allowed: twice the cap, and at least 10,000 (a
    MINUTELY rule's margins hold 5,760).
    """
    budget = max(10_000, 2 * limits.max_occurrences)
    for n, occ in enumerate(series.between(lo, hi), 1):
        if n > budget:
            raise _TooManySteps(f"over {budget:,} occurrences in and around the window")
        if n % _STOP_EVERY == 0:
            limits.check()
        yield occ


class _LazyRules(rie.Series.RecurrenceRules):
    """recurring-ical-events' rules, walked lazily.

    The library asks dateutil's `between()`, which builds the whole list, on rules
    made with cache=True, which keep every step: FREQ=SECONDLY with no end took
    gigabytes. Here each rule is walked with its uncached generator, counted, and
    left as soon as it passes the span.
    """

    steps: _Steps

    def rrule_between(self, span_start, span_stop):
        start = convert_to_datetime(span_start, self.tzinfo)
        stop = convert_to_datetime(span_stop, self.tzinfo)
        if is_pytz(self.tzinfo):  # as the library does: pytz zones are off by up to an hour at changes
            start = normalize_pytz(start - dt.timedelta(hours=1))
            stop = normalize_pytz(stop + dt.timedelta(hours=1))
        for rule in self.rrules:
            until = rule.until  # set by the library on its rule; a replaced rule lacks it
            for moment in _skipped_ahead(rule, start)._iter():  # noqa: SLF001 - dateutil's uncached generator
                self.steps.tick()
                if moment > stop:
                    break
                if moment < start:
                    continue
                if is_pytz_dt(moment):
                    moment = moment.tzinfo.localize(moment.replace(tzinfo=None))
                if until is None or not compare_greater(moment, until):
                    yield moment


_SECONDS = {dateutil_rrule.HOURLY: 3600, dateutil_rrule.MINUTELY: 60, dateutil_rrule.SECONDLY: 1}


def _skipped_ahead(rule, start: dt.datetime):
    """The rule restarted at its last step before `start`, when that yields the same times.

    An HOURLY/MINUTELY/SECONDLY rule without COUNT repeats a fixed lattice of wall-clock
    times (dateutil steps the naive fields), so a DTSTART moved by whole intervals gives
    the same occurrences from there on; "every 15 minutes since 2020" then costs the
    window, not six years of steps. Other rules are walked from their start.
    """
    if not isinstance(rule, dateutil_rrule.rrule) or rule._freq not in _SECONDS or rule._count is not None:  # noqa: SLF001
        return rule
    first = rule._dtstart  # noqa: SLF001
    zone = first.tzinfo
    if (start.tzinfo is None) != (zone is None):
        return rule
    target = start.astimezone(zone).replace(tzinfo=None) if zone is not None else start
    step = _SECONDS[rule._freq] * rule._interval  # noqa: SLF001
    skip = int((target - first.replace(tzinfo=None)).total_seconds() // step) - 1
    if skip <= 0:
        return rule
    moved = first.replace(tzinfo=None) + dt.timedelta(seconds=skip * step)
    return rule.replace(dtstart=moved.replace(tzinfo=zone), cache=False)


class _Series(rie.Series):
    RecurrenceRules = _LazyRules


def _series(adapters, limits: Limits) -> _Series:
    series = _Series(adapters)
    series.recurrence.steps = _Steps(limits)  # NoRecurrence never walks a rule
    return series


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
        return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat()


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


@dataclass
class _Block:
    name: str
    line: int
    lines: list[str]

    def logical(self) -> list[str]:
        """Unfolded lines (RFC 5545 folding: a continuation starts with a space or tab)."""
        out: list[str] = []
        for line in self.lines:
            if line[:1] in (" ", "\t") and out:
                out[-1] += line[1:]
            else:
                out.append(line)
        return out

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


def parse(text: str, origin: str, warnings: list[str], window: "Window | None" = None) -> list[_Parsed]:
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
        kept: list[int] = []
        for block in blocks:
            if block.name not in ("VEVENT", "VTODO"):
                continue
            if block.name == "VEVENT" and window is not None and _clearly_outside(block, first, last):
                continue
            if (comp := _parse_block(block, origin, warnings)) is not None:
                cal.add_component(comp)
                kept.append(block.line)
        if cal.get("X-WR-TIMEZONE"):
            # Google-style exports: UTC and floating times belong to this zone (wall-clock RRULEs)
            cal = x_wr_timezone.to_standard(cal)
        comps = [c for c in cal.subcomponents if c.name in ("VEVENT", "VTODO")]
        result.append(_Parsed(cal, [_Item(c, line) for c, line in zip(comps, kept)], lines))
    return result


# ---------------------------------------------------------------- expansion


def expand_ics(data: bytes | str, origin: str, window: Window, limits: Limits = Limits()) -> Expansion:
    """Everything one document holds for `window`: event occurrences, open to-dos, warnings.

    Raises IcsError when the document is unusable, ExpansionStopped when `limits.stop` was set.
    """
    out = Expansion()
    if isinstance(data, bytes):
        text, problem = decode(data)
        if problem:
            out.warnings.append(f"{origin} {problem}")
    else:
        text = data
    limits.check()
    for parsed in parse(text, origin, out.warnings, window):
        _expand_calendar(parsed, origin, window, out, limits)
    return out


def _expand_calendar(parsed: _Parsed, origin: str, window: Window, out: Expansion, limits: Limits) -> None:
    groups: dict[tuple[str, str], list[_Item]] = defaultdict(list)
    for item in parsed.items:
        comp = item.component
        uid = _text(comp, "UID")
        if not uid:
            uid = "nouid-" + hashlib.sha1(comp.to_ical()).hexdigest()[:16]
            comp["UID"] = uid
        problem = _fatal_problem(comp)
        if problem:
            line = _bad_line(parsed.lines, item.line, *problem) or item.line
            out.warnings.append(f"{_where(origin, line, uid)}: {comp.name} skipped: {problem[1]}")
            continue
        for name, message in getattr(comp, "errors", None) or []:
            out.warnings.append(f"{_where(origin, item.line, uid)}: {name}: {message} (ignored)")
        groups[(comp.name, uid)].append(item)
    if not groups:
        return
    lo = (window.start.astimezone(window.zone).replace(tzinfo=None)) - dt.timedelta(days=2)
    hi = (window.end.astimezone(window.zone).replace(tzinfo=None)) + dt.timedelta(days=2)
    for (name, uid), items in groups.items():
        first = min((i.line for i in items if i.line), default=None)
        where = _where(origin, first, uid)
        comps = [i.component for i in items]
        for tzid in _unknown_tzids(comps):
            line = _line_of(parsed.lines, first, lambda t, tzid=tzid: f"TZID={tzid}" in t or f'TZID="{tzid}"' in t)
            out.warnings.append(
                f"{_where(origin, line or first, uid)}: unknown time zone {tzid!r}, times read as {window.zone.key} local time"
            )
        limits.check()
        cap = limits.max_occurrences
        try:  # materialized first (at most cap + 1), so a series that fails half-way adds nothing
            if name == "VEVENT":
                found = list(itertools.islice(_event_occurrences(uid, comps, window, lo, hi, limits), cap + 1))
            else:
                found = list(itertools.islice(_todo_dues(uid, comps, window, lo, hi, limits), cap + 1))
        except ExpansionStopped:
            raise
        except _TooManySteps as e:
            line = _line_of(parsed.lines, first, lambda t: t.upper().startswith(("RRULE:", "RRULE;"))) or first
            out.warnings.append(
                f"{_where(origin, line, uid)}: {name} skipped: it repeats too often to expand ({e})"
            )
            continue
        except Exception as e:  # noqa: BLE001 - one bad series must never stop the rest
            out.warnings.append(f"{where}: {name} skipped: {type(e).__name__}: {e}")
            continue
        if len(found) > cap:
            found = found[:cap]
            line = _line_of(parsed.lines, first, lambda t: t.upper().startswith(("RRULE:", "RRULE;"))) or first
            out.warnings.append(
                f"{_where(origin, line, uid)}: more than {cap:,} occurrences in the window; "
                f"kept the first {cap:,} (see [calendar] max_occurrences)"
            )
        (out.events if name == "VEVENT" else out.todos).extend(found)


_QUOTED = re.compile(r"'([^']{3,})'")


def _line_of(lines: list[str], begin: int | None, found) -> int | None:
    """The first line from a component's BEGIN to its END for which `found(line)` holds."""
    if not begin:
        return None
    for number in range(begin, len(lines) + 1):
        text = lines[number - 1]
        if found(text):
            return number
        if text.strip().upper() in ("END:VEVENT", "END:VTODO"):
            return None
    return None


def _bad_line(lines: list[str], begin: int | None, prop: str | None, message: str) -> int | None:
    """The line a problem is on: the property's line, or the line a parse error quotes."""
    if prop is not None:
        return _line_of(lines, begin, lambda t: t.strip().upper().startswith((prop + ":", prop + ";")))
    match = _QUOTED.search(message)
    if match is None:
        return None
    snippet = match.group(1).strip()
    return _line_of(lines, begin, lambda t: snippet in t)


def _fatal_problem(comp) -> tuple[str | None, str] | None:
    """(property or None, message) when the component cannot be used at all."""
    for name, message in getattr(comp, "errors", None) or []:
        if name in _ESSENTIAL:
            return name, (f"{name}: {message}" if name else message)
    if comp.name == "VEVENT" and comp.get("DTSTART") is None:
        return None, "no DTSTART"
    for prop in _TIME_PROPS:
        value = comp.get(prop)
        if value is None:
            continue
        try:
            for v in value if isinstance(value, list) else [value]:
                v.dt  # noqa: B018 - a broken value raises here
        except Exception as e:  # noqa: BLE001
            return prop, f"{prop}: {e}"
    return None


def _unknown_tzids(comps) -> list[str]:
    found: list[str] = []
    for comp in comps:
        for prop in (*_TIME_PROPS, "EXDATE", "RDATE"):
            values = comp.get(prop)
            for v in values if isinstance(values, list) else [values]:
                if v is None:
                    continue
                tzid = v.params.get("TZID") if hasattr(v, "params") else None
                if not tzid or tzid in found:
                    continue
                moments = getattr(v, "dts", None)
                moments = [m.dt for m in moments] if moments else [v.dt]
                if any(isinstance(m, dt.datetime) and m.tzinfo is None for m in moments):
                    found.append(str(tzid))
    return found


def _is_recurring(comps) -> bool:
    return any(c.get("RRULE") or c.get("RDATE") or c.get("RECURRENCE-ID") for c in comps)


def _localize(moment: dt.date | dt.datetime, zone: ZoneInfo) -> dt.date | dt.datetime:
    if isinstance(moment, dt.datetime):
        return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
    return moment


def _event_occurrences(uid: str, comps, window: Window, lo, hi, limits: Limits) -> Iterable[EventOccurrence]:
    zone = window.zone
    recurring = _is_recurring(comps)
    series = _series([rie.EventAdapter(c) for c in comps], limits)
    for occ in _occurrences(series, lo, hi, limits):
        start, end = occ.start, occ.end
        all_day = not isinstance(start, dt.datetime)
        if all_day:
            if isinstance(end, dt.datetime):
                end = _localize(end, zone).date()
            if end <= start:
                end = start + dt.timedelta(days=1)
            starts_at, ends_at = local_midnight(start, zone), local_midnight(end, zone)
        else:
            start = _localize(start, zone)
            end = _localize(end, zone) if isinstance(end, dt.datetime) else local_midnight(end, zone)
            if end < start:
                end = start
            starts_at, ends_at = start, end
        starts_at, ends_at = starts_at.astimezone(dt.timezone.utc), ends_at.astimezone(dt.timezone.utc)
        if not _overlaps(starts_at, ends_at, window):
            continue  # before building the component: most of the cost of an occurrence
        comp = occ.as_component(False)
        status = _text(comp, "STATUS").upper() or None
        if status == "CANCELLED":
            continue
        rid = comp.get("RECURRENCE-ID")
        slot = _localize(rid.dt, zone) if rid is not None else start
        description = _text(comp, "DESCRIPTION") or None
        if description and len(description) > MAX_DESCRIPTION:
            description = description[: MAX_DESCRIPTION - 1] + "…"
        yield EventOccurrence(
            uid=uid,
            occurrence=utc_key(slot),
            summary=_text(comp, "SUMMARY"),
            start=start,
            end=end,
            starts_at=starts_at,
            ends_at=ends_at,
            all_day=all_day,
            recurring=recurring,
            status=status,
            location=_text(comp, "LOCATION") or None,
            description=description,
            url=_text(comp, "URL") or None,
        )


def _overlaps(starts_at: dt.datetime, ends_at: dt.datetime, window: Window) -> bool:
    if starts_at >= window.end:
        return False
    return ends_at > window.start or (ends_at == starts_at and starts_at >= window.start)


def _todo_open(comp) -> bool:
    status = _text(comp, "STATUS").upper()
    return status not in ("COMPLETED", "CANCELLED") and comp.get("COMPLETED") is None


def _todo_dues(uid: str, comps, window: Window, lo, hi, limits: Limits) -> Iterable[TodoDue]:
    zone = window.zone
    if not any(c.get("DUE") is not None for c in comps):
        return
    if not _is_recurring(comps):
        comp = comps[0]
        if _todo_open(comp) and comp.get("DUE") is not None:
            due = _due(uid, None, comp, comp["DUE"].dt, False, zone)
            if due.starts_at < window.end:
                yield due
        return
    series = _series([rie.TodoAdapter(c) for c in comps], limits)
    for occ in _occurrences(series, lo, hi, limits):
        comp = occ.as_component(False)
        if not _todo_open(comp) or comp.get("DUE") is None:
            continue
        rid = comp.get("RECURRENCE-ID")
        slot = _localize(rid.dt if rid is not None else occ.start, zone)
        due = _due(uid, utc_key(slot), comp, occ.end, True, zone)
        if _overlaps(due.starts_at, due.ends_at, window):
            yield due


def _due(uid: str, occurrence: str | None, comp, moment, recurring: bool, zone: ZoneInfo) -> TodoDue:
    all_day = not isinstance(moment, dt.datetime)
    if all_day:
        starts_at = local_midnight(moment, zone)
        ends_at = local_midnight(moment + dt.timedelta(days=1), zone)
        due = moment
    else:
        due = _localize(moment, zone)
        starts_at = ends_at = due
    try:
        priority = int(comp.get("PRIORITY", 0)) or None
    except (TypeError, ValueError):
        priority = None
    return TodoDue(
        uid=uid,
        occurrence=occurrence,
        summary=_text(comp, "SUMMARY"),
        due=due,
        starts_at=starts_at.astimezone(dt.timezone.utc),
        ends_at=ends_at.astimezone(dt.timezone.utc),
        all_day=all_day,
        recurring=recurring,
        status=_text(comp, "STATUS").upper() or None,
        priority=priority,
    )


def _text(comp, name: str) -> str:
    value = comp.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()
