"""The daemon's RPC surface: an explicit allowlist of methods, each with typed params and result.

Shared by the daemon (which validates every request against these models) and the
clients. Only methods listed in METHODS are callable; anything else is
METHOD_NOT_FOUND. Every connection starts with `hello`, which carries the
protocol version.

Importing this module is light: what a connection needs up front (the envelope,
`hello`, `status`) is in `protocol_base`; every other method names its models, which
come from `protocol_models` (agents, actions, memory...) the first time one is used.
`from oxymus.client.protocol import X` still works for every model, loading them then.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from oxymus import PROTOCOL_VERSION  # noqa: F401 - the protocol's version, read here by the docs
from oxymus.client.protocol_base import (  # noqa: F401 - the protocol's names
    ErrorObject, Event, HelloParams, HelloResult, NoParams, NotificationsListParams, NotificationsSeenParams, Params, Reply,
    Request, ShutdownResult, StatusLineResult, StatusResult, SubscribeParams, SubscribeResult,
)


class Method:
    """A declared method. `params` and `result` are models, or the dotted name of one in
    `protocol_models`, imported and kept on first use."""

    __slots__ = ("name", "summary", "_params", "_result")

    def __init__(self, name: str, summary: str, params: type[BaseModel] | str, result: type[BaseModel] | str):
        self.name = name
        self.summary = summary
        self._params = params
        self._result = result

    @property
    def params(self) -> type[BaseModel]:
        if isinstance(self._params, str):
            self._params = _model(self._params)
        return self._params

    @property
    def result(self) -> type[BaseModel]:
        if isinstance(self._result, str):
            self._result = _model(self._result)
        return self._result

    def __repr__(self) -> str:
        return f"Method({self.name!r})"


def _model(dotted: str) -> Any:
    from oxymus.client import protocol_models

    found: Any = protocol_models
    for part in dotted.split("."):
        found = getattr(found, part)
    return found


def __getattr__(name: str) -> Any:
    # Every model the protocol used to define or re-export here, loaded on first use.
    if name.startswith("__"):
        raise AttributeError(name)
    from oxymus.client import protocol_models

    try:
        return getattr(protocol_models, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method('hello', "handshake; must be the first call on a connection", HelloParams, HelloResult),
        Method('status', "pid, uptime, socket, database and schema version", NoParams, StatusResult),
        Method('status.line', "what a status bar shows: approvals waiting, open captures, problems (the queries `oxymus status --line` runs read-only when the daemon is down)", NoParams, StatusLineResult),
        Method('capture.add', "store a capture durably; idempotent on a client-chosen id", 'CaptureAddParams', 'CaptureAddResult'),
        Method('inbox.list', "captures by status, newest first", 'InboxListParams', 'InboxListResult'),
        Method('today.get', "the day: events, deadlines, bills, repos and PRs needing attention, source freshness", 'TodayParams', 'Today'),
        Method('today.plan', "the day plan's top three and the day's free slots now (the planner's day_plan artifact for the date)", 'TodayParams', 'TodayPlanResult'),
        Method('state.refresh', "poll sources now and wait for the result", 'RefreshParams', 'SourcesResult'),
        Method('state.sources', "every configured source's health and freshness", NoParams, 'SourcesResult'),
        Method('memory.search', "full-text search of live memory, ranked by relevance, tier and recency", 'MemorySearchParams', 'MemorySearchResult'),
        Method('memory.add', "add a record (optionally from a capture, which it links and triages)", 'MemoryAddParams', 'mem.MemoryRecord'),
        Method('memory.get', "one record with its capture links and whole version history", 'MemoryIdParams', 'MemoryGetResult'),
        Method('memory.edit', "change a record; the previous text stays in its history", 'MemoryEditParams', 'mem.MemoryRecord'),
        Method('memory.forget', "archive a record to cold and out of retrieval (purge: delete it for real)", 'MemoryForgetParams', 'MemoryForgetResult'),
        Method('memory.budget', "how full hot memory is against its word budget", NoParams, 'mem.BudgetReport'),
        Method('memory.maintain', "age records by the tier rules and write monthly warm summaries (also run by the daemon every 6 hours)", NoParams, 'mem.MaintenanceReport'),
        Method('memory.export', "every live record with its links (the CLI writes the Markdown vault)", NoParams, 'MemoryRecordsResult'),
        Method('memory.import', "upsert records read from a Markdown vault, matched by id", 'MemoryImportParams', 'MemoryImportResult'),
        Method('inbox.triage', "turn a capture into a memory record or a plan next action (linked both ways), or archive it", 'InboxTriageParams', 'InboxTriageResult'),
        Method('inbox.accept', "accept the triage agent's suggestion for a capture: a next action, a memory record, a calendar event or a bill (proposed as you), or archive", 'InboxAcceptParams', 'InboxAcceptResult'),
        Method('plans.get', "PLANS.md parsed: sections, goals, next actions, publishing order, unparsed parts", NoParams, 'PlansResult'),
        Method('ui.set_theme', "save the TUI's colour theme as [ui] theme in config.toml (only that key changes)", 'ThemeSetParams', 'ThemeSetResult'),
        Method('plans.edit', "a minimal patch to PLANS.md (check an action, add one, set a proposal's status); refused if the file changed", 'PlansEditParams', 'PlansEditResult'),
        Method('actions.propose', "propose an action; the policy plane allows, queues it for approval or denies it", 'ProposeParams', 'ProposeResult'),
        Method('actions.list', "actions by status, oldest first (the approval queue: status awaiting_approval)", 'ActionsListParams', 'ActionsListResult'),
        Method('actions.get', "one action with its approvals, receipts and the audit history of its trace", 'ActionIdParams', 'ActionDetail'),
        Method('actions.approve', "approve a waiting action (optionally with an edited payload); durable before the reply", 'DecideParams', 'ActionResult'),
        Method('actions.deny', "deny a waiting action, with an optional reason", 'DecideParams', 'ActionResult'),
        Method('actions.snooze', "put a waiting action aside until a time", 'SnoozeParams', 'ActionResult'),
        Method('actions.undo', "take back an approval or denial within the grace period, before execution starts", 'DecideParams', 'ActionResult'),
        Method('actions.cancel', "cancel an approved action the executor has not taken yet (one held until its not_before)", 'DecideParams', 'ActionResult'),
        Method('policy.explain', "dry-run the policy decision for a kind and payload, through the same code as a live proposal", 'PolicyExplainParams', 'PolicyExplainResult'),
        Method('pause.set', "pause automation ('not today'): nothing executes until resumed or the time given", 'PauseParams', 'PauseResult'),
        Method('pause.clear', "resume automation; proposals that went stale while paused expire, summarised once", NoParams, 'PauseResult'),
        Method('log.query', "the audit log: newest first, or one trace from trigger to receipt", 'LogParams', 'LogResult'),
        Method('agents.list', "every agent: role, bounds, trigger, last and next run; and whether the LLM is available", NoParams, 'AgentsListResult'),
        Method('agents.run', "run an agent now and wait for its run record", 'AgentRunParams', 'AgentRun'),
        Method('agents.history', "agent runs, newest first: trigger, inputs, outputs, LLM calls, outcome", 'AgentsHistoryParams', 'AgentsHistoryResult'),
        Method('artifacts.list', "what agents made (day plans, reviews, suggestions), newest first", 'ArtifactsParams', 'ArtifactsResult'),
        Method('review.get', "today's morning review: where it stopped, and each step's data (yesterday, calendar, inbox, approvals, candidates)", NoParams, 'ReviewView'),
        Method('review.step', "record a morning review step's decisions and move to another step (carry, drop or check yesterday's items)", 'ReviewStepParams', 'ReviewStepResult'),
        Method('review.finish', "finish today's review: write the day plan with the chosen top three, optionally propose a focus block", 'ReviewFinishParams', 'ReviewFinishResult'),
        Method('review.status', "is today's review done; where an unfinished one stopped; days since the last one; the weekly review's state", NoParams, 'ReviewStatusResult'),
        Method('review.weekly_get', "the week's weekly review: where it stopped, the reflection's review of the week (made now if missing), its questions and waiting proposals", NoParams, 'WeeklyView'),
        Method('review.weekly_step', "record a weekly review step (answers become memory records through memory.update actions) and move on", 'WeeklyStepParams', 'WeeklyStepResult'),
        Method('review.weekly_finish', "record the week's weekly review as done (with the Proposals step's decisions), and say what was recorded", 'WeeklyFinishParams', 'WeeklyFinishResult'),
        Method('notifications.list', "notifications that reached neither the desktop nor a TUI (missed, not yet seen), or all of them", NotificationsListParams, 'NotificationsListResult'),
        Method('notifications.seen', "mark missed notifications seen (all, or the ids given): they leave the missed list", NotificationsSeenParams, 'NotificationsSeenResult'),
        Method('subscribe', "stream change events to this connection as `event` notifications", SubscribeParams, SubscribeResult),
        Method('daemon.shutdown', "stop the daemon gracefully", NoParams, ShutdownResult),
        Method('records.kinds', "the record kinds: fields, schema version, status pipeline (and plugins that failed to load)", 'records_proto.RecordKindsParams', 'records_proto.RecordKindsResult'),
        Method('records.list', "canonical records by kind and status, newest change first, each with its schema problem if any", 'records_proto.RecordsListParams', 'records_proto.RecordsListResult'),
        Method('records.get', "one record with its history, its links both ways (labelled), and the statuses it can move on to", 'records_proto.RecordIdParams', 'records_proto.RecordDetail'),
        Method('records.add', "add a canonical record (its fields validated against its kind)", 'records_proto.RecordAddParams', 'records_proto.Record'),
        Method('records.edit', "a person's edit of a record: fields, notes, or its status (a new version; record.status says so)", 'records_proto.RecordEditParams', 'records_proto.Record'),
        Method('records.link', "link a record to another, or to a capture, action, run, calendar UID, repo, file or email Message-ID", 'records_proto.RecordLinkParams', 'records_proto.RecordDetail'),
        Method('metrics.get', "compounding metrics per month: manual handoffs per finished item, time to resolution, error rates, "
               "agents' proposals accepted unchanged, edited or denied", 'metrics_proto.MetricsParams', 'metrics_proto.MetricsResult'),
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
    "record.changed": "a canonical record was added, edited or linked, or got a brief (data: id, kind, verb)",
    "record.status": "a canonical record moved on its pipeline (data: id, kind, old, new, actor)",
}
