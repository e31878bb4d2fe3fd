"""`plans.edit`: one minimal patch to PLANS.md, as an action that passes the policy plane.

The patch is applied by the daemon's PlansKeeper (through `ctx.local`), which refuses
it if the file changed since the hash the proposer looked at. Retrying after a crash
is safe: marking done or setting a proposal's status is idempotent by nature, and an
added action whose exact text is already in its section is not added again.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from oxymus.actions.effects import ActionContext, ActionInvalid, ActionSpec, Permanent, Prepared, Preview, Receipt


class PlansEditPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: Literal["set_done", "add_action", "set_proposal_status"]
    action_id: str | None = Field(default=None, description="set_done: the action's id")
    done: bool = Field(default=True, description="set_done: check (true) or uncheck")
    text: str | None = Field(default=None, max_length=500, description="add_action: one line")
    section: str = Field(default="Next actions", max_length=200, description="add_action: the heading to add under")
    proposal: str | None = Field(default=None, description="set_proposal_status: its position (1-based) or title")
    status: str | None = Field(default=None, description="set_proposal_status: proposed, draft, scheduled, published or dropped")
    date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="the date to record (default today for done/published)")
    expected_sha256: str | None = Field(default=None, description="the hash of the document the caller looked at; a mismatch refuses the edit")


def patch_kwargs(p: PlansEditPayload, today: str) -> dict[str, Any]:
    """The keyword arguments of the patch function for `p.op`; raises ActionInvalid naming the missing field."""
    if p.op == "set_done":
        if not p.action_id:
            raise ActionInvalid("payload.action_id: set_done needs the id of the action to mark")
        return {"action_id": p.action_id, "done": p.done, "date": (p.date or today) if p.done else None}
    if p.op == "add_action":
        text = " ".join((p.text or "").split())
        if not text:
            raise ActionInvalid("payload.text: add_action needs the text of the action")
        return {"text": text, "section_title": p.section}
    if not p.proposal or not p.status:
        raise ActionInvalid("payload.proposal, payload.status: set_proposal_status needs both")
    which: int | str = int(p.proposal) if p.proposal.isdigit() else p.proposal
    date = p.date or (today if p.status == "published" else None)
    return {"position_or_title": which, "status": p.status, "date": date}


def describe(p: PlansEditPayload) -> str:
    if p.op == "set_done":
        return f"PLANS.md: mark {p.action_id} {'done' if p.done else 'not done'}"
    if p.op == "add_action":
        return f"PLANS.md: add to {p.section}: {' '.join((p.text or '').split())}"
    return f"PLANS.md: proposal {p.proposal} -> {p.status}"


class PlansEditSpec(ActionSpec):
    kind: ClassVar[str] = "plans.edit"
    Payload: ClassVar[type[BaseModel]] = PlansEditPayload
    scope = "own_files"
    risk = "low"
    description = "a minimal patch to PLANS.md: mark an action done, add one, set a proposal's status"
    max_attempts = 3

    async def prepare(self, payload: PlansEditPayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        kwargs = patch_kwargs(payload, ctx.today().isoformat())
        body = ""
        if ctx.local is not None:
            sha, body = await ctx.local.plans_preview(payload.op, kwargs)
            if payload.expected_sha256 is None and sha and payload.op != "add_action":
                # Pin the file the person is approving a change to: if it moves before
                # execution, the edit is refused instead of landing somewhere else. Adding
                # an action only inserts a line under its heading, so it is not pinned: two
                # additions proposed together both apply, in either order.
                payload = payload.model_copy(update={"expected_sha256": sha})
        return Prepared(payload=payload.model_dump(mode="json"), preview=Preview(summary=describe(payload), format="diff", body=body))

    def preview(self, payload: PlansEditPayload) -> Preview:  # type: ignore[override]
        return Preview(summary=describe(payload), format="diff")

    async def execute(self, payload: PlansEditPayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        if ctx.local is None:
            raise Permanent("PLANS.md edits need the daemon")
        kwargs = patch_kwargs(payload, ctx.today().isoformat())
        result = await ctx.local.edit_plans(payload.op, kwargs, expected_sha256=payload.expected_sha256, actor=ctx.proposer,
                                           trace_id=ctx.trace_id or None, key=ctx.idempotency_key or None)
        if result.get("already_done"):
            return Receipt(summary=f"{describe(payload)} (already so)", ref=result.get("sha256_after"), already_done=True, data=result)
        return Receipt(summary=describe(payload), ref=result.get("sha256_after"), data=result)

    compensable = True

    async def compensate(self, payload: PlansEditPayload, receipt: Receipt, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        """The inverse patch, byte for byte; refused (not forced) if PLANS.md moved on since the edit."""
        if ctx.local is None:
            raise Permanent("PLANS.md edits need the daemon")
        if receipt.already_done and "hunk" not in receipt.data:
            # The file already showed this edit (made by hand): it was not ours to take back.
            return Receipt(summary=f"nothing to take back: {describe(payload)} was already so", already_done=True)
        result = await ctx.local.revert_plans(receipt.data, actor=ctx.proposer, trace_id=ctx.trace_id or None)
        summary = f"took back: {describe(payload)}"
        return Receipt(summary=summary + (" (already taken back)" if result.get("already_done") else ""),
                       ref=result.get("sha256_after"), already_done=bool(result.get("already_done")), data=result)
