"""Canonical records in the store: the memory record and its `records` row written in one
transaction, with the memory version, the record version and an audit line.

Every write validates the fields against the kind (oxymus/records/model.py); reads migrate
fields written under an older schema, and `migrate_stored` writes them back migrated,
keeping whatever cannot be migrated with its problem. Nothing here deletes a record.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from oxymus.kernel.ulid import new_ulid
from oxymus.memory import records as m
from oxymus.records import model as r
from oxymus.store import audit_sql
from oxymus.store.memory_repo import VERSION_INSERT
from oxymus.time.clock import now_iso

if TYPE_CHECKING:
    from oxymus.store.repos import Store

SELECT = (
    "SELECT mr.id, x.kind, x.status, mr.title, mr.body, mr.tags, mr.tier, mr.archived, mr.provenance, mr.created_at, "
    "mr.updated_at, mr.version, x.schema_version, x.fields, x.problem FROM records x JOIN memory_records mr ON mr.id = x.id"
)
RECORD_VERSION_INSERT = (
    "INSERT OR REPLACE INTO record_versions (record_id, version, status, schema_version, fields) "
    "SELECT x.id, mr.version, x.status, x.schema_version, x.fields FROM records x JOIN memory_records mr ON mr.id = x.id WHERE x.id = ?"
)


def _record(row: tuple) -> r.Record:
    rid, kind, status, title, body, tags, tier, archived, prov, created, updated, version, schema_version, fields, problem = row
    stored = json.loads(fields)
    try:
        kind_cls = r.kind_of(kind)
        label = kind_cls.status_label(status)
    except r.RecordError:
        label = status.replace("_", " ")
    shown_version, shown, read_problem = r.readable(kind, schema_version, stored)
    return r.Record(
        id=rid, kind=kind, status=status, status_label=label, title=title, body=body, tags=json.loads(tags), tier=tier,
        archived=bool(archived), provenance=m.Provenance.model_validate_json(prov), created_at=created, updated_at=updated,
        version=version, schema_version=shown_version, fields=shown, problem=problem or read_problem,
    )


class RecordRepo:
    def __init__(self, store: "Store"):
        self.store = store

    async def _check_record_fields(self, kind_name: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Fields naming other records hold their whole ids, of the kind they must be."""
        kind = r.kind_of(kind_name)
        out = dict(fields)
        for field, target_kind in kind.record_fields.items():
            ref = out.get(field)
            if not ref:
                continue
            target = await self.get(await self.resolve(ref))
            if target.kind != target_kind:
                raise r.RecordError(f"{kind_name}: {field} must name a {target_kind} record, not a {target.kind} ({target.id})")
            out[field] = target.id
        return out

    def _field_link_statements(self, kind_name: str, rid: str, fields: dict[str, Any], actor: str, now: str) -> list[tuple[str, tuple]]:
        statements: list[tuple[str, tuple]] = []
        for field in r.kind_of(kind_name).record_fields:
            statements.append(("DELETE FROM record_links WHERE record_id = ? AND target_type = 'record' AND relation = ?", (rid, field)))
            if fields.get(field):
                statements.append((
                    "INSERT OR IGNORE INTO record_links (record_id, target_type, target_ref, relation, created_at, actor) "
                    "VALUES (?, 'record', ?, ?, ?, ?)", (rid, fields[field], field, now, actor)))
        return statements

    async def resolve(self, text: str) -> str:
        from oxymus.store import ids

        try:
            return await ids.resolve(self.store, "record", text)
        except ids.IdError as exc:
            raise r.RecordError(str(exc)) from None

    async def add(self, kind_name: str, fields: dict[str, Any], *, status: str | None = None, body: str = "",
                  tags: list[str] | None = None, tier: str = "warm", provenance: m.Provenance | None = None,
                  actor: str = "user", record_id: str | None = None) -> r.Record:
        kind = r.kind_of(kind_name)
        clean = await self._check_record_fields(kind_name, r.validate(kind_name, fields))
        status = r.check_status(kind_name, status or kind.status_words()[0])
        memory = m.RecordFields(kind=kind_name, title=str(clean[kind.title_field]), body=body, tags=tags or [], tier=tier)
        provenance = provenance or m.Provenance()
        rid, now = record_id or new_ulid(), now_iso()
        await self.store.transaction([
            ("INSERT INTO memory_records (id, kind, title, body, tags, tier, provenance, created_at, updated_at, touched_at) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             (rid, memory.kind, memory.title, memory.body, json.dumps(memory.tags, ensure_ascii=False), memory.tier,
              provenance.model_dump_json(), now, now, now)),
            (VERSION_INSERT, (now, actor, "created", rid)),
            ("INSERT INTO records (id, kind, status, schema_version, fields, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
             (rid, kind_name, status, kind.version, json.dumps(clean, ensure_ascii=False), now)),
            (RECORD_VERSION_INSERT, (rid,)),
            *self._field_link_statements(kind_name, rid, clean, actor, now),
            audit_sql.statement(actor=actor, verb="record.added", subject=rid, trace_id=new_ulid(),
                                details={"kind": kind_name, "status": status, "source": provenance.source}),
        ])
        return await self.get(rid)

    async def get(self, record_id: str) -> r.Record:
        row = await self.store.fetchone(f"{SELECT} WHERE x.id = ?", (record_id.upper(),))
        if row is None:
            raise r.RecordError(f"no record {record_id!r}")
        return _record(row)

    async def list(self, *, kind: str | None = None, status: str | None = None, include_archived: bool = False,
                   limit: int = 500) -> list[r.Record]:
        """Newest change first; `kind` and `status` together are one index range (records_by_status)."""
        where, params = ([] if include_archived else ["mr.archived = 0"]), []
        if kind:
            where.append("x.kind = ?")
            params.append(kind)
        if status:
            where.append("x.status = ?")
            params.append(status)
        sql = f"{SELECT}{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY x.updated_at DESC, x.id DESC LIMIT ?"
        return [_record(row) for row in await self.store.fetchall(sql, (*params, limit))]

    async def edit(self, record_id: str, *, fields: dict[str, Any] | None = None, unset: list[str] | None = None,
                   status: str | None = None, body: str | None = None, actor: str = "user",
                   note: str | None = None) -> tuple[r.Record, str | None]:
        """Merge `fields` into the record's (and drop `unset`), validate, and write a new version when
        anything changed. Returns the record and its status before, when the status changed."""
        current = await self.get(await self.resolve(record_id))
        kind = r.kind_of(current.kind)
        if current.problem and not fields and not unset and status is None and body is None:
            raise r.RecordError(f"{current.id} fails its schema ({current.problem}): change its fields to fix it")
        merged = {k: v for k, v in {**current.fields, **(fields or {})}.items() if k not in (unset or [])}
        clean = await self._check_record_fields(current.kind, r.validate(current.kind, merged))
        new_status = r.check_status(current.kind, status) if status is not None else current.status
        title = m.RecordFields(kind=current.kind, title=str(clean[kind.title_field])).title
        new_body = current.body if body is None else body
        changed = (clean != current.fields or new_status != current.status or title != current.title
                   or new_body != current.body or current.schema_version != kind.version or current.problem)
        if not changed:
            return current, None
        now = now_iso()
        details: dict[str, Any] = {"kind": current.kind, "version": current.version + 1}
        if new_status != current.status:
            details.update({"from": current.status, "to": new_status})
        await self.store.transaction([
            ("UPDATE memory_records SET title = ?, body = ?, version = version + 1, updated_at = ?, touched_at = ? WHERE id = ?",
             (title, new_body, now, now, current.id)),
            (VERSION_INSERT, (now, actor, note, current.id)),
            ("UPDATE records SET status = ?, schema_version = ?, fields = ?, problem = NULL, updated_at = ? WHERE id = ?",
             (new_status, kind.version, json.dumps(clean, ensure_ascii=False), now, current.id)),
            (RECORD_VERSION_INSERT, (current.id,)),
            *self._field_link_statements(current.kind, current.id, clean, actor, now),
            audit_sql.statement(actor=actor, verb="record.status" if "to" in details else "record.edited",
                                subject=current.id, trace_id=new_ulid(), details=details),
        ])
        return await self.get(current.id), (current.status if new_status != current.status else None)

    async def history(self, record_id: str) -> list[r.RecordVersion]:
        """Every memory version, each with the fields and status it had then."""
        rows = await self.store.fetchall(
            "SELECT v.version, v.title, v.changed_at, v.actor, v.note, "
            "(SELECT json_array(rv.status, rv.schema_version, rv.fields) FROM record_versions rv WHERE rv.record_id = v.record_id "
            " AND rv.version <= v.version ORDER BY rv.version DESC LIMIT 1) "
            "FROM memory_versions v WHERE v.record_id = ? ORDER BY v.version", (record_id,),
        )
        out = []
        for version, title, changed, actor, note, part in rows:
            if part is None:
                continue
            status, schema_version, fields = json.loads(part)
            out.append(r.RecordVersion(version=version, title=title, status=status, fields=json.loads(fields),
                                       schema_version=schema_version, changed_at=changed, actor=actor, note=note))
        return out

    async def link(self, record_id: str, target_type: str, target_ref: str, relation: str = "about", *,
                   actor: str = "user", remove: bool = False) -> r.Record:
        current = await self.get(await self.resolve(record_id))
        if target_type == "record":
            target_ref = await self.resolve(target_ref)
            if target_ref == current.id:
                raise r.RecordError("a record does not link to itself")
        elif target_type in ("capture", "action"):
            from oxymus.store import ids

            noun = "capture" if target_type == "capture" else "action"
            try:
                target_ref = await ids.resolve(self.store, noun, target_ref)
            except ids.IdError as exc:
                raise r.RecordError(str(exc)) from None
        target_ref = target_ref.strip()
        if not target_ref:
            raise r.RecordError("the link's target is empty")
        now = now_iso()
        if remove:
            statement = ("DELETE FROM record_links WHERE record_id = ? AND target_type = ? AND target_ref = ? AND relation = ?",
                         (current.id, target_type, target_ref, relation))
        else:
            statement = ("INSERT OR IGNORE INTO record_links (record_id, target_type, target_ref, relation, created_at, actor) "
                         "VALUES (?, ?, ?, ?, ?, ?)", (current.id, target_type, target_ref, relation, now, actor))
        await self.store.transaction([
            statement,
            audit_sql.statement(actor=actor, verb="record.unlinked" if remove else "record.linked", subject=current.id,
                                trace_id=new_ulid(), details={"type": target_type, "ref": target_ref, "relation": relation}),
        ])
        return current

    async def links(self, record_id: str) -> tuple[list[r.RecordLink], list[r.RecordLink]]:
        """(what this record links to, the records linking to it), each with what the target is when known."""
        cols = "record_id, target_type, target_ref, relation, created_at, actor"
        out = await self.store.fetchall(f"SELECT {cols} FROM record_links WHERE record_id = ? ORDER BY created_at", (record_id,))
        into = await self.store.fetchall(
            f"SELECT {cols} FROM record_links WHERE target_type = 'record' AND target_ref = ? ORDER BY created_at", (record_id,))
        made = [r.RecordLink(record_id=a, target_type=b, target_ref=c, relation=d, created_at=e, actor=f) for a, b, c, d, e, f in out]
        back = [r.RecordLink(record_id=a, target_type=b, target_ref=c, relation=d, created_at=e, actor=f) for a, b, c, d, e, f in into]
        for link in made:
            await self._describe(link, link.target_type, link.target_ref)
        for link in back:
            await self._describe(link, "record", link.record_id)
        return made, back

    async def _describe(self, link: r.RecordLink, target_type: str, ref: str) -> None:
        if target_type == "record":
            row = await self.store.fetchone("SELECT mr.title, x.kind, x.status FROM records x JOIN memory_records mr ON mr.id = x.id "
                                            "WHERE x.id = ?", (ref,))
            if row is not None:
                link.label, link.status = f"{row[1]}: {row[0]}", row[2]
        elif target_type == "action":
            action = await self.store.actions.get(ref)
            if action is not None:
                link.label, link.status = f"{action.kind}: {action.preview.summary}", action.status
        elif target_type == "run":
            run = await self.store.agents.get_run(ref)
            if run is not None:
                link.label, link.status = f"{run.agent}: {run.summary}", run.outcome
        elif target_type == "capture":
            row = await self.store.fetchone("SELECT text, status FROM captures WHERE id = ?", (ref,))
            if row is not None:
                link.label, link.status = " ".join(row[0].split())[:80], row[1]

    async def detail(self, record_id: str) -> r.RecordDetail:
        record = await self.get(await self.resolve(record_id))
        made, back = await self.links(record.id)
        try:
            moves = r.kind_of(record.kind).next_statuses(record.status)
        except r.RecordError:
            moves = []
        return r.RecordDetail(record=record, history=await self.history(record.id), links=made, linked_from=back, next=moves,
                              handoffs=await self.store.handoffs.of_record(record.id))

    async def migrate_stored(self, actor: str = "records-migration") -> list[tuple[str, str]]:
        """Write every record whose kind's schema moved on in the current schema, one version each
        (noted with the migrations' names); one that cannot be migrated keeps its fields and gets
        its problem stored. Returns (id, problem) for each failure."""
        rows = await self.store.fetchall("SELECT id, kind, schema_version, fields, problem FROM records")
        known = r.kinds()
        failures: list[tuple[str, str]] = []
        for rid, kind_name, version, fields, problem in rows:
            if kind_name not in known:
                continue  # a plugin not installed now: reported on read, left as it is for when it is back
            if version == known[kind_name].version and problem is None:
                continue
            try:
                new_version, migrated, ran = r.migrate(kind_name, version, json.loads(fields))
                clean = r.validate(kind_name, migrated)
            except r.RecordError as exc:
                failures.append((rid, str(exc)))
                if problem != str(exc):
                    await self.store.transaction([("UPDATE records SET problem = ? WHERE id = ?", (str(exc), rid))])
                continue
            now = now_iso()
            await self.store.transaction([
                ("UPDATE memory_records SET version = version + 1, updated_at = ? WHERE id = ?", (now, rid)),
                (VERSION_INSERT, (now, actor, "schema: " + (", ".join(ran) or "revalidated"), rid)),
                ("UPDATE records SET schema_version = ?, fields = ?, problem = NULL WHERE id = ?",
                 (new_version, json.dumps(clean, ensure_ascii=False), rid)),
                (RECORD_VERSION_INSERT, (rid,)),
                audit_sql.statement(actor=actor, verb="record.migrated", subject=rid, trace_id=new_ulid(),
                                    details={"kind": kind_name, "from": version, "to": new_version, "steps": ran}),
            ])
        return failures

    async def problems(self) -> int:
        """How many records fail their schema (stored problems; a kind gone missing counts too)."""
        names = sorted(r.kinds())
        marks = ",".join("?" * len(names)) or "''"
        row = await self.store.fetchone(
            f"SELECT count(*) FROM records WHERE problem IS NOT NULL OR kind NOT IN ({marks})", tuple(names))
        return row[0] if row else 0
