"""Flows as transactions, and a policy that judges what an action does.

Real parts: git repositories with a bare remote, PLANS.md kept by the daemon's keeper,
the real desk and executor on an SQLite file (tests/agent_harness.py), and for the CLI
cases the real daemon process. Crash tests of flows are in tests/test_crash.py.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from agent_harness import AgentWorld
from conftest import DaemonProcess, run_cli, write_config
from git_helpers import git, isolated_git  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_policy_properties import rules

from oxymus.actions import policy as pol
from oxymus.actions.errors import ActionError
from oxymus.actions.model import Proposer
from oxymus.connectors.git import GitConfig
from oxymus.connectors.git.actions import GitCommitSpec, GitPushSpec
from oxymus.plans.edit_action import PlansEditSpec

PLANS = "# Work\n\n## Next actions\n\n- [ ] write the report\n- [ ] call Ana\n"
DENY_PUSH = """\
[settings]
undo_grace = "0s"

[[rule]]
name = "never push to main from an agent"
kind = "git.push"
by = "agent"
match = { branch = "main" }
outcome = "deny"
"""


@pytest.fixture(autouse=True)
def _git(isolated_git):
    pass


def repo_with_remote(tmp_path: Path) -> tuple[Path, Path]:
    remote, work = tmp_path / "origin.git", tmp_path / "work"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(tmp_path, "clone", "-q", str(remote), str(work))
    (work / "base.txt").write_text("base\n")
    git(work, "add", "base.txt")
    git(work, "commit", "-q", "-m", "base")
    git(work, "push", "-q", "-u", "origin", "main")
    return remote, work


def world(tmp_path: Path, work: Path, policy: str = '[settings]\nundo_grace = "0s"\n') -> AgentWorld:
    return AgentWorld(tmp_path / "world", config_toml=f'[git]\nrepos = ["{work}"]\n', plans=PLANS, policy=policy)


def flow_payload(work: Path, key: str, plans_step: dict | None = None, push: bool = True) -> dict:
    (work / "report.txt").write_text("the report\n")
    steps = [{"kind": "git.commit", "payload": {"repo": str(work), "paths": ["report.txt"], "message": "add the report"}}]
    if push:
        steps.append({"kind": "git.push", "payload": {"repo": str(work), "remote": "origin", "branch": "main",
                                                      "commit_key": f"{key}:step:1"}})
    steps.append({"kind": "plans.edit", "payload": plans_step or {"op": "set_done", "action_id": "817c5ff6ab19"}})
    return {"title": "Ship the report", "steps": steps}


async def approve_if_asked(w: AgentWorld, flow) -> None:
    """The person's own commit and PLANS.md edit are allowed by default; a push asks."""
    if flow.status == "awaiting_approval":
        await w.desk.approve(flow.id)


async def step_by_step(w: AgentWorld, times: int) -> None:
    """Run the first due action, `times` times: the flow's turns one at a time."""
    for _ in range(times):
        [first, *_] = await w.store.actions.due(w.desk.now_iso())
        await w.executor.run_one(first)


# ------------------------------------------------------------------ proposing


async def test_a_flow_is_one_request_whose_steps_wait_and_a_bad_step_refuses_it_whole(tmp_path):
    remote, work = repo_with_remote(tmp_path)
    async with world(tmp_path, work) as w:
        flow, created = await w.desk.propose("flow", flow_payload(work, "f1"), proposer=Proposer(type="agent", name="bot"), key="f1")
        assert created and flow.status == "awaiting_approval" and flow.risk == "high"
        steps = await w.store.actions.flow_actions(flow.id)
        assert [(s.step, s.kind, s.status) for s in steps] == [(1, "git.commit", "proposed"), (2, "git.push", "proposed"),
                                                               (3, "plans.edit", "proposed")]
        assert [d.outcome for d in flow.decision.effects] == ["require_approval", "require_approval", "require_approval"]
        assert flow.preview.body.startswith("3 steps, run in order:\n  1. commit 1 file in")
        assert "(cannot be taken back)" in flow.preview.body.splitlines()[2]
        assert "── step 3: PLANS.md: mark 817c5ff6ab19 done" in flow.preview.body  # each step's own preview follows
        assert await w.store.actions.list(["awaiting_approval"]) == [flow]  # one request, not three

        bad = flow_payload(work, "f2", plans_step={"op": "set_done"})
        with pytest.raises(ActionError, match=r"flow: step 3: plans.edit: payload.action_id: set_done needs"):
            await w.desk.propose("flow", bad, key="f2")
        with pytest.raises(ActionError, match=r"flow: step 1: unknown action kind 'mail.send'"):
            await w.desk.propose("flow", {"title": "x", "steps": [{"kind": "mail.send", "payload": {}}]})
        with pytest.raises(ActionError, match=r"cannot edit flow"):
            await w.desk.approve(flow.id, payload={"title": "y", "steps": []})
        assert await w.store.actions.by_key("f2") is None


# ------------------------------------------------------------------ running and taking back


async def test_a_flow_runs_its_steps_in_order_on_one_approval(tmp_path):
    remote, work = repo_with_remote(tmp_path)
    async with world(tmp_path, work) as w:
        flow, _ = await w.desk.propose("flow", flow_payload(work, "f1"), key="f1")
        await w.desk.approve(flow.id)
        await w.execute_due()
        flow = await w.store.actions.get(flow.id)
        assert flow.status == "succeeded" and flow.receipt.summary == "all 3 steps done"
        assert [s.status for s in await w.store.actions.flow_actions(flow.id)] == ["succeeded"] * 3
        assert git(remote, "rev-parse", "main") == git(work, "rev-parse", "HEAD")
        assert git(remote, "log", "-1", "--format=%s", "main") == "add the report"
        assert "- [x] call Ana" in w.plans_path.read_text()


async def test_a_step_that_cannot_be_taken_back_stops_the_flow_with_what_is_left_to_do_by_hand(tmp_path):
    remote, work = repo_with_remote(tmp_path)
    async with world(tmp_path, work) as w:
        flow, _ = await w.desk.propose("flow", flow_payload(work, "f1"), key="f1")  # the PLANS.md edit is pinned to the file
        await approve_if_asked(w, flow)
        await step_by_step(w, 3)  # start, commit, push
        w.plans_path.write_text(PLANS + "- [ ] a line added by hand\n")  # the file moves on: the edit is refused
        await w.reload_plans()
        await w.execute_due()

        flow = await w.store.actions.get(flow.id)
        commit_, push, edit = await w.store.actions.flow_actions(flow.id)
        assert (flow.status, commit_.status, push.status, edit.status) == ("failed", "succeeded", "succeeded", "failed")
        sha = git(work, "rev-parse", "HEAD")
        assert flow.error.startswith("step 3 (plans.edit) failed: ") and "changed on disk" in flow.error
        assert "Could not take back step 2 (git.push): git.push cannot be taken back by Oxymus." in flow.error
        assert (f"Left to do by hand: step 2 (git.push) pushed {sha[:7]} to origin/main; "
                f"step 1 (git.commit) committed {sha[:7]} in {work}: add the report.") in flow.error
        assert git(remote, "rev-parse", "main") == sha  # nothing forced back
        problems = await w.store.audit.query(problems=True)
        assert [(e.subject, e.verb) for e in problems if e.subject == flow.id] == [(flow.id, "action.failed")]


async def test_a_commit_is_not_taken_back_when_its_branch_moved_on(tmp_path):
    remote, work = repo_with_remote(tmp_path)
    async with world(tmp_path, work) as w:
        flow, _ = await w.desk.propose("flow", flow_payload(work, "f1", push=False), key="f1")
        await approve_if_asked(w, flow)
        await step_by_step(w, 2)  # start, commit
        (work / "notes.txt").write_text("mine\n")  # the person commits on top meanwhile
        git(work, "add", "notes.txt")
        git(work, "commit", "-q", "-m", "my own work")
        mine = git(work, "rev-parse", "HEAD")
        w.plans_path.write_text(PLANS.replace("call Ana", "call Ana today"))
        await w.reload_plans()
        await w.execute_due()

        flow = await w.store.actions.get(flow.id)
        assert flow.status == "failed"
        assert "Could not take back step 1 (git.commit): main in" in flow.error and "moved on since" in flow.error
        assert "revert it by hand if it should go" in flow.error
        assert git(work, "rev-parse", "HEAD") == mine  # the person's commit is untouched


async def test_taking_back_a_commit_restores_the_branch_index_and_files_it_wrote(tmp_path):
    remote, work = repo_with_remote(tmp_path)
    (work / "kept.txt").write_text("old\n")
    git(work, "add", "kept.txt")
    git(work, "commit", "-q", "-m", "kept")
    base = git(work, "rev-parse", "HEAD")
    (work / "mine.txt").write_text("the person's edit\n")  # an uncommitted change of the person's
    async with world(tmp_path, work) as w:
        payload = {"title": "Write two files", "steps": [
            {"kind": "git.commit", "payload": {"repo": str(work), "message": "write",
                                               "files": {"new.txt": "new\n", "kept.txt": "replaced\n"}}},
            {"kind": "plans.edit", "payload": {"op": "set_done", "action_id": "817c5ff6ab19"}},
        ]}
        flow, _ = await w.desk.propose("flow", payload, key="f1")
        await approve_if_asked(w, flow)
        await step_by_step(w, 2)
        assert (work / "kept.txt").read_text() == "replaced\n" and git(work, "rev-parse", "HEAD") != base
        w.plans_path.write_text(PLANS + "\n")
        await w.reload_plans()
        await w.execute_due()

        flow = await w.store.actions.get(flow.id)
        assert flow.status == "compensated", flow.error
        assert git(work, "rev-parse", "HEAD") == base
        assert (work / "kept.txt").read_text() == "old\n" and not (work / "new.txt").exists()
        assert git(work, "status", "--porcelain") == "?? mine.txt"  # the person's own change is left alone
        [undo] = [a for a in await w.store.actions.flow_actions(flow.id) if a.compensates]
        assert undo.receipt.summary.startswith("took back ") and undo.proposer.label() == "system:flow"
        assert undo.decision.rule == "built-in: take back a done step of a flow that failed"


# ------------------------------------------------------------------ the policy judges effects


def _commit_payload(branch: str) -> dict:
    return {"repo": "/r", "paths": ["a"], "message": "m", "digest": "0" * 64,
            "push": {"remote": "origin", "branch": branch}}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_dicts=st.lists(rules(), max_size=5), branch=st.sampled_from(["main", "dev", "feature/x"]),
       by=st.sampled_from(["user", "agent", "system"]), confidence=st.one_of(st.none(), st.floats(0, 1)))
def test_an_action_is_never_judged_more_leniently_than_each_effect_it_performs_alone(rule_dicts, branch, by, confidence):
    policy = pol.Policy(pol.PolicyFile.model_validate({"rule": rule_dicts}))
    config = GitConfig(repos=["/r"])
    specs = {"git.commit": GitCommitSpec(config), "git.push": GitPushSpec(config), "plans.edit": PlansEditSpec()}
    proposer = Proposer(type=by, name="bot" if by == "agent" else by)
    at = dt.datetime(2026, 12, 6, 12, tzinfo=dt.timezone.utc)
    common = {"proposer": proposer, "confidence": confidence, "at": at, "zone": "UTC"}
    commit = specs["git.commit"].parse(_commit_payload(branch))
    together = pol.decide_all(policy, pol.effect_requests(specs["git.commit"], specs, commit, **common))
    for kind, effect in specs["git.commit"].performs(commit):
        alone = pol.decide_all(policy, pol.effect_requests(specs[kind], specs, specs[kind].parse(effect), **common))
        assert pol.STRICTNESS[together.outcome] >= pol.STRICTNESS[alone.outcome], (kind, together, alone)
    # A flow is judged step by step: never more leniently than any step alone.
    edit = specs["plans.edit"].parse({"op": "add_action", "text": "x"})
    steps = [(specs["git.commit"], commit), (specs["plans.edit"], edit)]
    flow = pol.decide_all(policy, [r for i, (spec, p) in enumerate(steps, 1)
                                   for r in pol.effect_requests(spec, specs, p, label=f"step {i}: ", **common)])
    for spec, p in steps:
        alone = pol.decide_all(policy, pol.effect_requests(spec, specs, p, **common))
        assert pol.STRICTNESS[flow.outcome] >= pol.STRICTNESS[alone.outcome]


@pytest.mark.slow
def test_policy_explain_sees_the_push_inside_a_commit(profile, tmp_path):
    """The issue's case: `never push to main from an agent` now stops the publisher's commit that pushes."""
    remote, work = repo_with_remote(tmp_path)
    (work / "post.md").write_text("hello\n")
    write_config(profile, f'[git]\nrepos = ["{work}"]\ninterval = 3600\n', policy_toml=DENY_PUSH)
    payload = json.dumps({"repo": str(work), "paths": ["post.md"], "message": "Publish",
                          "push": {"remote": "origin", "branch": "main"}})
    daemon = DaemonProcess(profile).start()
    try:
        r = run_cli("policy", "explain", "git.commit", "--payload", payload, "--agent", "publisher")
        out = r.stdout.decode()
        assert r.returncode == 0, r.stderr.decode()
        assert "decision: deny by 'never push to main from an agent' (for git.push)" in out, out
        assert "each effect alone: git.commit -> require_approval; git.push -> deny (the strictest decides)" in out
        r = run_cli("policy", "explain", "git.commit", "--payload", payload)  # the person's own: no agent rule applies
        assert "decision: require_approval by 'default: side effects need your approval' (for git.push)" in r.stdout.decode()

        # A flow proposed from the command line: one request, explained step by step.
        flow = {"title": "Publish the post", "steps": [
            {"kind": "git.commit", "payload": {"repo": str(work), "paths": ["post.md"], "message": "Publish"}},
            {"kind": "git.push", "payload": {"repo": str(work), "remote": "origin", "branch": "main", "commit_key": "cli-flow:step:1"}},
        ]}
        r = run_cli("propose", "flow", "--payload", json.dumps(flow), "--key", "cli-flow", "--json")
        assert r.returncode == 0, r.stderr.decode()
        action = json.loads(r.stdout)
        assert action["kind"] == "flow" and action["status"] == "awaiting_approval"
        assert run_cli("approve", action["id"]).returncode == 0
        from conftest import wait_for

        wait_for(lambda: json.loads(run_cli("explain", action["id"], "--json").stdout)["action"]["status"] == "succeeded", 30,
                 what="the flow to run")
        text = run_cli("explain", action["id"]).stdout.decode()
        assert "Steps:\n  1." in text and "committed" in text and "pushed" in text
        assert git(remote, "log", "-1", "--format=%s", "main") == "Publish"
    finally:
        daemon.stop()
