"""record.update: an agent moves a canonical record only through the desk, the policy and the executor."""

from __future__ import annotations

import pytest
from agent_harness import AgentWorld

from oxymus.action_kinds import action_specs
from oxymus.actions.errors import ActionError
from oxymus.actions.model import Proposer

EDITOR = Proposer(type="agent", name="editor", run_id="01JRUN00000000000000000EDT")


@pytest.fixture
async def world(tmp_path):
    async with AgentWorld(tmp_path, only=[]) as w:
        yield w


async def run_it(w, action):
    if action.status == "awaiting_approval":
        await w.desk.approve(action.id, reason="fine")
    await w.execute_due()
    return await w.store.actions.get(action.id)


def test_the_kind_is_registered_as_own_files_low_risk():
    spec = action_specs(None)["record.update"]
    assert (spec.scope, spec.risk) == ("own_files", "low")


async def test_an_agents_move_waits_for_approval_then_moves_the_record_and_says_so(world):
    post = await world.store.records.add("post", {"title": "Launch notes"}, status="draft")
    sub = world.bus.subscribe(["record.status"], "test")
    action, _ = await world.desk.propose("record.update", {"id": post.id[:10], "status": "edited", "note": "copy-edited"},
                                         proposer=EDITOR, reason="the draft reads well")
    assert action.status == "awaiting_approval"  # an agent's change to your records waits for you
    assert action.preview.summary == "record: post 'Launch notes': draft → edited"
    assert action.payload["id"] == post.id and action.payload["expected_version"] == 1
    assert (await world.store.records.get(post.id)).status == "draft", "nothing moves before the decision"
    done = await run_it(world, action)
    assert done.status == "succeeded" and done.receipt.data["status"] == "edited"
    moved = await world.store.records.get(post.id)
    assert (moved.status, moved.version) == ("edited", 2)
    history = await world.store.records.history(post.id)
    assert history[-1].note == "copy-edited" and "editor" in history[-1].actor
    event = sub.queue.get_nowait()
    assert event["topic"] == "record.status" and (event["data"]["old"], event["data"]["new"]) == ("draft", "edited")


async def test_a_bad_or_stale_update_is_refused(world):
    lead = await world.store.records.add("lead", {"name": "Jane"})
    with pytest.raises(ActionError, match="no status 'maybe'"):
        await world.desk.propose("record.update", {"id": lead.id, "status": "maybe"}, proposer=EDITOR, reason="x")
    with pytest.raises(ActionError, match="budget"):
        await world.desk.propose("record.update", {"id": lead.id, "fields": {"budget": "lots"}}, proposer=EDITOR, reason="x")
    with pytest.raises(ActionError, match="already shows this"):
        await world.desk.propose("record.update", {"id": lead.id, "status": "new"}, proposer=EDITOR, reason="x")
    action, _ = await world.desk.propose("record.update", {"id": lead.id, "status": "qualified"}, proposer=EDITOR, reason="x")
    await world.store.records.edit(lead.id, fields={"need": "a site"})  # the person edits it meanwhile
    done = await run_it(world, action)
    assert done.status == "failed" and "changed since the proposal" in done.error
    assert (await world.store.records.get(lead.id)).status == "new"


async def test_record_create_adds_once_with_provenance_and_links_and_refuses_bad_fields(world):
    with pytest.raises(ActionError, match="budget"):
        await world.desk.propose("record.create", {"kind": "lead", "fields": {"name": "Jo", "budget": "lots"}},
                                 proposer=EDITOR, reason="x")
    payload = {"kind": "lead", "fields": {"name": "Jo Park", "email": "jo@park.test"}, "source": "connector",
               "ref": "<a1@park.test>", "links": [{"target_type": "email", "target_ref": "<a1@park.test>", "relation": "from"}]}
    action, _ = await world.desk.propose("record.create", payload, proposer=EDITOR, reason="a new lead")
    assert action.status == "awaiting_approval" and action.payload["id"]
    assert action.preview.summary == "record: add lead 'Jo Park'"
    done = await run_it(world, action)
    assert done.status == "succeeded"
    record = await world.store.records.get(action.payload["id"])
    assert (record.title, record.status, record.provenance.source, record.provenance.ref) == ("Jo Park", "new", "connector", "<a1@park.test>")
    from oxymus.records.create_action import RecordCreateSpec

    # Executed again (a retry after a crash): the same record, added once.
    again = await RecordCreateSpec().execute(RecordCreateSpec().parse(action.payload), world.desk.context(action))
    assert again.already_done and again.ref == record.id
    assert len(await world.store.records.list(kind="lead")) == 1
    # Links alone are an update of their own.
    link = {"target_type": "email", "target_ref": "<a2@park.test>", "relation": "from"}
    update, _ = await world.desk.propose("record.update", {"id": record.id, "links": [link]}, proposer=EDITOR, reason="more")
    assert (await run_it(world, update)).status == "succeeded"
    detail = await world.store.records.detail(record.id)
    assert {x.target_ref for x in detail.links} == {"<a1@park.test>", "<a2@park.test>"}


async def test_an_update_is_taken_back_only_while_the_record_is_as_it_left_it(world):
    post = await world.store.records.add("post", {"title": "Launch notes", "path": "/drafts/a.md"}, status="edited")
    action, _ = await world.desk.propose("record.update", {"id": post.id, "status": "published",
                                                          "fields": {"path": "/blog/a.md", "url": "https://x.example/a/"}},
                                         proposer=EDITOR, reason="published")
    done = await run_it(world, action)
    spec = world.desk.spec("record.update")
    back = await spec.compensate(spec.parse(done.payload), done.receipt, world.desk.context(done))
    record = await world.store.records.get(post.id)
    assert back.summary.endswith("back to edited") and record.status == "edited"
    assert record.fields["path"] == "/drafts/a.md" and record.fields.get("url") is None
    again = await spec.compensate(spec.parse(done.payload), done.receipt, world.desk.context(done))
    assert again.already_done  # idempotent: a retry after a crash changes nothing

    second, _ = await world.desk.propose("record.update", {"id": post.id, "status": "published"}, proposer=EDITOR, reason="again",
                                         key="second")
    second = await run_it(world, second)
    await world.store.records.edit(post.id, fields={"url": "https://x.example/moved/"}, actor="user")  # the person edits it
    from oxymus.actions.effects import Permanent

    with pytest.raises(Permanent, match="changed after this update"):
        await spec.compensate(spec.parse(second.payload), second.receipt, world.desk.context(second))
