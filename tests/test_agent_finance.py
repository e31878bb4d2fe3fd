"""The finance agent on a real agent runtime: reminders once per bill, due date and day; the payment to
confirm proposed once and kept waiting by policy; autopay and paid bills left alone; the LLM only words."""

from __future__ import annotations

import pytest
from agent_harness import AgentWorld
from ollama_server import ollama_server  # noqa: F401

from oxymus.agents.finance import BillsDigest, FinanceSettings
from oxymus.agents.llm import Llm
from oxymus.connectors.bills import BillsConfig
from oxymus.connectors.bills.source import BillsSource
from oxymus.profile.config import LlmConfig
from oxymus.sources.contract import PollContext

# The world's today is Monday 23 Nov 2026.
BILLS = """\
[[bill]]
id = "power"
name = "Electricity"
amount = 84.2
schedule = "monthly"
day = 20
url = "https://pay.example/power"

[[bill]]
id = "rent"
name = "Rent"
amount = 950
schedule = "monthly"
day = 25
url = "https://bank.example/rent"

[[bill]]
id = "phone"
name = "Phone"
amount = 29.99
schedule = "monthly"
day = 26

[[bill]]
id = "insurance"
name = "Insurance"
amount = 120
schedule = "yearly"
date = "12-15"
url = "https://insure.example"

[[bill]]
id = "net"
name = "Internet"
amount = 39
schedule = "monthly"
day = 24
autopay = true

[[bill]]
id = "gym"
name = "Gym"
amount = 30
schedule = "monthly"
day = 21
autopay = true

[[bill]]
name = "Broken"
schedule = "monthly"
"""

POLICY = """\
[[rule]]
name = "big payments always need me"
kind = "bills.mark_paid"
match = { amount = { gt = 200 } }
outcome = "require_approval"
"""


def world(tmp_path, **kw) -> AgentWorld:
    return AgentWorld(tmp_path, config_toml='[bills]\nfile = "bills.toml"\nwindow_days = 30\n', files={"bills.toml": BILLS},
                      only=["finance"], **kw)


async def poll_bills(w: AgentWorld, *, settled: bool = True) -> None:
    """What the bills source would have stored: the real poll of the same bills.toml.

    The source also reports each bill's last past due date; `settled` records last
    month's rent and phone as paid (by the person), as someone using Oxymus would have.
    """
    result = await BillsSource(BillsConfig(file="bills.toml", window_days=30)).poll(
        PollContext(zone=w.zone, config_dir=w.config_dir, now=w.now))
    await w.state("bills", result.items)
    if settled and not await w.store.actions.by_key("settled:rent"):
        for bill, due in (("rent", "2026-10-25"), ("phone", "2026-10-26")):
            action, _ = await w.desk.propose("bills.mark_paid", {"bill": bill, "due": due}, reason="paid last month", key=f"settled:{bill}")
            if action.status == "awaiting_approval":  # a big one, under the person's rule
                action = await w.desk.approve(action.id)
            await w.executor.run_one(action)
            assert (await w.store.actions.get(action.id)).status == "succeeded"


async def mine(w: AgentWorld, kind: str | None = None):
    return [a for a in await w.actions() if a.proposer.name == "finance" and (kind is None or a.kind == kind)]


async def digest(w: AgentWorld, key: str = "2026-11-23") -> BillsDigest:
    [art] = [a for a in await w.artifacts("bills_digest") if a.key == key]
    return BillsDigest.model_validate(art.data), art


async def test_reminders_and_payments_to_confirm(tmp_path):
    async with world(tmp_path, policy=POLICY) as w:
        await poll_bills(w)
        run = await w.run("finance")
        assert run.outcome == "succeeded", run.error

        notes = {a.payload["title"]: a for a in await mine(w, "notify.send")}
        assert sorted(notes) == ["Due Thu 26 Nov: Phone 29.99 EUR", "Due Wed 25 Nov: Rent 950.00 EUR",
                                 "Overdue: Electricity 84.20 EUR (due Fri 20 Nov)"]
        power = notes["Overdue: Electricity 84.20 EUR (due Fri 20 Nov)"]
        assert power.payload["urgency"] == "critical" and power.status == "approved"  # local: allowed by default
        assert power.payload["body"] == ("Electricity, 84.20 EUR, was due Fri 20 Nov: 3 days overdue.\n"
                                         "Pay at https://pay.example/power, then approve “mark power due 2026-11-20 paid (84.20 EUR)” (oxymus approvals).")
        assert power.idempotency_key == "finance:remind:power@2026-11-20:2026-11-23"
        assert power.inputs[0].ref == "bills.due:power@2026-11-20" and power.trace_id == run.trace_id
        phone = notes["Due Thu 26 Nov: Phone 29.99 EUR"]
        assert phone.payload["urgency"] == "normal"
        assert (power.confidence, phone.confidence) == (0.9, 0.65)  # overdue is certain; due within remind_days moderate
        assert phone.payload["body"].endswith("Once paid, record it: oxymus paid phone --due 2026-11-26")

        paid = {a.payload["bill"]: a for a in await mine(w, "bills.mark_paid")}
        assert sorted(paid) == ["power", "rent"]  # those with a pay URL; not the phone, not the far or autopay ones
        for a in paid.values():
            assert a.status == "awaiting_approval" and a.proposer.run_id == run.id
            assert a.reason.startswith(f"Pay at {'https://pay.example/power' if a.payload['bill'] == 'power' else 'https://bank.example/rent'}, "
                                       "then approve this to record the payment")
        # Both wait: the big one by the person's rule, the small one by the default for an agent's proposal.
        assert paid["rent"].payload["amount"] == 950 and paid["rent"].decision.rule == "big payments always need me"
        assert paid["power"].decision.rule == "default: side effects need your approval"
        assert paid["power"].idempotency_key == "finance:paid:power@2026-11-20"

        data, art = await digest(w)
        # As the Today view sorts them; last month's paid rent and phone drop out, autopay ones get nothing.
        assert [(b.bill, b.due, b.status) for b in data.bills] == [
            ("power", "2026-11-20", "overdue"),
            ("rent", "2026-11-25", "upcoming"), ("phone", "2026-11-26", "upcoming"), ("insurance", "2026-12-15", "upcoming"),
            ("power", "2026-12-20", "upcoming"),
            ("net", "2026-10-24", "autopay"), ("gym", "2026-11-21", "autopay"), ("net", "2026-11-24", "autopay"),
            ("gym", "2026-12-21", "autopay"),
        ]
        assert {b.bill for b in data.bills if b.reminder} == {"power", "rent", "phone"}
        assert len(data.problems) == 1 and "Broken" in data.problems[0]
        assert "## Overdue" in art.content and "## Later" in art.content and "- Insurance: 120.00 EUR due Tue 15 Dec (in 22 days)" in art.content
        assert "## Paid automatically" in art.content and "## Problems in bills.toml" in art.content
        assert run.summary == "3 reminders (1 overdue), 2 payments to confirm; 1 problem in bills.toml"

        # The same day again: nothing new.
        before = len(await w.actions())
        again = await w.run("finance")
        assert len(await w.actions()) == before
        assert again.summary.startswith("nothing new: 3 bills already reminded today")

        # The next day: one reminder per bill still due, no second payment to confirm.
        w.advance(days=1)
        await poll_bills(w)
        third = await w.run("finance")
        titles = sorted(a.payload["title"] for a in await mine(w, "notify.send") if a.proposer.run_id == third.id)
        assert titles == ["Due Thu 26 Nov: Phone 29.99 EUR", "Due Wed 25 Nov: Rent 950.00 EUR",
                          "Overdue: Electricity 84.20 EUR (due Fri 20 Nov)"]
        assert len(await mine(w, "bills.mark_paid")) == 2


async def test_a_paid_bill_is_left_alone_and_a_denied_confirmation_is_not_asked_again(tmp_path):
    async with world(tmp_path) as w:
        await poll_bills(w)
        await w.run("finance")
        paid = {a.payload["bill"]: a for a in await mine(w, "bills.mark_paid")}
        await w.executor.run_one(await w.desk.approve(paid["power"].id))
        assert (await w.store.actions.get(paid["power"].id)).status == "succeeded"
        await w.desk.deny(paid["rent"].id, reason="not paid yet")

        w.advance(days=1)
        await poll_bills(w)
        run = await w.run("finance")
        reminded = {a.payload["title"]: a for a in await mine(w, "notify.send") if a.proposer.run_id == run.id}
        assert sorted(reminded) == ["Due Thu 26 Nov: Phone 29.99 EUR", "Due Wed 25 Nov: Rent 950.00 EUR"]  # paid: no reminder
        rent = reminded["Due Wed 25 Nov: Rent 950.00 EUR"]
        assert rent.payload["body"].endswith("Pay at https://bank.example/rent, then record it: oxymus paid rent --due 2026-11-25")
        assert len(await mine(w, "bills.mark_paid")) == 2
        data, _ = await digest(w, "2026-11-24")
        entry = {(b.bill, b.due): b for b in data.bills}
        assert entry["rent", "2026-11-25"].mark_paid_status == "denied"
        assert ("power", "2026-11-20") not in entry  # a paid past due date drops out, as in the Today view


async def test_a_payment_the_person_already_proposed_is_not_proposed_again(tmp_path):
    async with world(tmp_path) as w:
        await poll_bills(w)
        mine_, _ = await w.desk.propose("bills.mark_paid", {"bill": "rent", "due": "2026-11-25", "amount": 1950}, reason="paid")
        assert mine_.status == "approved"  # the person's own record of a payment
        run = await w.run("finance")
        assert {a.payload["bill"] for a in await mine(w, "bills.mark_paid")} == {"power"}
        assert "1 payment to confirm" in run.summary


async def test_no_bills_or_none_due(tmp_path):
    async with AgentWorld(tmp_path, only=["finance"]) as w:
        run = await w.run("finance")
        assert run.outcome == "succeeded" and run.actions == []
        assert run.summary == "no bill overdue or due within 3 days; nothing to remind (0 tracked)"
        data, art = await digest(w)
        assert data.bills == [] and "No bills due" in art.content


async def test_remind_days_setting(tmp_path):
    config = '[bills]\nfile = "bills.toml"\nwindow_days = 30\n[agents.finance]\nremind_days = 0\n'
    async with AgentWorld(tmp_path, config_toml=config, files={"bills.toml": BILLS}, only=["finance"]) as w:
        await poll_bills(w)
        run = await w.run("finance")
        titles = [a.payload["title"] for a in await mine(w, "notify.send")]
        assert titles == ["Overdue: Electricity 84.20 EUR (due Fri 20 Nov)"]
        assert run.summary.startswith("1 reminder (1 overdue), 1 payment to confirm")
    with pytest.raises(ValueError):
        FinanceSettings(remind_days=-1)


async def test_the_llm_words_reminders_and_a_wrong_figure_is_refused(tmp_path, ollama_server):
    ollama_server.state.answer_next({"reminders": [
        {"id": "b1", "title": "Electricity is overdue", "body": "The 84.20 EUR for Electricity was due Fri 20 Nov; worth settling this morning."},
        {"id": "b2", "title": "Rent soon", "body": "Rent of 990 EUR is due on Wednesday."},  # a figure not in the facts
    ]})
    llm = Llm(LlmConfig(host=ollama_server.url, timeout_s=5, connect_timeout_s=1))
    async with world(tmp_path, llm=llm) as w:
        await poll_bills(w)
        run = await w.run("finance")
        assert run.llm_available is True and [c.outcome for c in run.llm] == ["ok"]
        notes = {a.payload["title"]: a for a in await mine(w, "notify.send")}
        power = notes["Electricity is overdue"]
        assert power.payload["body"] == ("The 84.20 EUR for Electricity was due Fri 20 Nov; worth settling this morning.\n"
                                         "Pay at https://pay.example/power, then approve “mark power due 2026-11-20 paid (84.20 EUR)” (oxymus approvals).")
        assert power.payload["urgency"] == "critical"  # urgency is the code's
        assert "Due Wed 25 Nov: Rent 950.00 EUR" in notes  # the wrong wording was not used
        # The LLM's wording of the overdue bill validated; the rent's did not, so its reminder is less sure.
        assert (power.confidence, notes["Due Wed 25 Nov: Rent 950.00 EUR"].confidence) == (0.9, 0.55)
        data, _ = await digest(w)
        assert {b.bill: b.worded_by for b in data.bills if b.reminder} == {"power": "llm", "rent": "rules", "phone": "rules"}
        [request] = ollama_server.state.inference()
        assert "b1 | Electricity, 84.20 EUR, was due Fri 20 Nov: 3 days overdue." in request.user_text
        # Re-run the same day: nothing to remind, so nothing to word.
        again = await w.run("finance")
        assert again.llm == [] and len(ollama_server.state.inference()) == 1


async def test_an_invalid_llm_answer_keeps_the_plain_reminders(tmp_path, ollama_server):
    ollama_server.state.answer_next("no JSON here")
    llm = Llm(LlmConfig(host=ollama_server.url, timeout_s=5, connect_timeout_s=1))
    async with world(tmp_path, llm=llm) as w:
        await poll_bills(w)
        run = await w.run("finance")
        assert [c.outcome for c in run.llm] == ["error"] and run.llm_available is True
        titles = sorted(a.payload["title"] for a in await mine(w, "notify.send"))
        assert titles[0] == "Due Thu 26 Nov: Phone 29.99 EUR" and len(titles) == 3
