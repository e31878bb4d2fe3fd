"""Simple repeating events expanded without icalendar or recurring_ical_events.

A big calendar's repeating events are mostly "every Monday", "every 2 weeks until June",
"the first Tuesday of the month": one RRULE of a few common parts, maybe an EXDATE, and no
override. Parsing those through icalendar and walking them through recurring_ical_events is
about half of what a 20,000-event poll costs, for occurrences that dateutil (which
recurring_ical_events asks in the end) gives straight from the rule. Here a plain event
(plain.py) with such a rule gets its start times in and around the window, the way
recurring_ical_events finds them: DTSTART always counts (unless after UNTIL), EXDATE
removes a start by its UTC time or its wall-clock time, all-day EXDATEs by the day.

Anything else falls back to the full way, for that event only: another rule part
(BYSETPOS, BYHOUR...), a rule part twice or in lower case, an UNTIL whose form does not
match DTSTART (recurring_ical_events rewrites those), an EXDATE of another kind than
DTSTART, RDATE, RECURRENCE-ID, a UID shared with an override, more starts than the
occurrence cap, or a rule walk longer than `MAX_STEPS`.
`tests/test_calendar_plain.py` checks that both ways give the same occurrences.
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil import rrule as du

_DAY = r"(?:MO|TU|WE|TH|FR|SA|SU)"
_PARTS = {
    "FREQ": re.compile(r"^(?:DAILY|WEEKLY|MONTHLY|YEARLY)$"),
    "INTERVAL": re.compile(r"^[1-9]\d{0,3}$"),
    "COUNT": re.compile(r"^[1-9]\d{0,4}$"),
    "UNTIL": re.compile(r"^\d{8}(?:T\d{6}Z?)?$"),
    "BYDAY": re.compile(rf"^(?:[+-]?[1-5]?{_DAY})(?:,[+-]?[1-5]?{_DAY})*$"),
    "BYMONTHDAY": re.compile(r"^-?(?:[1-9]|[12]\d|3[01])(?:,-?(?:[1-9]|[12]\d|3[01]))*$"),
    "BYMONTH": re.compile(r"^(?:[1-9]|1[0-2])(?:,(?:[1-9]|1[0-2]))*$"),
    "WKST": re.compile(rf"^{_DAY}$"),
}
MAX_STEPS = 20_000  # rule steps walked per event before the full way takes it (its own budget is 200,000)
_MARGIN = dt.timedelta(days=2)  # the full way asks recurring_ical_events for the window and two days each side


def rule_parts(rule: str) -> dict[str, str] | None:
    """The parts of an RRULE value when this module can expand it, else None."""
    parts: dict[str, str] = {}
    for part in rule.split(";"):
        key, eq, value = part.partition("=")
        if not eq or key in parts or key not in _PARTS or not _PARTS[key].match(value):
            return None
        parts[key] = value
    if "FREQ" not in parts or ("COUNT" in parts and "UNTIL" in parts):
        return None
    if parts["FREQ"] != "MONTHLY" and any(d[:-2] for d in parts.get("BYDAY", "").split(",")):
        return None  # ordinals: MONTHLY only (YEARLY's count weeks of the year; DAILY/WEEKLY have none)
    return parts


def _until_fits(until: str, start: dt.date | dt.datetime) -> bool:
    """Whether UNTIL has the form DTSTART asks for; recurring_ical_events rewrites the others."""
    if not isinstance(start, dt.datetime):
        return len(until) == 8
    if start.tzinfo is None:
        return len(until) == 15
    return len(until) == 16


def _ids(moment: dt.date | dt.datetime) -> tuple:
    """recurring_ical_events' recurrence ids of a start: its UTC time and its wall-clock time."""
    if not isinstance(moment, dt.datetime):
        return (dt.datetime.combine(moment, dt.time()),)
    if moment.tzinfo is None:
        return (moment,)
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None), moment.replace(tzinfo=None)


def starts(rule: str, start: dt.date | dt.datetime, exdates: list, duration: dt.timedelta,
           window_start: dt.datetime, window_end: dt.datetime, zone, cap: int) -> list | None:
    """The starts of the series from `rule` that may touch the window, or None for the full way.

    `duration` is the series' (DTEND - DTSTART, wall-clock); the caller still tests each
    occurrence against the window exactly (a start here may end before it begins).
    """
    parts = rule_parts(rule)
    if parts is None or ("UNTIL" in parts and not _until_fits(parts["UNTIL"], start)):
        return None
    all_day = not isinstance(start, dt.datetime)
    if any(isinstance(x, dt.datetime) != (not all_day) or (not all_day and (x.tzinfo is None) != (start.tzinfo is None))
           for x in exdates):
        return None  # an EXDATE of another kind: recurring_ical_events compares those its own way
    first = dt.datetime.combine(start, dt.time()) if all_day else start
    try:
        walk = du.rrulestr(rule, dtstart=first, cache=False)
    except (ValueError, TypeError, OverflowError):
        return None
    until = walk._until  # noqa: SLF001 - dateutil's own reading of UNTIL, as recurring_ical_events compares it

    def utc(moment: dt.datetime) -> dt.datetime:
        return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment

    lo = window_start - _MARGIN - max(duration, dt.timedelta(0))
    hi = window_end + _MARGIN
    gone_days = {x for x in exdates} if all_day else set()
    gone_ids = set() if all_day else {i for x in exdates for i in _ids(x)}
    found: list = []
    seen: set = set()

    def take(moment: dt.datetime) -> bool:
        if moment in seen:
            return True
        seen.add(moment)
        at = utc(moment)
        if at < lo or at > hi:
            return True
        if all_day:
            if moment.date() in gone_days:
                return True
        elif gone_ids.intersection(_ids(moment)):
            return True
        found.append(moment.date() if all_day else moment)
        return len(found) <= cap

    if until is None or not first > until:
        take(first)
    try:
        for steps, moment in enumerate(walk._iter()):  # noqa: SLF001 - the uncached generator, as recurrence.py walks
            if steps > MAX_STEPS:
                return None
            if utc(moment) > hi:
                break
            if not take(moment):
                return None
    except (ValueError, OverflowError):
        return None  # a year past 9999: the full way says what it makes of it
    return None if len(found) > cap else found
