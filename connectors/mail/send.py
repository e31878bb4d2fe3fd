"""`email.send`: send one message over the `[mail]` SMTP server, exactly once.

The Message-ID is made when the action is proposed and pinned in the payload, so the
approved message, every retry and the receipt share one identity.

Exactly once, across crashes. SMTP cannot be asked whether it has a message, so the
proof lives here: a marker file per Message-ID in the profile's data folder
(`mail-outbox/`), written atomically (temporary file, fsync, rename):

- `sending` is written just before DATA, after the server has taken the sender and
  every recipient. Everything before it (connect, TLS, login, MAIL, RCPT) leaves no
  message with the server, so a failure there is retried freely.
- `sent` replaces it once the server answers 250 to the message.
- a clear refusal of the message (a 4xx/5xx reply to DATA) removes the marker: the
  server does not have it, and the retry (4xx) or the failure (5xx) says so.

On every attempt the marker is read first. `sent`: the receipt is `already_done`, no
second copy. `sending`: the daemon died (or the connection broke) between DATA and the
answer, so nobody knows whether the server kept the message; rather than resend
blindly, the action fails with "may have been sent", naming the message and server,
for the person to check their Sent folder or the recipient and propose it again. A
duplicate email cannot be taken back; a rare question to the person can.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oxymus.actions.effects import ActionContext, ActionInvalid, ActionSpec, Permanent, Prepared, Preview, Receipt, Transient
from oxymus.connectors.mail.config import KEYRING_NAME, MailConfig
from oxymus.kernel import faults, files

_ADDRESS = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+$")
_MSGID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")
MAX_RECIPIENTS = 50


def _one_line(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{what} must be one line")
    return value


class EmailSendPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: list[str] = Field(min_length=1, max_length=MAX_RECIPIENTS, description="recipients: a@b.org or 'Name <a@b.org>'")
    cc: list[str] = Field(default_factory=list, max_length=MAX_RECIPIENTS, description="copied recipients")
    subject: str = Field(max_length=900, description="one line")
    body: str = Field(max_length=1_000_000, description="the plain-text body")
    in_reply_to: str | None = Field(default=None, description="the Message-ID answered, <...>")
    references: list[str] = Field(default_factory=list, max_length=200, description="the thread's Message-IDs, oldest first")
    message_id: str | None = Field(default=None, description="pinned when proposed; give one only to resend under the same identity")

    @field_validator("to", "cc")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        for value in values:
            _one_line(value, "an address")
            parsed = getaddresses([value])
            if len(parsed) != 1 or not _ADDRESS.match(parsed[0][1]):
                raise ValueError(f"{value!r} is not one email address")
        return values

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        return _one_line(value, "the subject")

    @field_validator("in_reply_to", "message_id")
    @classmethod
    def _msgid(cls, value: str | None) -> str | None:
        if value is not None and not _MSGID.match(value.strip()):
            raise ValueError(f"{value!r} is not a Message-ID like <id@host>")
        return value.strip() if value is not None else None

    @field_validator("references")
    @classmethod
    def _refs(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _MSGID.match(value.strip()):
                raise ValueError(f"{value!r} is not a Message-ID like <id@host>")
        return [v.strip() for v in values]

    def recipients(self) -> list[str]:
        return [addr for _, addr in getaddresses(self.to + self.cc)]


def _summary(p: EmailSendPayload) -> str:
    who = ", ".join(addr for _, addr in getaddresses(p.to))
    more = f" (cc {len(p.cc)})" if p.cc else ""
    return f"email {who}{more}: {p.subject or '(no subject)'}"[:300]


def _preview_body(p: EmailSendPayload, sender: str | None) -> str:
    lines = [f"From: {sender or '(no [mail] from set)'}", f"To: {', '.join(p.to)}"]
    if p.cc:
        lines.append(f"Cc: {', '.join(p.cc)}")
    lines.append(f"Subject: {p.subject}")
    if p.in_reply_to:
        lines.append(f"In-Reply-To: {p.in_reply_to}")
    if p.message_id:
        lines.append(f"Message-ID: {p.message_id}")
    return "\n".join(lines) + "\n\n" + p.body


class Outbox:
    """One marker file per Message-ID: `sending` or `sent` (see the module docstring)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _file(self, message_id: str) -> Path:
        return self.folder / (hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:40] + ".json")

    def read(self, message_id: str) -> dict | None:
        try:
            return json.loads(self._file(message_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            # Unreadable: treat it as `sending`: the safe reading is "it may have gone".
            return {"state": "sending", "note": f"marker unreadable: {exc}"}

    def write(self, message_id: str, state: str, **extra: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {"message_id": message_id, "state": state, **extra}
        files.write_atomic(self._file(message_id), json.dumps(data).encode("utf-8"), mode=0o600)

    def clear(self, message_id: str) -> None:
        self._file(message_id).unlink(missing_ok=True)


def default_outbox() -> Path:
    from oxymus.profile import paths

    return Path(paths.resolve().data_dir) / "mail-outbox"


class EmailSend(ActionSpec):
    kind: ClassVar[str] = "email.send"
    Payload: ClassVar[type[BaseModel]] = EmailSendPayload
    scope = "external"  # it leaves the machine and cannot be taken back: approval by default
    risk = "medium"
    description = "send an email through the [mail] SMTP server"
    max_attempts = 5

    def __init__(self, config: MailConfig | None, outbox: Path | None = None):
        super().__init__(config)
        self._outbox = outbox

    def available(self) -> tuple[bool, str]:
        problem = self._problem()
        return (problem is None, problem or "")

    def _problem(self) -> str | None:
        if self.config is None:
            return "no [mail] section in config.toml: set smtp_host and from there to send email"
        if not self.config.smtp_host:
            return "[mail] smtp_host is not set: email.send has no server to send through"
        if not self.config.sender:
            return "[mail] from is not set: email.send needs the address it sends from"
        return None

    def outbox(self) -> Outbox:
        return Outbox(self._outbox or default_outbox())

    def preview(self, payload: EmailSendPayload) -> Preview:  # type: ignore[override]
        return Preview(summary=_summary(payload), format="message",
                       body=_preview_body(payload, self.config.sender if self.config else None))

    async def prepare(self, payload: EmailSendPayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        if (problem := self._problem()) is not None:
            raise ActionInvalid(problem)
        assert self.config is not None and self.config.sender is not None
        domain = getaddresses([self.config.sender])[0][1].rpartition("@")[2]
        pinned = payload if payload.message_id else payload.model_copy(update={"message_id": make_msgid(domain=domain)})
        return Prepared(payload=pinned.model_dump(mode="json"), preview=self.preview(pinned))

    def _message_id(self, payload: EmailSendPayload, ctx: ActionContext) -> str:
        if payload.message_id:
            return payload.message_id
        # A payload that skipped prepare: an id from the idempotency key is as stable across retries.
        assert self.config is not None and self.config.sender is not None
        domain = getaddresses([self.config.sender])[0][1].rpartition("@")[2] or "oxymus.invalid"
        return f"<{hashlib.sha256(ctx.idempotency_key.encode()).hexdigest()[:32]}@{domain}>"

    def build(self, payload: EmailSendPayload, message_id: str, now: dt.datetime) -> EmailMessage:
        assert self.config is not None and self.config.sender is not None
        msg = EmailMessage(policy=SMTP)
        msg["From"] = self.config.sender
        msg["To"] = ", ".join(payload.to)
        if payload.cc:
            msg["Cc"] = ", ".join(payload.cc)
        msg["Subject"] = payload.subject
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = message_id
        if payload.in_reply_to:
            msg["In-Reply-To"] = payload.in_reply_to
        refs = list(payload.references)
        if payload.in_reply_to and payload.in_reply_to not in refs:
            refs.append(payload.in_reply_to)
        if refs:
            msg["References"] = " ".join(refs)
        msg.set_content(payload.body)
        return msg

    async def execute(self, payload: EmailSendPayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        from oxymus.connectors.mail.smtp import SmtpFailed, deliver

        if (problem := self._problem()) is not None:
            raise Permanent(problem)
        config = self.config
        assert config is not None and config.sender is not None
        message_id = self._message_id(payload, ctx)
        outbox = self.outbox()
        server = config.server()
        data = {"message_id": message_id, "server": server, "to": payload.recipients()}
        marker = await asyncio.to_thread(outbox.read, message_id)
        if marker is not None and marker.get("state") == "sent":
            return Receipt(summary=f"{_summary(payload)} was already sent", ref=message_id, data=data, already_done=True)
        if marker is not None:
            raise Permanent(_unknown(message_id, server, marker.get("at", "")))
        password = None
        if config.username:
            password = await asyncio.to_thread(ctx.secret, config.secret_spec())  # a password_command may run
            if password is None:
                how = "check [mail] password_command" if config.password_command else f"run `oxymus secret set {KEYRING_NAME}`"
                raise Permanent(f"no SMTP password for [mail] username {config.username!r} on {server}: {how}")
        raw = self.build(payload, message_id, ctx.now()).as_bytes()
        sender = getaddresses([config.sender])[0][1]
        started: list[bool] = []

        def on_data() -> None:
            outbox.write(message_id, "sending", at=ctx.now().isoformat(), server=server, action=ctx.action_id)
            started.append(True)
            faults.point("mail.before_data")

        def send() -> str:
            sent = deliver(config, password, sender, payload.recipients(), raw, on_data)
            faults.point("mail.data_accepted")  # the server has it; the `sent` marker is not written yet
            outbox.write(message_id, "sent", at=ctx.now().isoformat(), server=server, action=ctx.action_id, reply=sent.reply)
            return sent.reply

        try:
            reply = await asyncio.to_thread(send)
        except SmtpFailed as exc:
            if exc.unknown:
                raise Permanent(f"{exc}; {_unknown(message_id, server, '')}") from None
            if started:
                await asyncio.to_thread(outbox.clear, message_id)  # refused outright: the server does not have it
            if exc.retry:
                raise Transient(str(exc)) from None
            raise Permanent(str(exc)) from None
        return Receipt(summary=f"sent {_summary(payload)}", ref=message_id, data={**data, "reply": reply})


def _unknown(message_id: str, server: str, at: str) -> str:
    when = f" at {at}" if at else ""
    return (f"may have been sent: sending {message_id} through {server} was interrupted{when} after the message "
            "went out and before the server's answer came back, so Oxymus does not know whether it arrived and will "
            "not send it again on its own; check your Sent folder or ask the recipient, and propose it again if it is missing")
