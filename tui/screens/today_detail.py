"""What Enter opens on Today: an event's details, a repository's status, a URL in the browser, a shell.

The event and repository screens only show what the daemon sent with the day (no IO).
Opening a URL and starting a shell are the two things that leave the TUI; each is a
plain function taking the app, so the screen can be given another one (tests check
the URL or the folder without opening anything):

- `open_url(app, url)`: `$BROWSER` or what Python's `webbrowser` finds. A browser that
  runs in the terminal (lynx, w3m, ...) gets the terminal: the app is suspended
  while it runs. No browser at all raises `CannotOpen`, saying so.
- `open_shell(app, path)`: `$SHELL` (or /bin/sh) in the folder, the app suspended until it exits.
"""

from __future__ import annotations

import os
import subprocess
import webbrowser
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from oxymus.today.view import TodayEvent, TodayRepo


class CannotOpen(Exception):
    """A URL or a shell could not be opened; the message says why and what to do."""


def open_url(app: Any, url: str) -> str:
    """Open `url`; returns how ("in the browser", "in w3m"). Raises CannotOpen."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        raise CannotOpen("no browser found: set $BROWSER to one") from None
    name = getattr(browser, "name", "") or "the browser"
    in_terminal = type(browser) is webbrowser.GenericBrowser or getattr(browser, "background", True) is False
    try:
        if in_terminal:
            with app.suspend():
                opened = browser.open(url)
        else:
            opened = browser.open(url)
    except Exception as exc:  # a browser that cannot start: say so, keep the TUI
        raise CannotOpen(f"{name} could not be started: {exc}") from None
    if not opened:
        raise CannotOpen(f"{name} did not open it")
    return f"in {os.path.basename(name)}" if name != "the browser" else "in the browser"


def open_shell(app: Any, path: str) -> str:
    """Run `$SHELL` in `path` with the app suspended; returns how it ended. Raises CannotOpen."""
    if not os.path.isdir(path):
        raise CannotOpen(f"{path} is not a folder (any more)")
    shell = os.environ.get("SHELL") or "/bin/sh"
    try:
        with app.suspend():
            code = subprocess.call([shell], cwd=path)
    except Exception as exc:  # no terminal to hand over (headless), or no such shell
        raise CannotOpen(f"cannot start {shell} here: {exc}") from None
    return f"{shell} exited with {code}" if code else f"back from {shell}"


# ---- the detail screens -----------------------------------------------------------


def event_text(event: TodayEvent) -> Text:
    out = Text(event.summary, style="bold")
    if event.all_day:
        when = "all day" if event.start == event.end else f"all day, {event.start} to {event.end}"
    else:
        when = f"{event.start} – {event.end}"
    if event.day_of:
        when += f" (day {event.day_of[0]} of {event.day_of[1]})"
    rows = [("When", when + (", repeats" if event.recurring else "")),
            ("Where", event.location or "—"),
            ("Calendar", event.calendar or event.source)]
    if event.url:
        rows.append(("Link", event.url))
    for label, value in rows:
        out.append(f"\n{label:<10}", style="dim")
        out.append(value)
    out.append(f"\n{'Conflicts':<10}", style="dim")
    if event.conflicts:
        for n, other in enumerate(event.conflicts):
            out.append(("" if not n else f"\n{'':<10}") + f"⚠ overlaps {other}", style="bold yellow")
    else:
        out.append("none")
    out.append("\n\n")
    out.append(event.description.strip() if event.description else "No description.",
               style="" if event.description else "dim")
    return out


def repo_text(repo: TodayRepo) -> Text:
    out = Text(repo.name, style="bold")
    out.append(f"  {repo.path}", style="dim")
    if repo.error:
        out.append("\n\nerror: ", style="bold red")
        out.append(repo.error)
    branch = repo.branch or "(detached)"
    if repo.upstream:
        sync = [f"{repo.ahead} unpushed" if repo.ahead else "", f"{repo.behind} to pull" if repo.behind else ""]
        tracking = f" → {repo.upstream}" + (f" ({', '.join(s for s in sync if s)})" if any(sync) else ", in step")
    else:
        tracking = " (no upstream: nothing is pushed)"
    rows = [("Branch", branch + tracking)]
    changes = [f"{n} {what}" for n, what in ((repo.staged, "staged"), (repo.unstaged, "changed"),
                                             (repo.untracked, "untracked"), (repo.conflicted, "conflicted")) if n]
    rows.append(("Changes", ", ".join(changes) or "none: the work tree is clean"))
    if repo.stashes:
        rows.append(("Stashes", str(repo.stashes)))
    if repo.operation:
        rows.append(("Under way", repo.operation))
    if repo.head:
        rows.append(("Last commit", f"{repo.head} {repo.last_commit_subject or ''}".strip()))
    for label, value in rows:
        out.append(f"\n{label:<12}", style="dim")
        out.append(value, style="bold yellow" if label == "Under way" else "")
    if repo.attention:
        out.append(f"\n{'Needs':<12}", style="dim")
        out.append(", ".join(repo.attention), style="yellow")
    return out


class DetailScreen(ModalScreen[str | None]):
    """One item's details; Escape, Enter or q closes it."""

    BINDINGS = [Binding("escape,enter,q", "dismiss_detail", "Close")]
    HINT = "Escape: close"

    def __init__(self, body: Text, hint: str = "") -> None:
        super().__init__()
        self.body = body
        self.hint = hint or self.HINT

    def compose(self) -> ComposeResult:
        with Vertical(id="today-detail"):
            with VerticalScroll(id="today-detail-body"):
                yield Static(self.body, id="today-detail-text")
            yield Label(self.hint, id="today-detail-hint")

    @property
    def text(self) -> str:
        return str(self.query_one("#today-detail-text", Static).render())

    def action_dismiss_detail(self) -> None:
        self.dismiss(None)


class EventScreen(DetailScreen):
    def __init__(self, event: TodayEvent) -> None:
        super().__init__(event_text(event))
        self.event = event


class RepoScreen(DetailScreen):
    """A repository's status as the daemon last polled it; `s` opens a shell in its folder."""

    BINDINGS = [Binding("s", "shell", "Shell here"), *DetailScreen.BINDINGS]

    def __init__(self, repo: TodayRepo) -> None:
        super().__init__(repo_text(repo), hint="s: open a shell here · Escape: close")
        self.repo = repo

    def action_shell(self) -> None:
        self.dismiss("shell")
