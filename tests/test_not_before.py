"""Actions held until a time (`not_before`), through a real daemon to a real SMTP server.

Time passes by restarting the daemon with its clock (OXYMUS_NOW) pinned later, so what
"before" and "after" mean never depends on how fast the machine is. Whether the executor
has looked at the outbox after a start is proven with a second email without a time (a
canary): the executor takes due actions in order, so once the canary has arrived, the
held one was seen and left alone. Counts are taken at the server.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import DaemonProcess, run_cli, wait_for
from smtp_helpers import PinnedDaemons, mail_profile, smtp  # noqa: F401 - smtp: a fixture


pytestmark = [pytest.mark.slow]

T = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.timezone.utc)
SETTLE = 60.0


@pytest.fixture
def at(profile, monkeypatch, smtp):
    """at(moment): a daemon whose clock starts at `moment` (the one before it is stopped first)."""
    mail_profile(profile, smtp.port)
    daemons = PinnedDaemons(profile, monkeypatch)
    yield daemons.start
    daemons.stop()


def email(subject: str) -> dict:
    return {"to": ["bo@client.example"], "subject": subject, "body": "Hi Bo,\n"}


def propose(d: DaemonProcess, subject: str, not_before: dt.datetime | None = None) -> dict:
    params: dict = {"kind": "email.send", "payload": email(subject), "key": subject}
    if not_before is not None:
        params["not_before"] = not_before.isoformat()
    with d.client() as conn:
        return conn.call("actions.propose", params)["action"]


def approve(d: DaemonProcess, action_id: str) -> dict:
    with d.client() as conn:
        return conn.call("actions.approve", {"id": action_id, "via": "script"})["action"]


def get(d: DaemonProcess, action_id: str) -> dict:
    with d.client() as conn:
        return conn.call("actions.get", {"id": action_id})


def settled(d: DaemonProcess, action_id: str) -> dict:
    def done():
        got = get(d, action_id)["action"]
        return got if got["status"] in ("succeeded", "failed", "cancelled", "expired") else None

    return wait_for(done, SETTLE, interval=0.05, what=f"action {action_id} to settle")


def canary(d: DaemonProcess, name: str) -> None:
    """An email with no time, approved and sent: the executor has looked at the outbox since the start."""
    action = propose(d, name)
    approve(d, action["id"])
    assert settled(d, action["id"])["status"] == "succeeded"


def subjects(smtp) -> list[str]:
    return [m[2]["Subject"] for m in smtp.inbox.messages]


def test_held_until_its_time_survives_a_restart_and_is_sent_once(at, smtp):
    d = at(T)
    held = propose(d, "held", not_before=T + dt.timedelta(hours=1))
    assert held["status"] == "awaiting_approval" and held["not_before"] == "2026-12-07T13:00:00.000Z"
    r = run_cli("approvals")
    assert r.returncode == 0 and b"held until" in r.stdout, r.stdout
    approved = approve(d, held["id"])
    # Approved, but its due time is its not_before, not the end of the undo grace.
    assert approved["status"] == "approved" and approved["next_attempt_at"] == held["not_before"]
    canary(d, "canary 1")
    assert get(d, held["id"])["action"]["status"] == "approved" and subjects(smtp) == ["canary 1"]
    r = run_cli("actions")
    assert r.returncode == 0 and b"held until" in r.stdout, r.stdout

    d = at(T + dt.timedelta(minutes=30))  # restarted, still before its time: found in the store, still held
    canary(d, "canary 2")
    assert get(d, held["id"])["action"]["status"] == "approved" and subjects(smtp) == ["canary 1", "canary 2"]

    d = at(T + dt.timedelta(hours=2))  # restarted after its time: sent, once
    done = settled(d, held["id"])
    assert done["status"] == "succeeded", done["error"]
    assert subjects(smtp) == ["canary 1", "canary 2", "held"]
    assert smtp.inbox.ids()[-1] == done["payload"]["message_id"]
    detail = get(d, held["id"])
    assert len(detail["receipts"]) == 1 and detail["action"]["attempts"] == 1
    d = at(T + dt.timedelta(hours=3))  # and never again
    canary(d, "canary 3")
    assert subjects(smtp).count("held") == 1


def test_the_executor_wakes_for_it_without_a_restart(at, smtp):
    # The daemon's clock runs on from T: a time 2 s ahead comes while it runs, and the executor's
    # wake-up for the earliest due action takes it then (well inside the 30 s periodic look).
    d = at(T)
    held = propose(d, "soon", not_before=T + dt.timedelta(seconds=2))
    approve(d, held["id"])
    done = wait_for(lambda: (a := get(d, held["id"])["action"])["status"] == "succeeded" and a, 20, interval=0.05,
                    what="the held action to run at its time")
    assert done["receipt"]["ref"] == done["payload"]["message_id"]
    assert subjects(smtp) == ["soon"]
    receipts = get(d, held["id"])["receipts"]  # stamped by the daemon's clock (the audit log's by the machine's)
    assert len(receipts) == 1 and receipts[0]["at"] >= "2026-12-07T12:00:02"


def test_paused_when_it_comes_due_it_waits_for_resume(at, smtp):
    d = at(T)
    held = propose(d, "held", not_before=T + dt.timedelta(hours=1))
    approve(d, held["id"])
    with d.client() as conn:
        conn.call("pause.set", {"reason": "not today"})

    d = at(T + dt.timedelta(hours=2))  # its time has come, but automation is paused
    with d.client() as conn:
        assert conn.call("status")  # the daemon has started and recovered
    assert get(d, held["id"])["action"]["status"] == "approved" and subjects(smtp) == []
    r = run_cli("resume")
    assert r.returncode == 0, r.stderr.decode()
    assert b"stale" not in r.stdout  # its request window counts from its time, not from the proposal
    done = settled(d, held["id"])
    assert done["status"] == "succeeded", done["error"]
    assert subjects(smtp) == ["held"]


def test_a_held_action_can_be_denied_or_cancelled_before_its_time(at, smtp):
    d = at(T)
    later = T + dt.timedelta(hours=1)
    denied, cancelled = propose(d, "denied", not_before=later), propose(d, "cancelled", not_before=later)
    r = run_cli("deny", denied["id"])
    assert r.returncode == 0, r.stderr.decode()
    approve(d, cancelled["id"])
    r = run_cli("cancel", cancelled["id"][:10], "--reason", "changed my mind")
    assert r.returncode == 0 and b"cancelled" in r.stdout, r.stderr.decode()
    r = run_cli("cancel", cancelled["id"])  # once
    assert r.returncode != 0 and b"it is cancelled" in r.stderr

    d = at(T + dt.timedelta(hours=2))
    canary(d, "canary")
    assert subjects(smtp) == ["canary"]
    assert get(d, denied["id"])["action"]["status"] == "denied"
    assert get(d, cancelled["id"])["action"]["status"] == "cancelled"


def test_the_cli_proposes_with_a_local_time(at, smtp):
    d = at(T)
    r = run_cli("propose", "email.send", "--payload", json.dumps(email("cli")), "--not-before", "2026-12-08T09:00", "--json")
    assert r.returncode == 0, r.stderr.decode()
    action = json.loads(r.stdout)
    assert action["status"] == "awaiting_approval" and action["not_before"] is not None
    r = run_cli("propose", "email.send", "--payload", json.dumps(email("bad")), "--not-before", "someday")
    assert r.returncode == 2 and b"--not-before" in r.stderr
    r = run_cli("explain", action["id"])
    assert b"Not before:" in r.stdout and b"held until then" in r.stdout
    assert d.proc is not None


def test_the_tui_row_and_story_say_held_until():
    from oxymus.tui.widgets.approvals_views import status_text

    from oxymus.actions.effects import Preview
    from oxymus.actions.explain import explain_text
    from oxymus.actions.model import Action, Decision, Proposer

    action = Action(
        id="01M97CH9KPCM9VQ2T5S8GNEVC4", kind="email.send", payload={}, proposer=Proposer(), idempotency_key="k",
        decision=Decision(outcome="require_approval", rule="email needs me", rule_index=0, decided_at="2026-12-07T12:00:00.000Z"),
        preview=Preview(summary="email bo@client.example: held"), trace_id="t", status="approved",
        created_at="2026-12-07T12:00:00.000Z", updated_at="2026-12-07T12:00:00.000Z", not_before="2026-12-07T13:00:00.000Z",
    )
    assert str(status_text(action, T.timestamp())).startswith("held until ")
    lines = explain_text({"action": action.model_dump(mode="json"), "history": []}, dt.timezone.utc)
    assert "Not before: 2026-12-07 13:00:00 (held until then)" in lines
    done = action.model_copy(update={"status": "succeeded"})
    assert "Not before: 2026-12-07 13:00:00" in explain_text({"action": done.model_dump(mode="json"), "history": []}, dt.timezone.utc)
