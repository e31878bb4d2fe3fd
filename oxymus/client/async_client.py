"""The asyncio client the TUI (and tests) use: calls, plus a stream of pushed events.

One reader task owns the socket's read side and routes each line: replies to the
future waiting for that id, events to the subscriber queue. When the connection
drops, every pending call fails with DaemonUnavailable and the event stream ends,
so a UI can show "disconnected" and reconnect.
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, TypeVar

from pydantic import BaseModel

from oxymus.client import wire
from oxymus.client.protocol import CaptureAddResult, Event, HelloResult, InboxListResult, StatusResult
from oxymus.client.sync_client import DaemonUnavailable, hello_params

T = TypeVar("T", bound=BaseModel)
_END = object()


class AsyncClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str):
        self.path = path
        self.reader = reader
        self.writer = writer
        self.pending: dict[int, asyncio.Future] = {}
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        self.next_id = 0
        self.closed = False
        self.reader_task = asyncio.create_task(self._read_loop(), name="oxymus-client-reader")

    @classmethod
    async def connect(cls, path: str, client: str = "oxymus-async", timeout: float = 5.0) -> "AsyncClient":
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(path, limit=wire.MAX_LINE + 1), timeout)
        except (FileNotFoundError, ConnectionRefusedError, ConnectionResetError, asyncio.TimeoutError) as exc:
            raise DaemonUnavailable(f"no daemon is listening on {path} ({type(exc).__name__})") from None
        except OSError as exc:  # e.g. a path too long for AF_UNIX, or no permission
            raise DaemonUnavailable(f"cannot connect to {path}: {exc.strerror or exc}") from None
        self = cls(reader, writer, path)
        try:
            self.hello = await self.call("hello", hello_params(client), HelloResult, timeout=timeout)
        except BaseException:
            await self.close()
            raise
        return self

    async def call(self, method: str, params: dict | None = None, model: type[T] | None = None, timeout: float = 10.0) -> Any:
        if self.closed:
            raise DaemonUnavailable("the connection to the daemon is closed")
        self.next_id += 1
        req_id = self.next_id
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self.pending[req_id] = fut
        try:
            self.writer.write(wire.encode(wire.request(method, params, req_id)))
            await self.writer.drain()
            reply = await asyncio.wait_for(fut, timeout)
        except (ConnectionError, BrokenPipeError) as exc:
            raise DaemonUnavailable(f"lost the connection to the daemon ({exc})") from None
        except asyncio.TimeoutError:
            raise DaemonUnavailable(f"the daemon did not answer {method} within {timeout:g} s") from None
        finally:
            self.pending.pop(req_id, None)
        value = wire.unwrap(reply)
        return model.model_validate(value) if model is not None else value

    async def _read_loop(self) -> None:
        try:
            while True:
                line = await self.reader.readline()
                if not line:
                    break
                msg = wire.decode(line)
                if msg.get("method") == "event":
                    self.events.put_nowait(Event.model_validate(msg.get("params") or {}))
                    continue
                fut = self.pending.get(msg.get("id"))  # type: ignore[arg-type]
                if fut is not None and not fut.done():
                    fut.set_result(msg)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, wire.RpcError):
            pass
        finally:
            self.closed = True
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(DaemonUnavailable("the daemon closed the connection"))
            self.events.put_nowait(_END)

    async def subscribe(self, topics: list[str] | None = None) -> AsyncIterator[Event]:
        """Subscribe and yield events until the connection ends."""
        await self.call("subscribe", {"topics": topics or ["*"]})
        while True:
            item = await self.events.get()
            if item is _END:
                return
            yield item

    # Typed conveniences for the methods clients use most.
    async def status(self) -> StatusResult:
        return await self.call("status", None, StatusResult)

    async def capture_add(self, text: str, source: str = "tui", capture_id: str | None = None) -> CaptureAddResult:
        """Store a capture. Pass the same `capture_id` to retry safely after a lost reply."""
        from oxymus.kernel.ulid import new_ulid

        params = {"text": text, "source": source, "id": capture_id or new_ulid()}
        return await self.call("capture.add", params, CaptureAddResult)

    async def inbox(self, status: str = "open", limit: int = 500) -> InboxListResult:
        return await self.call("inbox.list", {"status": status, "limit": limit}, InboxListResult)

    async def close(self) -> None:
        self.closed = True
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, BrokenPipeError):
            pass
        self.reader_task.cancel()
        try:
            await self.reader_task
        except asyncio.CancelledError:
            pass
