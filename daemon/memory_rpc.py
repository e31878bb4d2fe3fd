"""RPC methods for memory: search, records, the hot budget, maintenance, vault export and import."""

from __future__ import annotations

from oxymus.client import protocol as proto
from oxymus.client.protocol import NoParams
from oxymus.daemon.capture_rpc import open_capture
from oxymus.daemon.maintenance import Maintenance
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session
from oxymus.memory import records as mem
from oxymus.store import ids
from oxymus.store.repos import Store


class MemoryHandlers:
    def __init__(self, store: Store, maintenance: Maintenance, *, bus=None, memory_config=None):
        self.store = store
        self.maintenance = maintenance
        self.bus = bus
        self.memory_config = memory_config

    def _publish(self, topic: str, data: dict) -> None:
        if self.bus is not None:
            self.bus.publish(topic, data)

    @rpc("memory.search")
    async def search(self, session: Session, p: proto.MemorySearchParams) -> proto.MemorySearchResult:
        # A newer search on this connection stops this one: only the newest is wanted.
        hits = await self.store.memory.search_hits(p.query, kind=p.kind, tier=p.tier, tag=p.tag, limit=p.limit,
                                              supersede=(session.id, "memory.search"))
        return proto.MemorySearchResult(hits=hits)

    @rpc("memory.add")
    async def add(self, session: Session, p: proto.MemoryAddParams) -> mem.MemoryRecord:
        capture = await open_capture(self.store, p.capture_id) if p.capture_id else None
        provenance = p.provenance
        if capture and provenance.source == "capture":  # the client may have named it by a prefix
            provenance = provenance.model_copy(update={"ref": capture.id})
        record = await self.store.memory.add(p.record, provenance, actor=session.client, capture_id=capture.id if capture else None)
        self._publish("memory.changed", {"id": record.id, "verb": "added"})
        if capture:
            self._publish("capture.triaged", {"id": capture.id, "to": "memory", "target": record.id})
        return record

    async def _record_id(self, text: str) -> str:
        return await ids.resolve(self.store, "memory record", text)

    @rpc("memory.get")
    async def get(self, session: Session, p: proto.MemoryIdParams) -> proto.MemoryGetResult:
        record = await self.store.memory.get(await self._record_id(p.id))
        return proto.MemoryGetResult(record=record, history=await self.store.memory.history(record.id))

    @rpc("memory.edit")
    async def edit(self, session: Session, p: proto.MemoryEditParams) -> mem.MemoryRecord:
        record = await self.store.memory.edit(await self._record_id(p.id), p.changes, actor=session.client)
        self._publish("memory.changed", {"id": record.id, "verb": "edited"})
        return record

    @rpc("memory.forget")
    async def forget(self, session: Session, p: proto.MemoryForgetParams) -> proto.MemoryForgetResult:
        record_id = await self._record_id(p.id)
        record = await self.store.memory.forget(record_id, purge=p.purge, actor=session.client)
        self._publish("memory.changed", {"id": record_id, "verb": "purged" if p.purge else "forgotten"})
        return proto.MemoryForgetResult(record=record, purged=p.purge)

    @rpc("memory.budget")
    async def budget(self, session: Session, p: NoParams) -> mem.BudgetReport:
        limit = self.memory_config.hot_budget_words if self.memory_config else 1500
        return await self.store.memory.budget(limit)

    @rpc("memory.maintain")
    async def maintain(self, session: Session, p: NoParams) -> mem.MaintenanceReport:
        return await self.maintenance.memory_maintain()

    @rpc("memory.export")
    async def export(self, session: Session, p: NoParams) -> proto.MemoryRecordsResult:
        return proto.MemoryRecordsResult(records=await self.store.memory.export_all())

    @rpc("memory.import")
    async def import_(self, session: Session, p: proto.MemoryImportParams) -> proto.MemoryImportResult:
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        for entry in p.entries:
            counts[await self.store.memory.import_entry(entry, actor=session.client)] += 1
        if counts["added"] or counts["updated"]:
            await self.maintenance.memory_vocab()  # a big import changes which words are common
            self._publish("memory.changed", {"id": None, "verb": "imported", **counts})
        return proto.MemoryImportResult(**counts)
