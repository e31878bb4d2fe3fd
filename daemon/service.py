"""The daemon's RPC methods. Each handler takes validated params and returns a result model."""

from __future__ import annotations

import asyncio
import logging
import os
import time

from oxymus import PROTOCOL_VERSION, __version__, wire
from oxymus.clock import now_iso
from oxymus.protocol import (
    CaptureAddParams,
    CaptureAddResult,
    HelloParams,
    HelloResult,
    InboxListParams,
    InboxListResult,
    NoParams,
    ShutdownResult,
    StatusResult,
    SubscribeParams,
    SubscribeResult,
)
from oxymus.store.repos import Store
from oxymus.daemon.rpc import Handler, Session
from oxymus.daemon.watcher import CaptureWatcher

log = logging.getLogger("oxymus.daemon.service")


class Service:
    def __init__(self, store: Store, watcher: CaptureWatcher, socket_path: str, stop: asyncio.Event):
        self.store = store
        self.watcher = watcher
        self.socket_path = socket_path
        self.stop = stop
        self.started_at = now_iso()
        self.started_mono = time.monotonic()
        self.server = None  # set by main once the server exists, for client counts

    def handlers(self) -> dict[str, Handler]:
        return {
            "hello": self.hello,
            "status": self.status,
            "capture.add": self.capture_add,
            "inbox.list": self.inbox_list,
            "subscribe": self.subscribe,
            "daemon.shutdown": self.shutdown,
        }

    async def hello(self, session: Session, p: HelloParams) -> HelloResult:
        if p.protocol != PROTOCOL_VERSION:
            raise wire.RpcError(
                wire.PROTOCOL_MISMATCH,
                f"client speaks protocol {p.protocol}, this daemon speaks {PROTOCOL_VERSION}; restart the daemon after upgrading",
                {"server_protocol": PROTOCOL_VERSION},
            )
        session.client = p.client
        session.greeted = True
        return HelloResult(version=__version__, pid=os.getpid())

    async def status(self, session: Session, p: NoParams) -> StatusResult:
        sessions = self.server.sessions if self.server is not None else set()
        return StatusResult(
            pid=os.getpid(),
            version=__version__,
            protocol=PROTOCOL_VERSION,
            started_at=self.started_at,
            uptime_s=round(time.monotonic() - self.started_mono, 3),
            socket=self.socket_path,
            database=self.store.path,
            schema_version=await self.store.schema_version(),
            clients=len(sessions),
            subscribers=sum(1 for s in sessions if s.subscriber is not None),
        )

    async def capture_add(self, session: Session, p: CaptureAddParams) -> CaptureAddResult:
        capture, created = await self.store.captures.add(p.text, p.source, p.id)
        if created:
            await self.watcher.poke()
        return CaptureAddResult(capture=capture, created=created)

    async def inbox_list(self, session: Session, p: InboxListParams) -> InboxListResult:
        return InboxListResult(captures=await self.store.captures.list(p.status, p.limit))

    async def subscribe(self, session: Session, p: SubscribeParams) -> SubscribeResult:
        session.subscribe(p.topics)
        return SubscribeResult(topics=p.topics)

    async def shutdown(self, session: Session, p: NoParams) -> ShutdownResult:
        log.info("shutdown requested by %s", session.name)
        self.stop.set()
        return ShutdownResult()
