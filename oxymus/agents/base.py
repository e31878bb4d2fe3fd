"""The agent contract: a narrow specialist that reads what it declared and proposes what it may.

An agent is an orchestrator with a purpose and boundaries. It declares

- `name` and `role` (one paragraph: what it is for; also its LLM system prompt),
- `reads`: what it may look at: `state:<kind glob>` (e.g. `state:calendar.*`),
  `memory:hot|warm|cold`, `plans`, `captures`, `audit`, `actions`, `runs`, `sources`,
  `records:<kind>` (canonical records of that kind, e.g. `records:post`),
- `proposes`: the action kinds it may propose (globs),
- a default `trigger` (a local time, an interval, or events), which config can change,
- its place in the agent graph (`oxymus.agents.graph`, `oxymus agents graph`): `consumes`,
  the record kinds and statuses it takes over (the runtime starts it when a record reaches
  one, with the record's id in its event, as well as on its trigger), `produces`, the ones
  it makes or moves records to, and `validates`, what it checks before anything goes on.
  The side effects it carries out are its `proposes` kinds whose scope is external.

`run(ctx)` does the work through `ctx` only. The runtime enforces the declaration:
a read or a proposal outside it raises `OutOfBounds`, which fails the run visibly.
A run that could not do its job says so by returning `Finished.failed(why)` (its job
failed: a build broke) or `Finished.stopped(why)` (it could not start: the person has
to act first), not by raising: an exception is a bug. Both are problems the person
hears about once.
Every agent has a deterministic path and works with no LLM; `ctx.llm` is None when
no model is available, and everything the LLM returns is validated before use.
Dates, times, zones and recurrences are computed by code, never by the LLM.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Callable
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oxymus.actions.model import Action, InputRef
from oxymus.models import AuditEvent, Capture, SourceView
from oxymus.sources.contract import StateItem
from oxymus.time.timeofday import parse_clock
from oxymus.time.when import Duration, Weekdays

Outcome = Literal["running", "succeeded", "failed", "stopped", "skipped"]
PROBLEM_OUTCOMES = ("failed", "stopped")


class Finished(BaseModel):
    """How a run ended, returned from `run` when it is not a plain success.

    `failed`: the job was tried and did not work (a build broke, a clone failed).
    `stopped`: the job could not be tried; the reason says what the person has to do.
    """

    model_config = ConfigDict(frozen=True)

    outcome: Literal["succeeded", "failed", "stopped"]
    summary: str = Field(description="what happened; for a problem, the reason (its first line becomes the run's error)")

    @classmethod
    def failed(cls, why: str) -> "Finished":
        return cls(outcome="failed", summary=why)

    @classmethod
    def stopped(cls, why: str) -> "Finished":
        return cls(outcome="stopped", summary=why)


class RecordPort(BaseModel):
    """A record kind at a status: what an agent consumes or produces (`post@edited`)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    status: str

    @classmethod
    def of(cls, text: str) -> "RecordPort":
        kind, _, status = text.partition("@")
        if not kind or not status:
            raise ValueError(f"{text!r}: a record port is KIND@STATUS, e.g. post@edited")
        return cls(kind=kind, status=status)

    def __str__(self) -> str:
        return f"{self.kind}@{self.status}"


class OutOfBounds(Exception):
    """An agent read or proposed something its declaration does not allow."""


class Trigger(BaseModel):
    """When an agent runs. Exactly one of `at`, `every`, `on` (or none: only by hand)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: str | None = Field(default=None, description="local time HH:MM, daily (or on `weekdays`)", examples=["06:30"])
    weekdays: Weekdays | None = Field(default=None, description="with `at`: only on these days (mon..sun)", examples=[["sun"]])
    every: Duration | None = Field(default=None, description="an interval: 10m, 1h", examples=["10m"])
    on: list[str] | None = Field(default=None, description="event topics: capture.added, state.changed, ...", examples=[["capture.added"]])
    debounce: Duration = Field(default="5s", description="with `on`: wait this long for more events, then run once")

    @field_validator("at")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None:
            parse_clock(value, "06:30")
        return value

    def describe(self) -> str:
        if self.at:
            return f"at {self.at}" + (f" on {', '.join(self.weekdays)}" if self.weekdays else " daily")
        if self.every:
            return f"every {self.every}"
        if self.on:
            return "on " + ", ".join(self.on)
        return "by hand only"


class AgentSettings(BaseModel):
    """Settings every agent takes, under `[agents.NAME]`."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="false: never runs by itself (still runs with `oxymus agents run`)")
    trigger: Trigger | None = Field(default=None, description="when it runs (default: the agent's own)")


class Artifact(BaseModel):
    """Something an agent made: a day plan, a weekly review, a draft. Kept in the store and as a file."""

    model_config = ConfigDict(frozen=True)

    id: str
    agent: str
    run_id: str
    kind: str = Field(description="e.g. day_plan, weekly_review, triage_suggestion, digest")
    key: str = Field(description="what it is about, unique per agent and kind: a date, a capture id")
    title: str
    content: str
    data: dict[str, Any] = Field(default_factory=dict)
    path: str | None = Field(default=None, description="the file it was also written to, if any")
    created_at: str


class LlmUse(BaseModel):
    """One LLM call made during a run (the adapter's record)."""

    model: str
    kind: str
    prompt_chars: int
    latency_ms: float
    outcome: str
    error: str | None = None


class AgentRun(BaseModel):
    """One run of one agent: what started it, what it read, what it made and proposed."""

    model_config = ConfigDict(frozen=True)

    id: str
    agent: str
    trigger: str = Field(description="schedule 06:30, every 10m, event capture.added, catch-up, by hand")
    trace_id: str
    started_at: str
    finished_at: str | None = None
    duration_ms: float | None = None
    outcome: Outcome = "running"
    error: str | None = None
    summary: str = ""
    inputs: list[InputRef] = Field(default_factory=list, description="references to what it read, never copies")
    artifacts: list[str] = Field(default_factory=list, description="artifact ids")
    actions: list[str] = Field(default_factory=list, description="ids of the actions it proposed")
    llm: list[LlmUse] = Field(default_factory=list)
    llm_available: bool | None = None


class AgentContext(Protocol):
    """What a run may use. Implemented by the daemon's runtime, which enforces the declaration."""

    run_id: str
    trace_id: str
    trigger: str
    event: dict[str, Any] | None
    zone: Any
    settings: AgentSettings
    llm: Any  # oxymus.agents.llm.Llm when a model is available for this run, else None
    llm_status: str  # "available" or why not ("LLM unavailable: ...")

    def now(self) -> dt.datetime: ...
    def today(self) -> dt.date: ...
    async def state(self, kinds: list[str], *, start: str | None = None, end: str | None = None) -> list[StateItem]: ...
    async def sources(self) -> list[SourceView]: ...
    async def memory(self, tier: str, query: str = "", limit: int = 50) -> list[Any]: ...
    async def plans(self) -> Any: ...
    async def captures(self, status: str = "open", limit: int = 200) -> list[Capture]: ...
    async def audit(self, since: str, limit: int = 2000) -> list[AuditEvent]: ...
    async def actions(self, statuses: list[str] | None = None, limit: int = 500) -> list[Action]: ...
    async def records(self, kind: str, status: str | None = None, limit: int = 500) -> list[Any]: ...  # records.model.Record
    async def runs(self, agent: str | None = None, limit: int = 50) -> list[AgentRun]: ...
    async def artifacts(self, kind: str, *, agent: str | None = None, limit: int = 50) -> list[Artifact]: ...
    async def artifact_keys(self, kind: str, *, agent: str | None = None) -> set[str]: ...  # keys only: cheap
    async def artifact(self, kind: str, key: str, title: str, content: str, *, data: dict[str, Any] | None = None,
                       filename: str | None = None) -> Artifact: ...
    async def propose(self, kind: str, payload: dict[str, Any], *, reason: str, inputs: list[InputRef] | None = None,
                      confidence: float | None = None, key: str | None = None,
                      not_before: dt.datetime | None = None) -> Action | None: ...  # held, once approved, until then
    async def propose_flow(self, title: str, steps: list[tuple[str, dict[str, Any]]], *, reason: str,
                           inputs: list[InputRef] | None = None, confidence: float | None = None,
                           key: str | None = None) -> Action | None: ...  # one approval, run in order, taken back on failure
    async def payments(self, bills: list[str]) -> dict[tuple[str, str], str]: ...  # (bill, due) -> paid_at; reads state:bills.due
    async def paused(self) -> Any: ...  # the PauseState while automation is paused ("not today"), else None
    async def hot_budget(self) -> Any: ...  # memory.BudgetReport against [memory] hot_budget_words (reads memory:hot)
    async def records(self, kind: str, *, status: str | None = None, limit: int = 500) -> list[Any]: ...  # reads records:KIND
    async def maildir(self, path: str | None, seen: dict[str, Any] | None, digest: Callable[..., Any], *args: Any) -> Any: ...
    # reads mail in the worker process: (ScanResult without its messages, [digest(message, own, *args) for each]); None: no Maildir
    async def wordpress_post(self, slug: str) -> dict[str, Any] | None: ...  # reads wordpress: the post as the [wordpress] site has it
    async def search_notes(self, folders: list[str], searches: list[list[str]], *, limit: int = 10,
                           max_file_bytes: int = 2_000_000) -> Any: ...  # reads notes; research_notes.NotesResult
    async def recall(self, key: str) -> Any: ...
    async def remember(self, key: str, value: Any) -> None: ...
    def note(self, text: str) -> None: ...
    def progress(self, piece: str) -> None: ...  # a piece of the LLM's answer as it streams (pass as `stream_to`)


class Agent:
    """Subclass per specialist; set the class attributes and implement `run`."""

    name: ClassVar[str]
    role: ClassVar[str]
    reads: ClassVar[tuple[str, ...]] = ()
    proposes: ClassVar[tuple[str, ...]] = ()
    trigger: ClassVar[Trigger] = Trigger()
    # The agent graph: what starts it besides its trigger, what it hands on, what it checks.
    consumes: ClassVar[tuple[RecordPort, ...]] = ()
    produces: ClassVar[tuple[RecordPort, ...]] = ()
    validates: ClassVar[tuple[str, ...]] = ()
    also_on: ClassVar[tuple[str, ...]] = ()  # event topics that start it as well as its trigger
    Settings: ClassVar[type[AgentSettings]] = AgentSettings
    # How its proposals' confidence is derived (`oxymus.agents.confidence`): which rule gives
    # which strength, what counts as support, what the LLM's part does. Required of an agent
    # that proposes; docs/reference.md lists it.
    confidence_rule: ClassVar[str] = ""

    def __init__(self, settings: AgentSettings | None = None):
        self.settings = settings or self.Settings()

    @property
    def effective_trigger(self) -> Trigger:
        return self.settings.trigger or self.trigger

    def describe_trigger(self) -> str:
        """Its trigger in words, with the events that start it as well."""
        also = f"; on {', '.join(self.also_on)}" if self.also_on and self.effective_trigger.on is None else ""
        return self.effective_trigger.describe() + also

    @classmethod
    def may_read(cls, what: str) -> bool:
        return any(fnmatch.fnmatchcase(what, pattern) for pattern in cls.reads)

    @classmethod
    def may_propose(cls, kind: str) -> bool:
        return any(fnmatch.fnmatchcase(kind, pattern) for pattern in cls.proposes)

    async def run(self, ctx: AgentContext) -> "str | Finished":
        """Do the work; return a one-line summary of what was done (shown in `agents history`),
        or `Finished.failed(why)` / `Finished.stopped(why)` when the job did not get done."""
        raise NotImplementedError
