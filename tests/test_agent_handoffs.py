"""Consumers started on a record's status, and every handoff recorded as automatic or manual."""

from __future__ import annotations

import asyncio
import json

from agent_harness import AgentWorld
from conftest import run_cli, wait_for

from oxymus.actions.model import Proposer
from oxymus.agents.base import Agent, RecordPort
from oxymus.daemon.agent_graph import StatusStarts

WAIT = 30.0  # an upper bound for an event to arrive, never a pause
ALLOW_RECORD_MOVES = '[[rule]]\nname = "records move by themselves"\nkind = "record.update"\noutcome = "allow"\n'


class Editor(Agent):
    """Takes over posts at draft; blocks on `gate` while working, so a test sees overlaps."""

    name = "editor"
    role = "Edits drafts."
    consumes = (RecordPort.of("post@draft"),)
    produces = (RecordPort.of("post@edited"),)
    proposes = ("record.update",)

    def __init__(self, settings=None):
        super().__init__(settings)
        self.seen: list[dict] = []
        self.active: set[str] = set()
        self.overlaps = 0
        self.gate: asyncio.Event | None = None
        self.move = False

    async def run(self, ctx):
        record = ctx.event["record"]
        if record["id"] in self.active:
            self.overlaps += 1
        self.active.add(record["id"])
        try:
            self.seen.append(record)
            if self.gate is not None:
                await self.gate.wait()
            if self.move:
                await ctx.propose("record.update", {"id": record["id"], "status": "edited"}, reason="reads well")
            return f"edited {record['id']}"
        finally:
            self.active.discard(record["id"])


async def _world(tmp_path, policy=None):
    world = AgentWorld(tmp_path, only=[], policy=policy)
    await world.__aenter__()
    editor = Editor()
    world.runtime.agents["editor"] = editor
    world.runtime._locks["editor"] = asyncio.Lock()
    await world.runtime.status_starts.stop()  # the harness's records handoffs only; this one starts consumers
    starts = StatusStarts(world.runtime, debounce=0.01)
    starts.start()
    finished = world.bus.subscribe(["agent.finished"], "test")
    return world, editor, starts, finished


async def _close(world, starts):
    await starts.stop()
    await world.__aexit__(None, None, None)


async def _finished(sub) -> dict:
    event = await asyncio.wait_for(sub.queue.get(), WAIT)
    return event["data"]


async def _until(done) -> None:
    async def until():
        while not done():
            await asyncio.sleep(0)  # yield to the listener; the bound below is the only time limit
    await asyncio.wait_for(until(), WAIT)


async def _handled(starts: StatusStarts, count: int) -> None:
    await _until(lambda: starts.handled >= count)


async def _started(starts: StatusStarts, count: int) -> None:
    await _until(lambda: starts.started >= count)


async def test_a_persons_move_starts_the_consumer_with_the_record_and_is_a_manual_handoff(tmp_path):
    world, editor, starts, finished = await _world(tmp_path)
    try:
        post = await world.store.records.add("post", {"title": "Launch notes"}, status="brief")
        await world.desk.local.record_edit(post.id, status="draft", fields={}, actor="oxymus-cli")
        run = await _finished(finished)
        await _started(starts, 1)
        assert (run["agent"], run["outcome"]) == ("editor", "succeeded")
        assert editor.seen == [{"id": post.id, "kind": "post", "status": "draft", "old": "brief"}]
        [handoff] = await world.store.handoffs.of_record(post.id)
        assert (handoff.from_status, handoff.to_status, handoff.by, handoff.to_agent, handoff.mode, handoff.run_id) == (
            "brief", "draft", "oxymus-cli", "editor", "manual", run["id"])
        # A status nobody consumes is a handoff to the person.
        await world.desk.local.record_edit(post.id, status="scheduled", fields={}, actor="oxymus-cli")
        await _handled(starts, 2)
        last = (await world.store.handoffs.of_record(post.id))[-1]
        assert (last.to_status, last.to_agent, last.mode) == ("scheduled", None, "manual")
        detail = await world.store.records.detail(post.id)
        assert [h.to_status for h in detail.handoffs] == ["draft", "scheduled"]
    finally:
        await _close(world, starts)


async def test_an_agents_move_the_policy_allows_is_automatic_and_one_a_person_approves_is_manual(tmp_path):
    world, editor, starts, finished = await _world(tmp_path, policy=ALLOW_RECORD_MOVES)
    try:
        post = await world.store.records.add("post", {"title": "Auto"}, status="brief")
        writer = Proposer(type="agent", name="writer", run_id="01JRUN00000000000000000WRT")
        action, _ = await world.desk.propose("record.update", {"id": post.id, "status": "draft"}, proposer=writer, reason="drafted")
        assert action.status != "awaiting_approval"
        await world.execute_due()
        run = await _finished(finished)
        await _started(starts, 1)
        [handoff] = await world.store.handoffs.of_record(post.id)
        assert (handoff.by, handoff.to_agent, handoff.mode, handoff.action_id, handoff.run_id) == (
            "agent:writer", "editor", "automatic", action.id, run["id"])
    finally:
        await _close(world, starts)
    world, editor, starts, finished = await _world(tmp_path / "approved")
    try:
        post = await world.store.records.add("post", {"title": "Asked"}, status="brief")
        writer = Proposer(type="agent", name="writer", run_id="01JRUN00000000000000000WRT")
        action, _ = await world.desk.propose("record.update", {"id": post.id, "status": "draft"}, proposer=writer, reason="drafted")
        assert action.status == "awaiting_approval"
        await world.desk.approve(action.id, reason="fine")
        await world.execute_due()
        await _finished(finished)
        [handoff] = await world.store.handoffs.of_record(post.id)
        assert (handoff.to_agent, handoff.mode) == ("editor", "manual")
    finally:
        await _close(world, starts)


async def test_never_twice_at_once_for_one_record_and_each_record_gets_its_own_run(tmp_path):
    world, editor, starts, finished = await _world(tmp_path)
    try:
        editor.gate = asyncio.Event()
        a = await world.store.records.add("post", {"title": "A"}, status="brief")
        b = await world.store.records.add("post", {"title": "B"}, status="brief")
        await world.desk.local.record_edit(a.id, status="draft", fields={}, actor="oxymus-cli")
        await _until(lambda: editor.active)
        # While A's run waits: A moves away and back (a second start for A), and B arrives.
        await world.desk.local.record_edit(a.id, status="brief", fields={}, actor="oxymus-cli")
        await world.desk.local.record_edit(a.id, status="draft", fields={}, actor="oxymus-cli")
        await world.desk.local.record_edit(b.id, status="draft", fields={}, actor="oxymus-cli")
        await _handled(starts, 4)
        editor.gate.set()
        runs = [await _finished(finished) for _ in range(3)]
        assert all(r["outcome"] == "succeeded" for r in runs)
        assert editor.overlaps == 0
        assert sorted(s["id"] for s in editor.seen) == sorted([a.id, a.id, b.id])
    finally:
        await _close(world, starts)


async def test_a_disabled_consumer_is_not_started(tmp_path):
    world, editor, starts, finished = await _world(tmp_path)
    try:
        editor.settings.enabled = False
        post = await world.store.records.add("post", {"title": "Off"}, status="brief")
        await world.desk.local.record_edit(post.id, status="draft", fields={}, actor="oxymus-cli")
        await _handled(starts, 1)
        [handoff] = await world.store.handoffs.of_record(post.id)
        assert (handoff.to_agent, handoff.mode) == (None, "manual")
        assert editor.seen == []
    finally:
        await _close(world, starts)


def test_the_daemon_records_a_persons_move_as_a_manual_handoff_shown_by_records_show(daemon):
    def cli(*args):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout.decode()

    lead = json.loads(cli("records", "add", "lead", "Jane Doe", "--json"))
    cli("records", "edit", lead["id"], "--next")

    def handoffs():
        return json.loads(cli("records", "show", lead["id"], "--json"))["handoffs"]

    def both():
        found = handoffs()
        return found if len(found) == 2 else None

    [added, handoff] = wait_for(both, 20, what="both handoffs to be recorded")
    assert (added["from_status"], added["to_status"], added["to_agent"], added["mode"]) == (None, "new", None, "manual")
    assert (handoff["from_status"], handoff["to_status"], handoff["by"], handoff["to_agent"], handoff["mode"]) == (
        "new", "qualified", "oxymus-cli", None, "manual")
    shown = cli("records", "show", lead["id"])
    assert "handoffs:" in shown and "new -> qualified" in shown and "to a person  manual" in shown
