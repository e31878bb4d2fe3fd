"""RPC methods for canonical records: kinds, list, get, add, edit (a person's; status moves
included) and link. Each change is published (`record.changed`; `record.status` when a record
is added or moves on its pipeline, for the agents that start on a status)."""

from __future__ import annotations

from contextlib import contextmanager

from oxymus.client import wire
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session
from oxymus.records import kinds as registry
from oxymus.records import model as r
from oxymus.records import protocol as p_
from oxymus.store.repos import Store


@contextmanager
def _as_input_error():
    try:
        yield
    except r.RecordError as exc:
        raise wire.RpcError(wire.INVALID_INPUT, str(exc)) from None


class RecordHandlers:
    def __init__(self, store: Store, *, bus=None):
        self.store = store
        self.bus = bus
        self._migrated = False

    def _publish(self, topic: str, data: dict) -> None:
        if self.bus is not None:
            self.bus.publish(topic, data)

    async def _migrate_once(self) -> None:
        """Records written under an older schema are stored migrated before the first answer
        (reads migrate them anyway: this only makes it durable, with its version and note)."""
        if not self._migrated:
            self._migrated = True
            await self.store.records.migrate_stored()

    @rpc("records.kinds")
    async def kinds(self, session: Session, p: p_.RecordKindsParams) -> p_.RecordKindsResult:
        # The built-in kinds in the order a business meets them, then the plugins' by name.
        order = list(registry.BUILTIN_KINDS)
        found = sorted(registry.registered().items(), key=lambda nk: (order.index(nk[0]) if nk[0] in order else len(order), nk[0]))
        return p_.RecordKindsResult(kinds=[r.kind_view(k) for _n, k in found], broken=registry.broken())

    @rpc("records.list")
    async def list_(self, session: Session, p: p_.RecordsListParams) -> p_.RecordsListResult:
        await self._migrate_once()
        records = await self.store.records.list(kind=p.kind, status=p.status, include_archived=p.archived, limit=p.limit)
        return p_.RecordsListResult(records=records, problems=await self.store.records.problems())

    @rpc("records.get")
    async def get(self, session: Session, p: p_.RecordIdParams) -> r.RecordDetail:
        await self._migrate_once()
        with _as_input_error():
            detail = await self.store.records.detail(p.id)
        return await self._with_brief(detail)

    async def _with_brief(self, detail: r.RecordDetail) -> r.RecordDetail:
        """The record's brief is an artifact keyed by its id (the research agent's): shown with the record."""
        found = await self.store.agents.artifacts("brief", key=detail.record.id, limit=1)
        return detail.model_copy(update={"brief": r.RecordBrief.of(found[0])}) if found else detail

    @rpc("records.add")
    async def add(self, session: Session, p: p_.RecordAddParams) -> r.Record:
        with _as_input_error():
            record = await self.store.records.add(p.kind, p.fields, status=p.status, body=p.body, tags=p.tags, tier=p.tier,
                                                  provenance=p.provenance, actor=session.client)
        self._publish("record.changed", {"id": record.id, "kind": record.kind, "verb": "added"})
        self._publish("memory.changed", {"id": record.id, "verb": "added"})
        # Added at a status is reaching it: its consumers start, and the handoff is recorded.
        self._publish("record.status", {"id": record.id, "kind": record.kind, "old": None, "new": record.status,
                                        "actor": session.client})
        return record

    @rpc("records.edit")
    async def edit(self, session: Session, p: p_.RecordEditParams) -> r.Record:
        with _as_input_error():
            status = p.status
            if p.next:
                current = await self.store.records.get(await self.store.records.resolve(p.id))
                status = self._next(current)
            record, before = await self.store.records.edit(p.id, fields=p.fields, unset=p.unset, status=status, body=p.body,
                                                           actor=session.client, note=p.note)
        self._publish("record.changed", {"id": record.id, "kind": record.kind, "verb": "edited"})
        self._publish("memory.changed", {"id": record.id, "verb": "edited"})
        if before is not None:
            self._publish("record.status", {"id": record.id, "kind": record.kind, "old": before, "new": record.status,
                                            "actor": session.client})
        return record

    @staticmethod
    def _next(record: r.Record) -> str:
        kind = r.kind_of(record.kind)
        moves = kind.next_statuses(record.status)
        if not moves:
            raise r.RecordError(f"{record.id} is {kind.status_label(record.status)}: the end of the {record.kind} pipeline")
        if len(moves) > 1:
            raise r.RecordError(f"{record.id} is {kind.status_label(record.status)}: choose "
                                + " or ".join(kind.status_label(m) for m in moves) + " (--status)")
        return moves[0]

    @rpc("records.link")
    async def link(self, session: Session, p: p_.RecordLinkParams) -> r.RecordDetail:
        with _as_input_error():
            record = await self.store.records.link(p.id, p.target_type, p.target_ref, p.relation, actor=session.client,
                                                   remove=p.remove)
            detail = await self.store.records.detail(record.id)
        self._publish("record.changed", {"id": record.id, "kind": record.kind, "verb": "unlinked" if p.remove else "linked"})
        return detail
