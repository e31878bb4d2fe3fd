"""Plain single events read without icalendar: the common case of a big calendar, at a tenth of the cost.

icalendar builds a component, a parameter dict and a typed value for every line, which
is most of what a 20,000-event poll costs. Most events in such a file are plain: one
VEVENT with a UID, a DTSTART and a DTEND or DURATION in the usual forms, a few text
properties, nothing nested, and no recurrence or a simple RRULE (with EXDATEs) that
plain_rule.py expands. Those are read here straight from their
lines into what `expand.py` would have made of them; everything else (a rule, an
override, an alarm, a VTIMEZONE's TZID, an odd parameter, a value that does not
read, a property we do not know, a rule plain_rule.py leaves) goes the full way through icalendar, so every
warning and every rule of expand.py stays exactly as it was.
`tests/test_calendar_plain.py` checks both ways give the same answer.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_NAME = re.compile(r"^[A-Z0-9-]+$")
_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATETIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$")
_STAMP = re.compile(r"^\d{8}T\d{6}Z?$")
_INT = re.compile(r"^[+-]?\d{1,9}$")
_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_UNESCAPE = re.compile(r"\\([\\,;:nN])")  # icalendar's own unescaping of text values

_TEXT = frozenset({"UID", "SUMMARY", "LOCATION", "DESCRIPTION", "STATUS", "TRANSP", "CLASS"})
_STAMPS = frozenset({"DTSTAMP", "CREATED", "LAST-MODIFIED"})
_INTS = frozenset({"SEQUENCE", "PRIORITY"})
_TIMES = frozenset({"DTSTART", "DTEND"})
_KNOWN = _TEXT | _STAMPS | _INTS | _TIMES | {"URL", "DURATION", "RRULE", "EXDATE"}
_NO_PARAMS: list[str] = []
_zones: dict[str, ZoneInfo | None] = {}


@dataclass(slots=True)
class PlainEvent:
    uid: str
    start: dt.date | dt.datetime  # a date, or a datetime: aware (UTC or its TZID), naive when floating
    end: dt.date | dt.datetime | None  # DTEND as read
    duration: dt.timedelta | None
    summary: str
    location: str
    description: str
    url: str
    status: str
    rrule: str | None = None  # a rule for plain_rule.py; the event is plain only if it can expand it
    exdates: tuple = ()
    starts: list | None = None  # the series' starts around the window (plain_rule.starts), set by ics.py


def series_duration(ev: PlainEvent) -> dt.timedelta:
    """What each occurrence lasts, as recurring_ical_events takes it: DTEND - DTSTART (wall-clock), or DURATION."""
    if ev.end is not None:
        return ev.end - ev.start
    if ev.duration is not None:
        return ev.duration
    return dt.timedelta(0) if isinstance(ev.start, dt.datetime) else dt.timedelta(days=1)


def unescape(value: str) -> str:
    return _UNESCAPE.sub(lambda m: "\n" if m[1] in "nN" else m[1], value)


def _zone(tzid: str) -> ZoneInfo | None:
    """An IANA zone by name (cached: 20,000 lookups of the same few names)."""
    if tzid not in _zones:
        try:
            _zones[tzid] = ZoneInfo(tzid) if tzid and "\\" not in tzid and not tzid.startswith("/") else None
        except (ZoneInfoNotFoundError, ValueError, OSError):
            _zones[tzid] = None
    return _zones[tzid]


def _time(params: list[str], value: str, custom_zones: set[str]) -> dt.date | dt.datetime | None:
    kind = tzid = None
    for param in params:
        key, eq, val = param.partition("=")
        key = key.upper()
        if not eq or key not in ("TZID", "VALUE") or (key == "TZID" and tzid) or (key == "VALUE" and kind):
            return None
        if key == "TZID":
            tzid = val[1:-1] if len(val) >= 2 and val[0] == val[-1] == '"' else val
        else:
            kind = val.upper()
    if m := _DATE.match(value):
        if tzid is not None or kind not in (None, "DATE"):
            return None
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    m = _DATETIME.match(value)
    if m is None or kind not in (None, "DATE-TIME"):
        return None
    if m[7]:  # UTC
        if tzid is not None:
            return None
        tz = dt.timezone.utc
    elif tzid is not None:
        if tzid in custom_zones or (tz := _zone(tzid)) is None:
            return None  # a VTIMEZONE of the document's own, or a name icalendar maps: the full way
    else:
        tz = None  # floating: the person's zone, decided by expand.py
    try:
        return dt.datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), tzinfo=tz)
    except ValueError:
        return None


def plain_event(lines: list[str], custom_zones: set[str]) -> PlainEvent | None:
    """The event of a VEVENT block's logical (unfolded) lines, or None when it is not plain."""
    seen: set[str] = set()
    props: dict[str, str] = {}
    start = end = None
    duration = None
    exdates: list = []
    for line in lines[1:-1]:
        head, colon, value = line.partition(":")
        if not colon or '"' in head and head.count('"') % 2:
            return None  # no value, or a colon inside a quoted parameter: the full way
        if ";" in head:
            name, *params = head.split(";")
        else:
            name, params = head, _NO_PARAMS
        if name not in _KNOWN:  # the usual names, already in upper case, need no further look
            name = name.upper()
            if not _NAME.match(name):
                return None
        if name in seen:
            return None
        seen.add(name)
        if name.startswith("X-"):
            continue
        if name == "EXDATE":
            for one in value.split(","):
                if (moment := _time(params, one, custom_zones)) is None:
                    return None
                exdates.append(moment)
            continue
        if name in _TIMES:
            moment = _time(params, value, custom_zones)
            if moment is None:
                return None
            if name == "DTSTART":
                start = moment
            else:
                end = moment
            continue
        if params:
            return None  # LANGUAGE, ALTREP, ENCODING...: rare, and icalendar knows them
        if name in _TEXT:
            props[name] = unescape(value) if "\\" in value else value
        elif name == "URL":
            if "\\" in value:
                return None
            props[name] = value
        elif name == "RRULE":
            props[name] = value
        elif name in _STAMPS:
            if not _STAMP.match(value):
                return None
        elif name in _INTS:
            if not _INT.match(value):
                return None
        elif name == "DURATION":
            m = _DURATION.match(value)
            if m is None or value == "P" or value.endswith("T"):
                return None
            duration = dt.timedelta(weeks=int(m[1] or 0), days=int(m[2] or 0), hours=int(m[3] or 0),
                                    minutes=int(m[4] or 0), seconds=int(m[5] or 0))
        else:
            return None  # BEGIN (a nested alarm), RDATE, RECURRENCE-ID, ATTENDEE...
    uid = props.get("UID", "").strip()
    if start is None or not uid:
        return None
    all_day = not isinstance(start, dt.datetime)
    if end is not None and (duration is not None or isinstance(end, dt.datetime) == all_day
                            or (not all_day and end.tzinfo is not start.tzinfo)):
        return None  # both, a date with a time, or times in two zones: recurring_ical_events' business
    if end is not None and end < start:
        return None  # it swaps them
    if duration is not None and all_day and duration % dt.timedelta(days=1):
        return None
    if exdates and "RRULE" not in props:
        return None
    return PlainEvent(uid, start, end, duration, props.get("SUMMARY", ""), props.get("LOCATION", ""),
                      props.get("DESCRIPTION", ""), props.get("URL", ""), props.get("STATUS", ""),
                      props.get("RRULE"), tuple(exdates))
