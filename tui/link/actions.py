"""The connection's part for actions: the approval queue, decisions, the pause and the audit log.

A mixin of DaemonConnection (connection.py), kept in its own module so that one
stays about connecting, the inbox, the day, memory and plans. It uses the
connection's plumbing (`ready`, `client`, `_call`, `_emit`, `_spawn`) and is run
by its session: `_load_actions()` after connecting, `_action_event()` for every event,
`_actions_dropped()` when the connection ends.

- The waiting count and the pause come from `status` at connect, then from the
  `approvals.changed` and `pause.changed` events (`WaitingCounted`, `PauseChanged`);
  both are kept while disconnected and replayed to every new listener.
- The approval queue and an action's story are live queries of the Approvals screen
  (screens/approvals.py).
- Decisions are commands of the Approvals screens (screens/decisions.py).
- An agent's LLM answer as it streams: `agent.progress` events update what is being drafted,
  the run's `agent.finished` (or the link going down: events will be missed) clears it
  (`DraftingChanged`, replayed to every new listener).
- The events whose changes the audit log records post `ActivityHappened`
  (debounced); the Activity screen then asks for a page (screens/activity.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from oxymus.kernel.debounce import Debouncer
from oxymus.tui.link.live import NOT_CONNECTED
from oxymus.tui.link.messages import (
    ActivityHappened, Drafting, DraftingChanged, LlmStatusChanged, MissedCounted, NotificationPosted, PauseChanged,
    PauseFailed, PauseSet, Resumed, WaitingCounted,
)

if TYPE_CHECKING:
    from oxymus.actions.model import PauseState
    from oxymus.client.async_client import AsyncClient
    from oxymus.client.protocol import Event


def _pause(data: Any) -> "PauseState | None":
    """The pause in a status answer or an event (the actions' models are imported only when there is one)."""
    if not data:
        return None
    from oxymus.actions.model import PauseState

    return PauseState.model_validate(data)

log = logging.getLogger("oxymus.tui.link.connection")

# notification.* by name: the daemon counts a TUI that subscribes to it as one that shows notifications.
ACTION_TOPICS = ["action.*", "approvals.*", "pause.*", "agent.*", "notification.*", "notifications.*"]
# Events after which the audit log has grown (see the verbs the daemon writes).
LOGGED_TOPICS = frozenset({"action.changed", "capture.added", "capture.triaged", "memory.changed", "plans.changed",
                           "pause.changed", "agent.finished"})
ACTIVITY_DEBOUNCE = 0.2  # seconds: logged events within this window cost one ActivityHappened


def _pause_result() -> Any:
    from oxymus.client.protocol import PauseResult  # once the person pauses or resumes

    return PauseResult


class ActionsLink:
    """Mixed into DaemonConnection; see the module docstring."""

    client: "AsyncClient | None"

    def _init_actions(self) -> None:
        self.waiting = 0  # waiting for a decision now (snoozed ones apart)
        self.snoozed = 0
        self.pause: PauseState | None = None
        self._attention_known = False  # `status` answered once: the count and pause are worth replaying
        self.llm_status: str | None = None
        self.drafting: dict[str, Drafting] = {}  # by run id, oldest first
        self._activity = Debouncer(ACTIVITY_DEBOUNCE, self._activity_happened, name="tui-activity")

    # ---- what screens call ---------------------------------------------------------

    def set_pause(self, until: str | None = None, reason: str = "") -> None:
        """Pause automation until `until` (2h, 14:00, tomorrow 9:00; None: until resumed): `PauseSet` or `PauseFailed`."""
        if not self.ready:
            self._emit(PauseFailed, "pause", NOT_CONNECTED)
            return
        params: dict[str, Any] = {"reason": reason}
        if until:
            params["until"] = until
        self._spawn(self._set_pause(self.client, params))

    def resume(self) -> None:
        """End the pause at once: `Resumed` with how many stale proposals expired, or `PauseFailed`."""
        if not self.ready:
            self._emit(PauseFailed, "resume", NOT_CONNECTED)
            return
        self._spawn(self._resume(self.client))

    # ---- run by the session --------------------------------------------------------

    async def _load_actions(self, client: "AsyncClient") -> None:
        """At connect: the waiting count and the pause. A daemon without actions is no error."""
        # Events from here on (the subscription came first) count again, so none is missed.
        self._activity.cancel()
        status, error = await self._call(client, "status", {}, None)
        if error is None:
            try:
                pause = _pause(status.get("pause"))
            except (ValidationError, TypeError):
                pause = None
            snoozed = int(status.get("approvals_snoozed") or 0)
            self._attention(int(status.get("approvals_waiting") or 0) - snoozed, pause, snoozed)
            self._llm(status.get("llm"))
        else:
            log.info("status failed: %s", error)
        await self._load_missed(client)

    async def _load_missed(self, client: "AsyncClient") -> None:
        """The missed notifications (none shown here: a toast says how many and where to read them)."""
        got, error = await self._call(client, "notifications.list", {"limit": 3}, None)
        if error is None:
            self._emit(MissedCounted, int(got.get("missed") or 0), tuple(str(n.get("title")) for n in got.get("notifications") or []))

    def _llm(self, status: str | None) -> None:
        if status != self.llm_status:
            self.llm_status = status
            if self._attention_known:
                self._remember("llm", LlmStatusChanged, status)
            self._emit(LlmStatusChanged, status)

    def _actions_dropped(self) -> None:
        """The link went down: a run may end unseen, so what it was drafting is no longer shown."""
        if self.drafting:
            self.drafting.clear()
            self._drafting_changed()

    def _action_event(self, event: Event) -> None:
        if event.topic == "notification.posted":
            d = event.data
            self._emit(NotificationPosted, str(d.get("id")), str(d.get("kind") or "general"), str(d.get("title") or ""),
                       str(d.get("body") or ""), str(d.get("urgency") or "normal"), d.get("decides"), str(d.get("desktop") or ""))
        elif event.topic == "notifications.changed" and self.client is not None:
            self._spawn(self._load_missed(self.client))
        if event.topic == "agent.finished" and isinstance(event.data.get("llm"), str):
            self._llm(event.data["llm"])
        if event.topic == "agent.progress":
            self._progress(event.data)
        elif event.topic == "agent.finished" and self.drafting.pop(str(event.data.get("id")), None) is not None:
            self._drafting_changed()
        if event.topic == "approvals.changed":
            waiting, snoozed = event.data.get("waiting"), event.data.get("snoozed", 0)
            if isinstance(waiting, int) and isinstance(snoozed, int):
                self._attention(waiting - snoozed, self.pause, snoozed)
        elif event.topic == "pause.changed":
            try:
                pause = _pause(event.data.get("pause"))
            except (ValidationError, TypeError):
                log.warning("ignored a malformed pause.changed event: %r", event.data)
                return
            self._attention(self.waiting, pause, self.snoozed)
        if event.topic in LOGGED_TOPICS:
            self._activity()

    def _progress(self, data: dict[str, Any]) -> None:
        try:
            drafting = Drafting(run_id=str(data["id"]), agent=str(data["agent"]), what=str(data.get("what") or "drafting"),
                                chars=int(data["chars"]), tail=str(data.get("tail") or ""))
        except (KeyError, TypeError, ValueError):
            log.warning("ignored a malformed agent.progress event: %r", data)
            return
        self.drafting[drafting.run_id] = drafting
        self._drafting_changed()

    def _drafting_changed(self) -> None:
        drafting = tuple(self.drafting.values())
        self._remember("drafting", DraftingChanged, drafting)
        self._emit(DraftingChanged, drafting)

    async def _activity_happened(self) -> None:
        self._emit(ActivityHappened)

    # ---- requests ------------------------------------------------------------------

    def _attention(self, waiting: int, pause: PauseState | None, snoozed: int = 0) -> None:
        first = not self._attention_known
        self._attention_known = True
        self._remember("waiting", WaitingCounted, waiting, snoozed)
        self._remember("pause", PauseChanged, pause)
        if first:
            self._remember("llm", LlmStatusChanged, self.llm_status)
        if first or (waiting, snoozed) != (self.waiting, self.snoozed):
            self.waiting, self.snoozed = waiting, snoozed
            self._emit(WaitingCounted, waiting, snoozed)
        if first or pause != self.pause:
            self.pause = pause
            self._emit(PauseChanged, pause)

    async def _set_pause(self, client: "AsyncClient", params: dict[str, Any]) -> None:
        result, error = await self._call(client, "pause.set", params, _pause_result())
        if error is not None or result.pause is None:
            self._emit(PauseFailed, "pause", error or "the daemon did not pause")
            return
        self._attention(self.waiting, result.pause, self.snoozed)
        self._emit(PauseSet, result.pause)

    async def _resume(self, client: "AsyncClient") -> None:
        result, error = await self._call(client, "pause.clear", {}, _pause_result())
        if error is not None:
            self._emit(PauseFailed, "resume", error)
            return
        self._attention(self.waiting, None, self.snoozed)
        self._emit(Resumed, result.expired)
