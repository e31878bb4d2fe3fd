"""calendar.create_event against a real Radicale: the event lands once, with the right times, and failures are classified."""

from __future__ import annotations

import datetime as dt
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from radicale_server import RadicaleServer, free_port, radicale_fixture

from oxymus.actions.effects import ActionContext, ActionInvalid, Permanent, Prepared, Receipt, Transient
from oxymus.connectors.calendar import CalDavEntry, CalendarConfig, CalendarConnector, IcsEntry
from oxymus.connectors.calendar.actions import CreateEvent, event_uid

BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2025, 11, 20, 12, 0, tzinfo=dt.timezone.utc)
PASSWORDS = {"me": "s3cret", "two": "pw2"}

radicale = radicale_fixture(users=PASSWORDS)
# The module's tests share one Radicale and its calendars, as in a serial run: under pytest-xdist they stay on one worker.
pytestmark = pytest.mark.xdist_group("calendar_actions")


@pytest.fixture(scope="module")
def dav(radicale) -> RadicaleServer:
    """`me` has one calendar (Personal); `two` has two (Work, Home)."""
    with radicale.client("me", PASSWORDS["me"]) as client:
        client.principal().make_calendar(name="Personal", cal_id="personal")
    with radicale.client("two", PASSWORDS["two"]) as client:
        principal = client.principal()
        principal.make_calendar(name="Work", cal_id="work")
        principal.make_calendar(name="Home", cal_id="home")
    return radicale


def config(url: str, **entry) -> CalendarConfig:
    return CalendarConfig(
        caldav=[CalDavEntry(url=url, username="me", name="personal"),
                CalDavEntry(url=url, username="two", name="two", **entry)],
        ics=[IcsEntry(path="~/cal/feed.ics", name="feed")],
    )


def make_ctx(tmp_path: Path, *, key: str = "K1", secrets: dict[str, str] | None = None, timeout: float = 5) -> ActionContext:
    if secrets is None:
        secrets = {"calendar.personal": PASSWORDS["me"], "calendar.two": PASSWORDS["two"]}
    return ActionContext(zone=BERLIN, config_dir=tmp_path, now=lambda: NOW, secret=secrets.get,
                         idempotency_key=key, action_id="01ACTION", timeout=timeout)


def payload(**over) -> dict:
    return {"calendar": "personal", "summary": "Deep work", "start": "2025-11-24T09:00:00+01:00",
            "end": "2025-11-24T11:00:00+01:00", **over}


async def prepare(spec: CreateEvent, data: dict, ctx: ActionContext) -> Prepared:
    return await spec.prepare(spec.parse(data), ctx)


async def run(spec: CreateEvent, data: dict, ctx: ActionContext) -> Receipt:
    prepared = await prepare(spec, data, ctx)
    return await spec.execute(spec.parse(prepared.payload), ctx)


def stored(server: RadicaleServer, user: str, cal_id: str) -> list[icalendar.Event]:
    """Every VEVENT on the server's calendar, read back with a separate client."""
    with server.client(user, PASSWORDS[user]) as client:
        cal = client.principal().calendar(cal_id=cal_id)
        return [ev for obj in cal.get_events() for ev in icalendar.Calendar.from_ical(obj.data).walk("VEVENT")]


def mine(events: list[icalendar.Event], key: str) -> list[icalendar.Event]:
    return [ev for ev in events if str(ev["UID"]) == event_uid(key)]


# ---------------------------------------------------------------- the spec and its preview


def test_the_connector_declares_the_action_even_without_a_section():
    (spec,) = CalendarConnector.actions(None)
    assert spec.kind == "calendar.create_event" and spec.scope == "external" and spec.risk == "medium"


async def test_prepare_renders_the_preview_in_the_person_zone_without_contacting_the_server(tmp_path):
    spec = CreateEvent(config(f"http://127.0.0.1:{free_port()}/"))  # nothing listens there
    prepared = await prepare(spec, payload(location="Library", description="No meetings."), make_ctx(tmp_path))
    assert prepared.preview.format == "event"
    assert prepared.preview.summary == 'calendar block Mon 24 Nov 09:00–11:00 "Deep work" on personal'
    body = prepared.preview.body
    assert "Mon 24 Nov 2025 09:00 CET – Mon 24 Nov 2025 11:00 CET (2 h)" in body
    assert "Location: Library" in body and body.endswith("No meetings.")
    assert prepared.payload["start"] == "2025-11-24T09:00:00+01:00"


@pytest.mark.parametrize(
    "over, message",
    [
        ({"calendar": "feed"}, "payload.calendar: 'feed' is an ICS calendar, which Oxymus reads but cannot write to"),
        ({"calendar": "nope"}, "payload.calendar: no CalDAV calendar named 'nope' (configured: personal, two)"),
        ({"start": "2025-11-24T09:00:00"}, "payload.start: 2025-11-24T09:00:00 has no time zone"),
        ({"end": "2025-11-24T11:00:00"}, "payload.end: 2025-11-24T11:00:00 has no time zone"),
        ({"end": "2025-11-24T09:00:00+01:00"}, "payload.end: must be after payload.start"),
        ({"end": "2025-12-01T09:00:01+01:00"}, "payload.end: an event may last at most 7 days"),
        ({"summary": "   "}, "payload.summary: the title is blank"),
    ],
)
async def test_prepare_refuses_what_cannot_be_written(tmp_path, over, message):
    spec = CreateEvent(config("http://127.0.0.1:9/"))
    with pytest.raises(ActionInvalid) as err:
        await prepare(spec, payload(**over), make_ctx(tmp_path))
    assert str(err.value).startswith(message)


async def test_a_calendar_outside_the_entry_list_is_refused(tmp_path):
    spec = CreateEvent(config("http://127.0.0.1:9/", calendars=["Work"]))
    with pytest.raises(ActionInvalid, match=r"payload.calendar_name: 'Home' is not among the calendars of two \(Work\)"):
        await prepare(spec, payload(calendar="two", calendar_name="Home"), make_ctx(tmp_path))


async def test_without_caldav_entries_the_message_says_how_to_add_one(tmp_path):
    (spec,) = CalendarConnector.actions(None)
    with pytest.raises(ActionInvalid, match=r"none is configured: add a \[\[calendar.caldav\]\] entry"):
        await prepare(spec, payload(), make_ctx(tmp_path))


def test_the_payload_refuses_unknown_fields():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="colour"):
        CreateEvent(config("http://127.0.0.1:9/")).parse(payload(colour="red"))


# ---------------------------------------------------------------- writing to Radicale


async def test_create_stores_one_event_with_the_right_times(tmp_path, dav):
    spec = CreateEvent(config(dav.url))
    receipt = await run(spec, payload(location="Library", description="No meetings."), make_ctx(tmp_path, key="create"))
    assert receipt.summary == 'created "Deep work" Mon 24 Nov 09:00–11:00 on personal'
    assert receipt.ref == event_uid("create") and receipt.already_done is False
    assert receipt.data["collection"] == "Personal"
    (event,) = mine(stored(dav, "me", "personal"), "create")
    assert event.DTSTART == dt.datetime(2025, 11, 24, 8, 0, tzinfo=dt.timezone.utc)
    assert event.DTEND == dt.datetime(2025, 11, 24, 10, 0, tzinfo=dt.timezone.utc)
    assert str(event["SUMMARY"]) == "Deep work" and str(event["LOCATION"]) == "Library"
    assert str(event["DESCRIPTION"]) == "No meetings." and str(event["X-OXYMUS-ACTION"]) == "01ACTION"
    assert event.DTSTAMP == NOW


async def test_executing_twice_with_the_same_key_creates_one_event(tmp_path, dav):
    spec = CreateEvent(config(dav.url))
    first = await run(spec, payload(summary="Once"), make_ctx(tmp_path, key="twice"))
    again = await run(spec, payload(summary="Once"), make_ctx(tmp_path, key="twice"))
    assert (first.already_done, again.already_done) == (False, True)
    assert again.ref == first.ref
    assert again.summary == '"Once" Mon 24 Nov 09:00–11:00 on personal was already created'
    assert len(mine(stored(dav, "me", "personal"), "twice")) == 1
    other = await run(spec, payload(summary="Once"), make_ctx(tmp_path, key="another"))
    assert other.already_done is False and other.ref != first.ref


async def test_start_in_berlin_across_the_dst_switch_is_stored_right(tmp_path, dav):
    # 01:30 CET to 03:30 CEST on 30 March 2025: one hour, since 02:00 became 03:00.
    start = dt.datetime(2025, 3, 30, 1, 30, tzinfo=BERLIN)
    end = dt.datetime(2025, 3, 30, 3, 30, tzinfo=BERLIN)
    spec = CreateEvent(config(dav.url))
    data = payload(start=start.isoformat(), end=end.isoformat(), summary="Night shift")
    prepared = await prepare(spec, data, make_ctx(tmp_path, key="dst"))
    assert prepared.preview.summary == 'calendar block Sun 30 Mar 01:30–03:30 "Night shift" on personal'
    assert "(1 h)" in prepared.preview.body and "CEST" in prepared.preview.body
    await spec.execute(spec.parse(prepared.payload), make_ctx(tmp_path, key="dst"))
    (event,) = mine(stored(dav, "me", "personal"), "dst")
    assert event.DTSTART == dt.datetime(2025, 3, 30, 0, 30, tzinfo=dt.timezone.utc)
    assert event.DTEND == dt.datetime(2025, 3, 30, 1, 30, tzinfo=dt.timezone.utc)


async def test_calendar_name_picks_one_of_several(tmp_path, dav):
    spec = CreateEvent(config(dav.url))
    receipt = await run(spec, payload(calendar="two", calendar_name="home"), make_ctx(tmp_path, key="home"))
    assert receipt.summary == 'created "Deep work" Mon 24 Nov 09:00–11:00 on two/home'
    assert receipt.data["collection"] == "Home"
    assert len(mine(stored(dav, "two", "home"), "home")) == 1
    assert mine(stored(dav, "two", "work"), "home") == []


async def test_the_first_calendar_of_the_entry_list_is_the_default(tmp_path, dav):
    spec = CreateEvent(config(dav.url, calendars=["Work", "Home"]))
    await run(spec, payload(calendar="two"), make_ctx(tmp_path, key="default"))
    assert len(mine(stored(dav, "two", "work"), "default")) == 1


@pytest.mark.parametrize(
    "over, message",
    [
        ({"calendar": "two"}, "has 2 calendars (Home, Work): name the one to write to"),
        ({"calendar_name": "Holidays"}, "no calendar named 'Holidays' (the server has: Personal)"),
    ],
)
async def test_a_calendar_the_server_lacks_is_permanent(tmp_path, dav, over, message):
    spec = CreateEvent(config(dav.url))
    with pytest.raises(Permanent, match=message.replace("(", r"\(").replace(")", r"\)")):
        await run(spec, payload(**over), make_ctx(tmp_path, key="missing"))


async def test_wrong_or_missing_password_is_permanent_with_the_hint(tmp_path, dav):
    spec = CreateEvent(config(dav.url))
    with pytest.raises(Permanent) as err:
        await run(spec, payload(), make_ctx(tmp_path, secrets={"calendar.personal": "wrong"}))
    assert str(err.value) == (
        "personal: the server refused the login for me (401): check the password with `oxymus secret set calendar.personal`"
    )
    with pytest.raises(Permanent) as err:
        await run(spec, payload(), make_ctx(tmp_path, secrets={}))
    assert str(err.value) == (
        "no password for calendar.personal: set [[calendar.caldav]] personal: password_command "
        "or run `oxymus secret set calendar.personal`"
    )


async def test_server_stopped_is_transient_and_the_retry_succeeds(tmp_path, dav):
    spec = CreateEvent(config(dav.url))
    ctx = make_ctx(tmp_path, key="outage")
    prepared = await prepare(spec, payload(), ctx)
    dav.stop()
    try:
        with pytest.raises(Transient, match="connection refused"):
            await spec.execute(spec.parse(prepared.payload), ctx)
    finally:
        dav.start()
    receipt = await spec.execute(spec.parse(prepared.payload), ctx)
    assert receipt.already_done is False
    assert len(mine(stored(dav, "me", "personal"), "outage")) == 1


# ---------------------------------------------------------------- HTTP errors from a scripted server


class Scripted:
    """A loopback server answering every request with one status and headers."""

    def __init__(self, status: int, headers: dict[str, str]):
        answer = (status, headers)

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(answer[0])
                for name, value in answer[1].items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_PUT = do_PROPFIND = do_REPORT = do_OPTIONS = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "Scripted":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    "status, headers, error, retry_after",
    [
        (503, {"Retry-After": "30"}, Transient, 30),
        (500, {}, Transient, None),
        (429, {"Retry-After": "90"}, Transient, 90),
        (404, {}, Permanent, None),
        (403, {}, Permanent, None),
    ],
)
async def test_http_errors_are_classified(tmp_path, status, headers, error, retry_after):
    with Scripted(status, headers) as server:
        spec = CreateEvent(config(server.url))
        with pytest.raises(error) as err:
            await run(spec, payload(), make_ctx(tmp_path))
    assert str(status) in str(err.value)
    if error is Transient:
        assert err.value.retry_after == retry_after


class PutFaults:
    """A loopback proxy to Radicale that can spoil the answers to PUTs.

    `mode` "refuse": the PUT is not forwarded and answers `status`; "lose": it is
    forwarded (the event is stored) but the client gets `status`, as when a
    connection drops after the server wrote.
    """

    def __init__(self, target: RadicaleServer, status: int, mode: str):
        proxy = self
        self.puts = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "PUT":
                    proxy.puts += 1
                    if proxy.puts == 1:
                        if mode == "lose":
                            self._relay(body)
                        return self._send(status, {}, b"spoiled")
                self._send(*self._relay(body))

            def _relay(self, body: bytes):
                conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=5)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    return response.status, dict(response.getheaders()), response.read()
                finally:
                    conn.close()

            def _send(self, code: int, headers: dict, payload: bytes):
                self.send_response(code)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_PROPFIND = do_REPORT = do_OPTIONS = do_DELETE = _forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "PutFaults":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    "status, mode, error",
    [(500, "refuse", Transient), (502, "lose", Transient), (415, "refuse", Permanent)],
)
async def test_a_failed_put_is_classified_and_a_retry_never_duplicates(tmp_path, dav, status, mode, error):
    key = f"put-{status}-{mode}"
    with PutFaults(dav, status, mode) as proxy:
        spec = CreateEvent(config(proxy.url))
        ctx = make_ctx(tmp_path, key=key)
        prepared = await prepare(spec, payload(), ctx)
        with pytest.raises(error, match=str(status)):
            await spec.execute(spec.parse(prepared.payload), ctx)
        assert len(mine(stored(dav, "me", "personal"), key)) == (1 if mode == "lose" else 0)
        if error is Transient:
            receipt = await spec.execute(spec.parse(prepared.payload), ctx)
            assert receipt.already_done is (mode == "lose")
            assert len(mine(stored(dav, "me", "personal"), key)) == 1


# ---------------------------------------------------------------- compensation (a later step of the flow failed)


def undo_ctx(tmp_path: Path, key: str, **kw) -> ActionContext:
    """The compensation's own context: its own key, and the key the event was made with."""
    ctx = make_ctx(tmp_path, key=f"undo-{key}", **kw)
    ctx.compensates_key = key
    return ctx


def edit_on_server(server: RadicaleServer, key: str, change) -> None:
    """Someone edits the event in their calendar app (a separate client)."""
    with server.client("me", PASSWORDS["me"]) as client:
        event = client.principal().calendar(cal_id="personal").get_event_by_uid(event_uid(key))
        change(event.icalendar_component)
        event.save()


def test_the_kind_says_it_can_be_taken_back():
    assert CreateEvent.compensable is True


async def test_compensate_deletes_the_event_and_twice_is_already_done(tmp_path, dav):
    spec = CreateEvent(config(dav.url))
    data = payload(summary="Undo me")
    receipt = await run(spec, data, make_ctx(tmp_path, key="undo"))
    other = await run(spec, data, make_ctx(tmp_path, key="undo-neighbour"))
    assert len(mine(stored(dav, "me", "personal"), "undo")) == 1
    undone = await spec.compensate(spec.parse(data), receipt, undo_ctx(tmp_path, "undo"))
    assert undone.summary == 'deleted "Undo me" Mon 24 Nov 09:00–11:00 on personal'
    assert undone.ref == receipt.ref and undone.already_done is False
    assert mine(stored(dav, "me", "personal"), "undo") == []
    assert len(mine(stored(dav, "me", "personal"), "undo-neighbour")) == 1  # only the one it made
    again = await spec.compensate(spec.parse(data), receipt, undo_ctx(tmp_path, "undo"))
    assert again.already_done is True and again.summary == '"Undo me" Mon 24 Nov 09:00–11:00 on personal was already gone'
    assert other.already_done is False


async def test_compensate_finds_the_event_by_the_original_key_when_the_receipt_lacks_the_uid(tmp_path, dav):
    spec = CreateEvent(config(dav.url))
    receipt = await run(spec, payload(calendar="two", calendar_name="Home"), make_ctx(tmp_path, key="bare"))
    bare = Receipt(summary=receipt.summary)
    undone = await spec.compensate(spec.parse(payload(calendar="two", calendar_name="Home")), bare, undo_ctx(tmp_path, "bare"))
    assert undone.already_done is False and mine(stored(dav, "two", "home"), "bare") == []


def _retitle(component) -> None:
    component["SUMMARY"] = icalendar.vText("Deep work (moved to the library)")


def _resequence(component) -> None:
    component["SEQUENCE"] = 1


def _move(component) -> None:
    component.pop("DTSTART")
    component.add("DTSTART", dt.datetime(2025, 11, 24, 7, 0, tzinfo=dt.timezone.utc))


@pytest.mark.parametrize("change, why", [(_retitle, "its summary changed"), (_resequence, "SEQUENCE is "),
                                         (_move, "its start moved")])
async def test_an_event_edited_since_is_left_alone_and_the_refusal_says_so(tmp_path, dav, change, why):
    key = f"edited-{change.__name__}"
    spec = CreateEvent(config(dav.url))
    receipt = await run(spec, payload(), make_ctx(tmp_path, key=key))
    edit_on_server(dav, key, change)
    with pytest.raises(Permanent) as err:
        await spec.compensate(spec.parse(payload()), receipt, undo_ctx(tmp_path, key))
    message = str(err.value)  # (the calendar client may bump SEQUENCE on its own save)
    assert message.startswith('event "Deep work" Mon 24 Nov 09:00–11:00 on personal was edited since (') and why in message
    assert message.endswith("); delete it by hand if it should go")
    assert len(mine(stored(dav, "me", "personal"), key)) == 1


async def test_compensate_with_the_server_down_is_transient_and_the_retry_deletes(tmp_path, dav):
    spec = CreateEvent(config(dav.url))
    receipt = await run(spec, payload(), make_ctx(tmp_path, key="undo-outage"))
    dav.stop()
    try:
        with pytest.raises(Transient, match="connection refused"):
            await spec.compensate(spec.parse(payload()), receipt, undo_ctx(tmp_path, "undo-outage"))
    finally:
        dav.start()
    undone = await spec.compensate(spec.parse(payload()), receipt, undo_ctx(tmp_path, "undo-outage"))
    assert undone.already_done is False and mine(stored(dav, "me", "personal"), "undo-outage") == []


@pytest.mark.parametrize("status, error", [(503, Transient), (429, Transient), (403, Permanent)])
async def test_compensate_classifies_http_errors(tmp_path, status, error):
    with Scripted(status, {}) as server:
        spec = CreateEvent(config(server.url))
        receipt = Receipt(summary="created", ref=event_uid("K1"), data={"uid": event_uid("K1"), "collection": "Personal"})
        with pytest.raises(error, match=str(status)):
            await spec.compensate(spec.parse(payload()), receipt, undo_ctx(tmp_path, "K1"))
