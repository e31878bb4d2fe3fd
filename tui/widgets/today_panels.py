"""The Today section's panels as Rich text: pure functions of a `Today` and the time now. No IO.

Every status is a word as well as a colour (OVERDUE, stale, failing 3x, ...), so it
reads on a monochrome terminal and in a screen reader. A source's age ticks
without asking the daemon: it is the `age_s` the daemon reported plus the seconds
elapsed since the reply arrived (`elapsed`), and an "ok" source whose age passes
its `stale_after` turns "stale" on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rich.text import Text

from oxymus.kernel.textfmt import duration, one_line
from oxymus.kernel.wording import relative_days
from oxymus.models import SourceView
from oxymus.today.view import Today, TodayBill, TodayDeadline, TodayEvent, TodayProblem, TodayPullRequest, TodayRepo

TITLE = "bold"
DIM = "dim"
BAD = "bold red"
WARN = "bold yellow"
GOOD = "green"
NO_SOURCES = "No sources configured — see `oxymus init`."

BILL_LABELS = {
    "overdue": ("OVERDUE", BAD),
    "due_today": ("DUE TODAY", WARN),
    "upcoming": ("upcoming", ""),
    "paid": ("paid", GOOD),
    "autopay": ("autopay", DIM),
}


def _parse(iso: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(iso)
    except ValueError:
        return None


def _section(title: str, count: int | None = None) -> Text:
    # A line that does not fit is cut with an ellipsis: wrapping would split "in 2 days" across lines.
    text = Text(title, style=TITLE, no_wrap=True, overflow="ellipsis")
    if count is not None:
        text.append(f" {count}", style=DIM)
    return text


def header(today: Today) -> Text:
    """The date and the zone: "Saturday 21 November 2026 · Europe/Berlin"."""
    try:
        day = dt.date.fromisoformat(today.date)
        shown = f"{day:%A} {day.day} {day:%B %Y}"
    except ValueError:
        shown = today.date
    text = Text(shown, style="bold")
    text.append(f" · {today.zone}", style=DIM)
    return text


# ---- events ------------------------------------------------------------------


def event_line(event: TodayEvent, now: dt.datetime) -> Text:
    ends, starts = _parse(event.ends_at), _parse(event.starts_at)
    over = ends is not None and ends <= now and not event.all_day
    going = not over and starts is not None and ends is not None and starts <= now < ends and not event.all_day
    # A timed event crossing midnight carries its date in start or end; "day 1/2" already says so.
    when = "all day" if event.all_day else f"{event.start.split()[-1]}–{event.end.split()[-1]}"
    style = DIM if over else ("bold" if going else "")
    line = Text("  ")
    line.append(f"{when:<11}", style=style)
    line.append("  ")
    line.append(one_line(event.summary, 70), style=style)
    if event.location:
        line.append(f" · {one_line(event.location, 40)}", style=DIM)
    if event.day_of:
        line.append(f"  day {event.day_of[0]}/{event.day_of[1]}", style=DIM)
    if going:
        line.append("  now", style="bold green")
    return line


def events(items: list[TodayEvent], now: dt.datetime, unknown: str | None = None) -> Text:
    """Always shown: the day's shape is the first thing to know, even when it is empty (or not known)."""
    out = _section("Events", len(items) or None)
    if unknown:
        out.append(f"\n  {unknown}", style="yellow")
    elif not items:
        out.append("\n  nothing scheduled", style=DIM)
    for event in items:  # the daemon sorts them: all-day first, then by start
        out.append("\n")
        out.append_text(event_line(event, now))
    return out


def phases(items: list[TodayEvent], now: dt.datetime) -> tuple[tuple[bool, bool], ...]:
    """(started, over) per event: the events panel needs re-rendering only when this changes."""
    out = []
    for e in items:
        starts, ends = _parse(e.starts_at), _parse(e.ends_at)
        out.append((starts is not None and starts <= now, ends is not None and ends <= now))
    return tuple(out)


# ---- deadlines, bills, repos, pull requests, problems --------------------------


def when(day: str, days_left: int, clock: str = "") -> str:
    """ "today", "tomorrow 17:00", "24 Nov · in 3 days", "14 Nov · 7 days ago"."""
    relative = relative_days(days_left)
    if abs(days_left) <= 1:
        return f"{relative} {clock}".strip()
    try:
        date = dt.date.fromisoformat(day)
        shown = f"{date.day} {date:%b}" + (f" {date.year}" if abs(days_left) > 180 else "")
    except ValueError:
        shown = day
    return f"{shown} {clock}".strip() + f" · {relative}"


def deadlines(items: list[TodayDeadline]) -> Text | None:
    if not items:
        return None
    out = _section("Deadlines", len(items))
    width = min(40, max(len(one_line(d.summary, 40)) for d in items))
    for d in items:
        day, _, clock = d.due.partition(" ")
        out.append("\n  ")
        out.append(f"{'OVERDUE' if d.overdue else 'due':<9}", style=BAD if d.overdue else DIM)
        out.append(f"{one_line(d.summary, 40):<{width}}", style="bold" if d.overdue else "")
        out.append(f"  {when(day, d.days_left, clock)}", style=DIM)
    return out


def bills(items: list[TodayBill]) -> Text | None:
    if not items:
        return None
    out = _section("Bills", len(items))
    width = max(len(f"{b.amount:,.2f}") for b in items)
    names = min(30, max(len(one_line(b.name, 30)) for b in items))
    for b in items:
        label, style = BILL_LABELS.get(b.status, (b.status, ""))
        quiet = b.status in ("paid", "autopay")
        out.append("\n  ")
        out.append(f"{label:<9}", style=style)
        out.append(f"  {b.amount:>{width},.2f} {b.currency}  ", style=DIM if quiet else "")
        out.append(f"{one_line(b.name, 30):<{names}}", style=DIM if quiet else ("bold" if b.status == "overdue" else ""))
        out.append(f"  {when(b.due, b.days_left)}", style=DIM)
    return out


def repos(items: list[TodayRepo]) -> Text | None:
    if not items:
        return None
    out = _section("Repos needing attention", len(items))
    for r in items:
        out.append("\n  ")
        out.append(r.name, style="bold")
        if r.branch:
            out.append(f" ({r.branch})", style=DIM)
        out.append(": ")
        if r.error:
            out.append("error ", style=BAD)
            out.append(one_line(r.error, 100))
        else:
            out.append(", ".join(r.attention) or "needs attention")
    return out


def pull_requests(items: list[TodayPullRequest], issues_assigned: int) -> Text | None:
    if not items and not issues_assigned:
        return None
    out = _section("Pull requests needing you", len(items) or None)
    for p in items:
        out.append("\n  ")
        out.append(f"{p.repo}#{p.number}", style="bold")
        out.append(f" {one_line(p.title, 60)} — ")
        style = {"review requested": "bold cyan", "CI failing": BAD, "CI pending": WARN}.get(p.why, "")
        out.append(p.why, style=style)
        if p.failing_checks:
            out.append(": " + ", ".join(p.failing_checks))
    if issues_assigned:
        out.append(f"\n  {issues_assigned} open issue{'s' if issues_assigned != 1 else ''} assigned to you", style=DIM)
    return out


def problems(items: list[TodayProblem]) -> Text | None:
    if not items:
        return None
    out = _section("Problems", len(items))
    for p in items:
        out.append("\n  ")
        out.append(p.source, style=BAD)
        out.append(f": {one_line(p.message, 160)}")
    return out


# ---- sources -------------------------------------------------------------------


@dataclass(frozen=True)
class SourceNow:
    """One source's status as of now: the daemon's view, aged by the seconds since it arrived."""

    view: SourceView
    status: str
    age_s: float | None

    @classmethod
    def of(cls, view: SourceView, elapsed: float) -> "SourceNow":
        age = None if view.age_s is None else view.age_s + max(0.0, elapsed)
        status = view.status
        if status == "ok" and age is not None and age > view.stale_after:
            status = "stale"
        return cls(view, status, age)

    def word(self) -> tuple[str, str]:
        """The status as a word and a style: ok, stale, failing 3x, needs human, pending."""
        v = self.view
        if self.status == "failing":
            return f"failing {v.consecutive_failures}x" if v.consecutive_failures > 1 else "failing", BAD
        if self.status == "needs_human":
            return "needs human", "bold magenta"
        if self.status == "stale":
            return "stale", WARN
        if self.status == "pending":
            return "pending", DIM
        return self.status, GOOD


def source_row(view: SourceView, elapsed: float, name_width: int) -> Text:
    """One source on one line: "git  ok 12s", "calendar.personal  stale 2h01m", "github  failing 3x"."""
    s = SourceNow.of(view, elapsed)
    word, style = s.word()
    out = Text(f"{view.source:<{name_width}}  ")
    out.append(word, style=style)
    if s.age_s is not None and s.status not in ("failing", "needs_human"):
        out.append(f" {duration(s.age_s)}", style="" if s.status == "ok" else style)
    return out


def source_detail(view: SourceView, elapsed: float, now: dt.datetime) -> Text | None:
    """Under a failing source: its error, how old its data is, when it is tried next. None when all is well."""
    s = SourceNow.of(view, elapsed)
    lines: list[Text] = []
    if s.status in ("failing", "needs_human"):
        if view.last_error:
            lines.append(Text(one_line(view.last_error, 300)))
        details = [f"last ok {duration(s.age_s)} ago" if s.age_s is not None else "never polled ok"]
        when = _parse(view.next_attempt) if view.next_attempt else None
        if when is not None:
            wait = (when - now).total_seconds()
            details.append(f"next try in {duration(wait)}" if wait >= 1 else "retrying…")
        lines.append(Text(" · ".join(details), style=DIM))
    if view.suspect:
        lines.append(Text(f"held back: {one_line(view.suspect, 200)}", style=WARN))
    return Text("\n").join(lines) if lines else None


def sources_title(items: list[SourceView]) -> Text:
    return _section("Sources", len(items) or None)


def summary(today: Today, elapsed: float) -> str:
    """The section bar's one-line digest: what needs doing, and which sources cannot be trusted."""
    if not today.sources:
        return "no sources"
    parts = [f"{len(today.events)} event{'s' if len(today.events) != 1 else ''}"]
    overdue = sum(b.status == "overdue" for b in today.bills) + sum(d.overdue for d in today.deadlines)
    if overdue:
        parts.append(f"{overdue} overdue")
    statuses = [SourceNow.of(v, elapsed).status for v in today.sources]
    failing = sum(s in ("failing", "needs_human") for s in statuses)
    stale = statuses.count("stale")
    if failing:
        parts.append(f"{failing} source{'s' if failing != 1 else ''} failing")
    if stale:
        parts.append(f"{stale} stale")
    return " · ".join(parts)
