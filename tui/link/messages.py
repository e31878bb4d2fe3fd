"""What the connection tells screens, always in the past tense.

`DaemonConnection` posts a fresh instance of these to every screen that listens
(see `DaemonConnection.listen`). They do not bubble: each screen gets its own.
Screens hold no sockets and do no IO; they render what these messages carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # annotations only: posting a message imports no model (the screens that read them do)
    from oxymus.actions.model import Action, ActionDetail, PauseState
    from oxymus.agents.base import AgentRun
    from oxymus.client.protocol import PlansEditResult, PlansResult, ThemeSetResult, TodayPlanResult
    from oxymus.memory import records as mem
    from oxymus.models import AuditEvent, Capture
    from oxymus.today.view import Today


class ConnectionMessage(Message, bubble=False):
    # Textual sets `bubble` again for every subclass (True unless the class says otherwise), so
    # the default is passed down here: a message posted to a screen stays there (the app listens
    # for itself, and would otherwise hear every screen's copy too).
    def __init_subclass__(cls, bubble: bool | None = False, **kwargs) -> None:
        super().__init_subclass__(bubble=bubble, **kwargs)


class Connecting(ConnectionMessage):
    """An attempt to reach the daemon began (starting it first when `starting`)."""

    def __init__(self, socket: str, starting: bool = False) -> None:
        super().__init__()
        self.socket = socket
        self.starting = starting


class Connected(ConnectionMessage):
    """The handshake succeeded and events are subscribed."""

    def __init__(self, socket: str) -> None:
        super().__init__()
        self.socket = socket


class Disconnected(ConnectionMessage):
    """The daemon could not be reached (or went away); the next try is `retry_in` seconds away."""

    def __init__(self, socket: str, reason: str, retry_in: float) -> None:
        super().__init__()
        self.socket = socket
        self.reason = reason
        self.retry_in = retry_in


class InboxLoaded(ConnectionMessage):
    """The open captures, newest first; replaces whatever was shown."""

    def __init__(self, captures: list[Capture]) -> None:
        super().__init__()
        self.captures = captures


class InboxCounted(ConnectionMessage):
    """How many captures are open in all (the inbox holds at most a page of them); None: the daemon did not say."""

    def __init__(self, total: int | None) -> None:
        super().__init__()
        self.total = total


class InboxPaged(ConnectionMessage):
    """A page of open captures the inbox asked for as it scrolled (`inbox.list` with a seq cursor), newest first.

    `direction` is what was asked: "down" (older), "up" (newer), "end" (the oldest page) or "top" (the newest);
    `newer` how many open captures are newer than its first; `total` how many are open in all; `error` why
    there is no page (then `captures` is empty)."""

    def __init__(self, direction: str, captures: list[Capture], newer: int, total: int | None, suggestions: dict, limit: int,
                 error: str | None = None) -> None:
        super().__init__()
        self.error = error
        self.direction = direction
        self.captures = captures
        self.newer = newer
        self.total = total
        self.suggestions = suggestions
        self.limit = limit


class CaptureAdded(ConnectionMessage):
    """A capture not seen before was stored (by anyone)."""

    def __init__(self, capture: Capture) -> None:
        super().__init__()
        self.capture = capture


class CaptureQueued(ConnectionMessage):
    """The user submitted a capture; it is on its way (kept until the daemon stores it)."""

    def __init__(self, capture_id: str, text: str) -> None:
        super().__init__()
        self.capture_id = capture_id
        self.text = text


class CaptureFailed(ConnectionMessage):
    """The daemon refused a capture (for example: too long); it will not be retried."""

    def __init__(self, capture_id: str, text: str, reason: str) -> None:
        super().__init__()
        self.capture_id = capture_id
        self.text = text
        self.reason = reason


class CaptureNotStored(ConnectionMessage):
    """A capture could not be written even without the daemon (e.g. the disk is full); it is kept and tried again."""

    def __init__(self, capture_id: str, reason: str) -> None:
        super().__init__()
        self.capture_id = capture_id
        self.reason = reason


class TodayLoaded(ConnectionMessage):
    """The day as the daemon computed it; replaces whatever was shown.

    `received_at` is the wall-clock time (epoch seconds) the reply arrived: a source's
    age now is its `age_s` plus the seconds elapsed since then, so ages tick without
    asking the daemon again.
    """

    def __init__(self, today: Today, received_at: float) -> None:
        super().__init__()
        self.today = today
        self.received_at = received_at


class TodayFailed(ConnectionMessage):
    """The daemon could not give the day (for example: a daemon too old to know `today.get`)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class TodayPlanLoaded(ConnectionMessage):
    """The day plan for the day shown (or why there is none) and the free slots now (`today.plan`)."""

    def __init__(self, result: TodayPlanResult) -> None:
        super().__init__()
        self.result = result


class TodayPlanFailed(ConnectionMessage):
    """The daemon could not give the day plan (for example: a daemon too old to know `today.plan`)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class BillProposed(ConnectionMessage):
    """`bills.mark_paid` was proposed for a bill shown on Today; `action` carries the policy's decision and status."""

    def __init__(self, bill: str, due: str, action: Action) -> None:
        super().__init__()
        self.bill = bill
        self.due = due
        self.action = action


class BillNotProposed(ConnectionMessage):
    """Proposing `bills.mark_paid` failed: the daemon refused it or could not be asked; nothing was recorded."""

    def __init__(self, bill: str, due: str, reason: str) -> None:
        super().__init__()
        self.bill = bill
        self.due = due
        self.reason = reason


class PlannerRan(ConnectionMessage):
    """The planner was run by hand from Today; `run` says how it ended."""

    def __init__(self, run: AgentRun) -> None:
        super().__init__()
        self.run = run


class PlannerFailed(ConnectionMessage):
    """Running the planner could not be asked, or the daemon refused."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class RefreshStarted(ConnectionMessage):
    """The user asked for every source to be polled now; the daemon is polling."""


class RefreshFinished(ConnectionMessage):
    """The poll asked for ended (and the day was reloaded); `error` says why it could not run, if so."""

    def __init__(self, error: str | None = None) -> None:
        super().__init__()
        self.error = error


class CaptureTriaged(ConnectionMessage):
    """A capture left the inbox: it became a memory record (`to="memory"`, `target` its id) or was archived.

    `mine` is true for the answer to this TUI's own request; an event (this TUI's own
    request or another client's) arrives with `mine` false, and only for a capture still shown.
    """

    def __init__(self, capture_id: str, to: str, target: str | None, mine: bool = False) -> None:
        super().__init__()
        self.capture_id = capture_id
        self.to = to
        self.target = target
        self.mine = mine


class TriageFailed(ConnectionMessage):
    """The daemon refused to triage a capture (for example: another client already did), or could not be asked."""

    def __init__(self, capture_id: str, reason: str) -> None:
        super().__init__()
        self.capture_id = capture_id
        self.reason = reason


class MemorySearched(ConnectionMessage):
    """The answer to the newest memory search (older answers are dropped); replaces the results shown.

    `ticket` numbers the request; `query`, `kind` and `tier` are what was asked.
    """

    def __init__(self, ticket: int, query: str, kind: str | None, tier: str | None, hits: list[mem.SearchHit]) -> None:
        super().__init__()
        self.ticket = ticket
        self.query = query
        self.kind = kind
        self.tier = tier
        self.hits = hits


class MemoryLoaded(ConnectionMessage):
    """One record with its whole version history (oldest first), as asked for by `load_memory`."""

    def __init__(self, record: mem.MemoryRecord, history: list[mem.MemoryVersion]) -> None:
        super().__init__()
        self.record = record
        self.history = history


class MemoryEdited(ConnectionMessage):
    """An edit this TUI asked for was saved; `record` is the new version."""

    def __init__(self, record: mem.MemoryRecord) -> None:
        super().__init__()
        self.record = record


class MemoryForgotten(ConnectionMessage):
    """A record this TUI asked to forget was archived (out of search; its history is kept)."""

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id


class MemoryChanged(ConnectionMessage):
    """A record was added, edited, forgotten, purged or imported, by anyone (the `memory.changed` event).

    `record_id` is None for a bulk import.
    """

    def __init__(self, record_id: str | None, verb: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.verb = verb


class MemoryFailed(ConnectionMessage):
    """A memory request could not be done: `action` is search, get, edit or forget; `reason` says why."""

    def __init__(self, action: str, record_id: str | None, reason: str) -> None:
        super().__init__()
        self.action = action
        self.record_id = record_id
        self.reason = reason


class BudgetLoaded(ConnectionMessage):
    """How full hot memory is (reloaded after every `memory.changed`)."""

    def __init__(self, report: mem.BudgetReport) -> None:
        super().__init__()
        self.report = report


class PlansLoaded(ConnectionMessage):
    """PLANS.md as the daemon last read it (`plans.get`); replaces whatever was shown.

    Sent after connecting, after every `plans.changed` event (an edit here, by the CLI,
    or in the user's editor) and after an edit this TUI asked for. Only the answer to
    the newest request is posted.
    """

    def __init__(self, result: PlansResult) -> None:
        super().__init__()
        self.result = result


class PlansEdited(ConnectionMessage):
    """An edit this TUI asked for (`op`: set_done, add_action, ...) was written; `result` has the diff."""

    def __init__(self, op: str, result: PlansEditResult) -> None:
        super().__init__()
        self.op = op
        self.result = result


class PlansFailed(ConnectionMessage):
    """A plans request could not be done: `action` is "get" or the edit's op; `reason` is the daemon's message.

    A refused edit (for example: the file changed on disk since it was read) wrote nothing;
    the plan is reloaded after it.
    """

    def __init__(self, action: str, reason: str) -> None:
        super().__init__()
        self.action = action
        self.reason = reason


# ---- actions, approvals, the pause and the audit log ---------------------------------


class WaitingCounted(ConnectionMessage):
    """How many actions wait for the person's decision now, and how many more are snoozed (from `status`, then
    `approvals.changed`)."""

    def __init__(self, waiting: int, snoozed: int = 0) -> None:
        super().__init__()
        self.waiting = waiting
        self.snoozed = snoozed


class LlmStatusChanged(ConnectionMessage):
    """Whether agents have the LLM: "available", why not ("LLM unavailable: ..."), or None when not checked yet."""

    def __init__(self, status: str | None) -> None:
        super().__init__()
        self.status = status


@dataclass(frozen=True)
class Drafting:
    """One agent run whose LLM answer is streaming: what it has written so far (`agent.progress`)."""

    run_id: str
    agent: str
    what: str  # "drafting"
    chars: int
    tail: str  # the last characters, on one line

    def line(self) -> str:
        """ "publisher drafting… 1.2k chars" """
        size = f"{self.chars / 1000:.1f}k" if self.chars >= 1000 else str(self.chars)
        return f"{self.agent} {self.what}… {size} chars"


class DraftingChanged(ConnectionMessage):
    """The agent runs whose LLM answer is streaming now, oldest first (empty: none; each goes when its run ends)."""

    def __init__(self, drafting: tuple[Drafting, ...]) -> None:
        super().__init__()
        self.drafting = drafting


class PauseChanged(ConnectionMessage):
    """Automation was paused (`pause` says until when) or resumed (`pause` is None), by anyone."""

    def __init__(self, pause: PauseState | None) -> None:
        super().__init__()
        self.pause = pause


class PauseSet(ConnectionMessage):
    """A pause this TUI asked for is in force."""

    def __init__(self, pause: PauseState) -> None:
        super().__init__()
        self.pause = pause


class Resumed(ConnectionMessage):
    """A resume this TUI asked for was done; `expired` proposals went stale while paused and expired."""

    def __init__(self, expired: int) -> None:
        super().__init__()
        self.expired = expired


class PauseFailed(ConnectionMessage):
    """Pausing or resuming (`verb`: "pause" or "resume") could not be done; `reason` is the daemon's message."""

    def __init__(self, verb: str, reason: str) -> None:
        super().__init__()
        self.verb = verb
        self.reason = reason


class ApprovalsLoaded(ConnectionMessage):
    """The approval queue (waiting and snoozed actions, oldest first); replaces whatever was shown.

    Sent after connecting and after every `approvals.changed` event; only the newest answer is posted.
    """

    def __init__(self, actions: list[Action]) -> None:
        super().__init__()
        self.actions = actions


class ActionLoaded(ConnectionMessage):
    """One action with its approvals, receipts and trace history, as asked for by `load_action`."""

    def __init__(self, detail: ActionDetail) -> None:
        super().__init__()
        self.detail = detail


class ActionFollowed(ConnectionMessage):
    """The newest state of an action a screen follows (decided in Approvals, proposed from Today: until done
    or failed). Every follower gets it; each keeps to the ids it follows."""

    def __init__(self, detail: ActionDetail) -> None:
        super().__init__()
        self.detail = detail

    @property
    def action(self) -> Action:
        return self.detail.action


class ActionLoadFailed(ConnectionMessage):
    """`load_action` could not be answered (for example: no such action)."""

    def __init__(self, action_id: str, reason: str) -> None:
        super().__init__()
        self.action_id = action_id
        self.reason = reason


class DecisionSent(ConnectionMessage):
    """A decision (`verb`: approve, deny, snooze or undo) is on its way; it is not done until `DecisionMade`."""

    def __init__(self, ticket: int, verb: str, action_id: str) -> None:
        super().__init__()
        self.ticket = ticket
        self.verb = verb
        self.action_id = action_id


class DecisionMade(ConnectionMessage):
    """The daemon stored the decision (its reply means it is durable); `action` is as it is now."""

    def __init__(self, ticket: int, verb: str, action: Action, edited: bool = False) -> None:
        super().__init__()
        self.ticket = ticket
        self.verb = verb
        self.action = action
        self.edited = edited


class DecisionFailed(ConnectionMessage):
    """The daemon refused the decision, or could not be asked; nothing changed (or, if the connection
    dropped mid-way, the queue reloaded after reconnecting says what did)."""

    def __init__(self, ticket: int, verb: str, action_id: str, reason: str) -> None:
        super().__init__()
        self.ticket = ticket
        self.verb = verb
        self.action_id = action_id
        self.reason = reason


class ActivityHappened(ConnectionMessage):
    """Something was done that the audit log records (an action changed, a capture, a memory or plan
    edit, the pause); a burst costs one message. Whoever shows the log asks for its newest page."""


class LogLoaded(ConnectionMessage):
    """A page of the audit log, for the request described by `trace_id`, `problems` and `before_seq`.

    Newest first; oldest first when `trace_id` is given. `limit` is what was asked for,
    so fewer events than that means the start of the log was reached.
    """

    def __init__(self, events: list[AuditEvent], *, trace_id: str | None, problems: bool, before_seq: int | None,
                 limit: int) -> None:
        super().__init__()
        self.events = events
        self.trace_id = trace_id
        self.problems = problems
        self.before_seq = before_seq
        self.limit = limit


class LogFailed(ConnectionMessage):
    """A log request could not be answered; `reason` is the daemon's message."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class SuggestionsLoaded(ConnectionMessage):
    """The triage agent's suggestions for the open captures (capture id -> protocol.TriageSuggestion); replaces the shown ones."""

    def __init__(self, suggestions: dict) -> None:
        super().__init__()
        self.suggestions = suggestions


class SuggestionAccepted(ConnectionMessage):
    """This TUI accepted a capture's suggestion; `summary` says what the daemon did (done, or waiting for approval)."""

    def __init__(self, capture_id: str, to: str, summary: str) -> None:
        super().__init__()
        self.capture_id = capture_id
        self.to = to
        self.summary = summary


# ---- the theme ---------------------------------------------------------------------


class ThemeSaved(ConnectionMessage):
    """A theme picked in this TUI is saved as `[ui] theme` in config.toml."""

    def __init__(self, result: ThemeSetResult) -> None:
        super().__init__()
        self.result = result


class ThemeNotSaved(ConnectionMessage):
    """A theme picked in this TUI could not be saved (it is still shown until the TUI quits)."""

    def __init__(self, theme: str, reason: str) -> None:
        super().__init__()
        self.theme = theme
        self.reason = reason


class NotificationPosted(ConnectionMessage):
    """The daemon showed a notification to the person (`notification.posted`): the TUI shows it too, as a toast
    with the terminal bell. `desktop` says whether the desktop showed it as well."""

    def __init__(self, id: str, kind: str, title: str, body: str, urgency: str, decides: str | None, desktop: str) -> None:
        super().__init__()
        self.id, self.kind, self.title, self.body = id, kind, title, body
        self.urgency, self.decides, self.desktop = urgency, decides, desktop


class MissedCounted(ConnectionMessage):
    """How many notifications reached neither the desktop nor a TUI and are not yet seen, with the oldest titles
    (`notifications.list` at connect, then `notifications.changed`)."""

    def __init__(self, missed: int, titles: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.missed = missed
        self.titles = titles
