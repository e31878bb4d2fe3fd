"""`record.create`: add one canonical record, with its provenance and links, as an action that
passes the policy plane (an agent's way to add a record; a person's is `records.add`).

Intake adds a lead this way: the lead's fields, the message as provenance, and a link to the
email's Message-ID. Like record.update the scope is `own_files`: an agent's record waits for
approval unless a policy rule says otherwise. The record's id is pinned when proposed, so
executing it twice adds it once (the second is an `already_done` receipt).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from oxymus.actions.effects import ActionContext, ActionInvalid, ActionSpec, Permanent, Prepared, Preview, Receipt
from oxymus.kernel.ulid import new_ulid
from oxymus.memory.records import ProvenanceSource
from oxymus.records.model import TargetType


class RecordLinkSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_type: TargetType
    target_ref: str = Field(min_length=1, max_length=1000)
    relation: str = Field(default="about", max_length=60)


class RecordCreatePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=60)
    fields: dict[str, Any]
    status: str | None = Field(default=None, description="where on its pipeline it starts (default: the first status)")
    body: str = Field(default="", max_length=100_000)
    source: ProvenanceSource = "agent"
    ref: str | None = Field(default=None, max_length=1000, description="where it came from: a Message-ID, a capture id")
    note: str | None = Field(default=None, max_length=500)
    links: list[RecordLinkSpec] = Field(default_factory=list, max_length=100)
    id: str | None = Field(default=None, max_length=64, description="pinned when proposed")


def describe(p: RecordCreatePayload, title: str | None = None) -> str:
    name = title or next((str(v) for k, v in p.fields.items() if k in ("name", "title")), "?")
    return f"record: add {p.kind} '{name[:60]}'" + (f" ({p.status})" if p.status else "")


def link_lines(links: list[RecordLinkSpec]) -> list[str]:
    return [f"link: {link.relation} -> {link.target_type} {link.target_ref}" for link in links]


class RecordCreateSpec(ActionSpec):
    kind: ClassVar[str] = "record.create"
    Payload: ClassVar[type[BaseModel]] = RecordCreatePayload
    scope = "own_files"
    risk = "low"
    description = "add one canonical record (with its provenance and links)"
    max_attempts = 3

    async def prepare(self, payload: RecordCreatePayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        from oxymus.records import model as rec

        try:
            clean = rec.validate(payload.kind, payload.fields)
            if payload.status is not None:
                rec.check_status(payload.kind, payload.status)
        except rec.RecordError as exc:
            raise ActionInvalid(f"payload: {exc}") from None
        payload = payload.model_copy(update={"fields": clean, "id": payload.id or new_ulid()})
        body = "\n".join([*(f"{k}: {v}" for k, v in clean.items() if v is not None), *link_lines(payload.links)])
        return Prepared(payload=payload.model_dump(mode="json"), preview=Preview(summary=describe(payload), body=body))

    def preview(self, payload: RecordCreatePayload) -> Preview:  # type: ignore[override]
        return Preview(summary=describe(payload))

    async def execute(self, payload: RecordCreatePayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        local = ctx.local
        if local is None or payload.id is None:
            raise Permanent("record creation needs the daemon")
        existing = await local.record_get(payload.id)
        if existing is None:
            record = await local.record_add(payload.kind, payload.fields, record_id=payload.id, status=payload.status,
                                            body=payload.body, source=payload.source, ref=payload.ref, note=payload.note,
                                            actor=ctx.proposer, action_id=ctx.action_id or None)
        else:
            record = existing
        for link in payload.links:  # after a crash between the add and a link, the retry adds the rest
            await local.record_link(record.id, link.target_type, link.target_ref, link.relation, actor=ctx.proposer)
        return Receipt(summary=describe(payload, record.title) + (" (already added)" if existing is not None else ""),
                       ref=record.id, already_done=existing is not None, data={"id": record.id, "kind": record.kind})
