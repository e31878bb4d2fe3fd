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

This module expands; the rest lives beside it, and what callers use is importable
from here: ics.py decodes and parses, recurrence.py walks the rules within their
bounds (`Limits`), occurrence.py holds the window and what an expansion yields, and
plain.py with plain_rule.py read plain events and simple series (one everyday RRULE, EXDATEs)
without icalendar, to the same occurrences.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import recurring_ical_events as rie

from oxymus.connectors.calendar.ics import IcsError, _Item, _Parsed, _where, decode, parse
from oxymus.connectors.calendar.plain import PlainEvent, series_duration
from oxymus.connectors.calendar.occurrence import EventOccurrence, Expansion, TodoDue, Window, local_midnight, utc_key
from oxymus.connectors.calendar.recurrence import (
    MAX_OCCURRENCES,
    MAX_STEPS,
    ExpansionStopped,
    Limits,
    _occurrences,
    _series,
    _TooManySteps,
)

__all__ = [
    "MAX_DESCRIPTION",
    "MAX_OCCURRENCES",
    "MAX_STEPS",
    "EventOccurrence",
    "Expansion",
    "ExpansionStopped",
    "IcsError",
    "Limits",
    "TodoDue",
    "Window",
    "decode",
    "expand_ics",
    "local_midnight",
    "parse",
    "utc_key",
]

MAX_DESCRIPTION = 2000
_ESSENTIAL = {"UID", "DTSTART", "DTEND", "DUE", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", None}
_TIME_PROPS = ("DTSTART", "DTEND", "DUE", "RECURRENCE-ID")


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
    for parsed in parse(text, origin, out.warnings, window, limits.max_occurrences):
        _expand_calendar(parsed, origin, window, out, limits)
        for n, plain in enumerate(parsed.plain):
            if n % 1000 == 0:
                limits.check()
            if plain.starts is None:
                if (occurrence := _plain_occurrence(plain, window)) is not None:
                    out.events.append(occurrence)
                continue
            duration = series_duration(plain)
            for start in plain.starts:
                if (occurrence := _plain_occurrence(plain, window, start, start + duration)) is not None:
                    out.events.append(occurrence)
    return out


def _plain_occurrence(ev: PlainEvent, window: Window, start=None, end=None) -> EventOccurrence | None:
    """What `_event_occurrences` makes of a plain event (plain.py), without icalendar: the single
    event, or the occurrence of a plain series from `start` to `end` (plain_rule.py)."""
    zone = window.zone
    recurring = start is not None
    if not recurring:
        start = ev.start
        if ev.end is not None:
            end = ev.end
        elif ev.duration is not None:
            end = start + ev.duration
        else:
            end = start if isinstance(start, dt.datetime) else start + dt.timedelta(days=1)
    all_day = not isinstance(start, dt.datetime)
    if all_day:
        if end <= start:
            end = start + dt.timedelta(days=1)
        starts_at, ends_at = local_midnight(start, zone), local_midnight(end, zone)
    else:
        start, end = _localize(start, zone), _localize(end, zone)
        if end < start:
            end = start
        starts_at, ends_at = start, end
    starts_at, ends_at = starts_at.astimezone(dt.timezone.utc), ends_at.astimezone(dt.timezone.utc)
    status = ev.status.strip().upper() or None
    if status == "CANCELLED" or not _overlaps(starts_at, ends_at, window):
        return None
    description = ev.description.strip() or None
    if description and len(description) > MAX_DESCRIPTION:
        description = description[: MAX_DESCRIPTION - 1] + "…"
    return EventOccurrence(
        uid=ev.uid, occurrence=utc_key(start), summary=ev.summary.strip(), start=start, end=end,
        starts_at=starts_at, ends_at=ends_at, all_day=all_day, recurring=recurring, status=status,
        location=ev.location.strip() or None, description=description, url=ev.url.strip() or None,
    )


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
    texts: dict[int, tuple] = {}
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
        # The fields read here are the source component's, untouched by as_component() (which
        # copies the whole component per occurrence): read once per component, not per occurrence.
        source = getattr(getattr(occ, "_adapter", None), "_component", None)
        fields = texts.get(id(source)) if source is not None else None
        if fields is None:
            comp = source if source is not None else occ.as_component(False)
            fields = _event_texts(comp)
            if source is not None:
                texts[id(source)] = fields
        status, summary, location, description, url, rid = fields
        if status == "CANCELLED":
            continue
        # as_component() sets a missing RECURRENCE-ID to the occurrence's start
        slot = _localize(rid.dt, zone) if rid is not None else start
        yield EventOccurrence(
            uid=uid,
            occurrence=utc_key(slot),
            summary=summary,
            start=start,
            end=end,
            starts_at=starts_at,
            ends_at=ends_at,
            all_day=all_day,
            recurring=recurring,
            status=status,
            location=location,
            description=description,
            url=url,
        )


def _event_texts(comp) -> tuple:
    description = _text(comp, "DESCRIPTION") or None
    if description and len(description) > MAX_DESCRIPTION:
        description = description[: MAX_DESCRIPTION - 1] + "…"
    return (_text(comp, "STATUS").upper() or None, _text(comp, "SUMMARY"), _text(comp, "LOCATION") or None,
            description, _text(comp, "URL") or None, comp.get("RECURRENCE-ID"))


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
