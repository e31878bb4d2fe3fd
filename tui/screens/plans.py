"""The Plans section (key 4): PLANS.md as the daemon understood it.

Goals; the next actions grouped by section, nested as written, with their checkbox
and done date; the publishing order; the parts not understood (kept as written, with
line and reason); the file's path, and the daemon's error when the file cannot be
read now (the last good document stays shown under it).

`space` checks or unchecks the action under the cursor through `plans.edit set_done`
with the document's sha256 as `expected_sha256` (the CLI's patch path): the file
changes only on that line. If the file changed on disk meanwhile the daemon refuses
and writes nothing; its message is shown and the plan reloaded. `a` adds a next action
(under "Next actions"; it creates the file if there is none). The plan reloads by
itself whenever the file changes (`plans.changed`), whoever changed it.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Static

from oxymus.client.protocol import PlansEditResult, PlansResult
from oxymus.plans import PlansDocument
from oxymus.tui.link.live import Command
from oxymus.tui.link.messages import PlansEdited, PlansFailed, PlansLoaded
from oxymus.tui.link.queries import PLANS
from oxymus.tui.screens.base import SectionScreen
from oxymus.tui.screens.line_input import LineInputScreen
from oxymus.tui.widgets import ActionsTable, SectionBar
from oxymus.tui.widgets.plans_views import goals_text, proposals_text, unparsed_text

WAITING = "Waiting for the daemon…"
NEXT_ACTIONS = "Next actions"

# One minimal patch (`op` and its params; a stale `expected_sha256` is refused and nothing is written), then
# the plan is read again either way: what is on disk now, written or not.
EDIT = Command("plans.edit", lambda result, r: PlansEdited(r.params["op"], result),
               lambda error, r: PlansFailed(r.params["op"], error), PlansEditResult, invalidates=("plans.changed",))


def edit_plans(screen: SectionScreen, op: str, **params: Any) -> None:
    screen.oxymus.connection.live.send(EDIT, op=op, **{k: v for k, v in params.items() if v is not None})


def missing_text(path: str) -> str:
    return f"{path} does not exist yet.\nPress a to add a next action: that creates it. Or point [plans] file at yours."


class PlansScreen(SectionScreen):
    SECTION = "plans"
    AUTO_FOCUS = "#plans-actions"
    BINDINGS = [
        Binding("space", "toggle", "Done/undone"),
        Binding("a", "add", "Add action"),
        Binding("r", "refresh", "Reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.result: PlansResult | None = None

    @property
    def document(self) -> PlansDocument | None:
        return self.result.document if self.result is not None else None

    def compose_body(self) -> ComposeResult:
        yield Label("", id="plans-path", markup=False)
        error = Label("", id="plans-error", markup=False)
        error.display = False  # until the daemon reports one
        yield error
        body = Horizontal(id="plans-body")
        body.display = False  # until there is a document to show
        with body:
            with Vertical(id="plans-main"):
                yield Label("Next actions", id="plans-actions-title")
                yield ActionsTable(id="plans-actions")
                yield Label("No next actions yet. Press a to add one.", id="plans-no-actions")
            with VerticalScroll(id="plans-side"):
                yield Static("", id="plans-goals")
                yield Static("", id="plans-proposals")
                yield Static("", id="plans-unparsed")
        yield Label(WAITING, id="plans-empty", markup=False)

    @property
    def table(self) -> ActionsTable:
        return self.query_one("#plans-actions", ActionsTable)

    # ---- actions ------------------------------------------------------------

    def action_refresh(self) -> None:
        self.oxymus.connection.live.ask(PLANS)

    def action_toggle(self) -> None:
        doc = self.document
        action_id = self.table.selected_id if doc is not None and self.table.display else None
        if doc is None or action_id is None:
            self.notify("No next action selected.", timeout=3)
            return
        try:
            action = doc.action(action_id)
        except KeyError:
            return
        edit_plans(self, "set_done", action_id=action.id, done=not action.done, expected_sha256=doc.sha256)

    def action_add(self) -> None:
        self.app.push_screen(LineInputScreen("Add a next action", placeholder="What is the next action?",
                                             hint=f"Enter adds it under “{NEXT_ACTIONS}” · Escape cancels"),
                             self._add)

    def _add(self, text: str | None) -> None:
        if text:
            edit_plans(self, "add_action", text=text, section=NEXT_ACTIONS)

    # ---- messages -----------------------------------------------------------

    @on(PlansLoaded)
    def _loaded(self, message: PlansLoaded) -> None:
        self.result = message.result
        self._render_plan()

    @on(PlansEdited)
    def _edited(self, message: PlansEdited) -> None:
        if self.is_active and message.op == "add_action":
            self.notify("Added to the next actions.", timeout=3)

    @on(PlansFailed)
    def _failed(self, message: PlansFailed) -> None:
        if message.action == "get":
            if self.result is None:
                self.query_one("#plans-empty", Label).update(f"Could not read the plan: {message.reason}")
            return
        if self.is_active:
            self.notify(message.reason, title="Not changed", severity="error", timeout=10)

    def _render_plan(self) -> None:
        result = self.result
        if result is None:
            return
        doc = result.document
        self.query_one("#plans-path", Label).update(result.path)
        error = self.query_one("#plans-error", Label)
        if result.error:
            error.update(f"⚠ {result.error}" + ("  (showing the last version that could be read)" if doc else ""))
        error.display = bool(result.error)
        body, empty = self.query_one("#plans-body"), self.query_one("#plans-empty", Label)
        if doc is None:
            body.display = False
            empty.update(missing_text(result.path) if not result.exists else "The plan could not be read yet.")
            empty.display = True
            self.query_one("#section-bar", SectionBar).set_summary("no plan yet" if not result.exists else "")
            return
        body.display, empty.display = True, False
        self.table.show(doc)
        self.table.display = bool(doc.actions)
        self.query_one("#plans-no-actions").display = not doc.actions
        self.query_one("#plans-goals", Static).update(goals_text(doc))
        self.query_one("#plans-proposals", Static).update(proposals_text(doc))
        unparsed = self.query_one("#plans-unparsed", Static)
        unparsed.update(unparsed_text(doc) if doc.unparsed else "")
        unparsed.display = bool(doc.unparsed)
        open_ = sum(1 for a in doc.actions if not a.done)
        summary = f"{open_} open / {len(doc.actions)} actions"
        if doc.unparsed:
            summary += f", {len(doc.unparsed)} not understood"
        self.query_one("#section-bar", SectionBar).set_summary(summary)
