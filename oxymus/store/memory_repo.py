"""Memory records in the store: every write is one transaction with its version row and audit line."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Callable, Hashable, TypeVar

from oxymus.kernel.ulid import new_ulid
from oxymus.memory import records as m
from oxymus.store import audit_sql, memory_search, memory_vocab
from oxymus.time.clock import now_iso

if TYPE_CHECKING:
    from oxymus.store.repos import Store

SELECT_RECORD = f"SELECT {m.RECORD_COLUMNS} FROM memory_records r"
T = TypeVar("T")
VERSION_INSERT = (
    "INSERT INTO memory_versions (record_id, version, kind, title, body, tags, tier, archived, changed_at, actor, note) "
    "SELECT id, version, kind, title, body, tags, tier, archived, ?, ?, ? FROM memory_records WHERE id = ?"
)

AGE_BATCH = 2000  # records moved per transaction when tiers age
# audit_sql.INSERT's row, written only when the aged record has the version its move gave it.
_AGED_AUDIT = (
    "INSERT INTO audit_log (ts, actor, verb, subject, trace_id, details) SELECT ?, ?, ?, ?, ?, ? "
    "WHERE EXISTS (SELECT 1 FROM memory_records WHERE id = ? AND version = ? AND updated_at = ?)"
)


class MemoryRepo:
    def __init__(self, store: "Store"):
        self.store = store

    async def add(
        self, fields: m.RecordFields, provenance: m.Provenance, *, actor: str = "user",
        capture_id: str | None = None, record_id: str | None = None, trace_id: str | None = None,
    ) -> m.MemoryRecord:
        rid = record_id or new_ulid()
        now = now_iso()
        statements: list[tuple[str, tuple]] = [
            ("INSERT INTO memory_records (id, kind, title, body, tags, tier, provenance, created_at, updated_at, touched_at) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             (rid, fields.kind, fields.title, fields.body, json.dumps(fields.tags, ensure_ascii=False), fields.tier,
              provenance.model_dump_json(), now, now, now)),
            (VERSION_INSERT, (now, actor, "created", rid)),
            audit_sql.statement(actor=actor, verb="memory.added", subject=rid, trace_id=trace_id or new_ulid(),
                                details={"kind": fields.kind, "tier": fields.tier, "source": provenance.source, "ref": provenance.ref}),
        ]
        if capture_id:
            statements += self.store.captures.link_statements(capture_id, "memory", rid, actor)
        await self.store.transaction(statements)
        return await self.get(rid, touch=False)

    async def get(self, record_id: str, *, touch: bool = True) -> m.MemoryRecord:
        row = await self.store.fetchone(f"{SELECT_RECORD} WHERE r.id = ?", (record_id.upper(),))
        if row is None:
            raise m.MemoryError(f"no memory record {record_id!r}")
        if touch:
            await self.store.transaction([("UPDATE memory_records SET touched_at = ? WHERE id = ?", (now_iso(), row[0]))])
        links = await self.links(row[0])
        return m.record_from_row(row, links)

    async def links(self, record_id: str) -> list[m.CaptureLink]:
        rows = await self.store.fetchall(
            "SELECT capture_id, target_kind, target_id, created_at FROM capture_links WHERE target_kind = 'memory' AND target_id = ? "
            "ORDER BY created_at", (record_id,),
        )
        return [m.CaptureLink(capture_id=a, target_kind=b, target_id=c, created_at=d) for a, b, c, d in rows]

    async def edit(
        self, record_id: str, changes: m.RecordChanges, *, actor: str = "user", note: str | None = None, touch: bool = True,
    ) -> m.MemoryRecord:
        """Change fields; a new version when anything changed. Maintenance passes touch=False:
        aging a record is not using it, or nothing would ever age."""
        current = await self.get(record_id, touch=False)
        updates = {k: v for k, v in changes.model_dump(exclude_none=True).items() if getattr(current, k) != v}
        if not updates:
            return current
        now = now_iso()
        sets = ", ".join(f"{k} = ?" for k in updates)
        values = [json.dumps(v, ensure_ascii=False) if k == "tags" else v for k, v in updates.items()]
        await self.store.transaction([
            (f"UPDATE memory_records SET {sets}, version = version + 1, updated_at = ?, touched_at = ? WHERE id = ?",
             (*values, now, now if touch else current.touched_at, current.id)),
            (VERSION_INSERT, (now, actor, note, current.id)),
            audit_sql.statement(actor=actor, verb="memory.edited", subject=current.id, trace_id=new_ulid(),
                                details={"fields": sorted(updates), "version": current.version + 1}),
        ])
        return await self.get(current.id, touch=False)

    async def forget(self, record_id: str, *, purge: bool = False, actor: str = "user") -> m.MemoryRecord | None:
        """Archive to cold and out of retrieval; with purge, really delete the record and its history."""
        current = await self.get(record_id, touch=False)
        now = now_iso()
        if purge:
            await self.store.transaction([
                ("DELETE FROM memory_records WHERE id = ?", (current.id,)),
                ("DELETE FROM memory_versions WHERE record_id = ?", (current.id,)),
                ("DELETE FROM capture_links WHERE target_kind = 'memory' AND target_id = ?", (current.id,)),
                # The audit line says that it happened, never what the record said.
                audit_sql.statement(actor=actor, verb="memory.purged", subject=current.id, trace_id=new_ulid(),
                                    details={"kind": current.kind, "versions": current.version}),
            ])
            return None
        if current.archived:
            return current
        await self.store.transaction([
            ("UPDATE memory_records SET archived = 1, tier = 'cold', version = version + 1, updated_at = ? WHERE id = ?",
             (now, current.id)),
            (VERSION_INSERT, (now, actor, "forgotten", current.id)),
            audit_sql.statement(actor=actor, verb="memory.forgotten", subject=current.id, trace_id=new_ulid()),
        ])
        return await self.get(current.id, touch=False)

    async def unforget(self, record_id: str, *, actor: str = "user", note: str | None = None) -> m.MemoryRecord:
        """Bring a forgotten record back into retrieval, in the tier it had before it was forgotten.
        A record that is not forgotten is returned as it is."""
        current = await self.get(record_id, touch=False)
        if not current.archived:
            return current
        row = await self.store.fetchone(
            "SELECT tier FROM memory_versions WHERE record_id = ? AND archived = 0 ORDER BY version DESC LIMIT 1", (current.id,),
        )
        tier = row[0] if row is not None else current.tier
        now = now_iso()
        await self.store.transaction([
            ("UPDATE memory_records SET archived = 0, tier = ?, version = version + 1, updated_at = ? WHERE id = ?",
             (tier, now, current.id)),
            (VERSION_INSERT, (now, actor, note or "restored", current.id)),
            audit_sql.statement(actor=actor, verb="memory.restored", subject=current.id, trace_id=new_ulid(),
                                details={"tier": tier, "version": current.version + 1}),
        ])
        return await self.get(current.id, touch=False)

    async def history(self, record_id: str) -> list[m.MemoryVersion]:
        rows = await self.store.fetchall(
            "SELECT version, kind, title, body, tags, tier, archived, changed_at, actor, note FROM memory_versions "
            "WHERE record_id = ? ORDER BY version", (record_id.upper(),),
        )
        if not rows:
            raise m.MemoryError(f"no memory record {record_id!r}")
        return [
            m.MemoryVersion(version=v, kind=k, title=t, body=b, tags=json.loads(tg), tier=ti, archived=bool(a),
                            changed_at=c, actor=ac, note=n)
            for v, k, t, b, tg, ti, a, c, ac, n in rows
        ]

    async def search(
        self, text: str, *, kind: str | None = None, tier: str | None = None, tag: str | None = None,
        limit: int = 20, now: dt.datetime | None = None, supersede: Hashable | None = None,
    ) -> list[m.MemoryHit]:
        """Best first, on a reader thread (see oxymus/memory/search_plan.py). With `supersede`, a search
        still running under the same key (the same client typing on) is stopped: it raises ReadSuperseded."""
        return await self._search(lambda r, score: m.MemoryHit(record=r, score=score, snippet=m.snippet(r, text)),
                                  text, kind=kind, tier=tier, tag=tag, limit=limit, now=now, supersede=supersede)

    async def search_hits(
        self, text: str, *, kind: str | None = None, tier: str | None = None, tag: str | None = None,
        limit: int = 20, now: dt.datetime | None = None, supersede: Hashable | None = None,
    ) -> list[m.SearchHit]:
        """`search`, answered light (no bodies): what `memory.search` sends."""
        return await self._search(lambda r, score: m.SearchHit.of(r, score, text),
                                  text, kind=kind, tier=tier, tag=tag, limit=limit, now=now, supersede=supersede)

    async def _search(self, make: Callable[[m.MemoryRecord, float], T], text: str, *, kind: str | None,
                      tier: str | None, tag: str | None, limit: int, now: dt.datetime | None,
                      supersede: Hashable | None) -> list[T]:
        now_s = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S")

        def run(conn) -> list[T]:
            # The hits are built on the reader too: fifty records and snippets are CPU the loop need not spend.
            plan, found = memory_search.run(conn, text, kind=kind, tier=tier, tag=tag, limit=limit, now=now_s)
            if plan is None:  # no words: the most recently touched
                sql, params = recent_sql(kind=kind, tier=tier, tag=tag, limit=limit)
                return [make(m.record_from_row(r), 0.0) for r in conn.execute(sql, params)]
            return [make(record, score) for record, score, _title in found]

        return await self.store.read(run, supersede=supersede)

    async def plan(self, text: str, *, kind: str | None = None, tier: str | None = None, tag: str | None = None):
        """The plan a search for `text` would run (tests, the benchmark)."""
        return await self.store.read(lambda conn: memory_search.plan(conn, text, kind=kind, tier=tier, tag=tag))

    async def refresh_vocab(self, *, force: bool = False) -> int | None:
        """Take a new vocabulary snapshot when the memory changed enough since the last (or `force`):
        read whole on a reader, written in short transactions. Returns the terms, None when not needed."""
        def read(conn):
            if not force and not memory_vocab.needs_refresh(conn):
                return None
            terms, live = memory_vocab.read_snapshot(conn)
            return len(terms), memory_vocab.write_statements(conn, terms, live, now_iso())

        found = await self.store.read(read)
        if found is None:
            return None
        count, chunks = found
        for chunk in chunks:
            await self.store.transaction(chunk)
        return count

    async def recent(self, *, kind: str | None = None, tier: str | None = None, tag: str | None = None,
                     limit: int = 20, include_archived: bool = False) -> list[m.MemoryRecord]:
        sql, params = recent_sql(kind=kind, tier=tier, tag=tag, limit=limit, include_archived=include_archived)
        return [m.record_from_row(r) for r in await self.store.fetchall(sql, params)]

    async def budget(self, limit_words: int) -> m.BudgetReport:
        rows = await self.store.fetchall(
            "SELECT id, title, kind, body, touched_at FROM memory_records WHERE tier = 'hot' AND archived = 0"
        )
        entries = [
            m.BudgetEntry(id=i, title=t, kind=k, words=m.word_count(t) + m.word_count(b), touched_at=tt)
            for i, t, k, b, tt in rows
        ]
        entries.sort(key=lambda e: -e.words)
        used = sum(e.words for e in entries)
        return m.BudgetReport(limit_words=limit_words, used_words=used, over=used > limit_words, records=entries)

    async def apply_tier_rules(self, now: dt.datetime, hot_days: int, warm_days: int, actor: str = "memory-steward") -> list[tuple[str, str, str]]:
        """Move records whose time in a tier is up; returns (id, from, to) for each move."""
        rows = await self.store.fetchall(
            "SELECT id, tier, touched_at, version FROM memory_records WHERE archived = 0 AND tier IN ('hot', 'warm')"
        )
        moves, versions = [], []
        for rid, tier, touched, version in rows:
            new = m.aged_tier(tier, touched, now, hot_days, warm_days)
            if new != tier:
                moves.append((rid, tier, new))
                versions.append(version)
        if not moves:
            return moves
        # What edit(tier=..., touch=False) writes for each record, grouped by statement so that the
        # store sends each group as one executemany, in transactions of AGE_BATCH moves: the first
        # ageing of a big memory moves tens of thousands, and one transaction for all of them would
        # hold the writer (every capture) for seconds (the FTS index is rewritten for each record).
        # A record edited between the read and its transaction (its version moved on) is left as
        # it is: the UPDATE's WHERE skips it, and its version row and audit line, which ask for the
        # version and time the UPDATE would have given it, are not written either.
        for first in range(0, len(moves), AGE_BATCH):
            batch = list(zip(moves[first:first + AGE_BATCH], versions[first:first + AGE_BATCH]))
            at = now_iso()
            statements: list[tuple[str, tuple]] = [
                ("UPDATE memory_records SET tier = ?, version = version + 1, updated_at = ? "
                 "WHERE id = ? AND tier = ? AND version = ? AND archived = 0", (new, at, rid, old, version))
                for (rid, old, new), version in batch
            ]
            statements += [(VERSION_INSERT + " AND version = ? AND updated_at = ?",
                            (at, actor, f"aged from {old} (untouched)", rid, version + 1, at))
                           for (rid, old, _new), version in batch]
            for (rid, _old, _new), version in batch:
                _sql, params = audit_sql.statement(actor=actor, verb="memory.edited", subject=rid, trace_id=new_ulid(),
                                                   details={"fields": ["tier"], "version": version + 1})
                statements.append((_AGED_AUDIT, (*params, rid, version + 1, at)))
            await self.store.transaction(statements)
        return moves

    async def export_all(self) -> list[m.MemoryRecord]:
        rows = await self.store.fetchall(f"{SELECT_RECORD} WHERE r.archived = 0 ORDER BY r.seq")
        return [m.record_from_row(r, await self.links(r[0])) for r in rows]

    async def import_entry(self, entry: m.VaultEntry, actor: str = "import") -> str:
        """Upsert a vault file: "added", "updated" or "unchanged". Matched by id (a hand-written file
        without one: by the file it came from), so importing again never duplicates."""
        if entry.id:
            row = await self.store.fetchone("SELECT id FROM memory_records WHERE id = ?", (entry.id.upper(),))
        else:
            # A hand-written file has no id: it is the same record as the one imported from the same file.
            row = await self.store.fetchone(
                "SELECT id FROM memory_records WHERE provenance ->> '$.source' = 'import' AND provenance ->> '$.ref' = ?",
                (entry.provenance.ref,),
            )
        if row is not None:
            before = await self.get(row[0], touch=False)
            after = await self.edit(row[0], m.RecordChanges(**entry.fields.model_dump()), actor=actor, note=f"imported from {entry.provenance.ref}")
            return "unchanged" if after.version == before.version else "updated"
        await self.add(entry.fields, entry.provenance, actor=actor, record_id=(entry.id or "").upper() or None)
        return "added"

    async def summarize_month(self, month: str, actor: str = "memory-steward") -> str | None:
        """Write (or update) the warm summary of `month` (YYYY-MM); None when that month has no warm records."""
        rows = await self.store.fetchall(
            f"{SELECT_RECORD} WHERE r.tier = 'warm' AND r.archived = 0 AND r.kind != 'summary' AND substr(r.touched_at, 1, 7) = ? "
            "ORDER BY r.seq", (month,),
        )
        if not rows:
            return None
        fields = m.month_summary(month, [m.record_from_row(r) for r in rows])
        ref = f"summary:{month}"
        existing = await self.store.fetchone(
            "SELECT id FROM memory_records WHERE provenance ->> '$.source' = 'agent' AND provenance ->> '$.ref' = ?", (ref,)
        )
        if existing is not None:
            # The listing this code last wrote: if the month still lists the same, keep whatever the
            # summary says now (an improved summary, approved from the steward, or the person's edit).
            last = await self.store.fetchone(
                "SELECT body FROM memory_versions WHERE record_id = ? AND actor = ? ORDER BY version DESC LIMIT 1",
                (existing[0], actor),
            )
            if last is not None and last[0] == fields.body:
                return existing[0]
            await self.edit(existing[0], m.RecordChanges(**fields.model_dump()), actor=actor, note="summary refreshed", touch=False)
            return existing[0]
        record = await self.add(fields, m.Provenance(source="agent", ref=ref, note="memory steward (deterministic)"), actor=actor)
        return record.id

    async def maintain(self, now: dt.datetime, hot_days: int, warm_days: int) -> m.MaintenanceReport:
        """Age tiers by their rules, then summarise every past month that has warm records."""
        moves = await self.apply_tier_rules(now, hot_days, warm_days)
        this_month = now.strftime("%Y-%m")
        months = [r[0] for r in await self.store.fetchall(
            "SELECT DISTINCT substr(touched_at, 1, 7) FROM memory_records WHERE tier = 'warm' AND archived = 0 "
            "AND kind != 'summary' ORDER BY 1"
        ) if r[0] < this_month]
        summaries = [sid for month in months if (sid := await self.summarize_month(month))]
        return m.MaintenanceReport(moves=moves, summaries=summaries)


def recent_sql(*, kind: str | None, tier: str | None, tag: str | None, limit: int,
               include_archived: bool = False) -> tuple[str, tuple]:
    """The most recently touched records, filtered: (sql, params)."""
    where, params = ([] if include_archived else ["r.archived = 0"]), []
    if kind:
        where.append("r.kind = ?")
        params.append(kind)
    if tier:
        where.append("r.tier = ?")
        params.append(tier)
    if tag:
        where.append("EXISTS (SELECT 1 FROM json_each(r.tags) WHERE value = ?)")
        params.append(tag.lower().lstrip("#"))
    sql = f"{SELECT_RECORD}{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY r.touched_at DESC, r.seq DESC LIMIT ?"
    return sql, (*params, limit)
