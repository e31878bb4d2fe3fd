"""email.send through a real daemon to a real SMTP server (aiosmtpd on 127.0.0.1), killed mid-send.

Counts are taken at the server, never from the daemon's records. The daemon is killed with
SIGKILL at `mail.data_accepted` (the server has the message, the `sent` marker is not written)
and at `executor.effect_done` (the marker is written, the receipt is not stored), then restarted
without the fault: the message arrives exactly once either way.
"""

from __future__ import annotations

import signal

import pytest
from conftest import DaemonProcess, wait_for
from smtp_helpers import mail_profile, smtp  # noqa: F401 - smtp: a fixture

from oxymus.client.sync_client import DaemonUnavailable

pytestmark = [pytest.mark.slow]


PAYLOAD = {"to": ["bo@client.example"], "subject": "Workshop in March", "body": "Hi Bo,\n\nsee you then.\n"}
SETTLE = 60.0


@pytest.fixture
def started(profile, monkeypatch, smtp):
    mail_profile(profile, smtp.port)
    daemons: list[DaemonProcess] = []

    def start(fault: str | None = None) -> DaemonProcess:
        if fault:
            monkeypatch.setenv("OXYMUS_FAULT_KILL", fault)
        try:
            d = DaemonProcess(profile)
            daemons.append(d)
            return d.start(timeout=30)
        finally:
            monkeypatch.delenv("OXYMUS_FAULT_KILL", raising=False)

    yield start
    for d in daemons:
        d.stop()


def propose_and_approve(d: DaemonProcess) -> str:
    with d.client() as conn:
        action = conn.call("actions.propose", {"kind": "email.send", "payload": PAYLOAD, "key": "mail-test"})["action"]
        assert action["status"] == "awaiting_approval"  # email.send needs the person by default
        assert action["payload"]["message_id"]  # pinned at proposal
        try:
            conn.call("actions.approve", {"id": action["id"], "via": "script"})
        except DaemonUnavailable:
            pass  # the fault point can kill the daemon before its reply
    return action["id"]


def settled(d: DaemonProcess, action_id: str) -> dict:
    def done():
        with d.client() as conn:
            got = conn.call("actions.get", {"id": action_id})["action"]
        return got if got["status"] in ("succeeded", "failed") else None

    return wait_for(done, SETTLE, interval=0.05, what="the email.send action to settle")


def killed(d: DaemonProcess) -> None:
    assert d.proc is not None
    rc = d.proc.wait(SETTLE)
    assert rc == -signal.SIGKILL, f"the daemon exited with {rc}:\n{d.stderr[-3000:]}"


def test_sent_once_through_the_daemon(started, smtp):
    d = started()
    action_id = propose_and_approve(d)
    done = settled(d, action_id)
    assert done["status"] == "succeeded", done["error"]
    assert smtp.inbox.ids() == [done["payload"]["message_id"]]
    assert done["receipt"]["ref"] == done["payload"]["message_id"]


def test_killed_after_the_server_took_it_it_is_not_sent_again(started, smtp):
    d = started("mail.data_accepted")
    action_id = propose_and_approve(d)
    killed(d)
    assert len(smtp.inbox.messages) == 1
    d = started()
    done = settled(d, action_id)
    assert done["status"] == "failed"
    assert "may have been sent" in done["error"] and f"127.0.0.1:{smtp.port}" in done["error"]
    assert smtp.inbox.ids() == [done["payload"]["message_id"]]


def test_killed_before_the_receipt_is_stored_the_retry_finds_it_sent(started, smtp):
    d = started("executor.effect_done")
    action_id = propose_and_approve(d)
    killed(d)
    d = started()
    done = settled(d, action_id)
    assert done["status"] == "succeeded", done["error"]
    assert done["receipt"]["already_done"] is True
    assert smtp.inbox.ids() == [done["payload"]["message_id"]]
