"""Plain single events read without icalendar (plain.py) come out exactly as the full way makes them.

Every kind of event a calendar may hold is expanded twice, with the plain path and with
it turned off (everything through icalendar), and the answers must be equal: items,
their fields and the warnings, in order.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from oxymus.connectors.calendar import ics as ics_mod
from oxymus.connectors.calendar.expand import Limits, Window, expand_ics
from oxymus.connectors.calendar.worker import rows
from test_connector_calendar import BERLIN, ics, vevent

STARTS = [
    "DTSTART;VALUE=DATE:20250321", "DTSTART:20250322", "DTSTART:20250321T100000Z", "DTSTART;TZID=Europe/Berlin:20250321T120000",
    'DTSTART;TZID="America/New_York":20250321T090000', "DTSTART:20250321T083000", "DTSTART;VALUE=DATE-TIME:20250329T233000",
    "DTSTART;TZID=Europe/Berlin:20250330T023000",  # the hour that does not exist (DST)
    "DTSTART;TZID=Europe/Berlin:20251026T023000",  # the hour that happens twice
    "DTSTART:20250313T000000Z",  # exactly the window's first instant, give or take the zone
    "DTSTART;TZID=Mars/Olympus:20250323T100000", "DTSTART:20250230T100000Z", "DTSTART:garbage",
    "dtstart;tzid=Europe/Berlin:20250324T090000", "DTSTART;TZID=W. Europe Standard Time:20250325T090000",
    "DTSTART:20200101T100000Z", "DTSTART;VALUE=DATE:20250512",
]
ENDS = ["", "DTEND;VALUE=DATE:20250323", "DTEND:20250321T110000Z", "DTEND;TZID=Europe/Berlin:20250321T130000",
        "DTEND:20250321T090000", "DURATION:PT1H30M", "DURATION:P1D", "DURATION:P1W", "DURATION:PT0S", "DURATION:-PT1H",
        "DTEND:20250320T100000Z", "DURATION:PT1H\nDTEND:20250321T110000Z"]
EXTRAS = [
    [], ["STATUS:CONFIRMED"], ["STATUS:cancelled"], ["STATUS:Tentative "], ["SUMMARY:Lunch\\, then a walk\\; ok\\nbye\\\\ "],
    ["SUMMARY:  spaced  ", "LOCATION:Room 4", "URL:https://example.com/a?b=c%3A"], ["DESCRIPTION:" + "long " * 500],
    ["SUMMARY;LANGUAGE=en:Hello"], ["X-MOZ-GENERATION:3", "SEQUENCE:2", "CLASS:PUBLIC", "TRANSP:OPAQUE",
                                    "CREATED:20240101T000000Z", "LAST-MODIFIED:20240102T000000Z"],
    ["SEQUENCE:two"], ["DTSTAMP:yesterday"], ["ATTENDEE:mailto:a@example.com"], ["BEGIN:VALARM", "ACTION:DISPLAY",
                                                                               "TRIGGER:-PT15M", "END:VALARM"],
    ["SUMMARY:One", "SUMMARY:Two"], ["summary:lower case name"], ["URL:https://example.com/\\,x"],
    ["SUMMARY:A folded line that goes on and on and on and on and on and on and on and on and on and o", " n past 75"],
    ["X-WEIRD;X-P=\"a:b\":value"], ["LOCATION;ALTREP=\"http://x.example/\":There"],
]


def window() -> Window:
    return Window.of_days(dt.date(2025, 3, 13), dt.date(2025, 5, 19), BERLIN)


def both_ways(text: str, monkeypatch) -> tuple[dict, dict]:
    fast = rows(expand_ics(text.encode(), "cal.ics", window(), Limits()), BERLIN)
    with monkeypatch.context() as m:
        m.setattr(ics_mod, "_plain_events", lambda blocks, header: {})
        full = rows(expand_ics(text.encode(), "cal.ics", window(), Limits()), BERLIN)
    for r in (fast, full):
        r["events"].sort()
    return fast, full


def test_every_kind_of_single_event_reads_the_same_both_ways(monkeypatch):
    events = []
    combos = itertools.product(range(len(STARTS)), range(len(ENDS)), range(len(EXTRAS)))
    for n, (s, e, x) in enumerate(combos):
        if n % 7 and not (e == 0 or x == 0):  # every start with every end and every extra; a seventh of the rest
            continue
        lines = [STARTS[s], *ENDS[e].split("\n"), *EXTRAS[x]]
        events.append(vevent(f"ev{n}@test", *(ln for ln in lines if ln)))
    fast, full = both_ways(ics(*events), monkeypatch)
    assert fast == full
    assert len(fast["events"]) > 500 and len(fast["warnings"]) > 20  # the mix holds both kinds


def test_the_plain_path_takes_most_plain_events_and_leaves_the_rest(monkeypatch):
    text = ics(
        vevent("plain@test", "SUMMARY:Plain", "DTSTART;TZID=Europe/Berlin:20250321T120000", "DURATION:PT1H"),
        vevent("rule@test", "DTSTART:20250321T100000Z", "RRULE:FREQ=DAILY;COUNT=3"),
        vevent("shared@test", "DTSTART:20250321T100000Z"),
        vevent("shared@test", "DTSTART:20250322T100000Z"),
        vevent("custom@test", "DTSTART;TZID=Office:20250321T100000"),
        "BEGIN:VTIMEZONE\nTZID:Office\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0300\n"
        "TZOFFSETTO:+0300\nEND:STANDARD\nEND:VTIMEZONE",
    )
    seen: list[dict] = []
    real = ics_mod._plain_events

    def spy(blocks, header):
        found = real(blocks, header)
        seen.append(found)
        return found

    monkeypatch.setattr(ics_mod, "_plain_events", spy)
    expand_ics(text.encode(), "cal.ics", window(), Limits())
    (found,) = seen
    assert [ev.uid for ev in found.values()] == ["plain@test"]
    monkeypatch.undo()
    fast, full = both_ways(text, monkeypatch)
    assert fast == full and {r[0] for r in fast["events"]} == {"plain@test", "rule@test", "shared@test", "custom@test"}


@pytest.mark.parametrize("header", ["X-WR-TIMEZONE:America/New_York\n", ""])
def test_a_google_style_calendar_zone_is_honoured(monkeypatch, header):
    text = ics(vevent("g@test", "DTSTART:20250321T100000", "DURATION:PT1H"),
               vevent("u@test", "DTSTART:20250321T100000Z", "DURATION:PT1H"), header=header)
    fast, full = both_ways(text, monkeypatch)
    assert fast == full
