"""Effects on Oxymus' own data, for the action kinds that need them (see oxymus.actions.effects.LocalEffects).

All are idempotent, so the executor can retry them after a crash: a payment is keyed
by (bill, due date), a PLANS.md patch that is already in the file is recognised
instead of being refused as a conflict or applied twice, and a memory update finds
the record it made or the change it applied (oxymus/memory/update_action.py), and a file patch
already in the file is found by its hash (oxymus/actions/file_patch.py).
"""

from __future__ import annotations

import asyncio
import os
import stat
from typing import Any

from oxymus import plans
from oxymus.actions import file_patch
from oxymus.actions.effects import Permanent
from oxymus.client import wire
from oxymus.daemon.plans import PlansKeeper, _read, journaled
from oxymus.kernel import files
from oxymus.kernel.ulid import new_ulid
from oxymus.memory import records as mem
from oxymus.plans.ids import normalise
from oxymus.plans.lines import sha256
from oxymus.records import model as rec
from oxymus.sources.contract import utc_iso
from oxymus.store import audit_sql
from oxymus.store.db import rollback
from oxymus.store.repos import Store

PATCHES = {"set_done": plans.set_done, "add_action": plans.add_action, "set_proposal_status": plans.set_proposal_status}


class DaemonLocalEffects:
    def __init__(self, store: Store, keeper: PlansKeeper, now, bus=None):
        self.store = store
        self.keeper = keeper
        self._now = now
        self.bus = bus

    async def mark_bill_paid(self, *, bill: str, due: str, amount: float | None, note: str | None, action_id: str,
                             trace_id: str | None = None) -> bool:
        async with self.store.write_lock:
            db = self.store.db
            await db.execute("BEGIN IMMEDIATE")
            try:
                cur = await db.execute(
                    "INSERT OR IGNORE INTO bill_payments (bill, due, paid_at, amount, note) VALUES (?, ?, ?, ?, ?)",
                    (bill, due, utc_iso(self._now()), amount, note),
                )
                created = cur.rowcount == 1
                if created:
                    sql, params = audit_sql.statement(actor="executor", verb="bills.paid", subject=f"{bill}@{due}", trace_id=trace_id or new_ulid(),
                                                      details={"bill": bill, "due": due, "amount": amount, "action": action_id})
                    await db.execute(sql, params)
                await db.execute("COMMIT")
            except BaseException:
                await rollback(db)
                raise
        if created:
            self.store.state.changed()
        if created and self.bus is not None:
            self.bus.publish("state.changed", {"source": "bills", "added": 0, "changed": 1, "removed": 0})
        return created

    async def unmark_bill_paid(self, *, bill: str, due: str, action_id: str, trace_id: str | None = None,
                               by: str = "") -> bool:
        """Only the action's own payment goes, told by the `bills.paid` audit line that recorded it
        (written in the payment's transaction): one recorded by another action stays."""
        subject = f"{bill}@{due}"
        async with self.store.write_lock:
            db = self.store.db
            await db.execute("BEGIN IMMEDIATE")
            try:
                row = await (await db.execute("SELECT paid_at, amount FROM bill_payments WHERE bill = ? AND due = ?", (bill, due))).fetchone()
                recorded_by = await self._audit_action(db, "bills.paid", subject, "action", None)
                if row is not None and recorded_by != action_id:
                    if await self._audit_action(db, "bills.unpaid", subject, "undoes", action_id) is not None:
                        row = None  # this action's payment was removed before; the one there now is another's
                    else:
                        who = f"action {recorded_by}" if recorded_by else "someone else (no audit line says who)"
                        raise Permanent(f"the payment of {bill} due {due} was recorded by {who}, not by action {action_id}, "
                                        "so Oxymus leaves it recorded")
                if row is not None:
                    await db.execute("DELETE FROM bill_payments WHERE bill = ? AND due = ?", (bill, due))
                    sql, params = audit_sql.statement(actor="executor", verb="bills.unpaid", subject=subject, trace_id=trace_id or new_ulid(),
                                                      details={"bill": bill, "due": due, "paid_at": row[0], "amount": row[1],
                                                               "undoes": action_id, "action": by})
                    await db.execute(sql, params)
                await db.execute("COMMIT")
            except BaseException:
                await rollback(db)
                raise
        if row is not None:
            self.store.state.changed()
        if row is not None and self.bus is not None:
            self.bus.publish("state.changed", {"source": "bills", "added": 0, "changed": 1, "removed": 0})
        return row is not None

    @staticmethod
    async def _audit_action(db, verb: str, subject: str, field: str, value: str | None) -> str | None:
        """details[field] of the newest `verb` line about `subject` (with details[field] == value, if given)."""
        sql = "SELECT json_extract(details, '$.' || ?) FROM audit_log WHERE verb = ? AND subject = ?"
        params: tuple = (field, verb, subject)
        if value is not None:
            sql += " AND json_extract(details, '$.' || ?) = ?"
            params += (field, value)
        row = await (await db.execute(sql + " ORDER BY seq DESC LIMIT 1", params)).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    async def _current(self) -> bytes | None:
        try:
            return await asyncio.to_thread(_read, self.keeper.path, self.keeper.max_bytes)
        except FileNotFoundError:
            return None

    async def plans_preview(self, op: str, kwargs: dict[str, Any]) -> tuple[str, str]:
        try:
            data = await self._current()
            base = data if data is not None else b""
            sha = sha256(base)  # a document's sha256 is its bytes' (no parse needed)
            # a patch parses the file: CPU work, off the loop
            new = await asyncio.to_thread(PATCHES[op], base, expected_sha256=sha, path=self.keeper.path, **kwargs)
        except (plans.PlansError, ValueError, TypeError) as exc:
            from oxymus.actions.effects import ActionInvalid

            raise ActionInvalid(str(exc)) from None
        return (sha if data is not None else ""), plans.diff(base, new, "PLANS.md")

    def _already_applied(self, op: str, kwargs: dict[str, Any], data: bytes) -> bool:
        """True if the file already shows this edit (a retry after a crash, or the person did it by hand)."""
        doc = plans.parse(data, self.keeper.path)
        if op == "add_action":
            want = normalise(kwargs["text"])
            title = (kwargs.get("section_title") or "").strip().lower()
            return any(normalise(a.text) == want and (not title or (a.section and a.section[-1].strip().lower() == title))
                       for a in doc.actions)
        try:
            return PATCHES[op](data, expected_sha256=doc.sha256, path=self.keeper.path, **kwargs) == data
        except (plans.PlansError, ValueError, TypeError):
            return False

    async def edit_plans(self, op: str, kwargs: dict[str, Any], *, expected_sha256: str | None, actor: str,
                         trace_id: str | None = None, key: str | None = None) -> dict[str, Any]:
        try:
            data = await self._current()
        except plans.PlansError as exc:
            raise Permanent(str(exc)) from None
        if data is not None:
            sha = sha256(data)
            if (expected_sha256 and sha != expected_sha256) or op == "add_action":
                # parsing is CPU work: off the loop, like the keeper's
                if await asyncio.to_thread(self._already_applied, op, kwargs, data):
                    done: dict[str, Any] = {"already_done": True, "sha256_after": sha, "diff": ""}
                    # Made by this very action before a crash (its journal line says so): it can still be taken back.
                    entry = await journaled(self.store, key, trace_id, sha) if key else None
                    if entry is not None:
                        done.update(sha256_before=entry["sha_before"], hunk=entry["hunk"])
                    return done
        try:
            before, after, diff, hunk = await self.keeper.edit(op, kwargs, expected_sha256=expected_sha256, actor=actor,
                                                               trace_id=trace_id, journal=key)
        except wire.RpcError as exc:
            raise Permanent(exc.message) from None
        return {"sha256_before": before, "sha256_after": after, "diff": diff, "hunk": hunk}

    async def revert_plans(self, receipt: dict[str, Any], *, actor: str, trace_id: str | None = None) -> dict[str, Any]:
        """Take back one edit by its receipt, only while PLANS.md is still exactly as the edit left it."""
        after, before, hunk = receipt.get("sha256_after"), receipt.get("sha256_before"), receipt.get("hunk")
        try:
            data = await self._current()
        except plans.PlansError as exc:
            raise Permanent(f"{exc} (undo the edit there by hand)") from None
        now = sha256(data) if data is not None else None
        if now is not None and now == before:
            return {"already_done": True, "sha256_after": now, "diff": ""}
        if hunk is None or after is None:
            raise Permanent("this edit's receipt does not say how to take it back")
        if now != after:
            raise Permanent(f"{self.keeper.path} changed since the edit; it was left as it is (undo the edit there by hand)")
        try:
            before2, after2, diff, _ = await self.keeper.edit("revert", hunk, expected_sha256=after, actor=actor, trace_id=trace_id)
        except wire.RpcError as exc:
            raise Permanent(f"{exc.message} (undo the edit there by hand)") from None
        return {"sha256_before": before2, "sha256_after": after2, "diff": diff}

    # --- memory (the memory.update action) -------------------------------------------------

    async def memory_record(self, record_id: str) -> mem.MemoryRecord | None:
        try:
            return await self.store.memory.get(record_id, touch=False)
        except mem.MemoryError:
            return None

    async def _provenance(self, action_id: str, actor: str, note: str | None) -> mem.Provenance:
        """Who proposed the record: an agent's name and run, or the person."""
        action = await self.store.actions.get(action_id) if action_id else None
        why = note or f"memory.update {action_id}".strip()
        if action is not None and action.proposer.type == "agent":
            return mem.Provenance(source="agent", ref=action.proposer.run_id or action_id,
                                  note=f"agent {action.proposer.name}: {why}"[:500])
        if action is not None and action.proposer.type == "system":
            return mem.Provenance(source="agent", ref=action_id, note=f"{action.proposer.label()}: {why}"[:500])
        return mem.Provenance(source="user", ref=action_id or None, note=f"{actor}: {why}"[:500])

    def _changed(self, record_id: str, verb: str) -> None:
        if self.bus is not None:
            self.bus.publish("memory.changed", {"id": record_id, "verb": verb})

    async def memory_add(self, fields: mem.RecordFields, *, record_id: str, action_id: str, actor: str, note: str | None = None,
                         trace_id: str | None = None) -> mem.MemoryRecord:
        provenance = await self._provenance(action_id, actor, note)
        record = await self.store.memory.add(fields, provenance, actor=actor, record_id=record_id, trace_id=trace_id)
        self._changed(record.id, "added")
        return record

    async def memory_edit(self, record_id: str, changes: mem.RecordChanges, *, actor: str, note: str | None = None, touch: bool = True,
                          trace_id: str | None = None) -> mem.MemoryRecord:
        try:
            record = await self.store.memory.edit(record_id, changes, actor=actor, note=note, touch=touch)
        except mem.MemoryError as exc:
            raise Permanent(str(exc)) from None
        self._changed(record.id, "edited")
        return record

    async def memory_forget(self, record_id: str, *, actor: str, trace_id: str | None = None) -> mem.MemoryRecord:
        try:
            record = await self.store.memory.forget(record_id, purge=False, actor=actor)
        except mem.MemoryError as exc:
            raise Permanent(str(exc)) from None
        assert record is not None
        self._changed(record.id, "forgotten")
        return record

    async def memory_unforget(self, record_id: str, *, actor: str, note: str | None = None,
                              trace_id: str | None = None) -> mem.MemoryRecord:
        try:
            record = await self.store.memory.unforget(record_id, actor=actor, note=note)
        except mem.MemoryError as exc:
            raise Permanent(str(exc)) from None
        self._changed(record.id, "restored")
        return record

    # --- canonical records (the record.update action) ---------------------------------------

    async def record_get(self, record_id: str) -> rec.Record | None:
        try:
            return await self.store.records.get(await self.store.records.resolve(record_id))
        except rec.RecordError:
            return None

    async def record_check(self, record: rec.Record, status: str | None, fields: dict[str, Any]) -> str | None:
        try:
            if status is not None:
                rec.check_status(record.kind, status)
            rec.validate(record.kind, {**record.fields, **fields})
        except rec.RecordError as exc:
            return str(exc)
        return None

    async def record_edit(self, record_id: str, *, status: str | None, fields: dict[str, Any], actor: str,
                          note: str | None = None, trace_id: str | None = None, action_id: str | None = None) -> rec.Record:
        try:
            record, before = await self.store.records.edit(record_id, fields=fields, status=status, actor=actor, note=note)
        except rec.RecordError as exc:
            raise Permanent(str(exc)) from None
        if self.bus is not None:
            self.bus.publish("record.changed", {"id": record.id, "kind": record.kind, "verb": "edited"})
            self.bus.publish("memory.changed", {"id": record.id, "verb": "edited"})
            if before is not None:
                # The action lets the handoff say whether a person approved the move (daemon/agent_graph.py).
                self.bus.publish("record.status", {"id": record.id, "kind": record.kind, "old": before, "new": record.status,
                                                   "actor": actor, **({"action": action_id} if action_id else {})})
        return record

    async def record_add(self, kind: str, fields: dict[str, Any], *, record_id: str, status: str | None, body: str,
                         source: str, ref: str | None, note: str | None, actor: str, action_id: str | None = None) -> rec.Record:
        provenance = mem.Provenance(source=source, ref=ref, note=note)
        try:
            record = await self.store.records.add(kind, fields, status=status, body=body, provenance=provenance, actor=actor,
                                                  record_id=record_id)
        except rec.RecordError as exc:
            raise Permanent(str(exc)) from None
        if self.bus is not None:
            self.bus.publish("record.changed", {"id": record.id, "kind": record.kind, "verb": "added"})
            self.bus.publish("memory.changed", {"id": record.id, "verb": "added"})
            # A new record reaches its first status: a handoff, and a start for its consumers.
            self.bus.publish("record.status", {"id": record.id, "kind": record.kind, "old": None, "new": record.status,
                                               "actor": actor, **({"action": action_id} if action_id else {})})
        return record

    async def record_link(self, record_id: str, target_type: str, target_ref: str, relation: str, *, actor: str) -> None:
        try:
            await self.store.records.link(record_id, target_type, target_ref, relation, actor=actor)
        except rec.RecordError as exc:
            raise Permanent(str(exc)) from None

    # --- the person's files (the file.patch action) -------------------------------------------

    async def file_read(self, path: str) -> bytes:
        """The bytes of a regular file (never through a symlink); Permanent naming the path otherwise."""
        return await asyncio.to_thread(_regular_bytes, path)

    async def file_patch(self, path: str, *, expected_sha256: str, new: bytes, key: str, actor: str,
                         trace_id: str | None = None) -> dict[str, Any]:
        """Replace the file's bytes with `new` if it still hashes to `expected_sha256`.

        The previous bytes are journaled in the audit log (`file.patching`, under the action's
        key) before the rename, so a retry after a crash that finds the patch already made still
        returns them and the patch can still be taken back."""
        new_sha = sha256(new)
        old = await self.file_read(path)
        now = sha256(old)
        if now == new_sha:
            done: dict[str, Any] = {"already_done": True, "path": path, "sha256_after": now}
            for event in await self.store.audit.query(subject=path, verb="file.patching", limit=50):
                if event.details.get("key") == key and event.details.get("sha256_after") == now:
                    done.update(sha256_before=event.details["sha256_before"], before=event.details["before"])
                    break
            return done
        if now != expected_sha256:
            raise Permanent(f"{path}: the draft changed since the editor read it (sha256 {now[:12]}…, expected "
                            f"{expected_sha256[:12]}…); nothing was written")
        before = file_patch.encode(old)
        await self.store.audit.append(actor=actor, verb="file.patching", subject=path, trace_id=trace_id or new_ulid(),
                                      details={"key": key, "sha256_before": now, "sha256_after": new_sha, "before": before})
        await asyncio.to_thread(_replace_if, path, new, now)
        await self.store.audit.append(actor=actor, verb="file.patched", subject=path, trace_id=trace_id or new_ulid(),
                                      details={"key": key, "sha256_before": now, "sha256_after": new_sha})
        return {"path": path, "sha256_before": now, "sha256_after": new_sha, "before": before}

    async def file_restore(self, path: str, *, before: bytes, written_sha256: str, actor: str,
                           trace_id: str | None = None) -> dict[str, Any]:
        """Put `before` back, only while the file still holds what the patch wrote (`written_sha256`)."""
        old_sha = sha256(before)
        current = await self.file_read(path)
        now = sha256(current)
        if now == old_sha:
            return {"already_done": True, "path": path, "sha256_after": now}
        if now != written_sha256:
            raise Permanent(f"{path} changed since the patch; it was left as it is (undo the edit there by hand)")
        await asyncio.to_thread(_replace_if, path, before, now)
        await self.store.audit.append(actor=actor, verb="file.restored", subject=path, trace_id=trace_id or new_ulid(),
                                      details={"sha256_before": now, "sha256_after": old_sha})
        return {"path": path, "sha256_before": now, "sha256_after": old_sha}


def _regular_bytes(path: str) -> bytes:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise Permanent(f"{path} does not exist") from None
    except OSError as exc:
        raise Permanent(f"{path}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(st.st_mode):
        raise Permanent(f"{path} is a symlink; Oxymus patches only regular files")
    if not stat.S_ISREG(st.st_mode):
        raise Permanent(f"{path} is not a regular file")
    if st.st_size > file_patch.MAX_BYTES:
        raise Permanent(f"{path} is {st.st_size} bytes, over the {file_patch.MAX_BYTES} a patch may touch")
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise Permanent(f"{path}: {exc.strerror or exc}") from None


def _replace_if(path: str, data: bytes, expected_sha256: str) -> None:
    """Write atomically, keeping the mode; refused if the file moved on between the check and the rename."""
    def still_same() -> None:
        if sha256(_regular_bytes(path)) != expected_sha256:
            raise Permanent(f"{path}: the draft changed while it was being patched; nothing was written")

    files.write_atomic(path, data, before_replace=still_same)
