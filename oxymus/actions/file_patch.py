"""`file.patch`: replace one of the person's text files with an edited version, as an action.

Proposed by the editor (a draft's style, front matter and heading fixes). The payload
carries the file's sha256 as the proposer read it and the whole new text; the diff is
for the preview only (it is made again from the file at proposal). Performed by the
daemon (`daemon/local_effects.py`, through `ctx.local`):

- applied only if the file still hashes to `expected_sha256`, else refused: "the draft
  changed since the editor read it";
- a file that already holds the new text is a no-op receipt (a retry after a crash);
- written atomically (a temporary file renamed over it), keeping its mode; a symlink or
  anything but a regular file is refused;
- the receipt keeps the previous bytes, so a flow's failure or `oxymus undo` puts them
  back exactly, only while the file still holds what the patch wrote.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import os
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oxymus.actions.effects import ActionContext, ActionInvalid, ActionSpec, Permanent, Prepared, Preview, Receipt

MAX_BYTES = 2_000_000


class FilePatchPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(max_length=4096, description="the file: an absolute path or ~/...")
    expected_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="the sha256 of the file as the proposer read it")
    content: str = Field(max_length=MAX_BYTES, description="the file's whole new text (UTF-8)")
    diff: str = Field(default="", max_length=4 * MAX_BYTES, description="a unified diff for the preview (made again at proposal)")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not (value.startswith("~") or os.path.isabs(value)):
            raise ValueError(f"{value!r} is relative; give an absolute path or ~/...")
        return value

    def real_path(self) -> str:
        return os.path.expanduser(self.path)

    def new_bytes(self) -> bytes:
        return self.content.encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def unified_diff(before: bytes, after: bytes, name: str) -> str:
    a = before.decode("utf-8", errors="replace").splitlines(keepends=True)
    b = after.decode("utf-8", errors="replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, f"a/{name}", f"b/{name}"))


def _counts(diff: str) -> str:
    plus = sum(1 for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++"))
    minus = sum(1 for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---"))
    return f"+{plus} −{minus} lines"


def describe(p: FilePatchPayload, diff: str | None = None) -> str:
    return f"file: patch {p.path}" + (f" ({_counts(diff)})" if diff else "")


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


class FilePatchSpec(ActionSpec):
    kind: ClassVar[str] = "file.patch"
    Payload: ClassVar[type[BaseModel]] = FilePatchPayload
    scope = "own_files"
    risk = "low"
    description = "replace one of your text files with an edited version, only if it did not change since it was read"
    max_attempts = 3
    compensable = True
    undoable = True

    async def prepare(self, payload: FilePatchPayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        if ctx.local is None:
            return Prepared(payload=payload.model_dump(mode="json"), preview=self.preview(payload))
        try:
            current = await ctx.local.file_read(payload.real_path())
        except Permanent as exc:
            raise ActionInvalid(f"payload.path: {exc}") from None
        if sha256(current) != payload.expected_sha256:
            raise ActionInvalid(f"payload.expected_sha256: {payload.path}: the draft changed since the editor read it")
        diff = unified_diff(current, payload.new_bytes(), os.path.basename(payload.path))
        if not diff:
            raise ActionInvalid(f"payload.content: it is what {payload.path} already holds")
        payload = payload.model_copy(update={"diff": diff})
        return Prepared(payload=payload.model_dump(mode="json"), preview=Preview(summary=describe(payload, diff), format="diff", body=diff))

    def preview(self, payload: FilePatchPayload) -> Preview:  # type: ignore[override]
        return Preview(summary=describe(payload, payload.diff), format="diff", body=payload.diff)

    async def execute(self, payload: FilePatchPayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        if ctx.local is None:
            raise Permanent("file patches need the daemon")
        result = await ctx.local.file_patch(payload.real_path(), expected_sha256=payload.expected_sha256, new=payload.new_bytes(),
                                            key=ctx.idempotency_key or ctx.action_id, actor=ctx.proposer, trace_id=ctx.trace_id or None)
        done = bool(result.get("already_done"))
        return Receipt(summary=describe(payload, payload.diff) + (" (already so)" if done else ""), ref=result["sha256_after"],
                       already_done=done, data=result)

    async def compensate(self, payload: FilePatchPayload, receipt: Receipt, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        """The previous bytes back, exactly; refused (not forced) if the file changed since the patch."""
        if ctx.local is None:
            raise Permanent("file patches need the daemon")
        if "before" not in receipt.data:
            raise Permanent(f"the receipt of this patch does not keep {payload.path}'s previous text; restore it by hand")
        result = await ctx.local.file_restore(payload.real_path(), before=decode(receipt.data["before"]),
                                              written_sha256=receipt.data["sha256_after"], actor=ctx.proposer,
                                              trace_id=ctx.trace_id or None)
        done = bool(result.get("already_done"))
        return Receipt(summary=f"restored {payload.path}" + (" (already so)" if done else ""), ref=result["sha256_after"],
                       already_done=done, data=result)
