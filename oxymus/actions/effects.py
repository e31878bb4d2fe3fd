"""The write side of the connector contract: how a kind of action is prepared and performed.

Every side effect in Oxymus is an *action* of a registered kind (`notify.send`,
`git.commit`, ...). A connector declares the kinds it can perform by returning
`ActionSpec` objects from an optional classmethod `actions(config)` (config is its
validated section, or None when the user wrote none). The daemon's executor is the
only caller of `execute()`, and only for actions the policy plane let through.

- `prepare()` runs when the action is proposed: it checks the payload against the
  world (the repo is one the user configured, the bill exists), may pin what will be
  done (the commit to push, a digest of the files to commit), and renders the
  preview the person approves. It has no side effects. `ActionInvalid` refuses the
  proposal with a message naming the field.
- `execute()` performs the one side effect and returns a `Receipt`. It must be
  idempotent on `ctx.idempotency_key`: the executor may call it again after a crash
  between the effect and the stored receipt, so it first looks for the effect
  already done (a commit trailer, a calendar UID, a marker in a comment) and, if
  found, returns a receipt with `already_done=True` instead of doing it twice.
  `Transient` failures are retried with backoff; `Permanent` ones (and anything
  unexpected) fail the action visibly.
- `compensate()` takes back an effect that succeeded, when a later step of its flow
  failed for good (see daemon/flows.py). It gets the payload and the receipt of the
  effect, and runs as an action of its own (`ctx.action_id`, `ctx.idempotency_key` are
  the compensation's; `ctx.compensates_key` is the key the effect was made with), so it
  is audited, retried and crash-safe like any action. It must be idempotent: an undo
  already done (the event already gone) returns a receipt with `already_done=True`.
  It never forces: when the world moved on since (the file was edited, the branch has
  newer commits) it raises `Permanent` saying what is left to do by hand. A kind whose
  effect cannot be taken back (a push that landed, a notification shown) keeps the
  default, which raises `NotCompensable`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from oxymus.sources.contract import PollContext

if TYPE_CHECKING:
    from oxymus.memory.records import MemoryRecord, RecordChanges, RecordFields

Scope = Literal["local", "own_files", "external"]
Risk = Literal["low", "medium", "high"]


class ActionInvalid(Exception):
    """The proposal cannot be accepted as it stands; str() names the field and says why."""


class EffectError(Exception):
    """An execution that failed for a reason the person can read; str() is the message shown."""


class Transient(EffectError):
    """Worth retrying: a server down, a timeout, a 5xx or 429, a lock held by another process."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Permanent(EffectError):
    """Retrying cannot help: rejected by the server, a conflict, a missing credential."""


class NotCompensable(Permanent):
    """This effect cannot be taken back by Oxymus; str() says what the person would have to do by hand."""


class Preview(BaseModel):
    """What the person sees before deciding."""

    model_config = ConfigDict(frozen=True)

    summary: str = Field(description="one line: what will happen, e.g. 'commit 2 files in ~/blog: Publish …'")
    format: Literal["text", "diff", "event", "message"] = "text"
    body: str = Field(default="", description="the diff, the message, the event's details")


class Prepared(BaseModel):
    """The result of `prepare()`: the payload to store (possibly with pinned fields) and its preview."""

    payload: dict[str, Any]
    preview: Preview


class Receipt(BaseModel):
    """Proof an effect happened: stored before the action is marked succeeded."""

    model_config = ConfigDict(frozen=True)

    summary: str = Field(description="one line, e.g. 'pushed 3f2a1c0 to origin/main'")
    ref: str | None = Field(default=None, description="the effect's identity: a commit sha, an event UID, a comment URL")
    data: dict[str, Any] = Field(default_factory=dict)
    already_done: bool = Field(default=False, description="the effect was found already done (a retry after a crash)")


class LocalEffects(Protocol):
    """Effects on Oxymus' own data, performed by the daemon for the kinds that need them."""

    async def mark_bill_paid(self, *, bill: str, due: str, amount: float | None, note: str | None, action_id: str,
                             trace_id: str | None = None) -> bool:
        """Record a payment; False if (bill, due) was already recorded."""
        ...

    async def unmark_bill_paid(self, *, bill: str, due: str, action_id: str, trace_id: str | None = None,
                               by: str = "") -> bool:
        """Remove the payment of (bill, due) that the action `action_id` recorded (`by`: the action
        removing it); False if there is none (already removed). Permanent if another recorded it."""
        ...

    async def edit_plans(self, op: str, kwargs: dict[str, Any], *, expected_sha256: str | None, actor: str,
                         trace_id: str | None = None, key: str | None = None) -> dict[str, Any]:
        """Apply one PLANS.md patch; returns {'sha256_before', 'sha256_after', 'diff'}."""
        ...

    async def revert_plans(self, receipt: dict[str, Any], *, actor: str, trace_id: str | None = None) -> dict[str, Any]:
        """Take back the PLANS.md edit a receipt's data describes, only if the file is still as it left it."""
        ...

    async def plans_preview(self, op: str, kwargs: dict[str, Any]) -> tuple[str, str]:
        """(sha256 of the file now, the diff the patch would make), without writing."""
        ...

    async def memory_record(self, record_id: str) -> MemoryRecord | None:
        """The memory record (a forgotten one too), without touching it; None if there is none."""
        ...

    async def memory_add(self, fields: RecordFields, *, record_id: str, action_id: str, actor: str, note: str | None = None,
                         trace_id: str | None = None) -> MemoryRecord:
        """Add a record with this id; its provenance is the action's proposer (an agent's name and run)."""
        ...

    async def memory_edit(self, record_id: str, changes: RecordChanges, *, actor: str, note: str | None = None, touch: bool = True,
                          trace_id: str | None = None) -> MemoryRecord:
        """Change the fields given (a new version when anything changed)."""
        ...

    async def memory_forget(self, record_id: str, *, actor: str, trace_id: str | None = None) -> MemoryRecord:
        """Archive the record (never purge): out of retrieval, history kept."""
        ...

    async def memory_unforget(self, record_id: str, *, actor: str, note: str | None = None,
                              trace_id: str | None = None) -> MemoryRecord:
        """Bring a forgotten record back, in the tier it had before (a new version)."""
        ...

    async def record_get(self, record_id: str) -> Any:
        """The canonical record (oxymus.records.model.Record) a whole id or unique start names; None if none."""
        ...

    async def record_check(self, record: Any, status: str | None, fields: dict[str, Any]) -> str | None:
        """Why this status and these fields cannot be written to the record (None: they can)."""
        ...

    async def record_edit(self, record_id: str, *, status: str | None, fields: dict[str, Any], actor: str,
                          note: str | None = None, trace_id: str | None = None, action_id: str | None = None) -> Any:
        """Write the status and fields (validated); `record.status` is published when the status moves."""
        ...

    async def record_add(self, kind: str, fields: dict[str, Any], *, record_id: str, status: str | None, body: str,
                         source: str, ref: str | None, note: str | None, actor: str, action_id: str | None = None) -> Any:
        """Add a canonical record with this id (validated); `record.changed` and `record.status` (old None) are published."""
        ...

    async def record_link(self, record_id: str, target_type: str, target_ref: str, relation: str, *, actor: str) -> None:
        """Link the record to something (idempotent: an existing link stays as it is)."""
        ...

    async def file_read(self, path: str) -> bytes:
        """The bytes of a regular file (a symlink or anything else is refused: Permanent)."""
        ...

    async def file_patch(self, path: str, *, expected_sha256: str, new: bytes, key: str, actor: str,
                         trace_id: str | None = None) -> dict[str, Any]:
        """Write `new` atomically if the file hashes to `expected_sha256`; {'sha256_before', 'sha256_after', 'before' (base64)}."""
        ...

    async def file_restore(self, path: str, *, before: bytes, written_sha256: str, actor: str,
                           trace_id: str | None = None) -> dict[str, Any]:
        """Put `before` back, only while the file still hashes to `written_sha256`."""
        ...


class ActionContext(PollContext):
    """What prepare() and execute() may use: all a poll may (time, zone, secrets, paths), plus the action."""

    def __init__(
        self,
        *,
        zone: ZoneInfo,
        config_dir: Path,
        now: Callable[[], dt.datetime] | None = None,
        secret: Callable[[str], str | None] | None = None,
        timeout: float = 30.0,
        action_id: str = "",
        idempotency_key: str = "",
        trace_id: str = "",
        attempt: int = 0,
        proposer: str = "user",
        local: LocalEffects | None = None,
        on_button: Callable[[str, str], Awaitable[None]] | None = None,
        compensates_key: str = "",
    ):
        super().__init__(zone=zone, config_dir=config_dir, now=now, secret=secret, timeout=timeout)
        self.action_id = action_id
        self.idempotency_key = idempotency_key
        self.trace_id = trace_id
        self.attempt = attempt
        self.proposer = proposer
        self.local = local
        self.on_button = on_button
        # When compensating: the idempotency key the effect being taken back was made with
        # (the calendar UID, the comment marker and the commit trailer derive from it).
        self.compensates_key = compensates_key

    def button_pressed(self, target_action_id: str, button: str) -> Awaitable[None] | None:
        """A notification button was pressed: hand the decision back to the daemon (approve/deny)."""
        return self.on_button(target_action_id, button) if self.on_button is not None else None


class ActionSpec:
    """One kind of action. Subclass per kind; set the class attributes and implement execute()."""

    kind: ClassVar[str]
    Payload: ClassVar[type[BaseModel]]
    # local: reversible and on this machine only (a notification) -> allowed by default;
    # own_files: the person's own files or Oxymus' records (PLANS.md, a bill marked paid)
    #   -> allowed when the person proposes it, approval needed when an agent does;
    # external: leaves the machine or is hard to undo (push, comment, calendar) -> approval.
    scope: ClassVar[Scope] = "external"
    risk: ClassVar[Risk] = "medium"
    description: ClassVar[str] = ""
    max_attempts: ClassVar[int] = 5
    # How long a request for this kind waits for a decision when policy.toml says nothing for it.
    expiry: ClassVar[float | None] = None

    def __init__(self, config: Any = None):
        self.config = config

    def available(self) -> tuple[bool, str]:
        """(False, why) when this kind cannot be performed on this machine right now (no session
        bus for notifications). The daemon then does not propose it on its own initiative."""
        return True, ""

    def scope_of(self, payload: BaseModel) -> Scope:
        """The scope of this particular action (a commit that also pushes leaves the machine)."""
        return self.scope

    def risk_of(self, payload: BaseModel) -> Risk:
        return self.risk

    def parse(self, payload: dict[str, Any]) -> BaseModel:
        """The typed payload; raises pydantic.ValidationError on bad input."""
        return self.Payload.model_validate(payload)

    async def prepare(self, payload: BaseModel, ctx: ActionContext) -> Prepared:
        return Prepared(payload=payload.model_dump(mode="json"), preview=self.preview(payload))

    def preview(self, payload: BaseModel) -> Preview:
        return Preview(summary=f"{self.kind}", body=payload.model_dump_json(indent=2))

    async def execute(self, payload: BaseModel, ctx: ActionContext) -> Receipt:
        raise NotImplementedError

    # Whether compensate() can take the effect back; shown in a flow's preview.
    compensable: ClassVar[bool] = False
    # Whether `oxymus undo` takes back a done action of this kind (through compensate()), not
    # only a decision within the grace period: for effects on the person's own files.
    undoable: ClassVar[bool] = False

    async def compensate(self, payload: BaseModel, receipt: Receipt, ctx: ActionContext) -> Receipt:
        """Take back the effect `receipt` proves (see the module docstring); the default cannot."""
        raise NotCompensable(f"{self.kind} cannot be taken back by Oxymus: {receipt.summary}")

    def performs(self, payload: BaseModel) -> list[tuple[str, dict[str, Any]]]:
        """What this payload does, as (kind, payload) pairs the policy plane judges one by one.

        Most kinds do one thing: themselves. A kind that does more (a commit that also
        pushes) lists each effect, so a rule about `git.push` sees the push wherever it hides.
        """
        return [(self.kind, payload.model_dump(mode="json"))]
