"""The distribution agent through a real daemon to a real SMTP server (aiosmtpd on 127.0.0.1).

A published post and three subscribers: three emails proposed, held until send_at; approved,
they go out once the daemon's clock (pinned, restarted later to let time pass) reaches it,
exactly once each, counted at the server; then the post is moved to `distributed`.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import DaemonProcess, run_cli, wait_for
from smtp_helpers import PinnedDaemons, mail_profile, smtp  # noqa: F401 - smtp: a fixture

from oxymus.agents.distribution import DistributionSettings, message_id, read_subscribers, send_time

T = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.timezone.utc)
SUBSCRIBERS = "# the newsletter\nana@readers.example\n\nbo@readers.example  # since May\nCy@Readers.example\nana@readers.example\nnot-an-address\n"


def test_subscribers_from_a_file_with_comments(tmp_path):
    path = tmp_path / "subs.txt"
    path.write_text(SUBSCRIBERS)
    assert read_subscribers(str(path)) == (["ana@readers.example", "bo@readers.example", "cy@readers.example"], ["not-an-address"])
    with pytest.raises(ValueError, match="absolute path"):
        DistributionSettings.model_validate({"subscribers": "subs.txt"})
    with pytest.raises(ValueError, match="unknown placeholder"):
        DistributionSettings.model_validate({"subject": "{author}"})


def test_the_send_time_is_the_next_send_at_after_publishing():
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    assert send_time(dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.timezone.utc), "09:00", berlin) == dt.datetime(2026, 12, 7, 9, 0, tzinfo=berlin)
    assert send_time(dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.timezone.utc), "09:00", berlin) == dt.datetime(2026, 12, 8, 9, 0, tzinfo=berlin)
    assert message_id("P1", "Ana@x.org", "example.org") == message_id("P1", "ana@x.org", "example.org") != message_id("P2", "ana@x.org", "example.org")


@pytest.mark.slow
def test_a_published_post_goes_to_three_subscribers_once_at_send_at(profile, monkeypatch, smtp, tmp_path):
    subs = tmp_path / "subscribers.txt"
    subs.write_text(SUBSCRIBERS)
    mail_profile(profile, smtp.port, before='[time]\nzone = "UTC"\n', after=
                 f'[agents.distribution]\nsubscribers = "{subs}"\nsend_at = "09:00"\nmessage_id_domain = "example.org"\n'
                          'subject = "New post: {title}"\n')
    daemons = PinnedDaemons(profile, monkeypatch)
    start = daemons.start

    def call(d: DaemonProcess, method: str, params: dict) -> dict:
        with d.client() as conn:
            return conn.call(method, params)

    def run_agent() -> None:
        r = run_cli("agents", "run", "distribution", timeout=120)
        assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()

    def emails(d: DaemonProcess) -> list[dict]:
        return [a for a in call(d, "actions.list", {"limit": 100})["actions"] if a["kind"] == "email.send"]

    try:
        d = start(T)
        r = run_cli("records", "add", "post", "Hello again", "--status", "published", "--set", "url=https://blog.example/hello",
                    "--set", "publish_at=2026-12-07T11:30:00Z",
                    "--body", "A short note on starting over.", "--json")
        assert r.returncode == 0, r.stderr.decode()
        post = json.loads(r.stdout)

        run_agent()
        run_agent()  # again: nothing new
        proposed = emails(d)
        assert sorted(a["payload"]["to"][0] for a in proposed) == ["ana@readers.example", "bo@readers.example", "cy@readers.example"]
        assert {a["status"] for a in proposed} == {"awaiting_approval"}  # email.send's default: the person decides
        assert {a["not_before"] for a in proposed} == {"2026-12-08T09:00:00.000Z"}  # the next 09:00 after publishing
        assert {a["payload"]["subject"] for a in proposed} == {"New post: Hello again"}
        assert "https://blog.example/hello" in proposed[0]["payload"]["body"]
        r = run_cli("approvals")
        assert r.stdout.count(b"held until") == 3, r.stdout
        for a in proposed:
            assert call(d, "actions.approve", {"id": a["id"], "via": "script"})["action"]["status"] == "approved"
        run_agent()  # approved, still held: no record.update yet
        assert smtp.inbox.messages == [] and len(emails(d)) == 3

        d = start(T + dt.timedelta(hours=22))  # Dec 8 10:00: past send_at
        wait_for(lambda: {a["status"] for a in emails(d)} == {"succeeded"}, 60, interval=0.05, what="the three emails to be sent")
        assert sorted(m[1][0] for m in smtp.inbox.messages) == ["ana@readers.example", "bo@readers.example", "cy@readers.example"]
        assert sorted(smtp.inbox.ids()) == sorted(message_id(post["id"], a, "example.org")
                                                  for a in ("ana@readers.example", "bo@readers.example", "cy@readers.example"))
        assert all(len(m[1]) == 1 for m in smtp.inbox.messages)  # one address per message: none leaks to another

        run_agent()
        update = [a for a in call(d, "actions.list", {"limit": 100})["actions"] if a["kind"] == "record.update"]
        assert len(update) == 1 and update[0]["payload"]["status"] == "distributed"
        call(d, "actions.approve", {"id": update[0]["id"], "via": "script"})
        wait_for(lambda: call(d, "records.get", {"id": post["id"]})["record"]["status"] == "distributed", 30, interval=0.05,
                 what="the post to be distributed")

        run_agent()  # distributed: nothing more, ever
        d = start(T + dt.timedelta(days=2))
        run_agent()
        assert len(emails(d)) == 3 and len(smtp.inbox.messages) == 3
    finally:
        daemons.stop()
