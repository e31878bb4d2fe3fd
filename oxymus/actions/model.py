"""Actions: every side effect as a typed record with its context, decision and history.

The lifecycle is a small state machine, checked on every change (`check_transition`)
so that no code path, present or future, can move an action from
`awaiting_approval` to `executing` without passing through an approval:

    proposed -> awaiting_approval | approved | denied
    awaiting_approval -> approved | denied | snoozed | expired
    snoozed -> awaiting_approval | approved | denied | expired | snoozed (snoozed again)
    approved -> executing | awaiting_approval (undo) | expired (stale while paused)
              | cancelled (by the person, before the executor took it: a held action)
    denied -> awaiting_approval (undo of a person's denial within the grace period)
    executing -> succeeded | failed | approved (retry after a transient failure or a crash)
               | compensated (a flow whose failure was taken back step by step)
    succeeded -> compensated
    proposed -> cancelled (a flow's step that never ran: an earlier step failed)

A flow is a parent action of kind `flow` that carries the one decision for all its
steps; its steps are actions of their own kinds (`flow_id`, `step`) that wait in
`proposed` until their turn (daemon/flows.py).

An action may carry `not_before`: approved, it is held until then (its `next_attempt_at`
is never earlier), so the executor's one wake-up for the earliest due action covers it,
across restarts, and the pause holds it like any other due action.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from oxymus.actions.effects import Preview, Receipt, Risk
from oxymus.actions.pause import PauseState  # noqa: F401 - re-exported: the protocol and the TUI name it here
from oxymus.models import AuditEvent

ActionStatus = Literal[
    "proposed", "awaiting_approval", "approved", "denied", "executing",
    "succeeded", "failed", "snoozed", "expired", "compensated", "cancelled",
]
Outcome = Literal["allow", "require_approval", "deny"]
ProposerType = Literal["user", "agent", "system"]

TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"awaiting_approval", "approved", "denied", "cancelled"}),
    "awaiting_approval": frozenset({"approved", "denied", "snoozed", "expired"}),
    "snoozed": frozenset({"awaiting_approval", "approved", "denied", "expired", "snoozed"}),
    "approved": frozenset({"executing", "awaiting_approval", "expired", "cancelled"}),
    "executing": frozenset({"succeeded", "failed", "approved", "compensated"}),
    "succeeded": frozenset({"compensated"}),
    "denied": frozenset({"awaiting_approval"}),  # only undo, only a person's denial, only within the grace
    "failed": frozenset(),
    "expired": frozenset(),
    "compensated": frozenset(),
    "cancelled": frozenset(),
}
OPEN = ("awaiting_approval", "snoozed")  # waiting for the person
PENDING = ("approved", "executing")  # let through, not finished
FINAL = ("succeeded", "failed", "denied", "expired", "compensated", "cancelled")
FLOW = "flow"  # the kind of a flow's parent action


class IllegalTransition(Exception):
    pass


def check_transition(current: str, new: str) -> None:
    if new not in TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(f"an action cannot go from {current} to {new}")


class Proposer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ProposerType = "user"
    name: str = Field(default="user", max_length=64, description="the agent's name, 'user', or the daemon part")
    run_id: str | None = Field(default=None, description="the agent run that proposed it")

    def label(self) -> str:
        return self.name if self.type == "user" or self.name == self.type else f"{self.type}:{self.name}"


class InputRef(BaseModel):
    """What a proposal was based on: a reference, never a copy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(max_length=40, description="state, memory, capture, plans, file, url")
    ref: str = Field(max_length=500)
    note: str = Field(default="", max_length=500)


class RuleCheck(BaseModel):
    """One rule looked at while deciding: whether it matched and, if not, which condition failed."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(description="position in policy.toml (1-based); 0 for the built-in defaults")
    name: str
    outcome: Outcome
    matched: bool
    why: str = ""
    effect: str = Field(default="", description="the effect this check judged, when the action performs several (or is a flow)")


class EffectDecision(BaseModel):
    """How one effect of an action (or one step of a flow) was decided on its own."""

    model_config = ConfigDict(frozen=True)

    effect: str = Field(description="the effect's kind, and for a flow its step: '2: git.push'")
    outcome: Outcome
    rule: str


class Decision(BaseModel):
    """What the policy plane said, and how it got there."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    rule: str = Field(description="the name of the rule that decided")
    rule_index: int
    reason: str = ""
    path: list[RuleCheck] = Field(default_factory=list)
    policy_sha256: str | None = Field(default=None, description="the policy file the decision was made with")
    decided_at: str
    expires_in_s: float | None = Field(default=None, description="how long an approval request stays open")
    effects: list[EffectDecision] = Field(default_factory=list, description="with several effects: each one's own outcome; the strictest decided")


class Approval(BaseModel):
    """One decision by a person (or its expiry): the durable record the executor requires."""

    model_config = ConfigDict(frozen=True)

    action_id: str
    decision: Literal["approved", "denied", "snoozed", "undone", "edited"]
    actor: str
    via: str = Field(description="cli, tui, notification, policy")
    at: str
    reason: str | None = None
    until: str | None = None


class StoredReceipt(Receipt):
    action_id: str
    attempt: int
    at: str


class Action(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    payload: dict[str, Any]
    proposer: Proposer
    reason: str = ""
    inputs: list[InputRef] = Field(default_factory=list)
    confidence: float | None = None
    risk: Risk = "medium"
    idempotency_key: str
    decision: Decision
    preview: Preview
    trace_id: str
    status: ActionStatus
    attempts: int = 0
    max_attempts: int = 5
    next_attempt_at: str | None = Field(default=None, description="when the executor may take it (after the undo grace, or a backoff)")
    expires_at: str | None = None
    snoozed_until: str | None = None
    created_at: str
    updated_at: str
    error: str | None = None
    receipt: Receipt | None = None
    flow_id: str | None = Field(default=None, description="the flow this action is a step or a compensation of")
    step: int | None = Field(default=None, description="its place in the flow, from 1; None for a compensation")
    compensates: str | None = Field(default=None, description="the step this action takes back")
    not_before: str | None = Field(default=None, description="UTC ISO: approved, it is held until this time")


class ActionDetail(BaseModel):
    """An action with its whole story: for `oxymus explain` and the approval pane."""

    action: Action
    approvals: list[Approval] = Field(default_factory=list)
    receipts: list[StoredReceipt] = Field(default_factory=list)
    history: list[AuditEvent] = Field(default_factory=list, description="audit events of its trace, oldest first")
    steps: list[Action] = Field(default_factory=list, description="a flow's steps, then its compensations, in order")
