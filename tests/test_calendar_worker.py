"""The calendar worker process: the same answers as parsing in-process, and a crash or a hang costs one poll.

A real worker process (`python -m oxymus.connectors.calendar.worker`), real files, real signals.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import threading

import pytest

from oxymus.connectors.calendar import IcsEntry
from oxymus.connectors.calendar import worker as worker_mod
from oxymus.connectors.calendar.expand import Limits, Window
from oxymus.connectors.calendar.models import CalendarEvent, Deadline
from oxymus.connectors.calendar.source import IcsSource
from oxymus.sources.contract import SourceUnavailable
from test_connector_calendar import BERLIN, LUNCH, ics, make_ctx, vevent, vtodo

MIXED = ics(
    vevent("weekly@test", "SUMMARY:Standup", "DTSTART;TZID=Europe/Berlin:20250303T093000", "DURATION:PT15M",
           "RRULE:FREQ=WEEKLY;BYDAY=MO,WE", "EXDATE;TZID=Europe/Berlin:20250324T093000"),
    vevent("weekly@test", "SUMMARY:Standup (moved)", "RECURRENCE-ID;TZID=Europe/Berlin:20250326T093000",
           "DTSTART;TZID=Europe/Berlin:20250326T110000", "DURATION:PT15M"),
    vevent("trip@test", "SUMMARY:Trip", "DTSTART;VALUE=DATE:20250328", "DTEND;VALUE=DATE:20250331",
           "LOCATION:Lisbon", "URL:https://example.com/trip", "DESCRIPTION:" + "x" * 2500),
    vevent("floating@test", "SUMMARY:Floating", "DTSTART:20250322T080000", "DTEND:20250322T090000"),
    vevent("ny@test", "SUMMARY:Call", "DTSTART;TZID=America/New_York:20250321T090000", "DURATION:PT30M",
           "STATUS:TENTATIVE"),
    vevent("bad@test", "SUMMARY:Broken", "DTSTART:notadate"),
    vevent("unknown-zone@test", "SUMMARY:Where", "DTSTART;TZID=Mars/Olympus:20250323T100000", "DURATION:PT1H"),
    vtodo("todo@test", "SUMMARY:Invoice", "DUE:20250324T120000Z", "PRIORITY:5"),
    vtodo("daily-todo@test", "SUMMARY:Water plants", "DUE;VALUE=DATE:20250319", "RRULE:FREQ=DAILY;COUNT=5"),
    LUNCH,
)
# Each series walks about 190,000 seconds before the window: many of them keep a worker busy for minutes.
SLOW = ics(*(vevent(f"slow{i}@test", "DTSTART:20250311T000000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY;COUNT=100000000")
             for i in range(400)))


def window() -> Window:
    return Window.of_days(dt.date(2025, 3, 13), dt.date(2025, 5, 19), BERLIN)


def test_the_worker_answers_what_parsing_here_answers():
    data = MIXED.encode()
    here = worker_mod.expand_here(data, "mixed.ics", window(), Limits(max_occurrences=50))
    there = worker_mod.expand(data, "mixed.ics", window(), Limits(max_occurrences=50), 60)
    assert there == here
    assert len(here["events"]) > 10 and len(here["todos"]) >= 2 and len(here["warnings"]) == 2
    # text (as CalDAV gives it) is parsed as text, not decoded again
    assert worker_mod.expand(MIXED, "mixed.ics", window(), Limits(max_occurrences=50), 60) == here


async def test_items_from_the_worker_are_what_the_models_say(tmp_path):
    path = tmp_path / "mixed.ics"
    path.write_text(MIXED)
    result = await IcsSource(IcsEntry(path=str(path), name="personal"), (7, 60)).poll(make_ctx(tmp_path, timeout=60))
    kinds = {i.kind for i in result.items}
    assert kinds == {"calendar.event", "calendar.deadline"}
    for item in result.items:
        model = CalendarEvent if item.kind == "calendar.event" else Deadline
        assert model.model_validate(item.data).model_dump(mode="json") == item.data  # built unvalidated, but valid
        assert list(item.data) == list(model.model_fields)
        assert type(item).model_validate(item.model_dump()) == item


def _worker_pid() -> int:
    proc = worker_mod.shared()._proc
    assert proc is not None and proc.poll() is None
    return proc.pid


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie still answers kill(0); it is gone once it is reaped or in state Z
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "Z"


async def _poll_lunch(tmp_path):
    path = tmp_path / "lunch.ics"
    path.write_text(ics(LUNCH))
    result = await IcsSource(IcsEntry(path=str(path), name="personal"), (7, 60)).poll(make_ctx(tmp_path, timeout=60))
    assert [i.key for i in result.items] == ["lunch@test@2025-03-21T11:00:00Z"]


async def test_a_worker_that_dies_mid_parse_is_unavailable_and_the_next_poll_works(tmp_path):
    await _poll_lunch(tmp_path)  # the worker is up
    pid = _worker_pid()
    started = worker_mod.shared().started
    path = tmp_path / "slow.ics"
    path.write_text(SLOW)
    source = IcsSource(IcsEntry(path=str(path), name="personal"), (7, 60))
    poll = asyncio.ensure_future(source.poll(make_ctx(tmp_path, timeout=120)))
    # the worker reads the request, then works for minutes: kill it once it has the document
    for _ in range(3000):
        if _stat_state(pid) == "R" or poll.done():
            break
        await asyncio.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(SourceUnavailable, match=r"calendar\.personal: the calendar worker died while reading .*slow\.ics "
                                                r"\(killed by signal 9\); the next poll starts a new one"):
        await poll
    await _poll_lunch(tmp_path)
    assert worker_mod.shared().started == started + 1 and _worker_pid() != pid


def _stat_state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


async def test_a_parse_over_the_poll_timeout_stops_the_worker(tmp_path):
    await _poll_lunch(tmp_path)
    pid = _worker_pid()
    path = tmp_path / "slow.ics"
    path.write_text(SLOW)
    source = IcsSource(IcsEntry(path=str(path), name="personal"), (7, 60))
    with pytest.raises(SourceUnavailable, match=r"calendar worker took too long on .*slow\.ics; it was stopped"):
        await source.poll(make_ctx(tmp_path, timeout=1.0))
    assert _gone(pid)
    await _poll_lunch(tmp_path)


async def test_a_cancelled_poll_kills_its_worker_at_once(tmp_path):
    """The coordinator's wait_for cancels the poll: the parse must not run on in the worker."""
    await _poll_lunch(tmp_path)
    pid = _worker_pid()
    path = tmp_path / "slow.ics"
    path.write_text(SLOW)
    source = IcsSource(IcsEntry(path=str(path), name="personal"), (7, 60))
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(source.poll(make_ctx(tmp_path, timeout=120)), timeout=0.5)
    assert _gone(pid)
    await _poll_lunch(tmp_path)


def test_two_sources_share_the_worker_one_at_a_time():
    data = ics(LUNCH).encode()
    answers: list = []

    def one() -> None:
        answers.append(worker_mod.expand(data, "lunch.ics", window(), Limits(), 60))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(answers) == 4 and all(a == answers[0] for a in answers)
