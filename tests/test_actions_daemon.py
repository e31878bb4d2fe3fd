"""Actions end to end: the real CLI against a real daemon, its store and real effects."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import BIG_PAYMENTS_NEED_ME, DaemonProcess, pin_today, run_cli, wait_for, write_config

pytestmark = pytest.mark.slow

BILLS = """
[[bill]]
name = "Rent"
amount = 950
schedule = "monthly"
day = 1

[[bill]]
name = "Phone"
amount = 25
schedule = "monthly"
day = 1
"""
CONFIG = '[bills]\nfile = "bills.toml"\n'
POLICY = BIG_PAYMENTS_NEED_ME


@pytest.fixture(autouse=True)
def due(home, monkeypatch) -> str:
    """The first of this month, a due date of both bills. Every daemon here has its day pinned to today's
    (in the machine's zone, which the config keeps), so it stays this month's even across midnight."""
    return pin_today(monkeypatch).replace(day=1).isoformat()


def cli_json(*args: str) -> dict | list:
    r = run_cli(*args, "--json")
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


def get(daemon: DaemonProcess, action_id: str) -> dict:
    with daemon.client() as conn:
        return conn.call("actions.get", {"id": action_id})


def status_of(daemon: DaemonProcess, action_id: str) -> str:
    return get(daemon, action_id)["action"]["status"]


@pytest.fixture
def setup(profile, due):
    write_config(profile, CONFIG, bills_toml=BILLS)
    Path(profile.policy_file).write_text(POLICY)
    d = DaemonProcess(profile).start()
    yield d
    d.stop()


def test_a_big_payment_waits_for_approval_then_runs_and_the_whole_story_is_explained(setup, due):
    daemon = setup
    r = run_cli("propose", "bills.mark_paid", "--payload", json.dumps({"bill": "rent", "due": due}),
                "--reason", "paid by transfer")
    assert r.returncode == 0, r.stderr.decode()
    assert b"waiting for you" in r.stdout and b"big payments need me" in r.stdout
    waiting = cli_json("approvals")
    assert [a["kind"] for a in waiting] == ["bills.mark_paid"]
    action_id = waiting[0]["id"]
    assert waiting[0]["payload"]["amount"] == 950  # pinned from bills.toml, so the rule saw it

    r = run_cli("approve", action_id[:10])  # a unique prefix is enough
    assert r.returncode == 0, r.stderr.decode()
    wait_for(lambda: status_of(daemon, action_id) == "succeeded", 15, what="the approved action to run")
    detail = get(daemon, action_id)
    assert detail["receipts"][0]["ref"] == f"rent@{due}"
    assert [a["decision"] for a in detail["approvals"]] == ["approved"]

    today = cli_json("today", "--date", due)
    rent = [b for b in today["bills"] if b["bill"] == "rent" and b["due"] == due]
    assert rent and rent[0]["status"] == "paid" and rent[0]["paid_at"], today["bills"]

    text = run_cli("explain", action_id).stdout.decode()
    for expected in ("Proposed by user", "Reason: paid by transfer", "matched  #1", "big payments need me",
                     "awaiting_approval", "approved", "executing", "succeeded", "Receipt (attempt 1)"):
        assert expected in text, (expected, text)
    trace = detail["action"]["trace_id"]
    verbs = [e["verb"] for e in cli_json("log", "--trace", trace)]
    assert verbs[:2] == ["action.proposed", "action.awaiting_approval"] and verbs[-1] == "action.succeeded"


def test_oxymus_paid_marks_the_earliest_unpaid_due_date(setup, due):
    r = run_cli("paid", "Phone")
    assert r.returncode == 0, r.stderr.decode()
    assert b"done" in r.stdout and b"marked phone" in r.stdout
    phone = [b for b in cli_json("today")["bills"] if b["bill"] == "phone"]
    assert f"due {due}".encode() in r.stdout
    assert all(b["due"] != due for b in phone), phone  # a paid past due date leaves the day
    r = run_cli("paid", "gym")
    assert r.returncode == 2 and b"no unpaid due date for 'gym'" in r.stderr


def test_small_payments_by_the_person_run_at_once(setup, due):
    r = run_cli("propose", "bills.mark_paid", "--payload", json.dumps({"bill": "phone", "due": due}), "--wait")
    assert r.returncode == 0, r.stderr.decode()
    assert b"done" in r.stdout and b"marked phone" in r.stdout


def test_deny_with_a_reason_and_undo_within_the_grace(setup, due):
    daemon = setup
    payload = json.dumps({"bill": "rent", "due": due})
    first = json.loads(run_cli("propose", "bills.mark_paid", "--payload", payload, "--json").stdout)["id"]
    r = run_cli("deny", first, "--reason", "not paid yet")
    assert r.returncode == 0 and b"denied" in r.stdout
    assert get(daemon, first)["approvals"][-1]["reason"] == "not paid yet"
    r = run_cli("approve", first)
    assert r.returncode == 2 and b"it is denied" in r.stderr

    second = json.loads(run_cli("propose", "bills.mark_paid", "--payload", payload, "--json").stdout)["id"]
    run_cli("approve", second)
    r = run_cli("undo", second)
    assert r.returncode == 0, r.stderr.decode()
    assert status_of(daemon, second) == "awaiting_approval"
    run_cli("approve", second)
    wait_for(lambda: status_of(daemon, second) == "succeeded", 15, what="the re-approved action to run")
    r = run_cli("undo", second)
    assert r.returncode == 2 and b"nothing to undo" in r.stderr


def test_snooze_puts_it_aside_until_a_time(setup, due):
    daemon = setup
    action_id = json.loads(run_cli("propose", "bills.mark_paid", "--payload",
                                   json.dumps({"bill": "rent", "due": due}), "--json").stdout)["id"]
    r = run_cli("snooze", action_id, "--until", "2s", "--json")
    assert r.returncode == 0, r.stderr.decode()
    # The daemon's reply, not a later read: a loaded machine may take the 2 s before the next command.
    assert json.loads(r.stdout)["status"] == "snoozed"
    assert run_cli("snooze", action_id, "--until", "yesterday-ish").returncode == 2
    wait_for(lambda: status_of(daemon, action_id) == "awaiting_approval", 10, what="the snooze to end")


def test_bad_proposals_are_refused_naming_the_field(setup, due):
    r = run_cli("propose", "bills.mark_paid", "--payload", json.dumps({"bill": "rent", "due": "soon"}))
    assert r.returncode == 2 and b"payload.due" in r.stderr
    r = run_cli("propose", "bills.mark_paid", "--payload", json.dumps({"bill": "gym", "due": due}))
    assert r.returncode == 2 and b"no bill 'gym'" in r.stderr
    r = run_cli("propose", "rockets.launch", "--payload", "{}")
    assert r.returncode == 2 and b"unknown action kind 'rockets.launch'" in r.stderr and b"bills.mark_paid" in r.stderr
    r = run_cli("propose", "bills.mark_paid", "--payload", "{not json")
    assert r.returncode == 2 and b"not valid JSON" in r.stderr
    r = run_cli("propose", "bills.mark_paid", "--payload", json.dumps({"bill": "rent", "due": due, "x": 1}))
    assert r.returncode == 2 and b"payload.x: unknown field" in r.stderr


def test_proposing_the_same_key_twice_returns_the_first(setup, due):
    payload = json.dumps({"bill": "rent", "due": due})
    a = json.loads(run_cli("propose", "bills.mark_paid", "--payload", payload, "--key", "k1", "--json").stdout)
    b = run_cli("propose", "bills.mark_paid", "--payload", payload, "--key", "k1")
    assert a["id"].encode() in b.stdout and b"already proposed" in b.stdout
    assert len(cli_json("approvals")) == 1


def test_undecided_requests_expire_and_never_run(profile, due):
    write_config(profile, CONFIG, bills_toml=BILLS)
    Path(profile.policy_file).write_text(POLICY + '\n[expiry]\n"bills.*" = "1s"\n')
    daemon = DaemonProcess(profile).start()
    try:
        action_id = json.loads(run_cli("propose", "bills.mark_paid", "--payload",
                                       json.dumps({"bill": "rent", "due": due}), "--json").stdout)["id"]
        wait_for(lambda: status_of(daemon, action_id) == "expired", 10, what="the request to expire")
        assert run_cli("approve", action_id).returncode == 2
        problems = cli_json("log", "--problems")
        assert [e["verb"] for e in problems] == ["action.expired"] and problems[0]["details"]["reason"] == "not decided in time"
    finally:
        daemon.stop()


def test_pause_survives_a_restart_and_resume_runs_what_waited(profile, due):
    write_config(profile, CONFIG, bills_toml=BILLS)
    Path(profile.policy_file).write_text(POLICY)
    daemon = DaemonProcess(profile).start()
    try:
        assert run_cli("pause", "--reason", "not today").returncode == 0
        action_id = json.loads(run_cli("propose", "bills.mark_paid", "--payload",
                                       json.dumps({"bill": "phone", "due": due}), "--json").stdout)["id"]
        assert status_of(daemon, action_id) == "approved"  # allowed, queued, not run
        daemon.stop()
        daemon = DaemonProcess(profile).start()
        status = cli_json("status")
        assert status["pause"]["reason"] == "not today"
        assert status_of(daemon, action_id) == "approved"
        r = run_cli("resume")
        assert r.returncode == 0 and r.stdout.startswith(b"resumed")
        wait_for(lambda: status_of(daemon, action_id) == "succeeded", 15, what="the queued action to run after resume")
        assert cli_json("status").get("pause") is None
    finally:
        daemon.stop()


def test_a_pause_ends_by_itself_on_time(setup, due):
    daemon = setup
    run_cli("pause", "--until", "2s")
    proposed = json.loads(run_cli("propose", "bills.mark_paid", "--payload",
                                  json.dumps({"bill": "phone", "due": due}), "--json").stdout)
    action_id = proposed["id"]
    assert proposed["status"] == "approved"  # as proposed, during the pause (a later read may come after it)
    wait_for(lambda: status_of(daemon, action_id) == "succeeded", 15, what="the pause to end and the action to run")
    assert [e["actor"] for e in cli_json("log", "--verb", "pause.ended")] == ["daemon"]


def test_a_broken_policy_fails_closed_and_policy_check_names_the_line(profile, due):
    write_config(profile, CONFIG, bills_toml=BILLS)
    Path(profile.policy_file).write_text('[[rule]]\nkind = "bills.*"\noutcome = "perhaps"\n')
    r = run_cli("policy", "check")
    assert r.returncode == 2
    assert f"{profile.policy_file}:3: rule[0].outcome".encode() in r.stderr, r.stderr
    daemon = DaemonProcess(profile).start()
    try:
        assert "policy.toml" in cli_json("status")["policy_error"]
        action_id = json.loads(run_cli("propose", "bills.mark_paid", "--payload",
                                       json.dumps({"bill": "phone", "due": due}), "--json").stdout)["id"]
        assert status_of(daemon, action_id) == "awaiting_approval"  # even a small one: nothing runs unchecked
        Path(profile.policy_file).write_text(POLICY)
        assert run_cli("policy", "check").returncode == 0
        r = run_cli("policy", "explain", "bills.mark_paid", "--payload", json.dumps({"bill": "phone", "due": due}))
        assert r.returncode == 0 and b"decision: allow" in r.stdout and b"skipped  #1" in r.stdout, r.stdout
        assert cli_json("status").get("policy_error") is None
    finally:
        daemon.stop()


def test_policy_explain_is_the_live_decision(setup, due):
    """The dry run and the live proposal agree: one implementation."""
    payload = json.dumps({"bill": "rent", "due": due})
    dry = json.loads(run_cli("policy", "explain", "bills.mark_paid", "--payload", payload, "--json").stdout)
    live = json.loads(run_cli("propose", "bills.mark_paid", "--payload", payload, "--json").stdout)
    strip = lambda d: {k: v for k, v in d.items() if k != "decided_at"}  # noqa: E731
    assert strip(dry["decision"]) == strip(live["decision"])
    assert dry["payload"] == live["payload"]


def test_plans_edits_from_the_cli_are_actions(setup):
    r = run_cli("plans", "add", "call", "Ana")
    assert r.returncode == 0, r.stderr.decode()
    assert b"+- [ ] call Ana" in r.stdout
    actions = cli_json("actions")
    assert actions[0]["kind"] == "plans.edit" and actions[0]["status"] == "succeeded"
    assert actions[0]["decision"]["rule"] == "default: your own edit to your own files"


def test_a_failed_action_is_visible_and_the_person_is_notified(profile, tmp_path):
    repo, remote = tmp_path / "repo", tmp_path / "remote.git"
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@x"}
    git = lambda *a, cwd=repo: subprocess.run(["git", *a], cwd=cwd, check=True, capture_output=True, env=env)  # noqa: E731
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.mkdir()
    git("init", "-q", "-b", "main")
    (repo / "a.txt").write_text("a\n")
    git("add", "a.txt")
    git("commit", "-q", "-m", "a")
    git("remote", "add", "origin", str(remote))
    write_config(profile, f'[git]\nrepos = ["{repo}"]\n')
    Path(profile.policy_file).write_text('[settings]\nundo_grace = "0s"\n')
    daemon = DaemonProcess(profile).start()
    try:
        action_id = json.loads(run_cli("propose", "git.push", "--payload", json.dumps({"repo": str(repo)}), "--json").stdout)["id"]
        import shutil

        shutil.rmtree(remote)  # the remote vanishes between the proposal and the approval
        run_cli("approve", action_id)
        wait_for(lambda: status_of(daemon, action_id) == "failed", 20, what="the push to fail")
        detail = get(daemon, action_id)
        assert "remote.git" in detail["action"]["error"]
        assert any(e["verb"] == "action.failed" for e in cli_json("log", "--problems"))
    finally:
        daemon.stop()


from dbus_session import NotificationServerProcess, session_bus  # noqa: E402,F401


def test_with_no_tui_the_person_is_notified_and_decides_from_the_notification(profile, session_bus, due):  # noqa: F811
    write_config(profile, CONFIG, bills_toml=BILLS)
    Path(profile.policy_file).write_text(POLICY)
    with NotificationServerProcess(session_bus.address) as server:
        daemon = DaemonProcess(profile).start()
        try:
            first = json.loads(run_cli("propose", "bills.mark_paid", "--payload",
                                       json.dumps({"bill": "rent", "due": due}), "--json").stdout)["id"]
            (note,) = server.wait_for(1)
            assert note["summary"].startswith("Approve? mark rent")
            assert "approve" in note["actions"] and "deny" in note["actions"]
            server.invoke_action(note["id"], "approve")
            wait_for(lambda: status_of(daemon, first) == "succeeded", 15, what="the notification's Approve to take effect")
            assert get(daemon, first)["approvals"][-1]["via"] == "notification"
            assert cli_json("status").get("notifications") is None
        finally:
            daemon.stop()


def test_a_failure_is_notified(profile, session_bus, tmp_path):  # noqa: F811
    repo, remote = tmp_path / "repo", tmp_path / "remote.git"
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@x"}
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.mkdir()
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "a"], ["remote", "add", "origin", str(remote)]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)
    write_config(profile, f'[git]\nrepos = ["{repo}"]\n')
    Path(profile.policy_file).write_text('[settings]\nundo_grace = "0s"\n[[rule]]\nkind = "git.push"\noutcome = "allow"\n')
    with NotificationServerProcess(session_bus.address) as server:
        daemon = DaemonProcess(profile).start()
        try:
            import shutil

            run_cli("pause")  # so the remote can vanish between the proposal and the execution
            action_id = json.loads(run_cli("propose", "git.push", "--payload", json.dumps({"repo": str(repo)}), "--json").stdout)["id"]
            shutil.rmtree(remote)
            run_cli("resume")
            wait_for(lambda: status_of(daemon, action_id) == "failed", 20, what="the push to fail")
            (note,) = server.wait_for(1)
            assert note["summary"].startswith("Failed: push") and action_id in note["body"]
            assert note["hints"].get("urgency") == 2  # a failed high-risk action is critical
        finally:
            daemon.stop()


def test_a_plans_edit_while_paused_says_it_waits_and_is_made_on_resume(setup):
    run_cli("pause")
    r = run_cli("plans", "add", "water the plants")
    assert r.returncode == 2 and b"automation is paused: the edit waits as action" in r.stderr
    assert b"water the plants" not in run_cli("plans").stdout
    run_cli("resume")
    wait_for(lambda: b"water the plants" in run_cli("plans").stdout, 15, what="the queued edit to be made on resume")
