"""The Today section's panels as Rich text: pure functions of a `Today`, the day plan, the time now and a width.

No IO. Every line is one line: when it does not fit the width, the least important
part of it is shortened with an ellipsis (a title before a date, a reason before a
title), never the status or the time. Every status is a word as well as a colour
(OVERDUE, stale, failing 3x, ...), so it reads on a monochrome terminal.

A panel knows which of its lines can be acted on (`Panel.rows`): the screen moves a
cursor over them and acts on Enter. A source's age ticks without asking the daemon:
it is the `age_s` the daemon reported plus the seconds elapsed since the reply
arrived (`elapsed`), and an "ok" source whose age passes its `stale_after` turns
"stale" on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable
from zoneinfo import ZoneInfo

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from oxymus.kernel.textfmt import duration
from oxymus.kernel.wording import duration_words, relative_days
from oxymus.models import SourceView
from oxymus.today.view import (
    Today, TodayBill, TodayDeadline, TodayEvent, TodayIssue, TodayProblem, TodayPullRequest, TodayRepo,
)

if TYPE_CHECKING:
    from oxymus.client.protocol import TodayPlanResult

TITLE = "bold"
DIM = "dim"
BAD = "bold red"
WARN = "bold yellow"
GOOD = "green"
CURSOR = "reverse"
NO_SOURCES = "No sources configured — see `oxymus init`."
MIN_PART = 6  # a shortened part keeps at least this many cells

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


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return dt.timezone.utc


# ---- lines that fit ------------------------------------------------------------


def _shorten(text: str, cells: int) -> str:
    if cell_len(text) <= cells:
        return text
    return set_cell_size(text, max(0, cells - 1)).rstrip() + "…"


def fit(parts: Iterable[tuple[str, str]], width: int, shrink: Iterable[int] = ()) -> Text:
    """One line of (text, style) parts in `width` cells: the parts named in `shrink` (least important first)
    are shortened with an ellipsis until it fits; what still does not fit is cut at the end."""
    parts = list(parts)
    texts = [t for t, _ in parts]
    over = sum(cell_len(t) for t in texts) - width
    for i in shrink:
        if over <= 0:
            break
        have = cell_len(texts[i])
        keep = max(min(have, MIN_PART), have - over)
        texts[i] = _shorten(texts[i], keep)
        over -= have - cell_len(texts[i])
    line = Text(no_wrap=True, overflow="ellipsis")
    for text, (_, style) in zip(texts, parts):
        line.append(text, style=style)
    if line.cell_len > width:
        line.truncate(max(1, width), overflow="ellipsis")
    return line


@dataclass(frozen=True)
class Row:
    """A line the cursor can stop on, and what Enter acts on."""

    kind: str  # event, bill, pr, issue, repo
    key: str  # stable across reloads: the cursor stays on it
    item: Any


@dataclass
class Panel:
    title: Text
    lines: list[Text] = field(default_factory=list)
    rows: dict[int, Row] = field(default_factory=dict)  # index in `lines` -> the row on it

    def add(self, line: Text, row: Row | None = None) -> None:
        if row is not None:
            self.rows[len(self.lines)] = row
        self.lines.append(line)

    def text(self, selected: str | None = None, hint: str = "") -> Text:
        """The title and the lines; the selected row's line is highlighted and the title says what Enter does."""
        title = self.title.copy()
        out = Text(no_wrap=True, overflow="ellipsis")
        chosen = next((i for i, r in self.rows.items() if r.key == selected), None)
        if chosen is not None and hint:
            title.append(f"  ⏎ {hint}", style="italic")
        out.append_text(title)
        for i, line in enumerate(self.lines):
            out.append("\n")
            if i == chosen:
                line = line.copy()
                line.stylize(CURSOR)
            out.append_text(line)
        return out

    def line_of(self, key: str) -> int | None:
        """The line (0: the title) a row is shown on."""
        return next((i + 1 for i, r in self.rows.items() if r.key == key), None)


def _title(title: str, count: int | None = None, extra: str = "") -> Text:
    text = Text(title, style=TITLE)
    if count is not None:
        text.append(f" {count}", style=DIM)
    if extra:
        text.append(f" · {extra}", style=DIM)
    return text


def header(today: Today) -> Text:
    """The date and the zone: "Saturday 21 November 2026 · Europe/Berlin"."""
    try:
        day = dt.date.fromisoformat(today.date)
        shown = f"{day:%A} {day.day} {day:%B %Y}"
    except ValueError:
        shown = today.date
    text = Text(shown, style="bold", no_wrap=True, overflow="ellipsis")
    text.append(f" · {today.zone}", style=DIM)
    return text


# ---- the day plan's top three -------------------------------------------------------


def top_three(result: TodayPlanResult | None, today: Today, width: int, plan_key: str = "p",
              error: str | None = None) -> Panel:
    """The planner's top three for the day, with why; one line saying how to get a plan when there is none."""
    if result is None or result.plan is None:
        panel = Panel(_title("Top three"))
        why = f" ({result.hint})" if result is not None and result.hint else ""
        if result is None and error:
            panel.add(fit([("  The daemon could not give the day plan: ", "yellow"), (error, "")], width, shrink=(1,)))
        elif result is None:
            panel.add(fit([("  asking the daemon for the day plan…", DIM)], width))
        else:
            panel.add(fit([("  No day plan yet", "yellow"), (f"; {plan_key} makes one now", ""), (why, DIM)], width, shrink=(2,)))
        return panel
    plan = result.plan
    made = plan.made.split()[-1] if plan.made else ""
    panel = Panel(_title("Top three", extra=f"made {made}" + (" · ranked by the LLM" if plan.ranking == "llm" else "")))
    unpaid = {f"bills.due:{b.bill}@{b.due}" for b in today.bills if b.status != "paid"}
    if not plan.top:
        panel.add(fit([("  Nothing urgent, due or planned: a free day.", DIM)], width))
    for item in plan.top:
        done = item.kind == "bill" and item.ref not in unpaid  # paid since the plan was made
        row = None if done else _plan_row(item.kind, item.ref, today)
        head = [(f"  {item.rank} ", "bold"), ("✓ " if done else "", GOOD), (item.title, DIM if done else "bold")]
        whole = [*head, (f" — {item.why}", DIM)] if item.why else head
        if sum(cell_len(text) for text, _ in whole) <= width or not item.why:
            panel.add(fit(whole, width, shrink=(2,)), row)
        else:  # the why on a line of its own rather than cut: it holds the amount, the date, the reason
            panel.add(fit(head, width, shrink=(2,)), row)
            panel.add(fit([("    ", ""), (item.why, DIM)], width, shrink=(1,)))
    return panel


def _plan_row(kind: str, ref: str, today: Today) -> Row | None:
    """A top-three item acts like the row it is about, while the day still shows that row."""
    key = f"plan:{ref}"
    if kind == "bill":
        bill = next((b for b in today.bills if f"bills.due:{b.bill}@{b.due}" == ref), None)
        return Row("bill", key, bill) if bill is not None else None
    if kind in ("review", "ci"):
        pr = next((p for p in today.pull_requests if p.url == ref), None)
        return Row("pr", key, pr) if pr is not None else None
    if kind == "repo":
        repo = next((r for r in today.repos if f"git.repo:{r.path}" == ref), None)
        return Row("repo", key, repo) if repo is not None else None
    return None  # a deadline or a PLANS.md action: nothing to do from here yet


# ---- the timeline: events, free slots, the now line ------------------------------------


def _event_line(event: TodayEvent, now: dt.datetime, width: int) -> Text:
    ends, starts = _parse(event.ends_at), _parse(event.starts_at)
    over = ends is not None and ends <= now and not event.all_day
    going = not over and starts is not None and ends is not None and starts <= now < ends and not event.all_day
    # A timed event crossing midnight carries its date in start or end; "day 1/2" already says so.
    when = "all day" if event.all_day else f"{event.start.split()[-1]}–{event.end.split()[-1]}"
    style = DIM if over else ("bold" if going else "")
    parts = [("  ", ""), (f"{when:<11}  ", style), (event.summary, style),
             (f" · {event.location}" if event.location else "", DIM),
             (f"  day {event.day_of[0]}/{event.day_of[1]}" if event.day_of else "", DIM),
             ("  ⚠ overlaps" if event.conflicts else "", WARN), ("  now" if going else "", "bold green")]
    return fit(parts, width, shrink=(3, 2))


def _now_line(now: dt.datetime, zone: dt.tzinfo, width: int) -> Text:
    label = f"  ── {now.astimezone(zone):%H:%M} now "
    return Text(label + "─" * max(0, width - 1 - cell_len(label)), style="bold green", no_wrap=True, overflow="crop")


def timeline(today: Today, result: TodayPlanResult | None, now: dt.datetime, width: int) -> Panel:
    """Always shown: the day's events in order, the free slots between them (from now on) and a now line."""
    zone = _zone(today.zone)
    slots = result.free_slots if result is not None else []
    entries: list[tuple[dt.datetime, int, Any]] = []
    for event in today.events:
        start = _parse(event.starts_at)
        if not event.all_day and start is not None:
            entries.append((start, 1, event))
    free_minutes = 0
    for slot in slots:
        start, end = _parse(slot.starts_at), _parse(slot.ends_at)
        if start is None or end is None or end <= now:
            continue
        start = max(start, now)
        if (end - start).total_seconds() < 60:
            continue
        free_minutes += int((end - start).total_seconds() // 60)
        entries.append((start, 0, (start, end)))
    entries.sort(key=lambda e: (e[0], e[1]))
    extra = []
    if result is not None and result.working_hours:
        extra.append(f"free {duration_words(free_minutes)} of {result.working_hours}" if free_minutes else f"no free slot left in {result.working_hours}")
    panel = Panel(_title("Timeline", len(today.events) or None, " · ".join(extra)))
    if today.events_unknown:
        panel.add(fit([(f"  {today.events_unknown}", "yellow")], width))
    elif not today.events:
        panel.add(fit([("  nothing scheduled", DIM)], width))
    for event in today.events:  # the daemon sorts them: all-day first
        if event.all_day:
            panel.add(_event_line(event, now, width), Row("event", f"event:{event.key}", event))
    now_shown = False
    for start, kind, entry in entries:
        if not now_shown and start > now:
            panel.add(_now_line(now, zone, width))
            now_shown = True
        if kind == 1:
            panel.add(_event_line(entry, now, width), Row("event", f"event:{entry.key}", entry))
        else:
            begin, end = entry
            minutes = int((end - begin).total_seconds() // 60)
            when = f"{begin.astimezone(zone):%H:%M}–{end.astimezone(zone):%H:%M}"
            panel.add(fit([("  ", ""), (f"{when:<11}  ", "green"), (f"free {duration_words(minutes)}", "green")], width))
    if not now_shown and not today.events_unknown:
        panel.add(_now_line(now, zone, width))
    return panel


def phases(items: list[TodayEvent], now: dt.datetime) -> tuple:
    """What the timeline depends on in time: the minute, and (started, over) per event."""
    out: list[Any] = [now.replace(second=0, microsecond=0)]
    for e in items:
        starts, ends = _parse(e.starts_at), _parse(e.ends_at)
        out.append((starts is not None and starts <= now, ends is not None and ends <= now))
    return tuple(out)


# ---- deadlines, bills, pull requests and issues, repos, problems ---------------------


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


def deadlines(items: list[TodayDeadline], width: int) -> Panel | None:
    if not items:
        return None
    panel = Panel(_title("Deadlines", len(items)))
    names = min(40, max(cell_len(d.summary) for d in items))
    for d in items:
        day, _, clock = d.due.partition(" ")
        panel.add(fit([("  ", ""), (f"{'OVERDUE' if d.overdue else 'due':<9}", BAD if d.overdue else DIM),
                       (f"{_shorten(d.summary, names):<{names}}", "bold" if d.overdue else ""),
                       (f"  {when(day, d.days_left, clock)}", DIM)], width, shrink=(2,)))
    return panel


def bills(items: list[TodayBill], width: int) -> Panel | None:
    if not items:
        return None
    panel = Panel(_title("Bills", len(items)))
    amounts = max(len(f"{b.amount:,.2f}") for b in items)
    names = min(30, max(cell_len(b.name) for b in items))
    for b in items:
        label, style = BILL_LABELS.get(b.status, (b.status, ""))
        quiet = b.status in ("paid", "autopay")
        parts = [("  ", ""), (f"{label:<9}", style), (f"  {b.amount:>{amounts},.2f} {b.currency}  ", DIM if quiet else ""),
                 (f"{_shorten(b.name, names):<{names}}", DIM if quiet else ("bold" if b.status == "overdue" else "")),
                 (f"  {when(b.due, b.days_left)}", DIM)]
        panel.add(fit(parts, width, shrink=(3,)), Row("bill", f"bill:{b.bill}@{b.due}", b))
    return panel


PR_STYLES = {"review requested": "bold cyan", "CI failing": BAD, "CI pending": WARN}


def work(prs: list[TodayPullRequest], issues: list[TodayIssue], issues_assigned: int, width: int) -> Panel | None:
    """Pull requests needing you, then the issues assigned to you: each opens in the browser."""
    if not prs and not issues and not issues_assigned:
        return None
    extra = f"{len(issues) or issues_assigned} issue{'s' if (len(issues) or issues_assigned) != 1 else ''}" if issues or issues_assigned else ""
    panel = Panel(_title("Pull requests", len(prs) or None, extra))
    for p in prs:
        why = p.why + (": " + ", ".join(p.failing_checks) if p.failing_checks else "")
        panel.add(fit([("  ", ""), (f"{p.repo}#{p.number} ", "bold"), (p.title, ""), (f" — {why}", PR_STYLES.get(p.why, ""))],
                      width, shrink=(2, 3, 1)), Row("pr", f"pr:{p.url}", p))
    for i in issues:
        labels = f" [{', '.join(i.labels)}]" if i.labels else ""
        panel.add(fit([("  ", ""), (f"{i.repo}#{i.number} ", "bold"), (i.title, ""), (labels, DIM), (" — issue", DIM)],
                      width, shrink=(3, 2, 1)), Row("issue", f"issue:{i.url}", i))
    if issues_assigned and not issues:
        panel.add(fit([(f"  {issues_assigned} open issue{'s' if issues_assigned != 1 else ''} assigned to you", DIM)], width))
    return panel


def repos(items: list[TodayRepo], width: int) -> Panel | None:
    if not items:
        return None
    panel = Panel(_title("Repos needing attention", len(items)))
    for r in items:
        detail = [("error ", BAD), (r.error or "", "")] if r.error else [(", ".join(r.attention) or "needs attention", "")]
        panel.add(fit([("  ", ""), (r.name, "bold"), (f" ({r.branch})" if r.branch else "", DIM), (": ", ""), *detail],
                      width, shrink=(len(detail) + 3, 2, 1)), Row("repo", f"repo:{r.path}", r))
    return panel


def problems(items: list[TodayProblem], width: int) -> Panel | None:
    if not items:
        return None
    panel = Panel(_title("Problems", len(items)))
    for p in items:
        panel.add(fit([("  ", ""), (p.source, BAD), (f": {p.message}", "")], width, shrink=(2,)))
    return panel


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

    def age(self) -> str:
        if self.age_s is not None and self.status not in ("failing", "needs_human"):
            return f" {duration(self.age_s)}"
        return ""


def source_row(view: SourceView, elapsed: float, name_width: int) -> Text:
    """One source on one line: "git  ok 12s", "calendar.personal  stale 2h01m", "github  failing 3x"."""
    s = SourceNow.of(view, elapsed)
    word, style = s.word()
    out = Text(f"{view.source:<{name_width}}  ")
    out.append(word, style=style)
    out.append(s.age(), style="" if s.status == "ok" else style)
    return out


def sources_line(items: list[SourceView], elapsed: float, width: int) -> Text:
    """Every source's freshness on one line: "Sources  bills ok 5s · git ok 4s · github failing 3x".

    When they do not all fit, the sources that are fine are summed up ("3 ok, oldest 12s", or only
    "3 ok" when that is still too long) and the others keep their own words."""
    if not items:
        return fit([("Sources ", TITLE), (NO_SOURCES, DIM)], width)
    now = [SourceNow.of(v, elapsed) for v in items]

    def each(s: SourceNow) -> list[tuple[str, str]]:
        word, style = s.word()
        return [(f"{s.view.source} ", ""), (word, style), (s.age(), "" if s.status == "ok" else style)]

    def joined(groups: list[list[tuple[str, str]]]) -> list[tuple[str, str]]:
        parts: list[tuple[str, str]] = [("Sources  ", TITLE)]
        for n, group in enumerate(groups):
            parts += ([(" · ", DIM)] if n else []) + group
        return parts

    full = joined([each(s) for s in now])
    if sum(cell_len(t) for t, _ in full) <= width:
        return fit(full, width)
    ok = [s for s in now if s.status == "ok"]
    groups = [each(s) for s in now if s.status != "ok"]
    if ok:
        oldest = max((s.age_s or 0.0) for s in ok)
        summed = joined([[(f"{len(ok)} ok", GOOD), (f", oldest {duration(oldest)}", "")], *groups])
        if sum(cell_len(t) for t, _ in summed) <= width:
            return fit(summed, width)
        groups.insert(0, [(f"{len(ok)} ok", GOOD)])  # still too long: the fine ones' age goes before the others' words
    return fit(joined(groups), width)


def source_detail(view: SourceView, elapsed: float, now: dt.datetime) -> Text | None:
    """Under a failing source: its error, how old its data is, when it is tried next. None when all is well."""
    s = SourceNow.of(view, elapsed)
    lines: list[Text] = []
    if s.status in ("failing", "needs_human"):
        if view.last_error:
            lines.append(Text(" ".join(view.last_error.split())))
        details = [f"last ok {duration(s.age_s)} ago" if s.age_s is not None else "never polled ok"]
        moment = _parse(view.next_attempt) if view.next_attempt else None
        if moment is not None:
            wait = (moment - now).total_seconds()
            details.append(f"next try in {duration(wait)}" if wait >= 1 else "retrying…")
        lines.append(Text(" · ".join(details), style=DIM))
    if view.suspect:
        lines.append(Text(f"held back: {' '.join(view.suspect.split())}", style=WARN))
    return Text("\n").join(lines) if lines else None


def sources_title(items: list[SourceView]) -> Text:
    return _title("Sources", len(items) or None)


def summary(today: Today, elapsed: float, width: int = 200) -> str:
    """The section bar's one-line digest, the most important first kept when `width` is short:
    failing sources, then what is overdue, stale sources, and the number of events."""
    if not today.sources:
        return "no sources"
    statuses = [SourceNow.of(v, elapsed).status for v in today.sources]
    failing = sum(s in ("failing", "needs_human") for s in statuses)
    stale = statuses.count("stale")
    overdue = sum(b.status == "overdue" for b in today.bills) + sum(d.overdue for d in today.deadlines)
    parts = {  # in the order shown; by importance below
        "events": f"{len(today.events)} event{'s' if len(today.events) != 1 else ''}",
        "overdue": f"{overdue} overdue" if overdue else "",
        "failing": f"{failing} source{'s' if failing != 1 else ''} failing" if failing else "",
        "stale": f"{stale} stale" if stale else "",
    }
    kept: list[str] = []
    for name in ("failing", "overdue", "stale", "events"):
        if parts[name] and cell_len(" · ".join([parts[k] for k in kept] + [parts[name]])) <= width:
            kept.append(name)
    return " · ".join(parts[name] for name in parts if name in kept)
