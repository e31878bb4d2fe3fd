"""Live queries: a screen declares what it shows; the link keeps it fresh.

A `LiveQuery` names an RPC method and its answer's model, the message to post with
the answer, and (for a standing query) its params, the event topics after which it
is run again and how long a burst of them is let settle (oxymus.kernel.debounce). Screens
declare theirs (standing ones in queries.py, declared by the app at start) and ask for one-off
answers with `connection.live.ask(QUERY, **params)`; nothing about a query is
written in the link (tui/link/connection.py), which only connects, subscribes to what
the queries listen to, and hands them the connection:

- a standing query runs when the link connects, again after every reconnect, and
  after every event on one of its topics (debounced when `debounce` > 0);
- the newest answer wins: every run of a query gets the next ticket, and an answer
  whose ticket is no longer the query's newest is dropped (the request was sent; its
  late answer is read and ignored), so an answer typed ahead of the daemon never
  flashes back;
- with `replay`, the newest answer is posted to every listener that joins later (and,
  with `replay_failure`, a failure since then);
- with `stale`, a standing query runs again when its answer went stale (the link asks
  `recheck(now)` now and then: the day, after midnight);
- `hold(query)` while its screen is out of sight: its events no longer run it (a costly
  answer nobody sees), and `release(query)` runs it once if one came meanwhile;
- a failure posts `failed(reason, params)` when given (and is logged); asked while
  not connected, `failed(NOT_CONNECTED, params)` unless `offline_quiet`.

A `Command` is a request a screen sends whose every answer counts (an edit, a page of
the log, a decision): `connection.live.send(COMMAND, **params)` returns the request's
ticket (one counter for every command), posts `sent(request)` when given, then
`done(answer, request)` or `failed(reason, request)`; while not connected,
`failed(NOT_CONNECTED, request)` at once.
"""

from __future__ import annotations

import asyncio
import fnmatch
import functools
import importlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from textual.message import Message

from oxymus.kernel.debounce import Debouncer

if TYPE_CHECKING:
    from oxymus.client.protocol import Event

log = logging.getLogger("oxymus.tui.link.live")

NOT_CONNECTED = "not connected to the daemon"

Params = dict[str, Any]


@functools.cache
def _imported(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def model(ref: Any) -> Any:
    """A query's answer model: given as a class, or as "module:Name" so that declaring the query
    imports nothing (the TUI starts without the models of the screens not shown yet)."""
    return _imported(ref) if isinstance(ref, str) else ref


class LinkDown(Exception):
    """The connection dropped during a request (the link notices and reconnects)."""


@dataclass(frozen=True)
class Answer:
    value: Any  # the daemon's answer, validated by the query's model
    params: Params  # what was asked
    ticket: int  # which run of the query this is (1, 2, ...)
    received_at: float  # when it arrived (the link's clock)


@dataclass(frozen=True, eq=False)
class LiveQuery:
    name: str
    method: str
    message: Callable[[Answer], Message]  # what listeners are told
    result: Any = None  # the answer's pydantic model, or "module:Name" to import on first use (None: the raw value)
    params: Callable[[], Params] | None = None  # set: a standing query, run with these on connect and on topics
    topics: tuple[str, ...] = ()  # events (fnmatch patterns) after which a standing query runs again
    debounce: float = 0.0  # seconds a burst of those events is let settle (0: at once)
    accepts: Callable[[Event], bool] | None = None  # narrows the topics by the event's data
    failed: Callable[[str, Params], Message] | None = None  # what listeners are told when it fails
    offline_quiet: bool = False  # asked while not connected: say nothing (rather than `failed`)
    replay: bool = False  # the newest answer's message goes to every listener that joins later
    on_connect: bool = True  # a standing query also runs when the link connects (False: only on its topics)
    keep: Callable[[Any], None] | None = None  # called once with each shown answer (e.g. to keep it as state)
    stale: Callable[[Any, float], bool] | None = None  # (answer, now) -> whether to run again (see recheck)
    replay_failure: bool = False  # a failure after the newest answer is replayed too
    report_drop: bool = True  # a dropped connection is a failure to post (False: say nothing, it reconnects)

    @property
    def standing(self) -> bool:
        return self.params is not None

    def matches(self, event: Event) -> bool:
        return (any(fnmatch.fnmatchcase(event.topic, t) for t in self.topics)
                and (self.accepts is None or self.accepts(event)))


@dataclass(frozen=True)
class Request:
    params: Params  # what was sent
    ticket: int  # which command this is (1, 2, ... across all commands)


@dataclass(frozen=True, eq=False)
class Command:
    method: str
    done: Callable[[Any, Request], Message]  # (answer, request) -> what listeners are told
    failed: Callable[[str, Request], Message]  # (why, request) -> what listeners are told
    result: Any = None  # the answer's pydantic model, or "module:Name" to import on first use (None: the raw value)
    sent: Callable[[Request], Message] | None = None  # what listeners are told when it leaves
    invalidates: tuple[str, ...] = ()  # topics whose standing queries run again after the answer, done or failed


Call = Callable[[str, Params, Any], Awaitable[tuple[Any, str | None]]]
Post = Callable[[Callable[[], Message]], None]
Spawn = Callable[[Awaitable[None]], "asyncio.Task"]


class LiveQueries:
    """The queries declared on one link, and their workers. See the module docstring."""

    def __init__(self, call: Call, post: Post, ready: Callable[[], bool], spawn: Spawn,
                 clock: Callable[[], float]) -> None:
        self._call = call  # one request: (answer, None) or (None, why); LinkDown when the connection dropped
        self._post = post  # post a message (made by the factory, once per listener) to every listener
        self._ready = ready
        self._spawn = spawn  # start a worker the link cancels when it stops
        self._clock = clock
        self.queries: dict[str, LiveQuery] = {}
        self.answers: dict[str, Any] = {}  # the newest answer shown, by query name (kept while disconnected)
        self._running: dict[str, int] = {}
        self._failure: dict[str, Callable[[], Message]] = {}
        self._sent = 0
        self._tickets: dict[str, int] = {}
        self._debouncers: dict[str, Debouncer] = {}
        self._shown: dict[str, Callable[[], Message]] = {}
        self._held: dict[str, bool] = {}  # queries whose screen is out of sight -> whether an event came since

    def declare(self, *queries: LiveQuery) -> None:
        for query in queries:
            known = self.queries.get(query.name)
            if known is not None and known is not query:
                raise ValueError(f"two live queries are called {query.name!r}")
            self.queries[query.name] = query

    @property
    def topics(self) -> list[str]:
        """What the declared queries listen to (the link subscribes to these too)."""
        return sorted({t for q in self.queries.values() for t in q.topics})

    def ask(self, query: LiveQuery, /, **params: Any) -> int | None:
        """Run `query` now, with `params` (a standing query: its own when none are given). Returns the run's
        ticket (None when not connected); from now on an answer to an older run of it is dropped."""
        worker = self._start(query, params)
        return None if worker is None else self._tickets[query.name]

    def send(self, command: Command, /, **params: Any) -> int:
        """Send a command (not connected: its `failed` at once); its answer is posted whatever else was sent.
        Returns its ticket."""
        self._sent += 1
        request = Request(params, self._sent)
        if not self._ready():
            self._post(lambda: command.failed(NOT_CONNECTED, request))
            return request.ticket
        if command.sent is not None:
            self._post(lambda: command.sent(request))
        self._spawn(self._send(command, request))
        return request.ticket

    async def _send(self, command: Command, request: Request) -> None:
        try:
            result, error = await self._call(command.method, request.params, model(command.result))
        except LinkDown as exc:
            result, error = None, str(exc)
        if error is not None:
            self._post(lambda: command.failed(error, request))
        else:
            self._post(lambda: command.done(result, request))
        for topic in command.invalidates:
            self.invalidate(topic)

    def answer(self, query: LiveQuery) -> Any:
        """The newest answer shown (None: none yet)."""
        return self.answers.get(query.name)

    def pending(self, query: LiveQuery) -> bool:
        """Events asked for a run of it that has not started yet (a debounced burst still settling)."""
        debouncer = self._debouncers.get(query.name)
        return debouncer is not None and debouncer.pending

    def ticket(self, query: LiveQuery) -> int:
        """The newest run's ticket (0: never run)."""
        return self._tickets.get(query.name, 0)

    def _start(self, query: LiveQuery, params: Params, *, asked: bool = True) -> asyncio.Task | None:
        """Start a run. Not connected: only a run a screen `asked` for says so (events and rechecks say nothing)."""
        self.declare(query)
        if query.standing and not params:
            params = query.params()
        if not self._ready():
            if asked and query.failed is not None and not query.offline_quiet:
                self._post(lambda: query.failed(NOT_CONNECTED, params))
            return None
        ticket = self._tickets.get(query.name, 0) + 1
        self._tickets[query.name] = ticket
        self._running[query.name] = self._running.get(query.name, 0) + 1
        return self._spawn(self._work(query, ticket, params))

    async def run(self, query: LiveQuery) -> None:
        """Run a standing query and wait for its answer (or for a newer run to replace it)."""
        debouncer = self._debouncers.get(query.name)
        if debouncer is not None and not debouncer.busy:
            debouncer.cancel()  # this run covers the events so far
        worker = self._start(query, {}, asked=False)
        if worker is not None:
            await asyncio.wait({worker})

    async def connected(self) -> None:
        """The link is up (again): every standing query runs, in the order declared."""
        for query in list(self.queries.values()):
            if query.standing and query.on_connect:
                await self.run(query)

    async def refresh(self, topic: str) -> None:
        """Run the standing queries `topic` invalidates now, and wait for their answers."""
        for query in list(self.queries.values()):
            if query.standing and any(fnmatch.fnmatchcase(topic, t) for t in query.topics):
                await self.run(query)

    def recheck(self, now: float) -> None:
        """Run again each standing query whose answer went stale by `now` (and is not being run)."""
        for query in list(self.queries.values()):
            if (query.standing and query.stale is not None and query.name in self.answers
                    and not self._running.get(query.name) and query.stale(self.answers[query.name], now)):
                self._start(query, {}, asked=False)

    def invalidate(self, topic: str) -> None:
        """Something the link did changed what `topic` announces: run those standing queries now."""
        for query in list(self.queries.values()):
            if query.standing and any(fnmatch.fnmatchcase(topic, t) for t in query.topics):
                self._start(query, {}, asked=False)

    def event(self, event: Event) -> None:
        """An event arrived: run the standing queries it invalidates (debounced)."""
        for query in list(self.queries.values()):
            if not query.standing or not query.matches(event):
                continue
            if query.name in self._held:
                self._held[query.name] = True
                continue
            if query.debounce <= 0:
                self._start(query, {}, asked=False)
                continue
            debouncer = self._debouncers.get(query.name)
            if debouncer is None:
                debouncer = self._debouncers[query.name] = Debouncer(query.debounce, lambda q=query: self.run(q),
                                                                     name=f"live-{query.name}")
            debouncer()

    def hold(self, query: LiveQuery) -> None:
        """Its screen went out of sight: its events only mark it for `release` from now on."""
        self._held.setdefault(query.name, False)

    def release(self, query: LiveQuery) -> None:
        """Its screen is in sight again: one run now if an event came while it was held."""
        if self._held.pop(query.name, False):
            self._start(query, {}, asked=False)

    def held(self, query: LiveQuery) -> bool | None:
        """None: not held; False: held, no event since; True: held, and an event came (it runs on release)."""
        return self._held.get(query.name)

    def stop(self) -> None:
        """The link is down: no reload waiting runs. What was shown stays (and is replayed)."""
        for debouncer in self._debouncers.values():
            debouncer.cancel()

    def replay(self, post: Callable[[Message], Any]) -> None:
        for name, make in self._shown.items():
            post(make())
            if name in self._failure:
                post(self._failure[name]())

    async def _work(self, query: LiveQuery, ticket: int, params: Params) -> None:
        try:
            try:
                result, error = await self._call(query.method, params, model(query.result))
            except LinkDown as exc:
                if not query.report_drop:
                    return
                result, error = None, str(exc)
        finally:
            self._running[query.name] -= 1
        if ticket != self._tickets.get(query.name):
            return  # a newer run was asked for: its answer is the one to show
        if error is not None:
            log.info("%s failed: %s", query.method, error)  # e.g. a daemon without it; the rest still works
            if query.failed is not None:
                failure = query.failed
                if query.replay_failure:
                    self._failure[query.name] = lambda: failure(error, params)
                self._post(lambda: failure(error, params))
            return
        if query.keep is not None:
            query.keep(result)
        answer = Answer(result, params, ticket, self._clock())

        def make() -> Message:
            return query.message(answer)

        if query.replay:
            self.answers[query.name] = result
            self._shown[query.name] = make
            self._failure.pop(query.name, None)
        self._post(make)
