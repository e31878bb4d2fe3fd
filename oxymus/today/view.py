"""The day at a glance, computed from stored state: events, deadlines, bills, repos, PRs, freshness.

Pure: it takes state items, source health and paid records, and returns a typed
`Today`. The daemon serves it (`today.get`), the CLI prints it, the TUI shows it.
It reads item data through view models that ignore extra fields, so a connector
can add fields without breaking it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from oxymus.models import SourceView
from oxymus.sources.contract import StateItem

DEADLINE_DAYS = 7  # deadlines due within this many days of the day are shown


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TodayEvent(_View):
    key: str
    summary: str = "(no title)"
    start: str = Field(description="local time HH:MM, or the date for all-day events")
    end: str
    all_day: bool = False
    day_of: list[int] | None = Field(default=None, description="[n, total] when an event spans several days")
    location: str | None = None
    description: str | None = None
    url: str | None = None
    calendar: str | None = None
    recurring: bool = False
    source: str
    starts_at: str
    ends_at: str
    conflicts: list[str] = Field(default_factory=list, description="the other timed events it overlaps: 'HH:MM–HH:MM summary'")


class TodayDeadline(_View):
    key: str
    summary: str = "(no title)"
    due: str = Field(description="local date and time of the deadline")
    overdue: bool
    days_left: int
    calendar: str | None = None
    source: str


class TodayBill(_View):
    bill: str
    name: str
    amount: float
    currency: str
    due: str
    status: str = Field(description="overdue | due_today | upcoming | paid | autopay")
    days_left: int
    url: str | None = None
    paid_at: str | None = None


class TodayRepo(_View):
    name: str
    path: str
    branch: str | None = None
    attention: list[str] = Field(default_factory=list)
    error: str | None = None
    upstream: str | None = None
    ahead: int = 0
    behind: int = 0
    staged: int = 0
    unstaged: int = 0
    untracked: int = 0
    conflicted: int = 0
    stashes: int = 0
    operation: str | None = Field(default=None, description="a rebase, merge, ... under way")
    head: str | None = None
    last_commit_subject: str | None = None


class TodayPullRequest(_View):
    title: str
    repo: str
    number: int
    url: str
    why: str = Field(description="review requested | CI failing | CI pending | ...")
    ci: str | None = None
    failing_checks: list[str] = Field(default_factory=list)


class TodayIssue(_View):
    title: str
    repo: str
    number: int
    url: str
    labels: list[str] = Field(default_factory=list)


class TodayProblem(_View):
    source: str
    key: str
    message: str


class DayRange(BaseModel):
    first: str = Field(description="YYYY-MM-DD")
    last: str = Field(description="YYYY-MM-DD, included")


class Today(BaseModel):
    date: str
    zone: str
    generated_at: str
    events: list[TodayEvent]
    calendar_window: DayRange | None = Field(default=None, description="the days the calendars' events are known for "
                                             "(around their last poll; [calendar] past_days, future_days); null: no calendar polled")
    events_unknown: str | None = Field(default=None, description="set when `date` is outside calendar_window: events "
                                       "exist or not, Oxymus does not know, and says so instead of 'nothing scheduled'")
    deadlines: list[TodayDeadline]
    bills: list[TodayBill]
    repos: list[TodayRepo]
    pull_requests: list[TodayPullRequest]
    issues_assigned: int
    issues: list[TodayIssue] = Field(default_factory=list, description="the open issues assigned to you")
    problems: list[TodayProblem] = Field(description="item-level errors (a repo that vanished, a bad bill entry)")
    sources: list[SourceView]


def day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The day's [start, end) in UTC (23 or 25 hours long across DST changes).

    UTC, because Python compares two datetimes with the *same* tzinfo by wall time,
    which is wrong across a DST change.
    """
    start = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.timezone.utc)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)
    return start, end


def _parse(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


def build(
    day: dt.date,
    zone: ZoneInfo,
    now: dt.datetime,
    items: list[StateItem],
    sources: list[SourceView],
    payments: dict[tuple[str, str], str],
    calendar_window: tuple[dt.date, dt.date] | None = None,
    events: list[TodayEvent] | None = None,
) -> Today:
    """`events`, when given, are `day_events(day, zone, items)` made before (they do not depend on
    the clock): a busy day's events and their conflicts are most of the work."""
    if events is None:
        events = day_events(day, zone, items)
    deadlines, bills, repos, prs, problems, issue_list = [], [], [], [], [], []
    issues = 0
    for item in items:
        if item.error:
            problems.append(TodayProblem(source=item.source, key=item.key, message=item.error))
            if item.kind != "git.repo":
                continue
        if item.kind == "calendar.event":
            pass  # day_events
        elif item.kind == "calendar.deadline" and item.starts_at:
            deadline = _deadline(item, day, now, zone)
            if deadline.days_left <= DEADLINE_DAYS:
                deadlines.append(deadline)
        elif item.kind == "bills.due":
            bills.append(_bill(item, day, payments))
        elif item.kind == "git.repo":
            data = {"name": item.key.rsplit("/", 1)[-1], "path": item.key, **item.data}
            if item.error or data.get("needs_attention"):
                repos.append(TodayRepo(**data, error=item.error))
        elif item.kind == "github.review_request":
            prs.append(TodayPullRequest(**item.data, why="review requested"))
        elif item.kind == "github.pr":
            ci = item.data.get("ci")
            if ci in ("failure", "pending"):
                prs.append(TodayPullRequest(**item.data, why="CI failing" if ci == "failure" else "CI pending"))
        elif item.kind == "github.issue":
            issues += 1
            issue_list.append(TodayIssue(**{"title": "(no title)", "repo": "", "number": 0, "url": item.key, **item.data}))
    issue_list.sort(key=lambda i: (i.repo, i.number))
    deadlines.sort(key=lambda d: d.due)
    order = {"overdue": 0, "due_today": 1, "upcoming": 2, "paid": 3, "autopay": 4}
    bills = [b for b in bills if b.status != "paid" or b.days_left >= 0]
    bills.sort(key=lambda b: (order.get(b.status, 9), b.due, b.name))
    prs.sort(key=lambda p: (p.why != "review requested", p.why != "CI failing", p.repo, p.number))
    repos.sort(key=lambda r: (r.error is None, r.name))
    window = unknown = None
    if calendar_window is not None:
        first, last = calendar_window
        window = DayRange(first=first.isoformat(), last=last.isoformat())
        if not first <= day <= last:
            unknown = events_unknown(day, first, last)
    return Today(
        date=day.isoformat(), zone=str(zone.key), generated_at=now.astimezone(dt.timezone.utc).isoformat(),
        events=events, calendar_window=window, events_unknown=unknown, deadlines=deadlines, bills=bills, repos=repos,
        pull_requests=prs, issues_assigned=issues, issues=issue_list, problems=problems, sources=sources,
    )


def day_events(day: dt.date, zone: ZoneInfo, items: list[StateItem]) -> list[TodayEvent]:
    """The day's events in the order shown, each with its conflicts."""
    day_start, day_end = day_bounds(day, zone)
    events = []
    for item in items:
        if item.kind == "calendar.event" and not item.error and item.starts_at and item.ends_at:
            event = _event(item, day, day_start, day_end, zone)
            if event is not None:
                events.append(event)
    events.sort(key=lambda e: (not e.all_day, e.starts_at, e.summary))
    mark_conflicts(events, zone)
    return events


def mark_conflicts(events: list[TodayEvent], zone: ZoneInfo) -> None:
    """Fill each timed event's `conflicts` with the other timed events it overlaps (touching is not overlapping),
    in the order of `events`. A sweep over start times: a busy calendar's day (a hundred events) is compared
    pair by pair only where they overlap, and each label is formatted once."""
    timed = [(i, e, _parse(e.starts_at), _parse(e.ends_at)) for i, e in enumerate(events) if not e.all_day]
    timed = [t for t in timed if t[3] > t[2]]
    by_start = sorted(timed, key=lambda t: t[2])
    found: dict[int, list[tuple[int, int]]] = {}
    for k, (i, _event, start, end) in enumerate(by_start):
        for j, _other, other_start, _other_end in by_start[k + 1:]:
            if other_start >= end:
                break
            found.setdefault(i, []).append((j, i))
            found.setdefault(j, []).append((i, j))
    labels = {i: f"{start.astimezone(zone):%H:%M}–{end.astimezone(zone):%H:%M} {e.summary}" for i, e, start, end in timed}
    for i, pairs in found.items():
        events[i].conflicts.extend(labels[other] for other, _ in sorted(pairs))


def events_unknown(day: dt.date, first: dt.date, last: dt.date) -> str:
    """The plain sentence for a day the calendars were not expanded for.

    The raw calendars are not kept (and a URL or CalDAV calendar would mean network I/O in
    a read), so such a day is not expanded on demand: it is said to be unknown instead.
    """
    return (f"{day.isoformat()} is outside the calendar window Oxymus keeps (from {first.isoformat()} to "
            f"{last.isoformat()}); events are not known for it. [calendar] past_days and future_days set the window.")


def _event(item: StateItem, day: dt.date, day_start: dt.datetime, day_end: dt.datetime, zone: ZoneInfo) -> TodayEvent | None:
    start = _parse(item.starts_at or "").astimezone(zone)
    end = _parse(item.ends_at or "").astimezone(zone)
    if not (start < day_end and (end > day_start or (end == start and start >= day_start))):
        return None
    all_day = bool(item.data.get("all_day"))
    if all_day:
        first, last = start.date(), (end - dt.timedelta(seconds=1)).date()
        shown_start, shown_end = first.isoformat(), last.isoformat()
    else:
        first, last = start.date(), (end - dt.timedelta(microseconds=1)).date() if end > start else start.date()
        shown_start = start.strftime("%H:%M") if start.date() == day else f"{start:%Y-%m-%d %H:%M}"
        shown_end = end.strftime("%H:%M") if end.date() == day or (end.date() == day + dt.timedelta(days=1) and end.time() == dt.time()) else f"{end:%Y-%m-%d %H:%M}"
    span = (last - first).days + 1
    data = {k: v for k, v in item.data.items() if k not in ("start", "end", "all_day")}
    return TodayEvent(
        **data, key=item.key, source=item.source, start=shown_start, end=shown_end, all_day=all_day,
        day_of=[(day - first).days + 1, span] if span > 1 else None,
        starts_at=item.starts_at or "", ends_at=item.ends_at or "",
    )


def _deadline(item: StateItem, day: dt.date, now: dt.datetime, zone: ZoneInfo) -> TodayDeadline:
    """An all-day deadline is due by the end of its day; a timed one at its moment."""
    data = {k: v for k, v in item.data.items() if k not in ("due", "all_day")}
    due = _parse(item.starts_at or "").astimezone(zone)
    if item.data.get("all_day"):
        end_of_day = _parse(item.ends_at or item.starts_at or "")
        return TodayDeadline(
            **data, key=item.key, source=item.source, due=due.date().isoformat(),
            overdue=end_of_day <= now, days_left=(due.date() - day).days,
        )
    return TodayDeadline(
        **data, key=item.key, source=item.source, due=due.strftime("%Y-%m-%d %H:%M"),
        overdue=due < now, days_left=(due.date() - day).days,
    )


def _bill(item: StateItem, day: dt.date, payments: dict[tuple[str, str], str]) -> TodayBill:
    data = item.data
    due = dt.date.fromisoformat(data["due"])
    days_left = (due - day).days
    paid_at = payments.get((data["bill"], data["due"]))
    if paid_at:
        status = "paid"
    elif data.get("autopay"):
        status = "autopay"
    elif days_left < 0:
        status = "overdue"
    elif days_left == 0:
        status = "due_today"
    else:
        status = "upcoming"
    return TodayBill(**data, status=status, days_left=days_left, paid_at=paid_at)
