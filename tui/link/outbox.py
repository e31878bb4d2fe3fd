"""The connection's part for captures: the outbox of what the user typed until it is stored.

A mixin of DaemonConnection (connection.py), and the one TUI module that may write
to disk without the daemon: through `capture_client.store`, the fallback `oxymus
capture` uses (ARCHITECTURE.md, "Capture never waits on the daemon"). It uses the
connection's plumbing and inbox (`client`, `_loaded`, `inbox`, `_seen`, `_count`,
`_emit`, `_spawn`); the session calls `_flush_outbox()` after connecting, and the
App `save_outbox()` before it exits.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from oxymus.client import capture as capture_client
from oxymus.client.sync_client import DaemonUnavailable
from oxymus.client.wire import RpcError
from oxymus.kernel.ulid import new_ulid
from oxymus.models import Capture
from oxymus.tui.link.messages import CaptureAdded, CaptureFailed, CaptureNotStored, CaptureQueued
from oxymus.tui.link.threads import in_thread

if TYPE_CHECKING:
    from oxymus.client.async_client import AsyncClient
    from oxymus.profile.paths import Paths

log = logging.getLogger("oxymus.tui.link.connection")

CAPTURE_SOURCE = "tui"
QUIT_TIMEOUT = 2.0  # seconds to wait for the daemon per unsaved capture when quitting, before writing it directly


class OutboxLink:
    """Mixed into DaemonConnection; see the module docstring."""

    client: "AsyncClient | None"
    paths: "Paths"
    client_name: str
    inbox: "dict[str, Capture]"

    def _init_outbox(self) -> None:
        # Captures the user submitted that the daemon has not confirmed yet, by id (a ULID
        # chosen here, so re-sending after a reconnect cannot make a duplicate).
        self.outbox: dict[str, str] = {}

    def add_capture(self, text: str) -> str:
        """Store a capture and return its id: through the daemon if connected, else straight to disk.

        It waits in the outbox (shown as "sending…") until it is stored; without a daemon it is
        written by `capture_client.store`, the code path `oxymus capture` falls back to.
        """
        if not text.strip():
            raise ValueError("nothing to capture: the text is empty")
        capture_id = new_ulid()
        self.outbox[capture_id] = text
        self._emit(CaptureQueued, capture_id, text)
        if self.client is not None and self._loaded:
            self._spawn(self._send_quietly(self.client, capture_id, text))
        else:
            self._spawn(self._store_offline(capture_id, text))
        return capture_id

    def save_outbox(self) -> dict[str, str]:
        """Put every capture still in the outbox on disk now (blocking); called before the TUI exits.

        One still on its way to the daemon is stored again with the same id, which stores it
        once. Returns the ones that could not be stored, with why (empty: nothing is lost).
        """
        failed: dict[str, str] = {}
        for capture_id, text in list(self.outbox.items()):
            try:
                capture_client.store(text, CAPTURE_SOURCE, capture_id, self.paths, client=self.client_name, timeout=QUIT_TIMEOUT)
            except capture_client.CaptureRefused:
                pass  # the daemon refused it already, or will: it was never going to be stored
            except Exception as exc:  # sqlite, a full disk, no permission: say so, do not lose it silently
                failed[capture_id] = f"{type(exc).__name__}: {exc}"
                continue
            self.outbox.pop(capture_id, None)
        return failed

    async def _flush_outbox(self, client: AsyncClient) -> None:
        for capture_id, text in list(self.outbox.items()):
            await self._send(client, capture_id, text)

    async def _send(self, client: AsyncClient, capture_id: str, text: str) -> None:
        """Send one capture; DaemonUnavailable leaves it in the outbox for the next connection."""
        try:
            result = await client.capture_add(text, CAPTURE_SOURCE, capture_id)
        except RpcError as exc:
            if capture_id in self.outbox:
                del self.outbox[capture_id]
                self._emit(CaptureFailed, capture_id, text, exc.message)
            return
        self._seen(result.capture)

    async def _send_quietly(self, client: AsyncClient, capture_id: str, text: str) -> None:
        try:
            await self._send(client, capture_id, text)
        except DaemonUnavailable:
            await self._store_offline(capture_id, text)  # the daemon went away mid-send: disk, not memory

    async def _store_offline(self, capture_id: str, text: str) -> None:
        """No daemon to send it to: store it the way `oxymus capture` does (it tries the daemon first)."""
        try:
            row = await in_thread(functools.partial(capture_client.store, text, CAPTURE_SOURCE, capture_id, self.paths,
                                                     client=self.client_name))
        except capture_client.CaptureRefused as exc:
            if self.outbox.pop(capture_id, None) is not None:
                self._emit(CaptureFailed, capture_id, text, str(exc))
            return
        except Exception as exc:  # kept in the outbox: sent on reconnect, or written again before quitting
            log.warning("could not store capture %s without the daemon: %s", capture_id, exc)
            self._emit(CaptureNotStored, capture_id, f"{type(exc).__name__}: {exc}")
            return
        capture = Capture.model_validate(row)
        if self._loaded:
            self._seen(capture)  # the daemon came back meanwhile: the usual path
            return
        self.outbox.pop(capture_id, None)
        if capture.status == "open" and capture.id not in self.inbox:
            self.inbox[capture.id] = capture
            self._emit(CaptureAdded, capture)
            self._count(+1)
