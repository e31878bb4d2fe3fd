"""The daemon's RPC methods. Each handler takes validated params and returns a result model."""

from __future__ import annotations

import asyncio
import datetime as dt
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
    RefreshParams,
    ShutdownResult,
    StatusResult,
    SourcesResult,
    SubscribeParams,
    SubscribeResult,
    TodayParams,
)
from oxymus import today as today_mod
from oxymus.daemon.coordinator import Coordinator
from oxymus.store.repos import Store
from oxymus.daemon.rpc import Handler, Session
from oxymus.daemon.watcher import CaptureWatcher

log = logging.getLogger("oxymus.daemon.service")


class Service:
    def __init__(self, store: Store, watcher: CaptureWatcher, coordinator: Coordinator, socket_path: str, stop: asyncio.Event):
        self.store = store
        self.coordinator = coordinator
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
            "today.get": self.today,
            "state.refresh": self.refresh,
            "state.sources": self.sources,
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
            sources=self.coordinator.views(),
        )

    async def capture_add(self, session: Session, p: CaptureAddParams) -> CaptureAddResult:
        capture, created = await self.store.captures.add(p.text, p.source, p.id)
        if created:
            await self.watcher.poke()
        return CaptureAddResult(capture=capture, created=created)

    async def inbox_list(self, session: Session, p: InboxListParams) -> InboxListResult:
        return InboxListResult(captures=await self.store.captures.list(p.status, p.limit))

    async def today(self, session: Session, p: TodayParams) -> today_mod.Today:
        zone = self.coordinator.zone
        now = self.coordinator._now()
        try:
            day = dt.date.fromisoformat(p.date) if p.date else now.astimezone(zone).date()
        except ValueError:
            raise wire.RpcError(wire.INVALID_PARAMS, f"not a date: {p.date!r} (use YYYY-MM-DD)") from None
        start, end = today_mod.day_bounds(day, zone)
        iso = lambda d: d.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
        state = self.store.state
        items = await state.items(kinds=["calendar.event"], start=iso(start), end=iso(end))
        items += await state.items(kinds=["calendar.deadline"], end=iso(end + dt.timedelta(days=today_mod.DEADLINE_DAYS)))
        items += await state.items(kinds=[
            "bills.due", "bills.error", "git.repo", "git.root", "github.review_request", "github.pr", "github.issue",
        ])
        items += [i for i in await state.items(errors_only=True) if i.kind.startswith("calendar.")]
        payments = await state.payments(sorted({i.data.get("bill", "") for i in items if i.kind == "bills.due"}))
        return today_mod.build(day, zone, now, items, self.coordinator.views(), payments)

    async def refresh(self, session: Session, p: RefreshParams) -> SourcesResult:
        ids = self.coordinator.match(p.source)
        if p.source and not ids:
            known = ", ".join(sorted(self.coordinator.runtimes)) or "none configured"
            raise wire.RpcError(wire.INVALID_INPUT, f"no source named {p.source!r} (sources: {known})")
        return SourcesResult(sources=await self.coordinator.refresh(p.source))

    async def sources(self, session: Session, p: NoParams) -> SourcesResult:
        return SourcesResult(sources=self.coordinator.views())

    async def subscribe(self, session: Session, p: SubscribeParams) -> SubscribeResult:
        session.subscribe(p.topics)
        return SubscribeResult(topics=p.topics)

    async def shutdown(self, session: Session, p: NoParams) -> ShutdownResult:
        log.info("shutdown requested by %s", session.name)
        self.stop.set()
        return ShutdownResult()
