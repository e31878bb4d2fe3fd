"""The memory steward: hot memory kept within its budget by proposals, monthly summaries rewritten with the LLM."""

from __future__ import annotations

import datetime as dt

import pytest
from agent_harness import AgentWorld
from ollama_server import closed_url, ollama_server  # noqa: F401

import oxymus.time.clock
from oxymus.agents.llm import Llm
from oxymus.memory.records import Provenance, RecordFields
from oxymus.profile.config import LlmConfig

UTC = dt.timezone.utc
BUDGET = '[agents.steward]\nhot_budget_words = 100\n'


def words(n: int, word: str = "note") -> str:
    return " ".join([word] * n)


async def proposals(world, run=None):
    """The memory updates proposed (not the notifications the desk sends to ask you)."""
    return [a for a in await world.actions(run) if a.kind == "memory.update"]


def follow(monkeypatch, world) -> None:
    """Stored time stamps (touched_at, the audit log) follow the world's clock."""
    monkeypatch.setattr(oxymus.time.clock, "now_ms", lambda: int(world.clock.timestamp() * 1000))


async def add(world, title: str, body_words: int, tier: str = "hot", kind: str = "fact", **advance):
    record = await world.store.memory.add(RecordFields(kind=kind, title=title, body=words(body_words), tier=tier),
                                          Provenance(source="user"))
    world.advance(**(advance or {"hours": 1}))
    return record


@pytest.fixture
async def world(tmp_path, monkeypatch):
    async with AgentWorld(tmp_path, config_toml=BUDGET, only=["steward"], now=dt.datetime(2026, 11, 2, 9, tzinfo=UTC)) as w:
        follow(monkeypatch, w)
        yield w


async def over_budget(world):
    # Two-word titles: 60 + 50 + 40 = 150 words, over a budget of 100.
    a = await add(world, "Oldest fact", 58, days=3)
    b = await add(world, "Middle fact", 48, days=3)
    c = await add(world, "Newest fact", 38, days=3)
    return a, b, c


async def test_within_budget_nothing_is_proposed(world):
    await add(world, "Prefers mornings", 20)
    run = await world.run("steward")
    assert run.outcome == "succeeded" and run.actions == []
    assert run.summary == "hot memory 22 words of 100, within budget; nothing to move"


async def test_empty_memory_is_within_budget(world):
    run = await world.run("steward")
    assert run.outcome == "succeeded" and run.summary.startswith("hot memory 0 words of 100, within budget")


async def test_over_budget_the_least_recently_used_record_is_proposed_for_warm_once_a_month(world):
    a, b, c = await over_budget(world)
    await world.store.memory.get(a.id)  # reading a record is using it: now b is the least recently used
    world.advance(hours=1)
    run = await world.run("steward")
    [action] = await proposals(world, run)
    assert action.kind == "memory.update" and action.status == "awaiting_approval"
    assert action.payload["op"] == "edit" and action.payload["id"] == b.id and action.payload["changes"]["tier"] == "warm"
    assert action.payload["expected_version"] == 1
    assert action.idempotency_key == f"steward:demote:{b.id}:2026-11"
    assert action.reason.startswith("Hot memory holds 150 words, over its budget of 100. “Middle fact” (50 words) is the least "
                                    "recently used hot record (last touched Thu 5 Nov 2026); moving it to warm brings hot memory to 100 words.")
    assert action.preview.summary == "memory: move 'Middle fact' from hot to warm"
    assert [i.ref for i in action.inputs] == [b.id, "tier hot"]
    assert run.summary == "hot memory 150 words of 100: 1 record(s) proposed (or waiting) to move to warm"

    again = await world.run("steward")
    assert len(await proposals(world)) == 1 and again.actions == run.actions  # no nagging: the same key, the same proposal


async def test_moves_are_proposed_until_the_rest_fits(world):
    a, b, c = await over_budget(world)
    await add(world, "Fourth fact", 58)  # 210 words: a (60) and b (50) must go
    run = await world.run("steward")
    proposed = await proposals(world, run)
    assert sorted(p.payload["id"] for p in proposed) == sorted([a.id, b.id])
    assert any("brings hot memory to 100 words" in p.reason for p in proposed)
    assert "2 record(s) proposed" in run.summary
    # a: untouched 9 days (moderate) and memory still over budget without it; b: 6 days (weak), the last one needed.
    assert {p.payload["id"]: p.confidence for p in proposed} == {a.id: 0.7, b.id: 0.5}


async def test_a_denied_move_keeps_the_record_hot_and_the_next_one_is_asked(world):
    a, b, c = await over_budget(world)
    first = await world.run("steward")
    [ask] = await proposals(world, first)
    await world.desk.deny(ask.id, reason="I look at it every day")
    second = await world.run("steward")
    new = [x for x in await proposals(world, second) if x.id != ask.id]
    assert [x.payload["id"] for x in new] == [b.id] and "you have not kept" in new[0].reason
    third = await world.run("steward")
    assert len(await proposals(world)) == 2 and sorted(third.actions) == sorted(second.actions)


async def test_an_approved_move_brings_hot_memory_within_budget(world):
    a, b, c = await over_budget(world)
    run = await world.run("steward")
    [ask] = await proposals(world, run)
    await world.desk.approve(ask.id)
    await world.execute_due()
    moved = await world.store.memory.get(a.id, touch=False)
    assert moved.tier == "warm" and moved.touched_at == a.touched_at  # a move is not a use
    after = await world.run("steward")
    assert after.actions == [] and "within budget" in after.summary


async def test_a_new_month_asks_again_if_nothing_was_decided(world):
    a, b, c = await over_budget(world)
    first = await world.run("steward")
    world.advance(days=30)  # December: the November request expired unanswered, hot memory is still over
    await world.desk.sweep()
    second = await world.run("steward")
    keys = sorted(x.idempotency_key for x in await proposals(world))
    assert keys == [f"steward:demote:{a.id}:2026-11", f"steward:demote:{a.id}:2026-12"]
    assert second.actions != first.actions


# --- monthly summaries ------------------------------------------------------------------------

async def october(world):
    """Warm records last touched in October, and the daemon's deterministic summary of them."""
    world.clock = dt.datetime(2026, 10, 5, 9, tzinfo=UTC)
    await add(world, "Chose SQLite for the store", 8, tier="warm", kind="decision")
    await add(world, "Sam reviews the TUI", 6, tier="warm", kind="person")
    await add(world, "Release 0.2 before the holidays", 5, tier="warm", kind="commitment")
    world.clock = dt.datetime(2026, 11, 2, 9, tzinfo=UTC)
    report = await world.store.memory.maintain(world.clock, 14, 120)
    [summary_id] = report.summaries
    return await world.store.memory.get(summary_id, touch=False)


@pytest.fixture
async def llm_world(tmp_path, monkeypatch, ollama_server):  # noqa: F811
    llm = Llm(LlmConfig(host=ollama_server.url, model="llama3.2"))
    async with AgentWorld(tmp_path, only=["steward"], llm=llm, now=dt.datetime(2026, 11, 2, 9, tzinfo=UTC)) as w:
        follow(monkeypatch, w)
        w.fake = ollama_server
        yield w


GOOD = {"body": "In October you chose SQLite for the store, Sam agreed to review the TUI, and release 0.2 is promised before the holidays."}


async def test_the_llm_rewrites_a_months_summary_as_a_proposal_once(llm_world):
    w = llm_world
    summary = await october(w)
    assert summary.body.startswith("3 warm record(s) last touched in 2026-10.")
    w.fake.state.answer_next(GOOD)
    run = await w.run("steward")
    assert run.llm_available is True and [c.outcome for c in run.llm] == ["ok"]
    [action] = await proposals(w, run)
    assert action.payload["id"] == summary.id and action.payload["changes"]["body"].startswith(GOOD["body"])
    assert action.payload["changes"]["body"].endswith("Records: " + ", ".join(sorted(r.id for r in await w.store.memory.recent(tier="warm", limit=10) if r.kind != "summary")))
    assert action.status == "awaiting_approval" and action.confidence == 0.65  # validated at the first try
    assert "warm memory for October 2026 (3 records)" in action.reason
    assert action.preview.format == "diff" and "-3 warm record(s) last touched in 2026-10.\n" in action.preview.body
    [request] = w.fake.state.inference()
    assert "Chose SQLite for the store" in request.user_text and "October 2026" in request.user_text
    assert "summary rewritten" not in run.summary and "1 of 1 monthly summary(ies)" in run.summary

    again = await w.run("steward")  # no second LLM call, no second proposal
    assert len(w.fake.state.inference()) == 1 and again.llm == [] and len(await proposals(w)) == 1

    await w.desk.approve(action.id)
    await w.execute_due()
    assert (await w.store.memory.get(summary.id, touch=False)).body.startswith("In October")
    after = await w.run("steward")
    assert after.actions == [] and len(w.fake.state.inference()) == 1  # an improved summary is left alone
    # The daemon's maintenance runs again (today it rewrites the listing over the improvement): still no nagging.
    await w.store.memory.maintain(w.clock, 14, 120)
    later = await w.run("steward")
    assert later.actions == [] and len(w.fake.state.inference()) == 1 and len(await proposals(w)) == 1


@pytest.mark.parametrize("answer, note", [
    ({"body": ""}, "unusable"),
    ("Here is a summary: October was good.", "unusable"),
    ({"body": words(200, "long")}, "too long (200 words)"),
    ({"body": "In October you made 7 decisions and met Sam on the 12th."}, "numbers not in the records"),
])
async def test_an_unusable_answer_keeps_the_listing(llm_world, answer, note):
    w = llm_world
    summary = await october(w)
    w.fake.state.answer_next(answer)
    run = await w.run("steward")
    assert run.outcome == "succeeded" and run.actions == [] and run.llm_available is True
    assert note in run.summary and len(run.llm) == 1
    assert (await w.store.memory.get(summary.id, touch=False)).body == summary.body
    # It is asked again on the next run (a few times at most), and a good answer then is proposed.
    w.fake.state.answer_next(GOOD)
    retry = await w.run("steward")
    assert len(await proposals(w, retry)) == 1


async def test_an_llm_that_keeps_failing_is_not_asked_forever(llm_world):
    w = llm_world
    await october(w)
    w.fake.state.respond_with({"body": ""})
    for _ in range(5):
        await w.run("steward")
    assert len(w.fake.state.inference()) == 3


async def test_no_llm_no_summary_proposal(tmp_path, monkeypatch):
    llm = Llm(LlmConfig(host=closed_url(), model="llama3.2"))
    async with AgentWorld(tmp_path, only=["steward"], llm=llm, now=dt.datetime(2026, 11, 2, 9, tzinfo=UTC)) as w:
        follow(monkeypatch, w)
        await october(w)
        run = await w.run("steward")
    assert run.outcome == "succeeded" and run.actions == [] and run.llm_available is False
    assert "1 monthly summary(ies) left as listings (LLM unavailable: Ollama is not running" in run.summary


async def test_the_budget_is_memorys_unless_the_steward_has_its_own(tmp_path, monkeypatch):
    async with AgentWorld(tmp_path, config_toml="[memory]\nhot_budget_words = 120\n", only=["steward"],
                          now=dt.datetime(2026, 11, 2, 9, tzinfo=UTC)) as w:
        follow(monkeypatch, w)
        await over_budget(w)
        run = await w.run("steward")
        [action] = await proposals(w, run)
    assert run.summary.startswith("hot memory 150 words of 120:") and "over its budget of 120" in action.reason
    assert any(i.kind == "memory" and i.ref == "hot budget" and i.note == "150/120 words" for i in run.inputs)
