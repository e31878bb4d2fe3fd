"""The Unix-socket JSON-RPC server: framing, the peer check, the handshake, dispatch.

Only methods declared in `oxymus.client.protocol.METHODS` are callable, each through the
handler bound to it in the registry (`daemon/registry.py`, `@rpc(name)`); params are validated by their pydantic model before a handler
sees them. A handler's exception becomes an error reply and a log line, never a
dead server. Requests on one connection are answered in order, except those in
CONCURRENT (long reads that a newer one supersedes, see `Store.read`): those run beside
the connection's next requests, so a search typed further can stop the one before it
(answered SUPERSEDED), and a capture sent meanwhile is not held up behind it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from pydantic import ValidationError

from oxymus.actions.errors import ActionError
from oxymus.client import wire
from oxymus.client.protocol import METHODS, Request
from oxymus.daemon.events import EventBus, Subscriber
from oxymus.daemon.peercred import peer_uid
from oxymus.daemon.registry import Handler, Registry
from oxymus.memory.errors import MemoryError as MemoryError_
from oxymus.store.capture_sql import CaptureError
from oxymus.store.ids import IdError
from oxymus.store.readers import ReadSuperseded
from oxymus.store.storage_errors import StorageError, classify

log = logging.getLogger("oxymus.daemon.rpc")

__all__ = ["Handler", "RpcServer", "Session"]
_TOO_LONG = object()
CONCURRENT = frozenset({"memory.search"})


class Session:
    """One client connection."""

    _next_id = 0

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, bus: EventBus):
        Session._next_id += 1
        self.id = Session._next_id
        self.reader = reader
        self.writer = writer
        self.bus = bus
        self.client = "unknown"
        self.greeted = False
        self.busy = False
        self.write_lock = asyncio.Lock()
        self.subscriber: Subscriber | None = None
        self.pusher: asyncio.Task | None = None
        self.task: asyncio.Task | None = None
        self.side: set[asyncio.Task] = set()  # requests in CONCURRENT still running

    @property
    def name(self) -> str:
        return f"{self.client}#{self.id}"

    async def send(self, obj: dict) -> None:
        async with self.write_lock:
            self.writer.write(wire.encode(obj))
            await self.writer.drain()

    def subscribe(self, topics: list[str]) -> None:
        if self.subscriber is not None:
            self.subscriber.topics = topics
            return
        self.subscriber = self.bus.subscribe(topics, self.name)
        self.pusher = asyncio.create_task(self._push(self.subscriber), name=f"push-{self.name}")

    async def _push(self, sub: Subscriber) -> None:
        try:
            while True:
                event = await sub.queue.get()
                try:
                    if event is None:
                        await self.send(wire.error(None, wire.RpcError(wire.INTERNAL_ERROR, "event queue overflowed; reconnect and reload")))
                        self.writer.close()
                        return
                    await self.send(wire.notification("event", event))
                finally:
                    sub.queue.task_done()
        except (ConnectionError, asyncio.CancelledError):
            pass

    def close(self) -> None:
        for task in self.side:
            task.cancel()
        if self.subscriber is not None:
            self.bus.unsubscribe(self.subscriber)
        if self.pusher is not None:
            self.pusher.cancel()
        self.writer.close()


async def read_line(reader: asyncio.StreamReader) -> bytes | object | None:
    """The next line without its newline; _TOO_LONG (input discarded up to the newline); None at EOF."""
    try:
        return (await reader.readuntil(b"\n"))[:-1]
    except asyncio.IncompleteReadError as exc:
        return exc.partial or None
    except asyncio.LimitOverrunError as exc:
        consumed = exc.consumed
    # Discard the rest of the oversized line without buffering it.
    while True:
        await reader.readexactly(consumed)
        try:
            await reader.readuntil(b"\n")
            return _TOO_LONG
        except asyncio.IncompleteReadError:
            return _TOO_LONG
        except asyncio.LimitOverrunError as exc:
            consumed = exc.consumed


class RpcServer:
    """With `loading=True` the registry given is partial (what the daemon answers while it
    loads the rest: hello, status...): a call to any other declared method waits until
    `loaded()` installs the whole registry, or fails with the reason `failed()` gives."""

    def __init__(self, path: str, bus: EventBus, registry: Registry, allowed_uid: int | None = None,
                 db_path: str = "the database", loading: bool = False):
        self.path = path
        self.bus = bus
        self.registry = registry  # bound and checked: every declared method has exactly one handler
        self._ready = asyncio.Event()
        self._load_error: str | None = None
        if not loading:
            self._ready.set()
        self.allowed_uid = os.getuid() if allowed_uid is None else allowed_uid
        self.db_path = db_path  # named in storage errors that reach us as raw sqlite3 errors
        self.sessions: set[Session] = set()
        self.server: asyncio.base_events.Server | None = None
        self.stopping = False

    async def start(self) -> None:
        # Bind under an owner-only umask so the socket is never briefly world-connectable.
        old = os.umask(0o177)
        try:
            self.server = await asyncio.start_unix_server(self._on_client, path=self.path, limit=wire.MAX_LINE)
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    @property
    def loading(self) -> bool:
        return not self._ready.is_set()

    def loaded(self, registry: Registry) -> None:
        self.registry = registry
        self._ready.set()

    def failed(self, why: str) -> None:
        self._load_error = why
        self._ready.set()

    async def _lookup(self, name: str):
        found = self.registry.lookup(name)
        if found is None and name in METHODS and not self._ready.is_set():
            await self._ready.wait()  # declared, not loaded yet: answered once it is, never wrongly before
            found = self.registry.lookup(name)
        if found is None and self._load_error is not None and name in METHODS:
            raise wire.RpcError(wire.INTERNAL_ERROR, f"the daemon could not load {name}: {self._load_error}")
        return found

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(reader, writer, self.bus)
        session.task = asyncio.current_task()
        sock = writer.get_extra_info("socket")
        try:
            uid = peer_uid(sock)
        except OSError as exc:
            log.warning("refused a connection: cannot read peer credentials (%s)", exc)
            writer.close()
            return
        if uid != self.allowed_uid:
            log.warning("refused a connection from uid %d (only uid %d may connect)", uid, self.allowed_uid)
            try:
                await session.send(wire.error(None, wire.RpcError(wire.FORBIDDEN, f"uid {uid} may not use this daemon")))
                # Closing with the peer's request unread would reset the connection before it
                # reads our answer; half-close and swallow what it sent (bounded) first.
                writer.write_eof()
                await asyncio.wait_for(reader.read(wire.MAX_LINE), timeout=1.0)
            except (ConnectionError, asyncio.TimeoutError):
                pass
            writer.close()
            return
        self.sessions.add(session)
        try:
            await self._serve(session)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:  # never let one client's trouble escape into the server
            log.exception("connection %s failed", session.name)
        finally:
            self.sessions.discard(session)
            session.close()

    async def _serve(self, session: Session) -> None:
        while not self.stopping:
            line = await read_line(session.reader)
            if line is None:
                return
            if line is _TOO_LONG:
                await session.send(wire.error(None, wire.RpcError(wire.LINE_TOO_LONG, f"line longer than {wire.MAX_LINE} bytes; discarded")))
                continue
            assert isinstance(line, bytes)
            if not line.strip():
                continue
            if _method(line) in CONCURRENT:
                task = asyncio.create_task(self._answer(session, line), name=f"side-{session.name}")
                session.side.add(task)
                task.add_done_callback(session.side.discard)
                continue
            session.busy = True
            try:
                reply = await self.dispatch(session, line)
                if reply is not None:
                    await session.send(reply)
            finally:
                session.busy = False

    async def _answer(self, session: Session, line: bytes) -> None:
        try:
            reply = await self.dispatch(session, line)
            if reply is not None:
                await session.send(reply)
        except (ConnectionError, asyncio.CancelledError):
            pass

    async def dispatch(self, session: Session, line: bytes) -> dict | None:
        req_id: Any = None
        try:
            obj = wire.decode(line)
            req_id = obj.get("id") if isinstance(obj.get("id"), (int, str)) else None
            try:
                req = Request.model_validate(obj)
            except ValidationError as exc:
                raise wire.RpcError(wire.INVALID_REQUEST, "not a JSON-RPC 2.0 request: " + _first_error(exc)) from None
            if req.method not in METHODS:
                raise wire.RpcError(wire.METHOD_NOT_FOUND, f"unknown method {req.method!r}")
            if self.stopping:
                raise wire.RpcError(wire.SHUTTING_DOWN, "the daemon is shutting down")
            if not session.greeted and req.method != "hello":
                raise wire.RpcError(wire.HANDSHAKE_REQUIRED, "call hello first")
            found = await self._lookup(req.method)
            if found is None:
                raise wire.RpcError(wire.METHOD_NOT_FOUND, f"unknown method {req.method!r}")
            method, handler = found
            try:
                params = method.params.model_validate(req.params or {})
            except ValidationError as exc:
                raise wire.RpcError(wire.INVALID_PARAMS, f"{req.method}: " + _first_error(exc)) from None
            result = await handler(session, params)
            if req.id is None:
                return None  # a notification: no reply, by the spec
            return wire.result(req.id, result.model_dump(mode="json"))
        except wire.RpcError as err:
            return wire.error(req_id, err)
        except ReadSuperseded as exc:
            return wire.error(req_id, wire.RpcError(wire.SUPERSEDED, str(exc)))
        except (CaptureError, MemoryError_, IdError, ActionError) as exc:
            return wire.error(req_id, wire.RpcError(wire.INVALID_INPUT, str(exc)))
        except Exception as exc:
            problem = classify(exc, self.db_path)
            if problem is not None:
                if not isinstance(exc, StorageError):  # the store logs its own, on transitions
                    log.warning("a request from %s failed: %s", session.name, problem)
                return wire.error(req_id, storage_reply(problem))
            log.exception("internal error handling a request from %s", session.name)
            return wire.error(req_id, wire.RpcError(wire.INTERNAL_ERROR, f"internal error: {type(exc).__name__}"))

    async def close(self, grace: float = 5.0) -> None:
        """Stop accepting, let in-flight requests finish (up to `grace` seconds), then drop clients."""
        self.stopping = True
        if self.server is not None:
            self.server.close()
        # Let already-published events (e.g. daemon.stopping) reach subscribers first.
        queues = [s.subscriber.queue.join() for s in self.sessions if s.subscriber is not None]
        if queues:
            try:
                await asyncio.wait_for(asyncio.gather(*queues), timeout=min(grace, 1.0))
            except asyncio.TimeoutError:
                pass
        for session in list(self.sessions):
            if not session.busy and session.task is not None:
                session.task.cancel()
        tasks = [s.task for s in self.sessions if s.task is not None]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
        if self.server is not None:
            await self.server.wait_closed()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def _method(line: bytes) -> str | None:
    """The method a request line names, when it is a JSON object that names one (dispatch judges the rest)."""
    try:
        obj = wire.decode(line)
    except wire.RpcError:
        return None
    method = obj.get("method")
    return method if isinstance(method, str) else None


def storage_reply(problem: StorageError) -> wire.RpcError:
    return wire.RpcError(wire.STORAGE_ERROR, str(problem), {"kind": problem.kind, "path": problem.path})


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    return f"{loc + ': ' if loc else ''}{err['msg']}"
