"""The daemon's RPC surface: an explicit allowlist of methods, each with typed params and result.

Shared by the daemon (which validates every request against these models) and the
clients. Only methods listed in METHODS are callable; anything else is
METHOD_NOT_FOUND. Every connection starts with `hello`, which carries the
protocol version.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from oxymus import PROTOCOL_VERSION
from oxymus.actions.effects import Preview
from oxymus.actions.model import Action, ActionDetail, Decision, InputRef, PauseState, Proposer
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
from oxymus.records import protocol as records_proto
from oxymus.settings.theme_action import ThemePayload
from oxymus.today.view import Today


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoParams(Params):
    pass


class NotificationsListParams(Params):
    all: bool = Field(default=False, description="every notification, newest first (default: the missed ones not yet seen, oldest first)")
    limit: int = Field(default=200, ge=1, le=1000)


class NotificationsSeenParams(Params):
    ids: list[str] = Field(default_factory=list, description="these missed notifications; empty: all of them")


class Request(BaseModel):
    """The envelope of every call."""

    model_config = ConfigDict(extra="forbid")
    jsonrpc: Literal["2.0"]
    method: str
    params: dict[str, Any] | None = None
    id: int | str | None = None


class ErrorObject(BaseModel):
    code: int
    message: str
    data: Any = None


class Reply(BaseModel):
    """The one reply envelope: exactly one of result or error."""

    jsonrpc: Literal["2.0"]
    id: int | str | None
    result: Any = None
    error: ErrorObject | None = None


class Event(BaseModel):
    """A change pushed to subscribers, as the params of an `event` notification."""

    topic: str = Field(description="e.g. capture.added")
    ts: str
    data: dict[str, Any] = Field(default_factory=dict)


class HelloParams(Params):
    protocol: int = Field(description="the client's protocol version; must equal the daemon's")
    client: str = Field(default="unknown", max_length=64, description="a name for logs, e.g. oxymus-tui")


class HelloResult(BaseModel):
    protocol: int = PROTOCOL_VERSION
    server: str = "oxymus"
    version: str
    pid: int


class StatusLineResult(BaseModel):
    approvals: int = Field(description="actions waiting for the person's decision (snoozed ones included)")
    inbox: int = Field(description="open captures in the inbox")
    problems: list[str] = Field(
        default_factory=list,
        description="each problem in words: a failing source, an agent whose latest run failed or stopped, "
        "a kind of action whose latest finished one failed",
    )


class StatusResult(BaseModel):
    pid: int
    version: str
    protocol: int
    started_at: str
    uptime_s: float
    socket: str
    database: str
    schema_version: int
    clients: int
    subscribers: int
    sources: list[SourceView] = Field(default_factory=list, description="per-source health")
    approvals_waiting: int = Field(default=0, description="actions waiting for the person's decision (snoozed ones included)")
    approvals_snoozed: int = Field(default=0, description="of those, how many are snoozed (they come back by themselves)")
    pause: PauseState | None = Field(default=None, description="set while automation is paused ('not today')")
    policy_error: str | None = Field(default=None, description="why policy.toml cannot be used (every action then needs approval)")
    notifications: str | None = Field(default=None, description="why desktop notifications cannot be shown, if they cannot")
    llm: str | None = Field(default=None, description="'available', or why agents run without the LLM (as last checked)")
    storage_error: str | None = Field(
        default=None, description="why the last write failed (a full disk, a damaged file), until a write succeeds again"
    )


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


class SubscribeParams(Params):
    topics: list[str] = Field(default_factory=lambda: ["*"], description="topic names or prefixes ending in '*'")


class SubscribeResult(BaseModel):
    topics: list[str]


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
    hits: list[mem.MemoryHit]


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


class ShutdownResult(BaseModel):
    stopping: bool = True


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


class Method(BaseModel):
    name: str
    summary: str
    params: type[BaseModel]
    result: type[BaseModel]


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method(name="hello", summary="handshake; must be the first call on a connection", params=HelloParams, result=HelloResult),
        Method(name="status", summary="pid, uptime, socket, database and schema version", params=NoParams, result=StatusResult),
        Method(name="status.line", summary="what a status bar shows: approvals waiting, open captures, problems (the queries `oxymus status --line` runs read-only when the daemon is down)", params=NoParams, result=StatusLineResult),
        Method(name="capture.add", summary="store a capture durably; idempotent on a client-chosen id", params=CaptureAddParams, result=CaptureAddResult),
        Method(name="inbox.list", summary="captures by status, newest first", params=InboxListParams, result=InboxListResult),
        Method(name="today.get", summary="the day: events, deadlines, bills, repos and PRs needing attention, source freshness", params=TodayParams, result=Today),
        Method(name="today.plan", summary="the day plan's top three and the day's free slots now (the planner's day_plan artifact for the date)", params=TodayParams, result=TodayPlanResult),
        Method(name="state.refresh", summary="poll sources now and wait for the result", params=RefreshParams, result=SourcesResult),
        Method(name="state.sources", summary="every configured source's health and freshness", params=NoParams, result=SourcesResult),
        Method(name="memory.search", summary="full-text search of live memory, ranked by relevance, tier and recency", params=MemorySearchParams, result=MemorySearchResult),
        Method(name="memory.add", summary="add a record (optionally from a capture, which it links and triages)", params=MemoryAddParams, result=mem.MemoryRecord),
        Method(name="memory.get", summary="one record with its capture links and whole version history", params=MemoryIdParams, result=MemoryGetResult),
        Method(name="memory.edit", summary="change a record; the previous text stays in its history", params=MemoryEditParams, result=mem.MemoryRecord),
        Method(name="memory.forget", summary="archive a record to cold and out of retrieval (purge: delete it for real)", params=MemoryForgetParams, result=MemoryForgetResult),
        Method(name="memory.budget", summary="how full hot memory is against its word budget", params=NoParams, result=mem.BudgetReport),
        Method(name="memory.maintain", summary="age records by the tier rules and write monthly warm summaries (also run by the daemon every 6 hours)", params=NoParams, result=mem.MaintenanceReport),
        Method(name="memory.export", summary="every live record with its links (the CLI writes the Markdown vault)", params=NoParams, result=MemoryRecordsResult),
        Method(name="memory.import", summary="upsert records read from a Markdown vault, matched by id", params=MemoryImportParams, result=MemoryImportResult),
        Method(name="inbox.triage", summary="turn a capture into a memory record or a plan next action (linked both ways), or archive it", params=InboxTriageParams, result=InboxTriageResult),
        Method(name="inbox.accept", summary="accept the triage agent's suggestion for a capture: a next action, a memory record, a calendar event or a bill (proposed as you), or archive", params=InboxAcceptParams, result=InboxAcceptResult),
        Method(name="plans.get", summary="PLANS.md parsed: sections, goals, next actions, publishing order, unparsed parts", params=NoParams, result=PlansResult),
        Method(name="ui.set_theme", summary="save the TUI's colour theme as [ui] theme in config.toml (only that key changes)", params=ThemeSetParams, result=ThemeSetResult),
        Method(name="plans.edit", summary="a minimal patch to PLANS.md (check an action, add one, set a proposal's status); refused if the file changed", params=PlansEditParams, result=PlansEditResult),
        Method(name="actions.propose", summary="propose an action; the policy plane allows, queues it for approval or denies it", params=ProposeParams, result=ProposeResult),
        Method(name="actions.list", summary="actions by status, oldest first (the approval queue: status awaiting_approval)", params=ActionsListParams, result=ActionsListResult),
        Method(name="actions.get", summary="one action with its approvals, receipts and the audit history of its trace", params=ActionIdParams, result=ActionDetail),
        Method(name="actions.approve", summary="approve a waiting action (optionally with an edited payload); durable before the reply", params=DecideParams, result=ActionResult),
        Method(name="actions.deny", summary="deny a waiting action, with an optional reason", params=DecideParams, result=ActionResult),
        Method(name="actions.snooze", summary="put a waiting action aside until a time", params=SnoozeParams, result=ActionResult),
        Method(name="actions.undo", summary="take back an approval or denial within the grace period, before execution starts", params=DecideParams, result=ActionResult),
        Method(name="actions.cancel", summary="cancel an approved action the executor has not taken yet (one held until its not_before)", params=DecideParams, result=ActionResult),
        Method(name="policy.explain", summary="dry-run the policy decision for a kind and payload, through the same code as a live proposal", params=PolicyExplainParams, result=PolicyExplainResult),
        Method(name="pause.set", summary="pause automation ('not today'): nothing executes until resumed or the time given", params=PauseParams, result=PauseResult),
        Method(name="pause.clear", summary="resume automation; proposals that went stale while paused expire, summarised once", params=NoParams, result=PauseResult),
        Method(name="log.query", summary="the audit log: newest first, or one trace from trigger to receipt", params=LogParams, result=LogResult),
        Method(name="agents.list", summary="every agent: role, bounds, trigger, last and next run; and whether the LLM is available", params=NoParams, result=AgentsListResult),
        Method(name="agents.run", summary="run an agent now and wait for its run record", params=AgentRunParams, result=AgentRun),
        Method(name="agents.history", summary="agent runs, newest first: trigger, inputs, outputs, LLM calls, outcome", params=AgentsHistoryParams, result=AgentsHistoryResult),
        Method(name="artifacts.list", summary="what agents made (day plans, reviews, suggestions), newest first", params=ArtifactsParams, result=ArtifactsResult),
        Method(name="review.get", summary="today's morning review: where it stopped, and each step's data (yesterday, calendar, inbox, approvals, candidates)", params=NoParams, result=ReviewView),
        Method(name="review.step", summary="record a morning review step's decisions and move to another step (carry, drop or check yesterday's items)", params=ReviewStepParams, result=ReviewStepResult),
        Method(name="review.finish", summary="finish today's review: write the day plan with the chosen top three, optionally propose a focus block", params=ReviewFinishParams, result=ReviewFinishResult),
        Method(name="review.status", summary="is today's review done; where an unfinished one stopped; days since the last one; the weekly review's state", params=NoParams, result=ReviewStatusResult),
        Method(name="review.weekly_get", summary="the week's weekly review: where it stopped, the reflection's review of the week (made now if missing), its questions and waiting proposals", params=NoParams, result=WeeklyView),
        Method(name="review.weekly_step", summary="record a weekly review step (answers become memory records through memory.update actions) and move on", params=WeeklyStepParams, result=WeeklyStepResult),
        Method(name="review.weekly_finish", summary="record the week's weekly review as done (with the Proposals step's decisions), and say what was recorded", params=WeeklyFinishParams, result=WeeklyFinishResult),
        Method(name="notifications.list", summary="notifications that reached neither the desktop nor a TUI (missed, not yet seen), or all of them", params=NotificationsListParams, result=NotificationsListResult),
        Method(name="notifications.seen", summary="mark missed notifications seen (all, or the ids given): they leave the missed list", params=NotificationsSeenParams, result=NotificationsSeenResult),
        Method(name="subscribe", summary="stream change events to this connection as `event` notifications", params=SubscribeParams, result=SubscribeResult),
        Method(name="daemon.shutdown", summary="stop the daemon gracefully", params=NoParams, result=ShutdownResult),
        *(Method(name=n, summary=s, params=p, result=r) for n, s, p, r in records_proto.METHODS),
    ]
}

EVENT_TOPICS: dict[str, str] = {
    "capture.added": "a capture was stored (data: the capture)",
    "state.changed": "a source's items changed (data: source, added, changed, removed)",
    "source.health": "a source was polled (data: its SourceView: status, age, last error, next attempt)",
    "memory.changed": "a memory record was added, edited, forgotten or purged (data: id, verb)",
    "capture.triaged": "a capture left the inbox (data: id, to, target)",
    "plans.changed": "PLANS.md was read anew (edited by you or by Oxymus; data: path, sha256, error)",
    "action.changed": "an action changed status (data: id, kind, status, from, summary)",
    "approvals.changed": "the number of actions waiting for a decision changed (data: waiting, snoozed: how many of them are snoozed)",
    "pause.changed": "automation was paused or resumed (data: pause, or null)",
    "agent.progress": "an agent's LLM answer is streaming, at most four a second per run, never stored "
                      "(data: id, agent, what, chars, pieces, tail: its last 80 characters on one line)",
    "agent.finished": "an agent run ended (data: id, agent, outcome, summary, error, trace_id, llm: 'available' or why not)",
    "artifact.saved": "an agent saved an artifact (data: id, agent, kind, key, title)",
    "notification.posted": "a notification was shown, or tried on the desktop (data: id, kind, title, body, urgency, decides, "
                           "desktop); a client that subscribes to it by name counts as one that shows it (the TUI: a toast and the bell)",
    "notifications.changed": "the number of missed notifications not yet seen changed (data: missed)",
    "daemon.stopping": "the daemon is shutting down; clients should reconnect later",
    **records_proto.EVENT_TOPICS,
}
