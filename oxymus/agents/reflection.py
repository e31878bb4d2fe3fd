"""The weekly review: what got done, what slipped, what was decided, and three questions.

Once a week (Sunday 18:00 by default) the review reads the week from the audit
log, the day plans, PLANS.md, the captures and the actions, and writes an
artifact `weekly_review` keyed by the ISO week (`2026-W48`, also a file
`2026-W48.md`):

- Done: next actions checked in PLANS.md this week (by their done date), actions
  that succeeded, posts published.
- Slipped: day-plan top-three items still not done (and on how many days they were
  in the top three), actions that failed or expired, deadlines that passed open.
- Decisions: proposals denied (with the reason given), decision records added to memory.
- Numbers: captures in and triaged, actions by outcome, agent runs, and this month's change of the headline metrics.
- Questions: "Is this still the right plan?", "What should I stop doing?", "What is
  the one thing for next week?", each with the facts that bear on it.

The week reviewed is the one of the most recent review day (today included): on
Sunday this week, on a Monday catch-up the week that just ended. A review is
written once per week: a second scheduled or catch-up run in the same week says so
and does nothing; a run by hand writes it again.

It proposes a little, gently (at most `max_proposals`, keyed per week so nothing
stacks): a `plans.edit` adding "Reschedule: …" for an item that kept slipping, and a
`memory.update` adding a short summary of the week. With an LLM, the review gets a
narrative paragraph and the model's pick of which slipped items matter; every
fact, date and number in the review comes from code, and a narrative that states
a number or date not among the facts is refused.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from oxymus.actions.model import InputRef
from oxymus.agents.base import Agent, AgentSettings, Trigger
from oxymus.agents.confidence import Confidence, Strength, derive, llm_choice
from oxymus.agents.reflection_review import (
    Review,
    ReviewAnswer,
    TopItem,
    Week,
    clip,
    day_words,
    days_words,
    iso,
    known_facts_only,
    parse_ts,
    plural,
    reviewed_week,
    top_item,
)
from oxymus.models import AuditEvent
from oxymus.plans.ids import normalise

AUDIT_PAGE = 5000
AUDIT_PAGES = 20
# A plans.edit is pinned to the PLANS.md it was proposed against; a second one proposed in
# the same run would conflict once the first is applied. So one per review.
PLANS_EDITS_PER_REVIEW = 1


class ReflectionSettings(AgentSettings):
    max_proposals: int = Field(default=3, ge=0, le=10, description="at most this many proposals per review (plan and memory updates)")
    recurring_after: int = Field(default=2, ge=1, le=7, description="a top-three item in the day plans on this many days and still "
                                                                    "not done is proposed for rescheduling")
    reschedule_section: str = Field(default="Next actions", min_length=1, max_length=200,
                                    description="the PLANS.md heading a 'Reschedule: …' action is added under")
    narrative_words: int = Field(default=120, ge=20, le=400, description="the LLM's narrative paragraph may have at most this many words")



def reschedule_confidence(days: int, asked: bool, answer: object | None, picked: bool) -> Confidence:
    """See `Reflection.confidence_rule`."""
    strength: Strength = "strong" if days >= 5 else "moderate" if days >= 3 else "weak"
    return derive(strength, llm=llm_choice(asked, answer, picked))


class Reflection(Agent):
    name = "reflection"
    role = ("The weekly review. Once a week it looks back at what got done, what slipped and what was decided, from the "
            "audit log, the day plans, PLANS.md, the captures and the actions, writes a short review with three questions "
            "for the person, and proposes a few plan and memory updates. It is honest and kind: it names what slipped "
            "without blame and suggests little.")
    reads = ("audit", "actions", "captures", "plans", "memory:hot", "memory:warm", "artifacts:day_plan", "artifacts:weekly_review",
             "state:calendar.deadline", "state:github.review_request", "state:github.pr")
    proposes = ("plans.edit", "memory.update")
    trigger = Trigger(at="18:00", weekdays=["sun"])
    Settings = ReflectionSettings
    confidence_rule = (
        "A reschedule is as sure as the item kept slipping: in the day plan's top three on 5 or more days strong, "
        "3 or 4 moderate, fewer weak. The LLM, asked what matters for next week, agreed (it picked the item), "
        "disagreed (it picked others), or gave no usable answer. The week's memory record is the facts alone: "
        "certain, no LLM."
    )

    async def run(self, ctx) -> str:
        settings: ReflectionSettings = ctx.settings  # type: ignore[assignment]
        week = reviewed_week(ctx.today(), self.effective_trigger.weekdays, ctx.zone)
        by_hand = ctx.trigger.startswith("by hand")
        existing = [a for a in await ctx.artifacts("weekly_review", agent=self.name, limit=10) if a.key == week.key]
        if existing and not by_hand:
            made = parse_ts(existing[0].created_at).astimezone(ctx.zone)
            return (f"the review of {week.key} was already written ({day_words(made.date())} {made:%H:%M}); "
                    "nothing to do (run it by hand to write it again)")
        review = await self._gather(ctx, week)
        await self._judge_top(ctx, review)
        facts = review.facts()
        answer = await self._ask_llm(ctx, settings, review, facts) if ctx.llm is not None else None
        content = review.render(answer)
        artifact = await ctx.artifact(
            "weekly_review", week.key, f"Weekly review {week.key}", content, data=review.data(answer), filename=f"{week.key}.md",
        )
        proposed = await self._propose(ctx, settings, review, answer, artifact.id)
        head = f"review of {week.key} written: " + (review.headline() if not review.empty else "a quiet week, nothing recorded")
        if proposed:
            head += f"; proposed {', '.join(proposed)}"
        return head

    # --- reading the week -------------------------------------------------------------------

    async def _events(self, ctx, week: Week) -> list[AuditEvent]:
        since = iso(week.start)
        seen: set[int] = set()
        out: list[AuditEvent] = []
        for _ in range(AUDIT_PAGES):
            page = await ctx.audit(since, limit=AUDIT_PAGE)
            fresh = [e for e in page if e.seq not in seen]
            for e in fresh:
                seen.add(e.seq)  # type: ignore[arg-type]
                out.append(e)
            if len(page) < AUDIT_PAGE or not fresh:
                break
            since = page[-1].ts
        # Up to now, not only to the week's end: a payment after Sunday still counts for
        # judging the top three; only the week's own events are counted and listed.
        return out

    async def _gather(self, ctx, week: Week) -> "Review":
        r = Review(week=week, now=ctx.now(), zone=ctx.zone)
        events = await self._events(ctx, week)
        r.all_events = events
        r.events = [e for e in events if e.ts < iso(week.end)]
        r.actions = {a.id: a for a in await ctx.actions(limit=2000)}
        r.doc = await ctx.plans()
        r.open_captures = len(await ctx.captures("open", limit=5000))
        r.plans = [a for a in await ctx.artifacts("day_plan", limit=60)]
        hot = await ctx.memory("hot", limit=200)
        warm = await ctx.memory("warm", limit=500)
        r.memory = {h.record.id: h.record for h in [*hot, *warm]}
        r.hot_titles = [h.record.title for h in hot][:20]
        r.deadlines = await ctx.state(["calendar.deadline"])
        r.reviews = await ctx.state(["github.review_request"])
        r.prs = await ctx.state(["github.pr"])
        from oxymus.metrics.table import HEADLINES, headline

        r.metrics = headline(await ctx.metrics(2), HEADLINES)
        return r

    async def _judge_top(self, ctx, r: "Review") -> None:
        items: dict[str, TopItem] = {}
        for art in sorted(r.plans, key=lambda a: a.key):
            try:
                day = dt.date.fromisoformat(str(art.data.get("date") or art.key)[:10])
            except ValueError:
                ctx.note(f"day plan {art.key!r} has no date; skipped")
                continue
            if not r.week.contains_day(day):
                continue
            top = art.data.get("top") or []
            if not isinstance(top, list):
                ctx.note(f"day plan {art.key}: its top three is not a list; skipped")
                continue
            r.plan_days.append(day)
            for raw in top[:3]:
                item = top_item(raw)
                if item is None:
                    continue
                found = items.setdefault(item.key, item)
                if day not in found.days:
                    found.days.append(day)
        for item in items.values():
            item.state = r.judge(item)
        r.top = sorted(items.values(), key=lambda i: (-len(i.days), min(i.days), i.title))

    # --- the LLM ------------------------------------------------------------------------------

    async def _ask_llm(self, ctx, settings: ReflectionSettings, r: "Review", facts: str) -> ReviewAnswer | None:
        from oxymus.agents.llm import Section

        slipped = r.slipped_lines()
        sections = [
            Section(name="Facts of the week", text=facts, priority=10, min_chars=400),
            Section(name="Slipped items (numbered)", text="\n".join(f"{n}. {s}" for n, s in enumerate(slipped, 1)) or "none", priority=9),
            Section(name="Goals in PLANS.md", text="\n".join(f"- {g}" for g in r.goals()) or "none", priority=5),
            Section(name="Hot memory (titles)", text="\n".join(f"- {t}" for t in r.hot_titles) or "none", priority=3),
        ]
        task = (f"Write one paragraph of at most {settings.narrative_words} words about the week {r.week.key}: what went well, "
                "what slipped and any pattern you see, kindly and plainly. Use only the facts given: do not add dates, "
                "times or numbers that are not in them. Then give the numbers of the slipped items that matter most "
                "for next week (at most 3; none if nothing slipped).")
        answer = await ctx.llm.chat_json(self.role, sections, task, model_cls=ReviewAnswer, stream_to=ctx.progress)
        if answer is None:
            ctx.note("LLM answer unusable; the review is the facts alone")
            return None
        words = len(answer.narrative.split())
        if words > settings.narrative_words:
            ctx.note(f"LLM narrative too long ({words} words); left out")
            return None
        if not known_facts_only(answer.narrative, facts + "\n" + "\n".join(slipped) + "\n" + r.week.key):
            ctx.note("LLM narrative stated numbers or dates not among the facts; left out")
            return None
        picks: list[int] = []
        for n in answer.matters:
            if 1 <= n <= len(slipped) and n not in picks and len(picks) < 3:
                picks.append(n)
        return answer.model_copy(update={"matters": picks})

    # --- proposals ----------------------------------------------------------------------------

    async def _propose(self, ctx, settings: ReflectionSettings, r: "Review", answer: ReviewAnswer | None, artifact_id: str) -> list[str]:
        budget = settings.max_proposals
        made: list[str] = []
        if budget <= 0 or r.empty:
            return made
        reschedules = r.recurring(settings.recurring_after)
        picked = r.picked_top(answer)
        reschedules.sort(key=lambda i: (i.key not in picked, -len(i.days), i.title))
        open_texts = {normalise(a.text).lower() for a in (r.doc.actions if r.doc else ()) if not a.done}
        room = min(PLANS_EDITS_PER_REVIEW, budget)
        for item in reschedules:
            if len(made) >= room:
                break
            text = f"Reschedule: {item.title}"
            if normalise(text).lower() in open_texts:
                continue  # asked before and still open in PLANS.md
            reason = (f"“{item.title}” was in the day plan's top three on {plural(len(item.days), 'day')} this week "
                      f"({days_words(item.days)}) and is still not done. A next action to give it a real slot, or to drop it.")
            if item.key in picked:
                reason += " The local model picked it as one that matters."
            inputs = [InputRef(kind="artifact", ref=f"day_plan:{d.isoformat()}", note="top three") for d in sorted(item.days)]
            inputs.append(InputRef(kind="plans" if item.ref_kind == "plans" else item.ref_kind or "plans", ref=item.ref or item.title,
                                   note=item.title))
            inputs.append(InputRef(kind="artifact", ref=f"weekly_review:{r.week.key}", note=artifact_id))
            action = await ctx.propose(
                "plans.edit", {"op": "add_action", "text": text, "section": settings.reschedule_section}, reason=reason, inputs=inputs,
                confidence=reschedule_confidence(len(item.days), ctx.llm is not None, answer, item.key in picked).value,
                key=f"reflection:{r.week.key}:reschedule:{item.key}"[:200],
            )
            if action is not None:
                made.append(f"rescheduling “{clip(item.title, 50)}”")
        if r.worth_remembering() and len(made) < budget:
            fields = r.memory_summary()
            action = await ctx.propose(
                "memory.update", {"op": "add", "record": fields, "note": f"weekly review {r.week.key}"},
                reason=(f"A short record of the week {r.week.key} ({day_words(r.week.monday)} – {day_words(r.week.sunday)}), so later "
                        "reviews and agents can look back without rereading the log."),
                inputs=[InputRef(kind="artifact", ref=f"weekly_review:{r.week.key}", note=artifact_id),
                        InputRef(kind="audit", ref=f"{iso(r.week.start)}..{iso(r.week.end)}", note=f"{len(r.events)} events")],
                confidence=derive("certain").value, key=f"reflection:{r.week.key}:memory",
            )
            if action is not None:
                made.append("a memory record of the week")
        return made
