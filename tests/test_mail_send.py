"""email.send against a real SMTP server on 127.0.0.1 (aiosmtpd): what arrives is counted there, exactly once."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from smtp_helpers import Inbox, Server, Silent

from oxymus.actions import policy as pol
from oxymus.actions.effects import ActionContext, ActionInvalid, Permanent, Transient
from oxymus.actions.model import Proposer
from oxymus.connectors.mail.config import MailConfig
from oxymus.connectors.mail.send import EmailSend, Outbox

NOW = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.timezone.utc)


def config(port: int, **extra) -> MailConfig:
    return MailConfig.model_validate({"smtp_host": "127.0.0.1", "smtp_port": port, "security": "none",
                                      "from": "Ana Ruiz <ana@example.org>", "timeout": 10, **extra})


def ctx(tmp_path: Path, key: str = "k1", secret=None) -> ActionContext:
    return ActionContext(zone=ZoneInfo("UTC"), config_dir=tmp_path, now=lambda: NOW, secret=secret,
                         action_id="A1", idempotency_key=key)


PAYLOAD = {"to": ["Bo <bo@client.example>"], "cc": ["cy@client.example"], "subject": "Workshop in March",
           "body": "Hi Bo,\n\nhere is the plan.\n\nAna\n", "in_reply_to": "<q1@client.example>",
           "references": ["<q0@client.example>"]}


async def prepared(spec: EmailSend, tmp_path: Path, payload: dict = PAYLOAD):
    p = await spec.prepare(spec.parse(payload), ctx(tmp_path))
    return spec.parse(p.payload), p


async def test_prepare_pins_a_message_id_and_previews_the_message(tmp_path):
    spec = EmailSend(config(25), outbox=tmp_path / "outbox")
    payload, p = await prepared(spec, tmp_path)
    assert payload.message_id and payload.message_id.endswith("@example.org>")
    again = await spec.prepare(payload, ctx(tmp_path))
    assert again.payload["message_id"] == payload.message_id  # stable once pinned
    assert p.preview.format == "message"
    assert p.preview.summary == "email bo@client.example (cc 1): Workshop in March"
    assert "From: Ana Ruiz <ana@example.org>\nTo: Bo <bo@client.example>\nCc: cy@client.example\n" in p.preview.body
    assert p.preview.body.endswith("\n\nHi Bo,\n\nhere is the plan.\n\nAna\n")


async def test_it_needs_approval_by_default():
    spec = EmailSend(config(25))
    for proposer in (Proposer(), Proposer(type="agent", name="intake")):
        reqs = pol.effect_requests(spec, {spec.kind: spec}, spec.parse(PAYLOAD), proposer=proposer, confidence=None,
                                   at=NOW, zone="UTC")
        assert pol.decide_all(pol.parse(""), reqs).outcome == "require_approval"


@pytest.mark.parametrize("bad, field", [
    ({"to": []}, "to"), ({"to": ["not an address"]}, "to"), ({"subject": "two\nlines"}, "subject"),
    ({"in_reply_to": "no-brackets"}, "in_reply_to"), ({"to": ["a@b.org\nBcc: x@y.org"]}, "to"),
])
def test_bad_payloads_are_refused_naming_the_field(bad, field):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as err:
        EmailSend(config(25)).parse({**PAYLOAD, **bad})
    assert err.value.errors()[0]["loc"][0] == field


async def test_without_smtp_settings_the_proposal_is_refused(tmp_path):
    for cfg, word in ((None, "no [mail] section"), (MailConfig(), "[mail] smtp_host is not set"),
                      (MailConfig(smtp_host="smtp.example.org"), "[mail] from is not set")):
        with pytest.raises(ActionInvalid, match=word.replace("[", r"\[").replace("]", r"\]")):
            await EmailSend(cfg).prepare(EmailSend(cfg).parse(PAYLOAD), ctx(tmp_path))


async def test_sends_once_with_threading_headers_and_a_retry_is_already_done(tmp_path):
    inbox = Inbox()
    with Server(inbox) as server:
        spec = EmailSend(config(server.port), outbox=tmp_path / "outbox")
        payload, _ = await prepared(spec, tmp_path)
        receipt = await spec.execute(payload, ctx(tmp_path))
        again = await spec.execute(payload, ctx(tmp_path))
    assert inbox.ids() == [payload.message_id]
    sender, rcpts, msg = inbox.messages[0]
    assert sender == "ana@example.org" and rcpts == ["bo@client.example", "cy@client.example"]
    assert msg["In-Reply-To"] == "<q1@client.example>" and msg["References"] == "<q0@client.example> <q1@client.example>"
    assert msg["Subject"] == "Workshop in March" and msg.get_payload(decode=True).decode().replace("\r\n", "\n") == PAYLOAD["body"]
    assert receipt.ref == payload.message_id and not receipt.already_done and receipt.data["reply"].startswith("250")
    assert again.already_done and again.ref == payload.message_id


async def test_a_refused_recipient_sends_nothing_and_names_server_and_field(tmp_path):
    inbox = Inbox()
    inbox.refuse_rcpt["cy@client.example"] = "550 5.1.1 no such user"
    with Server(inbox) as server:
        spec = EmailSend(config(server.port), outbox=tmp_path / "outbox")
        payload, _ = await prepared(spec, tmp_path)
        with pytest.raises(Permanent) as err:
            await spec.execute(payload, ctx(tmp_path))
    assert inbox.messages == []
    assert f"127.0.0.1:{server.port} refused some recipients (payload.to/cc), so nothing was sent" in str(err.value)
    assert "cy@client.example: 550 5.1.1 no such user" in str(err.value)


async def test_auth_failure_names_the_username_and_where_the_password_comes_from(tmp_path):
    inbox = Inbox()
    with Server(inbox, users={"ana": "right"}) as server:
        spec = EmailSend(config(server.port, username="ana"), outbox=tmp_path / "outbox")
        payload, _ = await prepared(spec, tmp_path)
        with pytest.raises(Permanent, match=r"refused the login of \[mail\] username 'ana': 535 .*oxymus secret set mail.smtp"):
            await spec.execute(payload, ctx(tmp_path, secret=lambda name: "wrong" if name == "mail.smtp" else None))
        with pytest.raises(Permanent, match=r"no SMTP password for \[mail\] username 'ana'.*oxymus secret set mail.smtp"):
            await spec.execute(payload, ctx(tmp_path, secret=lambda name: None))
        cmd = f"{sys.executable} -c \"print('right')\""
        spec = EmailSend(config(server.port, username="ana", password_command=cmd), outbox=tmp_path / "outbox")
        await spec.execute(payload, ctx(tmp_path))
    assert inbox.ids() == [payload.message_id]


async def test_a_server_that_never_answers_is_a_transient_timeout_naming_it(tmp_path):
    with Silent() as silent:
        spec = EmailSend(config(silent.port, timeout=0.5), outbox=tmp_path / "outbox")
        payload, _ = await prepared(spec, tmp_path)
        with pytest.raises(Transient, match=rf"127.0.0.1:{silent.port}: no answer within 0.5 s \(\[mail\] timeout\)"):
            await spec.execute(payload, ctx(tmp_path))
    assert Outbox(tmp_path / "outbox").read(payload.message_id) is None


async def test_nobody_listening_is_transient(tmp_path):
    from smtp_helpers import free_port

    port = free_port()
    spec = EmailSend(config(port), outbox=tmp_path / "outbox")
    payload, _ = await prepared(spec, tmp_path)
    with pytest.raises(Transient, match=rf"127.0.0.1:{port}: cannot connect .*check \[mail\] smtp_host and smtp_port"):
        await spec.execute(payload, ctx(tmp_path))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test certificate")
async def test_an_untrusted_certificate_is_a_tls_failure_naming_security(tmp_path):
    inbox = Inbox()
    with Server(inbox, tls_dir=tmp_path) as server:
        spec = EmailSend(config(server.port, security="starttls"), outbox=tmp_path / "outbox")
        payload, _ = await prepared(spec, tmp_path)
        with pytest.raises(Permanent, match=r'\[mail\] security = "starttls": TLS with 127.0.0.1:\d+ failed \(CERTIFICATE_VERIFY_FAILED\)'):
            await spec.execute(payload, ctx(tmp_path))
    assert inbox.messages == []


async def test_starttls_missing_is_refused_not_downgraded(tmp_path):
    inbox = Inbox()
    with Server(inbox) as server:
        spec = EmailSend(config(server.port, security="starttls"), outbox=tmp_path / "outbox")
        payload, _ = await prepared(spec, tmp_path)
        with pytest.raises(Permanent, match="does not offer STARTTLS"):
            await spec.execute(payload, ctx(tmp_path))
    assert inbox.messages == []


async def test_a_temporary_refusal_of_the_message_is_retried_and_arrives_once(tmp_path):
    inbox = Inbox()
    inbox.data_reply = "451 4.3.0 try again later"
    with Server(inbox) as server:
        spec = EmailSend(config(server.port), outbox=tmp_path / "outbox")
        payload, _ = await prepared(spec, tmp_path)
        with pytest.raises(Transient, match="refused the message: 451 4.3.0 try again later"):
            await spec.execute(payload, ctx(tmp_path))
        assert Outbox(tmp_path / "outbox").read(payload.message_id) is None  # the server does not have it
        await spec.execute(payload, ctx(tmp_path))
    assert inbox.ids() == [payload.message_id]


async def test_a_connection_lost_during_data_is_never_resent_blindly(tmp_path):
    inbox = Inbox()
    inbox.drop_after_data = True
    with Server(inbox) as server:
        spec = EmailSend(config(server.port), outbox=tmp_path / "outbox")
        payload, _ = await prepared(spec, tmp_path)
        with pytest.raises(Permanent, match=r"may have been sent: sending <.*> through 127.0.0.1:\d+ was interrupted"):
            await spec.execute(payload, ctx(tmp_path))
        inbox.drop_after_data = False
        with pytest.raises(Permanent, match="may have been sent"):
            await spec.execute(payload, ctx(tmp_path))  # the executor's retry
    assert inbox.ids() == [payload.message_id]


async def test_a_crash_after_the_intent_is_recorded_does_not_send_on_retry(tmp_path):
    """The daemon died between writing `sending` and the server's answer (see the daemon test for a real kill)."""
    inbox = Inbox()
    with Server(inbox) as server:
        spec = EmailSend(config(server.port), outbox=tmp_path / "outbox")
        payload, _ = await prepared(spec, tmp_path)
        Outbox(tmp_path / "outbox").write(payload.message_id, "sending", at="2026-03-03T09:00:00+00:00")
        with pytest.raises(Permanent, match=r"may have been sent: .* interrupted at 2026-03-03T09:00:00\+00:00"):
            await spec.execute(payload, ctx(tmp_path))
    assert inbox.messages == []


def test_config_refuses_plain_text_off_loopback():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"only allowed for loopback hosts .* not smtp_host 'smtp.example.org'"):
        MailConfig.model_validate({"smtp_host": "smtp.example.org", "security": "none"})
    for host in ("localhost", "127.0.0.1", "::1", "[::1]"):
        MailConfig.model_validate({"smtp_host": host, "security": "none"})
    assert MailConfig.model_validate({"smtp_host": "h", "security": "ssl"}).port() == 465


@pytest.mark.parametrize("text, line, key, words", [
    ('[mail]\nsmtp_host = "smtp.example.org"\nsecurity = "none"\n', 3, "mail.security", "only allowed for loopback hosts"),
    ('[mail]\nsmtp_host = "127.0.0.1"\n\nfrom = "not an address"\n', 4, "mail.from", "not one email address"),
    ('[mail]\nsmtp_port = 70000\n', 2, "mail.smtp_port", "less than or equal to 65535"),
    ('[mail]\nsecurity = "tls"\n', 2, "mail.security", "'starttls', 'ssl' or 'none'"),
    ('[mail]\npassword = "hunter2"\n', 2, "mail.password", "unknown key"),  # secrets never live in config
])
def test_bad_mail_config_names_file_line_and_key(text, line, key, words):
    from oxymus.profile import config as cfg

    with pytest.raises(cfg.ConfigError) as err:
        cfg.parse(text, "/home/me/.config/oxymus/config.toml")
    assert (err.value.line, err.value.key) == (line, key)
    assert words in str(err.value) and str(err.value).startswith(f"/home/me/.config/oxymus/config.toml:{line}")
    assert "hunter2" not in str(err.value)
