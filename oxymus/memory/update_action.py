"""`memory.update`: add, edit or forget one memory record, as an action that passes the policy plane.

Agents change canonical memory only this way (the memory steward demotes a hot
record, the weekly review adds a summary of the week), so every change has a
reason, a preview, a decision and a receipt. The scope is `own_files`: the
person's own update is allowed, an agent's waits for approval.

- add: `record` (kind, title, body, tags, tier). The record's provenance is the
  proposer (an agent's name and run). Its id is derived from the action's id and
  idempotency key, so a retry after a crash finds the record it made.
- edit: `id` and `changes` (only the fields given change; a tier change is an
  edit). The record's version is pinned when proposed: if it changed before
  execution the edit is refused rather than applied to something else; re-applying
  changes the record already shows is a no-op receipt.
- forget: `id`. Archives the record (out of retrieval, history kept); never a
  purge. Forgetting a forgotten record is already done.

Compensation takes the effect back: an added record is forgotten, an edit reverted
to the values the receipt kept, a forgotten record restored (in its old tier); only
while the record is still at the version the effect left it at.

The effect is performed by the daemon through `ctx.local` (`daemon/local_effects.py`).
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from oxymus.actions.effects import ActionContext, ActionInvalid, ActionSpec, Permanent, Prepared, Preview, Receipt
from oxymus.kernel.textdiff import unified_diff
from oxymus.kernel.ulid import _ALPHABET, is_ulid, ulid_ms
from oxymus.memory.records import MemoryRecord, RecordChanges, RecordFields


class MemoryUpdatePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: Literal["add", "edit", "forget"]
    record: RecordFields | None = Field(default=None, description="add: the new record (kind, title, body, tags, tier)")
    id: str | None = Field(default=None, max_length=64, description="edit, forget: the record's id")
    changes: RecordChanges | None = Field(default=None, description="edit: the fields to change (kind, title, body, tags, tier)")
    expected_version: int | None = Field(
        default=None, ge=1, description="edit, forget: the record's version when proposed (pinned if not given); a record changed since is refused",
    )
    note: str | None = Field(default=None, max_length=200, description="a note kept in the record's history")


def check(p: MemoryUpdatePayload) -> None:
    """Raise ActionInvalid naming the field when the payload does not fit its `op`."""
    if p.op == "add":
        if p.record is None:
            raise ActionInvalid("payload.record: add needs the record (at least its title)")
        if p.id or p.changes is not None:
            raise ActionInvalid("payload.id, payload.changes: add takes only `record`")
        return
    if not p.id:
        raise ActionInvalid(f"payload.id: {p.op} needs the id of the record")
    if p.record is not None:
        raise ActionInvalid(f"payload.record: {p.op} does not take a record (edit takes `changes`)")
    if p.op == "edit":
        if p.changes is None or not p.changes.model_dump(exclude_none=True):
            raise ActionInvalid("payload.changes: edit needs at least one field to change")
    elif p.changes is not None:
        raise ActionInvalid("payload.changes: forget takes only `id`")


def derived_id(action_id: str, key: str) -> str:
    """The id of the record an add makes: the action's time and a hash of its key, a valid ULID.

    The same action (a retry after a crash) always gives the same id, so the
    executor can find the record it made instead of making a second one.
    """
    ms = ulid_ms(action_id) if is_ulid(action_id) else 0
    rand = int.from_bytes(hashlib.sha256(f"memory.update:{key or action_id}".encode()).digest()[:10], "big")
    value = (ms << 80) | rand
    out = []
    for _ in range(26):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def _changed(record: MemoryRecord, changes: RecordChanges) -> dict[str, Any]:
    return {k: v for k, v in changes.model_dump(exclude_none=True).items() if getattr(record, k) != v}


def render(kind: str, title: str, tier: str, tags: list[str], body: str) -> str:
    """A record as the lines its preview diffs."""
    lines = [f"title: {title}", f"kind: {kind}", f"tier: {tier}", f"tags: {', '.join(tags) if tags else '(none)'}", ""]
    return "\n".join(lines + body.rstrip().split("\n")) + "\n"


def _render_record(r: MemoryRecord, updates: dict[str, Any] | None = None) -> str:
    u = updates or {}
    return render(u.get("kind", r.kind), u.get("title", r.title), u.get("tier", r.tier), u.get("tags", r.tags), u.get("body", r.body))


def edit_diff(record: MemoryRecord, updates: dict[str, Any]) -> str:
    name = f"memory/{record.id}"
    return unified_diff(_render_record(record), _render_record(record, updates), f"a/{name}", f"b/{name}")


def _quote(title: str, width: int = 60) -> str:
    return f"'{title[:width - 1]}…'" if len(title) > width else f"'{title}'"


def describe(p: MemoryUpdatePayload, record: MemoryRecord | None = None, updates: dict[str, Any] | None = None) -> str:
    if p.op == "add" and p.record is not None:
        return f"memory: add {p.record.kind} {_quote(p.record.title)} ({p.record.tier})"
    name = _quote(record.title) if record is not None else (p.id or "")
    if p.op == "forget":
        return f"memory: forget {name}"
    fields = updates if updates is not None else (p.changes.model_dump(exclude_none=True) if p.changes else {})
    if record is not None and set(fields) == {"tier"}:
        return f"memory: move {name} from {record.tier} to {fields['tier']}"
    return f"memory: edit {name} ({', '.join(sorted(fields)) or 'no change'})"


class MemoryUpdateSpec(ActionSpec):
    kind: ClassVar[str] = "memory.update"
    Payload: ClassVar[type[BaseModel]] = MemoryUpdatePayload
    scope = "own_files"
    risk = "low"
    description = "add, edit (a tier change too) or forget one memory record; forgetting archives, never purges"
    max_attempts = 3

    async def prepare(self, payload: MemoryUpdatePayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        check(payload)
        if payload.op == "add":
            assert payload.record is not None
            r = payload.record
            body = render(r.kind, r.title, r.tier, r.tags, r.body)
            return Prepared(payload=payload.model_dump(mode="json"), preview=Preview(summary=describe(payload), body=body))
        if ctx.local is None:
            return Prepared(payload=payload.model_dump(mode="json"), preview=self.preview(payload))
        assert payload.id is not None
        record = await ctx.local.memory_record(payload.id)
        if record is None:
            raise ActionInvalid(f"payload.id: no memory record {payload.id!r}")
        if record.archived:
            raise ActionInvalid(f"payload.id: record {record.id} ({_quote(record.title)}) is already forgotten")
        payload = payload.model_copy(update={"id": record.id})
        if payload.expected_version is None:
            # Pin what the person approves a change to: if the record moves first, the change is refused.
            payload = payload.model_copy(update={"expected_version": record.version})
        if payload.op == "forget":
            body = f"{record.title}\n\nArchived: out of search and of agents' prompts; its history is kept."
            return Prepared(payload=payload.model_dump(mode="json"), preview=Preview(summary=describe(payload, record), body=body))
        assert payload.changes is not None
        updates = _changed(record, payload.changes)
        if not updates:
            raise ActionInvalid(f"payload.changes: record {record.id} already says this")
        return Prepared(payload=payload.model_dump(mode="json"),
                        preview=Preview(summary=describe(payload, record, updates), format="diff", body=edit_diff(record, updates)))

    def preview(self, payload: MemoryUpdatePayload) -> Preview:  # type: ignore[override]
        return Preview(summary=describe(payload), format="diff" if payload.op == "edit" else "text")

    async def execute(self, payload: MemoryUpdatePayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        check(payload)
        local = ctx.local
        if local is None:
            raise Permanent("memory updates need the daemon")
        trace = ctx.trace_id or None
        if payload.op == "add":
            assert payload.record is not None
            rid = derived_id(ctx.action_id, ctx.idempotency_key)
            found = await local.memory_record(rid)
            if found is not None:
                return Receipt(summary=f"{describe(payload)} (already added)", ref=found.id, already_done=True,
                               data={"id": found.id, "version": found.version})
            record = await local.memory_add(payload.record, record_id=rid, action_id=ctx.action_id, actor=ctx.proposer,
                                            note=payload.note, trace_id=trace)
            return Receipt(summary=describe(payload), ref=record.id, data={"id": record.id, "version": record.version})
        assert payload.id is not None
        current = await local.memory_record(payload.id)
        if current is None:
            raise Permanent(f"no memory record {payload.id} (was it purged?)")
        if payload.op == "forget":
            if current.archived:
                return Receipt(summary=f"{describe(payload, current)} (already forgotten)", ref=current.id, already_done=True,
                               data={"id": current.id, "version": current.version})
            self._check_version(payload, current)
            after = await local.memory_forget(current.id, actor=ctx.proposer, trace_id=trace)
            return Receipt(summary=describe(payload, current), ref=after.id, data={"id": after.id, "version": after.version})
        assert payload.changes is not None
        updates = _changed(current, payload.changes)
        if not updates:
            return Receipt(summary=f"memory: {_quote(current.title)} already shows this change", ref=current.id, already_done=True,
                           data={"id": current.id, "version": current.version})
        if current.archived:
            raise Permanent(f"record {current.id} ({_quote(current.title)}) was forgotten since the proposal")
        self._check_version(payload, current)
        # Moving a record between tiers is not using it: its age stays, or it would never age further.
        touch = set(updates) != {"tier"}
        after = await local.memory_edit(current.id, payload.changes, actor=ctx.proposer, note=payload.note, touch=touch, trace_id=trace)
        return Receipt(summary=describe(payload, current, updates), ref=after.id,
                       data={"id": after.id, "version_before": current.version, "version": after.version, "fields": sorted(updates),
                             "before": {k: getattr(current, k) for k in updates}})

    compensable = True

    async def compensate(self, payload: MemoryUpdatePayload, receipt: Receipt, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        """The inverse of what execute() did: an added record is forgotten, an edit reverted, a forgotten record restored;
        only while the record is still at the version the effect left it at."""
        local = ctx.local
        if local is None:
            raise Permanent("memory updates need the daemon")
        rid, version = receipt.data.get("id") or receipt.ref or "", receipt.data.get("version")
        current = await local.memory_record(rid) if rid else None
        name = f"record {rid}" + (f" ({_quote(current.title)})" if current is not None else "")
        if payload.op == "add" and (current is None or current.archived):
            return Receipt(summary=f"memory: {name} is already forgotten", ref=rid or None, already_done=True, data={"id": rid})
        if current is None:
            raise Permanent(f"no memory record {rid or payload.id} (was it purged?): nothing left to take back")
        if payload.op == "forget" and not current.archived:
            return Receipt(summary=f"memory: {name} is already back", ref=current.id, already_done=True, data={"id": current.id})
        before = receipt.data.get("before") if payload.op == "edit" else None
        if payload.op == "edit" and isinstance(before, dict) and all(getattr(current, k) == v for k, v in before.items()):
            return Receipt(summary=f"memory: {name} already shows what it said before", ref=current.id, already_done=True,
                           data={"id": current.id})
        by_hand = {"add": f"forget it by hand (`oxymus memory forget {current.id}`)",
                   "edit": f"revert it by hand (`oxymus memory show {current.id}` lists its versions)",
                   "forget": "restore it by hand"}[payload.op]
        if payload.op != "add" and (receipt.already_done or (payload.op == "edit" and not isinstance(before, dict))):
            # An edit or forget found done: by this action before a crash, or by someone else; Oxymus cannot tell.
            # (An add found done is this action's own: its record id derives from the action.)
            raise Permanent(f"memory: {name} already showed this {payload.op} when the action ran, so Oxymus cannot tell "
                            f"whether it made it; {by_hand} if it should be undone")
        if current.version != version:
            raise Permanent(f"memory: {name} changed since this {payload.op} (version {version}, now {current.version}); "
                            f"{by_hand} if it should be undone")
        note, trace = f"undoes {ctx.compensates_key or 'memory.update'}"[:200], ctx.trace_id or None
        if payload.op == "add":
            after = await local.memory_forget(current.id, actor=ctx.proposer, trace_id=trace)
            return Receipt(summary=f"memory: forgot {name} again", ref=after.id, data={"id": after.id, "version": after.version})
        if payload.op == "forget":
            after = await local.memory_unforget(current.id, actor=ctx.proposer, note=note, trace_id=trace)
            return Receipt(summary=f"memory: restored {name} ({after.tier})", ref=after.id, data={"id": after.id, "version": after.version})
        assert isinstance(before, dict)
        after = await local.memory_edit(current.id, RecordChanges.model_validate(before), actor=ctx.proposer, note=note,
                                        touch=set(before) != {"tier"}, trace_id=trace)
        return Receipt(summary=f"memory: reverted {name} ({', '.join(sorted(before))})", ref=after.id,
                       data={"id": after.id, "version": after.version})

    @staticmethod
    def _check_version(payload: MemoryUpdatePayload, current: MemoryRecord) -> None:
        if payload.expected_version is not None and current.version != payload.expected_version:
            raise Permanent(f"record {current.id} ({_quote(current.title)}) changed since the proposal "
                            f"(version {payload.expected_version}, now {current.version}); propose the change again")
