"""The planner: the morning plan, made from the calendar, deadlines, bills, PRs, PLANS.md and hot memory.

Each morning (06:30 by default) it writes the day plan: kind `day_plan`, key the date
(a re-run the same day replaces it), as `data/artifacts/planner/YYYY-MM-DD.md` and in
the store with the structured plan as `data` (`oxymus.agents.dayplan.DayPlan`):

- the fixed events in local time, and where timed events overlap;
- the free slots inside working hours (`day_start`..`day_end`) at least `min_slot`
  long (rules in `dayplan`: all-day events, overlaps, midnight, DST days);
- the top three for the day, each with why, by the ranking rules in `dayplan`
  (overdue, due today, due tomorrow, reviews, failing CI, PLANS.md next actions
  under goals, ...); what to drop or defer; deadlines, bills, PRs and repos worth
  knowing; hot preferences and goals as context; which sources are stale or
  failing, so the person knows what the plan may miss.

Deep-work blocks: in the free time of the deep-work window (`deep_work`), pieces of
`block_length`, at most `max_blocks` a day, each named after a top item. They are
proposed as `calendar.create_event` only when `block_calendar` names a
`[[calendar.caldav]]` entry; otherwise the plan suggests them and says so. The
idempotency key is the date and the slot, and blocks already proposed for the day
(whatever became of them: a denial holds for the day) count towards `max_blocks`
and keep their time, so re-running never stacks blocks.

The LLM, when available, only ranks the first candidates and words the why: its
answer must name known candidates, keep the overdue ones, and state no number or
weekday the facts do not hold; otherwise the rules' top three stands.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oxymus.actions.model import InputRef
from oxymus.agents import dayplan as dp
from oxymus.agents.base import Agent, AgentSettings, Trigger
from oxymus.agents.confidence import Confidence, LlmPart, Strength, derive
from oxymus.kernel import wording
from oxymus.sources.contract import utc_iso
from oxymus.time.timeofday import parse_clock, parse_window
from oxymus.time.when import WhenError, parse_duration
from oxymus.today.view import DEADLINE_DAYS, build, day_bounds

NO_CALENDAR = "no calendar set to block time in ([agents.planner] block_calendar)"
LLM_CANDIDATES = 8  # the LLM ranks among the first candidates only
TOP = 3


class PlannerSettings(AgentSettings):
    """`[agents.planner]`"""

    day_start: str = Field(default="09:00", description="working hours start, local HH:MM: free slots are found inside them")
    day_end: str = Field(default="18:00", description="working hours end, local HH:MM")
    min_slot: str = Field(default="30m", description="a shorter gap between events is not a free slot")
    deep_work: str = Field(default="09:00-12:00", description="the deep-work window, local HH:MM-HH:MM: blocks are placed only inside it")
    block_length: str = Field(default="90m", description="length of one deep-work block")
    max_blocks: int = Field(default=2, ge=0, le=8, description="at most this many deep-work blocks a day")
    block_calendar: str | None = Field(
        default=None, description="the name of a [[calendar.caldav]] entry to propose deep-work blocks in "
                                  "(unset: the plan only suggests them)", examples=["work"],
    )
    block_calendar_name: str | None = Field(default=None, description="which calendar on that server (default: the entry's first)",
                                            examples=["Focus"])
    all_day_busy: bool = Field(default=False, description="all-day events take the whole working day "
                                                          "(default: shown, but they take no time: most are markers)")

    @field_validator("day_start", "day_end")
    @classmethod
    def _clock(cls, value: str) -> str:
        parse_clock(value)
        return value

    @field_validator("deep_work")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_window(value)
        return value

    @field_validator("min_slot", "block_length")
    @classmethod
    def _duration(cls, value: str) -> str:
        try:
            seconds = parse_duration(value)
        except WhenError as exc:
            raise ValueError(str(exc)) from None
        if seconds < 60:
            raise ValueError(f"{value!r} is shorter than a minute")
        return value

    @model_validator(mode="after")
    def _hours(self) -> "PlannerSettings":
        if parse_clock(self.day_end) <= parse_clock(self.day_start):
            raise ValueError(f"day_end ({self.day_end}) must come after day_start ({self.day_start})")
        return self


class _Pick(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="a candidate id from the list, e.g. c2")
    why: str = Field(min_length=3, max_length=240, description="one sentence to the person: why this matters today")


class _Ranking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    top: list[_Pick] = Field(min_length=1, max_length=TOP, description="the candidates that matter most today, best first")


def block_confidence(tier: int | None, first: bool, llm: LlmPart) -> Confidence:
    """See `Planner.confidence_rule`."""
    strength: Strength = "weak" if tier is None or tier > 5 else "strong" if tier <= 2 else "moderate"
    return derive(strength, support=int(first), llm=llm)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


class Planner(Agent):
    name = "planner"
    role = (
        "The planner makes the person's plan for the day each morning: the fixed events, the free time in working "
        "hours, the three things that matter most today and why, what to drop or defer, and the deadlines, bills "
        "and pull requests worth knowing. It ranks by urgency first (overdue, due today, due tomorrow, people "
        "waiting), then by the goals in PLANS.md, respects the person's stated preferences, and says plainly what "
        "it could not see. It proposes deep-work blocks in the calendar; it never moves or cancels anything."
    )
    reads = (
        "state:calendar.event", "state:calendar.deadline", "state:bills.due", "state:git.repo",
        "state:github.review_request", "state:github.pr", "memory:hot", "plans", "sources", "actions",
    )
    proposes = ("calendar.create_event",)
    trigger = Trigger(at="06:30")
    Settings = PlannerSettings
    confidence_rule = (
        "A deep-work block is as sure as the ranking rule of the top item it is for: overdue, due today or tomorrow "
        "strong; a review, failing CI or a goal's next action moderate; anything else, or no item, weak. Being for "
        "the day's first item is one supporting signal. The LLM's ranking agreed (the same top three as the rules), "
        "disagreed, or was unusable."
    )

    async def run(self, ctx: Any) -> str:
        s: PlannerSettings = self.settings  # type: ignore[assignment]
        zone, now, day = ctx.zone, ctx.now(), ctx.today()
        day_start, day_end = day_bounds(day, zone)

        items = await ctx.state(["calendar.event"], start=utc_iso(day_start), end=utc_iso(day_end))
        items += await ctx.state(["calendar.deadline"], end=utc_iso(day_end + dt.timedelta(days=DEADLINE_DAYS)))
        items += await ctx.state(["bills.due", "git.repo", "github.review_request", "github.pr"])
        paid = await ctx.payments(sorted({i.data.get("bill", "") for i in items if i.kind == "bills.due"}))
        recent = await ctx.actions(None, limit=500)
        sources = await ctx.sources()
        plans = await ctx.plans()
        hot = await ctx.memory("hot", limit=50)
        today = build(day, zone, now, items, sources, paid)  # type: ignore[arg-type]

        with_zone = wording.changes_offset(day, zone)
        work = dp.window(day, parse_clock(s.day_start), parse_clock(s.day_end), zone)
        busy = dp.busy_spans(items, work, all_day_busy=s.all_day_busy)
        not_before = dp.round_up(now) if now > work.start else None
        min_minutes = parse_duration(s.min_slot) / 60
        slots = dp.free_slots(work, busy, min_minutes=min_minutes, not_before=not_before)

        cands = dp.candidates(today, day, items, plans)
        preferences = [h.record.title for h in hot if h.record.kind == "preference"]
        others = [h.record.title for h in hot if h.record.kind != "preference"][:10]
        goals = [g.text for g in plans.goals if not g.done][:10] if plans is not None else []

        plan = dp.DayPlan(
            date=day.isoformat(), title=f"Day plan for {wording.long_day(day)}", zone=zone.key, generated_at=utc_iso(now),
            made=f"{wording.day_words(now.astimezone(zone).date())} {wording.clock(now, zone)}", working_hours=f"{s.day_start}–{s.day_end}",
            min_slot=wording.duration_words(int(min_minutes)),
            dst_note=("The clocks change today: times carry their zone, durations are real hours." if with_zone else None),
            events=dp.plan_events(today, day, zone, with_zone), conflicts=dp.conflicts(today, zone, day),
            free_slots=[dp.slot_view(x, zone, day, with_zone) for x in slots], free_minutes=sum(x.minutes for x in slots),
            deadlines=today.deadlines, bills=[b for b in today.bills if b.status != "paid"],
            pull_requests=today.pull_requests, repos=today.repos, preferences=preferences, hot_memory=others, goals=goals,
            stale_sources=self._stale(sources), llm=ctx.llm_status if ctx.llm is None else "",
        )

        top = [dp.plan_item(c, n) for n, c in enumerate(cands[:TOP], start=1)]
        llm_part: LlmPart = "none"
        if ctx.llm is not None and cands:
            ranked = await self._rank(ctx, cands, plan, day)
            if ranked is not None:
                llm_part = "agreed" if {t.id for t in ranked} == {t.id for t in top} else "disagreed"
                top, plan.ranking = ranked, "llm"
            else:
                llm_part = "invalid"
                plan.llm = "the LLM's ranking was not usable"
        plan.top = top
        chosen = {t.id for t in top}
        plan.defer = dp.defer_list([c for c in cands if c.id not in chosen])

        await self._blocks(ctx, s, plan, recent, busy, work, not_before, min_minutes, cands, top, zone, day, with_zone, llm_part)

        content = dp.render(plan)
        await ctx.artifact("day_plan", day.isoformat(), plan.title, content, data=plan.model_dump(mode="json"),
                           filename=f"{day.isoformat()}.md")
        return self._summary(plan, day)

    # -- parts

    @staticmethod
    def _stale(sources: list[Any]) -> list[dp.StaleSource]:
        out = []
        for v in sources:
            if v.status == "ok":
                continue
            if v.status == "stale":
                note = f"last updated {_age(v.age_s)} ago: what changed since then is missing from this plan"
            elif v.status == "pending":
                note = "not read yet: nothing from it is in this plan"
            elif v.status == "needs_human":
                note = f"needs you: {v.last_error or 'see oxymus sources'}; nothing new from it is in this plan"
            else:
                since = f"last good data {_age(v.age_s)} old" if v.age_s is not None else "no data from it yet"
                note = f"failing ({v.last_error or 'unknown error'}); {since}"
            out.append(dp.StaleSource(source=v.source, status=v.status, note=note))
        return out

    async def _rank(self, ctx: Any, cands: list[dp.Candidate], plan: dp.DayPlan, day: dt.date) -> list[dp.PlanItem] | None:
        """The LLM's top three among the first candidates, validated; None to keep the rules' order."""
        from oxymus.agents.llm import Section

        shown = cands[:LLM_CANDIDATES]
        need = min(TOP, len(shown))
        pinned = [c.id for c in shown[:TOP] if c.tier == 0]
        by_id = {c.id: c for c in shown}
        lines = [f"{c.id} | {c.title} | {c.facts} | rule: {dp.TIERS[c.tier]}" for c in shown]
        today_lines = [f"{e.when}: {e.summary}" for e in plan.events] or ["no fixed events"]
        today_lines += [f"free {x.start}–{x.end} ({wording.duration_words(x.minutes)})" for x in plan.free_slots] or ["no free time"]
        context = [f"preference: {p}" for p in plan.preferences] + [f"on their mind: {h}" for h in plan.hot_memory]
        sections = [
            Section(name="candidates (id | what | facts | rule)", text="\n".join(lines), priority=10, min_chars=40),
            Section(name="the day", text="\n".join(today_lines), priority=5),
            Section(name="the person's preferences", text="\n".join(context), priority=4),
            Section(name="goals (PLANS.md)", text="\n".join(f"- {g}" for g in plan.goals), priority=3),
        ]
        must = f" The overdue ones ({', '.join(pinned)}) must be among them." if pinned else ""
        task = (
            f"Today is {wording.long_day(day)}. Choose the {need} candidates that matter most today, best first, and for each "
            f"write one short sentence to the person saying why it matters today. Use only ids from the candidates list.{must} "
            "Do not state any date, time, weekday or amount that is not in that candidate's facts."
        )
        answer = await ctx.llm.chat_json(self.role, sections, task, model_cls=_Ranking)
        if answer is None:
            return None
        ids = [p.id for p in answer.top]
        if len(ids) != need or len(set(ids)) != need or any(i not in by_id for i in ids) or not set(pinned) <= set(ids):
            return None
        out = []
        for rank, pick in enumerate(answer.top, start=1):
            cand = by_id[pick.id]
            why = " ".join(pick.why.split())
            if not wording.only_known_facts(why, f"{cand.facts} {cand.title} {wording.long_day(day)}"):
                return None
            out.append(dp.plan_item(cand, rank, why))
        return out

    async def _blocks(self, ctx: Any, s: PlannerSettings, plan: dp.DayPlan, recent: list[Any], busy: list[dp.Span],
                      work: dp.Span, not_before: dt.datetime | None, min_minutes: float, cands: list[dp.Candidate],
                      top: list[dp.PlanItem], zone: Any, day: dt.date, with_zone: bool, llm_part: LlmPart = "none") -> None:
        prefix = f"planner:block:{day.isoformat()}:"
        existing = [a for a in recent if a.kind == "calendar.create_event" and a.idempotency_key.startswith(prefix)]
        taken: list[dp.Span] = []
        for a in sorted(existing, key=lambda a: a.payload.get("start", "")):
            span = dp.Span(dp.parse_iso(a.payload["start"]), dp.parse_iso(a.payload["end"]))
            taken.append(span)
            plan.blocks.append(dp.PlanBlock(start=wording.clock(span.start, zone, day=day, with_zone=with_zone),
                                            end=wording.clock(span.end, zone, day=day, with_zone=with_zone), starts_at=utc_iso(span.start),
                                            ends_at=utc_iso(span.end), summary=a.payload.get("summary", ""), action_id=a.id,
                                            status=a.status))
        room = s.max_blocks - len(existing)
        if room <= 0:
            return
        # Time already given to a block (proposed, created or refused today) is not offered again.
        free = dp.free_slots(work, dp.merge(busy + taken), min_minutes=min_minutes, not_before=not_before)
        deep_start, deep_end = parse_window(s.deep_work)
        spans = dp.place_blocks(free, dp.window(day, deep_start, deep_end, zone),
                                length_minutes=parse_duration(s.block_length) / 60, max_blocks=room)
        if not spans:
            return
        by_id = {c.id: c for c in cands}
        focus = [t for t in top if by_id[t.id].deep] or [dp.plan_item(c, 0) for c in cands if c.deep][:1]
        if not s.block_calendar:
            plan.block_note = NO_CALENDAR
            ctx.note(NO_CALENDAR)
        for n, span in enumerate(spans):
            item = focus[n % len(focus)] if focus else None
            summary = (f"Deep work: {item.title}" if item else "Deep work")[:200]
            start_l, end_l = span.start.astimezone(zone), span.end.astimezone(zone)
            block = dp.PlanBlock(start=wording.clock(span.start, zone, day=day, with_zone=with_zone),
                                 end=wording.clock(span.end, zone, day=day, with_zone=with_zone), starts_at=utc_iso(span.start),
                                 ends_at=utc_iso(span.end), summary=summary, status="suggested")
            if not s.block_calendar:
                plan.blocks.append(block)
                continue
            payload: dict[str, Any] = {
                "calendar": s.block_calendar, "summary": summary, "start": start_l.isoformat(), "end": end_l.isoformat(),
                "description": (f"{item.title}: {item.why}\n\n" if item else "")
                               + f"Proposed by the Oxymus planner with the day plan for {day.isoformat()}. Deny it to keep the time free.",
            }
            if s.block_calendar_name:
                payload["calendar_name"] = s.block_calendar_name
            inputs = [InputRef(kind="state", ref="calendar.event", note=f"free {block.start}–{block.end} on {day.isoformat()} "
                                                                         f"inside the deep-work window {s.deep_work}")]
            if item is not None:
                inputs.append(InputRef(kind=item.ref_kind[:40], ref=item.ref[:500], note=item.title[:500]))
            reason = (f"A {wording.duration_words(span.minutes)} deep-work block in free time of your deep-work window "
                      f"({s.deep_work}) " + (f"for today's top item, {item.title}: {item.why}" if item else "for focused work"))
            sure = block_confidence(by_id[item.id].tier if item else None, item is not None and item.rank == 1, llm_part)
            action = await ctx.propose("calendar.create_event", payload, reason=reason[:1000], inputs=inputs, confidence=sure.value,
                                       key=f"{prefix}{span.start:%H%MZ}")
            if action is None:
                plan.block_note = (f"could not propose blocks in {s.block_calendar!r}: see this run in "
                                   "`oxymus agents history planner`")
                plan.blocks.append(block)
                break
            plan.blocks.append(block.model_copy(update={"action_id": action.id, "status": action.status,
                                                        "new": action.proposer.run_id == ctx.run_id}))

    @staticmethod
    def _summary(plan: dp.DayPlan, day: dt.date) -> str:
        timed = [e for e in plan.events if not e.all_day]
        parts = [f"{len(plan.events)} event{'s' if len(plan.events) != 1 else ''}" if plan.events else "nothing fixed"]
        if plan.free_slots:
            parts.append(f"{wording.duration_words(plan.free_minutes)} free in {len(plan.free_slots)} slot{'s' if len(plan.free_slots) != 1 else ''}")
        else:
            parts.append("no free slot" + (" left" if timed else ""))
        parts.append(f"top: {plan.top[0].title}" if plan.top else "nothing urgent")
        new = [b for b in plan.blocks if b.new]
        if new:
            parts.append(f"{len(new)} deep-work block{'s' if len(new) != 1 else ''} proposed")
        if plan.stale_sources:
            parts.append(f"may miss {', '.join(x.source for x in plan.stale_sources)}")
        return f"day plan for {wording.day_words(day)}: " + "; ".join(parts)

