"""The weekly review's facts: the week reviewed, the day plans' top three, and the
`Review` that computes, from what `oxymus.agents.reflection` gathered, what got
done, what slipped and what was decided, and renders it (markdown, data, the LLM's
prompt). Pure code: no I/O, no LLM.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, field_validator

from oxymus.actions.model import Action
from oxymus.models import AuditEvent
from oxymus.plans.ids import normalise

NOTIFY = "notify.send"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
QUESTIONS = ("Is this still the right plan?", "What should I stop doing?", "What is the one thing for next week?")


class ReviewAnswer(BaseModel):
    """What the LLM may add to a review: words, and a pick among the slipped items by number."""

    narrative: str = Field(description="one short paragraph about the week: what went well, what slipped, any pattern; only the facts given")
    matters: list[int] = Field(default_factory=list, description="the numbers of the slipped items that matter most (at most 3)")

    @field_validator("narrative")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("the narrative is empty")
        return value


@dataclass
class TopItem:
    """One item of the day plans' top three across the week."""

    key: str
    title: str
    kind: str
    ref_kind: str
    ref: str
    days: list[dt.date] = field(default_factory=list)
    state: str = "unknown"  # done, open, unknown


@dataclass
class Week:
    key: str
    monday: dt.date
    start: dt.datetime
    end: dt.datetime

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)

    def contains_day(self, day: dt.date) -> bool:
        return self.monday <= day <= self.sunday


def reviewed_week(today: dt.date, weekdays: list[str] | None, zone: Any) -> Week:
    """The ISO week of the most recent review day, today included (today's week with no weekdays)."""
    day = today
    if weekdays:
        for _ in range(7):
            if DAYS[day.weekday()] in weekdays:
                break
            day -= dt.timedelta(days=1)
    monday = day - dt.timedelta(days=day.weekday())
    iso = monday.isocalendar()
    start = dt.datetime.combine(monday, dt.time(0, 0), zone)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0, 0), zone)
    return Week(key=f"{iso.year}-W{iso.week:02d}", monday=monday, start=start, end=end)


def iso(moment: dt.datetime) -> str:
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def day_words(day: dt.date) -> str:
    return f"{DAYS[day.weekday()].capitalize()} {day.day} {day:%b}"


def days_words(days: list[dt.date]) -> str:
    return ", ".join(DAYS[d.weekday()].capitalize() for d in sorted(days))


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def clip(text: str, width: int = 100) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+", text))


def known_facts_only(narrative: str, facts: str) -> bool:
    """True when every number (dates included) in the narrative appears in the facts."""
    return _numbers(narrative) <= _numbers(facts)



def top_item(raw: Any) -> TopItem | None:
    """One top-three entry of a day plan's data (the planner's PlanItem; a bare title is accepted)."""
    if isinstance(raw, str):
        title = " ".join(raw.split())
        return TopItem(key=f"title:{normalise(title).lower()}", title=title, kind="", ref_kind="", ref="") if title else None
    if not isinstance(raw, dict):
        return None
    title = " ".join(str(raw.get("title") or raw.get("text") or "").split())
    if not title:
        return None
    ref_kind, ref = str(raw.get("ref_kind") or ""), str(raw.get("ref") or "")
    key = f"{ref_kind}:{ref}" if ref else f"title:{normalise(title).lower()}"
    return TopItem(key=key, title=title, kind=str(raw.get("kind") or ""), ref_kind=ref_kind, ref=ref)


@dataclass
class Review:
    """The week's facts, computed by code; rendered to markdown, data and the LLM's prompt."""

    week: Week
    now: dt.datetime
    zone: Any
    events: list[AuditEvent] = field(default_factory=list)
    all_events: list[AuditEvent] = field(default_factory=list)
    actions: dict[str, Action] = field(default_factory=dict)
    doc: Any = None
    open_captures: int = 0
    plans: list[Any] = field(default_factory=list)
    plan_days: list[dt.date] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)
    hot_titles: list[str] = field(default_factory=list)
    deadlines: list[Any] = field(default_factory=list)
    reviews: list[Any] = field(default_factory=list)
    prs: list[Any] = field(default_factory=list)
    top: list[TopItem] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)  # the month's change of the headline metrics, in words

    # --- derived facts ------------------------------------------------------------------

    def kind_of(self, event: AuditEvent) -> str:
        a = self.actions.get(event.subject)
        return a.kind if a is not None else str(event.details.get("kind") or "")

    def verbs(self, verb: str) -> list[AuditEvent]:
        """The week's events of one verb; for actions, notifications are left out (they are counted on their own)."""
        found = [e for e in self.events if e.verb == verb]
        if verb.startswith("action."):
            found = [e for e in found if self.kind_of(e) != NOTIFY]
        return found

    def local_day(self, ts: str) -> dt.date:
        return parse_ts(ts).astimezone(self.zone).date()

    def done_actions(self) -> list[Any]:
        if self.doc is None:
            return []
        out = []
        for a in self.doc.actions:
            if a.done and a.done_date:
                try:
                    day = dt.date.fromisoformat(a.done_date)
                except ValueError:
                    continue
                if self.week.contains_day(day):
                    out.append(a)
        return sorted(out, key=lambda a: (a.done_date, a.line))

    def open_plan_actions(self) -> list[Any]:
        return [a for a in (self.doc.actions if self.doc else ()) if not a.done]

    def goals(self) -> list[str]:
        return [g.text for g in (self.doc.goals if self.doc else ()) if not g.done][:8]

    def published(self) -> list[Any]:
        out = []
        for p in (self.doc.proposals if self.doc else ()):
            if p.status == "published" and p.date:
                try:
                    if self.week.contains_day(dt.date.fromisoformat(p.date)):
                        out.append(p)
                except ValueError:
                    continue
        return out

    def _action_line(self, event: AuditEvent) -> str:
        a = self.actions.get(event.subject)
        summary = a.preview.summary if a else str(event.details.get("kind", "an action"))
        who = a.proposer.label() if a else ""
        return f"{clip(summary, 90)}" + (f" (by {who})" if who and who != "user" else "") + f", {day_words(self.local_day(event.ts))}"

    def succeeded(self) -> list[AuditEvent]:
        out = []
        for e in self.verbs("action.succeeded"):
            a = self.actions.get(e.subject)
            if a is not None and a.kind == "plans.edit" and a.payload.get("op") == "set_done":
                continue  # listed with the next actions checked
            out.append(e)
        return out

    def notifications(self) -> int:
        return sum(1 for e in self.events if e.verb == "action.succeeded" and self.kind_of(e) == NOTIFY)

    def failed(self) -> list[tuple[AuditEvent, str]]:
        out = []
        for e in self.verbs("action.failed"):
            a = self.actions.get(e.subject)
            out.append((e, (a.error if a and a.error else str(e.details.get("error") or "")) or "no reason recorded"))
        return out

    def missed_deadlines(self) -> list[tuple[str, dt.date]]:
        """Open to-dos whose due moment (the end of the day for an all-day one) passed this week."""
        end = min(self.now, self.week.end)
        out = []
        for item in self.deadlines:
            if item.error or not item.starts_at:
                continue
            due = parse_ts(item.ends_at if item.data.get("all_day") and item.ends_at else item.starts_at)
            if self.week.start < due <= end:
                out.append((str(item.data.get("summary") or item.key), parse_ts(item.starts_at).astimezone(self.zone).date()))
        return sorted(out, key=lambda x: (x[1], x[0]))

    def upcoming_deadlines(self) -> list[tuple[str, dt.date]]:
        start, end = self.week.end, self.week.end + dt.timedelta(days=7)
        out = []
        for item in self.deadlines:
            if item.error or not item.starts_at:
                continue
            due = parse_ts(item.starts_at)
            if start <= due < end:
                out.append((str(item.data.get("summary") or item.key), due.astimezone(self.zone).date()))
        return sorted(out, key=lambda x: (x[1], x[0]))

    def denials(self) -> list[tuple[AuditEvent, str]]:
        out = []
        for e in self.verbs("action.denied"):
            if e.actor == "policy":
                why = f"denied by the policy rule “{e.details.get('rule', '?')}”"
            else:
                why = f"“{clip(e.details['reason'], 120)}”" if e.details.get("reason") else "no reason given"
            out.append((e, why))
        return out

    def memory_added(self, kinds: tuple[str, ...] = ("decision",)) -> list[tuple[str, str]]:
        out = []
        for e in self.verbs("memory.added"):
            if e.details.get("kind") in kinds:
                rec = self.memory.get(e.subject)
                out.append((e.subject, rec.title if rec is not None else f"record {e.subject}"))
        return out

    def judge(self, item: TopItem) -> str:
        """done, open or unknown: whether a top-three item got done, from what code can see."""
        if item.ref_kind == "plans" or item.kind == "plan" or not item.ref:
            actions = list(self.doc.actions) if self.doc else []
            match = next((a for a in actions if item.ref and a.id == item.ref), None)
            if match is None:
                want = normalise(re.sub(r"\s*\([^)]*\)$", "", item.title)).lower()
                match = next((a for a in actions if normalise(a.text).lower() in (want, normalise(item.title).lower())), None)
            if match is not None:
                return "done" if match.done else "open"
            return "unknown"
        if item.kind == "deadline" or item.ref.startswith("calendar.deadline:"):
            key = item.ref.split(":", 1)[1] if ":" in item.ref else item.ref
            return "open" if any(d.key == key for d in self.deadlines) else "done"
        if item.kind == "bill" or item.ref.startswith("bills.due:"):
            subject = item.ref.split(":", 1)[1] if ":" in item.ref else item.ref
            return "done" if any(e.verb == "bills.paid" and e.subject == subject for e in self.all_events) else "open"
        if item.kind == "review":
            return "open" if any(i.data.get("url") == item.ref for i in self.reviews if not i.error) else "done"
        if item.kind == "ci":
            return "open" if any(i.data.get("url") == item.ref and i.data.get("ci") == "failure" for i in self.prs if not i.error) else "done"
        return "unknown"

    def slipped_top(self) -> list[TopItem]:
        return [i for i in self.top if i.state == "open"]

    def recurring(self, after: int) -> list[TopItem]:
        return [i for i in self.slipped_top() if len(i.days) >= after]

    def slipped_lines(self) -> list[str]:
        """The slipped items the LLM may pick from, numbered in this order (top-three items first)."""
        return [f"{i.title} (in the top three on {days_words(i.days)}; still not done)" for i in self.slipped_top()]

    def picked_top(self, answer: ReviewAnswer | None) -> set[str]:
        if answer is None:
            return set()
        slipped = self.slipped_top()
        return {slipped[n - 1].key for n in answer.matters if 1 <= n <= len(slipped)}

    def counts(self) -> dict[str, int]:
        count = lambda verb: len(self.verbs(verb))  # noqa: E731
        runs = count("agent.succeeded") + count("agent.failed")
        return {
            "captures_in": count("capture.added"), "captures_triaged": count("capture.triaged"),
            "captures_archived": count("capture.archived"), "captures_open": self.open_captures,
            "actions_proposed": count("action.proposed"), "actions_succeeded": count("action.succeeded"),
            "actions_failed": count("action.failed"), "actions_denied": count("action.denied"),
            "actions_expired": count("action.expired"), "notifications": self.notifications(),
            "agent_runs": runs, "agent_runs_failed": count("agent.failed"),
            "plans_edits": count("plans.edited"), "next_actions_done": len(self.done_actions()),
            "next_actions_open": len(self.open_plan_actions()), "day_plans": len(self.plan_days),
        }

    @property
    def empty(self) -> bool:
        """Nothing happened that a review could talk about (agents running on their own do not count)."""
        c = self.counts()
        return not (self.done_actions() or self.top or self.published() or self.missed_deadlines() or self.memory_added()
                    or any(c[k] for k in ("captures_in", "captures_triaged", "actions_proposed", "actions_succeeded",
                                          "actions_failed", "actions_denied", "actions_expired", "plans_edits")))

    def worth_remembering(self) -> bool:
        return bool(self.done_actions() or self.succeeded() or self.published() or self.slipped_top() or self.denials()
                    or self.memory_added())

    def headline(self) -> str:
        c = self.counts()
        done = c["next_actions_done"] + len(self.succeeded()) + len(self.published())
        top = {normalise(i.title).lower() for i in self.slipped_top()}
        missed = [t for t, _ in self.missed_deadlines() if normalise(t).lower() not in top]  # not twice
        slipped = len(top) + c["actions_failed"] + c["actions_expired"] + len(missed)
        return f"{done} done, {slipped} slipped, {plural(c['actions_denied'], 'denial')}, {c['captures_in']} captures in"

    # --- output -------------------------------------------------------------------------

    def sections(self, picked: set[str] | None = None) -> dict[str, list[str]]:
        c = self.counts()
        done: list[str] = []
        checked = self.done_actions()
        if checked:
            done.append(f"- {plural(len(checked), 'next action')} checked in PLANS.md:")
            done += [f"  - {clip(a.text)} ({day_words(dt.date.fromisoformat(a.done_date))})" for a in checked]
        ok = self.succeeded()
        if ok:
            done.append(f"- {plural(len(ok), 'action')} succeeded:")
            done += [f"  - {self._action_line(e)}" for e in ok]
        published = self.published()
        if published:
            done.append(f"- {plural(len(published), 'post')} published:")
            done += [f"  - {clip(p.title)} ({day_words(dt.date.fromisoformat(p.date))})" for p in published]
        if c["notifications"]:
            done.append(f"- {plural(c['notifications'], 'notification')} sent")

        slipped: list[str] = []
        top = self.slipped_top()
        if top:
            slipped.append(f"- {plural(len(top), 'top-three item')} not done:")
            slipped += [f"  - {clip(i.title)} (in the top three on {days_words(i.days)})" + (" ← matters" if i.key in (picked or ()) else "")
                        for i in top]
        unknown = [i for i in self.top if i.state == "unknown"]
        if unknown:
            slipped.append("- not checked (nothing to check them against; did they happen?): "
                           + "; ".join(f"{clip(i.title, 60)} ({days_words(i.days)})" for i in unknown))
        failed = self.failed()
        if failed:
            slipped.append(f"- {plural(len(failed), 'action')} failed:")
            slipped += [f"  - {self._action_line(e)}: {clip(err, 120)}" for e, err in failed]
        expired = self.verbs("action.expired")
        if expired:
            slipped.append(f"- {plural(len(expired), 'request')} expired unanswered:")
            slipped += [f"  - {self._action_line(e)}" for e in expired]
        missed = self.missed_deadlines()
        if missed:
            slipped.append(f"- {plural(len(missed), 'deadline')} passed still open:")
            slipped += [f"  - {clip(title)} (due {day_words(day)})" for title, day in missed]

        decisions: list[str] = []
        for e, why in self.denials():
            decisions.append(f"- denied: {self._action_line(e)}: {why}")
        for rid, title in self.memory_added():
            decisions.append(f"- decision remembered: {clip(title)} ({rid})")

        numbers = [
            f"- captures: {c['captures_in']} in, {c['captures_triaged']} triaged, {c['captures_archived']} archived; "
            f"{c['captures_open']} open now",
            f"- actions: {c['actions_proposed']} proposed, {c['actions_succeeded']} succeeded, {c['actions_failed']} failed, "
            f"{c['actions_denied']} denied, {c['actions_expired']} expired",
            f"- PLANS.md: {c['next_actions_done']} next actions done this week, {c['next_actions_open']} open; "
            f"{plural(c['plans_edits'], 'edit')} through Oxymus",
            f"- day plans: {c['day_plans']} of 7 days; agent runs: {c['agent_runs']} ({c['agent_runs_failed']} failed)",
            *(f"- this month, {line}" for line in self.metrics),
        ]
        return {"Done": done, "Slipped": slipped, "Decisions": decisions, "Numbers": numbers}

    def questions(self) -> list[tuple[str, list[str]]]:
        c = self.counts()
        plan: list[str] = []
        goals = self.goals()
        plan.append("- goals in PLANS.md: " + ("; ".join(clip(g, 80) for g in goals) if goals else "none written down"))
        plan.append(f"- {c['next_actions_done']} next actions done this week, {c['next_actions_open']} still open")
        if self.top:
            done_top = sum(1 for i in self.top if i.state == "done")
            plan.append(f"- of {plural(len(self.top), 'item')} in the day plans' top three, {done_top} got done")

        stop: list[str] = []
        repeated = [i for i in self.slipped_top() if len(i.days) >= 2]
        if repeated:
            stop.append("- kept slipping: " + "; ".join(f"{clip(i.title, 60)} ({plural(len(i.days), 'day')})" for i in repeated))
        by_kind: dict[str, int] = {}
        for e, _ in self.denials():
            a = self.actions.get(e.subject)
            label = f"{a.kind} from {a.proposer.label()}" if a else str(e.details.get("kind", "?"))
            by_kind[label] = by_kind.get(label, 0) + 1
        if by_kind:
            stop.append("- you said no to: " + "; ".join(f"{label} ({n}×)" for label, n in sorted(by_kind.items(), key=lambda x: -x[1])))
        if c["captures_open"] > c["captures_triaged"] and c["captures_open"]:
            stop.append(f"- {c['captures_open']} captures wait in the inbox ({c['captures_triaged']} triaged this week)")
        if not stop:
            stop.append("- nothing kept slipping and nothing was refused")

        one: list[str] = []
        upcoming = self.upcoming_deadlines()
        if upcoming:
            one.append("- due next week: " + "; ".join(f"{clip(t, 60)} ({day_words(d)})" for t, d in upcoming))
        if self.slipped_top():
            first = self.slipped_top()[0]
            one.append(f"- slipped most: {clip(first.title, 80)} ({plural(len(first.days), 'day')} in the top three)")
        nxt = self.open_plan_actions()
        if nxt:
            one.append(f"- first open next action in PLANS.md: {clip(nxt[0].text, 80)}")
        if not one:
            one.append("- nothing is due and nothing is open: a free week to choose")
        return list(zip(QUESTIONS, [plan, stop, one]))

    def facts(self) -> str:
        lines = [f"Week {self.week.key}: {day_words(self.week.monday)} to {day_words(self.week.sunday)} {self.week.sunday.year}"]
        for title, body in self.sections().items():
            lines += [f"{title}:", *(body or ["- nothing"])]
        return "\n".join(lines)

    def render(self, answer: ReviewAnswer | None) -> str:
        w = self.week
        lines = [f"# Weekly review {w.key}", "", f"_{day_words(w.monday)} – {day_words(w.sunday)} {w.sunday.year} · "
                 f"written {day_words(self.now.astimezone(self.zone).date())} {self.now.astimezone(self.zone):%H:%M}_", ""]
        if self.empty:
            lines += ["A quiet week: nothing was done, proposed, captured or planned through Oxymus.", ""]
        if answer is not None:
            lines += ["## The week in brief", "", answer.narrative, "", "_(written by the local model from the facts below)_", ""]
        for title, body in self.sections(self.picked_top(answer)).items():
            lines += [f"## {title}", ""] + (body or ["- nothing"]) + [""]
        lines += ["## Questions", ""]
        for question, context in self.questions():
            lines += [f"### {question}", "", *context, ""]
        return "\n".join(lines).rstrip() + "\n"

    def data(self, answer: ReviewAnswer | None) -> dict[str, Any]:
        return {
            "week": self.week.key, "start": self.week.monday.isoformat(), "end": self.week.sunday.isoformat(),
            "empty": self.empty, "counts": self.counts(),
            "done": {"next_actions": [{"id": a.id, "text": a.text, "date": a.done_date} for a in self.done_actions()],
                     "actions": [e.subject for e in self.succeeded()],
                     "published": [{"title": p.title, "date": p.date} for p in self.published()]},
            "slipped": {"top": [{"title": i.title, "kind": i.kind, "ref_kind": i.ref_kind, "ref": i.ref,
                                 "days": [d.isoformat() for d in i.days]} for i in self.slipped_top()],
                        "unchecked": [i.title for i in self.top if i.state == "unknown"],
                        "failed": [e.subject for e, _ in self.failed()], "expired": [e.subject for e in self.verbs("action.expired")],
                        "deadlines": [{"title": t, "due": d.isoformat()} for t, d in self.missed_deadlines()]},
            "decisions": {"denied": [{"id": e.subject, "why": why} for e, why in self.denials()],
                          "memory": [rid for rid, _ in self.memory_added()]},
            "narrative": answer.narrative if answer else None,
            "matters": sorted(self.picked_top(answer)),
            # what the weekly review shows step by step (oxymus/agents/weekly.py)
            "headline": None if self.empty else self.headline(),
            "sections": self.sections(self.picked_top(answer)),
            "questions": [{"text": q, "context": context} for q, context in self.questions()],
        }

    def memory_summary(self) -> dict[str, Any]:
        """The record of the week the review proposes to remember: facts only, short."""
        c = self.counts()
        lines = [f"{day_words(self.week.monday)} – {day_words(self.week.sunday)} {self.week.sunday.year}: {self.headline()}."]
        checked = self.done_actions()
        if checked:
            lines.append("Done: " + "; ".join(clip(a.text, 60) for a in checked[:6]) + (" …" if len(checked) > 6 else ""))
        published = self.published()
        if published:
            lines.append("Published: " + "; ".join(clip(p.title, 60) for p in published))
        slipped = self.slipped_top()
        if slipped:
            lines.append("Slipped: " + "; ".join(clip(i.title, 60) for i in slipped[:5]))
        denied = self.denials()
        if denied:
            lines.append(f"Denied {plural(len(denied), 'proposal')}.")
        decided = self.memory_added()
        if decided:
            lines.append("Decided: " + "; ".join(clip(t, 60) for _, t in decided[:5]))
        lines.append(f"Captures: {c['captures_in']} in, {c['captures_triaged']} triaged.")
        return {"kind": "summary", "title": f"Week {self.week.key} in brief", "body": "\n".join(lines), "tags": ["weekly-review"],
                "tier": "warm"}
