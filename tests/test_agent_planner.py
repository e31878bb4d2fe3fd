"""The planner on a real agent runtime: the day plan's content and data, free slots (DST, midnight,
overlaps), deep-work blocks proposed once, stale sources named, and the LLM only ranking and wording."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from agent_harness import AgentWorld
from ollama_server import closed_url, ollama_server  # noqa: F401

from oxymus.agents import dayplan as dp
from oxymus.agents.llm import Llm
from oxymus.agents.planner import NO_CALENDAR, PlannerSettings
from oxymus.kernel import wording
from oxymus.memory import records as m
from oxymus.models import SourceView
from oxymus.profile.config import LlmConfig

BERLIN = ZoneInfo("Europe/Berlin")

PLANS = """\
# Plans

Goal: ship Oxymus 0.2 before the holidays

## Goals

- Keep the daemon under 40 MB

## Next actions

- [ ] Release 0.2
  - [x] Tag the release candidate
  - [ ] Write the changelog
- [ ] Order a second monitor
- [x] Fix the flaky socket test
"""

CALDAV = """
[[calendar.caldav]]
url = "http://127.0.0.1:5232/"
username = "me"
name = "personal"

[agents.planner]
block_calendar = "personal"
"""


def event(w: AgentWorld, key: str, summary: str, start: dt.datetime, end: dt.datetime, *, all_day: bool = False, **extra):
    data = {"uid": key, "summary": summary, "all_day": all_day, "calendar": "work", "recurring": False,
            "start": start.date().isoformat() if all_day else start.isoformat(),
            "end": end.date().isoformat() if all_day else end.isoformat(), **extra}
    return w.item("work", "calendar.event", f"{key}@{start.astimezone(dt.timezone.utc):%Y%m%dT%H%M}", starts=start, ends=end, data=data)


def midnight(w: AgentWorld, offset: int) -> dt.datetime:
    return w.local(offset, 0)


async def seed_day(w: AgentWorld) -> None:
    await w.state("work", [
        event(w, "standup", "Standup", w.local(0, 9, 30), w.local(0, 9, 45), recurring=True),
        event(w, "call", "Call with Ana", w.local(0, 14), w.local(0, 15), location="Zoom"),
        event(w, "conf", "PyConf", midnight(w, -1), midnight(w, 2), all_day=True),
        w.item("work", "calendar.deadline", "todo:grant", starts=midnight(w, 1), ends=midnight(w, 2),
               data={"uid": "grant", "summary": "Submit the grant report", "due": "2026-11-24", "all_day": True, "calendar": "work"}),
        w.item("work", "calendar.deadline", "todo:slides", starts=w.local(4, 12), ends=w.local(4, 12),
               data={"uid": "slides", "summary": "Send the slides", "due": w.local(4, 12).isoformat(), "all_day": False, "calendar": "work"}),
    ])
    await w.state("bills", [bill(w, "power", "Electricity", 84.2, "2026-11-20", url="https://pay.example/power"),
                            bill(w, "net", "Internet", 39.0, "2026-11-24", autopay=True)])
    await w.state("github", [
        w.item("github", "github.review_request", "https://github.com/acme/api/pull/42",
               data={"number": 42, "title": "Fix time zones", "repo": "acme/api", "url": "https://github.com/acme/api/pull/42",
                     "author": "zoe", "updated_at": "2026-11-22T10:00:00Z", "ci": "success"}),
        w.item("github", "github.pr", "https://github.com/acme/api/pull/40",
               data={"number": 40, "title": "Add caching", "repo": "acme/api", "url": "https://github.com/acme/api/pull/40",
                     "author": "me", "updated_at": "2026-11-22T09:00:00Z", "ci": "pending"}),
    ])
    for title in ("Deep work in the mornings", "No meetings before noon"):
        await w.store.memory.add(m.RecordFields(kind="preference", title=title, tier="hot"), m.Provenance())
    await w.store.memory.add(m.RecordFields(kind="commitment", title="Workshop with Ana in January", tier="hot"), m.Provenance())
    await w.store.memory.add(m.RecordFields(kind="preference", title="Tea, not coffee", tier="cold"), m.Provenance())


def bill(w: AgentWorld, key: str, name: str, amount: float, due: str, *, autopay: bool = False, url: str | None = None):
    day = dt.date.fromisoformat(due)
    start = dt.datetime.combine(day, dt.time(), w.zone)
    return w.item("bills", "bills.due", f"{key}@{due}", starts=start, ends=start + dt.timedelta(days=1),
                  data={"bill": key, "name": name, "amount": amount, "currency": "EUR", "due": due, "schedule": "monthly",
                        "autopay": autopay, "url": url, "notes": None})


async def the_plan(w: AgentWorld):
    [art] = await w.artifacts("day_plan")
    return art, dp.DayPlan.model_validate(art.data)


async def test_a_realistic_day(tmp_path):
    async with AgentWorld(tmp_path, plans=PLANS, only=["planner"]) as w:
        await seed_day(w)
        run = await w.run("planner")
        assert run.outcome == "succeeded", run.error
        art, plan = await the_plan(w)
        assert art.key == "2026-11-23" and art.kind == "day_plan" and art.path.endswith("planner/2026-11-23.md")
        assert open(art.path).read() == art.content
        assert plan.title == "Day plan for Monday 23 November 2026" and plan.made == "Mon 23 Nov 06:30"

        assert [(e.when, e.summary, e.day_of) for e in plan.events] == [
            ("all day", "PyConf", [2, 3]), ("09:30–09:45", "Standup", None), ("14:00–15:00", "Call with Ana", None)]
        assert [(s.start, s.end, s.minutes) for s in plan.free_slots] == [
            ("09:00", "09:30", 30), ("09:45", "14:00", 255), ("15:00", "18:00", 180)]
        assert plan.free_minutes == 465

        assert [(t.rank, t.title, t.why_by) for t in plan.top] == [
            (1, "Pay Electricity", "rules"), (2, "Submit the grant report", "rules"), (3, "Review acme/api#42: Fix time zones", "rules")]
        assert plan.top[0].why == "overdue since Fri 20 Nov (3 days ago): 84.20 EUR; pay at https://pay.example/power"
        assert plan.top[1].why == "due tomorrow (Tue 24 Nov)"
        assert plan.top[2].why == "zoe is waiting for your review"
        assert plan.top[0].ref == "bills.due:power@2026-11-20"
        # Next: the deadline later this week comes after PLANS.md actions under the goal; done items never appear.
        assert [d.title for d in plan.defer] == [
            "Write the changelog (Release 0.2)", "Order a second monitor", "Send the slides"]
        assert plan.defer[0].why == "not today; it stays in PLANS.md (next action toward the goal “ship Oxymus 0.2 before the holidays”)"
        assert plan.defer[2].why == "due Fri 27 Nov at 12:00 (in 4 days): there is still time after today"

        assert [d.summary for d in plan.deadlines] == ["Submit the grant report", "Send the slides"]
        assert [(b.name, b.status) for b in plan.bills] == [("Electricity", "overdue"), ("Internet", "autopay")]
        assert [(p.number, p.why) for p in plan.pull_requests] == [(42, "review requested"), (40, "CI pending")]
        assert sorted(plan.preferences) == ["Deep work in the mornings", "No meetings before noon"]
        assert plan.hot_memory == ["Workshop with Ana in January"]
        assert plan.goals == ["ship Oxymus 0.2 before the holidays", "Keep the daemon under 40 MB"]
        assert plan.stale_sources == [] and plan.ranking == "rules" and plan.llm == "LLM unavailable: not configured"

        # No calendar to block time in: the block is suggested, not proposed, and the plan says why.
        assert [(b.start, b.end, b.summary, b.status) for b in plan.blocks] == [
            ("09:45", "11:15", "Deep work: Submit the grant report", "suggested")]
        assert plan.block_note == NO_CALENDAR and run.actions == []
        assert NO_CALENDAR in run.summary

        text = art.content
        for heading in ("## Fixed events", "## Free slots (09:00–18:00, at least 30 min)", "## Top three", "## Drop or defer",
                        "## Worth knowing", "## Deep-work blocks", "## Context", "## What this plan may miss"):
            assert heading in text
        assert "- all day: PyConf (day 2 of 3)" in text and "- 09:30–09:45: Standup (repeats)" in text
        assert "- 09:45–14:00 (4 h 15 min)" in text and "- free in all: 7 h 45 min" in text
        assert "1. **Pay Electricity**: overdue since Fri 20 Nov" in text
        assert "- preference: Deep work in the mornings" in text and "Tea, not coffee" not in text
        assert "- bill: Electricity, 84.20 EUR due Fri 20 Nov (3 days overdue)" in text
        assert "- deadline: Send the slides, due Fri 27 Nov 12:00 (in 4 days)" in text
        assert "- bill: Internet, 39.00 EUR due Tue 24 Nov (paid automatically)" in text
        assert run.summary.startswith("day plan for Mon 23 Nov: 3 events; 7 h 45 min free in 3 slots; top: Pay Electricity")
        assert {i.kind for i in run.inputs} >= {"state", "memory", "plans", "actions", "sources"}

        # A re-run the same day replaces the plan (one per date).
        w.advance(hours=3)
        await w.run("planner")
        [again] = await w.artifacts("day_plan")
        assert again.id != art.id
        again_plan = dp.DayPlan.model_validate(again.data)
        # At 09:30 the plan starts from now: the slot before the standup is gone.
        assert [(s.start, s.end) for s in again_plan.free_slots] == [("09:45", "14:00"), ("15:00", "18:00")]


async def test_a_paid_bill_drops_out_of_the_top(tmp_path):
    async with AgentWorld(tmp_path, plans=PLANS, only=["planner"], config_toml='[bills]\nfile = "bills.toml"\n',
                          files={"bills.toml": '[[bill]]\nid = "power"\nname = "Electricity"\namount = 84.2\nschedule = "monthly"\nday = 20\n'}) as w:
        await seed_day(w)
        action, _ = await w.desk.propose("bills.mark_paid", {"bill": "power", "due": "2026-11-20"}, reason="paid")
        await w.execute_due()
        assert (await w.store.actions.get(action.id)).status == "succeeded"
        await w.run("planner")
        _, plan = await the_plan(w)
        assert plan.top[0].title == "Submit the grant report"
        assert [b.name for b in plan.bills] == ["Internet"]


async def test_an_empty_day(tmp_path):
    async with AgentWorld(tmp_path, only=["planner"]) as w:
        run = await w.run("planner")
        assert run.outcome == "succeeded", run.error
        art, plan = await the_plan(w)
        assert plan.events == [] and plan.top == [] and plan.defer == [] and plan.goals == []
        assert [(s.start, s.end, s.minutes) for s in plan.free_slots] == [("09:00", "18:00", 540)]
        assert [(b.start, b.end, b.summary) for b in plan.blocks] == [("09:00", "10:30", "Deep work"), ("10:30", "12:00", "Deep work")]
        assert "- none: nothing is fixed today" in art.content
        assert "Nothing urgent, due or planned" in art.content
        assert run.summary.startswith("day plan for Mon 23 Nov: nothing fixed; 9 h free in 1 slot; nothing urgent")


async def test_overlaps_midnight_and_all_day_busy(tmp_path):
    settings = '[agents.planner]\nall_day_busy = false\nmin_slot = "45m"\n'
    async with AgentWorld(tmp_path, config_toml=settings, only=["planner"]) as w:
        await w.state("work", [
            event(w, "night", "Night train", w.local(-1, 22), w.local(0, 9, 30)),      # from yesterday into the morning
            event(w, "a", "Design review", w.local(0, 10), w.local(0, 11)),
            event(w, "b", "Customer call", w.local(0, 10, 30), w.local(0, 11, 30)),   # overlaps the review
            event(w, "c", "Lunch", w.local(0, 11, 30), w.local(0, 12, 30)),           # touches the call
            event(w, "gap", "Coffee", w.local(0, 12, 50), w.local(0, 13, 0)),         # leaves a 20 min gap: too short
            event(w, "late", "Release party", w.local(0, 17, 30), w.local(1, 0, 30)),  # into tomorrow
            event(w, "zero", "Reminder", w.local(0, 15), w.local(0, 15)),             # takes no time
            event(w, "off", "Holiday", midnight(w, 0), midnight(w, 1), all_day=True),
        ])
        await w.run("planner")
        _, plan = await the_plan(w)
        assert [(s.start, s.end) for s in plan.free_slots] == [("13:00", "17:30")]
        assert plan.conflicts == ["Design review and Customer call overlap 10:30–11:00: drop or move one"]
        events = {e.summary: e.when for e in plan.events}
        assert events["Night train"] == "Sun 22 Nov 22:00–09:30" and events["Release party"] == "17:30–Tue 24 Nov 00:30"
    settings = '[agents.planner]\nall_day_busy = true\n'
    async with AgentWorld(tmp_path / "busy", config_toml=settings, only=["planner"]) as w:
        await w.state("work", [event(w, "off", "Holiday", midnight(w, 0), midnight(w, 1), all_day=True)])
        await w.run("planner")
        _, plan = await the_plan(w)
        assert plan.free_slots == [] and plan.blocks == [] and plan.block_note is None


async def test_a_dst_day_in_berlin(tmp_path):
    # 25 Oct 2026: at 03:00 CEST the clocks go back to 02:00 CET; the day has 25 hours.
    settings = '[agents.planner]\nday_start = "01:00"\nday_end = "05:00"\ndeep_work = "01:00-05:00"\nblock_length = "2h"\n'
    now = dt.datetime(2026, 10, 25, 0, 30, tzinfo=BERLIN)
    async with AgentWorld(tmp_path, config_toml=settings, now=now.astimezone(dt.timezone.utc), only=["planner"]) as w:
        first = dt.datetime(2026, 10, 25, 2, 15, tzinfo=BERLIN)           # 02:15 CEST
        second = dt.datetime(2026, 10, 25, 2, 15, fold=1, tzinfo=BERLIN)  # 02:15 CET, an hour later
        assert (second.astimezone(dt.timezone.utc) - first.astimezone(dt.timezone.utc)) == dt.timedelta(hours=1)
        await w.state("work", [event(w, "dst", "Night shift handover", first, second)])
        await w.run("planner")
        art, plan = await the_plan(w)
        assert plan.date == "2026-10-25" and plan.dst_note
        assert [(s.start, s.end, s.minutes) for s in plan.free_slots] == [
            ("01:00 CEST", "02:15 CEST", 75), ("02:15 CET", "05:00 CET", 165)]
        assert plan.free_minutes == 240  # 01:00 to 05:00 is five real hours on this day, less the one-hour handover
        assert [e.when for e in plan.events] == ["02:15 CEST–02:15 CET"]
        assert [(b.start, b.end) for b in plan.blocks] == [("02:15 CET", "04:15 CET")]


async def test_spring_forward_working_hours_are_nine_real_hours(tmp_path):
    now = dt.datetime(2026, 3, 29, 6, 30, tzinfo=BERLIN)
    async with AgentWorld(tmp_path, now=now.astimezone(dt.timezone.utc), only=["planner"]) as w:
        await w.run("planner")
        _, plan = await the_plan(w)
        assert [(s.start, s.end, s.minutes) for s in plan.free_slots] == [("09:00 CEST", "18:00 CEST", 540)]


class Coordinator:
    def __init__(self, views):
        self._views = views

    def views(self):
        return self._views


def view(name: str, status: str, age: float | None, error: str | None = None) -> SourceView:
    return SourceView(source=name, interval=300, stale_after=3600, last_success=None if age is None else "2026-11-23T00:00:00.000Z",
                      status=status, age_s=age, stale=status == "stale", last_error=error,
                      consecutive_failures=1 if status in ("failing", "needs_human") else 0)


async def test_stale_and_failing_sources_are_named(tmp_path):
    async with AgentWorld(tmp_path, only=["planner"]) as w:
        w.runtime.coordinator = Coordinator([
            view("bills", "ok", 60), view("calendar.work", "stale", 5 * 3600),
            view("github", "failing", 7200, "connection refused"), view("calendar.home", "pending", None),
        ])
        run = await w.run("planner")
        art, plan = await the_plan(w)
        assert [(s.source, s.status) for s in plan.stale_sources] == [
            ("calendar.work", "stale"), ("github", "failing"), ("calendar.home", "pending")]
        assert "- calendar.work (stale): last updated 5 h ago: what changed since then is missing from this plan" in art.content
        assert "- github (failing): failing (connection refused); last good data 2 h old" in art.content
        assert "may miss calendar.work, github, calendar.home" in run.summary


async def test_blocks_are_proposed_in_the_calendar_once(tmp_path):
    settings = CALDAV + 'max_blocks = 2\n'
    async with AgentWorld(tmp_path, plans=PLANS, config_toml=settings, only=["planner"]) as w:
        await seed_day(w)
        await w.state("work", [
            event(w, "standup", "Standup", w.local(0, 12), w.local(0, 12, 15)),
            w.item("work", "calendar.deadline", "todo:grant", starts=midnight(w, 1), ends=midnight(w, 2),
                   data={"uid": "grant", "summary": "Submit the grant report", "due": "2026-11-24", "all_day": True}),
        ])
        run = await w.run("planner")
        assert run.outcome == "succeeded", run.error
        actions = await w.actions(run)
        assert len(actions) == 2
        first, second = sorted(actions, key=lambda a: a.payload["start"])
        for a in actions:
            assert a.kind == "calendar.create_event" and a.status == "awaiting_approval"
            assert a.proposer.name == "planner" and a.proposer.run_id == run.id and a.trace_id == run.trace_id
            assert a.payload["calendar"] == "personal"
            assert a.idempotency_key.startswith("planner:block:2026-11-23:")
            assert "deep-work window (09:00-12:00)" in a.reason
        assert (first.payload["start"], first.payload["end"]) == ("2026-11-23T09:00:00+01:00", "2026-11-23T10:30:00+01:00")
        assert first.payload["summary"] == "Deep work: Submit the grant report"
        # The second top item that is worth deep work: the review (paying a bill is not).
        assert second.payload["summary"] == "Deep work: Review acme/api#42: Fix time zones"
        # Due tomorrow is a strong rule; someone waiting for a review a moderate one.
        assert (first.confidence, second.confidence) == (0.8, 0.65)
        assert (second.payload["start"], second.payload["end"]) == ("2026-11-23T10:30:00+01:00", "2026-11-23T12:00:00+01:00")
        assert {i.kind for i in first.inputs} == {"state"} and any(i.ref == "calendar.deadline:todo:grant" for i in first.inputs)
        _, plan = await the_plan(w)
        assert [(b.start, b.status, b.new) for b in plan.blocks] == [("09:00", "awaiting_approval", True), ("10:30", "awaiting_approval", True)]
        assert plan.block_note is None and "2 deep-work blocks proposed" in run.summary

        # A re-run proposes nothing new, even once the approved block is in the calendar and the day has changed.
        await w.state("work", [event(w, "block", "Deep work: Submit the grant report", w.local(0, 10, 30), w.local(0, 12))])
        again = await w.run("planner")
        assert again.actions == []
        assert len([a for a in await w.actions() if a.proposer.name == "planner"]) == 2
        _, plan = await the_plan(w)
        assert len(plan.blocks) == 2 and not any(b.new for b in plan.blocks)
        assert "proposed" not in again.summary


async def test_a_calendar_that_is_not_caldav_is_refused_visibly(tmp_path):
    settings = '[agents.planner]\nblock_calendar = "nowhere"\n'
    async with AgentWorld(tmp_path, config_toml=settings, only=["planner"]) as w:
        run = await w.run("planner")
        assert run.outcome == "succeeded" and run.actions == []
        assert "could not propose calendar.create_event" in run.summary and "no CalDAV calendar named 'nowhere'" in run.summary
        _, plan = await the_plan(w)
        assert plan.block_note.startswith("could not propose blocks in 'nowhere'")


def test_settings_are_checked():
    with pytest.raises(ValueError, match="day_end"):
        PlannerSettings(day_start="18:00", day_end="09:00")
    with pytest.raises(ValueError, match="not a window"):
        PlannerSettings(deep_work="morning")
    with pytest.raises(ValueError, match="not a duration"):
        PlannerSettings(block_length="long")
    with pytest.raises(ValueError):
        PlannerSettings(surprise=True)
    assert PlannerSettings(deep_work="08:00–10:00").deep_work == "08:00–10:00"


# ---------------------------------------------------------------- the LLM


def llm_for(url: str) -> Llm:
    return Llm(LlmConfig(host=url, timeout_s=5, connect_timeout_s=1))


async def test_the_llm_ranks_and_words_the_why(tmp_path, ollama_server):
    ollama_server.state.answer_next({"top": [
        {"id": "c2", "why": "The grant report unlocks next year's funding, so finish it while your mornings are quiet."},
        {"id": "c1", "why": "The electricity bill is overdue: pay it before anything else slips."},
        {"id": "c3", "why": "Zoe is blocked until you review her time zone fix."},
    ]})
    async with AgentWorld(tmp_path, plans=PLANS, llm=llm_for(ollama_server.url), only=["planner"]) as w:
        await seed_day(w)
        run = await w.run("planner")
        assert run.llm_available is True and [c.outcome for c in run.llm] == ["ok"]
        _, plan = await the_plan(w)
        assert plan.ranking == "llm"
        assert [(t.title, t.why_by) for t in plan.top] == [
            ("Submit the grant report", "llm"), ("Pay Electricity", "llm"), ("Review acme/api#42: Fix time zones", "llm")]
        assert plan.top[0].why.startswith("The grant report unlocks")
        [request] = ollama_server.state.inference()
        assert "c1 | Pay Electricity | overdue since Fri 20 Nov" in request.user_text
        assert "preference: Deep work in the mornings" in request.user_text
        assert "Today is Monday 23 November 2026" in request.user_text
        assert "must be among them" in request.user_text


@pytest.mark.parametrize("answer, why", [
    ("this is not JSON", "invalid"),
    ({"top": [{"id": "c4", "why": "Write the changelog."}, {"id": "c2", "why": "The grant."}, {"id": "c3", "why": "Zoe waits."}]},
     "leaves out the overdue bill"),
    ({"top": [{"id": "c99", "why": "Something."}, {"id": "c1", "why": "Pay."}, {"id": "c2", "why": "Grant."}]}, "unknown id"),
    ({"top": [{"id": "c1", "why": "Pay the 120 EUR by Friday."}, {"id": "c2", "why": "Grant."}, {"id": "c3", "why": "Zoe."}]},
     "invents an amount and a weekday"),
])
async def test_an_unusable_llm_answer_keeps_the_rules(tmp_path, ollama_server, answer, why):
    ollama_server.state.answer_next(answer)
    async with AgentWorld(tmp_path, plans=PLANS, llm=llm_for(ollama_server.url), only=["planner"]) as w:
        await seed_day(w)
        run = await w.run("planner")
        assert run.outcome == "succeeded" and run.llm_available is True and len(run.llm) == 1, why
        _, plan = await the_plan(w)
        assert plan.ranking == "rules" and plan.llm == "the LLM's ranking was not usable"
        assert [t.title for t in plan.top] == ["Pay Electricity", "Submit the grant report", "Review acme/api#42: Fix time zones"]


async def test_a_failing_or_absent_llm_keeps_the_rules(tmp_path, ollama_server):
    ollama_server.state.fail_with = 500
    async with AgentWorld(tmp_path, plans=PLANS, llm=llm_for(ollama_server.url), only=["planner"]) as w:
        await seed_day(w)
        run = await w.run("planner")
        assert [c.outcome for c in run.llm] == ["error"]
        _, plan = await the_plan(w)
        assert plan.ranking == "rules" and plan.top[0].title == "Pay Electricity"
    async with AgentWorld(tmp_path / "down", plans=PLANS, llm=llm_for(closed_url()), only=["planner"]) as w:
        await seed_day(w)
        run = await w.run("planner")
        assert run.outcome == "succeeded" and run.llm_available is False and run.llm == []
        art, plan = await the_plan(w)
        assert plan.ranking == "rules" and plan.llm.startswith("LLM unavailable: Ollama is not running")
        assert "ranking by the rules only (LLM unavailable" in art.content


# ---------------------------------------------------------------- pure helpers


def test_free_slots_and_blocks_pure():
    utc = dt.timezone.utc
    t = lambda h, mi=0: dt.datetime(2026, 11, 23, h, mi, tzinfo=utc)  # noqa: E731
    within = dp.Span(t(8), t(17))
    busy = dp.merge([dp.Span(t(9), t(10)), dp.Span(t(9, 30), t(11)), dp.Span(t(11), t(11, 20)), dp.Span(t(16), t(18))])
    assert busy == [dp.Span(t(9), t(11, 20)), dp.Span(t(16), t(18))]
    slots = dp.free_slots(within, busy, min_minutes=30)
    assert slots == [dp.Span(t(8), t(9)), dp.Span(t(11, 20), t(16))]
    assert dp.free_slots(within, busy, min_minutes=30, not_before=t(12, 3)) == [dp.Span(t(12, 3), t(16))]
    assert dp.place_blocks(slots, dp.Span(t(8), t(12)), length_minutes=60, max_blocks=5) == [dp.Span(t(8), t(9))]
    assert dp.round_up(t(12, 1)) == t(12, 5) and dp.round_up(t(12, 5)) == t(12, 5)
    assert wording.only_known_facts("due Fri 20 Nov: 84.20 EUR", "overdue since Fri 20 Nov: 84.20 EUR")
    assert not wording.only_known_facts("pay by Friday", "due tomorrow (Tue 24 Nov)")
    assert wording.only_known_facts("pay it on Friday", "overdue since Fri 20 Nov")


async def test_bad_items_are_skipped_not_fatal(tmp_path):
    async with AgentWorld(tmp_path, only=["planner"]) as w:
        await w.state("work", [
            w.item("work", "calendar.event", "broken", starts=w.local(0, 10), ends=w.local(0, 11), error="unparseable VEVENT"),
            w.item("work", "calendar.event", "no-end", starts=w.local(0, 12), data={"summary": "No end"}),
            event(w, "ok", "Real meeting", w.local(0, 16), w.local(0, 17)),
        ])
        await w.state("github", [w.item("github", "github.review_request", "x", error="repo gone")])
        run = await w.run("planner")
        assert run.outcome == "succeeded", run.error
        _, plan = await the_plan(w)
        assert [e.summary for e in plan.events] == ["Real meeting"]
        assert [(s.start, s.end) for s in plan.free_slots] == [("09:00", "16:00"), ("17:00", "18:00")]
        assert plan.top == []


# ---------------------------------------------------------------- confidence

# Asked independently, the LLM's top three are the rules' own (c1 overdue bill, c2 grant due
# tomorrow, c3 review) with the grant first; or it swaps the review for the changelog.
AGREES = {"top": [{"id": "c2", "why": "The grant report is due tomorrow; your mornings are free for it."},
                  {"id": "c1", "why": "The electricity bill is overdue."},
                  {"id": "c3", "why": "Zoe waits for your review."}]}
DISAGREES = {"top": [{"id": "c2", "why": "The grant report is due tomorrow; your mornings are free for it."},
                     {"id": "c1", "why": "The electricity bill is overdue."},
                     {"id": "c4", "why": "The changelog is the last step of the release."}]}
SURE = '[[rule]]\nname = "sure blocks"\nkind = "calendar.create_event"\nby = "agent"\nconfidence = { ge = 0.9 }\noutcome = "allow"\n'


@pytest.mark.parametrize("answer, confidence, status", [
    (AGREES, 0.95, "approved"),  # strong rule + the day's first item + the LLM agreed: the rule lets it through
    (DISAGREES, 0.7, "awaiting_approval"),  # the same block, but the LLM chose another top three: asked
    ("not JSON", 0.7, "awaiting_approval"),  # unusable: the rules' top stands (the grant second, not first), less sure
])
async def test_the_llm_agreeing_or_not_moves_the_confidence_and_the_policy_decides(tmp_path, ollama_server, answer, confidence, status):
    ollama_server.state.answer_next(answer)
    async with AgentWorld(tmp_path, plans=PLANS, config_toml=CALDAV + "max_blocks = 1\n", policy=SURE,
                          llm=llm_for(ollama_server.url), only=["planner"]) as w:
        await seed_day(w)
        run = await w.run("planner")
        assert run.outcome == "succeeded", run.error
        [block] = await w.actions(run)
        assert block.payload["summary"] == "Deep work: Submit the grant report"
        assert block.confidence == confidence
        assert block.status == status and (block.decision.rule == "sure blocks") == (status == "approved")


def test_block_confidence_rules():
    from oxymus.agents.planner import block_confidence

    assert block_confidence(0, True, "none").value > block_confidence(3, True, "none").value > block_confidence(7, True, "none").value
    assert block_confidence(None, False, "none").value == block_confidence(8, False, "none").value == 0.5
    assert block_confidence(2, True, "agreed").value > block_confidence(2, True, "none").value > block_confidence(2, True, "disagreed").value
    assert block_confidence(2, False, "agreed").why() == "strong rule 0.80, LLM agreed +0.10 = 0.90"
