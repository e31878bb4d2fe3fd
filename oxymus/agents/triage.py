"""The triage specialist: suggests what each new capture becomes, so the inbox empties with one key.

For every open capture without a suggestion it decides, with a confidence and a why:

- a calendar event, when the capture names a time ("call Ana tomorrow 2pm"); the
  times come from `oxymus.time.timewords`, in the configured zone, never from the LLM; the
  summary is the capture without the time phrase; 30 minutes unless it says
  ("for 1h", "14:00-15:30"); an overlap with a known event is mentioned. Only when a
  CalDAV calendar can take it (`[[calendar.caldav]]`, and `calendar` names one of them):
  otherwise it is offered as a next action with the time in it, not pre-selected;
- a bill, when it names an amount and a recurrence or a bill word ("pay rent 950 EUR
  monthly on the 1st", "domain renewal 12 EUR on 2026-12-03");
- a next action in PLANS.md, when it starts with a verb (call, email, fix, buy...),
  under the section whose title or goals share its words (else `section`);
- a memory record: a person ("Bo lives in Lisbon"), a preference ("Ana prefers tea",
  "I prefer mornings"), a decision, a commitment, a fact ("remember that ...");
- archive, for noise ("test", "asdf") and duplicates of an older open capture.

Each suggestion is saved as an artifact (kind `triage_suggestion`, key = the capture
id, data = protocol.TriageSuggestion). It proposes no action itself: the person
accepts a suggestion in the inbox (`oxymus inbox accept`, Enter in the TUI), and
only those at or above `preselect_at` are pre-selected there.

With an LLM, each capture is also asked about (a validated `LlmTriage`): a valid
answer may change the target and the wording (summary, title, section among the
existing ones, memory kind, bill name), but times, dates, amounts and recurrences
are still computed by code from the capture; an answer that needs what code could
not find (an event without a time, a bill without an amount) is not used. A run asks
about at most `llm_max_per_run` captures, spends at most LLM_RUN_BUDGET_S seconds on
the LLM, and stops asking after LLM_GIVE_UP_AFTER answers in a row it could not use.
"""

from __future__ import annotations

import datetime as dt
import re
import time

from pydantic import Field, ValidationError

from oxymus.agents.base import Agent, AgentSettings, Trigger
from oxymus.agents.triage_models import TriageSuggestion
from oxymus.agents.triage_rules import (
    SYSTEM,
    Facts,
    LlmTriage,
    classify,
    first_line,
    llm_sections,
    merge_llm,
    normalise,
    words,
)
from oxymus.time.timewords import find_when

ARTIFACT_KIND = "triage_suggestion"
LLM_RUN_BUDGET_S = 120.0  # past this much LLM time in one run, the rest of its captures get the rules only
LLM_GIVE_UP_AFTER = 2  # consecutive calls without a usable answer: the model is down or unfit, stop asking this run

# ---------------------------------------------------------------- settings


class TriageSettings(AgentSettings):
    """`[agents.triage]`."""

    preselect_at: float = Field(default=0.75, ge=0, le=1, description="suggestions at least this confident are pre-selected in the inbox (Enter accepts them)")
    default_minutes: int = Field(default=30, ge=5, le=24 * 60, description="how long a suggested event lasts when the capture does not say")
    calendar: str | None = Field(default=None, description="the [[calendar.caldav]] entry events are proposed in (default: the first configured)",
                                 examples=["personal"])
    section: str = Field(default="Next actions", min_length=1, max_length=200, description="the PLANS.md section next actions go under when no other fits")
    max_per_run: int = Field(default=100, ge=1, le=2000, description="at most this many captures are triaged per run (the rest next run)")
    llm_max_per_run: int = Field(default=20, ge=0, le=500, description="at most this many captures per run are also asked of the LLM (0: never)")


# ---------------------------------------------------------------- the agent


class Triage(Agent):
    name = "triage"
    role = (
        "Triage suggests what each new capture in the inbox becomes: a next action in PLANS.md, a memory record, "
        "a calendar event, a bill, or nothing (archive), with a confidence and a reason. It proposes nothing itself: "
        "the person accepts a suggestion with one key, or chooses differently."
    )
    reads = ("captures", "memory:hot", "plans", "state:calendar.event", f"artifacts:{ARTIFACT_KIND}")
    proposes = ()
    trigger = Trigger(on=["capture.added"], debounce="2s")
    Settings = TriageSettings

    async def run(self, ctx) -> str:
        settings: TriageSettings = ctx.settings  # type: ignore[assignment]
        captures = await ctx.captures("open", limit=2000)
        if not captures:
            return "inbox empty: nothing to triage"
        done = await ctx.artifact_keys(ARTIFACT_KIND)  # keys only: this runs after every capture
        todo = sorted((c for c in captures if c.id not in done), key=lambda c: c.seq)[: settings.max_per_run]
        if not todo:
            return f"nothing to triage: all {len(captures)} open captures have a suggestion"
        facts = await self._facts(ctx, settings, captures)
        counts: dict[str, int] = {}
        preselected = llm_used = llm_asked = misses = 0
        llm_spent = 0.0
        for capture in todo:
            suggestion = classify(capture.id, capture.text, facts)
            if (ctx.llm is not None and llm_asked < settings.llm_max_per_run and llm_spent < LLM_RUN_BUDGET_S
                    and misses < LLM_GIVE_UP_AFTER):
                llm_asked += 1
                started = time.monotonic()
                better = await self._ask(ctx, capture.text, suggestion, facts)
                llm_spent += time.monotonic() - started
                if better is not None:
                    suggestion, llm_used, misses = better, llm_used + 1, 0
                else:
                    misses += 1
            suggestion = suggestion.model_copy(update={"preselected": suggestion.confidence >= settings.preselect_at})
            preselected += suggestion.preselected
            counts[suggestion.to] = counts.get(suggestion.to, 0) + 1
            content = "\n".join([f"Capture: {first_line(capture.text)}", f"Suggestion: {suggestion.label}",
                                 f"Confidence: {suggestion.confidence:.2f}", f"Why: {suggestion.why}",
                                 *(f"Note: {n}" for n in suggestion.notes)])
            await ctx.artifact(ARTIFACT_KIND, capture.id, suggestion.label[:200], content, data=suggestion.model_dump(mode="json"))
        names = {"plan_action": "next action", "memory": "memory", "calendar_event": "calendar event", "bill": "bill", "archive": "archive"}
        parts = ", ".join(f"{n} {names[k]}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        summary = f"triaged {len(todo)} capture{'s' if len(todo) != 1 else ''}: {parts} ({preselected} pre-selected)"
        if llm_asked:
            summary += f"; LLM used for {llm_used} of {llm_asked}"
        return summary

    async def _facts(self, ctx, settings: TriageSettings, captures) -> Facts:
        now = ctx.now()
        facts = Facts(now=now, zone=ctx.zone, default_section=settings.section, default_minutes=settings.default_minutes,
                      calendar=settings.calendar, calendars=ctx.calendars())
        for capture in sorted(captures, key=lambda c: c.seq):
            facts.open_texts.setdefault(normalise(capture.text), capture.id)
        for hit in await ctx.memory("hot", limit=200):
            record = hit.record
            if record.kind == "person":
                name = re.match(r"[\w'’-]+", record.title)
                if name:
                    facts.people[name.group(0).lower()] = name.group(0)
            for tag in record.tags:
                if record.kind in ("person", "preference") and tag.isalpha():
                    facts.people.setdefault(tag.lower(), tag.capitalize())
        doc = await ctx.plans()
        if doc is not None:
            publishing = {s.title for s in doc.sections if "publish" in s.title.lower()}
            with_actions = {a.section[-1] for a in doc.actions if a.section}
            for section in doc.sections:
                if section.title in publishing or any(p in publishing for p in section.path):
                    continue
                if section.title.lower() in ("goals", "goal") or section.level == 1 and section.title not in with_actions:
                    continue
                facts.sections.append(section.title)
                ws = words(section.title)
                for goal in doc.goals:
                    if goal.section and goal.section[-1] == section.title:
                        ws |= words(goal.text)
                facts.section_words[section.title] = ws - {"next", "actions", "action", "todo", "tasks"}
            match = next((s for s in facts.sections if s.casefold() == settings.section.casefold()), None)
            if match is not None:
                facts.default_section = match
        if any((f := find_when(first_line(c.text), now, ctx.zone)) is not None and f.has_time for c in captures):
            until = now + dt.timedelta(days=400)
            iso = lambda d: d.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
            for item in await ctx.state(["calendar.event"], start=iso(now - dt.timedelta(days=1)), end=iso(until)):
                if not item.starts_at or not item.ends_at:
                    continue
                try:
                    start = dt.datetime.fromisoformat(item.starts_at)
                    end = dt.datetime.fromisoformat(item.ends_at)
                except ValueError:
                    continue
                if item.data.get("all_day") or item.data.get("status") == "cancelled":
                    continue
                facts.events.append((str(item.data.get("summary") or item.key), start, end))
        return facts

    async def _ask(self, ctx, text: str, rules: TriageSuggestion, facts: Facts) -> TriageSuggestion | None:
        found = find_when(first_line(text), facts.now, facts.zone)
        task = ("Classify the capture. Use one of the listed sections for a next action. For a calendar event, "
                "title is the event's summary without the time. Answer with JSON only.")
        try:
            answer = await ctx.llm.chat_json(SYSTEM, llm_sections(text, found, rules, facts), task, model_cls=LlmTriage)
        except Exception as exc:  # noqa: BLE001 - the deterministic suggestion stands
            ctx.note(f"LLM call failed: {type(exc).__name__}")
            return None
        if answer is None:
            return None
        try:
            return merge_llm(answer, rules, text, facts)
        except ValidationError:
            return None
