"""The morning review's pure part: its steps, the stored record, what each step shows, the new top three.

No IO here: `daemon/review_rpc.py` reads the store (the review record, the day plans,
PLANS.md, the inbox, the approval queue), calls these, and writes what they return.

The ritual is six steps, each one screen: Yesterday › Calendar › Inbox › Approvals ›
Top three › Done. The record (one per local date, `reviews` table) holds where the
review stands, the per-item decisions and the chosen top three, so a review left at
any step resumes there, whichever client opens it next.

Yesterday is the last day plan before today (yesterday's, or an older one when reviews
were missed): its top three not done yet, and the PLANS.md next actions that were on
it and are still open; each is carried (to today's candidates), dropped or done. The
days in between are one line ("3 days since your last review: 4 items to carry"),
never one step per missed day.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from oxymus.actions.model import Action
from oxymus.agents.dayplan import DayPlan, DeferItem, PlanItem
from oxymus.agents.triage_models import TriageSuggestion
from oxymus.models import Capture

Step = Literal["yesterday", "calendar", "inbox", "approvals", "top", "done"]
STEPS: tuple[str, ...] = ("yesterday", "calendar", "inbox", "approvals", "top", "done")
LABELS: dict[str, str] = {"yesterday": "Yesterday", "calendar": "Calendar", "inbox": "Inbox", "approvals": "Approvals",
                          "top": "Top three", "done": "Done"}
Decision = Literal["carry", "drop", "done", "accepted", "memory", "plan_action", "archive", "approve", "deny", "snooze",
                   "skipped"]
YESTERDAY_DECISIONS = ("carry", "drop", "done")
TOP = 3


def next_step(step: str) -> str:
    return STEPS[min(STEPS.index(step) + 1, len(STEPS) - 1)]


class ReviewRecord(BaseModel):
    """One day's review as stored: where it stands and what was decided."""

    date: str = Field(description="the local date reviewed, YYYY-MM-DD")
    status: Literal["open", "done"] = "open"
    step: Step = "yesterday"
    decisions: dict[str, Decision] = Field(default_factory=dict, description="item key (yesterday:…, capture:…, action:…) -> what was decided")
    top: list[str] = Field(default_factory=list, description="the chosen top three: candidate ids, best first")
    started_at: str
    updated_at: str
    finished_at: str | None = None


class YesterdayItem(BaseModel):
    key: str = Field(description="yesterday:top:c2, yesterday:plan:<action id>, yesterday:event:<key>")
    kind: Literal["top", "plan", "event"]
    title: str
    why: str
    default: Literal["carry", "drop", "done"] = "carry"
    plans_action: str | None = Field(default=None, description="the PLANS.md action id `done` checks")


class Candidate(BaseModel):
    """Something that can be in today's top three, and why it was suggested."""

    id: str = Field(description="the planner's c1, c2… or carried:…")
    title: str
    why: str
    source: Literal["planner", "defer", "carried"]
    item: PlanItem | None = Field(default=None, description="the planner's item, when it made one")


class InboxEntry(BaseModel):
    capture: Capture
    suggestion: TriageSuggestion | None = None
    offered: bool = Field(description="the suggestion can be carried out now (Enter and A accept it)")
    why_not: str | None = Field(default=None, description="why it is not offered")


class ReviewView(BaseModel):
    """Everything the review shows, and where it stopped (`review.get`)."""

    date: str
    record: ReviewRecord
    steps: list[str] = Field(default_factory=lambda: list(STEPS))
    since_line: str | None = Field(default=None, description="one line for reviews missed on earlier days")
    days_since_last: int | None = Field(default=None, description="days since the last finished review (None: never)")
    yesterday_date: str | None = Field(default=None, description="the day plan the Yesterday step looks back at")
    yesterday: list[YesterdayItem] = Field(default_factory=list)
    plan: DayPlan | None = Field(default=None, description="today's day plan: the calendar, free slots, candidates")
    plan_error: str | None = None
    candidates: list[Candidate] = Field(default_factory=list)
    inbox: list[InboxEntry] = Field(default_factory=list)
    inbox_total: int = 0
    approvals: list[Action] = Field(default_factory=list)
    block_calendar: str | None = Field(default=None, description="the CalDAV entry a focus block can go to (None: not offered)")
    missed: list[str] = Field(default_factory=list, description="notifications that reached neither the desktop nor a TUI, "
                                                                "one line each (the review starts with them; finishing marks them seen)")


# ---------------------------------------------------------------- Yesterday


def yesterday_items(plan: DayPlan | None, open_actions: dict[str, str]) -> list[YesterdayItem]:
    """The last plan's top three not done yet, and the PLANS.md next actions it named that are still open.

    `open_actions`: PLANS.md action id -> text, for the actions open now. A top item from
    PLANS.md that is done since is not asked about; a plan item is carried by default.
    """
    if plan is None:
        return []
    out: list[YesterdayItem] = []
    for item in plan.top:
        if item.kind == "plan":
            if item.ref not in open_actions:
                continue  # done (or gone) since: nothing to decide
            out.append(YesterdayItem(key=f"yesterday:plan:{item.ref}", kind="plan", title=item.title, why=item.why,
                                     plans_action=item.ref))
        else:
            out.append(YesterdayItem(key=f"yesterday:top:{item.ref_kind}:{item.ref}", kind="top", title=item.title,
                                     why=item.why))
    for event in plan.events:
        if event.all_day:
            continue
        if any(event.summary in c for c in plan.conflicts):
            out.append(YesterdayItem(key=f"yesterday:event:{event.key}", kind="event", title=event.summary,
                                     why=f"{event.when}: it overlapped another event; missed?", default="drop"))
    return out


def since_line(today: dt.date, last_done: dt.date | None, last_plan: dt.date | None, to_carry: int) -> str | None:
    """One line for the reviews missed between the last one and today; None when yesterday's was done."""
    if last_done is not None and (today - last_done).days <= 1:
        return None
    if last_done is None:
        head = "Your first review"
    else:
        days = (today - last_done).days
        head = f"{days} days since your last review"
    if not to_carry:
        return f"{head}."
    plan = f" from the plan of {last_plan.isoformat()}" if last_plan is not None and last_plan != today - dt.timedelta(days=1) else ""
    return f"{head}: {to_carry} item{'s' if to_carry != 1 else ''} to carry{plan}"


# ---------------------------------------------------------------- Top three


def candidates(plan: DayPlan | None, carried: list[YesterdayItem]) -> list[Candidate]:
    """Today's candidates: the planner's top three and its drop/defer list, then what was carried from yesterday."""
    out: list[Candidate] = []
    seen: set[str] = set()
    if plan is not None:
        for item in plan.top:
            out.append(Candidate(id=item.id, title=item.title, why=item.why, source="planner", item=item))
            seen.add(item.title)
        for n, d in enumerate(plan.defer, start=1):
            if d.title not in seen:
                out.append(Candidate(id=f"d{n}", title=d.title, why=d.why, source="defer"))
                seen.add(d.title)
    for y in carried:
        if y.title not in seen:
            out.append(Candidate(id=f"carried:{y.key.removeprefix('yesterday:')}", title=y.title,
                                 why=f"carried from yesterday: {y.why}", source="carried"))
            seen.add(y.title)
    return out


def default_top(cands: list[Candidate]) -> list[str]:
    return [c.id for c in cands[:TOP]]


def choose_top(plan: DayPlan, cands: list[Candidate], chosen: list[str]) -> DayPlan:
    """The day plan with the chosen top three (in this order); what was in it and is not chosen goes to drop/defer.

    Raises ValueError naming an id that is not a candidate, or a repeated one.
    """
    by_id = {c.id: c for c in cands}
    unknown = [c for c in chosen if c not in by_id]
    if unknown:
        raise ValueError(f"not a candidate: {', '.join(unknown)} (candidates: {', '.join(by_id) or 'none'})")
    if len(set(chosen)) != len(chosen):
        raise ValueError("the top three name one candidate twice")
    if len(chosen) > TOP:
        raise ValueError(f"at most {TOP} in the top three, not {len(chosen)}")
    top: list[PlanItem] = []
    for rank, cid in enumerate(chosen, start=1):
        c = by_id[cid]
        if c.item is not None:
            top.append(c.item.model_copy(update={"rank": rank}))
        else:
            top.append(PlanItem(id=c.id, rank=rank, kind="plan", title=c.title, why=c.why,
                                rule="chosen in the morning review", ref_kind="review", ref=c.id))
    titles = {t.title for t in top}
    dropped = [DeferItem(title=t.title, why=f"{t.why}; not in today's top three (morning review)")
               for t in plan.top if t.title not in titles]
    defer = dropped + [d for d in plan.defer if d.title not in titles]
    return plan.model_copy(update={"top": top, "defer": defer})
