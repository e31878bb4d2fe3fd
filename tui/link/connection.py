"""The one place the TUI talks to the daemon.

`DaemonConnection` is owned by the App and run as a worker. It starts the daemon
when asked (in a thread, so the UI never blocks), connects, subscribes to events,
loads the inbox, runs the screens' live queries, and keeps an outbox of captures the
user typed until the daemon has stored them. It reports everything as past-tense messages (see messages.py)
posted to the screens that listen; screens never do IO themselves.

When the daemon cannot be reached, or the connection drops, it retries forever
with backoff (0.5 s doubling to 5 s by default); a successful connection resets
the backoff. It starts the daemon only until it has connected once: after that a
daemon that went away was most likely stopped on purpose (`oxymus down`), so the
TUI waits for it to come back instead of fighting the user.

Every STALE_CHECK_INTERVAL seconds it asks the live queries whether an answer went
stale against the wall clock (the day, once the date changed in its zone: a machine
waking from sleep past midnight catches up). `refresh_state()` asks the daemon to poll
every source now, on a connection of its own, so the main one keeps answering while
it polls, then reruns what `state.changed` invalidates (the day).

What each screen shows (memory search and records, the budget, the plan, the approval
queue, ...) is a live query declared by the screen (tui/link/live.py, `self.live`): the link
subscribes to their topics, runs the standing ones after connecting and reruns them on
their events, debounced; screens ask for one-off answers with `live.ask(QUERY, ...)`.

Memory: every `memory.changed` event is passed on (`MemoryChanged`); edits and forgetting
are commands the memory screens send (`live.send`, screens/record_actions.py). `triage()` turns a capture into a memory record or archives it; the
capture leaves the inbox when the daemon says so, whichever client asked
(`capture.triaged` -> `CaptureTriaged`); `to="plan_action"` makes it a next action in PLANS.md.

Suggestions: the triage agent's suggestion for each open capture comes with the inbox
(`SuggestionsLoaded`, after `InboxLoaded`) and is reloaded when the agent saves new ones
(`artifact.saved` of kind triage_suggestion: a live query of the link's own; a burst costs
one reload). `accept()` does what a capture's suggestion says (`inbox.accept`):
`SuggestionAccepted` with the daemon's summary, and the capture leaves the inbox
(`CaptureTriaged`); a refusal is `TriageFailed`.

Plans: edits are a command the plans screen declares (`EDIT` in screens/plans.py), like
memory's; the link knows nothing of them.

Captures: `add_capture()` and the outbox, `save_outbox()` before quitting: see
outbox.py (a mixin of DaemonConnection, and the one TUI module that may
write a capture to disk without the daemon).

Actions, approvals, the pause and the audit log: see actions.py (a mixin
of DaemonConnection, run by the same session).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from typing import Any, Callable

from pydantic import ValidationError
from textual.message_pump import MessagePump

from oxymus.client import launcher
from oxymus.client.async_client import AsyncClient
from oxymus.client.sync_client import DaemonUnavailable
from oxymus.client.wire import RpcError
from oxymus.models import Capture
from oxymus.profile.paths import Paths
from oxymus.tui.link.actions import ACTION_TOPICS, ActionsLink
from oxymus.tui.link.live import NOT_CONNECTED, LinkDown, LiveQueries, LiveQuery
from oxymus.tui.link.messages import (
    CaptureAdded,
    CaptureQueued,
    CaptureTriaged,
    Connected,
    Connecting,
    ConnectionMessage,
    Disconnected,
    InboxCounted,
    InboxLoaded,
    MemoryChanged,
    RefreshFinished,
    RefreshStarted,
    SuggestionAccepted,
    SuggestionsLoaded,
    TriageFailed,
)
from oxymus.tui.link.outbox import OutboxLink
from oxymus.tui.link.threads import in_thread

log = logging.getLogger("oxymus.tui.link.connection")

TOPICS = ["capture.*", "daemon.*", "state.*", "source.*", "memory.*", "plans.*", "artifact.*", "record.*", *ACTION_TOPICS]
STALE_CHECK_INTERVAL = 15.0  # seconds between checks of whether an answer went stale (the date changed)
REFRESH_TIMEOUT = 300.0  # seconds to wait for `state.refresh` (it polls every source)
SUGGESTIONS_DEBOUNCE = 0.3  # seconds: suggestions saved within this window cost one reload
SUGGESTION_KIND = "triage_suggestion"
PAGE_MARGIN = 40  # rows past the screen's height the inbox keeps loaded (more than a PageDown; screens/inbox.py pages beyond)


def first_page(rows: int) -> int:
    """Captures to load first for a terminal `rows` high: one screenful and the margin, so a huge inbox opens
    as fast as a small one; the Inbox pages the rest from the daemon as the cursor nears the edge."""
    return max(1, rows) + PAGE_MARGIN


class DaemonConnection(OutboxLink, ActionsLink):
    def __init__(
        self,
        paths: Paths,
        *,
        start_daemon: bool = True,
        retry_initial: float = 0.5,
        retry_max: float = 5.0,
        client_name: str = "oxymus-tui",
        clock: Callable[[], float] = time.time,
        date_check_interval: float = STALE_CHECK_INTERVAL,
        queries: tuple[LiveQuery, ...] = (),
    ) -> None:
        self.paths = paths
        self.socket = paths.socket
        self.start_daemon = start_daemon
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.client_name = client_name
        self.clock = clock
        self.date_check_interval = date_check_interval
        self.listeners: list[MessagePump] = []
        self.client: AsyncClient | None = None
        self.connected = False
        self.ever_connected = False
        # The open captures as last known (kept while disconnected), by id.
        self.inbox: dict[str, Capture] = {}
        # How many are open in all (the daemon counts them; `inbox` holds one page), kept in step by events.
        self.open_total: int | None = None
        self.first_page = 500  # captures `inbox.list` loads on connect; the app sets first_page(its height) when mounted
        self._left: set[str] = set()  # captures seen leaving the inbox, so a reply and its event count once
        # The triage agent's suggestions for them (protocol.TriageSuggestion), by capture id.
        self.suggestions: dict[str, Any] = {}
        self._init_outbox()
        self._loaded = False
        self._live: dict[str, Capture] = {}
        # The day as last loaded (kept while disconnected), and when its reply arrived.
        self.refreshing = False
        # What the screens show (tui/link/live.py): run on connect, on their events, and when asked.
        self.live = LiveQueries(self._live_call, self._post, lambda: self.ready, self._spawn, self.clock)
        self.live.declare(LiveQuery(
            "inbox.suggestions", "inbox.list", lambda _answer: SuggestionsLoaded(dict(self.suggestions)),
            "oxymus.client.protocol:InboxListResult", params=lambda: {"status": "open", "limit": self.first_page}, topics=("artifact.saved",),
            accepts=lambda event: event.data.get("kind") == SUGGESTION_KIND, debounce=SUGGESTIONS_DEBOUNCE,
            on_connect=False, keep=lambda result: setattr(self, "suggestions", dict(result.suggestions))), *queries)
        self._init_actions()
        self._drop_reason: str | None = None
        # The link's own state as messages, replayed to every new listener (the connection's status first).
        self._sticky: dict[str, Callable[[], Any]] = {"status": lambda: Connecting(self.socket, start_daemon)}
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self.connected_once_this_session = False

    # ---- what screens call -------------------------------------------------

    def listen(self, target: MessagePump) -> None:
        """Send `target` every message from now on, starting with a replay of the current state."""
        if target in self.listeners:
            return
        self.listeners.append(target)
        target.post_message(self._sticky["status"]())
        if self.inbox or self._loaded:
            target.post_message(InboxLoaded(self._sorted_inbox()))
            target.post_message(InboxCounted(self.open_total))
        if self.suggestions:
            target.post_message(SuggestionsLoaded(dict(self.suggestions)))
        for capture_id, text in self.outbox.items():
            target.post_message(CaptureQueued(capture_id, text))
        for key, make in list(self._sticky.items()):
            if key != "status":
                target.post_message(make())
        self.live.replay(target.post_message)

    def unlisten(self, target: MessagePump) -> None:
        if target in self.listeners:
            self.listeners.remove(target)

    def refresh(self) -> None:
        """Reload the inbox if connected; otherwise stop waiting and retry the daemon now."""
        if self.client is not None and self._loaded:
            self._spawn(self._reload_quietly(self.client))
        else:
            self._wake.set()

    def refresh_state(self) -> None:
        """Ask the daemon to poll every source now (without blocking); the day is reloaded when it is done.

        Not connected: stop waiting and retry the daemon now. Already refreshing: nothing more.
        """
        if self.client is None or not self._loaded:
            self._wake.set()
            return
        if self.refreshing:
            return
        self.refreshing = True
        self._remember("refreshing", RefreshStarted)
        self._emit(RefreshStarted)
        self._spawn(self._refresh_state())

    # ---- memory and triage (what screens call) -------------------------------

    @property
    def ready(self) -> bool:
        """Connected, with the inbox loaded: requests can be sent."""
        return self.client is not None and self._loaded

    def triage(self, capture_id: str, to: str, record: dict[str, Any] | None = None, *,
               text: str | None = None, section: str | None = None) -> None:
        """Turn a capture into a memory record (`to="memory"`, with `record` fields), a next action in
        PLANS.md (`to="plan_action"`, with its `text` and `section`; the daemon's defaults otherwise)
        or archive it (`to="archive"`).

        Success removes it from the inbox (`CaptureTriaged`); a refusal is `TriageFailed`.
        """
        if not self.ready:
            self._emit(TriageFailed, capture_id, NOT_CONNECTED)
            return
        params: dict[str, Any] = {"capture_id": capture_id, "to": to}
        if record is not None:
            params["record"] = record
        if text is not None:
            params["text"] = text
        if section is not None:
            params["section"] = section
        self._spawn(self._triage(self.client, params))

    def accept(self, capture_id: str) -> None:
        """Do what the triage agent suggested for this capture (`inbox.accept`).

        Success: `SuggestionAccepted` (with what the daemon did) and the capture leaves the
        inbox (`CaptureTriaged`); a refusal is `TriageFailed`.
        """
        if not self.ready:
            self._emit(TriageFailed, capture_id, NOT_CONNECTED)
            return
        self._spawn(self._accept(self.client, capture_id))

    # ---- the loop -----------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve, and reconnect forever (until cancelled)."""
        delay = self.retry_initial
        try:
            while True:
                try:
                    reason = await self._session()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # never let a surprise kill the loop (and the UI with it)
                    log.exception("connection session failed")
                    reason = f"{type(exc).__name__}: {exc}"
                if self.connected_once_this_session:
                    delay = self.retry_initial
                self._set_status(Disconnected, self.socket, _short(reason, self.socket), delay)
                self._actions_dropped()
                await self._sleep(delay)
                delay = min(delay * 2, self.retry_max)
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def _session(self) -> str:
        """One connection, from connecting to its end. Returns why it ended (or failed)."""
        self.connected_once_this_session = False
        starting = self.start_daemon and not self.ever_connected
        self._set_status(Connecting, self.socket, starting)
        try:
            if starting:
                started = await in_thread(launcher.start, self.paths)
                _reap_when_it_exits(int(started.get("pid", 0)))
            client = await AsyncClient.connect(self.socket, client=self.client_name)
        except launcher.StartFailed as exc:
            return f"could not start the daemon: {exc}"
        except DaemonUnavailable as exc:
            return str(exc)
        except RpcError as exc:
            return f"the daemon refused the handshake: {exc.message}"
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"
        self._drop_reason = None
        self._loaded = False
        self._live = {}
        pump = asyncio.create_task(self._pump(client), name="oxymus-tui-events")
        days: asyncio.Task | None = None
        try:
            # Let the pump send `subscribe` before `inbox.list` (a connection answers in
            # order), so a capture stored in between is never missed.
            sent = client.next_id
            while client.next_id == sent and not pump.done():
                await asyncio.sleep(0)
            self.client = client
            await self._load(client)
            await self._load_actions(client)
            await self.live.connected()
            if client.closed:  # it dropped while the queries ran (they say nothing about a drop)
                raise DaemonUnavailable("the connection to the daemon was lost")
            self.connected = self.ever_connected = self.connected_once_this_session = True
            self._set_status(Connected, self.socket)
            await self._flush_outbox(client)
            days = asyncio.create_task(self._keep_fresh(), name="oxymus-tui-stale")
            await pump  # until the connection ends
            return self._drop_reason or "the connection to the daemon was lost"
        except DaemonUnavailable as exc:
            return self._drop_reason or str(exc)
        except RpcError as exc:
            return f"the daemon answered with an error: {exc.message}"
        finally:
            self.client = None
            self.connected = False
            self._loaded = False
            self.live.stop()
            self._activity.cancel()
            for task in (pump, days):
                if task is None:
                    continue
                task.cancel()
                try:
                    await task
                except BaseException:
                    pass
            await client.close()

    async def _pump(self, client: AsyncClient) -> None:
        async for event in client.subscribe(sorted({*TOPICS, *self.live.topics})):
            if event.topic == "capture.added":
                try:
                    capture = Capture.model_validate(event.data)
                except ValidationError:
                    log.warning("ignored a malformed capture.added event: %r", event.data)
                    continue
                self._seen(capture)
            elif event.topic == "capture.triaged":
                capture_id = event.data.get("id")
                if isinstance(capture_id, str):
                    self._triaged(capture_id, str(event.data.get("to") or ""), event.data.get("target"), mine=False)
            elif event.topic == "memory.changed":
                self._emit(MemoryChanged, event.data.get("id"), str(event.data.get("verb") or "changed"))
            elif event.topic == "daemon.stopping":
                self._drop_reason = "the daemon is shutting down"
            self._action_event(event)
            self.live.event(event)

    async def _load(self, client: AsyncClient) -> None:
        self._loaded = False
        self._live = {}
        result = await client.inbox(limit=self.first_page)
        merged = {c.id: c for c in result.captures}
        for capture in self._live.values():  # stored after the list was read
            if capture.status == "open":
                merged.setdefault(capture.id, capture)
        self.inbox = merged
        self._loaded = True
        for capture_id in list(self.outbox):
            if capture_id in merged:
                del self.outbox[capture_id]
        self._left.clear()
        self.open_total = None if result.total is None else max(result.total, len(merged))
        self._emit(InboxLoaded, self._sorted_inbox())
        self._emit(InboxCounted, self.open_total)
        self.suggestions = dict(result.suggestions)
        self._emit(SuggestionsLoaded, dict(self.suggestions))

    async def _accept(self, client: AsyncClient, capture_id: str) -> None:
        from oxymus.client.protocol import InboxAcceptResult  # the protocol's models as they are used, not at start

        result, error = await self._call(client, "inbox.accept", {"capture_id": capture_id}, InboxAcceptResult)
        if error is not None:
            self._emit(TriageFailed, capture_id, error)
            return
        self.suggestions.pop(capture_id, None)
        self._emit(SuggestionAccepted, capture_id, result.to, result.summary)
        self._triaged(result.capture_id, result.to, result.target_id, mine=False)

    async def _keep_fresh(self) -> None:
        """Now and then, rerun the live queries whose answer went stale (the day, after midnight); per connection."""
        while True:
            await asyncio.sleep(self.date_check_interval)
            self.live.recheck(self.clock())

    async def _refresh_state(self) -> None:
        """`state.refresh` on a connection of its own (it takes as long as the slowest source), then reload the day."""
        error: str | None = None
        try:
            try:
                side = await AsyncClient.connect(self.socket, client=f"{self.client_name}-refresh")
                try:
                    from oxymus.client.protocol import SourcesResult

                    await side.call("state.refresh", {}, SourcesResult, timeout=REFRESH_TIMEOUT)
                finally:
                    await side.close()
            except RpcError as exc:
                error = exc.message
            except (DaemonUnavailable, OSError) as exc:
                error = _short(str(exc), self.socket)
            if self.ready:  # this reload covers what the polls announced so far
                await self.live.refresh("state.changed")
        finally:
            self.refreshing = False
            self._sticky.pop("refreshing", None)
            self._emit(RefreshFinished, error)

    async def _call(self, client: AsyncClient, method: str, params: dict[str, Any], model: Any) -> tuple[Any, str | None]:
        """One request; returns (answer, None), or (None, why it failed) without raising."""
        try:
            return await _request(client, method, params, model)
        except DaemonUnavailable as exc:
            return None, _short(str(exc), self.socket)  # the session loop notices the drop and reports it

    async def _triage(self, client: AsyncClient, params: dict[str, Any]) -> None:
        from oxymus.client.protocol import InboxTriageResult

        result, error = await self._call(client, "inbox.triage", params, InboxTriageResult)
        if error is not None:
            self._emit(TriageFailed, params["capture_id"], error)
            return
        self._triaged(result.capture_id, result.to, result.target_id, mine=True)

    def _triaged(self, capture_id: str, to: str, target: str | None, mine: bool) -> None:
        """A capture left the inbox. Shown once to other clients' triage; always reported for our own."""
        self._live.pop(capture_id, None)
        self.suggestions.pop(capture_id, None)
        known = self.inbox.pop(capture_id, None) is not None
        first = capture_id not in self._left
        if first:  # one beyond the loaded page counts too
            self._left.add(capture_id)
            self._count(-1)
        if known or mine or first:  # first: the inbox may show it on a page it scrolled to
            self._emit(CaptureTriaged, capture_id, to, target, mine)

    def _seen(self, capture: Capture) -> None:
        """A capture the daemon has stored, from an event or a reply. Shown once, whatever repeats it."""
        if not self._loaded:
            self._live[capture.id] = capture
            return
        self.outbox.pop(capture.id, None)
        if capture.status != "open" or capture.id in self.inbox:
            return
        self.inbox[capture.id] = capture
        self._emit(CaptureAdded, capture)
        self._count(+1)

    def _count(self, delta: int) -> None:
        if self.open_total is not None:
            self.open_total = max(len(self.inbox), self.open_total + delta)
            self._emit(InboxCounted, self.open_total)

    async def _reload_quietly(self, client: AsyncClient) -> None:
        try:
            await self._load(client)
            await self._flush_outbox(client)
        except (DaemonUnavailable, RpcError):
            pass  # the session loop notices the drop and reports it

    # ---- plumbing -----------------------------------------------------------

    def _sorted_inbox(self) -> list[Capture]:
        return sorted(self.inbox.values(), key=lambda c: c.seq, reverse=True)

    def _set_status(self, cls: type[ConnectionMessage], *args: Any) -> None:
        self._remember("status", cls, *args)
        self._emit(cls, *args)

    def _remember(self, key: str, cls: type[ConnectionMessage], *args: Any) -> None:
        """Replay `cls(*args)` to every listener that joins from now on (instead of what `key` said before)."""
        self._sticky[key] = lambda: cls(*args)

    def _emit(self, cls: type[ConnectionMessage], *args: Any, **kwargs: Any) -> None:
        self._post(lambda: cls(*args, **kwargs))

    def _post(self, make: Callable[[], Any]) -> None:
        """Post a message to every listener (a fresh one each: a message is handled by one pump)."""
        for target in list(self.listeners):
            target.post_message(make())

    async def _live_call(self, method: str, params: dict[str, Any], model: Any) -> tuple[Any, str | None]:
        """One request for a live query; a dropped connection is LinkDown (the session reports the drop)."""
        client = self.client
        if client is None:
            raise LinkDown(NOT_CONNECTED)
        try:
            return await _request(client, method, params, model)
        except DaemonUnavailable as exc:
            raise LinkDown(_short(str(exc), self.socket)) from None

    async def _sleep(self, delay: float) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), delay)
        except asyncio.TimeoutError:
            pass

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


async def _request(client: AsyncClient, method: str, params: dict[str, Any], model: Any) -> tuple[Any, str | None]:
    """(answer, None), or (None, why) when the daemon refused or its answer did not fit the model;
    a dropped connection (DaemonUnavailable) is the caller's to handle."""
    try:
        return await client.call(method, params, model), None
    except RpcError as exc:
        return None, exc.message
    except ValidationError as exc:
        return None, f"the daemon's answer to {method} was not understood ({exc.error_count()} error(s))"


def _reap_when_it_exits(pid: int) -> None:
    """If the daemon is our child (we just started it), collect its exit status as soon as it ends.

    Otherwise a stopped daemon lingers as a zombie of the TUI, and `oxymus down` run
    elsewhere (which polls until the pid is gone) waits for its full timeout.
    """

    def wait() -> None:
        try:
            os.waitpid(pid, 0)
        except (ChildProcessError, OSError):
            pass  # not our child (it was already running), or already collected

    if pid > 0:
        threading.Thread(target=wait, name="oxymus-tui-reaper", daemon=True).start()


def _short(reason: str, socket: str) -> str:
    """One line, without repeating the socket path (the status bar already shows it)."""
    reason = reason.replace(f" on {socket}", "").replace(socket, "the socket")
    return " ".join(reason.split())
