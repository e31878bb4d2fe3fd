"""RPC methods for canonical records: kinds, list, get, add, edit (a person's; status moves
included) and link. Each change is published (`record.changed`; `record.status` when a record
is added or moves on its pipeline, for the agents that start on a status).

A record's links to calendar UIDs are described from the state store (read-only: the calendars'
last poll): the event's title and start, or `gone` when no polled calendar has it any more. The
link itself stays; the record keeps what it was about even after the event was deleted.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

from oxymus.client import wire
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session
from oxymus.records import kinds as registry
from oxymus.records import model as r
from oxymus.records import protocol as p_
from oxymus.store.repos import Store
from oxymus.time.clock import now_iso

CALENDAR_KINDS = ("calendar.event", "calendar.deadline")
GONE = "gone"


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
        await self._describe_calendar(detail.links)
        return await self._with_brief(detail)

    async def _with_brief(self, detail: r.RecordDetail) -> r.RecordDetail:
        """The record's brief is an artifact keyed by its id (the research agent's): shown with the record."""
        found = await self.store.agents.artifacts("brief", key=detail.record.id, limit=1)
        return detail.model_copy(update={"brief": r.RecordBrief.of(found[0])}) if found else detail

    async def _describe_calendar(self, links: list[r.RecordLink]) -> None:
        """Each calendar link's event as last polled: its title and the start of its next occurrence (else its
        last), or `gone` once a calendar has been polled without it."""
        uids = sorted({x.target_ref for x in links if x.target_type == "calendar"})
        if not uids:
            return
        found, polled = await self.store.read(lambda conn: _calendar_events(conn, uids, now_iso()))
        for link in links:
            if link.target_type != "calendar":
                continue
            event = found.get(link.target_ref)
            if event is not None:
                link.label, link.starts_at = event
            elif polled:
                link.label, link.status = "not in the calendars as last polled (deleted, or outside their window)", GONE
            else:
                link.label = "no calendar polled yet"

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


def _calendar_events(conn: sqlite3.Connection, uids: list[str], now: str) -> tuple[dict[str, tuple[str, str | None]], bool]:
    """({uid: (summary, starts_at)} for the UIDs some calendar has, whether any calendar source was polled)."""
    marks = ", ".join("?" * len(uids))
    rows = conn.execute(
        f"SELECT json_extract(data, '$.uid'), json_extract(data, '$.summary'), starts_at, ends_at FROM state_items "
        f"WHERE kind IN ({', '.join('?' * len(CALENDAR_KINDS))}) AND json_extract(data, '$.uid') IN ({marks}) "
        f"ORDER BY starts_at", (*CALENDAR_KINDS, *uids)).fetchall()
    found: dict[str, tuple[str, str | None, bool]] = {}
    for uid, summary, starts_at, ends_at in rows:
        # Occurrences come oldest first: the first not over yet wins; until one is, the latest seen stands.
        if uid in found and found[uid][2]:
            continue
        upcoming = (ends_at or starts_at or "") >= now
        found[uid] = (summary or "(no title)", starts_at, upcoming)
    polled = conn.execute("SELECT 1 FROM source_health WHERE source LIKE 'calendar.%' AND last_success IS NOT NULL "
                          "LIMIT 1").fetchone() is not None
    return {uid: (summary, starts) for uid, (summary, starts, _up) in found.items()}, polled
