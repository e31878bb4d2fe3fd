"""The memory steward: keeps canonical memory short enough to reread.

Memory has three tiers. The mechanical part of keeping them is the daemon's: every
few hours it ages records by the rules the person configured (`[memory] hot_days`,
`warm_days`) and writes a deterministic summary of each past month's warm records
(`Service.maintain_forever`, `oxymus/store/memory_repo.py`). The steward does the
parts that are judgements, and proposes them as `memory.update` actions:

- Hot memory travels in every agent's prompt, so it has a word budget. When hot
  memory is over it, the steward proposes moving the least recently used hot
  records to warm, one proposal per record, until the rest fits. Each is keyed by
  record and month: it asks once a month, not every six hours; a record whose
  move you denied stays hot and the next one is proposed instead.
- With an LLM, a month's deterministic warm summary (a listing) is rewritten as a
  short readable summary, proposed as an edit of that summary record's body (the
  listing stays in its history). Only a summary that is still exactly the
  deterministic one is rewritten, once per version. With no LLM there is nothing
  to propose: the deterministic summary already exists.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
from typing import Any

from pydantic import BaseModel, Field, field_validator

from oxymus.actions.model import InputRef
from oxymus.agents.base import Agent, AgentSettings, Trigger
from oxymus.agents.confidence import Confidence, Strength, derive
from oxymus.memory.records import BudgetEntry, MemoryRecord, month_summary

TRIED_KEY = "summaries_tried"
MAX_ATTEMPTS = 3  # an LLM that keeps failing on one month is not asked about it again every six hours


class StewardSettings(AgentSettings):
    hot_budget_words: int | None = Field(
        default=None, ge=100, le=100_000, examples=[1500],
        description="words hot memory may hold before the steward proposes moving records to warm (unset: [memory] hot_budget_words)",
    )
    summary_words: int = Field(default=150, ge=30, le=1000, description="an LLM-written monthly summary may have at most this many words")
    summaries_per_run: int = Field(default=2, ge=0, le=12, description="at most this many monthly summaries are given to the LLM per run")


class SummaryAnswer(BaseModel):
    body: str = Field(description="the summary: a few plain sentences or short bullet points, only what the records say")

    @field_validator("body")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the summary is empty")
        return value


def words(n: int) -> str:
    return f"{n:,} word" + ("" if n == 1 else "s")


def when(ts: str, zone: Any) -> str:
    moment = dt.datetime.fromisoformat(ts).astimezone(zone)
    return f"{moment:%a} {moment.day} {moment:%b %Y}"


def month_name(month: str) -> str:
    year, number = month.split("-")
    return f"{calendar.month_name[int(number)]} {year}"


def first_line(body: str) -> str:
    body = body.strip()
    return re.split(r"(?<=[.!?])\s|\n", body, maxsplit=1)[0][:200] if body else ""


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+", text))


def demote_confidence(idle_days: int, still_over: bool) -> Confidence:
    """See `MemorySteward.confidence_rule`."""
    strength: Strength = "strong" if idle_days >= 30 else "moderate" if idle_days >= 7 else "weak"
    return derive(strength, support=int(still_over))


def summary_confidence(failed_before: int) -> Confidence:
    return derive("moderate" if failed_before == 0 else "weak", llm="validated")


class MemorySteward(Agent):
    name = "steward"
    role = ("The memory steward. It keeps the person's canonical memory short enough to reread: hot memory (what every "
            "agent sees) within its word budget, and each month's warm records summarised in a few plain sentences. "
            "It proposes; the person decides. It never invents: a summary says only what the records say.")
    reads = ("memory:hot", "memory:warm")
    proposes = ("memory.update",)
    trigger = Trigger(every="6h")
    Settings = StewardSettings
    confidence_rule = (
        "Moving a hot record to warm is as sure as it is unused: untouched for 30 days or more strong, 7 or more "
        "moderate, less weak; that hot memory is still over budget after the move is one supporting signal. A "
        "monthly summary is the LLM's text, checked (length, no numbers the records lack): moderate when it "
        "validated at the first try, weak after earlier answers for that month did not."
    )

    async def run(self, ctx) -> str:
        settings: StewardSettings = ctx.settings  # type: ignore[assignment]
        parts = [await self._budget(ctx, settings)]
        summaries = await self._summaries(ctx, settings)
        if summaries:
            parts.append(summaries)
        return "; ".join(parts)

    # --- hot memory's budget --------------------------------------------------------------------

    async def _budget(self, ctx, settings: StewardSettings) -> str:
        report = await ctx.hot_budget()
        budget = settings.hot_budget_words or report.limit_words
        hot = report.records
        used = report.used_words
        if used <= budget:
            return f"hot memory {words(used)} of {budget:,}, within budget; nothing to move"
        month = ctx.today().strftime("%Y-%m")
        left: int = used
        asked: list[BudgetEntry] = []
        kept: list[BudgetEntry] = []
        for record in sorted(hot, key=lambda r: (r.touched_at, r.id)):  # least recently used first
            if left <= budget:
                break
            after = left - record.words
            idle = (ctx.now() - dt.datetime.fromisoformat(record.touched_at)).days
            reason = (f"Hot memory holds {words(used)}, over its budget of {budget:,}. “{record.title}” ({words(record.words)}) "
                      f"is the least recently used hot record{' you have not kept' if kept else ''} (last touched "
                      f"{when(record.touched_at, ctx.zone)}); moving it to warm brings hot memory to {words(after)}. "
                      "Warm records are still found by search; they just leave every agent's prompt.")
            action = await ctx.propose(
                "memory.update", {"op": "edit", "id": record.id, "changes": {"tier": "warm"}, "note": "over the hot budget"},
                reason=reason, key=f"steward:demote:{record.id}:{month}", confidence=demote_confidence(idle, after > budget).value,
                inputs=[InputRef(kind="memory", ref=record.id, note=f"hot, {words(record.words)}, touched {record.touched_at}"),
                        InputRef(kind="memory", ref="tier hot", note=f"{words(used)} of a {budget:,}-word budget")],
            )
            if action is None:
                continue
            if action.status == "denied":
                kept.append(record)  # you said it stays hot: this month, the next one is asked instead
                continue
            asked.append(record)
            left = after
        head = f"hot memory {words(used)} of {budget:,}"
        if not asked:
            return head + (": over budget, but you kept every record proposed this month" if kept else ": over budget, nothing could be proposed")
        still = "" if left <= budget else f" (still {words(left)}: nothing else to move)"
        return head + f": {len(asked)} record(s) proposed (or waiting) to move to warm{still}"

    # --- monthly warm summaries -------------------------------------------------------------------

    async def _summaries(self, ctx, settings: StewardSettings) -> str:
        warm = [h.record for h in await ctx.memory("warm", limit=5000)]
        summaries = sorted((r for r in warm if r.kind == "summary" and r.provenance.source == "agent"
                            and (r.provenance.ref or "").startswith("summary:")), key=lambda r: r.provenance.ref or "", reverse=True)
        if not summaries:
            return ""
        by_month: dict[str, list[MemoryRecord]] = {}
        for r in sorted(warm, key=lambda r: r.id):
            if r.kind != "summary":
                by_month.setdefault(r.touched_at[:7], []).append(r)
        tried: dict[str, Any] = dict(await ctx.recall(TRIED_KEY) or {})
        todo: list[tuple[MemoryRecord, str, list[MemoryRecord], str]] = []
        for summary in summaries:
            month = (summary.provenance.ref or "")[len("summary:"):]
            records = by_month.get(month, [])
            if not records or month_summary(month, records).body != summary.body:
                continue  # rewritten already (by you or an approved proposal), or about to be refreshed
            key = f"steward:summary:{month}:{hashlib.sha256(summary.body.encode()).hexdigest()[:12]}"
            state = tried.get(key)
            if state == "proposed" or (isinstance(state, int) and state >= MAX_ATTEMPTS):
                continue
            todo.append((summary, month, records, key))
        if not todo:
            return ""
        if ctx.llm is None:
            return f"{len(todo)} monthly summary(ies) left as listings ({ctx.llm_status})"
        asked = proposed = 0
        for summary, month, records, key in todo[:settings.summaries_per_run]:
            state = tried.get(key)
            asked += 1
            body = await self._ask(ctx, settings, month, records, summary)
            if body is None:
                tried[key] = (state if isinstance(state, int) else 0) + 1
                continue
            action = await ctx.propose(
                "memory.update", {"op": "edit", "id": summary.id, "changes": {"body": body}, "note": "summary rewritten by the local model"},
                reason=(f"A readable summary of warm memory for {month_name(month)} ({len(records)} records), written by the local "
                        "model from the records' titles and first lines. The listing it replaces stays in the record's history."),
                inputs=[InputRef(kind="memory", ref=summary.id, note=f"summary of {month}, version {summary.version}"),
                        *[InputRef(kind="memory", ref=r.id, note=r.title[:200]) for r in records[:20]]],
                confidence=summary_confidence(state if isinstance(state, int) else 0).value, key=key,
            )
            if action is not None:
                tried[key] = "proposed"
                proposed += 1
        await ctx.remember(TRIED_KEY, dict(list(tried.items())[-200:]))
        if not asked:
            return ""
        return f"{proposed} of {asked} monthly summary(ies) rewritten by the LLM proposed"

    async def _ask(self, ctx, settings: StewardSettings, month: str, records: list[MemoryRecord], summary: MemoryRecord) -> str | None:
        from oxymus.agents.llm import Section

        listing = "\n".join(f"- [{r.kind}] {r.title}" + (f" — {first_line(r.body)}" if r.body.strip() else "") for r in records)
        sections = [Section(name=f"Warm memory records last touched in {month_name(month)}", text=listing, priority=10, min_chars=500)]
        task = (f"Summarise what these memory records from {month_name(month)} say, for the person to reread later: at most "
                f"{settings.summary_words} words, a few plain sentences or short bullet points, grouped by what belongs together. "
                "Use only what the records say; do not add dates, numbers or names that are not in them.")
        answer = await ctx.llm.chat_json(self.role, sections, task, model_cls=SummaryAnswer)
        if answer is None:
            ctx.note(f"LLM summary of {month} unusable; the listing stays")
            return None
        n = len(answer.body.split())
        if n > settings.summary_words:
            ctx.note(f"LLM summary of {month} too long ({n} words); the listing stays")
            return None
        if not _numbers(answer.body) <= _numbers(listing + " " + month):
            ctx.note(f"LLM summary of {month} stated numbers not in the records; the listing stays")
            return None
        ids = ", ".join(r.id for r in records)
        return f"{answer.body}\n\nRecords: {ids}"
