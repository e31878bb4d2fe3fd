"""The command palette (ctrl+p): every command of the TUI by name, as a Textual `Provider`.

`palette_commands(app, screen)` lists them for the screen the palette was opened on:

- go to each section ("Approvals", key 5);
- what works on every section: capture, pause or resume, the morning and weekly reviews, refresh every
  source, the keys (`?`);
- commands that belong to one section, run there (switching to it first): search memory
  (the search box focused, so what is typed goes in it), filter the activity log or show
  only its problems, add a next action; approve, deny or deny with a reason the action
  selected in Approvals (elsewhere they open Approvals first, so the person sees what they
  decide on);
- every other key of the screen in front, by its description ("Inbox: Archive").

Textual's own commands (theme, screenshot, quit, ...) stay; its "Keys" panel gives way to `?`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

if TYPE_CHECKING:
    from oxymus.tui.app import OxymusApp


@dataclass(frozen=True)
class PaletteCommand:
    name: str
    help: str
    run: Callable[[], Awaitable[None] | None]
    action: str = ""  # the screen action it runs (its key is then not offered a second time)


async def run_in(app: "OxymusApp", section: str, action: str) -> None:
    """Switch to `section` (when not there) and run `action` on its screen."""
    if app.current_mode != section:
        await app.switch_mode(section)
    await app.screen.run_action(action)


def _decision(app: "OxymusApp", screen: Screen, name: str, action: str, what: str) -> PaletteCommand:
    if getattr(screen, "SECTION", "") == "approvals":  # its screen (not imported here: the palette works before it is shown)
        selected = screen.table.selected_id if screen.table.display else None
        found = next((a for a in screen.queue_shown if a.id == selected), None) if selected else None
        help_ = f"{what}: {found.preview.summary}" if found is not None else f"{what} (nothing is selected)"

        async def run() -> None:
            await screen.run_action(action)
    else:
        help_ = f"Opens Approvals, to choose the action first ({what.lower()})"

        async def run() -> None:
            await app.switch_mode("approvals")
            app.notify("Choose the action: a approves, d denies, D denies with a reason.", timeout=5)
    return PaletteCommand(name, help_, run, action)


def palette_commands(app: "OxymusApp", screen: Screen) -> list[PaletteCommand]:
    out: list[PaletteCommand] = []
    for name, key, label in app.section_tabs():
        out.append(PaletteCommand(label, f"Go to {label} (key {key})",
                                  lambda name=name: app.action_section(name)))
    paused = app.connection.pause is not None
    section = getattr(screen, "SECTION", "")
    if section:  # a section's screen (not a dialog): its shared keys
        out += [
            PaletteCommand("Capture a thought", "Write it down now; it lands in the Inbox (key c)",
                           lambda: screen.run_action("capture"), "capture"),
            PaletteCommand("Resume automation" if paused else "Pause automation",
                           "Resume at once (key P)" if paused else "Nothing runs by itself until when you say (key P)",
                           lambda: screen.run_action("toggle_pause"), "toggle_pause"),
        ]
    out += [
        PaletteCommand("Morning review", "Walk today's review: yesterday, calendar, inbox, approvals, top three (key R)",
                       app.action_review, "review"),
        PaletteCommand("Weekly review", "Walk the week's review: the week, its questions, the reflection's proposals (key W)",
                       app.action_weekly_review, "weekly_review"),
        PaletteCommand("Refresh every source", "Poll every source now (key r on Today)",
                       app.connection.refresh_state),
        PaletteCommand("Keys of this screen", "Every key of the screen in front, grouped (key ?)", app.action_help),
        PaletteCommand("Search memory", "Open Memory with the search box ready for words (key / there)",
                       lambda: run_in(app, "memory", "search"), "search"),
        PaletteCommand("Filter the activity log", "Open Activity with its filter box (key / there)",
                       lambda: run_in(app, "activity", "filter"), "filter"),
        PaletteCommand("Activity: problems only", "Only failures, denials and expiries, or all again (key ! there)",
                       lambda: run_in(app, "activity", "problems"), "problems"),
        PaletteCommand("Add a next action", "To PLANS.md, under “Next actions” (key a in Plans)",
                       lambda: run_in(app, "plans", "add"), "add"),
        _decision(app, screen, "Approve selected action", "approve", "Approve"),
        _decision(app, screen, "Deny selected action", "deny", "Deny at once"),
        _decision(app, screen, "Deny selected action with a reason", "deny_reason", "Deny, saying why"),
    ]
    out += screen_commands(screen, {c.action for c in out if c.action})
    return out


def screen_commands(screen: Screen, covered: set[str]) -> list[PaletteCommand]:
    """The keys of the screen in front (its own classes' bindings) not covered by a command above."""
    title = getattr(screen, "help_title", "") or type(screen).__name__.removesuffix("Screen")
    out: list[PaletteCommand] = []
    seen: set[str] = set()
    for cls in type(screen).__mro__:
        if not cls.__module__.startswith("oxymus.") or "HELP_GROUP" in cls.__dict__:
            break
        for binding in cls.__dict__.get("BINDINGS", ()):
            action, what = binding.action, binding.tooltip or binding.description
            if not what or action in covered or action in seen:
                continue
            seen.add(action)
            key = binding.key.split(",")[0]
            out.append(PaletteCommand(f"{title}: {what}", f"key {screen.app.get_key_display(binding)}"
                                      if key else what, lambda a=action: screen.run_action(a), action))
    return out


class OxymusCommands(Provider):
    """Every command of the TUI, for the screen the palette was opened on."""

    def _commands(self) -> list[PaletteCommand]:
        return palette_commands(self.app, self.screen)  # type: ignore[arg-type]

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.name, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), command.run, help=command.help)


def without_textual_keys(commands: Any) -> Any:
    """Textual's system commands, less its "Keys" panel (`?` is this app's)."""
    return (c for c in commands if c.title != "Keys")
