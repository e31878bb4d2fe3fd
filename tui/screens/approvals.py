"""The Approvals section (key 5): the actions waiting for the person's decision, oldest first.

Each row: risk (word and colour), kind, summary, proposer, age, and what it waits
for (its expiry, or the end of its snooze). The selected action is shown below: its
preview (a diff coloured as a diff; a message or an event as written), then its
reason, inputs, decision path, history and payload in `oxymus explain`'s words
(`actions.get`, reloaded when the action changes).

Keys, on the selected action: `a` approves; `d` denies at once; `D` denies with a
reason (one line: Enter denies, Escape cancels); `s` snoozes (until when, "1h" by
default); `e` edits the payload, then approves it (screens/payload_edit.py); `u` undoes
the last approval or denial made here, within the daemon's grace period (its refusal is
shown if too late).

A decision shows as pending ("approving…") until the daemon replied, and as done
only then (the reply means it is stored); a refusal is shown and the row stays.
Approved and denied actions leave the queue, and one line says what happened
("approved — runs in 10s, u to undo"), then follows an approved action until it is
done or failed (`actions.get` again whenever the log grew). Ages and expiries tick
every AGE_TICK seconds from the app's clock, nothing refetched. The queue follows the daemon live: an action
proposed, decided or expired elsewhere appears or leaves by itself.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import DataTable, Label, Static

from oxymus.actions.model import FINAL, Action, ActionDetail
from oxymus.kernel.textfmt import duration, one_line
from oxymus.tui.link.live import LiveQuery
from oxymus.tui.link.queries import QUEUE
from oxymus.tui.link.messages import (
    ActionFollowed, ActionLoaded, ActionLoadFailed, ActivityHappened, ApprovalsLoaded, DecisionFailed, DecisionMade,
    DecisionSent,
)
from oxymus.tui.screens.base import SectionScreen
from oxymus.tui.screens.decisions import decide
from oxymus.tui.screens.line_input import LineInputScreen
from oxymus.tui.screens.payload_edit import PayloadEditScreen
from oxymus.tui.widgets import SectionBar
from oxymus.tui.widgets.approvals_views import ApprovalsTable, preview_text, seconds_since, story_text
from oxymus.tui.widgets.status_bar import local_when

WAITING = "Waiting for the daemon…"
EMPTY = "Nothing waits for your decision."
LOADING = "Loading its story…"
DEFAULT_SNOOZE = "1h"
AGE_TICK = 2.0  # seconds between re-renders of the ages and expiries (from the app's clock, nothing refetched)

# One action with its story; only the answer to the newest request is shown.
ACTION = LiveQuery("actions.get", "actions.get", lambda a: ActionLoaded(a.value), ActionDetail,
                   failed=lambda error, p: ActionLoadFailed(p["id"], error))
# The action last decided here, asked again whenever the log grew, so its line follows it to done or failed.
FOLLOW = LiveQuery("actions.follow", "actions.get", lambda a: ActionFollowed(a.value), ActionDetail)


class ApprovalsScreen(SectionScreen):
    SECTION = "approvals"
    AUTO_FOCUS = "#approvals-table"
    BINDINGS = [
        Binding("a", "approve", "Approve"),
        Binding("d", "deny", "Deny", tooltip="Deny at once"),
        Binding("D", "deny_reason", "Deny, say why", show=False, tooltip="Deny, saying why (one line)"),
        Binding("s", "snooze", "Snooze"),
        Binding("e", "edit", "Edit"),  # then approve: short, so `u Undo` still fits the footer at 80 columns
        Binding("u", "undo", "Undo"),
        Binding("r", "reload", "Reload", show=False),
        Binding("q", "app.quit", "Quit", show=False),  # q still quits; the footer keeps the decisions whole at 80
    ]

    def __init__(self) -> None:
        super().__init__()
        self.queue: list[Action] = []
        self.loaded = False
        # Decisions sent and not answered yet, by action id; such a row stays (as pending)
        # even when a reload no longer lists it, until the daemon's reply says what happened.
        self.pending: dict[str, str] = {}
        self.held: dict[str, Action] = {}
        self.detail: ActionDetail | None = None
        self.detail_error: str | None = None
        self.detail_for: str | None = None  # the action whose story is shown or on its way
        self.last_decided: Action | None = None  # what `u` takes back
        self._last_edited = False
        self._countdown: Timer | None = None
        self._asked_after_grace = False
        self._line_about: str | None = None  # the action the line speaks of, while it follows it

    def on_mount(self) -> None:
        # (SectionScreen.on_mount, which starts listening, runs too: Textual calls each class's handler.)
        self.set_interval(AGE_TICK, self._tick)

    def _tick(self) -> None:
        if self.table.display and self.table.rows_shown:
            self.table.tick(self.oxymus.clock())

    def compose_body(self) -> ComposeResult:
        line = Label("", id="approvals-line")
        line.display = False  # until there is a decision to speak of
        yield line
        view = Vertical(id="approvals-view")
        view.display = False
        with view:
            yield ApprovalsTable(id="approvals-table")
            with VerticalScroll(id="approvals-detail"):
                yield Static("", id="approvals-preview")
                yield Static("", id="approvals-story")
        yield Label(WAITING, id="approvals-empty")

    @property
    def table(self) -> ApprovalsTable:
        return self.query_one("#approvals-table", ApprovalsTable)

    @property
    def line_text(self) -> str:
        return str(self.query_one("#approvals-line", Label).render())

    def _selected(self) -> Action | None:
        """The action under the cursor, or None (saying why)."""
        action_id = self.table.selected_id if self.table.display and self.queue_shown else None
        action = self._by_id(action_id) if action_id else None
        if action is None:
            self.notify("Nothing selected: nothing waits for your decision.", timeout=3)
            return None
        if action.id in self.pending:
            self.notify("A decision on this action is on its way.", timeout=3)
            return None
        return action

    @property
    def queue_shown(self) -> list[Action]:
        shown = list(self.queue)
        ids = {a.id for a in shown}
        shown += [a for a_id, a in self.held.items() if a_id not in ids]
        return sorted(shown, key=lambda a: (a.created_at, a.id))

    def _by_id(self, action_id: str) -> Action | None:
        return next((a for a in self.queue_shown if a.id == action_id), None)

    # ---- keys ---------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.oxymus.connection.live.ask(QUEUE)

    def action_approve(self) -> None:
        action = self._selected()
        if action is not None:
            decide(self.oxymus.connection, "approve", action.id)

    def action_deny(self) -> None:
        action = self._selected()
        if action is not None:
            decide(self.oxymus.connection, "deny", action.id)

    def action_deny_reason(self) -> None:
        action = self._selected()
        if action is None:
            return
        dialog = LineInputScreen(f"Deny: {one_line(action.preview.summary, 56)}", placeholder="why (optional)",
                                 hint="Enter denies · Escape cancels", allow_empty=True)
        self.app.push_screen(dialog, lambda reason: self._deny(action.id, reason))

    def _deny(self, action_id: str, reason: str | None) -> None:
        if reason is not None:
            decide(self.oxymus.connection, "deny", action_id, reason=reason or None)

    def action_snooze(self) -> None:
        action = self._selected()
        if action is None:
            return
        dialog = LineInputScreen(f"Snooze: {one_line(action.preview.summary, 54)}", value=DEFAULT_SNOOZE,
                                 placeholder="2h, 14:00, tomorrow 9:00, monday",
                                 hint="e.g. 2h, 14:00, tomorrow 9:00 · Enter snoozes · Escape cancels")
        self.app.push_screen(dialog, lambda until: self._snooze(action.id, until))

    def _snooze(self, action_id: str, until: str | None) -> None:
        if until:
            decide(self.oxymus.connection, "snooze", action_id, until=until)

    def action_edit(self) -> None:
        action = self._selected()
        if action is not None and action.kind == "flow":
            # A flow's steps were prepared together; an edit would have to prepare them again.
            self.notify("A flow cannot be edited: approve it as it is, or deny it and have it proposed again.",
                        severity="warning", timeout=6)
        elif action is not None:
            self.app.push_screen(PayloadEditScreen(action))

    def action_undo(self) -> None:
        last = self.last_decided
        if last is None:
            self.notify("Nothing to undo: no approval or denial was made here.", timeout=4)
            return
        if last.id in self.pending:
            return
        decide(self.oxymus.connection, "undo", last.id)

    # ---- messages -----------------------------------------------------------------------

    @on(ApprovalsLoaded)
    def _loaded(self, message: ApprovalsLoaded) -> None:
        old = {a.id: a for a in self.queue}
        self.queue = message.actions
        listed = {a.id for a in self.queue}
        for action_id in list(self.held):
            if action_id in listed or action_id not in self.pending:
                del self.held[action_id]
        for action_id in self.pending:
            if action_id not in listed and action_id in old:
                self.held[action_id] = old[action_id]
        self.loaded = True
        self._render_queue()
        if self.detail is not None and self.detail.action.id == self.detail_for:
            now = self._by_id(self.detail_for)
            if now is not None and now.updated_at != self.detail.action.updated_at:
                self.oxymus.connection.live.ask(ACTION, id=now.id)  # it changed: its story did too

    @on(DataTable.RowHighlighted, "#approvals-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        # A re-render highlights rows on its way back to the selected one: only where it ends counts.
        self._follow_selection()

    def _follow_selection(self) -> None:
        """Show the selected action (its preview at once, its story once loaded)."""
        selected = self.table.selected_id
        action = self._by_id(selected) if selected is not None else None
        if action is None or action.id == self.detail_for:
            return
        self.detail_for, self.detail, self.detail_error = action.id, None, None
        self._render_detail(action)
        self.oxymus.connection.live.ask(ACTION, id=action.id)

    @on(ActionLoaded)
    def _action_loaded(self, message: ActionLoaded) -> None:
        if message.detail.action.id == self.detail_for:
            self.detail, self.detail_error = message.detail, None
            self._render_detail(message.detail.action)

    @on(ActionLoadFailed)
    def _action_failed(self, message: ActionLoadFailed) -> None:
        action = self._by_id(message.action_id)
        if action is not None and action.id == self.detail_for:
            self.detail, self.detail_error = None, message.reason
            self._render_detail(action)

    @on(DecisionSent)
    def _sent(self, message: DecisionSent) -> None:
        self.pending[message.action_id] = message.verb
        action = self._by_id(message.action_id)
        what = one_line(action.preview.summary, 60) if action is not None else message.action_id
        self._say(f"{message.verb.capitalize()} {what}: waiting for the daemon…", "italic")
        self._render_queue()

    @on(DecisionMade)
    def _made(self, message: DecisionMade) -> None:
        self.pending.pop(message.action.id, None)
        self.held.pop(message.action.id, None)
        action, verb = message.action, message.verb
        if verb in ("approve", "deny") or action.status not in ("awaiting_approval", "snoozed"):
            self.queue = [a for a in self.queue if a.id != action.id]
        else:
            # Snoozed or back after an undo: shown as the daemon has it now, before the reload confirms it.
            self.queue = sorted([a for a in self.queue if a.id != action.id] + [action], key=lambda a: (a.created_at, a.id))
        if verb == "approve" and action.status == "denied":
            self.last_decided = None
            self._say(f"The edited payload is denied by policy ({action.decision.rule}): it will not run.", "bold red")
        elif verb in ("approve", "deny"):
            self.last_decided, self._last_edited, self._asked_after_grace = action, message.edited, False
            self._say_decided()
        elif verb == "undo":
            self.last_decided = None
            self._say(f"Undone: {one_line(action.preview.summary, 60)} waits for your decision again.", "green")
        else:
            until = f" until {local_when(action.snoozed_until, self.oxymus.clock())}" if action.snoozed_until else ""
            self._say(f"Snoozed{until}: {one_line(action.preview.summary, 60)}.", "cyan")
        self._render_queue()

    @on(DecisionFailed)
    def _failed(self, message: DecisionFailed) -> None:
        self.pending.pop(message.action_id, None)
        self.held.pop(message.action_id, None)
        self._say(f"Could not {message.verb}: {message.reason}", "bold red")
        self._render_queue()

    @on(ActivityHappened)
    def _activity(self, message: ActivityHappened) -> None:
        last = self.last_decided
        if last is not None and last.id == self._line_about and last.status not in FINAL and last.id not in self.pending:
            self.oxymus.connection.live.ask(FOLLOW, id=last.id)

    @on(ActionFollowed)
    def _followed(self, message: ActionFollowed) -> None:
        action = message.detail.action
        last = self.last_decided
        if (last is None or action.id != last.id or action.id != self._line_about or action.id in self.pending
                or action.updated_at == last.updated_at):
            return
        self.last_decided = action
        self._say_decided()

    # ---- rendering ----------------------------------------------------------------------

    def _say(self, text: str, style: str = "") -> None:
        self._stop_countdown()
        self._line_about = None
        line = self.query_one("#approvals-line", Label)
        line.update(Text(text, style=style))
        line.display = True

    def _say_decided(self) -> None:
        """ "approved — runs in 10s, u to undo", counting down until the grace period is over."""
        action = self.last_decided
        if action is None:
            return
        self._stop_countdown()
        left = -seconds_since(action.next_attempt_at, self.oxymus.clock()) if action.next_attempt_at else 0
        edited = " (edited)" if self._last_edited else ""
        style = "green"
        if action.status == "approved":
            text = (f"approved{edited} — runs in {duration(left + 0.999)}, u to undo: {{what}}" if left > 0
                    else "approved — it runs now: {what}")
        elif action.status == "executing":
            text = "approved — running: {what}"
        elif action.status == "succeeded":
            text = "done: {what}"
        elif action.status == "failed":
            text, style = "failed: {what} — " + one_line(action.error or "no reason given", 80), "bold red"
        elif action.status == "denied":
            text, style = "denied — it will not run, u to undo: {what}", "yellow"
        else:
            text = f"{action.status}: {{what}}"
        # One line whole: the summary gets the room the words around it leave (its preview says it all).
        room = max(20, (self.size.width or 80) - 2 - len(text.replace("{what}", "")))
        text = text.replace("{what}", one_line(action.preview.summary, room))
        line = self.query_one("#approvals-line", Label)
        line.update(Text(text, style=style))
        line.display = True
        self._line_about = action.id
        if action.status == "approved" and left > 0:
            self._countdown = self.set_timer(min(1.0, left), self._say_decided)
        elif action.status in ("approved", "executing") and left <= 0 and not self._asked_after_grace:
            self._asked_after_grace = True  # it may have run before the log said so: ask once now
            self.oxymus.connection.live.ask(FOLLOW, id=action.id)

    def _stop_countdown(self) -> None:
        if self._countdown is not None:
            self._countdown.stop()
            self._countdown = None

    def _render_queue(self) -> None:
        shown = self.queue_shown
        view, empty = self.query_one("#approvals-view"), self.query_one("#approvals-empty", Label)
        empty.update(EMPTY if self.loaded else WAITING)
        view.display, empty.display = bool(shown), not shown
        self.table.show([(a, self.pending.get(a.id)) for a in shown], self.oxymus.clock())
        snoozed = sum(1 for a in shown if a.status == "snoozed")
        parts = [f"{len(shown) - snoozed} waiting"] if len(shown) > snoozed else []
        parts += [f"{snoozed} snoozed"] if snoozed else []
        self.query_one("#section-bar", SectionBar).set_summary(", ".join(parts))
        if not shown:
            self.detail_for = self.detail = None
        self._follow_selection()

    def _render_detail(self, action: Action) -> None:
        self.query_one("#approvals-preview", Static).update(preview_text(action.preview))
        story = self.query_one("#approvals-story", Static)
        if self.detail is not None:
            story.update(story_text(self.detail))
        elif self.detail_error is not None:
            story.update(Text(f"Could not load its story: {self.detail_error}", style="red"))
        else:
            story.update(Text(LOADING, style="dim"))
