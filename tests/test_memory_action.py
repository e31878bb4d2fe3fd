"""memory.update: add, edit and forget one memory record through the desk, the policy and the executor."""

from __future__ import annotations

import pytest
from agent_harness import AgentWorld

from oxymus.action_kinds import action_specs
from oxymus.actions.effects import ActionContext, Permanent
from oxymus.actions.errors import ActionError
from oxymus.actions.model import Proposer
from oxymus.memory.records import Provenance, RecordChanges, RecordFields
from oxymus.memory.update_action import derived_id

STEWARD = Proposer(type="agent", name="steward", run_id="01JRUN0000000000000000STEW")


@pytest.fixture
async def world(tmp_path):
    async with AgentWorld(tmp_path, only=[]) as w:
        yield w


async def record(w, title="Prefers mornings for deep work", tier="hot", body="Writes before 11:00; meetings after lunch.", **kw):
    return await w.store.memory.add(RecordFields(kind=kw.pop("kind", "preference"), title=title, body=body, tier=tier, **kw),
                                    Provenance(source="user"))


async def run_it(w, action):
    """Approve (if it waits) and execute: what happens after the person says yes."""
    if action.status == "awaiting_approval":
        await w.desk.approve(action.id, reason="fine")
    await w.execute_due()
    return await w.store.actions.get(action.id)


async def again(w, action):
    """Execute the same action once more, as the executor does after a crash before the receipt was stored."""
    spec = w.desk.specs["memory.update"]
    return await spec.execute(spec.parse(action.payload), w.desk.context(action))


def test_the_kind_is_registered_as_own_files_low_risk():
    spec = action_specs(None)["memory.update"]
    assert (spec.scope, spec.risk) == ("own_files", "low")


async def test_the_persons_own_add_runs_and_an_agents_retry_finds_its_record(world):
    sub = world.bus.subscribe(["memory.changed"], "test")
    action, _ = await world.desk.propose("memory.update", {"op": "add", "record": {"kind": "decision", "title": "Use SQLite for the store",
                                                                                   "body": "One file, no server.", "tags": ["oxymus"]}},
                                         proposer=Proposer(), reason="decided today")
    assert action.status == "approved"  # your own update to your own memory
    assert action.preview.summary == "memory: add decision 'Use SQLite for the store' (warm)"
    assert "title: Use SQLite for the store" in action.preview.body and "One file, no server." in action.preview.body
    done = await run_it(world, action)
    assert done.status == "succeeded" and not done.receipt.already_done
    rec = await world.store.memory.get(done.receipt.ref, touch=False)
    assert rec.id == derived_id(action.id, action.idempotency_key) and rec.kind == "decision" and rec.tags == ["oxymus"]
    assert rec.provenance.source == "user" and rec.provenance.ref == action.id
    event = sub.queue.get_nowait()
    assert event["topic"] == "memory.changed" and event["data"] == {"id": rec.id, "verb": "added"}

    proposed, _ = await world.desk.propose("memory.update", {"op": "add", "record": {"kind": "fact", "title": "Week 48 in brief"}},
                                           proposer=STEWARD, reason="the week", key="test:add")
    assert proposed.status == "awaiting_approval"  # an agent's update waits for you
    ran = await run_it(world, proposed)
    made = await world.store.memory.get(ran.receipt.ref, touch=False)
    assert made.provenance.source == "agent" and made.provenance.ref == STEWARD.run_id and "steward" in made.provenance.note
    assert (await world.store.memory.history(made.id))[0].actor == "agent:steward"
    retry = await again(world, ran)
    assert retry.already_done and retry.ref == made.id
    assert len(await world.store.memory.recent(limit=10)) == 2


async def test_an_agents_tier_change_waits_for_approval_shows_a_diff_and_keeps_the_records_age(world):
    rec = await record(world)
    action, _ = await world.desk.propose("memory.update", {"op": "edit", "id": rec.id.lower(), "changes": {"tier": "warm"}},
                                         proposer=STEWARD, reason="hot memory is over budget", key="test:demote")
    assert action.status == "awaiting_approval"
    assert action.preview.summary == "memory: move 'Prefers mornings for deep work' from hot to warm"
    assert action.preview.format == "diff" and "-tier: hot\n+tier: warm\n" in action.preview.body
    assert action.payload["expected_version"] == 1 and action.payload["id"] == rec.id  # pinned at proposal
    done = await run_it(world, action)
    assert done.status == "succeeded", done.error
    after = await world.store.memory.get(rec.id, touch=False)
    assert after.tier == "warm" and after.version == 2 and after.touched_at == rec.touched_at
    assert (await world.store.memory.history(rec.id))[-1].actor == "agent:steward"
    retry = await again(world, done)  # the same change again: nothing to do
    assert retry.already_done and "already shows this change" in retry.summary
    assert (await world.store.memory.get(rec.id, touch=False)).version == 2


async def test_a_body_edit_shows_the_lines_that_change(world):
    rec = await record(world, title="Warm memory, 2026-10", tier="warm", body="3 warm record(s) last touched in 2026-10.\n- a\n- b",
                       kind="summary")
    action, _ = await world.desk.propose("memory.update", {"op": "edit", "id": rec.id, "changes": {"body": "October: the release."}},
                                         proposer=STEWARD, reason="a clearer summary")
    assert action.preview.summary == "memory: edit 'Warm memory, 2026-10' (body)"
    assert "-3 warm record(s) last touched in 2026-10.\n" in action.preview.body and "+October: the release.\n" in action.preview.body
    done = await run_it(world, action)
    assert (await world.store.memory.get(rec.id, touch=False)).body == "October: the release."
    assert done.receipt.data["fields"] == ["body"]


async def test_a_record_changed_after_the_proposal_is_not_changed_blindly(world):
    rec = await record(world)
    action, _ = await world.desk.propose("memory.update", {"op": "edit", "id": rec.id, "changes": {"tier": "warm"}}, proposer=STEWARD,
                                         reason="over budget")
    from oxymus.memory.records import RecordChanges

    await world.store.memory.edit(rec.id, RecordChanges(body="Now also: no meetings on Fridays."))
    failed = await run_it(world, action)
    assert failed.status == "failed" and "changed since the proposal (version 1, now 2)" in failed.error
    assert (await world.store.memory.get(rec.id, touch=False)).tier == "hot"


async def test_forget_archives_never_purges_and_twice_is_already_done(world):
    rec = await record(world, title="Old phone number", tier="warm", kind="fact")
    action, _ = await world.desk.propose("memory.update", {"op": "forget", "id": rec.id}, proposer=STEWARD, reason="replaced")
    assert action.preview.summary == "memory: forget 'Old phone number'" and action.preview.body.startswith("Old phone number")
    done = await run_it(world, action)
    assert done.status == "succeeded"
    gone = await world.store.memory.get(rec.id, touch=False)
    assert gone.archived and gone.tier == "cold" and len(await world.store.memory.history(rec.id)) == 2
    retry = await again(world, done)
    assert retry.already_done and "already forgotten" in retry.summary


@pytest.mark.parametrize("payload, message", [
    ({"op": "add"}, "payload.record: add needs the record"),
    ({"op": "add", "record": {"title": "x"}, "id": "01J"}, "add takes only `record`"),
    ({"op": "edit", "id": "01JNOPE"}, "payload.changes: edit needs at least one field"),
    ({"op": "edit", "id": "01JNOPE", "changes": {}}, "payload.changes: edit needs at least one field"),
    ({"op": "edit", "changes": {"tier": "warm"}}, "payload.id: edit needs the id"),
    ({"op": "edit", "id": "01JNOPE", "changes": {"tier": "warm"}}, "no memory record '01JNOPE'"),
    ({"op": "forget", "id": "01JNOPE", "changes": {"tier": "warm"}}, "forget takes only `id`"),
    ({"op": "purge", "id": "01JNOPE"}, "op"),
    ({"op": "edit", "id": "x", "changes": {"tier": "lukewarm"}}, "tier"),
])
async def test_a_payload_that_does_not_fit_is_refused_naming_the_field(world, payload, message):
    with pytest.raises(ActionError) as err:
        await world.desk.propose("memory.update", payload, proposer=STEWARD, reason="test")
    assert message in err.value.message


async def test_a_change_that_changes_nothing_or_a_forgotten_record_is_refused_at_proposal(world):
    rec = await record(world)
    with pytest.raises(ActionError, match="already says this"):
        await world.desk.propose("memory.update", {"op": "edit", "id": rec.id, "changes": {"tier": "hot"}}, proposer=STEWARD, reason="t")
    await world.store.memory.forget(rec.id)
    with pytest.raises(ActionError, match="already forgotten"):
        await world.desk.propose("memory.update", {"op": "forget", "id": rec.id}, proposer=STEWARD, reason="t")


# ---------------------------------------------------------------- compensation (a later step of the flow failed)

UNDO = "01JUND0000000000000000UND0"


async def undo(w, action, receipt=None):
    """compensate() as the flow runs it: an action of its own, knowing the key the effect was made with."""
    spec = w.desk.specs["memory.update"]
    ctx = ActionContext(zone=w.zone, config_dir=w.config_dir, now=w.now, action_id=UNDO, idempotency_key=f"undo:{action.idempotency_key}",
                        trace_id=action.trace_id, proposer="user", local=w.desk.local, compensates_key=action.idempotency_key)
    return await spec.compensate(spec.parse(action.payload), receipt or action.receipt, ctx)


async def done(w, payload, key=None):
    action, _ = await w.desk.propose("memory.update", payload, proposer=Proposer(), reason="test", key=key)
    action = await run_it(w, action)
    assert action.status == "succeeded", action
    return action


def test_memory_update_says_it_can_be_taken_back():
    assert action_specs(None)["memory.update"].compensable is True


async def test_an_added_record_is_forgotten_not_purged_and_twice_is_already_done(world):
    added = await done(world, {"op": "add", "record": {"kind": "decision", "title": "Use SQLite", "tier": "hot"}})
    undone = await undo(world, added)
    assert not undone.already_done and undone.summary == f"memory: forgot record {added.receipt.ref} ('Use SQLite') again"
    rec = await world.store.memory.get(added.receipt.ref, touch=False)
    assert rec.archived and [v.version for v in await world.store.memory.history(rec.id)] == [1, 2]
    again = await undo(world, added)
    assert again.already_done and (await world.store.memory.get(rec.id, touch=False)).version == 2


async def test_an_added_record_changed_since_is_left_alone(world):
    added = await done(world, {"op": "add", "record": {"title": "Use SQLite"}})
    await world.store.memory.edit(added.receipt.ref, RecordChanges(body="and WAL mode"))
    with pytest.raises(Permanent) as err:
        await undo(world, added)
    assert str(err.value) == (f"memory: record {added.receipt.ref} ('Use SQLite') changed since this add (version 1, now 2); "
                              f"forget it by hand (`oxymus memory forget {added.receipt.ref}`) if it should be undone")
    assert not (await world.store.memory.get(added.receipt.ref, touch=False)).archived


async def test_an_edit_is_reverted_to_the_previous_values(world):
    rec = await record(world, tags=["work"])
    edited = await done(world, {"op": "edit", "id": rec.id, "changes": {"title": "Mornings are for writing", "tags": ["writing"], "tier": "warm"}})
    assert edited.receipt.data["before"] == {"title": "Prefers mornings for deep work", "tags": ["work"], "tier": "hot"}
    undone = await undo(world, edited)
    assert not undone.already_done and undone.summary.startswith(f"memory: reverted record {rec.id}") and "(tags, tier, title)" in undone.summary
    back = await world.store.memory.get(rec.id, touch=False)
    assert (back.title, back.tags, back.tier, back.body, back.version) == ("Prefers mornings for deep work", ["work"], "hot", rec.body, 3)
    assert (await world.store.memory.history(rec.id))[-1].note == f"undoes {edited.idempotency_key}"[:200]
    again = await undo(world, edited)
    assert again.already_done and (await world.store.memory.get(rec.id, touch=False)).version == 3


async def test_an_edit_changed_since_is_not_reverted(world):
    rec = await record(world)
    edited = await done(world, {"op": "edit", "id": rec.id, "changes": {"title": "Mornings are for writing"}})
    await world.store.memory.edit(rec.id, RecordChanges(body="Also Saturdays."))
    with pytest.raises(Permanent) as err:
        await undo(world, edited)
    assert str(err.value) == (f"memory: record {rec.id} ('Mornings are for writing') changed since this edit (version 2, now 3); "
                              f"revert it by hand (`oxymus memory show {rec.id}` lists its versions) if it should be undone")
    assert (await world.store.memory.get(rec.id, touch=False)).title == "Mornings are for writing"


async def test_an_edit_found_already_applied_is_not_reverted(world):
    rec = await record(world)
    edited = await done(world, {"op": "edit", "id": rec.id, "changes": {"tier": "warm"}})
    found = await again(world, edited)  # the receipt a retry after a crash would have stored
    assert found.already_done
    with pytest.raises(Permanent, match="already showed this edit when the action ran, so Oxymus cannot tell whether it made it"):
        await undo(world, edited, found)
    assert (await world.store.memory.get(rec.id, touch=False)).tier == "warm"


async def test_a_forgotten_record_is_restored_in_its_old_tier(world):
    rec = await record(world, tier="hot")
    forgot = await done(world, {"op": "forget", "id": rec.id})
    assert (await world.store.memory.get(rec.id, touch=False)).tier == "cold"
    undone = await undo(world, forgot)
    assert not undone.already_done and undone.summary == f"memory: restored record {rec.id} ('Prefers mornings for deep work') (hot)"
    back = await world.store.memory.get(rec.id, touch=False)
    assert (back.archived, back.tier, back.version) == (False, "hot", 3)
    (line,) = await world.store.audit.query(verb="memory.restored", subject=rec.id)
    assert line.details == {"tier": "hot", "version": 3}
    assert [h.record.id for h in await world.store.memory.search("mornings")] == [rec.id]
    again = await undo(world, forgot)
    assert again.already_done and (await world.store.memory.get(rec.id, touch=False)).version == 3


async def test_a_record_forgotten_then_changed_is_not_restored(world):
    rec = await record(world)
    forgot = await done(world, {"op": "forget", "id": rec.id})
    await world.store.memory.edit(rec.id, RecordChanges(body="Kept only for the record."))
    with pytest.raises(Permanent, match=rf"memory: record {rec.id} .* changed since this forget \(version 2, now 3\); restore it by hand"):
        await undo(world, forgot)
    assert (await world.store.memory.get(rec.id, touch=False)).archived
