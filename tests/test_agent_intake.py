"""Intake: a real Maildir (stdlib `mailbox`) and captures become lead records through the policy
plane, deduplicated, each with its message as provenance and link, and one reply draft per new
lead, sent over a real SMTP server on loopback once approved."""

from __future__ import annotations

import asyncio
import datetime as dt
import mailbox
from pathlib import Path
from email.message import EmailMessage
from email.utils import format_datetime

import json

from agent_harness import AgentWorld
from conftest import DaemonProcess, run_cli, wait_for, write_config
from ollama_server import ollama_server  # noqa: F401
from smtp_helpers import Inbox, Server

from oxymus.agents.intake import names_differ
from oxymus.agents.llm import Llm
from oxymus.profile.config import LlmConfig

NOW = dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.timezone.utc)


def mail(box: mailbox.Maildir, msgid: str, sender: str, subject: str, body: str, *, refs: str | None = None,
         headers: dict[str, str] | None = None) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "Me <me@studio.example>", subject
    msg["Message-ID"], msg["Date"] = msgid, format_datetime(NOW - dt.timedelta(hours=1))
    if refs:
        msg["References"] = refs
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    box.add(msg)


def maildir(tmp_path) -> tuple[str, mailbox.Maildir]:
    path = tmp_path / "Mail" / "INBOX"
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path), mailbox.Maildir(str(path), create=True)


def config(path: str, smtp_port: int = 2525) -> str:
    return (f'[agents.intake]\nmaildir = "{path}"\nsignature = "Me"\n'
            f'[mail]\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp_port}\nsecurity = "none"\nfrom = "Me <me@studio.example>"\n')


def files_under(path: str) -> dict[str, bytes]:
    import os

    out = {}
    for root, _dirs, names in os.walk(path):
        for name in names:
            with open(os.path.join(root, name), "rb") as fh:
                out[os.path.join(root, name)] = fh.read()
    return out


async def test_three_emails_two_leads_links_one_draft_each_and_nothing_reread(tmp_path, home):
    path, box = maildir(tmp_path)
    mail(box, "<m1@acme.test>", "Ana Ruiz <ana@acme.test>", "Workshop in March",
         "Hi,\n\nAcme would like a two-day workshop on design systems in March. Our budget is 5k EUR.\n\nBest regards,\nAna Ruiz\nAcme GmbH\n")
    mail(box, "<m2@beta.test>", "Bo Lind <bo@beta.test>", "Website rebuild",
         "Hello, we are looking for a rebuild of our website. Budget around 12000 EUR.\n\nThanks,\nBo\n")
    mail(box, "<m3@acme.test>", "Ana Ruiz <a.ruiz@acme.test>", "Re: Workshop in March",
         "One more thing: we are 12 people.\n\nAna", refs="<m1@acme.test>")
    before = files_under(path)
    inbox = Inbox()
    with Server(inbox) as smtp:
        async with AgentWorld(tmp_path / "w", config_toml=config(path, smtp.port), only=["intake"], now=NOW) as w:
            run = await w.run("intake")
            assert run.outcome == "succeeded", run.error
            assert w.runtime.cpu.started == 1, "the Maildir is read in the runtime's worker process"
            proposed = await w.actions(run)
            creates = [a for a in proposed if a.kind == "record.create"]
            replies = [a for a in proposed if a.kind == "email.send"]
            assert len(creates) == 2 and len(replies) == 1 + 1
            assert all(a.status == "awaiting_approval" for a in proposed), "an agent's records and mail wait for the person"
            acme = next(a for a in creates if a.payload["fields"].get("domain") == "acme.test")
            assert acme.payload["fields"]["name"] == "Ana Ruiz" and acme.payload["fields"]["budget"] == 5000
            assert acme.payload["ref"] == "<m1@acme.test>"
            assert {link["target_ref"] for link in acme.payload["links"]} == {"<m1@acme.test>", "<m3@acme.test>"}
            reply = next(a for a in replies if a.payload["to"] == ["Ana Ruiz <ana@acme.test>"])
            assert reply.payload["in_reply_to"] == "<m1@acme.test>" and reply.payload["references"] == ["<m1@acme.test>"]
            assert reply.payload["subject"] == "Re: Workshop in March" and reply.payload["body"].startswith("Hello Ana,")

            for action in proposed:
                await w.desk.approve(action.id, reason="fine")
            await w.execute_due()
            leads = await w.store.records.list(kind="lead")
            assert sorted(r.title for r in leads) == ["Ana Ruiz", "Bo Lind"]
            ana = next(r for r in leads if r.title == "Ana Ruiz")
            assert (ana.provenance.source, ana.provenance.ref) == ("connector", "<m1@acme.test>")
            starts = w.runtime.status_starts

            async def handled():  # both leads' first status, taken by the runtime's listener
                while starts.handled < 2:
                    await asyncio.sleep(0)
            await asyncio.wait_for(handled(), 30)  # an upper bound, never a pause
            [handoff] = await w.store.handoffs.of_record(ana.id)
            assert (handoff.by, handoff.from_status, handoff.to_status, handoff.to_agent, handoff.mode) == (
                "agent:intake", None, "new", None, "manual")  # approved by the person, taken over by nobody yet
            detail = await w.store.records.detail(ana.id)
            assert {(link.target_type, link.target_ref) for link in detail.links} == {("email", "<m1@acme.test>"), ("email", "<m3@acme.test>")}
            assert sorted(m[2]["In-Reply-To"] for m in inbox.messages) == ["<m1@acme.test>", "<m2@beta.test>"]

            again = await w.run("intake")
            assert again.outcome == "succeeded" and again.actions == []
            assert again.summary.startswith("0 new")
            # A later mail from the same address updates the lead, with a link, and drafts no reply.
            mail(box, "<m4@acme.test>", "Ana Ruiz <ana@acme.test>", "Dates", "Could we do 10 March?\n\nAna")
            third = await w.run("intake")
            [update] = await w.actions(third)
            assert update.kind == "record.update" and update.payload["id"] == ana.id
            assert update.payload["links"] == [{"target_type": "email", "target_ref": "<m4@acme.test>", "relation": "from"}]
    assert {k: v for k, v in files_under(path).items() if k in before} == before, "the Maildir is never changed"


async def test_lists_robots_and_your_own_mail_are_seen_but_never_leads(tmp_path, home):
    path, box = maildir(tmp_path)
    ask = "Hello, we would like a workshop in May. Budget 4k EUR.\n\nLea"
    mail(box, "<l1@lists.test>", "Lea Berg <lea@lists.test>", "[design] workshop?", ask, headers={"List-Id": "<design.lists.test>"})
    mail(box, "<l2@news.test>", "News <hello@news.test>", "Our May issue", ask, headers={"List-Unsubscribe": "<mailto:u@news.test>"})
    mail(box, "<l3@away.test>", "Kai Ost <kai@away.test>", "Out of office", ask, headers={"Auto-Submitted": "auto-replied"})
    mail(box, "<l4@shop.test>", "Shop <no-reply@shop.test>", "Your order", ask)
    mail(box, "<l5@studio.example>", "Me <me@studio.example>", "note to self", ask)
    mail(box, "<l6@real.test>", "Lea Berg <lea@real.test>", "Workshop in May", ask,
         headers={"Auto-Submitted": "no"})  # "no" is a person's mail, as RFC 3834 says
    async with AgentWorld(tmp_path / "w", config_toml=config(path), only=["intake"], now=NOW) as w:
        run = await w.run("intake")
        assert run.outcome == "succeeded", run.error
        [create] = [a for a in await w.actions(run) if a.kind == "record.create"]
        assert create.payload["ref"] == "<l6@real.test>"
        assert "5 from lists, robots or yourself skipped" in run.summary
        notes = run.summary
        for why in ("a mailing list", "a newsletter", "sent automatically", "from a no-reply address", "your own address"):
            assert f"1 message(s) not read as leads: {why}" in notes
        assert (await w.run("intake")).summary.startswith("0 new"), "skipped mail is seen: not read again"


async def test_a_company_with_more_mail_than_a_proposal_holds_is_one_lead_linking_first_and_latest(tmp_path, home):
    path, box = maildir(tmp_path)
    for i in range(130):
        mail(box, f"<c{i:03d}@big.test>", "Ana Ruiz <ana@big.test>", f"Project note {i}",
             "Hello, about the workshop we want in June. Budget 9k EUR.\n\nAna")
    async with AgentWorld(tmp_path / "w", config_toml=config(path), only=["intake"], now=NOW) as w:
        run = await w.run("intake")
        assert run.outcome == "succeeded", run.error
        [create] = [a for a in await w.actions(run) if a.kind == "record.create"]
        refs = [link["target_ref"] for link in create.payload["links"]]
        assert len(refs) == 100 and len(create.inputs) == 100
        assert refs[0] == create.payload["ref"] and len(set(refs)) == 100  # the first, then the latest 99 read
        assert create.payload["body"].startswith("130 messages; linked: the first and the latest 99.")
        assert create.payload["body"].count("Budget: 9000") == 1, "the same facts are said once"
        [ask] = [a for a in await w.actions(statuses=None) if a.kind == "notify.send"]
        assert ask.payload["title"] == "Approve? 2 requests from intake"


async def test_a_run_asks_once_for_all_its_requests_and_one_request_keeps_its_buttons(tmp_path, home):
    path, box = maildir(tmp_path)
    for i in range(26):
        mail(box, f"<n{i}@co{i}.test>", f"Person {i} <p{i}@co{i}.test>", f"Workshop {i}", "We would like a workshop in May.\n\nP")
    async with AgentWorld(tmp_path / "w", config_toml=config(path), only=["intake"], now=NOW) as w:
        run = await w.run("intake")
        waiting = await w.actions(run, ["awaiting_approval"])
        assert len(waiting) == 52  # a lead and a reply draft for each
        [ask] = [a for a in await w.actions(statuses=None) if a.kind == "notify.send"]
        assert ask.payload["title"] == "Approve? 52 requests from intake"
        assert ask.payload["body"].count("\n- ") == 4 and "and 47 more" in ask.payload["body"], ask.payload["body"]
        assert "decides" not in ask.payload or ask.payload["decides"] is None, "no Approve button decides 52 at once"
        facts = {f"approval:{a.id}:{a.updated_at}" for a in waiting}
        assert len(ask.payload["facts"]) == 50 and set(ask.payload["facts"]) <= facts  # what a notification holds

        await w.capture("lead: Acme wants a talk in June")
        single = await w.run("intake")
        [lead] = await w.actions(single)
        asks = [a for a in await w.actions(statuses=None) if a.kind == "notify.send" and a.id != ask.id]
        assert [a.payload["decides"] for a in asks] == [lead.id]
        assert [b["id"] for b in asks[0].payload["buttons"]] == ["approve", "deny"]


async def test_a_lead_capture_becomes_a_lead(tmp_path, home):
    async with AgentWorld(tmp_path, only=["intake"], now=NOW) as w:
        capture = await w.capture("lead: Acme wants a workshop in March, budget 5k")
        await w.capture("buy milk")
        run = await w.run("intake")
        [create] = await w.actions(run)
        assert create.kind == "record.create"
        fields = create.payload["fields"]
        assert fields["name"] == "Acme" and fields["budget"] == 5000 and "workshop" in fields["need"]
        assert create.payload["links"] == [{"target_type": "capture", "target_ref": capture.id, "relation": "from"}]
        await w.desk.approve(create.id, reason="yes")
        await w.execute_due()
        [lead] = await w.store.records.list(kind="lead")
        assert (lead.provenance.source, lead.provenance.ref, lead.status) == ("capture", capture.id, "new")
        assert (await w.run("intake")).actions == []  # a capture is read once
        more = await w.capture("lead: Acme wants a talk for their team too")
        [update] = await w.actions(await w.run("intake"))
        assert (update.kind, update.payload["id"]) == ("record.update", lead.id)
        assert update.payload["links"] == [{"target_type": "capture", "target_ref": more.id, "relation": "from"}]


async def test_with_the_llm_a_weak_extraction_is_improved_but_not_invented(tmp_path, home, ollama_server):  # noqa: F811
    path, box = maildir(tmp_path)
    mail(box, "<q1@northwind.test>", "info@northwind.test", "Question",
         "Hi there, we have been reading your blog. Analytics for our online shop is something we keep putting off. "
         "Northwind Traders could use a hand.\n\n-- \nSent from my phone")
    ollama_server.state.answer_next({"name": "Mary Jones", "company": "Northwind Traders", "need": "analytics for the online shop"})
    llm = Llm(LlmConfig(host=ollama_server.url, model="llama3.2", timeout_s=5, connect_timeout_s=1))
    async with AgentWorld(tmp_path / "w", config_toml=f'[agents.intake]\nmaildir = "{path}"\n', only=["intake"],
                          now=NOW, llm=llm) as w:
        run = await w.run("intake")
        [create] = [a for a in await w.actions(run) if a.kind == "record.create"]
        fields = create.payload["fields"]
        # By code alone: company "Northwind" (from the domain), need "Question" (the subject).
        assert fields["company"] == "Northwind Traders" and fields["need"] == "analytics for the online shop"
        assert fields["name"] != "Mary Jones", "a name the message does not say is not taken from the model"
        assert run.llm and run.llm[0].outcome == "ok"


def test_names_differ_only_when_they_share_no_word():
    assert names_differ("Ana Ruiz", "Bo Lind") and not names_differ("Ana Ruiz", "A. Ruiz") and not names_differ(None, "Bo")


def test_through_the_daemon_a_maildir_lead_is_proposed_approved_and_answered(tmp_path, profile):
    path, box = maildir(tmp_path)
    mail(box, "<d1@acme.test>", "Ana Ruiz <ana@acme.test>", "Workshop in March",
         "Hi,\n\nAcme would like a workshop on design systems in March. Our budget is 5k EUR.\n\nBest,\nAna Ruiz\n")
    inbox = Inbox()
    with Server(inbox) as smtp:
        write_config(profile, config(path, smtp.port))
        Path(profile.policy_file).write_text('[settings]\nundo_grace = "0s"\n')
        daemon = DaemonProcess(profile).start(timeout=30)
        try:
            def cli(*args):
                result = run_cli(*args)
                assert result.returncode == 0, result.stderr
                return result.stdout.decode()

            run = json.loads(cli("agents", "run", "intake", "--json"))
            assert run["outcome"] == "succeeded" and len(run["actions"]) == 2, run
            for action_id in run["actions"]:
                cli("approve", action_id)
            def settled():
                leads = json.loads(cli("records", "list", "--kind", "lead", "--json"))["records"]
                return leads if leads and inbox.messages else None
            [lead] = wait_for(settled, 30, what="the lead to be added and the reply sent")
            assert lead["title"] == "Ana Ruiz" and lead["fields"]["domain"] == "acme.test"
            [(_sender, rcpts, sent)] = inbox.messages
            assert rcpts == ["ana@acme.test"] and sent["In-Reply-To"] == "<d1@acme.test>"
            again = json.loads(cli("agents", "run", "intake", "--json"))
            assert again["actions"] == [] and again["summary"].startswith("0 new")
        finally:
            daemon.stop()


async def test_without_its_own_maildir_it_reads_the_mail_sections(tmp_path, home):
    path, box = maildir(tmp_path)
    mail(box, "<s1@gamma.test>", "Cy Berg <cy@gamma.test>", "Training", "We need a training for 8 people in April.\n\nCy")
    async with AgentWorld(tmp_path / "w", config_toml=f'[mail]\nmaildir = "{path}"\n', only=["intake"], now=NOW) as w:
        run = await w.run("intake")
        [create] = [a for a in await w.actions(run) if a.kind == "record.create"]
        assert create.payload["fields"]["email"] == "cy@gamma.test"
        assert "email.send not proposed" in run.summary  # no SMTP server set: no draft, and the run says so
    async with AgentWorld(tmp_path / "none", only=["intake"], now=NOW) as w:
        assert (await w.run("intake")).summary.startswith("0 new")  # no Maildir anywhere: captures only


async def test_a_request_made_after_a_run_by_a_task_it_started_is_asked_alone(tmp_path, home):
    from oxymus.actions.model import Proposer

    async with AgentWorld(tmp_path, only=["intake"], now=NOW) as w:
        later = asyncio.Event()
        tasks = []

        async def after():  # started inside the gathering, so it holds its context
            await later.wait()
            action, _ = await w.desk.propose("record.create", {"kind": "lead", "fields": {"name": "Late Lead"}},
                                             proposer=Proposer(type="agent", name="intake"), reason="late")
            return action

        async with w.desk.asking_once("intake"):
            tasks.append(asyncio.get_running_loop().create_task(after()))
        later.set()
        action = await tasks[0]
        assert action.status == "awaiting_approval"
        asks = [a for a in await w.actions(statuses=None) if a.kind == "notify.send"]
        assert [a.payload.get("decides") for a in asks] == [action.id], "asked at once, not lost in a closed gathering"
