"""The calendar connector against real files, a real HTTP server and a real Radicale.

The clock is frozen at Thursday 2025-03-20 10:00 in Europe/Berlin; the window is
[today - past_days, today + future_days]. Nothing sleeps to wait for state.
"""

from __future__ import annotations

import datetime as dt
import gzip
import shlex
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from radicale_server import RadicaleServer, free_port, radicale_fixture

from oxymus.connectors.calendar import CalDavEntry, CalendarConfig, CalendarConnector, IcsEntry
from oxymus.connectors.calendar import source as source_mod
from oxymus.connectors.calendar.models import CalendarEvent, Deadline
from oxymus.connectors.calendar.source import CalDavSource, IcsSource
from oxymus.sources.contract import NeedsHuman, PollContext, PollResult, Source, SourceUnavailable, StateItem, utc_iso

BERLIN = ZoneInfo("Europe/Berlin")
# The module's tests share its servers (feeds, Radicale) and calendars, as in a serial run: under
# pytest-xdist they stay on one worker.
pytestmark = pytest.mark.xdist_group("connector_calendar")
NOW = dt.datetime(2025, 3, 20, 9, 0, tzinfo=dt.timezone.utc)  # 10:00 in Berlin


def make_ctx(tmp_path: Path, *, now: dt.datetime = NOW, secrets: dict[str, str] | None = None, timeout: float = 5.0) -> PollContext:
    secrets = secrets or {}
    return PollContext(zone=BERLIN, config_dir=tmp_path, now=lambda: now, secret=secrets.get, timeout=timeout)


def ics(*components: str, header: str = "") -> str:
    """A VCALENDAR around the given components (each a block of lines), CRLF-terminated."""
    body = "\n".join(c.strip("\n") for c in components)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Oxymus tests//EN\n{header}{body}\nEND:VCALENDAR\n"
    return text.replace("\n", "\r\n")


def vevent(uid: str, *lines: str) -> str:
    return "\n".join(["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T000000Z", *lines, "END:VEVENT"])


def vtodo(uid: str, *lines: str) -> str:
    return "\n".join(["BEGIN:VTODO", f"UID:{uid}", "DTSTAMP:20250101T000000Z", *lines, "END:VTODO"])


async def poll_file(tmp_path: Path, content: str | bytes, *, window=(7, 60), name: str = "cal.ics", **ctx_kw) -> PollResult:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    source = IcsSource(IcsEntry(path=str(path), name="personal"), window)
    return await source.poll(make_ctx(tmp_path, **ctx_kw))


def events(result: PollResult) -> dict[str, StateItem]:
    return {i.key: i for i in result.items if i.kind == "calendar.event"}


def deadlines(result: PollResult) -> dict[str, StateItem]:
    return {i.key: i for i in result.items if i.kind == "calendar.deadline"}


def on_day(result: PollResult, day: dt.date) -> set[str]:
    """What a day view finds with the store's range query: starts before the day ends, ends after it starts."""
    lo = utc_iso(dt.datetime.combine(day, dt.time(0), BERLIN))
    hi = utc_iso(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), BERLIN))
    return {
        i.key for i in result.items
        if i.starts_at < hi and (i.ends_at > lo or (i.ends_at == i.starts_at and i.starts_at >= lo))
    }


# ---------------------------------------------------------------- the contract


def test_connector_builds_sources_with_ids_and_window():
    config = CalendarConfig(
        ics=[IcsEntry(path="~/cal/personal.ics")],
        caldav=[CalDavEntry(url="http://127.0.0.1:5232/", username="me", name="work", calendars=["Work"])],
        past_days=3, future_days=30,
    )
    ics_source, dav_source = CalendarConnector.sources(config)
    assert isinstance(ics_source, IcsSource) and isinstance(dav_source, CalDavSource)
    assert isinstance(ics_source, Source) and isinstance(dav_source, Source)
    assert (ics_source.id, dav_source.id) == ("calendar.personal", "calendar.work")
    assert (ics_source.past_days, ics_source.future_days) == (3, 30)
    assert ics_source.interval == 900 and dav_source.stale_after == 3600


async def test_items_carry_typed_data_and_utc_ranges(tmp_path):
    result = await poll_file(tmp_path, ics(vevent(
        "plain-1", "DTSTART;TZID=Europe/Berlin:20250321T140000", "DTEND;TZID=Europe/Berlin:20250321T153000",
        "SUMMARY:Dentist", "LOCATION:Hauptstr. 1", "DESCRIPTION:Bring the card", "URL:https://example.org/e/1",
        "STATUS:CONFIRMED",
    )))
    assert result.warnings == []
    (item,) = result.items
    assert item.source == "calendar.personal" and item.kind == "calendar.event"
    assert item.key == "plain-1@2025-03-21T13:00:00Z"
    assert (item.starts_at, item.ends_at) == ("2025-03-21T13:00:00.000Z", "2025-03-21T14:30:00.000Z")
    assert item.observed_at == utc_iso(NOW)
    data = CalendarEvent.model_validate(item.data)
    assert data == CalendarEvent(
        uid="plain-1", summary="Dentist", start="2025-03-21T14:00:00+01:00", end="2025-03-21T15:30:00+01:00",
        all_day=False, calendar="personal", collection=None, recurring=False, status="CONFIRMED",
        location="Hauptstr. 1", description="Bring the card", url="https://example.org/e/1",
        href=str(tmp_path / "cal.ics"),
    )


# ---------------------------------------------------------------- recurrence


async def test_rrule_with_exdate_and_rdate(tmp_path):
    result = await poll_file(tmp_path, ics(vevent(
        "weekly-1", "SUMMARY:Planning",
        "DTSTART;TZID=Europe/Berlin:20250317T100000", "DTEND;TZID=Europe/Berlin:20250317T110000",
        "RRULE:FREQ=WEEKLY;COUNT=5",
        "EXDATE;TZID=Europe/Berlin:20250324T100000",
        "RDATE;TZID=Europe/Berlin:20250326T150000",
    )))
    starts = sorted(i.data["start"] for i in result.items)
    assert starts == [
        "2025-03-17T10:00:00+01:00",
        "2025-03-26T15:00:00+01:00",  # RDATE
        "2025-03-31T10:00:00+02:00",  # after the DST switch: still 10:00
        "2025-04-07T10:00:00+02:00",
        "2025-04-14T10:00:00+02:00",
    ]
    assert all(i.data["recurring"] for i in result.items)
    assert "weekly-1@2025-03-24T09:00:00Z" not in events(result)  # EXDATE
    assert events(result)["weekly-1@2025-03-26T14:00:00Z"].ends_at == "2025-03-26T15:00:00.000Z"


async def test_recurrence_id_overrides_move_and_cancel_single_occurrences(tmp_path):
    content = ics(
        vevent("standup", "SUMMARY:Standup", "DTSTART;TZID=Europe/Berlin:20250317T093000",
               "DURATION:PT15M", "RRULE:FREQ=DAILY;COUNT=5"),
        vevent("standup", "RECURRENCE-ID;TZID=Europe/Berlin:20250318T093000", "SUMMARY:Standup (moved)",
               "DTSTART;TZID=Europe/Berlin:20250318T110000", "DTEND;TZID=Europe/Berlin:20250318T111500"),
        vevent("standup", "RECURRENCE-ID;TZID=Europe/Berlin:20250319T093000", "SUMMARY:Standup",
               "DTSTART;TZID=Europe/Berlin:20250319T093000", "DURATION:PT15M", "STATUS:CANCELLED"),
        vevent("offsite", "SUMMARY:Offsite", "STATUS:CANCELLED", "DTSTART;VALUE=DATE:20250324", "RRULE:FREQ=DAILY;COUNT=3"),
    )
    result = await poll_file(tmp_path, content)
    got = events(result)
    assert sorted(got) == [
        "standup@2025-03-17T08:30:00Z",
        "standup@2025-03-18T08:30:00Z",  # moved: keeps the key of its slot in the series
        "standup@2025-03-20T08:30:00Z",
        "standup@2025-03-21T08:30:00Z",
    ]
    moved = got["standup@2025-03-18T08:30:00Z"]
    assert moved.data["summary"] == "Standup (moved)"
    assert (moved.data["start"], moved.starts_at) == ("2025-03-18T11:00:00+01:00", "2025-03-18T10:00:00.000Z")
    assert on_day(result, dt.date(2025, 3, 19)) == set()  # cancelled occurrence and cancelled series dropped
    # stable across polls
    again = await poll_file(tmp_path, content)
    assert sorted(events(again)) == sorted(got)


async def test_weekly_meeting_keeps_local_time_across_both_dst_switches(tmp_path):
    result = await poll_file(tmp_path, ics(vevent(
        "jour-fixe", "SUMMARY:Jour fixe", "DTSTART;TZID=Europe/Berlin:20250317T090000",
        "DTEND;TZID=Europe/Berlin:20250317T100000", "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20251103T080000Z",
    )), window=(7, 240))
    items = sorted(result.items, key=lambda i: i.starts_at)
    assert len(items) == 34
    assert {i.data["start"][11:19] for i in items} == {"09:00:00"}
    by_day = {i.data["start"][:10]: i.starts_at for i in items}
    assert by_day["2025-03-24"] == "2025-03-24T08:00:00.000Z"  # CET
    assert by_day["2025-03-31"] == "2025-03-31T07:00:00.000Z"  # CEST (switched on 30 March)
    assert by_day["2025-10-20"] == "2025-10-20T07:00:00.000Z"  # CEST
    assert by_day["2025-10-27"] == "2025-10-27T08:00:00.000Z"  # CET again (switched on 26 October)


async def test_occurrences_outside_the_window_are_left_out_but_ongoing_ones_stay(tmp_path):
    result = await poll_file(tmp_path, ics(
        vevent("daily", "DTSTART;TZID=Europe/Berlin:20250101T080000", "DURATION:PT30M", "RRULE:FREQ=DAILY"),
        vevent("old", "DTSTART:20240101T080000Z", "DTEND:20240101T090000Z"),
        vevent("far", "DTSTART:20300101T080000Z", "DTEND:20300101T090000Z"),
        vevent("holiday", "DTSTART;VALUE=DATE:20250301", "DTEND;VALUE=DATE:20250316"),  # ends inside the window
    ), window=(2, 3))
    days = sorted({i.data["start"][:10] for i in result.items if i.data["uid"] == "daily"})
    assert days == ["2025-03-18", "2025-03-19", "2025-03-20", "2025-03-21", "2025-03-22", "2025-03-23"]
    assert {i.data["uid"] for i in result.items} == {"daily"}  # the holiday ended on the 15th, before the window
    result = await poll_file(tmp_path, ics(
        vevent("trip", "DTSTART;VALUE=DATE:20250310", "DTEND;VALUE=DATE:20250322"),
    ), window=(2, 3))
    assert list(events(result)) == ["trip@2025-03-10"]  # began before the window, still going on


# ---------------------------------------------------------------- all-day and multi-day


async def test_all_day_events_span_local_midnights(tmp_path):
    result = await poll_file(tmp_path, ics(
        vevent("one-day", "SUMMARY:Holiday", "DTSTART;VALUE=DATE:20250321"),  # no DTEND: one day
        vevent("three-days", "SUMMARY:Conference", "DTSTART;VALUE=DATE:20250322", "DTEND;VALUE=DATE:20250325"),
        vevent("by-duration", "SUMMARY:Visit", "DTSTART;VALUE=DATE:20250329", "DURATION:P3D"),  # over the DST switch
    ))
    got = events(result)
    one = got["one-day@2025-03-21"]
    assert one.data["all_day"] is True
    assert (one.data["start"], one.data["end"]) == ("2025-03-21", "2025-03-22")
    assert (one.starts_at, one.ends_at) == ("2025-03-20T23:00:00.000Z", "2025-03-21T23:00:00.000Z")
    three = got["three-days@2025-03-22"]
    assert (three.data["start"], three.data["end"]) == ("2025-03-22", "2025-03-25")
    assert (three.starts_at, three.ends_at) == ("2025-03-21T23:00:00.000Z", "2025-03-24T23:00:00.000Z")
    visit = got["by-duration@2025-03-29"]
    assert (visit.data["start"], visit.data["end"]) == ("2025-03-29", "2025-04-01")
    assert (visit.starts_at, visit.ends_at) == ("2025-03-28T23:00:00.000Z", "2025-03-31T22:00:00.000Z")
    # a day view finds each on every day it covers, and on no other
    assert on_day(result, dt.date(2025, 3, 21)) == {"one-day@2025-03-21"}
    for day in (22, 23, 24):
        assert on_day(result, dt.date(2025, 3, day)) == {"three-days@2025-03-22"}
    assert on_day(result, dt.date(2025, 3, 25)) == set()
    for day in (29, 30, 31):
        assert on_day(result, dt.date(2025, 3, day)) == {"by-duration@2025-03-29"}
    assert on_day(result, dt.date(2025, 4, 1)) == set()


async def test_timed_events_multi_day_duration_and_zero_length(tmp_path):
    result = await poll_file(tmp_path, ics(
        vevent("night-train", "DTSTART;TZID=Europe/Berlin:20250321T200000", "DTEND;TZID=Europe/Berlin:20250323T100000"),
        vevent("workshop", "DTSTART;TZID=Europe/Berlin:20250325T090000", "DURATION:PT90M"),
        vevent("reminder", "DTSTART;TZID=Europe/Berlin:20250326T000000"),  # no DTEND, no DURATION: 0 s
    ))
    got = events(result)
    train = got["night-train@2025-03-21T19:00:00Z"]
    assert train.ends_at == "2025-03-23T09:00:00.000Z" and train.data["end"] == "2025-03-23T10:00:00+01:00"
    for day in (21, 22, 23):
        assert "night-train@2025-03-21T19:00:00Z" in on_day(result, dt.date(2025, 3, day))
    assert "night-train@2025-03-21T19:00:00Z" not in on_day(result, dt.date(2025, 3, 24))
    assert got["workshop@2025-03-25T08:00:00Z"].ends_at == "2025-03-25T09:30:00.000Z"
    reminder = got["reminder@2025-03-25T23:00:00Z"]
    assert reminder.starts_at == reminder.ends_at == "2025-03-25T23:00:00.000Z"
    assert on_day(result, dt.date(2025, 3, 26)) == {"reminder@2025-03-25T23:00:00Z"}
    assert "reminder@2025-03-25T23:00:00Z" not in on_day(result, dt.date(2025, 3, 25))


# ---------------------------------------------------------------- time zones


async def test_time_zones_iana_custom_vtimezone_windows_and_floating(tmp_path):
    custom = "\n".join([
        "BEGIN:VTIMEZONE", "TZID:Oxymus Test Plus Three", "BEGIN:STANDARD", "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0300", "TZOFFSETTO:+0300", "TZNAME:OX3", "END:STANDARD", "END:VTIMEZONE",
    ])
    result = await poll_file(tmp_path, ics(
        vevent("ny", "DTSTART;TZID=America/New_York:20250321T090000", "DURATION:PT1H"),
        vevent("custom", "DTSTART;TZID=Oxymus Test Plus Three:20250321T090000", "DURATION:PT1H"),
        custom,  # defined after its first use, as some exporters do
        vevent("windows", "DTSTART;TZID=Eastern Standard Time:20250322T090000", "DURATION:PT1H"),
        vevent("utc", "DTSTART:20250322T120000Z", "DURATION:PT1H"),
        vevent("floating", "DTSTART:20250323T120000", "DURATION:PT1H"),
    ))
    assert result.warnings == []
    starts = {i.data["uid"]: (i.starts_at, i.data["start"]) for i in result.items}
    assert starts == {
        "ny": ("2025-03-21T13:00:00.000Z", "2025-03-21T14:00:00+01:00"),  # EDT already, CET still
        "custom": ("2025-03-21T06:00:00.000Z", "2025-03-21T07:00:00+01:00"),
        "windows": ("2025-03-22T13:00:00.000Z", "2025-03-22T14:00:00+01:00"),
        "utc": ("2025-03-22T12:00:00.000Z", "2025-03-22T13:00:00+01:00"),
        "floating": ("2025-03-23T11:00:00.000Z", "2025-03-23T12:00:00+01:00"),  # read in the person's zone
    }


async def test_unknown_tzid_is_read_as_local_time_with_a_warning(tmp_path):
    result = await poll_file(tmp_path, ics(
        vevent("mars-1", "SUMMARY:Landing", "DTSTART;TZID=Mars/Olympus_Mons:20250321T090000",
               "DTEND;TZID=Mars/Olympus_Mons:20250321T100000"),
    ))
    (item,) = result.items
    assert item.starts_at == "2025-03-21T08:00:00.000Z" and item.data["start"] == "2025-03-21T09:00:00+01:00"
    (warning,) = result.warnings
    assert str(tmp_path / "cal.ics") in warning and "line 8" in warning and "UID mars-1" in warning
    assert "Mars/Olympus_Mons" in warning and "Europe/Berlin" in warning


async def test_x_wr_timezone_feeds_expand_in_wall_clock_time(tmp_path):
    # Google-style: UTC DTSTART plus X-WR-TIMEZONE; the series follows Berlin wall-clock time
    result = await poll_file(tmp_path, ics(
        vevent("g-1", "DTSTART:20250324T080000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;COUNT=2"),
        header="X-WR-TIMEZONE:Europe/Berlin\n",
    ))
    assert sorted(i.data["start"] for i in result.items) == ["2025-03-24T09:00:00+01:00", "2025-03-31T09:00:00+02:00"]


# ---------------------------------------------------------------- bad input


async def test_a_broken_event_is_skipped_with_a_warning_and_the_rest_loads(tmp_path):
    content = ics(
        vevent("good-1", "SUMMARY:Fine", "DTSTART:20250321T100000Z"),
        vevent("bad-line", "SUMMARY:Broken", "this line has no colon", "DTSTART:20250321T110000Z"),
        vevent("bad-date", "SUMMARY:Bad date", "DTSTART:2025032XT110000Z"),
        vevent("bad-rule", "SUMMARY:Bad rule", "DTSTART:20250321T110000Z", "RRULE:FREQ=SOMETIMES"),
        vevent("no-start", "SUMMARY:No start"),
        vevent("good-2", "SUMMARY:Also fine", "DTSTART;VALUE=DATE:20250322"),
    )
    lines = content.split("\r\n")
    result = await poll_file(tmp_path, content)
    assert {i.data["uid"] for i in result.items} == {"good-1", "good-2"}
    path = str(tmp_path / "cal.ics")
    assert len(result.warnings) == 4, result.warnings
    for uid, needle in [("bad-line", "this line has no colon"), ("bad-date", "2025032XT110000Z"), ("bad-rule", "RRULE:FREQ=SOMETIMES"), ("no-start", "BEGIN:VEVENT")]:
        (warning,) = [w for w in result.warnings if f"UID {uid}" in w]
        assert warning.startswith(path + " line ") and "skipped" in warning
        line = int(warning[len(path) + 6:].split(" ")[0])
        if needle == "BEGIN:VEVENT":
            assert lines[line - 1] == "BEGIN:VEVENT" and lines[line] == f"UID:{uid}"
        else:
            assert needle in lines[line - 1], (warning, lines[line - 1])


async def test_junk_between_events_is_ignored_with_a_warning(tmp_path):
    content = ics(vevent("a", "DTSTART:20250321T100000Z"), "garbage between events", vevent("b", "DTSTART:20250321T120000Z"))
    result = await poll_file(tmp_path, content)
    assert {i.data["uid"] for i in result.items} == {"a", "b"}
    (warning,) = result.warnings
    assert warning.startswith(f"{tmp_path / 'cal.ics'} line 9:") and "ignored" in warning


@pytest.mark.parametrize(
    "content, expected",
    [
        ("hello, this is not a calendar\n", "line 1: not an iCalendar document"),
        ("", "is empty"),
        (ics(vevent("a", "DTSTART:20250321T100000Z")).rsplit("END:VCALENDAR", 1)[0], "ends before END:VCALENDAR"),
        ("<!DOCTYPE html><html><body>Sign in</body></html>", "it starts with '<!DOCTYPE html>"),
    ],
    ids=["text", "empty", "cut-off", "html"],
)
async def test_a_file_that_cannot_be_read_at_all_is_unavailable_and_recovers(tmp_path, content, expected):
    with pytest.raises(SourceUnavailable) as err:
        await poll_file(tmp_path, content)
    message = str(err.value)
    assert message.startswith("calendar.personal: ") and str(tmp_path / "cal.ics") in message and expected in message
    fixed = await poll_file(tmp_path, ics(vevent("a", "DTSTART:20250321T100000Z")))
    assert list(events(fixed)) == ["a@2025-03-21T10:00:00Z"]


async def test_non_utf8_bytes_are_read_with_a_fallback_and_a_warning(tmp_path):
    content = ics(vevent("latin", "SUMMARY:Café am Markt", "LOCATION:Straße 5", "DTSTART:20250321T100000Z"))
    result = await poll_file(tmp_path, content.encode("latin-1"))
    (item,) = result.items
    assert (item.data["summary"], item.data["location"]) == ("Café am Markt", "Straße 5")
    (warning,) = result.warnings
    assert warning.startswith(f"{tmp_path / 'cal.ics'} line 7:") and "not valid UTF-8" in warning
    # bytes that are not even Windows-1252 still never crash
    result = await poll_file(tmp_path, content.encode("latin-1").replace(b"Caf\xe9", b"Caf\x81\x8d"))
    assert len(result.items) == 1 and "not valid UTF-8" in result.warnings[0]


async def test_long_descriptions_are_truncated_and_missing_titles_named(tmp_path):
    result = await poll_file(tmp_path, ics(vevent("long", "DTSTART:20250321T100000Z", "DESCRIPTION:" + "x" * 5000)))
    description = result.items[0].data["description"]
    assert len(description) == 2000 and description.endswith("…")
    assert result.items[0].data["summary"] == "(no title)"


# ---------------------------------------------------------------- bounded inputs

FLOOD = vevent("flood@test", "SUMMARY:Every second", "DTSTART:20250320T120000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY")
# COUNT: its occurrences must be counted from the start, so the walk cannot skip ahead.
SINCE_1970 = vevent("epoch@test", "SUMMARY:Since 1970", "DTSTART:19700101T000000Z", "DURATION:PT1S",
                    "RRULE:FREQ=SECONDLY;COUNT=2000000000")
LUNCH = vevent("lunch@test", "SUMMARY:Lunch", "DTSTART;TZID=Europe/Berlin:20250321T120000", "DURATION:PT1H")


async def test_an_endless_secondly_rule_is_capped_and_costs_little_memory(tmp_path):
    import tracemalloc

    path = tmp_path / "flood.ics"
    path.write_text(ics(FLOOD, LUNCH))
    source = IcsSource(IcsEntry(path=str(path), name="personal"), (7, 366), max_occurrences=50)
    tracemalloc.start()
    try:
        result = await source.poll(make_ctx(tmp_path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    found = events(result)
    assert sum(key.startswith("flood@test@") for key in found) == 50
    assert "flood@test@2025-03-20T12:00:49Z" in found and "lunch@test@2025-03-21T11:00:00Z" in found
    assert result.warnings == [
        f"{path} line 10 (UID flood@test): more than 50 occurrences in the window; kept the first 50 "
        "(see [calendar] max_occurrences)",
    ]
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.0f} MB"  # a year of seconds would be gigabytes


async def test_a_rule_that_walks_forever_before_the_window_costs_only_itself(tmp_path):
    path = tmp_path / "epoch.ics"
    endless = vevent("endless@test", "DTSTART:19700101T000000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY")
    path.write_text(ics(SINCE_1970, endless, LUNCH))
    result = await IcsSource(IcsEntry(path=str(path), name="personal"), (7, 60)).poll(make_ctx(tmp_path))
    assert list(events(result)) == ["lunch@test@2025-03-21T11:00:00Z"]
    assert result.warnings == [
        f"{path} line 10 (UID epoch@test): VEVENT skipped: it repeats too often to expand "
        "(over 200,000 repetitions before the window ends)",
        # no COUNT: the walk skips to the window, whose two days' margin alone hold 172,800 seconds
        f"{path} line 17 (UID endless@test): VEVENT skipped: it repeats too often to expand "
        "(over 10,000 occurrences in and around the window)",
    ]


async def test_a_frequent_rule_that_started_years_ago_skips_to_the_window(tmp_path):
    # Six years of 15-minute steps before the window: over the step budget if walked one by one.
    breaks = vevent("breaks@test", "SUMMARY:Stretch", "DTSTART;TZID=Europe/Berlin:20190107T000700", "DURATION:PT5M",
                    "RRULE:FREQ=MINUTELY;INTERVAL=15")
    result = await poll_file(tmp_path, ics(breaks), window=(0, 7))
    assert result.warnings == []
    found = sorted(events(result))
    assert len(found) == 8 * 96  # 20-27 March, every 15 minutes
    assert found[0] == "breaks@test@2025-03-19T23:07:00Z" and found[-1] == "breaks@test@2025-03-27T22:52:00Z"


def test_max_occurrences_is_read_from_the_calendar_section():
    config = CalendarConfig.model_validate({"ics": [{"path": "a.ics"}], "max_occurrences": 7})
    (source,) = CalendarConnector.sources(config)
    assert source.max_occurrences == 7 and CalendarConfig().max_occurrences == 1000


async def test_a_timed_out_poll_stops_its_worker_thread(tmp_path):
    """The coordinator's wait_for cancels the poll; the expansion must end with it, not run on."""
    import asyncio
    import sys

    # Each series walks about 190,000 seconds before the window (under the per-series budget; COUNT
    # keeps the walk from skipping ahead), so 400 of them keep a poll busy for minutes unless it stops.
    slow = [vevent(f"slow{i}@test", "DTSTART:20250311T000000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY;COUNT=100000000")
            for i in range(400)]
    path = tmp_path / "slow.ics"
    path.write_text(ics(*slow))
    source = IcsSource(IcsEntry(path=str(path), name="personal"), (7, 60))
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(source.poll(make_ctx(tmp_path)), timeout=0.5)
    busy = [
        thread_id for thread_id, frame in sys._current_frames().items()
        if any(f.f_code.co_filename.endswith("calendar/expand.py") for f in _stack(frame))
    ]
    assert busy == [], "a worker thread is still expanding after its poll timed out"


def _stack(frame):
    while frame is not None:
        yield frame
        frame = frame.f_back


async def test_missing_file_is_unavailable(tmp_path):
    source = IcsSource(IcsEntry(path="nowhere.ics", name="personal"), (7, 60))
    with pytest.raises(SourceUnavailable, match="nowhere.ics not found"):
        await source.poll(make_ctx(tmp_path))


async def test_relative_paths_are_taken_from_the_config_dir(tmp_path):
    (tmp_path / "rel.ics").write_text(ics(vevent("rel", "DTSTART:20250321T100000Z")))
    source = IcsSource(IcsEntry(path="rel.ics"), (7, 60))
    assert source.id == "calendar.rel"
    assert [i.key for i in (await source.poll(make_ctx(tmp_path))).items] == ["rel@2025-03-21T10:00:00Z"]


# ---------------------------------------------------------------- to-dos


async def test_open_todos_with_a_due_date_become_deadlines(tmp_path):
    result = await poll_file(tmp_path, ics(
        vtodo("taxes", "SUMMARY:Taxes", "DUE:20250325T170000Z", "PRIORITY:1", "STATUS:NEEDS-ACTION"),
        vtodo("gift", "SUMMARY:Buy a gift", "DUE;VALUE=DATE:20250322"),
        vtodo("overdue", "SUMMARY:Renew passport", "DUE;VALUE=DATE:20250110", "PRIORITY:0"),
        vtodo("done", "SUMMARY:Done", "DUE:20250321T100000Z", "STATUS:COMPLETED"),
        vtodo("done-date", "SUMMARY:Done too", "DUE:20250321T100000Z", "COMPLETED:20250319T100000Z"),
        vtodo("dropped", "SUMMARY:Dropped", "DUE:20250321T100000Z", "STATUS:CANCELLED"),
        vtodo("someday", "SUMMARY:Someday"),
        vtodo("far", "SUMMARY:Far", "DUE:20300101T100000Z"),
        vtodo("plants", "SUMMARY:Water plants", "DTSTART;TZID=Europe/Berlin:20250317T180000",
              "DUE;TZID=Europe/Berlin:20250317T190000", "RRULE:FREQ=WEEKLY;COUNT=3"),
    ))
    got = deadlines(result)
    assert sorted(got) == [
        "todo:gift", "todo:overdue",
        "todo:plants@2025-03-17T17:00:00Z", "todo:plants@2025-03-24T17:00:00Z", "todo:plants@2025-03-31T16:00:00Z",
        "todo:taxes",
    ]
    taxes = got["todo:taxes"]
    assert taxes.starts_at == taxes.ends_at == "2025-03-25T17:00:00.000Z"
    assert Deadline.model_validate(taxes.data) == Deadline(
        uid="taxes", summary="Taxes", due="2025-03-25T18:00:00+01:00", all_day=False, calendar="personal",
        priority=1, status="NEEDS-ACTION", recurring=False, href=str(tmp_path / "cal.ics"),
    )
    gift = got["todo:gift"]
    assert (gift.data["due"], gift.data["all_day"]) == ("2025-03-22", True)
    assert (gift.starts_at, gift.ends_at) == ("2025-03-21T23:00:00.000Z", "2025-03-22T23:00:00.000Z")
    assert "todo:gift" in on_day(result, dt.date(2025, 3, 22)) and "todo:gift" not in on_day(result, dt.date(2025, 3, 21))
    assert got["todo:overdue"].data["priority"] is None
    assert got["todo:plants@2025-03-31T16:00:00Z"].data["due"] == "2025-03-31T19:00:00+02:00"


# ---------------------------------------------------------------- vdir folders


async def test_vdir_folder_of_ics_files(tmp_path):
    vdir = tmp_path / "personal"
    vdir.mkdir()
    (vdir / "a1.ics").write_text(ics(vevent("a1", "SUMMARY:One", "DTSTART:20250321T100000Z")))
    (vdir / "a2.ics").write_text(ics(vtodo("t1", "SUMMARY:Todo", "DUE:20250322T100000Z")))
    (vdir / "broken.ics").write_text("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n")
    (vdir / ".a1.ics.tmp.ics").write_text(ics(vevent("hidden", "DTSTART:20250321T100000Z")))
    (vdir / "notes.txt").write_text("not a calendar")
    (vdir / "displayname").write_text("Personal\n")
    source = IcsSource(IcsEntry(path=str(vdir)), (7, 60))
    result = await source.poll(make_ctx(tmp_path))
    assert sorted(i.key for i in result.items) == ["a1@2025-03-21T10:00:00Z", "todo:t1"]
    assert {i.data["collection"] for i in result.items} == {"Personal"}
    assert events(result)["a1@2025-03-21T10:00:00Z"].data["href"] == str(vdir / "a1.ics")
    (warning,) = result.warnings
    assert str(vdir / "broken.ics") in warning and "file skipped" in warning


async def test_vdir_folder_of_calendar_folders(tmp_path):
    root = tmp_path / "calendars"
    (root / "work").mkdir(parents=True)
    (root / "home").mkdir()
    (root / "work" / "displayname").write_text("Work")
    (root / "work" / "w1.ics").write_text(ics(vevent("w1", "DTSTART:20250321T100000Z")))
    (root / "work" / "shared.ics").write_text(ics(vevent("shared", "DTSTART:20250322T100000Z")))
    (root / "home" / "h1.ics").write_text(ics(vevent("h1", "DTSTART;VALUE=DATE:20250323")))
    (root / "home" / "shared.ics").write_text(ics(vevent("shared", "DTSTART:20250322T100000Z")))
    source = IcsSource(IcsEntry(path=str(root)), (7, 60))
    result = await source.poll(make_ctx(tmp_path))
    assert result.warnings == []
    by_key = {i.key: i.data["collection"] for i in result.items}
    assert by_key == {"w1@2025-03-21T10:00:00Z": "Work", "h1@2025-03-23": "home", "shared@2025-03-22T10:00:00Z": "home"}


async def test_empty_vdir_folder_warns(tmp_path):
    (tmp_path / "empty").mkdir()
    result = await IcsSource(IcsEntry(path=str(tmp_path / "empty")), (7, 60)).poll(make_ctx(tmp_path))
    assert result.items == [] and "no .ics files" in result.warnings[0]


# ---------------------------------------------------------------- ICS over HTTP


class FeedServer:
    """A loopback HTTP server whose routes the tests set: path -> (status, headers, body) or a callable."""

    def __init__(self):
        self.routes: dict[str, tuple[int, dict[str, str], bytes] | Callable] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.release = threading.Event()  # lets a deliberately slow handler finish
        feed = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                feed.requests.append((self.path, dict(self.headers)))
                route = feed.routes.get(self.path, (404, {}, b"not here"))
                status, headers, body = route(self) if callable(route) else route
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    if headers.get("Connection") == "close":
                        self.close_connection = True  # no length: the body ends when the connection does
                    else:
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (the timeout test)

            do_PROPFIND = do_REPORT = do_GET  # enough of WebDAV to send a CalDAV client errors

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"


@pytest.fixture(scope="module")
def feeds():
    server = FeedServer()
    server.thread.start()
    yield server
    server.release.set()
    server.httpd.shutdown()
    server.httpd.server_close()


def url_source(feeds: FeedServer, path: str, name: str = "feed") -> IcsSource:
    return IcsSource(IcsEntry(path=feeds.url(path), name=name), (7, 60))


FEED = ics(vevent("feed-1", "SUMMARY:From the web", "DTSTART:20250321T100000Z", "DURATION:PT1H")).encode()


async def test_ics_url_200_then_304_with_etag(tmp_path, feeds):
    def route(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {"Content-Type": "text/calendar", "ETag": '"v1"'}, FEED

    feeds.routes["/cal.ics"] = route
    source = url_source(feeds, "/cal.ics")
    first = await source.poll(make_ctx(tmp_path))
    second = await source.poll(make_ctx(tmp_path))
    assert list(events(first)) == list(events(second)) == ["feed-1@2025-03-21T10:00:00Z"]
    sent = [headers.get("If-None-Match") for path, headers in feeds.requests if path == "/cal.ics"]
    assert sent == [None, '"v1"']


async def test_ics_url_gzip_streamed_and_webcal(tmp_path, feeds):
    feeds.routes["/gz.ics"] = (200, {"Content-Encoding": "gzip"}, gzip.compress(FEED))
    assert len((await url_source(feeds, "/gz.ics").poll(make_ctx(tmp_path))).items) == 1
    feeds.routes["/stream.ics"] = (200, {"Connection": "close"}, FEED)  # no Content-Length
    assert len((await url_source(feeds, "/stream.ics").poll(make_ctx(tmp_path))).items) == 1
    source = IcsSource(IcsEntry(path=feeds.url("/gz.ics").replace("http://", "webcal://"), name="w"), (7, 60))
    with pytest.raises(SourceUnavailable, match=r"calendar.w: https://127.0.0.1:\d+/gz.ics"):
        await source.poll(make_ctx(tmp_path, timeout=2))  # webcal means https; this server speaks plain http


@pytest.mark.parametrize(
    "status, headers, error, fragment, retry_after",
    [
        (500, {}, SourceUnavailable, "HTTP 500", None),
        (503, {"Retry-After": "30"}, SourceUnavailable, "HTTP 503", 30.0),
        (429, {"Retry-After": "120"}, SourceUnavailable, "HTTP 429", 120.0),
        (404, {}, SourceUnavailable, "HTTP 404", None),
        (401, {"WWW-Authenticate": 'Basic realm="cal"'}, NeedsHuman, "HTTP 401", None),
        (403, {}, NeedsHuman, "HTTP 403", None),
    ],
)
async def test_ics_url_http_errors(tmp_path, feeds, status, headers, error, fragment, retry_after):
    path = f"/status-{status}.ics?token=secret"
    feeds.routes[path] = (status, headers, b"nope")
    with pytest.raises(error) as err:
        await url_source(feeds, path).poll(make_ctx(tmp_path))
    message = str(err.value)
    assert message.startswith("calendar.feed: ") and feeds.url(f"/status-{status}.ics") in message and fragment in message
    assert "secret" not in message  # the query string (often a token) stays out of messages
    if error is SourceUnavailable:
        assert err.value.retry_after == retry_after


async def test_ics_url_slower_than_the_timeout_is_unavailable(tmp_path, feeds):
    def slow(handler):
        feeds.release.wait(10)
        return 200, {}, FEED

    feeds.release.clear()
    feeds.routes["/slow.ics"] = slow
    started = time.monotonic()
    try:
        with pytest.raises(SourceUnavailable, match=r"slow\.ics: timed out after 0\.3 s"):
            await url_source(feeds, "/slow.ics").poll(make_ctx(tmp_path, timeout=0.3))
    finally:
        feeds.release.set()
    assert time.monotonic() - started < 3


async def test_ics_url_connection_refused_and_not_icalendar(tmp_path, feeds):
    source = IcsSource(IcsEntry(path=f"http://127.0.0.1:{free_port()}/cal.ics", name="feed"), (7, 60))
    with pytest.raises(SourceUnavailable, match="connection refused"):
        await source.poll(make_ctx(tmp_path))
    feeds.routes["/login"] = (200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html>Please sign in</html>")
    with pytest.raises(SourceUnavailable, match="not an iCalendar document"):
        await url_source(feeds, "/login").poll(make_ctx(tmp_path))


def big_feed(target: int = 10 * 2**20, first: dt.date = dt.date(2025, 3, 13), last: dt.date = dt.date(2025, 5, 19)) -> tuple[bytes, int]:
    """About `target` bytes of realistic ICS (ten years of events every 3 hours, one in 50
    repeating weekly 20 times) and how many occurrences fall on the days first..last."""
    parts = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Oxymus tests//EN\r\n"]
    size, i, expected = 0, 0, 0
    base = dt.datetime(2015, 1, 1, 8, 0)
    while size < target:
        start = base + dt.timedelta(hours=3 * i)
        repeats = 20 if i % 50 == 0 else 1
        expected += sum(first <= (start + dt.timedelta(weeks=w)).date() <= last for w in range(repeats))
        rrule = "RRULE:FREQ=WEEKLY;COUNT=20\r\n" if repeats > 1 else ""
        event = (
            f"BEGIN:VEVENT\r\nUID:bulk-{i}@example.org\r\nDTSTAMP:20240101T000000Z\r\n"
            f"DTSTART;TZID=Europe/Berlin:{start:%Y%m%dT%H%M%S}\r\nDURATION:PT45M\r\n{rrule}"
            f"SUMMARY:Bulk event number {i}\r\nLOCATION:Room {i % 17}\r\n"
            f"DESCRIPTION:{'Lorem ipsum dolor sit amet ' * 4}\r\nEND:VEVENT\r\n"
        )
        parts.append(event)
        size += len(event)
        i += 1
    parts.append("END:VCALENDAR\r\n")
    return "".join(parts).encode(), expected


async def test_ics_url_with_a_10_mb_body(tmp_path, feeds):
    body, expected = big_feed()
    assert len(body) >= 10 * 2**20
    feeds.routes["/big.ics"] = (200, {"Content-Type": "text/calendar"}, body)
    started = time.monotonic()
    result = await url_source(feeds, "/big.ics").poll(make_ctx(tmp_path, timeout=20))
    elapsed = time.monotonic() - started
    assert result.warnings == []
    assert len(result.items) == expected > 8 * 68  # 8 a day in the window (13 March .. 19 May) and the series
    assert elapsed < 20, f"a 10 MB feed took {elapsed:.1f} s"


async def test_ics_url_over_the_size_limit(tmp_path, feeds, monkeypatch):
    monkeypatch.setattr(source_mod, "MAX_BYTES", 1000)
    feeds.routes["/huge.ics"] = (200, {}, FEED * 10)
    with pytest.raises(SourceUnavailable, match=r"huge\.ics: the feed is 2000 bytes, over the limit of 1000 bytes"):
        await url_source(feeds, "/huge.ics").poll(make_ctx(tmp_path))
    feeds.routes["/huge-stream.ics"] = (200, {"Connection": "close"}, FEED * 10)
    with pytest.raises(SourceUnavailable, match=r"huge-stream\.ics: the feed is over the limit of 1000 bytes"):
        await url_source(feeds, "/huge-stream.ics").poll(make_ctx(tmp_path))
    (tmp_path / "huge.ics").write_bytes(FEED * 10)
    with pytest.raises(SourceUnavailable, match=r"huge\.ics is 2000 bytes, over the limit of 1000 bytes"):
        await IcsSource(IcsEntry(path="huge.ics"), (7, 60)).poll(make_ctx(tmp_path))


# ---------------------------------------------------------------- CalDAV against a real Radicale

radicale = radicale_fixture()  # any login works
radicale_pw = radicale_fixture(users={"me": "s3cret"})  # htpasswd, plain

WEEKLY = ics(
    vevent("dav-weekly", "SUMMARY:Team sync", "DTSTART;TZID=Europe/Berlin:20250317T090000",
           "DTEND;TZID=Europe/Berlin:20250317T093000", "RRULE:FREQ=WEEKLY;COUNT=6",
           "EXDATE;TZID=Europe/Berlin:20250407T090000"),
    vevent("dav-weekly", "RECURRENCE-ID;TZID=Europe/Berlin:20250324T090000", "SUMMARY:Team sync (Tuesday)",
           "DTSTART;TZID=Europe/Berlin:20250325T140000", "DTEND;TZID=Europe/Berlin:20250325T143000"),
)
ALL_DAY = ics(vevent("dav-trip", "SUMMARY:Trip", "DTSTART;VALUE=DATE:20250328", "DTEND;VALUE=DATE:20250331"))
OLD = ics(vevent("dav-old", "SUMMARY:Long ago", "DTSTART:20200101T100000Z", "DURATION:PT1H"))
TODO = ics(vtodo("dav-todo", "SUMMARY:Send invoice", "DUE:20250324T120000Z", "PRIORITY:5"))
DONE = ics(vtodo("dav-done", "SUMMARY:Done", "DUE:20250321T120000Z", "STATUS:COMPLETED"))
HOME = ics(vevent("dav-home", "SUMMARY:Dinner", "DTSTART;TZID=Europe/Berlin:20250322T190000", "DURATION:PT2H"))


def populate(server: RadicaleServer, password: str = "x") -> None:
    with server.client("me", password) as client:
        principal = client.principal()
        work = principal.make_calendar(name="Work", cal_id="work")
        for data in (WEEKLY, ALL_DAY, OLD):
            work.add_event(data)
        for data in (TODO, DONE):
            work.add_todo(data)
        principal.make_calendar(name="Home", cal_id="home").add_event(HOME)


@pytest.fixture(scope="module")
def dav(radicale) -> RadicaleServer:
    populate(radicale)
    return radicale


@pytest.fixture(scope="module")
def dav_pw(radicale_pw) -> RadicaleServer:
    populate(radicale_pw, "s3cret")
    return radicale_pw


def dav_source(server_url: str, calendars: list[str] | None = None, name: str = "work") -> CalDavSource:
    return CalDavSource(CalDavEntry(url=server_url, username="me", name=name, calendars=calendars or []), (7, 60))


EXPECTED_DAV = {
    "dav-weekly@2025-03-17T08:00:00Z": ("2025-03-17T09:00:00+01:00", "Work"),
    "dav-weekly@2025-03-24T08:00:00Z": ("2025-03-25T14:00:00+01:00", "Work"),  # moved to Tuesday
    "dav-weekly@2025-03-31T07:00:00Z": ("2025-03-31T09:00:00+02:00", "Work"),  # summer time, still 09:00
    "dav-weekly@2025-04-14T07:00:00Z": ("2025-04-14T09:00:00+02:00", "Work"),  # 7 April excluded
    "dav-weekly@2025-04-21T07:00:00Z": ("2025-04-21T09:00:00+02:00", "Work"),
    "dav-trip@2025-03-28": ("2025-03-28", "Work"),
    "dav-home@2025-03-22T18:00:00Z": ("2025-03-22T19:00:00+01:00", "Home"),
    "todo:dav-todo": ("2025-03-24T13:00:00+01:00", "Work"),
}


def summarize(result: PollResult) -> dict[str, tuple[str, str]]:
    return {i.key: (i.data.get("start") or i.data["due"], i.data["collection"]) for i in result.items}


async def test_caldav_events_and_todos_with_password(tmp_path, dav_pw):
    source = dav_source(dav_pw.url)
    result = await source.poll(make_ctx(tmp_path, secrets={"calendar.work": "s3cret"}))
    assert result.warnings == []
    assert summarize(result) == EXPECTED_DAV
    moved = events(result)["dav-weekly@2025-03-24T08:00:00Z"]
    assert moved.data["summary"] == "Team sync (Tuesday)" and moved.data["recurring"] is True
    assert moved.data["calendar"] == "work" and moved.data["href"].endswith(".ics")
    assert events(result)["dav-trip@2025-03-28"].ends_at == "2025-03-30T22:00:00.000Z"  # local midnight, CEST


async def test_caldav_calendar_filter_and_unknown_name(tmp_path, dav):
    result = await dav_source(dav.url, calendars=["home", "Holidays"]).poll(make_ctx(tmp_path, secrets={"calendar.work": "x"}))
    assert list(events(result)) == ["dav-home@2025-03-22T18:00:00Z"]
    (warning,) = result.warnings
    assert dav.url in warning and "'Holidays'" in warning and "Home" in warning and "Work" in warning


async def test_caldav_wrong_password_needs_the_human(tmp_path, dav_pw):
    with pytest.raises(NeedsHuman) as err:
        await dav_source(dav_pw.url).poll(make_ctx(tmp_path, secrets={"calendar.work": "wrong"}))
    assert str(err.value) == "calendar.work: the server refused the login for me (401)"


async def test_caldav_without_a_stored_password_needs_the_human(tmp_path):
    with pytest.raises(NeedsHuman) as err:
        await dav_source("http://127.0.0.1:9/").poll(make_ctx(tmp_path))
    assert str(err.value) == (
        "no password for calendar.work: set [[calendar.caldav]] work: password_command "
        "or run `oxymus secret set calendar.work`"
    )


def password_script(tmp_path: Path, body: str) -> str:
    """A real executable in tmp that plays `pass show calendar`; the command line that runs it."""
    script = tmp_path / "show password"  # a space: the command is split like a shell would, not run by one
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o700)
    return shlex.join([str(script), "calendar"])


def command_source(server_url: str, command: str) -> CalDavSource:
    entry = CalDavEntry(url=server_url, username="me", name="work", password_command=command)
    return CalDavSource(entry, (7, 60))


async def test_caldav_password_command_logs_in_without_a_keyring(tmp_path, dav_pw):
    command = password_script(tmp_path, 'test "$1" = calendar || exit 3\nprintf "s3cret\\nsecond line\\n"\n')
    # The keyring has a wrong password: the command comes first, so it is never asked.
    result = await command_source(dav_pw.url, command).poll(make_ctx(tmp_path, secrets={"calendar.work": "wrong"}))
    assert summarize(result) == EXPECTED_DAV


async def test_caldav_failing_password_command_names_the_key_and_its_stderr(tmp_path, dav_pw):
    failing = password_script(tmp_path, 'echo "Error: calendar is not in the password store." >&2\nexit 1\n')
    with pytest.raises(NeedsHuman) as err:
        await command_source(dav_pw.url, failing).poll(make_ctx(tmp_path))
    assert str(err.value) == (
        f"[[calendar.caldav]] work: password_command: `{failing}` failed (exit 1): "
        "Error: calendar is not in the password store."
    )
    silent = password_script(tmp_path, "exit 0\n")
    with pytest.raises(NeedsHuman, match=r"^\[\[calendar.caldav\]\] work: password_command: `.*` printed nothing on its first line$"):
        await command_source(dav_pw.url, silent).poll(make_ctx(tmp_path))
    with pytest.raises(NeedsHuman, match=r"password_command: 'no-such-password-tool' not found \(the command runs without a shell\)$"):
        await command_source(dav_pw.url, "no-such-password-tool show calendar").poll(make_ctx(tmp_path))


async def test_caldav_password_command_that_hangs_is_stopped(tmp_path, dav_pw):
    hanging = password_script(tmp_path, "exec sleep 60\n")
    with pytest.raises(NeedsHuman) as err:
        await command_source(dav_pw.url, hanging).poll(make_ctx(tmp_path, timeout=0.3))
    assert str(err.value) == f"[[calendar.caldav]] work: password_command: `{hanging}` gave no answer within 0.3 s"


async def test_caldav_server_down_is_unavailable(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(SourceUnavailable) as err:
        await dav_source(url).poll(make_ctx(tmp_path, secrets={"calendar.work": "x"}))
    assert str(err.value) == f"calendar.work: cannot reach {url}: connection refused"


async def test_caldav_recovers_after_a_restart(tmp_path, dav):
    source = dav_source(dav.url)
    ctx = make_ctx(tmp_path, secrets={"calendar.work": "x"})
    before = await source.poll(ctx)
    dav.stop()
    try:
        with pytest.raises(SourceUnavailable, match="connection refused"):
            await source.poll(ctx)
    finally:
        dav.start()
    after = await source.poll(ctx)
    assert summarize(after) == summarize(before) == EXPECTED_DAV


@pytest.mark.parametrize(
    "status, body, fragment",
    [
        (500, b"Internal error", "answered 500 Internal Server Error"),
        (207, b"<<< this is not XML", "malformed response"),
    ],
)
async def test_caldav_server_errors_are_unavailable(tmp_path, feeds, status, body, fragment):
    path = f"/dav-{status}/"
    feeds.routes[path] = (status, {"Content-Type": "application/xml" if status == 207 else "text/plain"}, body)
    source = dav_source(feeds.url(path))
    with pytest.raises(SourceUnavailable) as err:
        await source.poll(make_ctx(tmp_path, secrets={"calendar.work": "x"}))
    assert fragment in str(err.value) and feeds.url(path) in str(err.value)


async def test_caldav_rate_limit_and_timeout_are_unavailable(tmp_path, feeds):
    feeds.routes["/dav-429/"] = (429, {"Retry-After": "90"}, b"slow down")
    with pytest.raises(SourceUnavailable) as err:
        await dav_source(feeds.url("/dav-429/")).poll(make_ctx(tmp_path, secrets={"calendar.work": "x"}))
    assert feeds.url("/dav-429/") in str(err.value) and "429" in str(err.value)
    assert err.value.retry_after == 90

    def slow(handler):
        feeds.release.wait(10)
        return 207, {}, b""

    feeds.release.clear()
    feeds.routes["/dav-slow/"] = slow
    try:
        with pytest.raises(SourceUnavailable) as err:
            await dav_source(feeds.url("/dav-slow/")).poll(make_ctx(tmp_path, secrets={"calendar.work": "x"}, timeout=0.3))
    finally:
        feeds.release.set()
    assert str(err.value) == f"calendar.work: cannot reach {feeds.url('/dav-slow/')}: timed out after 0.3 s"


def test_caldav_clients_made_at_once_in_threads_never_see_a_half_built_feature_tree():
    """A poll and an approved event at the daemon's start make their caldav clients in two threads at once.

    caldav fills its class-level feature tree lazily and publishes it empty first; the
    crash test once saw the executor's client fail with `KeyError: 'http'` that way.
    Each round forgets what caldav cached, then lets eight threads make a client and
    ask a feature at the same instant, with the interpreter switching threads as often
    as it can: every client must come up, on every round.
    """
    import sys

    from caldav.compatibility_hints import FeatureSet

    from oxymus.connectors.calendar import dav

    port = free_port()  # nothing listens: the clients are made, no request is answered
    errors: list[str] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(30):
            if "_feature_tree" in vars(FeatureSet):
                del FeatureSet._feature_tree
            for feature in FeatureSet.FEATURES.values():
                feature.pop("subfeatures", None)
            dav._caldav_warm = False
            start = threading.Barrier(8)

            def client() -> None:
                start.wait()
                try:
                    with dav.session(f"http://127.0.0.1:{port}/", "u", "p", timeout=1) as c:
                        c.features.is_supported("http.multiplexing")
                except Exception as e:  # noqa: BLE001 - the test counts every kind
                    errors.append(repr(e))

            threads = [threading.Thread(target=client) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        sys.setswitchinterval(switch)
    assert errors == []
