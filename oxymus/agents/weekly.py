"""The weekly review's pure part: its steps, the stored record, what each step shows, the answers as memory.

No IO here: `daemon/weekly_rpc.py` reads the store (the weekly record, the reflection agent's
`weekly_review` artifact, the approval queue), calls these, and writes what they return.

The ritual is four steps, each one screen: The week › Questions › Proposals › Done. The
record (one per ISO week, `weekly_reviews` table, migration 011) holds where the review
stands, the answers given and the proposals decided, so a review left at any step resumes
there, whichever client opens it next.

The week reviewed is the reflection agent's: the ISO week of its most recent review day
(Sunday by default), so on Sunday it is this week and a Monday catch-up reviews the week
that just ended, the same week the reflection's artifact is written for.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from oxymus.actions.model import Action
from oxymus.agents.reflection_review import QUESTIONS

WeeklyStep = Literal["week", "questions", "proposals", "done"]
WEEKLY_STEPS: tuple[str, ...] = ("week", "questions", "proposals", "done")
WEEKLY_LABELS: dict[str, str] = {"week": "The week", "questions": "Questions", "proposals": "Proposals", "done": "Done"}
AnswerKind = Literal["reflection", "decision"]
ProposalDecision = Literal["approve", "deny", "snooze", "skipped"]
SECTIONS = ("Done", "Slipped", "Decisions", "Numbers")
MAX_ANSWER = 2000


def next_weekly_step(step: str) -> str:
    return WEEKLY_STEPS[min(WEEKLY_STEPS.index(step) + 1, len(WEEKLY_STEPS) - 1)]


def week_key(day: dt.date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


class WeeklyAnswer(BaseModel):
    """One question answered: the words, the kind of memory record, the memory.update action that records it."""

    text: str = Field(min_length=1, max_length=MAX_ANSWER)
    kind: AnswerKind = "reflection"
    action_id: str | None = Field(default=None, description="the memory.update action proposed for it")
    status: str | None = Field(default=None, description="that action's status when last seen")

    @field_validator("text")
    @classmethod
    def _words(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("an answer needs words (skip the question instead)")
        return value


class WeeklyRecord(BaseModel):
    """One week's review as stored: where it stands, the answers and the proposals decided."""

    week: str = Field(description="the ISO week reviewed, e.g. 2026-W49")
    status: Literal["open", "done"] = "open"
    step: WeeklyStep = "week"
    answers: dict[str, WeeklyAnswer] = Field(default_factory=dict, description="question id (q1, q2, …) -> the answer")
    decisions: dict[str, ProposalDecision] = Field(default_factory=dict, description="action:<id> -> what was decided here")
    started_at: str
    updated_at: str
    finished_at: str | None = None


class WeeklyQuestion(BaseModel):
    id: str = Field(description="q1, q2, … in the reflection's order")
    text: str
    context: list[str] = Field(default_factory=list, description="the facts the reflection put under it")


class WeeklyView(BaseModel):
    """Everything the weekly review shows, and where it stopped (`review.weekly`)."""

    week: str
    record: WeeklyRecord
    steps: list[str] = Field(default_factory=lambda: list(WEEKLY_STEPS))
    start: str | None = Field(default=None, description="the week's Monday")
    end: str | None = Field(default=None, description="the week's Sunday")
    artifact_id: str | None = Field(default=None, description="the reflection's weekly_review artifact read")
    path: str | None = Field(default=None, description="its markdown file")
    headline: str | None = None
    narrative: str | None = Field(default=None, description="the local model's paragraph, when it wrote one")
    sections: dict[str, list[str]] = Field(default_factory=dict, description="Done, Slipped, Decisions, Numbers: their lines")
    questions: list[WeeklyQuestion] = Field(default_factory=list)
    error: str | None = Field(default=None, description="why there is no weekly review artifact to show")
    approvals: list[Action] = Field(default_factory=list, description="the reflection's proposals of this week still waiting")
    done: list[str] = Field(default_factory=list, description="a finished review: what it recorded, one line each")


def proposal_of(action: Action, week: str) -> bool:
    """Whether an action was proposed from this week's weekly review (its artifact is among the inputs)."""
    return any(i.kind == "artifact" and i.ref == f"weekly_review:{week}" for i in action.inputs)


def read_artifact(content: str, data: dict[str, Any]) -> tuple[dict[str, list[str]], list[WeeklyQuestion]]:
    """The sections and questions of a weekly_review artifact: from its data, or (an older one) from its markdown."""
    sections = data.get("sections")
    questions = data.get("questions")
    if isinstance(sections, dict) and isinstance(questions, list):
        out = {k: [str(x) for x in v] for k, v in sections.items() if isinstance(v, list)}
        qs = [WeeklyQuestion(id=f"q{n}", text=str(q.get("text", "")), context=[str(x) for x in q.get("context", [])])
              for n, q in enumerate(questions, start=1) if isinstance(q, dict) and q.get("text")]
        return out, qs
    return _from_markdown(content)


def _from_markdown(content: str) -> tuple[dict[str, list[str]], list[WeeklyQuestion]]:
    sections: dict[str, list[str]] = {}
    questions: list[WeeklyQuestion] = []
    current: list[str] | None = None
    for line in content.splitlines():
        if line.startswith("### "):
            questions.append(WeeklyQuestion(id=f"q{len(questions) + 1}", text=line[4:].strip()))
            current = questions[-1].context
        elif line.startswith("## "):
            title = line[3:].strip()
            current = sections.setdefault(title, []) if title in SECTIONS else None
        elif current is not None and line.strip():
            current.append(line)
    if not questions:
        questions = [WeeklyQuestion(id=f"q{n}", text=q) for n, q in enumerate(QUESTIONS, start=1)]
    return sections, questions


def answer_record(week: str, question: str, answer: WeeklyAnswer) -> dict[str, Any]:
    """The memory record an answer becomes (`memory.update` op add): its first line the title, the question in the body."""
    first = next((ln.strip() for ln in answer.text.splitlines() if ln.strip()), answer.text)
    title = first if len(first) <= 200 else first[:199] + "…"
    body = f"Asked in the weekly review of {week}: {question}\n\n{answer.text}"
    return {"kind": answer.kind, "title": title, "body": body, "tags": ["weekly-review"], "tier": "warm"}


def done_lines(record: WeeklyRecord, questions: list[WeeklyQuestion], waiting: int) -> list[str]:
    """What the finished review recorded, in words (the Done step and `review.weekly_finish`)."""
    by_id = {q.id: q.text for q in questions}
    lines = []
    for qid, a in sorted(record.answers.items()):
        state = {"succeeded": "in memory", "approved": "being saved", "awaiting_approval": "waits for your approval (key 5)",
                 "denied": "refused by policy"}.get(a.status or "", a.status or "proposed")
        lines.append(f"{a.kind}: “{by_id.get(qid, qid)}” → {a.text.splitlines()[0][:80]} ({state})")
    if not record.answers:
        lines.append("no answers recorded (every question skipped)")
    counts: dict[str, int] = {}
    for verb in record.decisions.values():
        counts[verb] = counts.get(verb, 0) + 1
    words = {"approve": "approved", "deny": "denied", "snooze": "snoozed", "skipped": "skipped"}
    decided = ", ".join(f"{n} {words[v]}" for v, n in sorted(counts.items()))
    lines.append(f"proposals: {decided or 'none decided here'}" + (f"; {waiting} still waiting" if waiting else ""))
    return lines
