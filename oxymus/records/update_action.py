"""`record.update`: change one canonical record's status or fields, as an action that passes the
policy plane.

Agents change records only this way (an editor moving a post to `edited`, intake qualifying a
lead), so every change has a reason, a preview, a decision and a receipt. The scope is
`own_files`, as for memory.update: the person's own update is allowed, an agent's waits for
approval (unless a policy rule says otherwise). The record's version is pinned when
proposed: if it changed before execution the update is refused rather than applied to
something else; an update the record already shows is a no-op receipt.

The effect is performed by the daemon through `ctx.local` (`daemon/local_effects.py`), which
publishes `record.status` when the status moves.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from oxymus.actions.effects import ActionContext, ActionInvalid, ActionSpec, Permanent, Prepared, Preview, Receipt
from oxymus.records.create_action import RecordLinkSpec, link_lines
from oxymus.records.model import Record


class RecordUpdatePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(max_length=64, description="the record's id")
    status: str | None = Field(default=None, description="move it to this status of its pipeline")
    fields: dict[str, Any] = Field(default_factory=dict, description="fields to set (the others keep their values)")
    expected_version: int | None = Field(default=None, ge=1, description="its version when proposed (pinned if not given)")
    note: str | None = Field(default=None, max_length=200, description="kept with the new version")
    links: list[RecordLinkSpec] = Field(default_factory=list, max_length=100, description="links to add (existing ones stay)")


def _quote(title: str, width: int = 60) -> str:
    return f"'{title[:width - 1]}…'" if len(title) > width else f"'{title}'"


def changes(record: Record, p: RecordUpdatePayload) -> tuple[str | None, dict[str, Any]]:
    """(the new status if it changes, the fields whose values change)."""
    status = p.status if p.status is not None and p.status != record.status else None
    return status, {k: v for k, v in p.fields.items() if record.fields.get(k) != v}


def describe(p: RecordUpdatePayload, record: Record | None = None) -> str:
    if record is None:
        return f"record: update {p.id}" + (f" to {p.status}" if p.status else "")
    status, fields = changes(record, p)
    parts = [f"{record.status} → {status}"] if status else []
    if fields:
        parts.append("set " + ", ".join(sorted(fields)))
    if p.links:
        parts.append(f"link {len(p.links)}")
    return f"record: {record.kind} {_quote(record.title)}: {'; '.join(parts) or 'no change'}"


def _body(record: Record, p: RecordUpdatePayload) -> str:
    status, fields = changes(record, p)
    lines = [f"status: {record.status} -> {status}"] if status else []
    lines += [f"{k}: {record.fields.get(k)!r} -> {v!r}" for k, v in sorted(fields.items())]
    return "\n".join(lines + link_lines(p.links))


class RecordUpdateSpec(ActionSpec):
    kind: ClassVar[str] = "record.update"
    Payload: ClassVar[type[BaseModel]] = RecordUpdatePayload
    scope = "own_files"
    risk = "low"
    description = "move one canonical record along its pipeline and/or set its fields"
    max_attempts = 3

    async def prepare(self, payload: RecordUpdatePayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        if payload.status is None and not payload.fields and not payload.links:
            raise ActionInvalid("payload: give a status, fields, links, or some of them")
        if ctx.local is None:
            return Prepared(payload=payload.model_dump(mode="json"), preview=self.preview(payload))
        record = await ctx.local.record_get(payload.id)
        if record is None:
            raise ActionInvalid(f"payload.id: no record {payload.id!r}")
        problem = await ctx.local.record_check(record, payload.status, payload.fields)
        if problem:
            raise ActionInvalid(f"payload: {problem}")
        status, fields = changes(record, payload)
        if status is None and not fields and not payload.links:
            raise ActionInvalid(f"payload: record {record.id} already shows this")
        payload = payload.model_copy(update={"id": record.id, "expected_version": payload.expected_version or record.version})
        return Prepared(payload=payload.model_dump(mode="json"),
                        preview=Preview(summary=describe(payload, record), body=_body(record, payload)))

    def preview(self, payload: RecordUpdatePayload) -> Preview:  # type: ignore[override]
        return Preview(summary=describe(payload))

    async def execute(self, payload: RecordUpdatePayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        local = ctx.local
        if local is None:
            raise Permanent("record updates need the daemon")
        current = await local.record_get(payload.id)
        if current is None:
            raise Permanent(f"no record {payload.id} (was it purged?)")
        status, fields = changes(current, payload)
        for link in payload.links:  # idempotent: a retry or a link already there changes nothing
            await local.record_link(current.id, link.target_type, link.target_ref, link.relation, actor=ctx.proposer)
        if status is None and not fields:
            return Receipt(summary=f"{describe(payload, current)} (already so)", ref=current.id, already_done=True,
                           data={"id": current.id, "version": current.version})
        if payload.expected_version is not None and current.version != payload.expected_version:
            raise Permanent(f"record {current.id} ({_quote(current.title)}) changed since the proposal "
                            f"(version {payload.expected_version}, now {current.version}); propose the change again")
        after = await local.record_edit(current.id, status=status, fields=fields, actor=ctx.proposer, note=payload.note,
                                        trace_id=ctx.trace_id or None, action_id=ctx.action_id or None)
        return Receipt(summary=describe(payload, current), ref=after.id,
                       data={"id": after.id, "version": after.version, "status_before": current.status, "status": after.status,
                             "fields_before": {k: current.fields.get(k) for k in fields}})

    # A flow that moves a post to `published` and then fails its push puts the record back.
    compensable = True

    async def compensate(self, payload: RecordUpdatePayload, receipt: Receipt, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        """Put back the status and fields the update changed, only if the record is still as it left it."""
        local = ctx.local
        if local is None:
            raise Permanent("record updates need the daemon")
        data = receipt.data
        current = await local.record_get(str(data.get("id") or payload.id))
        if current is None:
            raise Permanent(f"no record {payload.id} to take the update back from (was it purged?)")
        if receipt.already_done or "version" not in data:
            return Receipt(summary=f"record {current.id}: nothing to take back (the update changed nothing)", ref=current.id,
                           already_done=True, data={"id": current.id, "version": current.version})
        status = data.get("status_before") if data.get("status_before") != current.status else None
        fields = dict(data.get("fields_before") or {})
        if current.version != data["version"]:
            if current.status == data.get("status_before") and all(current.fields.get(k) == v for k, v in fields.items()):
                return Receipt(summary=f"record {current.id} was already put back", ref=current.id, already_done=True,
                               data={"id": current.id, "version": current.version})
            raise Permanent(f"record {current.id} ({_quote(current.title)}) changed after this update (version {data['version']}, "
                            f"now {current.version}); put its status and fields back by hand")
        after = await local.record_edit(current.id, status=status, fields=fields, actor=ctx.proposer,
                                        note=f"taken back: {(payload.note or receipt.summary)[:150]}",
                                        trace_id=ctx.trace_id or None, action_id=ctx.action_id or None)
        return Receipt(summary=f"record {current.id}: back to {after.status}", ref=after.id,
                       data={"id": after.id, "version": after.version, "status": after.status})
