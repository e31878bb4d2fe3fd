"""Taking back bills.mark_paid and bills.add (a later step of their flow failed), against a real store and a real bills.toml."""

from __future__ import annotations

import datetime as dt

import pytest
from agent_harness import AgentWorld

from oxymus.actions.effects import ActionContext, Permanent, Receipt
from oxymus.actions.model import Action, Proposer

BILLS = """# what I owe
[[bill]]
name = "Phone"
amount = 20
schedule = "monthly"
day = 15
"""

# Monday 23 November 2026, 10:00 in Berlin.
MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
UNDO = "01JUND0000000000000000UND0"


def world(tmp_path, bills: str | None = BILLS) -> AgentWorld:
    return AgentWorld(tmp_path, only=[], now=MONDAY, config_toml='[bills]\nfile = "bills.toml"\n',
                      files={"bills.toml": bills} if bills is not None else {})


async def done(w: AgentWorld, kind: str, payload: dict, key: str | None = None) -> Action:
    """Propose as the person (allowed for own files), execute, and return the succeeded action."""
    action, _ = await w.desk.propose(kind, payload, proposer=Proposer(), reason="test", key=key)
    await w.execute_due()
    action = await w.store.actions.get(action.id)
    assert action.status == "succeeded", action
    return action


async def undo(w: AgentWorld, action: Action, receipt: Receipt | None = None) -> Receipt:
    """compensate() as the flow runs it: an action of its own, knowing the key the effect was made with."""
    spec = w.desk.specs[action.kind]
    ctx = ActionContext(zone=w.zone, config_dir=w.config_dir, now=w.now, action_id=UNDO, idempotency_key=f"undo:{action.idempotency_key}",
                        trace_id=action.trace_id, local=w.desk.local, compensates_key=action.idempotency_key)
    return await spec.compensate(spec.parse(action.payload), receipt or action.receipt, ctx)


# ---------------------------------------------------------------- bills.mark_paid


async def payments(w: AgentWorld) -> list[tuple]:
    return await w.store.fetchall("SELECT bill, due, amount FROM bill_payments ORDER BY bill, due")


def test_both_kinds_say_they_can_be_taken_back(tmp_path):
    from oxymus.action_kinds import action_specs
    from oxymus.profile.config import parse

    specs = action_specs(parse('[bills]\nfile = "bills.toml"\n', "config.toml"))
    assert specs["bills.mark_paid"].compensable and specs["bills.add"].compensable


async def test_undoing_mark_paid_removes_its_payment_with_an_audit_line_and_twice_is_already_done(tmp_path):
    async with world(tmp_path) as w:
        marked = await done(w, "bills.mark_paid", {"bill": "phone", "due": "2026-11-15"})
        assert marked.receipt.data == {"bill": "phone", "due": "2026-11-15", "amount": 20.0, "action_id": marked.id}
        await done(w, "bills.mark_paid", {"bill": "phone", "due": "2026-10-15"})  # another due date stays paid
        sub = w.bus.subscribe(["state.changed"], "test")
        undone = await undo(w, marked)
        assert undone.summary == "phone due 2026-11-15 is no longer marked paid" and not undone.already_done
        assert await payments(w) == [("phone", "2026-10-15", 20.0)]
        (line,) = await w.store.audit.query(verb="bills.unpaid")
        assert line.subject == "phone@2026-11-15" and line.trace_id == marked.trace_id
        assert line.details["undoes"] == marked.id and line.details["action"] == UNDO and line.details["amount"] == 20.0
        assert sub.queue.get_nowait()["data"] == {"source": "bills", "added": 0, "changed": 1, "removed": 0}
        again = await undo(w, marked)
        assert again.already_done and again.summary.endswith("(already)")
        assert len(await w.store.audit.query(verb="bills.unpaid")) == 1 and sub.queue.empty()


async def test_a_payment_another_action_recorded_is_left_alone(tmp_path):
    async with world(tmp_path) as w:
        by_hand = await done(w, "bills.mark_paid", {"bill": "phone", "due": "2026-11-15"})  # `oxymus paid phone`
        flow_step = await done(w, "bills.mark_paid", {"bill": "phone", "due": "2026-11-15"}, key="flow:step-1")
        assert flow_step.receipt.already_done  # it found the payment there and recorded nothing
        with pytest.raises(Permanent) as err:
            await undo(w, flow_step)
        assert str(err.value) == (f"the payment of phone due 2026-11-15 was recorded by action {by_hand.id}, "
                                  f"not by action {flow_step.id}, so Oxymus leaves it recorded")
        assert await payments(w) == [("phone", "2026-11-15", 20.0)]
        assert await w.store.audit.query(verb="bills.unpaid") == []


async def test_a_retried_undo_after_the_bill_was_paid_again_by_another_is_already_done(tmp_path):
    async with world(tmp_path) as w:
        first = await done(w, "bills.mark_paid", {"bill": "phone", "due": "2026-11-15"})
        await undo(w, first)
        again = await done(w, "bills.mark_paid", {"bill": "phone", "due": "2026-11-15", "amount": 21}, key="later")
        retry = await undo(w, first)  # the executor retrying the compensation after a crash
        assert retry.already_done
        assert await payments(w) == [("phone", "2026-11-15", 21.0)]  # the later payment is not this action's to remove
        assert (await undo(w, again)).already_done is False and await payments(w) == []


async def test_a_receipt_without_the_action_is_refused(tmp_path):
    async with world(tmp_path) as w:
        marked = await done(w, "bills.mark_paid", {"bill": "phone", "due": "2026-11-15"})
        old = Receipt(summary="marked phone due 2026-11-15 paid", data={"bill": "phone", "due": "2026-11-15"})
        with pytest.raises(Permanent, match="does not say which action recorded the payment"):
            await undo(w, marked, old)
        assert len(await payments(w)) == 1


# ---------------------------------------------------------------- bills.add

RENT = {"name": "Rent", "amount": 950, "currency": "EUR", "schedule": "monthly", "day": 1}
RENT_TABLE = '[[bill]]\nname = "Rent"\namount = 950\ncurrency = "EUR"\nschedule = "monthly"\nday = 1\n'


@pytest.mark.parametrize("before", [BILLS, BILLS.rstrip("\n"), BILLS + "\n", ""], ids=["newline", "no-newline", "blank-line", "empty"])
async def test_undoing_add_gives_back_the_file_byte_for_byte_and_twice_is_already_done(tmp_path, before):
    async with world(tmp_path, bills=before) as w:
        path = w.config_dir / "bills.toml"
        added = await done(w, "bills.add", RENT)
        assert path.read_text().endswith(RENT_TABLE) and added.receipt.data["appended"].endswith(RENT_TABLE)
        undone = await undo(w, added)
        assert undone.summary == "removed bill Rent from bills.toml" and not undone.already_done
        assert path.read_text() == before
        again = await undo(w, added)
        assert again.already_done and again.summary == f"bill Rent (rent) in {path} was already gone"
        assert path.read_text() == before


async def test_a_table_with_bills_added_after_it_is_cut_out_and_the_rest_kept(tmp_path):
    async with world(tmp_path) as w:
        path = w.config_dir / "bills.toml"
        added = await done(w, "bills.add", RENT)
        later = '\n[[bill]]\nname = "Gym"\namount = 30\nschedule = "monthly"\nday = 3\n'
        path.write_text(path.read_text() + later)  # the person adds another bill by hand
        await undo(w, added)
        assert path.read_text() == BILLS + later


@pytest.mark.parametrize("edit", [
    lambda text: text.replace("amount = 950", "amount = 980"),
    lambda text: text + 'url = "https://landlord.example"\n',  # a line added to the table belongs to it
    lambda text: text.replace('name = "Rent"', 'name = "Rent"  # flat'),
], ids=["value", "line-added", "comment"])
async def test_a_table_the_person_edited_is_left_alone(tmp_path, edit):
    async with world(tmp_path) as w:
        path = w.config_dir / "bills.toml"
        added = await done(w, "bills.add", RENT)
        path.write_text(edit(path.read_text()))
        edited = path.read_text()
        with pytest.raises(Permanent) as err:
            await undo(w, added)
        assert str(err.value) == (f"bill Rent (rent) in {path} was edited since Oxymus added it; "
                                  "remove its [[bill]] table by hand if it should go")
        assert path.read_text() == edited


async def test_a_bill_that_was_already_there_is_not_removed(tmp_path):
    async with world(tmp_path, bills=BILLS + "\n" + RENT_TABLE) as w:
        path = w.config_dir / "bills.toml"
        action, _ = await w.desk.propose("bills.add", RENT, proposer=Proposer(), reason="test")
        await w.execute_due()
        action = await w.store.actions.get(action.id)
        assert action.receipt.already_done
        with pytest.raises(Permanent, match=r"was already there when the action ran, so Oxymus cannot tell whether it added it"):
            await undo(w, action)
        assert path.read_text() == BILLS + "\n" + RENT_TABLE


async def test_a_file_that_no_longer_parses_is_not_touched(tmp_path):
    async with world(tmp_path) as w:
        path = w.config_dir / "bills.toml"
        added = await done(w, "bills.add", RENT)
        path.write_text(path.read_text() + "[[bill]\nname = broken\n")
        broken = path.read_text()
        with pytest.raises(Permanent, match=r"TOML syntax error.*bill Rent \(rent\) in .* was not removed"):
            await undo(w, added)
        assert path.read_text() == broken
