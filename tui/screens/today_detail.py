"""What Enter opens on Today: an event's details, a repository's status (with `s` for a shell there).

They only show what the daemon sent with the day (no IO); the URL opener and the
shell are in oxymus.tui.outside.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from oxymus.today.view import TodayEvent, TodayRepo


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
