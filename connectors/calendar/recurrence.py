"""Recurrence walking and its bounds: what one expansion may cost, and the lazily walked rules.

recurring-ical-events does the RRULE/RDATE/EXDATE/RECURRENCE-ID work; here its
rules are walked lazily and uncached, counted against `Limits`, and stopped by
the caller's flag (the "Bounds" rules in expand.py's docstring).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

import recurring_ical_events as rie
from dateutil import rrule as dateutil_rrule
from recurring_ical_events.util import compare_greater, convert_to_datetime, is_pytz, is_pytz_dt, normalize_pytz

MAX_OCCURRENCES = 1000  # per series in the window; the config's default
MAX_STEPS = 200_000  # repetitions walked per series (before and in the window): 0.5 s of dateutil at worst
_STOP_EVERY = 1024  # steps between looks at the stop flag


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
