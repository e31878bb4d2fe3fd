"""The agent runtime: bounds enforced, every run recorded, failures contained, schedules caught up once."""

from __future__ import annotations

import datetime as dt

import pytest
from agent_harness import AgentWorld

from oxymus.agents.base import Agent, AgentSettings, Finished, Trigger


class Reporter(Agent):
    """Ends each run the way the test sets: succeeded, failed or stopped with a reason."""

    name = "reporter"
    role = "Reports how its job went."
    trigger = Trigger()

    def __init__(self, settings=None):
        super().__init__(settings)
        self.result: str | Finished = "done"

    async def run(self, ctx):
        return self.result


class Reader(Agent):
    name = "reader"
    role = "Reads the calendar and proposes a notification."
    reads = ("state:calendar.*", "memory:hot", "plans")
    proposes = ("notify.send",)
    trigger = Trigger(at="06:30")

    def __init__(self, settings=None, behaviour="ok"):
        super().__init__(settings)
        self.behaviour = behaviour
        self.runs = 0

    async def run(self, ctx) -> str:
        self.runs += 1
        events = await ctx.state(["calendar.event"])
        await ctx.memory("hot")
        if self.behaviour == "read-bills":
            await ctx.state(["bills.due"])
        if self.behaviour == "push":
            await ctx.propose("git.push", {"repo": "/nowhere"}, reason="not mine to propose")
        if self.behaviour == "boom":
            raise RuntimeError("boom")
        await ctx.artifact("note", ctx.today().isoformat(), "a note", f"{len(events)} events", filename=f"{ctx.today()}.md")
        await ctx.propose("notify.send", {"title": f"{len(events)} events today"}, reason="morning count", key=f"count:{ctx.today()}")
        return f"{len(events)} events"


@pytest.fixture
async def world(tmp_path):
    async with AgentWorld(tmp_path, only=[]) as w:
        yield w


def install(world, agent):
    world.runtime.agents[agent.name] = agent
    import asyncio

    world.runtime._locks[agent.name] = asyncio.Lock()
    return agent


async def test_a_run_is_recorded_with_inputs_artifacts_and_actions(world):
    install(world, Reader())
    await world.state("calendar.personal", [world.item("calendar.personal", "calendar.event", "e1", starts=world.local(0, 9), ends=world.local(0, 10))])
    run = await world.run("reader")
    assert run.outcome == "succeeded" and run.summary == "1 events" and run.duration_ms is not None
    assert {i.kind for i in run.inputs} == {"state", "memory"} and run.llm_available is False
    [art] = await world.artifacts("note")
    assert art.run_id == run.id and art.path and open(art.path).read() == "1 events"
    [action] = await world.actions(run)
    assert action.proposer.type == "agent" and action.proposer.name == "reader" and action.proposer.run_id == run.id
    assert action.trace_id == run.trace_id
    history = await world.store.audit.query(trace_id=run.trace_id)
    assert [e.verb for e in history][0] == "agent.started" and "agent.succeeded" in [e.verb for e in history]
    again = await world.run("reader")
    assert again.actions == [] or again.actions == run.actions  # the same key: the same proposal, not a second one
    assert len(await world.actions()) == 1
    assert len(await world.artifacts("note")) == 1  # one per (agent, kind, key): a re-run replaces it


@pytest.mark.parametrize("behaviour, message", [
    ("read-bills", "may not read state:bills.due"),
    ("push", "may not propose git.push"),
])
async def test_reading_or_proposing_outside_the_declaration_fails_the_run(world, behaviour, message):
    install(world, Reader(behaviour=behaviour))
    run = await world.run("reader")
    assert run.outcome == "failed" and message in run.error and run.error.startswith("out of bounds")
    assert [a.kind for a in await world.actions() if a.proposer.type == "agent"] == []


async def test_a_failing_agent_is_recorded_and_the_next_trigger_runs_again(world):
    agent = install(world, Reader(behaviour="boom"))
    run = await world.run("reader")
    assert run.outcome == "failed" and run.error == "RuntimeError: boom"
    agent.behaviour = "ok"
    assert (await world.run("reader")).outcome == "succeeded"
    runs = await world.store.agents.runs("reader")
    assert [r.outcome for r in runs] == ["succeeded", "failed"]


async def test_an_agent_says_its_job_failed_or_stopped_and_is_told_once_per_streak(world):
    agent = install(world, Reporter())

    async def told():
        return [a for a in await world.actions() if a.kind == "notify.send"]

    agent.result = Finished.stopped("the blog repository has uncommitted changes\ncommit or stash them first")
    stopped = await world.run("reporter")
    assert stopped.outcome == "stopped" and stopped.error == "the blog repository has uncommitted changes"
    assert stopped.summary.endswith("commit or stash them first")
    assert [a.payload["title"] for a in await told()] == ["Agent reporter stopped"]

    again = await world.run("reporter")  # the same reason: already told
    agent.result = Finished.failed("build failed (exit status 2)")
    failed = await world.run("reporter")  # another way of ending: told
    agent.result = "done"
    ok = await world.run("reporter")
    agent.result = Finished.failed("build failed (exit status 2)")
    back = await world.run("reporter")  # failing again after a success: told again

    assert [r.outcome for r in (again, failed, ok, back)] == ["stopped", "failed", "succeeded", "failed"]
    assert sorted(a.idempotency_key for a in await told()) == sorted(f"agent-run:{r.id}" for r in (stopped, failed, back))
    problems = await world.store.audit.query(problems=True)
    assert [(e.verb, e.subject) for e in problems] == [("agent.failed", back.id), ("agent.failed", failed.id),
                                                       ("agent.stopped", again.id), ("agent.stopped", stopped.id)]
    assert [r.outcome for r in await world.store.agents.runs("reporter")] == ["failed", "succeeded", "failed", "stopped", "stopped"]


async def test_unknown_agent(world):
    from oxymus.client import wire

    with pytest.raises(wire.RpcError, match="no agent 'nobody'"):
        await world.run("nobody")


async def test_a_missed_morning_run_is_caught_up_once_and_an_old_one_is_not(world):
    agent = install(world, Reader())
    world.clock = world.local(0, 9).astimezone(dt.timezone.utc)  # woke up at 09:00, the 06:30 run was missed
    due = world.runtime.last_due(agent, world.now())
    assert due == world.local(0, 6, 30)
    await world.runtime._catch_up()
    await world.runtime._catch_up()
    assert agent.runs == 1
    [run] = await world.store.agents.runs("reader")
    assert run.trigger.startswith("catch-up")
    # Days later, at 03:00: the last due time (the day before, 06:30) is 20.5 h ago, past the catch-up window.
    world.clock = world.local(3, 3, 0).astimezone(dt.timezone.utc)
    await world.runtime._catch_up()
    assert agent.runs == 1


async def test_weekday_triggers_and_settings_override(world):
    agent = install(world, Reader(AgentSettings(trigger=Trigger(at="18:00", weekdays=["sun"]))))
    assert agent.effective_trigger.describe() == "at 18:00 on sun"
    world.clock = world.local(0, 12).astimezone(dt.timezone.utc)  # Monday 23 Nov 2026
    assert world.runtime.last_due(agent, world.now()) == world.local(-1, 18)


async def test_runs_of_one_agent_do_not_overlap(world):
    import asyncio

    release = asyncio.Event()

    class Slow(Reader):
        name = "slow"

        async def run(self, ctx) -> str:
            self.runs += 1
            await release.wait()  # busy until the test says: the second trigger arrives meanwhile
            return "slept"

    async def release_once_running() -> None:
        while agent.runs == 0:
            await asyncio.sleep(0)
        release.set()

    agent = install(world, Slow())
    first, second, _ = await asyncio.gather(world.run("slow"), world.run("slow"), release_once_running())
    assert agent.runs == 1 and first.id == second.id


async def test_the_context_tells_the_pause_and_the_hot_budget(world):
    seen = {}

    class Looker(Reader):
        name = "looker"

        async def run(self, ctx) -> str:
            seen["paused"] = await ctx.paused()
            seen["budget"] = await ctx.hot_budget()
            return "looked"

    install(world, Looker())
    await world.desk.pause(None, "not today")
    run = await world.run("looker")
    assert run.outcome == "succeeded" and seen["paused"].reason == "not today"
    assert seen["budget"].limit_words == 1500 and seen["budget"].used_words == 0


async def test_an_agent_notification_without_a_desktop_is_still_proposed(tmp_path, monkeypatch):
    """No session bus is "not shown now", not "never": the notification is queued (and lands in the
    missed list when it runs; tests/test_notify_chain.py), never dropped from the run."""
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    async with AgentWorld(tmp_path, config_toml="[notify]\nenabled = true\n", only=[]) as world:
        install(world, Reader())
        run = await world.run("reader")
        assert run.outcome == "succeeded" and len(run.actions) == 1
        assert "not proposed" not in run.summary
        assert [a.kind for a in await world.actions()] == ["notify.send"]


async def test_payments_are_readable_with_the_bills_read(world):
    class Payer(Reader):
        name = "payer"
        reads = ("state:bills.due",)

        async def run(self, ctx) -> str:
            paid = await ctx.payments(["rent"])
            return f"{len(paid)} paid: {sorted(paid)}"

    install(world, Payer())
    await world.store.transaction([("INSERT INTO bill_payments (bill, due, paid_at) VALUES ('rent', '2026-11-01', 'x')", ())])
    run = await world.run("payer")
    assert run.summary == "1 paid: [('rent', '2026-11-01')]"
    install(world, Reader())
    Reader.reads, saved = ("state:calendar.*",), Reader.reads
    try:
        class NoBills(Reader):
            name = "nobills"

            async def run(self, ctx) -> str:
                await ctx.payments(["rent"])
                return ""

        install(world, NoBills())
        assert "may not read state:bills.due" in (await world.run("nobills")).error
    finally:
        Reader.reads = saved
