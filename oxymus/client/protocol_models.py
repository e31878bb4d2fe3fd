"""The params and result models of every RPC method but the handshake and status.

`oxymus.client.protocol` names them and imports this module the first time one of them is
used, so a connection (and the daemon's start) does not pay for the agent, action and
memory models they are built from.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from oxymus.client.protocol_base import NoParams, Params  # noqa: F401 - NoParams: the protocol's namespace

from oxymus.actions.effects import Preview
from oxymus.actions.model import Action, ActionDetail, Decision, InputRef, Proposer
from oxymus.actions.pause import PauseState
from oxymus.agents.base import AgentRun, Artifact
from oxymus.agents.dayplan import DayPlan, PlanSlot
from oxymus.agents.review import Decision as ReviewDecision
from oxymus.agents.review import ReviewRecord, ReviewView, Step
from oxymus.agents.weekly import AnswerKind, ProposalDecision, WeeklyRecord, WeeklyStep, WeeklyView
from oxymus.agents.triage_models import TriageSuggestion
from oxymus.memory import records as mem
from oxymus.models import (
    AuditEvent, Capture, CaptureStatus, NotificationsListResult,
    NotificationsSeenResult, SourceView,
)
from oxymus.plans import PlansDocument
from oxymus.plans.edit_action import PlansEditPayload
from oxymus.metrics import models as metrics_proto  # noqa: F401 - metrics.get's models, by dotted name
from oxymus.records import protocol as records_proto  # noqa: F401 - the records.* methods' models, by dotted name
from oxymus.settings.theme_action import ThemePayload
from oxymus.today.view import Today


class CaptureAddParams(Params):
    text: str
    source: str = "cli"
    id: str | None = Field(default=None, description="a ULID chosen by the client; retries with the same id are idempotent")


class CaptureAddResult(BaseModel):
    capture: Capture
    created: bool = Field(description="false when a capture with this id already existed")


class InboxListParams(Params):
    status: CaptureStatus = "open"
    limit: int = Field(default=500, ge=1, le=10_000)
    # Paging by seq rather than offset: a capture arriving meanwhile shifts no page.
    before: int | None = Field(default=None, description="the page older than this capture seq (scrolling down)")
    after: int | None = Field(default=None, description="the page newer than this capture seq (scrolling up)")
    oldest: bool = Field(default=False, description="the last page, the oldest captures (still newest first)")




class InboxListResult(BaseModel):
    captures: list[Capture]
    total: int | None = Field(default=None, description="how many captures have this status in all (captures holds at most `limit` of them)")
    links: dict[str, list[mem.CaptureLink]] = Field(default_factory=dict, description="capture id -> what it became (triaged ones)")
    suggestions: dict[str, TriageSuggestion] = Field(default_factory=dict, description="capture id -> the triage agent's suggestion (open ones)")
    newer: int = Field(default=0, description="how many captures of this status are newer than the first in `captures`")


class TodayParams(Params):
    date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD; default: today in the configured zone")


class TodayPlanResult(BaseModel):
    date: str = Field(description="YYYY-MM-DD, the day asked for")
    zone: str = Field(description="the IANA zone the day is in")
    plan: DayPlan | None = Field(description="the planner's day_plan artifact for the day; null when there is none yet")
    made_at: str | None = Field(default=None, description="when the plan was saved (UTC ISO)")
    free_slots: list[PlanSlot] = Field(default_factory=list, description="the free slots in working hours now, from the events "
                                       "stored now (the plan's own list is as it was when it was made)")
    working_hours: str = Field(default="", description="the planner's working hours, local: 09:00–18:00")
    hint: str | None = Field(default=None, description="when there is no plan: why (the planner runs at 06:30 daily, it is "
                             "off, ...); `agents.run` with name planner makes one now")


class RefreshParams(Params):
    source: str | None = Field(default=None, description="a source id, or a connector name for all its sources; default: all")


class SourcesResult(BaseModel):
    sources: list[SourceView]


class MemorySearchParams(Params):
    query: str = Field(default="", max_length=1000, description="words to find; empty lists the most recently touched")
    kind: str | None = None
    tier: mem.Tier | None = None
    tag: str | None = None
    limit: int = Field(default=20, ge=1, le=500)


class MemorySearchResult(BaseModel):
    hits: list[mem.SearchHit] = Field(description="best first, without bodies: `memory.get` opens one")


class MemoryAddParams(Params):
    record: mem.RecordFields
    provenance: mem.Provenance = Field(default_factory=mem.Provenance)
    capture_id: str | None = Field(default=None, description="the capture this record comes from (its id or a unique start of one): it is linked and marked triaged")


class MemoryIdParams(Params):
    id: str = Field(min_length=1, max_length=64, description="the whole id or a unique start of one (4+ characters, any case)")


class MemoryGetResult(BaseModel):
    record: mem.MemoryRecord
    history: list[mem.MemoryVersion]


class MemoryEditParams(Params):
    id: str = Field(min_length=1, max_length=64, description="the whole id or a unique start of one (4+ characters, any case)")
    changes: mem.RecordChanges


class MemoryForgetParams(Params):
    id: str = Field(min_length=1, max_length=64, description="the whole id or a unique start of one (4+ characters, any case)")
    purge: bool = Field(default=False, description="really delete the record and its history")


class MemoryForgetResult(BaseModel):
    record: mem.MemoryRecord | None = Field(description="the archived record; null when purged")
    purged: bool


class MemoryRecordsResult(BaseModel):
    records: list[mem.MemoryRecord]


class MemoryImportParams(Params):
    entries: list[mem.VaultEntry] = Field(max_length=10_000)


class MemoryImportResult(BaseModel):
    added: int
    updated: int
    unchanged: int


class InboxTriageParams(Params):
    capture_id: str = Field(min_length=1, max_length=64, description="the whole id or a unique start of one (4+ characters, any case)")
    to: Literal["memory", "plan_action", "archive"] = Field(description="what the capture becomes")
    record: mem.RecordFields | None = Field(default=None, description="for to=memory (default: the capture's text as a fact)")
    text: str | None = Field(default=None, max_length=500, description="for to=plan_action (default: the capture's first line)")
    section: str = Field(default="Next actions", max_length=200, description="for to=plan_action: the PLANS.md section")


class InboxTriageResult(BaseModel):
    capture_id: str
    to: str
    target_id: str | None = None


class InboxAcceptParams(Params):
    capture_id: str = Field(min_length=1, max_length=64, description="the whole id or a unique start of one (4+ characters, any case)")


class InboxAcceptResult(InboxTriageResult):
    """What accepting a suggestion did. A calendar event or a bill is an action proposed as the person:
    `action` says whether it ran or waits for approval; the capture is linked to it either way."""

    suggestion: TriageSuggestion
    action: Action | None = Field(default=None, description="to=calendar_event or bill: the action proposed")
    summary: str = Field(default="", description="one line for the person")


class PlansResult(BaseModel):
    path: str
    exists: bool
    document: PlansDocument | None = Field(description="null until the file exists and has been read once")
    error: str | None = Field(description="why the file cannot be read now (the last good document is kept)")
    read_at: str | None


class PlansEditParams(PlansEditPayload, Params):
    """The same fields as the `plans.edit` action's payload: the RPC proposes that action as the person."""


class PlansEditResult(BaseModel):
    sha256_before: str | None = None
    sha256_after: str | None = Field(default=None, description="null unless the edit was applied (it may be waiting for approval)")
    diff: str = ""
    document: PlansDocument | None
    action: Action = Field(description="the plans.edit action that carried the edit, with its status")


class ThemeSetParams(ThemePayload, Params):
    """The `ui.theme` action's payload: the RPC proposes that action as the person."""


class ThemeSetResult(BaseModel):
    theme: str
    path: str = Field(description="the config file that holds it")
    changed: bool = Field(description="false: the file already said so")
    action: Action = Field(description="the ui.theme action that saved it, with its status")


class ProposeParams(Params):
    kind: str = Field(min_length=1, max_length=100, description="e.g. notify.send, git.commit")
    payload: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(default="", max_length=4000, description="why: shown with the approval")
    proposer: Proposer = Field(default_factory=Proposer, description="who proposes it (agents name themselves and their run)")
    inputs: list[InputRef] = Field(default_factory=list, max_length=100, description="what it is based on: references, not copies")
    confidence: float | None = Field(default=None, ge=0, le=1, description="the agent's confidence")
    key: str | None = Field(default=None, min_length=1, max_length=200, description="idempotency key: proposing the same key again returns the first action")
    trace_id: str | None = Field(default=None, max_length=64, description="the trace of the trigger or agent run (default: a new one)")
    not_before: AwareDatetime | None = Field(default=None, description="approved, it is held until this time (cancel it before with actions.cancel)")


class ProposeResult(BaseModel):
    action: Action
    created: bool = Field(description="false when an action with this key already existed")


class ActionsListParams(Params):
    status: list[str] | None = Field(default=None, description="statuses to include (default: all)")
    limit: int = Field(default=200, ge=1, le=5000)
    newest_first: bool = False
    trace_id: str | None = None


class ActionsListResult(BaseModel):
    actions: list[Action]


class ActionIdParams(Params):
    id: str = Field(min_length=4, max_length=64, description="an action id or a unique prefix of one")


class DecideParams(Params):
    id: str = Field(min_length=4, max_length=64, description="an action id or a unique prefix of one")
    reason: str | None = Field(default=None, max_length=2000)
    via: Literal["cli", "tui", "notification", "script"] = "cli"
    payload: dict[str, Any] | None = Field(default=None, description="approve: the edited payload to approve instead")


class SnoozeParams(Params):
    id: str = Field(min_length=4, max_length=64, description="an action id or a unique prefix of one")
    until: str = Field(description="UTC ISO-8601, or what a person types: 2h, tomorrow 9:00, monday")
    via: Literal["cli", "tui", "notification", "script"] = "cli"


class ActionResult(BaseModel):
    action: Action


class PolicyExplainParams(Params):
    kind: str = Field(min_length=1, max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict)
    proposer: Proposer = Field(default_factory=Proposer)
    confidence: float | None = Field(default=None, ge=0, le=1)
    at: str | None = Field(default=None, description="decide as if at this time (ISO-8601); default now")


class PolicyExplainResult(BaseModel):
    kind: str
    payload: dict[str, Any] = Field(description="the payload as prepared (with pinned fields)")
    preview: Preview
    decision: Decision
    policy_path: str | None


class PauseParams(Params):
    until: str | None = Field(default=None, description="UTC ISO-8601 or 2h, tomorrow, monday 9:00; default: until resumed")
    reason: str = Field(default="", max_length=500)


class PauseResult(BaseModel):
    pause: PauseState | None
    expired: int = Field(default=0, description="resume: proposals that went stale while paused and expired")


class AgentInfo(BaseModel):
    name: str
    role: str
    reads: list[str]
    proposes: list[str]
    trigger: str = Field(description="when it runs, in words: at 06:30 daily, every 10m, on capture.added")
    enabled: bool
    next_run: str | None = None
    last_run: AgentRun | None = None


class AgentsListResult(BaseModel):
    agents: list[AgentInfo]
    broken: dict[str, str] = Field(default_factory=dict, description="agents that failed to load, and why")
    llm: str = Field(default="", description="'available', or why the LLM is unavailable")


class AgentRunParams(Params):
    name: str = Field(min_length=1, max_length=64)


class AgentsHistoryParams(Params):
    agent: str | None = None
    limit: int = Field(default=50, ge=1, le=5000)
    trace_id: str | None = None


class AgentsHistoryResult(BaseModel):
    runs: list[AgentRun]


class ArtifactsParams(Params):
    kind: str | None = Field(default=None, description="day_plan, weekly_review, triage_suggestion, digest, ...")
    agent: str | None = None
    key: str | None = Field(default=None, description="e.g. a date for day plans, a capture id for suggestions")
    limit: int = Field(default=20, ge=1, le=1000)


class ArtifactsResult(BaseModel):
    artifacts: list[Artifact]


class LogParams(Params):
    trace_id: str | None = None
    subject: str | None = Field(default=None, description="an action, capture or record id")
    verb: str | None = Field(default=None, description="a verb or a prefix ending in '*': action.*")
    problems: bool = Field(default=False, description="only failures, denials and expiries, and agent runs that failed or stopped")
    before_seq: int | None = Field(default=None, description="page backwards from here")
    limit: int = Field(default=200, ge=1, le=5000)


class LogResult(BaseModel):
    events: list[AuditEvent] = Field(description="newest first (oldest first when following one trace)")


class ReviewStepParams(Params):
    step: Step = Field(description="the step these decisions belong to")
    decisions: dict[str, ReviewDecision] = Field(default_factory=dict, max_length=500,
                                           description="item key -> what was decided (merged into the day's record)")
    go_to: Step | None = Field(default=None, description="where the review stands now (default: the step after `step`; "
                                                         "`done` only through review.finish)")


class ReviewStepResult(BaseModel):
    record: ReviewRecord
    problems: list[str] = Field(default_factory=list, description="decisions that could not be carried out, in words")


class ReviewFinishParams(Params):
    top: list[str] | None = Field(default=None, max_length=3, description="candidate ids, best first (default: the planner's)")
    block: bool = Field(default=False, description="also propose a focus block for the first of them in today's first free slot")


class ReviewFinishResult(BaseModel):
    record: ReviewRecord
    plan: DayPlan
    path: str | None = Field(description="the day's markdown file, rewritten with the chosen top three")
    block: Action | None = Field(default=None, description="the calendar.create_event proposed, with its status")
    summary: str


class WeeklyStatus(BaseModel):
    week: str = Field(description="the ISO week under review (the reflection's: on Sunday this week)")
    status: Literal["none", "open", "done"] = Field(description="none: that week's weekly review was not started")
    step: WeeklyStep | None = Field(default=None, description="where an unfinished weekly review stopped")
    finished_at: str | None = None


class ReviewStatusResult(BaseModel):
    date: str = Field(description="today, in the configured zone")
    status: Literal["none", "open", "done"] = Field(description="none: today's review was not started")
    step: Step | None = Field(default=None, description="where an unfinished review stopped")
    started_at: str | None = None
    finished_at: str | None = None
    last_done: str | None = Field(default=None, description="the date of the last finished review (today's included)")
    days_since_last: int | None = Field(default=None, description="days since the last finished review (None: never)")
    weekly: WeeklyStatus | None = Field(default=None, description="the weekly review of the week under review")


class WeeklyAnswerIn(Params):
    text: str = Field(default="", max_length=2000, description="the answer's words; empty: the question is skipped")
    kind: AnswerKind = Field(default="reflection", description="the memory record it becomes: reflection or decision")


class WeeklyStepParams(Params):
    step: WeeklyStep = Field(description="the step these answers or decisions belong to")
    answers: dict[str, WeeklyAnswerIn] = Field(default_factory=dict, max_length=20,
                                               description="question id (q1, q2, …) -> the answer (Questions step)")
    decisions: dict[str, ProposalDecision] = Field(default_factory=dict, max_length=500,
                                                   description="action:<id> -> what was decided (Proposals step)")
    go_to: WeeklyStep | None = Field(default=None, description="where the review stands now (default: the next step; "
                                                               "`done` only through review.weekly_finish)")


class WeeklyStepResult(BaseModel):
    record: WeeklyRecord
    problems: list[str] = Field(default_factory=list, description="answers that could not be recorded, in words")


class WeeklyFinishParams(Params):
    decisions: dict[str, ProposalDecision] = Field(default_factory=dict, max_length=500,
                                                   description="action:<id> -> what was decided in the Proposals step")


class WeeklyFinishResult(BaseModel):
    record: WeeklyRecord
    lines: list[str] = Field(description="what was recorded, one line each")
    summary: str
