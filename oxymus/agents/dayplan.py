"""The planner's pure part: working hours, free slots, deep-work blocks, the ranking rules, the plan's words.

No IO and no LLM here: `oxymus.agents.planner` reads the state, calls these, and
writes what they return. Every time is computed in code from aware datetimes:

- A day is [local midnight, next local midnight) in the person's zone, so a DST
  day is 23 or 25 hours long; intervals are compared in UTC (Python compares two
  datetimes with the same tzinfo by wall time, which is wrong across a change).
- Working hours are a local window (`day_start`..`day_end`) on that day. Events are
  clipped to it (an event crossing midnight counts for the part inside), merged
  where they overlap or touch, and the gaps at least `min_slot` long are the free
  slots. All-day events are shown but do not take time unless `all_day_busy`
  (most are markers: birthdays, holidays, trips, a conference you may skip).
  Zero-length events take no time.
- On the day itself, slots start no earlier than now (rounded up to 5 minutes):
  a plan made late shows only time still to come.
- Deep-work blocks are `block_length` pieces of the free slots inside the
  deep-work window, earliest first, back to back, at most `max_blocks`.

Ranking rules (`TIERS`), first the tier, then inside it the earliest due first
(for PLANS.md items, document order):

0. overdue deadlines and bills (unpaid, not on autopay)
1. deadlines and bills due today
2. deadlines and bills due tomorrow
3. review requests: someone waits for you
4. your pull requests with failing CI
5. PLANS.md next actions under a goal (the first open items of each section)
6. deadlines due later this week
7. other PLANS.md next actions
8. repositories that need attention (unpushed, uncommitted, a stopped rebase)

The top three are the first three; the rest (some of them) is the drop/defer list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from oxymus.kernel.wording import clock, day_words, duration_words, money, relative_days
from oxymus.sources.contract import StateItem, utc_iso
from oxymus.time.timeofday import local_at
from oxymus.today.view import Today, TodayBill, TodayDeadline, TodayPullRequest, TodayRepo

TIERS: dict[int, str] = {
    0: "overdue",
    1: "due today",
    2: "due tomorrow",
    3: "someone waits for your review",
    4: "CI failing on your pull request",
    5: "next action under a goal in PLANS.md",
    6: "due this week",
    7: "next action in PLANS.md",
    8: "repository needs attention",
}
PLAN_ACTIONS_PER_SECTION = 3  # the first open items of each PLANS.md section are candidates
DEFER_SHOWN = 8
WEEK_DAYS = 7


# ---------------------------------------------------------------- clocks and spans


@dataclass(frozen=True)
class Span:
    """[start, end) as aware UTC datetimes."""

    start: dt.datetime
    end: dt.datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def clip(self, other: "Span") -> "Span | None":
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Span(start, end) if start < end else None


def window(day: dt.date, start: dt.time, end: dt.time, zone: ZoneInfo) -> Span:
    return Span(local_at(day, start, zone), local_at(day, end, zone))


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.timezone.utc)


def busy_spans(items: list[StateItem], within: Span, *, all_day_busy: bool = False) -> list[Span]:
    """The time calendar events take inside `within`, merged (overlapping or touching events become one)."""
    spans: list[Span] = []
    for item in items:
        if item.kind != "calendar.event" or item.error or not item.starts_at or not item.ends_at:
            continue
        if item.data.get("all_day") and not all_day_busy:
            continue
        start, end = parse_iso(item.starts_at), parse_iso(item.ends_at)
        if end <= start:
            continue
        part = Span(start, end).clip(within)
        if part is not None:
            spans.append(part)
    return merge(spans)


def merge(spans: list[Span]) -> list[Span]:
    """Sorted, with overlapping or touching spans joined."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged and span.start <= merged[-1].end:
            if span.end > merged[-1].end:
                merged[-1] = Span(merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged


def round_up(moment: dt.datetime, minutes: int = 5) -> dt.datetime:
    step = minutes * 60
    seconds = int(moment.timestamp())
    rounded = -(-seconds // step) * step
    return dt.datetime.fromtimestamp(rounded, dt.timezone.utc)


def free_slots(within: Span, busy: list[Span], *, min_minutes: float, not_before: dt.datetime | None = None) -> list[Span]:
    """The gaps between `busy` (merged, sorted) inside `within`, from `not_before` on, at least `min_minutes` long."""
    cursor = within.start if not_before is None else max(within.start, not_before)
    out: list[Span] = []
    for span in busy:
        if span.start > cursor:
            out.append(Span(cursor, min(span.start, within.end)))
        cursor = max(cursor, span.end)
        if cursor >= within.end:
            break
    if cursor < within.end:
        out.append(Span(cursor, within.end))
    return [s for s in out if s.end > s.start and (s.end - s.start).total_seconds() >= min_minutes * 60]


def place_blocks(slots: list[Span], deep: Span, *, length_minutes: float, max_blocks: int) -> list[Span]:
    """Back-to-back blocks of `length_minutes` in the free slots inside the deep-work window, earliest first."""
    length = dt.timedelta(minutes=length_minutes)
    out: list[Span] = []
    for slot in slots:
        part = slot.clip(deep)
        if part is None:
            continue
        start = part.start
        while start + length <= part.end and len(out) < max_blocks:
            out.append(Span(start, start + length))
            start += length
    return out


# ---------------------------------------------------------------- the plan's data


class PlanEvent(BaseModel):
    summary: str
    when: str = Field(description="local times as shown: 09:30–09:45, or 'all day'")
    all_day: bool
    day_of: list[int] | None = None
    location: str | None = None
    recurring: bool = False
    source: str
    key: str
    starts_at: str
    ends_at: str


class PlanSlot(BaseModel):
    start: str = Field(description="local HH:MM")
    end: str
    starts_at: str = Field(description="UTC ISO")
    ends_at: str
    minutes: int


class PlanItem(BaseModel):
    id: str = Field(description="c1, c2...: the candidate's place in the rule order")
    rank: int
    kind: Literal["deadline", "bill", "review", "ci", "plan", "repo"]
    title: str
    why: str
    why_by: Literal["rules", "llm"] = "rules"
    rule: str = Field(description="the ranking rule that placed it")
    ref_kind: str
    ref: str


class DeferItem(BaseModel):
    title: str
    why: str


class PlanBlock(BaseModel):
    start: str
    end: str
    starts_at: str
    ends_at: str
    summary: str
    action_id: str | None = None
    status: str | None = None
    new: bool = False


class StaleSource(BaseModel):
    source: str
    status: str
    note: str


class DayPlan(BaseModel):
    """The structured day plan, stored as the artifact's `data`; the markdown is rendered from it."""

    date: str
    title: str
    zone: str
    generated_at: str = Field(description="UTC ISO")
    made: str = Field(description="when it was made, local: Mon 23 Nov 06:30")
    working_hours: str
    min_slot: str
    dst_note: str | None = None
    events: list[PlanEvent] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)
    free_slots: list[PlanSlot] = Field(default_factory=list)
    free_minutes: int = 0
    top: list[PlanItem] = Field(default_factory=list)
    defer: list[DeferItem] = Field(default_factory=list)
    deadlines: list[TodayDeadline] = Field(default_factory=list)
    bills: list[TodayBill] = Field(default_factory=list)
    pull_requests: list[TodayPullRequest] = Field(default_factory=list)
    repos: list[TodayRepo] = Field(default_factory=list)
    preferences: list[str] = Field(default_factory=list, description="hot memory preferences, as context")
    hot_memory: list[str] = Field(default_factory=list, description="other hot memory titles")
    goals: list[str] = Field(default_factory=list)
    stale_sources: list[StaleSource] = Field(default_factory=list)
    blocks: list[PlanBlock] = Field(default_factory=list)
    block_note: str | None = None
    ranking: Literal["rules", "llm"] = "rules"
    llm: str = ""


# ---------------------------------------------------------------- events


def plan_events(today: Today, day: dt.date, zone: ZoneInfo, with_zone: bool) -> list[PlanEvent]:
    out = []
    for ev in today.events:
        if ev.all_day:
            when = "all day"
        else:
            start, end = parse_iso(ev.starts_at), parse_iso(ev.ends_at)
            when = f"{clock(start, zone, day=day, with_zone=with_zone)}–{clock(end, zone, day=day, with_zone=with_zone)}"
        out.append(PlanEvent(summary=ev.summary, when=when, all_day=ev.all_day, day_of=ev.day_of, location=ev.location,
                             recurring=ev.recurring, source=ev.source, key=ev.key, starts_at=ev.starts_at, ends_at=ev.ends_at))
    return out


def conflicts(today: Today, zone: ZoneInfo, day: dt.date) -> list[str]:
    """Timed events that overlap each other: one of them has to give."""
    timed = [(parse_iso(e.starts_at), parse_iso(e.ends_at), e.summary) for e in today.events if not e.all_day]
    timed = [t for t in timed if t[1] > t[0]]
    timed.sort()
    out = []
    for i, (s1, e1, n1) in enumerate(timed):
        for s2, e2, n2 in timed[i + 1:]:
            if s2 >= e1:
                break
            both = Span(max(s1, s2), min(e1, e2))
            out.append(f"{n1} and {n2} overlap {clock(both.start, zone, day=day)}–{clock(both.end, zone, day=day)}: "
                       "drop or move one")
    return out


def slot_view(span: Span, zone: ZoneInfo, day: dt.date, with_zone: bool) -> PlanSlot:
    return PlanSlot(start=clock(span.start, zone, day=day, with_zone=with_zone), end=clock(span.end, zone, day=day, with_zone=with_zone),
                    starts_at=utc_iso(span.start), ends_at=utc_iso(span.end), minutes=span.minutes)


# ---------------------------------------------------------------- ranking


@dataclass
class Candidate:
    """Something that could be in today's top three, with the rule that placed it."""

    tier: int
    kind: str
    title: str
    why: str
    facts: str  # what code knows about it, in words: given to the LLM and used to check its wording
    ref_kind: str
    ref: str
    order: tuple[Any, ...] = ()
    deep: bool = True  # worth a deep-work block (paying a bill is not)
    id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _deadline_candidate(d: TodayDeadline, day: dt.date) -> Candidate | None:
    due_day = dt.date.fromisoformat(d.due[:10])
    at = f" at {d.due[11:16]}" if len(d.due) > 10 else ""
    if d.overdue:
        tier, why = 0, f"overdue: it was due {day_words(due_day)}{at} ({relative_days(d.days_left)})" if d.days_left < 0 \
            else f"overdue: it was due today{at}"
    elif d.days_left == 0:
        tier, why = 1, f"due today{at}"
    elif d.days_left == 1:
        tier, why = 2, f"due tomorrow ({day_words(due_day)}{at})"
    elif d.days_left <= WEEK_DAYS:
        tier, why = 6, f"due {day_words(due_day)}{at} ({relative_days(d.days_left)})"
    else:
        return None
    return Candidate(tier=tier, kind="deadline", title=d.summary, why=why, facts=why, ref_kind="state",
                     ref=f"calendar.deadline:{d.key}", order=(d.due, d.summary))


def _bill_candidate(b: TodayBill) -> Candidate | None:
    due_day = dt.date.fromisoformat(b.due)
    amount = money(b.amount, b.currency)
    if b.status == "overdue":
        tier, why = 0, f"overdue since {day_words(due_day)} ({relative_days(b.days_left)}): {amount}"
    elif b.status == "due_today":
        tier, why = 1, f"due today: {amount}"
    elif b.status == "upcoming" and b.days_left == 1:
        tier, why = 2, f"due tomorrow ({day_words(due_day)}): {amount}"
    else:
        return None
    if b.url:
        why += f"; pay at {b.url}"
    return Candidate(tier=tier, kind="bill", title=f"Pay {b.name}", why=why, facts=why, ref_kind="state",
                     ref=f"bills.due:{b.bill}@{b.due}", order=(b.due, b.name), deep=False)


def _pr_candidates(items: list[StateItem]) -> list[Candidate]:
    out = []
    for item in items:
        if item.error:
            continue
        d = item.data
        repo, number, title = d.get("repo", "?"), d.get("number", 0), d.get("title", "(no title)")
        if item.kind == "github.review_request":
            who = d.get("author")
            why = f"{who} is waiting for your review" if who else "your review was requested"
            out.append(Candidate(tier=3, kind="review", title=f"Review {repo}#{number}: {title}", why=why,
                                 facts=f"{why}; pull request {repo}#{number}", ref_kind="url", ref=d.get("url", item.key),
                                 order=(d.get("updated_at", ""), repo, number)))
        elif item.kind == "github.pr" and d.get("ci") == "failure":
            checks = ", ".join(d.get("failing_checks") or [])
            why = "CI is failing on your pull request" + (f" ({checks})" if checks else "")
            out.append(Candidate(tier=4, kind="ci", title=f"Fix CI on {repo}#{number}: {title}", why=why,
                                 facts=f"{why}; pull request {repo}#{number}", ref_kind="url", ref=d.get("url", item.key),
                                 order=(repo, number)))
    return out


def _plan_candidates(doc: Any) -> list[Candidate]:
    """The first open items of each PLANS.md section: leaves of the open tree (an open item's open sub-items come first)."""
    if doc is None:
        return []
    goal_lines = {g.line for g in doc.goals}
    labels = [g for g in doc.goals if g.source == "label" and not g.done]
    open_ = [a for a in doc.actions if not a.done and a.done_date is None and a.line not in goal_lines]
    parents = {a.parent for a in open_ if a.parent}
    by_id = {a.id: a for a in doc.actions}
    per_section: dict[tuple[str, ...], int] = {}
    out = []
    for index, action in enumerate(open_):
        if action.id in parents:
            continue  # its open sub-items are the next steps
        section = tuple(action.section)
        if per_section.get(section, 0) >= PLAN_ACTIONS_PER_SECTION:
            continue
        per_section[section] = per_section.get(section, 0) + 1
        chain, parent = [], action.parent
        while parent and parent in by_id and len(chain) < 3:
            chain.insert(0, by_id[parent].text)
            parent = by_id[parent].parent
        goal = next((g for g in sorted(labels, key=lambda g: -len(g.section)) if tuple(g.section) == section[:len(g.section)]), None)
        where = " › ".join(section[-1:] + tuple(chain)) if section or chain else "PLANS.md"
        if goal is not None:
            tier, why = 5, f"next action toward the goal “{goal.text}”"
        else:
            tier, why = 7, f"next action in PLANS.md ({where})"
        title = action.text if not chain else f"{action.text} ({chain[-1]})"
        out.append(Candidate(tier=tier, kind="plan", title=title, why=why, facts=f"{why}; section {where}", ref_kind="plans",
                             ref=action.id, order=(index,), extra={"line": action.line}))
    return out


def _repo_candidates(repos: list[TodayRepo]) -> list[Candidate]:
    out = []
    for r in repos:
        why = r.error or ", ".join(r.attention) or "needs attention"
        out.append(Candidate(tier=8, kind="repo", title=f"Tidy up {r.name}", why=why, facts=f"{r.name}: {why}", ref_kind="state",
                             ref=f"git.repo:{r.path}", order=(r.name,), deep=False))
    return out


def candidates(today: Today, day: dt.date, items: list[StateItem], plans: Any) -> list[Candidate]:
    """Everything that could be in the top three, in rule order, with ids c1, c2, ..."""
    found: list[Candidate] = []
    for d in today.deadlines:
        c = _deadline_candidate(d, day)
        if c is not None:
            found.append(c)
    for b in today.bills:
        c = _bill_candidate(b)
        if c is not None:
            found.append(c)
    found += _pr_candidates([i for i in items if i.kind in ("github.review_request", "github.pr")])
    found += _plan_candidates(plans)
    found += _repo_candidates(today.repos)
    found.sort(key=lambda c: (c.tier, c.order, c.title))
    for n, c in enumerate(found, start=1):
        c.id = f"c{n}"
    return found


def plan_item(c: Candidate, rank: int, why: str | None = None) -> PlanItem:
    return PlanItem(id=c.id, rank=rank, kind=c.kind, title=c.title, why=why or c.why, why_by="llm" if why else "rules",  # type: ignore[arg-type]
                    rule=TIERS[c.tier], ref_kind=c.ref_kind, ref=c.ref)


def defer_list(rest: list[Candidate]) -> list[DeferItem]:
    out = []
    for c in rest[:DEFER_SHOWN]:
        if c.tier <= 2:
            why = f"{c.why}; urgent too: if the three fill the day, make it tomorrow's first"
        elif c.kind == "plan":
            why = f"not today; it stays in PLANS.md ({c.why})"
        elif c.tier == 6:
            why = f"{c.why}: there is still time after today"
        elif c.kind == "repo":
            why = f"{c.why}: it can wait"
        else:
            why = f"{c.why}: after the top three"
        out.append(DeferItem(title=c.title, why=why))
    return out


def due_words(due: str) -> str:
    """`2026-11-24` -> `Tue 24 Nov`; `2026-11-27 12:00` -> `Fri 27 Nov 12:00`."""
    day = dt.date.fromisoformat(due[:10])
    return f"{day_words(day)}{due[10:]}"


def days_late(days_left: int) -> str:
    return f"{-days_left} day{'s' if days_left != -1 else ''} overdue" if days_left < 0 else "overdue"


# ---------------------------------------------------------------- markdown


def render(plan: DayPlan) -> str:
    """The day plan as markdown: fixed events, free slots, top three, drop/defer, worth knowing, context."""
    lines = [f"# {plan.title}", ""]
    made = f"made {plan.made} ({plan.zone}) · ranked by " + ("the rules, worded by the LLM" if plan.ranking == "llm" else "the rules")
    lines += [f"_{made}_", ""]
    if plan.dst_note:
        lines += [f"> {plan.dst_note}", ""]

    lines += ["## Fixed events", ""]
    if plan.events:
        for ev in plan.events:
            extra = []
            if ev.day_of:
                extra.append(f"day {ev.day_of[0]} of {ev.day_of[1]}")
            if ev.recurring:
                extra.append("repeats")
            if ev.location:
                extra.append(ev.location)
            lines.append(f"- {ev.when}: {ev.summary}" + (f" ({'; '.join(extra)})" if extra else ""))
    else:
        lines.append("- none: nothing is fixed today")
    for c in plan.conflicts:
        lines.append(f"- ⚠ {c}")
    lines.append("")

    lines += [f"## Free slots ({plan.working_hours}, at least {plan.min_slot})", ""]
    if plan.free_slots:
        for s in plan.free_slots:
            lines.append(f"- {s.start}–{s.end} ({duration_words(s.minutes)})")
        lines.append(f"- free in all: {duration_words(plan.free_minutes)}")
    else:
        lines.append("- none left in working hours")
    lines.append("")

    lines += ["## Top three", ""]
    if plan.top:
        for item in plan.top:
            lines.append(f"{item.rank}. **{item.title}**: {item.why}")
    else:
        lines.append("Nothing urgent, due or planned: a free day. PLANS.md has no open next action.")
    lines.append("")

    lines += ["## Drop or defer", ""]
    if plan.defer or plan.conflicts:
        for d in plan.defer:
            lines.append(f"- {d.title}: {d.why}")
        for c in plan.conflicts:
            lines.append(f"- {c}")
    else:
        lines.append("- nothing to drop")
    lines.append("")

    lines += ["## Worth knowing", ""]
    known = False
    for d in plan.deadlines:
        state = days_late(d.days_left) if d.overdue else relative_days(d.days_left)
        lines.append(f"- deadline: {d.summary}, due {due_words(d.due)} ({state})")
        known = True
    for b in plan.bills:
        state = {"overdue": days_late(b.days_left), "due_today": "today", "paid": "paid",
                 "autopay": "paid automatically"}.get(b.status, relative_days(b.days_left))
        lines.append(f"- bill: {b.name}, {money(b.amount, b.currency)} due {due_words(b.due)} ({state})")
        known = True
    for p in plan.pull_requests:
        lines.append(f"- pull request {p.repo}#{p.number} {p.title}: {p.why}" + (f" ({', '.join(p.failing_checks)})" if p.failing_checks else ""))
        known = True
    for r in plan.repos:
        lines.append(f"- repository {r.name}: {r.error or ', '.join(r.attention)}")
        known = True
    if not known:
        lines.append("- no deadlines this week, no bills due, no pull requests waiting")
    lines.append("")

    lines += ["## Deep-work blocks", ""]
    for b in plan.blocks:
        state = {"awaiting_approval": "waiting for your approval", "approved": "approved", "succeeded": "in the calendar",
                 "denied": "denied", "expired": "expired"}.get(b.status or "", b.status or "proposed")
        lines.append(f"- {b.start}–{b.end} “{b.summary}” ({state})")
    if plan.block_note:
        lines.append(f"- {plan.block_note}")
    if not plan.blocks and not plan.block_note:
        lines.append("- none: no free time in the deep-work window")
    lines.append("")

    if plan.preferences or plan.goals or plan.hot_memory:
        lines += ["## Context", ""]
        for p in plan.preferences:
            lines.append(f"- preference: {p}")
        for g in plan.goals:
            lines.append(f"- goal: {g}")
        for h in plan.hot_memory:
            lines.append(f"- on your mind: {h}")
        lines.append("")

    lines += ["## What this plan may miss", ""]
    if plan.stale_sources:
        for s in plan.stale_sources:
            lines.append(f"- {s.source} ({s.status}): {s.note}")
    else:
        lines.append("- nothing known: every source is fresh")
    if plan.llm and plan.ranking == "rules":
        lines.append(f"- ranking by the rules only ({plan.llm})")
    lines.append("")
    return "\n".join(lines)
