"""Crash tests: the daemon is killed with SIGKILL while it executes actions, restarted, and
every side effect is then found to have happened exactly once, none dropped.

Two ways to die:
- at a named point in the executor (`OXYMUS_FAULT_KILL=point:n`, see oxymus/kernel/faults.py):
  `executor.effect_done` (the effect happened, its receipt is not stored yet) and
  `executor.marked_executing` (the action is marked executing, the effect not started);
- from outside, at seeded random moments, in several rounds.

The effects are real: git commits in a repository, pushes to a local bare remote,
events on a real Radicale server. Counts are taken from the repository, the bare
remote and the server, never from the daemon's own records. Restarts are without
the fault variable, and every wait polls for a state with a deadline.

The policy requires approval for git and calendar actions (the person's own commits
would otherwise run at proposal time) and denies notify.send, so the approval
requests do not become desktop notifications: the only effects the executor
performs, and the only ones the fault points count, are the test's own.
"""

from __future__ import annotations

import collections
import datetime as dt
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from conftest import DaemonProcess, run_cli, wait_for, write_config
from git_helpers import git, isolated_git  # noqa: F401

from oxymus.client.sync_client import DaemonUnavailable

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")]

POLICY = """\
[settings]
undo_grace = "0s"

[[rule]]
name = "no desktop notifications in crash tests"
kind = "notify.*"
outcome = "deny"

[[rule]]
name = "crash tests approve each action"
kind = ["git.*", "calendar.*"]
outcome = "require_approval"
"""

COMMITS = 6
SETTLE = 60.0  # seconds: generous, a 2-core machine runs other tests too
INTERRUPTED = "interrupted"


# ---------------------------------------------------------------- daemons that die


class Daemons:
    """Starts daemons on one profile, with or without a fault point, and stops what is left at the end."""

    def __init__(self, profile, monkeypatch):
        self.profile = profile
        self.monkeypatch = monkeypatch
        self.started: list[DaemonProcess] = []

    def start(self, fault: str | None = None) -> DaemonProcess:
        if fault:
            self.monkeypatch.setenv("OXYMUS_FAULT_KILL", fault)
        else:
            self.monkeypatch.delenv("OXYMUS_FAULT_KILL", raising=False)
        try:
            d = DaemonProcess(self.profile)
            self.started.append(d)
            return d.start(timeout=30)
        finally:
            self.monkeypatch.delenv("OXYMUS_FAULT_KILL", raising=False)

    def killed(self, d: DaemonProcess, timeout: float = SETTLE) -> None:
        """Wait for `d` to die of SIGKILL (its fault point, or the test's own kill)."""
        assert d.proc is not None
        try:
            rc = d.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the daemon did not die within {timeout:g}s; stderr:\n{d.stderr[-3000:]}") from None
        d.stderr_file.close()
        assert rc == -signal.SIGKILL, f"the daemon exited with {rc}, not by SIGKILL:\n{d.stderr[-3000:]}"

    def kill(self, d: DaemonProcess) -> None:
        d.signal(signal.SIGKILL)
        self.killed(d, 10)

    def close(self) -> None:
        for d in self.started:
            d.stop()
            if not d.stderr_file.closed:
                d.stderr_file.close()


@pytest.fixture
def daemons(profile, monkeypatch):
    ds = Daemons(profile, monkeypatch)
    yield ds
    ds.close()


def propose_and_approve(d: DaemonProcess, kind: str, items: list[tuple[str, dict]]) -> list[str]:
    """Propose (key, payload) items and approve them all, then let the executor go: ids in proposal order.

    Automation is paused meanwhile, so that the batch is complete before anything runs
    (and before a fault point can kill the daemon under the test's feet). The resume's
    reply may be lost: the daemon can reach its fault point before writing it.
    """
    with d.client() as conn:
        conn.call("pause.set", {"reason": "crash test: queueing a batch"})
        proposed = conn.pipeline([("actions.propose", {"kind": kind, "payload": p, "key": k}) for k, p in items])
        ids = [r["action"]["id"] for r in proposed]
        assert all(r["action"]["status"] == "awaiting_approval" for r in proposed), [r["action"]["status"] for r in proposed]
        approved = conn.pipeline([("actions.approve", {"id": i, "via": "script"}) for i in ids])
        assert [r["action"]["status"] for r in approved] == ["approved"] * len(ids)
        try:
            assert conn.call("pause.clear")["expired"] == 0
        except DaemonUnavailable:
            assert d.proc.poll() is not None or d.proc.wait(10) == -signal.SIGKILL
    return ids


def statuses(d: DaemonProcess, ids: list[str]) -> dict[str, str]:
    with d.client() as conn:
        actions = conn.call("actions.list", {"limit": 5000})["actions"]
    return {a["id"]: a["status"] for a in actions if a["id"] in ids}


def wait_succeeded(d: DaemonProcess, ids: list[str], timeout: float = SETTLE) -> None:
    """Until every action in `ids` has succeeded; fails at once if one fails or the daemon dies."""

    def done() -> bool:
        if d.proc.poll() is not None:
            raise AssertionError(f"the daemon exited with {d.proc.returncode}:\n{d.stderr[-3000:]}")
        now = statuses(d, ids)
        bad = {i: s for i, s in now.items() if s not in ("approved", "executing", "succeeded")}
        if bad:
            with d.client() as conn:
                errors = {i: conn.call("actions.get", {"id": i})["action"]["error"] for i in bad}
            raise AssertionError(f"actions ended badly: {bad}: {errors}\n{d.stderr[-4000:]}")
        return len(now) == len(ids) and all(s == "succeeded" for s in now.values())

    wait_for(done, timeout, interval=0.05, what=f"{len(ids)} actions to succeed")


def stored_statuses(profile) -> dict[str, str]:
    """The actions' statuses as the dead daemon left them in the database file."""
    con = sqlite3.connect(f"file:{profile.db_file}?mode=ro", uri=True)
    try:
        return dict(con.execute("SELECT id, status FROM actions"))
    finally:
        con.close()


def details(d: DaemonProcess, ids: list[str]) -> dict[str, dict]:
    with d.client() as conn:
        return {i: conn.call("actions.get", {"id": i}) for i in ids}


def interruptions(detail: dict) -> list[dict]:
    """The audit lines where a restart found the action `executing` and put it back."""
    return [e for e in detail["history"] if e["subject"] == detail["action"]["id"] and e["verb"] == "action.approved"
            and e["details"].get("from") == "executing" and INTERRUPTED in e["details"].get("reason", "")]


def check_receipts(found: dict[str, dict], interrupted: str | None, after_effect: bool) -> None:
    """One receipt per action; only the interrupted one was attempted twice, and says
    `already_done` exactly when the crash came after its effect."""
    for action_id, detail in found.items():
        receipts = detail["receipts"]
        assert len(receipts) == 1, (action_id, receipts)
        if action_id == interrupted:
            assert len(interruptions(detail)) == 1, detail["history"]
            assert detail["action"]["attempts"] == 2
            assert (receipts[0]["attempt"], receipts[0]["already_done"]) == (2, after_effect), receipts
        else:
            assert interruptions(detail) == [], detail["history"]
            assert (detail["action"]["attempts"], receipts[0]["attempt"], receipts[0]["already_done"]) == (1, 1, False)


# ---------------------------------------------------------------- git


def trailer_keys(repo: Path, rev: str = "HEAD") -> list[str]:
    """The Oxymus-Action trailer of every commit reachable from `rev`, newest first ('' for none)."""
    out = git(repo, "log", "--format=%x00%(trailers:key=Oxymus-Action,valueonly)", rev)
    return [chunk.strip() for chunk in out.split("\x00")[1:]]


def committed_files(repo: Path, rev: str = "HEAD") -> collections.Counter:
    """How many commits touched each file."""
    return collections.Counter(line for line in git(repo, "log", "--name-only", "--format=", rev).splitlines() if line)


@pytest.fixture
def git_world(home, profile, isolated_git):
    """A work repository with a bare `origin` (one commit on main), configured; no gitconfig from the machine."""
    remote, work = home / "origin.git", home / "work"
    git(home, "init", "-q", "--bare", str(remote))
    git(home, "clone", "-q", str(remote), str(work))
    (work / "base.txt").write_text("base\n")
    git(work, "add", "base.txt")
    git(work, "commit", "-q", "-m", "base")
    git(work, "push", "-q", "-u", "origin", "main")
    write_config(profile, f'[git]\nrepos = ["{work}"]\ninterval = 3600\n', policy_toml=POLICY)
    return work, remote


def commit_items(work: Path, n: int, prefix: str = "c") -> list[tuple[str, dict]]:
    """n new files written in `work`, and a git.commit of each on its own."""
    items = []
    for i in range(n):
        name = f"{prefix}{i}.txt"
        (work / name).write_text(f"file {i}\n")
        items.append((f"crash-{prefix}{i}", {"repo": str(work), "paths": [name], "message": f"add {name}"}))
    return items


def push_item(work: Path, key: str, commit: str | None = None) -> tuple[str, dict]:
    payload = {"repo": str(work), "remote": "origin", "branch": "main"}
    if commit:
        payload["commit"] = commit
    return key, payload


def check_exactly_once(work: Path, remote: Path, keys: list[str], files: list[str]) -> None:
    """Each key's commit exactly once, in the work repo and on the remote, each file committed once."""
    for repo in (work, remote):
        found = [k for k in trailer_keys(repo, "main") if k]
        assert sorted(found) == sorted(keys), (repo, found)
        assert int(git(repo, "rev-list", "--count", "main")) == 1 + len(keys)
        counts = committed_files(repo, "main")
        assert {f: counts[f] for f in files} == {f: 1 for f in files}
    assert git(remote, "rev-parse", "main") == git(work, "rev-parse", "main")


@pytest.mark.parametrize("fault", [
    "executor.effect_done:1",
    "executor.effect_done:4",
    f"executor.effect_done:{COMMITS + 1}",  # the push
    "executor.marked_executing:3",
])
def test_git_commits_and_a_push_happen_exactly_once_across_a_kill_at_a_fault_point(git_world, profile, daemons, fault):
    work, remote = git_world
    point, _, n = fault.partition(":")
    k = int(n)
    after_effect = point == "executor.effect_done"
    items = commit_items(work, COMMITS)
    d = daemons.start(fault)
    commits = propose_and_approve(d, "git.commit", items)
    push: list[str] = []
    if k > COMMITS:  # the fault is the push's: the commits all go through first
        wait_succeeded(d, commits)
        push = propose_and_approve(d, "git.push", [push_item(work, "crash-push")])
    daemons.killed(d)

    # What the dead daemon left: the k-th action executing, those before it succeeded,
    # and its effect done (or not) according to the point.
    order = commits + push
    left = stored_statuses(profile)
    assert [left[i] for i in order[:k]] == ["succeeded"] * (k - 1) + ["executing"]
    assert all(left[i] == "approved" for i in order[k:])
    done_keys = [key for key in trailer_keys(work) if key]
    if k <= COMMITS:
        assert len(done_keys) == (k if after_effect else k - 1)
        assert git(remote, "rev-list", "--count", "main") == "1"
    else:
        assert len(done_keys) == COMMITS
        assert git(remote, "rev-parse", "main") == (git(work, "rev-parse", "HEAD") if after_effect else git(work, "rev-parse", "HEAD~6"))

    d = daemons.start()
    wait_succeeded(d, commits)
    if not push:
        push = propose_and_approve(d, "git.push", [push_item(work, "crash-push")])
    wait_succeeded(d, push)

    check_exactly_once(work, remote, [k_ for k_, _ in items], [p["paths"][0] for _, p in items])
    # The interrupted action kept its place in the outbox: the commits landed in the order approved.
    assert trailer_keys(work)[::-1] == [""] + [k_ for k_, _ in items]
    check_receipts(details(d, commits + push), interrupted=order[k - 1], after_effect=after_effect)
    assert "interrupted during attempt 1" in d.stderr


def test_git_commits_and_pushes_survive_random_kills(git_world, profile, daemons):
    """SIGKILL from outside at seeded random moments, restart, again, until everything succeeded."""
    work, remote = git_world
    rng = random.Random(20251122)
    n = 6
    items = commit_items(work, n, prefix="r")
    d = daemons.start()
    commits = propose_and_approve(d, "git.commit", items)
    key_of = dict(zip(commits, (k for k, _ in items)))
    d, caught = kill_randomly(daemons, d, commits, rng, lambda i: key_of[i] in trailer_keys(work))
    # Then each commit pushed on its own, oldest first: pushes of successive commits, killed at random too.
    shas = git(work, "rev-list", "--reverse", "main", "--not", "origin/main").split()
    assert len(shas) == n
    pushes = propose_and_approve(d, "git.push", [push_item(work, f"crash-push-{i}", sha) for i, sha in enumerate(shas)])
    sha_of = dict(zip(pushes, shas))

    def on_remote(action_id: str) -> bool:
        check = ["git", "-C", str(remote), "merge-base", "--is-ancestor", sha_of[action_id], "main"]
        return subprocess.run(check, capture_output=True, timeout=30).returncode == 0

    d, caught_push = kill_randomly(daemons, d, pushes, rng, on_remote)

    check_exactly_once(work, remote, [k for k, _ in items], [p["paths"][0] for _, p in items])
    check_caught(details(d, commits + pushes), {**caught, **caught_push})
    # The kills did land while work was in flight (else this test tested nothing).
    assert caught or caught_push, "no kill caught an action executing; the delays are too long for this machine"


def kill_randomly(daemons: Daemons, d: DaemonProcess, ids: list[str], rng: random.Random, effect_present,
                  *, rounds: int = 4, max_delay: float = 0.35) -> tuple[DaemonProcess, dict[str, bool]]:
    """Kill `d` after a random delay, restart, repeat up to `rounds` times or until `ids` all
    succeeded; then let the last daemon finish. Returns it and the actions kills left
    executing, each with whether its effect was already there at a kill (`effect_present`)."""
    caught: dict[str, bool] = {}
    for _ in range(rounds):
        time.sleep(rng.uniform(0.0, max_delay))  # the deliberate random moment of the kill
        daemons.kill(d)
        left = stored_statuses(daemons.profile)
        for i in ids:
            if left.get(i) == "executing":
                caught[i] = caught.get(i, False) or effect_present(i)
        d = daemons.start()
        if all(left.get(i) == "succeeded" for i in ids):
            break
    wait_succeeded(d, ids)
    return d, caught


def check_caught(found: dict[str, dict], caught: dict[str, bool]) -> None:
    """One receipt each; every action a kill left executing was put back, retried and says so;
    one whose effect was already there at the kill reports it found done, not done again."""
    for detail in found.values():
        assert len(detail["receipts"]) == 1, detail["receipts"]
    for action_id, effect_was_there in caught.items():
        detail = found[action_id]
        assert interruptions(detail), detail["history"]
        assert detail["action"]["attempts"] >= 2
        if effect_was_there:
            assert detail["receipts"][0]["already_done"] is True, detail["receipts"]


# ---------------------------------------------------------------- calendar

from radicale_server import radicale_fixture  # noqa: E402

PASSWORD = "crash-pw"
radicale = radicale_fixture(users={"me": PASSWORD})
EVENTS = 4


@pytest.fixture
def calendar_world(request, radicale, home, profile):
    """A fresh calendar on the module's Radicale, configured as `crash`, its password in the keyring."""
    name = f"Crash{request.node.callspec.id.replace(':', '').replace('.', '')}" if hasattr(request.node, "callspec") else "Crash"
    with radicale.client("me", PASSWORD) as client:
        client.principal().make_calendar(name=name)
    write_config(
        profile,
        f'[[calendar.caldav]]\nurl = "{radicale.url}"\nusername = "me"\nname = "crash"\ncalendars = ["{name}"]\ninterval = 3600\n',
        policy_toml=POLICY,
    )
    result = run_cli("secret", "set", "calendar.crash", input=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    return radicale, name


def event_items(n: int, tag: str) -> list[tuple[str, dict]]:
    start = dt.datetime(2030, 1, 7, 9, 0, tzinfo=dt.timezone.utc)
    return [(f"crash-event-{tag}-{i}", {
        "calendar": "crash", "summary": f"Block {i}", "start": (start + dt.timedelta(days=i)).isoformat(),
        "end": (start + dt.timedelta(days=i, hours=1)).isoformat(),
    }) for i in range(n)]


def server_uids(server, name: str) -> list[str]:
    """The UID of every event object in the calendar, read from the server by a separate client."""
    import icalendar

    with server.client("me", PASSWORD) as client:
        cal = next(c for c in client.principal().calendars() if c.get_display_name() == name)
        return [str(ev["UID"]) for obj in cal.get_events() for ev in icalendar.Calendar.from_ical(obj.data).walk("VEVENT")]


def check_events(server, name: str, keys: list[str]) -> None:
    from oxymus.connectors.calendar.actions import event_uid

    uids = server_uids(server, name)
    assert collections.Counter(uids) == collections.Counter(event_uid(k) for k in keys)


@pytest.mark.parametrize("fault", ["executor.effect_done:2", "executor.marked_executing:3"])
def test_calendar_events_are_created_exactly_once_across_a_kill_at_a_fault_point(calendar_world, profile, daemons, fault):
    from oxymus.connectors.calendar.actions import event_uid

    server, name = calendar_world
    point, _, n = fault.partition(":")
    k = int(n)
    after_effect = point == "executor.effect_done"
    items = event_items(EVENTS, "f")
    d = daemons.start(fault)
    ids = propose_and_approve(d, "calendar.create_event", items)
    daemons.killed(d)

    left = stored_statuses(profile)
    assert [left[i] for i in ids[:k]] == ["succeeded"] * (k - 1) + ["executing"]
    assert collections.Counter(server_uids(server, name)) == collections.Counter(
        event_uid(key) for key, _ in items[: k if after_effect else k - 1])

    d = daemons.start()
    wait_succeeded(d, ids)
    check_events(server, name, [key for key, _ in items])
    check_receipts(details(d, ids), interrupted=ids[k - 1], after_effect=after_effect)


def test_calendar_events_survive_random_kills(calendar_world, profile, daemons):
    from oxymus.connectors.calendar.actions import event_uid

    server, name = calendar_world
    items = event_items(6, "r")
    d = daemons.start()
    ids = propose_and_approve(d, "calendar.create_event", items)
    key_of = dict(zip(ids, (k for k, _ in items)))
    d, caught = kill_randomly(daemons, d, ids, random.Random(7), lambda i: event_uid(key_of[i]) in server_uids(server, name), rounds=3)
    check_events(server, name, [key for key, _ in items])
    check_caught(details(d, ids), caught)


# ---------------------------------------------------------------- flows

PLANS = "# Work\n\n## Next actions\n\n- [ ] write the report\n"
FLOW_KEY = "crash-flow"


@pytest.fixture
def flow_world(git_world, profile, home):
    """The git world plus a PLANS.md the daemon keeps, for a flow of commit, PLANS.md edit and push."""
    work, remote = git_world
    plans = home / "PLANS.md"
    plans.write_bytes(PLANS.encode())
    write_config(profile, f'[git]\nrepos = ["{work}"]\ninterval = 3600\n\n[plans]\nfile = "{plans}"\n', policy_toml=POLICY)
    return work, remote, plans


def push_from_elsewhere(home: Path, remote: Path) -> str:
    """Another clone pushes to the remote: it moves on, and the flow's push will be refused."""
    other = home / "laptop"
    git(home, "clone", "-q", str(remote), str(other))
    (other / "laptop.txt").write_text("from the laptop\n")
    git(other, "add", "laptop.txt")
    git(other, "commit", "-q", "-m", "from the laptop")
    git(other, "push", "-q", "origin", "main")
    return git(remote, "rev-parse", "main")


def propose_flow(d: DaemonProcess, work: Path, before_resume=None) -> str:
    """Propose and approve the flow while paused (so a fault point cannot fire early); `before_resume` runs last."""
    (work / "report.txt").write_text("the report\n")
    payload = {"title": "Ship the report", "steps": [
        {"kind": "git.commit", "payload": {"repo": str(work), "paths": ["report.txt"], "message": "add the report"}},
        {"kind": "plans.edit", "payload": {"op": "add_action", "text": "send the report to Ana"}},
        {"kind": "git.push", "payload": {"repo": str(work), "remote": "origin", "branch": "main", "commit_key": f"{FLOW_KEY}:step:1"}},
    ]}
    with d.client() as conn:
        conn.call("pause.set", {"reason": "crash test: queueing a flow"})
        flow = conn.call("actions.propose", {"kind": "flow", "payload": payload, "key": FLOW_KEY})["action"]
        assert flow["status"] == "awaiting_approval", flow
        assert conn.call("actions.approve", {"id": flow["id"], "via": "script"})["action"]["status"] == "approved"
        if before_resume is not None:
            before_resume()
        try:
            conn.call("pause.clear")
        except DaemonUnavailable:
            assert d.proc.poll() is not None or d.proc.wait(10) == -signal.SIGKILL
    return flow["id"]


def wait_flow(d: DaemonProcess, flow_id: str, want: str, timeout: float = SETTLE) -> dict:
    def settled() -> bool:
        if d.proc.poll() is not None:
            raise AssertionError(f"the daemon exited with {d.proc.returncode}:\n{d.stderr[-3000:]}")
        status = statuses(d, [flow_id])[flow_id]
        if status in ("succeeded", "failed", "compensated") and status != want:
            with d.client() as conn:
                raise AssertionError(f"the flow ended {status}: {conn.call('actions.get', {'id': flow_id})['action']['error']}")
        return status == want

    wait_for(settled, timeout, interval=0.05, what=f"the flow to end {want}")
    with d.client() as conn:
        return conn.call("actions.get", {"id": flow_id})


def flow_receipts(d: DaemonProcess, detail: dict) -> dict[str, list]:
    """Receipts per action of the flow (steps and compensations), by the action's kind and role."""
    out = {}
    for a in detail["steps"]:
        role = f"undo {a['kind']}" if a["compensates"] else a["kind"]
        out[role] = details(d, [a["id"]])[a["id"]]["receipts"]
    return out


# The actions the executor performs in the failing flow, in order: 1 the commit, 2 the PLANS.md
# edit, 3 the push (refused: it never reaches effect_done), 4 the PLANS.md edit taken back,
# 5 the commit taken back. Every boundary between and inside them is a kill.
FAILING_FLOW_FAULTS = [
    "executor.marked_executing:1", "executor.effect_done:1", "flows.step_settled:1",
    "executor.effect_done:2", "flows.step_settled:2",
    "executor.marked_executing:3", "flows.step_settled:3", "flows.compensation_proposed:1",
    "executor.marked_executing:4", "executor.effect_done:3", "flows.step_settled:4", "flows.compensation_proposed:2",
    "executor.effect_done:4", "flows.step_settled:5",
]


@pytest.mark.parametrize("fault", FAILING_FLOW_FAULTS)
def test_a_failing_flow_is_taken_back_exactly_once_across_a_kill_at_every_boundary(flow_world, profile, home, daemons, fault):
    work, remote, plans = flow_world
    base = git(work, "rev-parse", "HEAD")
    d = daemons.start(fault)
    moved: list[str] = []
    flow_id = propose_flow(d, work, before_resume=lambda: moved.append(push_from_elsewhere(home, remote)))
    daemons.killed(d)

    d = daemons.start()
    detail = wait_flow(d, flow_id, "compensated")
    assert detail["action"]["error"].startswith("step 3 (git.push) failed: origin/main has diverged")
    # Counted at the real targets: the commit is gone from the branch, the report is an
    # uncommitted file again, PLANS.md is byte for byte as before, the remote untouched.
    assert git(work, "rev-parse", "HEAD") == base and trailer_keys(work) == ["", ""][:int(git(work, "rev-list", "--count", "HEAD"))]
    assert FLOW_KEY + ":step:1" not in git(work, "log", "--all", "--format=%B", "--not", "--remotes")
    assert git(work, "status", "--porcelain") == "?? report.txt"
    assert plans.read_bytes() == PLANS.encode()
    assert git(remote, "rev-parse", "main") == moved[0]
    # Each effect happened once and was taken back once: one receipt per action.
    found = flow_receipts(d, detail)
    assert {role: len(r) for role, r in found.items()} == {
        "git.commit": 1, "plans.edit": 1, "git.push": 0, "undo plans.edit": 1, "undo git.commit": 1}
    kinds = {(a["kind"], bool(a["compensates"])): a["status"] for a in detail["steps"]}
    assert kinds == {("git.commit", False): "compensated", ("plans.edit", False): "compensated", ("git.push", False): "failed",
                     ("plans.edit", True): "succeeded", ("git.commit", True): "succeeded"}


@pytest.mark.parametrize("fault", ["executor.effect_done:1", "flows.step_settled:2", "executor.effect_done:3", "flows.step_settled:3"])
def test_a_flow_that_succeeds_does_each_step_exactly_once_across_a_kill(flow_world, profile, daemons, fault):
    work, remote, plans = flow_world
    d = daemons.start(fault)
    flow_id = propose_flow(d, work)
    daemons.killed(d)

    d = daemons.start()
    detail = wait_flow(d, flow_id, "succeeded")
    assert trailer_keys(remote, "main")[0] == f"{FLOW_KEY}:step:1" and git(remote, "rev-list", "--count", "main") == "2"
    assert git(remote, "rev-parse", "main") == git(work, "rev-parse", "HEAD")
    assert plans.read_text().count("- [ ] send the report to Ana") == 1
    assert {role: len(r) for role, r in flow_receipts(d, detail).items()} == {"git.commit": 1, "plans.edit": 1, "git.push": 1}


# A flow that creates an event, commits, and pushes to a remote that moved on: the event is
# deleted again and the commit taken back. The executor performs 1 the event, 2 the commit,
# 3 the push (refused), 4 the commit taken back, 5 the event deleted.
@pytest.mark.parametrize("fault", ["executor.effect_done:1", "executor.effect_done:4", "executor.marked_executing:5",
                                   "flows.step_settled:5"])
def test_a_failing_flow_deletes_its_event_exactly_once_across_a_kill(git_world, calendar_world, profile, home, daemons, fault):
    from oxymus.connectors.calendar.actions import event_uid

    server, name = calendar_world
    work, remote = git_world
    calendar = Path(profile.config_file).read_text()
    write_config(profile, calendar + f'\n[git]\nrepos = ["{work}"]\ninterval = 3600\n', policy_toml=POLICY)
    base = git(work, "rev-parse", "HEAD")
    [(_, event)] = event_items(1, "flow")
    (work / "report.txt").write_text("the report\n")
    payload = {"title": "Block the time and ship", "steps": [
        {"kind": "calendar.create_event", "payload": event},
        {"kind": "git.commit", "payload": {"repo": str(work), "paths": ["report.txt"], "message": "add the report"}},
        {"kind": "git.push", "payload": {"repo": str(work), "remote": "origin", "branch": "main", "commit_key": f"{FLOW_KEY}:step:2"}},
    ]}
    d = daemons.start(fault)
    with d.client() as conn:
        conn.call("pause.set", {"reason": "crash test: queueing a flow"})
        flow_id = conn.call("actions.propose", {"kind": "flow", "payload": payload, "key": FLOW_KEY})["action"]["id"]
        conn.call("actions.approve", {"id": flow_id, "via": "script"})
        moved = push_from_elsewhere(home, remote)
        try:
            conn.call("pause.clear")
        except DaemonUnavailable:
            pass
    daemons.killed(d)

    d = daemons.start()
    detail = wait_flow(d, flow_id, "compensated")
    # Counted at Radicale, the branch and the remote: the event is gone, the commit too, the remote untouched.
    assert event_uid(f"{FLOW_KEY}:step:1") not in server_uids(server, name)
    assert git(work, "rev-parse", "HEAD") == base and git(remote, "rev-parse", "main") == moved
    found = flow_receipts(d, detail)
    assert {role: len(r) for role, r in found.items()} == {
        "calendar.create_event": 1, "git.commit": 1, "git.push": 0, "undo git.commit": 1, "undo calendar.create_event": 1}
