"""`oxymus demo` seeds its own profile idempotently and starts its daemon."""

from __future__ import annotations

import json
import os

from conftest import run_cli
from oxymus import demo
from oxymus.demo_company import history, mail


def test_demo_seeds_a_separate_profile_and_starts_its_daemon(home):
    demo_home = home / "demo-profile"
    env = {**os.environ}
    env.pop("OXYMUS_HOME")
    first = run_cli("demo", "--home", str(demo_home), "--no-tui", env=env)
    assert first.returncode == 0, first.stderr
    assert f"({len(demo.SAMPLE_CAPTURES)} sample captures added)" in first.stdout.decode()
    demo_env = {**env, "OXYMUS_HOME": str(demo_home)}
    try:
        status = json.loads(run_cli("status", "--json", env=demo_env).stdout)
        assert status["running"] and status["database"] == str(demo_home / "data" / "oxymus.db")
        inbox = json.loads(run_cli("inbox", "--json", env=demo_env).stdout)
        assert len(inbox) == len(demo.SAMPLE_CAPTURES)
        assert [c["created_at"] for c in inbox] == sorted((c["created_at"] for c in inbox), reverse=True)
        # The consultancy: intake filed the three lead emails as records (its policy rule lets it), each
        # with a reply draft waiting; the client's project links it; five months of history are there.
        records = json.loads(run_cli("records", "list", "--json", env=demo_env).stdout)["records"]
        leads = [r for r in records if r["kind"] == "lead" and r["provenance"]["note"] != history.NOTE]
        assert sorted(r["fields"]["email"] for r in leads) == sorted(m.address for m in mail.LEAD_MAILS)
        assert all(r["status"] == "new" and r["provenance"]["source"] == "connector" for r in leads)
        project = next(r for r in records if r["kind"] == "project" and r["provenance"]["note"] == "demo data")
        client = next(r for r in records if r["kind"] == "client" and r["provenance"]["note"] == "demo data")
        assert project["fields"]["client"] == client["id"]
        # The walk-through: research briefed the idea, the editor fixed the draft and moved it to edited (the
        # demo's policy lets both), and the agent graph started the publisher on it: its flow waits.
        posts = {r["status"]: r for r in records if r["kind"] == "post" and r["provenance"]["note"] == "demo data"}
        assert set(posts) == {"brief", "edited"}, {k: v["title"] for k, v in posts.items()}
        with open(posts["edited"]["fields"]["path"], encoding="utf-8") as fh:
            fixed = fh.read()
        assert "utilize" not in fixed and "Teams that use a table" in fixed, "the editor's patch was applied"
        brief = run_cli("records", "show", posts["brief"]["id"], env=demo_env).stdout.decode()
        assert "## From the notes" in brief and "[notes/topics/content-retainers.md:3-5]" in brief, brief
        replies = [a for a in json.loads(run_cli("approvals", "--json", env=demo_env).stdout) if a["kind"] == "email.send"]
        assert sorted(a["proposer"]["name"] for a in replies) == ["intake"] * 3
        out = " ".join(first.stdout.decode().split())  # lines wrap at the terminal's width
        assert "intake filed 3 lead(s)" in out and "3 reply draft(s) wait for your yes" in out, out
        metrics = json.loads(run_cli("metrics", "--json", env=demo_env).stdout)
        handoffs = next(m for m in metrics["metrics"] if m["key"] == "handoffs.all")
        assert sum(1 for v in handoffs["months"] if v["count"]) >= 4 and handoffs["improving"], handoffs
        # Refreshing adds nothing twice, and keeps what the user captured in the demo.
        assert run_cli("capture", "my own note in the demo", env=demo_env).returncode == 0
        again = run_cli("demo", "--home", str(demo_home), "--no-tui", env=env)
        assert again.returncode == 0 and "(0 sample captures added)" in again.stdout.decode()
        inbox = json.loads(run_cli("inbox", "--json", env=demo_env).stdout)
        assert len(inbox) == len(demo.SAMPLE_CAPTURES) + 1
        assert "(0 memory records added)" in again.stdout.decode()
        assert "0 lead email(s), 0 note(s), 0 record(s) and 0 past record(s)" in " ".join(again.stdout.decode().split())
        after = json.loads(run_cli("records", "list", "--json", env=demo_env).stdout)["records"]
        assert sorted(r["id"] for r in after) == sorted(r["id"] for r in records), "no record twice, no lead twice"
        # Every agent ran: a day plan, triage suggestions, and the next post waiting to be published.
        assert "publisher: succeeded" in first.stdout.decode(), first.stdout.decode()
        plans_made = json.loads(run_cli("artifacts", "day_plan", "--json", env=demo_env).stdout)
        assert plans_made and "## Top three" in plans_made[0]["content"]
        suggested = json.loads(run_cli("inbox", "--json", env=demo_env).stdout)
        assert any(c.get("suggestion") for c in suggested), suggested[:2]
        waiting = json.loads(run_cli("approvals", "--json", env=demo_env).stdout)
        publish = [a for a in waiting if a["kind"] == "flow" and a["proposer"]["name"] == "publisher"]
        # One flow: an edited post record comes before PLANS.md's publishing order.
        assert len(publish) == 1 and "push the commit made before it in this flow to origin/main" in publish[0]["preview"]["body"]
        assert posts["edited"]["id"] in publish[0]["idempotency_key"], publish[0]["idempotency_key"]
        assert "publisher: one flow waits for your yes to publish it" in out, out
        budget = json.loads(run_cli("memory", "budget", "--json", env=demo_env).stdout)
        assert len(budget["records"]) == sum(1 for m in demo.SAMPLE_MEMORY if m[1] == "hot")
        plans = json.loads(run_cli("plans", "--json", env=demo_env).stdout)["document"]
        assert plans["goals"] and plans["actions"] and [p["status"] for p in plans["proposals"]][:2] == ["published", "draft"]
        run_cli("refresh", env=demo_env)
        today = json.loads(run_cli("today", "--json", env=demo_env).stdout)
        assert {s["source"]: s["status"] for s in today["sources"]} == {"bills": "ok", "calendar.personal": "ok", "git": "ok"}
        assert [e["summary"] for e in today["events"]][0] == "PyCon DE (remote talks)", "the all-day event comes first"
        assert any(e["recurring"] for e in today["events"]), "the weekly standup"
        assert {b["status"] for b in today["bills"]} >= {"overdue", "upcoming"}
        assert {r["name"] for r in today["repos"]} == {"blog", "website"}
    finally:
        run_cli("down", env=demo_env)
    assert not (home / "data").exists(), "the demo never touches the other profile"


def test_demo_says_when_its_policy_holds_the_leads(home):
    """A demo profile whose policy.toml predates the intake rule: the leads wait for approval, and the
    demo says so at once instead of waiting for records that will not come by themselves."""
    from oxymus.actions.policy import EXAMPLE

    demo_home = home / "demo-held"
    (demo_home / "config").mkdir(parents=True)
    (demo_home / "config" / "policy.toml").write_text(EXAMPLE)
    env = {**os.environ}
    env.pop("OXYMUS_HOME")
    demo_env = {**env, "OXYMUS_HOME": str(demo_home)}
    try:
        done = run_cli("demo", "--home", str(demo_home), "--no-tui", env=env)
        assert done.returncode == 0, done.stderr
        out = " ".join(done.stdout.decode().split())
        assert "intake filed 0 lead(s)" in out and "3 lead(s) wait for your yes before they are filed" in out, out
        waiting = json.loads(run_cli("approvals", "--json", env=demo_env).stdout)
        assert sorted(a["kind"] for a in waiting if a["proposer"]["name"] == "intake") == ["email.send"] * 3 + ["record.create"] * 3
    finally:
        run_cli("down", env=demo_env)
