"""The weekly review: a seeded week through the real code paths, the review's content and proposals,
once per week across catch-ups, an empty week, the week's edges in a DST week, and the LLM's narrative."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from agent_harness import AgentWorld
from conftest import eventually
from ollama_server import closed_url, ollama_server  # noqa: F401

import oxymus.time.clock
from oxymus.actions.model import Proposer
from oxymus.agents.base import Artifact
from oxymus.agents.llm import Llm
from oxymus.agents.reflection import reviewed_week
from oxymus.kernel.ulid import new_ulid
from oxymus.memory.records import Provenance, RecordChanges, RecordFields
from oxymus.profile.config import LlmConfig

BERLIN = ZoneInfo("Europe/Berlin")
SCHEDULE = "schedule at 18:00 on sun"

PLANS = """# Plans

Goal: ship Oxymus 0.2 before the holidays

## Goals

- Write one post a month
- Keep evenings free

## Next actions

- [ ] Write the changelog
- [ ] Fix the flaky socket test
- [x] Tag the release candidate (done 2026-11-24)
- [x] Renew the domain (done 2026-11-20)
- [ ] Book the venue

## Publishing order

1. [published 2026-11-01] Why I moved to SQLite
2. [published 2026-11-26] Local-first sync, part 2
3. [draft] Testing Textual apps
"""


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=BERLIN).astimezone(dt.timezone.utc)


def follow(monkeypatch, world) -> None:
    """Stored time stamps (the audit log, memory) follow the world's clock, as they follow the real one in the daemon."""
    monkeypatch.setattr(oxymus.time.clock, "now_ms", lambda: int(world.clock.timestamp() * 1000))


@pytest.fixture
async def world(tmp_path, monkeypatch):
    async with AgentWorld(tmp_path, plans=PLANS, only=["reflection"], now=at(23, 8)) as w:
        follow(monkeypatch, w)
        yield w


def plan_id(w, text: str) -> str:
    return next(a.id for a in w.keeper.document.actions if a.text == text)


async def day_plan(w, day: str, top: list) -> None:
    art = Artifact(id=new_ulid(), agent="planner", run_id=new_ulid(), kind="day_plan", key=day, title=f"Day plan {day}",
                   content="# Day plan", data={"date": day, "top": top}, created_at=f"{day}T05:30:00.000Z")
    await w.store.agents.save_artifact(art)


def plan_item(w, text: str, rank: int = 1) -> dict:
    return {"id": f"c{rank}", "rank": rank, "kind": "plan", "title": text, "why": "next action in PLANS.md", "rule": "plans",
            "ref_kind": "plans", "ref": plan_id(w, text)}


TAX = {"id": "c1", "rank": 1, "kind": "deadline", "title": "File the tax return", "why": "due today", "rule": "deadline",
       "ref_kind": "state", "ref": "calendar.deadline:todo:tax"}
TIDY = {"id": "c9", "rank": 3, "kind": "repo", "title": "Tidy up blog", "why": "2 unpushed commits", "rule": "repos",
        "ref_kind": "state", "ref": "git.repo:/home/me/blog"}


async def propose(w, kind, payload, name="user", reason="test"):
    proposer = Proposer() if name == "user" else Proposer(type="agent", name=name, run_id=new_ulid())
    action, _ = await w.desk.propose(kind, payload, proposer=proposer, reason=reason)
    return action


async def seed_week(w) -> dict:
    """Monday to Saturday of 2026-W48, through the real paths: captures, triage, day plans, actions decided and executed."""
    ids: dict = {}
    # Monday: three captures, one triaged into memory as a decision.
    first = await w.capture("use sqlite, not postgres")
    await w.capture("call the dentist")
    await w.capture("idea: a post about TUIs")
    await w.store.memory.add(RecordFields(kind="decision", title="Use SQLite for the store", tier="warm"),
                             Provenance(source="capture", ref=first.id), capture_id=first.id)
    hot = await w.store.memory.add(RecordFields(kind="fact", title="Sam reviews the TUI", tier="hot"), Provenance())
    old = await w.store.memory.add(RecordFields(kind="fact", title="Old phone number", tier="warm"), Provenance())
    # Deadlines: the tax return was due Thursday and is still open; the passport is due next Tuesday.
    await w.state("calendar.personal", [
        w.item("calendar.personal", "calendar.deadline", "todo:tax", starts=at(26, 0), ends=at(27, 0),
               data={"uid": "tax", "summary": "File the tax return", "due": "2026-11-26", "all_day": True, "calendar": "personal"}),
        w.item("calendar.personal", "calendar.deadline", "todo:passport", starts=at(1, 0, month=12), ends=at(2, 0, month=12),
               data={"uid": "passport", "summary": "Renew the passport", "due": "2026-12-01", "all_day": True, "calendar": "personal"}),
    ])
    # Tuesday to Thursday: the day plans' top three.
    await day_plan(w, "2026-11-24", [plan_item(w, "Write the changelog"), plan_item(w, "Fix the flaky socket test", 2)])
    await day_plan(w, "2026-11-25", [TAX, plan_item(w, "Write the changelog", 2)])
    await day_plan(w, "2026-11-26", [TAX, plan_item(w, "Write the changelog", 2), TIDY])
    # Wednesday: you check the flaky test off (your own plans.edit runs at once).
    w.clock = at(25, 17)
    done = await propose(w, "plans.edit", {"op": "set_done", "action_id": plan_id(w, "Fix the flaky socket test")})
    await w.execute_due()
    ids["set_done"] = done.id
    # An agent wants to forget a record: you say no, with a reason.
    denied = await propose(w, "memory.update", {"op": "forget", "id": old.id}, name="steward", reason="unused for months")
    await w.desk.deny(denied.id, reason="I still need it")
    ids["denied"] = denied.id
    # An agent's move is approved, but the record changes before it runs: it fails.
    failing = await propose(w, "memory.update", {"op": "edit", "id": hot.id, "changes": {"tier": "warm"}}, name="steward")
    await w.desk.approve(failing.id)
    await w.store.memory.edit(hot.id, RecordChanges(body="Also the CLI."))
    w.advance(minutes=1)
    await w.execute_due()
    ids["failed"] = failing.id
    # Thursday: an agent's proposal nobody answers; it expires on Friday.
    w.clock = at(26, 10)
    ids["expired"] = (await propose(w, "plans.edit", {"op": "add_action", "text": "Call the dentist"}, name="triage")).id
    # Friday: you remember a decision yourself.
    w.clock = at(27, 12)
    await w.desk.sweep()
    mine = await propose(w, "memory.update", {"op": "add", "record": {"kind": "decision", "title": "Publish on Thursdays"}})
    await w.execute_due()
    ids["succeeded"] = mine.id
    await w.reload_plans()
    return ids


async def test_a_seeded_week_is_reviewed_with_what_was_done_slipped_and_decided(world):
    w = world
    ids = await seed_week(w)
    statuses = {k: (await w.store.actions.get(v)).status for k, v in ids.items()}
    assert statuses == {"set_done": "succeeded", "denied": "denied", "failed": "failed", "expired": "expired", "succeeded": "succeeded"}
    w.clock = at(29, 18)
    run = await w.run("reflection", SCHEDULE)
    assert run.outcome == "succeeded", run.error
    [review] = await w.artifacts("weekly_review")
    assert review.key == "2026-W48" and review.title == "Weekly review 2026-W48" and review.path.endswith("reflection/2026-W48.md")
    text = review.content
    assert open(review.path).read() == text
    assert text.startswith("# Weekly review 2026-W48\n\n_Mon 23 Nov – Sun 29 Nov 2026 · written Sun 29 Nov 18:00_")

    done = text.split("## Done")[1].split("## Slipped")[0]
    assert "- 2 next actions checked in PLANS.md:\n  - Tag the release candidate (Tue 24 Nov)\n  - Fix the flaky socket test (Wed 25 Nov)" in done
    assert "Renew the domain" not in done  # done last week
    assert "- 1 action succeeded:\n  - memory: add decision 'Publish on Thursdays' (warm), Fri 27 Nov" in done
    assert "- 1 post published:\n  - Local-first sync, part 2 (Thu 26 Nov)" in done

    slipped = text.split("## Slipped")[1].split("## Decisions")[0]
    assert "- 2 top-three items not done:\n  - Write the changelog (in the top three on Tue, Wed, Thu)\n" \
           "  - File the tax return (in the top three on Wed, Thu)" in slipped
    assert "Fix the flaky socket test" not in slipped
    assert "not checked (nothing to check them against; did they happen?): Tidy up blog (Thu)" in slipped
    assert "- 1 action failed:\n  - memory: move 'Sam reviews the TUI' from hot to warm (by agent:steward), Wed 25 Nov: " \
           "record" in slipped and "changed since the proposal" in slipped
    assert "- 1 request expired unanswered:\n  - PLANS.md: add to Next actions: Call the dentist (by agent:triage), Fri 27 Nov" in slipped
    assert "- 1 deadline passed still open:\n  - File the tax return (due Thu 26 Nov)" in slipped

    decisions = text.split("## Decisions")[1].split("## Numbers")[0]
    assert "- denied: memory: forget 'Old phone number' (by agent:steward), Wed 25 Nov: “I still need it”" in decisions
    assert "- decision remembered: Use SQLite for the store" in decisions and "- decision remembered: Publish on Thursdays" in decisions

    numbers = text.split("## Numbers")[1].split("## Questions")[0]
    assert "- captures: 3 in, 1 triaged, 0 archived; 2 open now" in numbers
    assert "- actions: 5 proposed, 2 succeeded, 1 failed, 1 denied, 1 expired" in numbers
    assert "- PLANS.md: 2 next actions done this week, 2 open; 1 edit through Oxymus" in numbers
    assert "- day plans: 3 of 7 days" in numbers

    questions = text.split("## Questions")[1]
    assert "### Is this still the right plan?\n\n- goals in PLANS.md: ship Oxymus 0.2 before the holidays; Write one post a month; " \
           "Keep evenings free" in questions
    assert "- of 4 items in the day plans' top three, 1 got done" in questions
    assert "### What should I stop doing?\n\n- kept slipping: Write the changelog (3 days); File the tax return (2 days)\n" \
           "- you said no to: memory.update from agent:steward (1×)" in questions
    assert "### What is the one thing for next week?\n\n- due next week: Renew the passport (Tue 1 Dec)\n" \
           "- slipped most: Write the changelog (3 days in the top three)" in questions

    assert review.data["counts"]["captures_in"] == 3 and review.data["slipped"]["failed"] == [ids["failed"]]
    assert review.data["narrative"] is None and run.llm_available is False

    # Gentle proposals: one plan edit for what kept slipping, one memory record of the week, keyed by week.
    proposals = await w.actions(run)
    assert [(p.kind, p.idempotency_key) for p in proposals] == [
        ("plans.edit", f"reflection:2026-W48:reschedule:plans:{plan_id(w, 'Write the changelog')}"),
        ("memory.update", "reflection:2026-W48:memory"),
    ]
    plan, memory = proposals
    assert plan.payload["text"] == "Reschedule: Write the changelog" and plan.status == "awaiting_approval"
    assert plan.reason.startswith("“Write the changelog” was in the day plan's top three on 3 days this week (Tue, Wed, Thu) and is still not done.")
    assert [i.ref for i in plan.inputs][:3] == ["day_plan:2026-11-24", "day_plan:2026-11-25", "day_plan:2026-11-26"]
    record = memory.payload["record"]
    assert record["kind"] == "summary" and record["title"] == "Week 2026-W48 in brief" and record["tier"] == "warm"
    assert "Slipped: Write the changelog; File the tax return" in record["body"] and "Captures: 3 in, 1 triaged." in record["body"]
    assert run.summary.startswith("review of 2026-W48 written: 4 done, 4 slipped, 1 denial, 3 captures in; proposed rescheduling")

    # Approved, the memory record carries the review's provenance (the agent and its run).
    await w.desk.approve(memory.id)
    await w.execute_due()
    made = await w.store.memory.get((await w.store.actions.get(memory.id)).receipt.ref, touch=False)
    assert made.provenance.source == "agent" and made.provenance.ref == run.id


async def test_catch_ups_make_one_review_per_week_and_a_run_by_hand_rewrites_it(world):
    w = world
    await seed_week(w)
    w.clock = at(30, 9)  # Monday: Sunday's run was missed; the catch-up reviews the week that ended
    first = await w.run("reflection", "catch-up (missed Sun 18:00)")
    assert first.summary.startswith("review of 2026-W48 written")
    w.advance(hours=2)
    second = await w.run("reflection", "catch-up (missed Sun 18:00)")
    assert second.summary == ("the review of 2026-W48 was already written (Mon 30 Nov 09:00); nothing to do "
                              "(run it by hand to write it again)")
    assert second.artifacts == [] and second.actions == []
    proposals = len(await w.actions())
    again = await w.run("reflection", "by hand (cli)")
    assert again.summary.startswith("review of 2026-W48 written") and len(again.artifacts) == 1
    [review] = await w.artifacts("weekly_review")
    assert review.run_id == again.id  # the same key: replaced, not a second review
    assert len(await w.actions()) == proposals  # keyed per week: nothing stacks


async def test_a_quiet_week_is_still_reviewed_without_proposals(tmp_path, monkeypatch):
    async with AgentWorld(tmp_path, only=["reflection"], now=at(29, 18)) as w:
        follow(monkeypatch, w)
        run = await w.run("reflection", SCHEDULE)
        [review] = await w.artifacts("weekly_review")
    assert run.outcome == "succeeded" and run.actions == []
    assert run.summary == "review of 2026-W48 written: a quiet week, nothing recorded"
    assert "A quiet week: nothing was done, proposed, captured or planned through Oxymus." in review.content
    assert "## Done\n\n- nothing\n" in review.content and "## Slipped\n\n- nothing\n" in review.content
    assert "- goals in PLANS.md: none written down" in review.content
    assert "- nothing is due and nothing is open: a free week to choose" in review.content
    assert review.data["empty"] is True


async def test_a_day_plan_with_bad_data_is_skipped_and_max_proposals_is_kept(tmp_path, monkeypatch):
    toml = "[agents.reflection]\nmax_proposals = 1\n"
    async with AgentWorld(tmp_path, plans=PLANS, config_toml=toml, only=["reflection"], now=at(24, 8)) as w:
        follow(monkeypatch, w)
        changelog = plan_item(w, "Write the changelog")
        await day_plan(w, "2026-11-24", [changelog, "Call mum", 42, {"title": ""}])
        await day_plan(w, "2026-11-25", [changelog])
        await day_plan(w, "someday", [changelog])
        await day_plan(w, "2026-11-16", [changelog])  # last week's: not this review's
        art = Artifact(id=new_ulid(), agent="planner", run_id=new_ulid(), kind="day_plan", key="2026-11-26", title="x",
                       content="", data={"date": "2026-11-26", "top": "not a list"}, created_at="2026-11-26T05:30:00.000Z")
        await w.store.agents.save_artifact(art)
        w.clock = at(29, 18)
        run = await w.run("reflection", SCHEDULE)
        [review] = await w.artifacts("weekly_review")
        proposals = await w.actions(run)
    assert run.outcome == "succeeded", run.error
    assert "day plan 'someday' has no date; skipped" in run.summary and "day plan 2026-11-26: its top three is not a list; skipped" in run.summary
    assert "  - Write the changelog (in the top three on Tue, Wed)" in review.content
    assert "did they happen?): Call mum (Tue)" in review.content
    assert [p.kind for p in proposals] == ["plans.edit"]  # max_proposals = 1


def test_the_reviewed_week_is_the_one_of_the_last_review_day():
    sun = reviewed_week(dt.date(2026, 11, 29), ["sun"], BERLIN)
    assert (sun.key, sun.monday) == ("2026-W48", dt.date(2026, 11, 23))
    assert reviewed_week(dt.date(2026, 11, 30), ["sun"], BERLIN).key == "2026-W48"  # a Monday catch-up: the week that ended
    assert reviewed_week(dt.date(2026, 12, 5), ["sun"], BERLIN).key == "2026-W48"  # Saturday: still last week's
    assert reviewed_week(dt.date(2026, 11, 28), ["fri"], BERLIN).key == "2026-W48"  # a Friday review, caught up Saturday
    assert reviewed_week(dt.date(2026, 11, 25), None, BERLIN).key == "2026-W48"
    assert reviewed_week(dt.date(2021, 1, 3), ["sun"], BERLIN).key == "2020-W53"  # ISO years
    dst = reviewed_week(dt.date(2026, 10, 25), ["sun"], BERLIN)  # clocks go back at 03:00 that Sunday
    assert dst.start.utcoffset() == dt.timedelta(hours=2) and dst.end.utcoffset() == dt.timedelta(hours=1)
    assert dst.end.astimezone(dt.timezone.utc) - dst.start.astimezone(dt.timezone.utc) == dt.timedelta(hours=169)


async def test_a_dst_week_counts_what_happened_in_local_time(tmp_path, monkeypatch):
    async with AgentWorld(tmp_path, only=["reflection"], now=dt.datetime(2026, 10, 19, 0, 30, tzinfo=BERLIN)) as w:
        follow(monkeypatch, w)
        await w.capture("Monday 00:30 local: this week")
        w.clock = dt.datetime(2026, 10, 25, 23, 30, tzinfo=BERLIN)  # Sunday night, after the change: 22:30 UTC
        await w.capture("Sunday 23:30 local: this week")
        w.clock = dt.datetime(2026, 10, 26, 0, 30, tzinfo=BERLIN)  # Monday 00:30 local, still Sunday in UTC
        await w.capture("next week")
        w.clock = dt.datetime(2026, 10, 18, 23, 30, tzinfo=BERLIN)  # the Sunday before
        await w.capture("last week")
        w.clock = dt.datetime(2026, 10, 26, 9, tzinfo=BERLIN)
        await w.run("reflection", "catch-up (missed Sun 18:00)")
        [review] = await w.artifacts("weekly_review")
    assert review.key == "2026-W43" and "_Mon 19 Oct – Sun 25 Oct 2026 ·" in review.content
    assert "- captures: 2 in," in review.content


# --- the LLM ------------------------------------------------------------------------------------

@pytest.fixture
async def llm_world(tmp_path, monkeypatch, ollama_server):  # noqa: F811
    llm = Llm(LlmConfig(host=ollama_server.url, model="llama3.2"))
    async with AgentWorld(tmp_path, plans=PLANS, only=["reflection"], llm=llm, now=at(23, 8)) as w:
        follow(monkeypatch, w)
        w.fake = ollama_server
        yield w


async def test_the_llm_writes_the_narrative_and_picks_what_matters(llm_world):
    w = llm_world
    await seed_week(w)
    w.clock = at(29, 18)
    narrative = ("A steady week: the release candidate was tagged and a post went out. The changelog and the tax return kept "
                 "slipping, and one move in memory failed because the record had changed.")
    w.fake.state.answer_next({"narrative": narrative, "matters": [2, 2, 9]})
    run = await w.run("reflection", SCHEDULE)
    assert run.llm_available is True and [c.outcome for c in run.llm] == ["ok"]
    [review] = await w.artifacts("weekly_review")
    assert f"## The week in brief\n\n{narrative}\n\n_(written by the local model from the facts below)_" in review.content
    assert "  - File the tax return (in the top three on Wed, Thu) ← matters" in review.content
    assert review.data["narrative"] == narrative and review.data["matters"] == ["state:calendar.deadline:todo:tax"]
    [request] = w.fake.state.inference()
    assert "Write the changelog (in the top three on Tue, Wed, Thu; still not done)" in request.user_text
    assert "Mon 23 Nov to Sun 29 Nov 2026" in request.user_text
    plan = next(p for p in await w.actions(run) if p.kind == "plans.edit")
    # Two days in the top three is a weak rule, but the LLM picked it too.
    assert plan.payload["text"] == "Reschedule: File the tax return" and plan.confidence == 0.6
    [record] = [p for p in await w.actions(run) if p.kind == "memory.update"]
    assert record.confidence == 0.9  # the week's facts alone
    assert plan.reason.endswith("The local model picked it as one that matters.")


@pytest.mark.parametrize("answer, note", [
    ({"narrative": "You finished 42 tasks on 2026-11-30."}, "stated numbers or dates not among the facts"),
    ({"narrative": " ".join(["word"] * 130)}, "too long (130 words)"),
    ({"narrative": ""}, "unusable"),
    ("not json", "unusable"),
])
async def test_an_unusable_answer_leaves_the_facts_alone(llm_world, answer, note):
    w = llm_world
    await seed_week(w)
    w.clock = at(29, 18)
    w.fake.state.answer_next(answer)
    run = await w.run("reflection", SCHEDULE)
    assert run.outcome == "succeeded" and run.llm_available is True and len(run.llm) == 1
    assert note in run.summary
    [review] = await w.artifacts("weekly_review")
    assert "## The week in brief" not in review.content and "Write the changelog (in the top three on Tue, Wed, Thu)\n" in review.content
    plan = next(p for p in await w.actions(run) if p.kind == "plans.edit")
    assert plan.payload["text"] == "Reschedule: Write the changelog"


async def test_no_llm_running_is_the_deterministic_review(tmp_path, monkeypatch):
    llm = Llm(LlmConfig(host=closed_url(), model="llama3.2"))
    async with AgentWorld(tmp_path, plans=PLANS, only=["reflection"], llm=llm, now=at(23, 8)) as w:
        follow(monkeypatch, w)
        await seed_week(w)
        w.clock = at(29, 18)
        run = await w.run("reflection", SCHEDULE)
        [review] = await w.artifacts("weekly_review")
    assert run.outcome == "succeeded" and run.llm_available is False and run.llm == []
    assert "## The week in brief" not in review.content and "## Slipped" in review.content


def test_a_reschedule_is_surer_the_longer_it_slipped_and_when_the_llm_agrees():
    from oxymus.agents.reflection import reschedule_confidence

    answer = object()
    assert [reschedule_confidence(d, False, None, False).value for d in (2, 3, 5)] == [0.5, 0.65, 0.8]
    agreed, alone, disagreed, unusable = (reschedule_confidence(3, True, answer, True), reschedule_confidence(3, False, None, False),
                                         reschedule_confidence(3, True, answer, False), reschedule_confidence(3, True, None, False))
    assert agreed.value > alone.value > unusable.value > disagreed.value


# --- the LLM's answer as it streams ----------------------------------------------------------------

def drain(subscriber) -> list[dict]:
    events = []
    while not subscriber.queue.empty():
        events.append(subscriber.queue.get_nowait())
    return events


async def test_the_review_streams_progress_events_in_order_and_none_is_audited(llm_world):
    w = llm_world
    w.runtime.progress_interval = 0  # every piece is an event, so their order can be checked
    await seed_week(w)
    w.clock = at(29, 18)
    answer = {"narrative": "A steady week: the release candidate was tagged and a post went out.", "matters": [1]}
    w.fake.state.answer_next(answer)
    sub = w.bus.subscribe(["agent.*"], "test")
    run = await w.run("reflection", SCHEDULE)
    events = drain(sub)
    progress = [e["data"] for e in events if e["topic"] == "agent.progress"]
    assert events[-1]["topic"] == "agent.finished" and events[-1]["data"]["id"] == run.id
    text = json.dumps(answer)
    assert len(progress) == len(text.split(" ")) > 5  # the fake sends a word at a time
    assert [p["chars"] for p in progress] == sorted({p["chars"] for p in progress})  # strictly growing
    assert progress[-1]["chars"] == len(text) and text.endswith(progress[-1]["tail"])
    assert {(p["id"], p["agent"], p["what"]) for p in progress} == {(run.id, "reflection", "drafting")}
    assert run.llm[0].outcome == "ok"
    [review] = await w.artifacts("weekly_review")
    assert answer["narrative"] in review.content
    audited = await w.store.audit.list(limit=1000)
    assert audited and not [e for e in audited if "progress" in e.verb]


async def test_progress_coalesces_a_burst_into_one_event_with_the_newest_count():
    from oxymus.daemon.agent_progress import RunProgress

    sent: list[dict] = []
    progress = RunProgress(lambda topic, data: sent.append(data), "publisher", "run1", interval=0.05)
    for step in range(10):  # a burst: ten pieces before the event loop turns
        progress(f"word{step} ")
    assert sent == []
    await eventually(lambda: sent, what="the burst's one event")
    assert [(s["chars"], s["pieces"]) for s in sent] == [(60, 10)]
    assert sent[-1]["tail"] == "word0 word1 word2 word3 word4 word5 word6 word7 word8 word9"
    progress("x" * 200)
    progress.end()  # the run ended before the next event was due: none follows
    progress("y")
    assert progress.tail == "x" * 80 and progress._debouncer.busy is False and len(sent) == 1


async def test_a_stream_cut_midway_falls_back_to_the_facts(llm_world):
    w = llm_world
    w.runtime.progress_interval = 0
    await seed_week(w)
    w.clock = at(29, 18)
    w.fake.state.answer_next({"narrative": "A steady week with many words in it.", "matters": [1]})
    w.fake.state.break_stream_after = 3
    sub = w.bus.subscribe(["agent.*"], "test")
    run = await w.run("reflection", SCHEDULE)
    events = drain(sub)
    assert [e["topic"] for e in events] == ["agent.progress"] * 3 + ["agent.finished"]
    assert run.outcome == "succeeded" and run.llm[0].outcome == "error" and "mid-answer" in (run.llm[0].error or "")
    [review] = await w.artifacts("weekly_review")
    assert "## The week in brief" not in review.content and "## Slipped" in review.content
