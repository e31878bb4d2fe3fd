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
        m.setattr(ics_mod, "_plain_events", lambda *args: {})
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
        vevent("setpos@test", "DTSTART:20250321T100000Z", "RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-1"),
        vevent("shared@test", "DTSTART:20250321T100000Z"),
        vevent("shared@test", "DTSTART:20250322T100000Z"),
        vevent("custom@test", "DTSTART;TZID=Office:20250321T100000"),
        "BEGIN:VTIMEZONE\nTZID:Office\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0300\n"
        "TZOFFSETTO:+0300\nEND:STANDARD\nEND:VTIMEZONE",
    )
    seen: list[dict] = []
    real = ics_mod._plain_events

    def spy(*args):
        found = real(*args)
        seen.append(found)
        return found

    monkeypatch.setattr(ics_mod, "_plain_events", spy)
    expand_ics(text.encode(), "cal.ics", window(), Limits())
    (found,) = seen
    assert [ev.uid for ev in found.values()] == ["plain@test", "rule@test"]
    monkeypatch.undo()
    fast, full = both_ways(text, monkeypatch)
    assert fast == full and {r[0] for r in fast["events"]} == {"plain@test", "rule@test", "setpos@test", "shared@test", "custom@test"}


@pytest.mark.parametrize("header", ["X-WR-TIMEZONE:America/New_York\n", ""])
def test_a_google_style_calendar_zone_is_honoured(monkeypatch, header):
    text = ics(vevent("g@test", "DTSTART:20250321T100000", "DURATION:PT1H"),
               vevent("u@test", "DTSTART:20250321T100000Z", "DURATION:PT1H"), header=header)
    fast, full = both_ways(text, monkeypatch)
    assert fast == full


# ---------------------------------------------------------------- simple repeating events (plain_rule.py)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from oxymus.connectors.calendar import plain_rule  # noqa: E402

DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
# Starts near the window's DST change (30 March), month ends (31st, Feb 29 of 2024), the window's edges.
FIRST_DAYS = [dt.date(2025, 3, 30), dt.date(2025, 3, 29), dt.date(2025, 1, 31), dt.date(2024, 2, 29),
              dt.date(2025, 3, 13), dt.date(2025, 5, 19), dt.date(2025, 5, 20), dt.date(2024, 10, 27),
              dt.date(2025, 3, 31), dt.date(2023, 12, 31), dt.date(2025, 4, 30), dt.date(2025, 3, 12)]
KINDS = ["date", "utc", "berlin", "floating", "new_york"]


def _stamp(day: dt.date, kind: str, hour: int, minute: int) -> tuple[str, str]:
    """(parameters, value) of a time of `kind` on `day`."""
    if kind == "date":
        return ";VALUE=DATE", f"{day:%Y%m%d}"
    value = f"{day:%Y%m%d}T{hour:02d}{minute:02d}00"
    return {"utc": ("", value + "Z"), "berlin": (";TZID=Europe/Berlin", value), "floating": ("", value),
            "new_york": (";TZID=America/New_York", value)}[kind]


@st.composite
def series(draw) -> str:
    kind = draw(st.sampled_from(KINDS))
    first = draw(st.sampled_from(FIRST_DAYS)) + dt.timedelta(days=draw(st.integers(-3, 3)))
    hour, minute = draw(st.sampled_from([(2, 30), (0, 0), (23, 30), (9, 0), (1, 59), (3, 0)]))
    params, value = _stamp(first, kind, hour, minute)
    lines = [f"DTSTART{params}:{value}"]
    length = draw(st.sampled_from(["", "DURATION:PT1H", "DURATION:P1D", "DURATION:P3D", "DURATION:PT25H", "end"]))
    if length == "end":
        end_day = first + dt.timedelta(days=draw(st.integers(0, 2)))
        e_params, e_value = _stamp(end_day, kind, min(hour + 1, 23), minute)
        lines.append(f"DTEND{e_params}:{e_value}")
    elif length and not (kind == "date" and "T" in length):
        lines.append(length)
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 4))}")
    end = draw(st.sampled_from(["", "count", "until", "until_odd"]))
    if end == "count":
        parts.append(f"COUNT={draw(st.integers(1, 40))}")
    elif end.startswith("until"):
        until_day = first + dt.timedelta(days=draw(st.integers(-2, 120)))
        if kind == "date":
            parts.append(f"UNTIL={until_day:%Y%m%d}")
        elif end == "until_odd":  # a form recurring_ical_events rewrites: the full way
            parts.append(f"UNTIL={until_day:%Y%m%d}")
        else:
            suffix = "" if kind == "floating" else "Z"
            parts.append(f"UNTIL={until_day:%Y%m%d}T{draw(st.sampled_from(['000000', '083000', '235959']))}{suffix}")
    if draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True))
        if freq == "MONTHLY" and draw(st.booleans()):
            days = [f"{draw(st.sampled_from(['1', '2', '-1', '+3', '4', '5']))}{d}" for d in days]
        parts.append("BYDAY=" + ",".join(days))
    if freq in ("MONTHLY", "YEARLY") and draw(st.booleans()):
        parts.append("BYMONTHDAY=" + ",".join(draw(st.lists(st.sampled_from(["1", "15", "29", "30", "31", "-1"]),
                                                                 min_size=1, max_size=2, unique=True))))
    if freq == "YEARLY" and draw(st.booleans()):
        parts.append("BYMONTH=" + ",".join(draw(st.lists(st.sampled_from(["2", "3", "4", "10"]), min_size=1, max_size=2,
                                                              unique=True))))
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(DAYS))}")
    parts = draw(st.permutations(parts))
    lines.append("RRULE:" + ";".join(parts))
    if draw(st.booleans()):
        gone = [first + dt.timedelta(days=draw(st.integers(0, 60))) for _ in range(draw(st.integers(1, 3)))]
        ex_params = _stamp(first, kind, hour, minute)[0]
        lines.append(f"EXDATE{ex_params}:" + ",".join(_stamp(d, kind, hour, minute)[1] for d in gone))
    if draw(st.integers(0, 9)) == 0:
        lines.append("STATUS:CANCELLED")
    return "\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(series(), min_size=1, max_size=8))
def test_generated_repeating_events_read_the_same_both_ways(monkeypatch, events):
    text = ics(*(vevent(f"r{n}@test", *ev.split("\n"), f"SUMMARY:Series {n}") for n, ev in enumerate(events)))
    fast, full = both_ways(text, monkeypatch)
    assert fast == full


def test_simple_rules_take_the_plain_path_and_others_do_not():
    simple = ["FREQ=WEEKLY;COUNT=10", "FREQ=MONTHLY;BYDAY=-1FR", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
              "FREQ=DAILY;INTERVAL=2;UNTIL=20250601T000000Z", "WKST=SU;FREQ=WEEKLY;BYDAY=MO,WE"]
    full_way = ["FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1", "FREQ=HOURLY", "FREQ=DAILY;BYHOUR=9", "FREQ=DAILY;COUNT=3;UNTIL=20250101",
                "freq=daily", "FREQ=DAILY;FREQ=WEEKLY", "FREQ=YEARLY;BYDAY=1MO", "FREQ=WEEKLY;COUNT=-1", "FREQ=DAILY;X-NAME=1"]
    assert all(plain_rule.rule_parts(r) is not None for r in simple)
    assert all(plain_rule.rule_parts(r) is None for r in full_way)


def test_repeating_edges_read_the_same_both_ways(monkeypatch):
    events = [
        ["DTSTART;TZID=Europe/Berlin:20250330T023000", "RRULE:FREQ=DAILY;COUNT=5"],  # the hour that does not exist
        ["DTSTART;TZID=Europe/Berlin:20241027T023000", "RRULE:FREQ=YEARLY", "DURATION:PT30M"],  # twice that hour
        ["DTSTART;VALUE=DATE:20240229", "RRULE:FREQ=YEARLY"], ["DTSTART:20250131T090000Z", "RRULE:FREQ=MONTHLY"],
        ["DTSTART:20250131T090000", "RRULE:FREQ=MONTHLY;BYMONTHDAY=-1", "EXDATE:20250430T090000"],
        ["DTSTART;VALUE=DATE:20250313", "RRULE:FREQ=WEEKLY;UNTIL=20250403", "EXDATE;VALUE=DATE:20250320"],
        ["DTSTART;TZID=America/New_York:20250301T230000", "RRULE:FREQ=WEEKLY;BYDAY=SA,SU;UNTIL=20250401T040000Z"],
        ["DTSTART:20250314T100000Z", "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3"],  # DTSTART counts though not a Monday
        ["DTSTART:20250314T100000Z", "RRULE:FREQ=DAILY;UNTIL=20250301T000000Z"],  # UNTIL before DTSTART
        ["DTSTART:20200101T100000Z", "RRULE:FREQ=DAILY", "DURATION:PT1H"],  # five years of steps before the window
        ["DTSTART;TZID=Europe/Berlin:20250312T230000", "RRULE:FREQ=DAILY;COUNT=3", "DURATION:P2D"],  # starts before
    ]
    fast, full = both_ways(ics(*(vevent(f"e{n}@test", *ev) for n, ev in enumerate(events))), monkeypatch)
    assert fast == full
    # none in the window: e1 (October only), e2 (29 February only) and e8 (UNTIL before DTSTART, so not even DTSTART)
    assert {r[0] for r in fast["events"]} == {f"e{n}@test" for n in range(len(events))} - {"e1@test", "e2@test", "e8@test"}
