"""Unchanged calendars are not parsed again: files, vdir folders, feeds and CalDAV, and the coordinator's side.

Each source is polled the way the coordinator does it: the fingerprint of the last
stored poll is handed to the next one. What is counted is whether the iCalendar
parser ran, so a skipped parse is seen, not timed.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from test_connector_calendar import dav, dav_source, feeds, ics, make_ctx, radicale, url_source, vevent  # noqa: F401

from oxymus.connectors.calendar import IcsEntry
from oxymus.connectors.calendar import worker as worker_mod
from oxymus.connectors.calendar.source import IcsSource
from oxymus.sources.contract import PollResult

NOW = dt.datetime(2025, 3, 20, 9, 0, tzinfo=dt.timezone.utc)
ONE = ics(vevent("one", "SUMMARY:One", "DTSTART:20250321T100000Z", "DURATION:PT1H"))
TWO = ics(vevent("one", "SUMMARY:One", "DTSTART:20250321T100000Z", "DURATION:PT1H"),
          vevent("two", "SUMMARY:Two", "DTSTART:20250322T100000Z", "DURATION:PT1H"))


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The origin of every document the parser is asked to expand."""
    seen: list[str] = []
    real = worker_mod.expand

    def counting(data, origin, *args, **kwargs):
        seen.append(origin)
        return real(data, origin, *args, **kwargs)

    monkeypatch.setattr(worker_mod, "expand", counting)
    return seen


async def poll_after(source, tmp_path, previous: PollResult | None, now: dt.datetime = NOW, **kw) -> PollResult:
    ctx = make_ctx(tmp_path, now=now, **kw)
    ctx.previous_fingerprint = previous.fingerprint if previous else None
    return await source.poll(ctx)


async def test_an_unchanged_file_is_not_read_again_and_an_edit_or_a_new_day_is(tmp_path, parses):
    path = tmp_path / "cal.ics"
    path.write_text(ONE)
    source = IcsSource(IcsEntry(path=str(path), name="personal"), (7, 60))
    first = await poll_after(source, tmp_path, None)
    assert len(first.items) == 1 and first.fingerprint and not first.unchanged
    second = await poll_after(source, tmp_path, first)
    assert second.unchanged and second.items == [] and second.fingerprint == first.fingerprint
    assert len(parses) == 1

    path.write_text(TWO)  # an edit, even within the same second, changes size or mtime_ns
    third = await poll_after(source, tmp_path, first)
    assert not third.unchanged and len(third.items) == 2 and len(parses) == 2

    tomorrow = await poll_after(source, tmp_path, third, now=NOW + dt.timedelta(days=1))
    assert not tomorrow.unchanged and len(parses) == 3  # the window moved: a new expansion


async def test_a_file_replaced_with_the_same_size_and_time_is_still_noticed(tmp_path, parses):
    """Editors that write a new file and rename it: a new inode, even with the old mtime."""
    path = tmp_path / "cal.ics"
    path.write_text(ONE)
    source = IcsSource(IcsEntry(path=str(path), name="personal"), (7, 60))
    first = await poll_after(source, tmp_path, None)
    st = path.stat()
    (tmp_path / "new.ics").write_text(ONE.replace("SUMMARY:One", "SUMMARY:Uno"))
    os.utime(tmp_path / "new.ics", ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(tmp_path / "new.ics", path)
    again = await poll_after(source, tmp_path, first)
    assert not again.unchanged and again.items[0].data["summary"] == "Uno"


async def test_a_vdir_folder_is_skipped_until_a_file_is_added_or_changed(tmp_path, parses):
    folder = tmp_path / "vdir" / "work"
    folder.mkdir(parents=True)
    (folder / "one.ics").write_text(ONE)
    source = IcsSource(IcsEntry(path=str(tmp_path / "vdir"), name="khal"), (7, 60))
    first = await poll_after(source, tmp_path, None)
    assert len(first.items) == 1 and len(parses) == 1
    assert (await poll_after(source, tmp_path, first)).unchanged and len(parses) == 1

    (folder / "two.ics").write_text(ics(vevent("two", "SUMMARY:Two", "DTSTART:20250322T100000Z")))
    added = await poll_after(source, tmp_path, first)
    assert not added.unchanged and len(added.items) == 2
    (folder / "displayname").write_text("Work stuff")  # a renamed calendar is new data too
    renamed = await poll_after(source, tmp_path, added)
    assert not renamed.unchanged and {i.data["collection"] for i in renamed.items} == {"Work stuff"}


async def test_a_feed_answering_304_or_the_same_body_is_not_parsed_again(tmp_path, feeds, parses):  # noqa: F811
    state = {"body": ONE.encode(), "etag": True}

    def route(handler):
        if state["etag"] and handler.headers.get("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {"Content-Type": "text/calendar", **({"ETag": '"v1"'} if state["etag"] else {})}, state["body"]

    feeds.routes["/same.ics"] = route
    source = url_source(feeds, "/same.ics")
    first = await poll_after(source, tmp_path, None)
    assert (await poll_after(source, tmp_path, first)).unchanged  # a 304
    state["etag"] = False
    assert (await poll_after(source, tmp_path, first)).unchanged  # a 200 with the same bytes
    state["body"] = TWO.encode()
    changed = await poll_after(source, tmp_path, first)
    assert not changed.unchanged and len(changed.items) == 2
    assert len(parses) == 2


async def test_caldav_answers_unchanged_when_the_server_has_the_same_objects(tmp_path, dav, parses):  # noqa: F811
    source = dav_source(dav.url)
    secrets = {"calendar.work": "x"}
    first = await poll_after(source, tmp_path, None, secrets=secrets)
    parsed = len(parses)
    assert parsed > 1 and first.items
    again = await poll_after(source, tmp_path, first, secrets=secrets)
    assert again.unchanged and len(parses) == parsed
