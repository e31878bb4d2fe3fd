"""RPC methods about the daemon itself: the handshake, status, subscriptions, shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import TYPE_CHECKING

from oxymus import PROTOCOL_VERSION, __version__
from oxymus.client import wire
from oxymus.client.protocol import (
    HelloParams, HelloResult, NoParams, ShutdownResult, StatusLineResult, StatusResult, SubscribeParams, SubscribeResult,
)
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session
from oxymus.client.protocol import NotificationsListParams, NotificationsSeenParams
from oxymus.models import NotificationsListResult, NotificationsSeenResult
from oxymus.store import status_counts
from oxymus.store.repos import Store
from oxymus.time.clock import now_iso

if TYPE_CHECKING:
    from oxymus.daemon.coordinator import Coordinator

log = logging.getLogger("oxymus.daemon.service")


# What the daemon answers as soon as its store is open, before it has loaded its sources,
# agents and actions (the rest wait for them): `oxymus up` returns on the first status.
EARLY = frozenset({"hello", "status", "status.line", "subscribe", "daemon.shutdown"})


class SystemHandlers:
    def __init__(self, store: Store, coordinator: Coordinator | None, socket_path: str, stop: asyncio.Event, *, desk=None, agents=None):
        self.store = store
        self.coordinator = coordinator
        self.socket_path = socket_path
        self.stop = stop
        self.desk = desk
        self.agents = agents
        self.started_at = now_iso()
        self.started_mono = time.monotonic()
        self.server = None  # set by main once the server exists, for client counts
        self.integrity: str | None = None  # what the background integrity check found wrong

    @rpc("hello")
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

    @rpc("status")
    async def status(self, session: Session, p: NoParams) -> StatusResult:
        sessions = self.server.sessions if self.server is not None else set()
        starting = self.server is not None and self.server.loading
        result = StatusResult(
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
            storage_error=str(self.store.trouble) if self.store.trouble is not None else None,
            starting=starting,
            integrity=self.integrity,
        )
        if starting or self.coordinator is None:
            return result  # what needs the loaded parts is filled in once they are there
        from oxymus.actions.model import OPEN  # loaded with the action desk by now

        return result.model_copy(update=dict(
            sources=self.coordinator.views(),
            approvals_waiting=await self.store.actions.count(OPEN),
            approvals_snoozed=await self.store.actions.count(("snoozed",)),
            pause=await self.store.actions.pause_state(),
            policy_error=self.desk.policy_error if self.desk is not None else None,
            notifications=self.desk.notify_unavailable if self.desk is not None else None,
            llm=self._llm_status(),
        ))

    @rpc("status.line")
    async def status_line(self, session: Session, p: NoParams) -> StatusLineResult:
        rows = [await self.store.fetchall(sql) for sql in status_counts.QUERIES]
        return StatusLineResult(**status_counts.summarize(*rows))

    def _llm_status(self) -> str | None:
        """What the last check said; status never waits on Ollama (agents check before each run)."""
        llm = self.agents.llm if self.agents is not None else None
        if llm is None:
            return "LLM unavailable: disabled in config ([llm] enabled = false)"
        last = getattr(llm, "_status", None)
        if last is None:
            return None
        return "available" if last.available else last.reason

    @rpc("notifications.list")
    async def notifications_list(self, session: Session, p: NotificationsListParams) -> NotificationsListResult:
        return NotificationsListResult(
            notifications=await self.store.notices.listing(missed_only=not p.all, limit=p.limit),
            missed=await self.store.notices.count_missed(),
            desktop=self.desk.notify_unavailable if self.desk is not None else None,
        )

    @rpc("notifications.seen")
    async def notifications_seen(self, session: Session, p: NotificationsSeenParams) -> NotificationsSeenResult:
        seen = await self.store.notices.mark_seen(now_iso(), p.ids or None)
        missed = await self.store.notices.count_missed()
        if seen and self.desk is not None:
            self.desk.bus.publish("notifications.changed", {"missed": missed})
        return NotificationsSeenResult(seen=seen, missed=missed)

    @rpc("subscribe")
    async def subscribe(self, session: Session, p: SubscribeParams) -> SubscribeResult:
        session.subscribe(p.topics)
        return SubscribeResult(topics=p.topics)

    @rpc("daemon.shutdown")
    async def shutdown(self, session: Session, p: NoParams) -> ShutdownResult:
        log.info("shutdown requested by %s", session.name)
        self.stop.set()
        return ShutdownResult()
