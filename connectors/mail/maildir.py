"""A read-only Maildir reader that remembers what it has seen.

`scan(path, state)` lists `new/` and `cur/`, parses each message it has not seen
(headers and the text body) and returns them with the state to pass next time. It
never writes under the Maildir: no flag changes, no moves from new/ to cur/ (that is
the mail client's business), so the person's client sees every message as it was.

Remembering has two keys:
- the file's unique name (the part before `:2,FLAGS`), which survives the client's
  move from new/ to cur/ and its flag changes. A rescan with nothing new therefore
  opens no file: it lists two folders and looks names up in a set;
- the Message-ID, so the same message delivered twice (or copied to another folder
  read with the same state) is reported once. A message without one gets a stable id
  hashed from its headers and text (`id_generated`).

A message that cannot be read or is not an email is reported in `skipped` with its
file name, once, and the scan goes on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import parsedate_to_datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from oxymus.connectors.mail.mailtext import addresses, automated, body, header, header_map, message_ids
from oxymus.kernel import files

MAX_MESSAGE_BYTES = 8 * 1024 * 1024  # read this much of a message at most; the text body comes first in practice
FOLDERS = ("new", "cur")


class MaildirError(Exception):
    """The path is not a readable Maildir; str() names it and says why."""


class Address(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = ""
    email: str


class MailMessage(BaseModel):
    """One message as the reader saw it."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="the file's unique name in the Maildir (without :2,FLAGS)")
    file: str = Field(description="where it was, relative to the Maildir: new/NAME or cur/NAME:2,S")
    message_id: str = Field(description="the Message-ID, <...>, or a stable hash id when the message has none")
    id_generated: bool = False
    sender: Address | None = None
    to: list[Address] = Field(default_factory=list)
    cc: list[Address] = Field(default_factory=list)
    reply_to: list[Address] = Field(default_factory=list)
    subject: str = ""
    date: dt.datetime | None = Field(default=None, description="the Date header, timezone-aware; None if absent or unreadable")
    in_reply_to: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    body: str = ""
    body_truncated: bool = False
    body_from_html: bool = False
    automated: str = Field(default="", description="why a machine or a list sent it (List-Id, Auto-Submitted, ...); empty for a person's mail")


class Skipped(BaseModel):
    model_config = ConfigDict(frozen=True)

    file: str
    reason: str


class ScanState(BaseModel):
    """What a scan has seen; pass it to the next scan. Plain JSON (see `load_state`/`save_state`)."""

    keys: set[str] = Field(default_factory=set, description="unique names of files already read, present at the last scan")
    ids: set[str] = Field(default_factory=set, description="Message-IDs already reported")


class ScanResult(BaseModel):
    messages: list[MailMessage] = Field(default_factory=list, description="new messages, oldest file first")
    skipped: list[Skipped] = Field(default_factory=list)
    state: ScanState
    files: int = Field(default=0, description="message files in new/ and cur/")


_DELIVERED = re.compile(r"^(\d+)(?:\.(?:[^.]*?M(\d+))?(?:[^.]*?Q(\d+))?)?")


def delivery_order(name: str) -> tuple[int, int, int, str]:
    """A Maildir file name's sort key by delivery time: `1700000000.M5P12Q9.host` is second 1700000000,
    microsecond 5, the delivering process's 9th message. As text, M99999 sorts after M100000 and Q9 after
    Q10: Python's `mailbox` and others write these numbers unpadded. Names without them sort by the rest."""
    m = _DELIVERED.match(name)
    if m is None:
        return (0, 0, 0, name)
    return (int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0), name)


def _list(root: Path) -> list[tuple[str, str]]:
    """(folder/name, unique key) of every message file, in no order; MaildirError if it is no Maildir."""
    out: list[tuple[str, str]] = []
    if not root.is_dir():
        raise MaildirError(f"{root}: no such folder" if not root.exists() else f"{root}: not a folder")
    for folder in FOLDERS:
        try:
            with os.scandir(root / folder) as entries:
                names = [e.name for e in entries if not e.name.startswith(".")]
        except FileNotFoundError:
            raise MaildirError(f"{root}: not a Maildir (it has no {folder}/ folder)") from None
        except OSError as exc:
            raise MaildirError(f"{root / folder}: cannot list: {exc.strerror}") from None
        out.extend((f"{folder}/{name}", name.split(":", 1)[0]) for name in names)
    return out


def scan(path: str | os.PathLike[str], state: ScanState | None = None) -> ScanResult:
    """The messages in the Maildir at `path` not in `state`, and the state after them.

    Blocking, and seconds of CPU for years of mail: the daemon runs it in its worker process."""
    root = Path(path).expanduser()
    seen = state.model_copy(deep=True) if state is not None else ScanState()
    listed = _list(root)
    present = {key for _, key in listed}
    result = ScanResult(state=seen, files=len(listed))
    parser = BytesParser(policy=compat32)
    # Oldest delivery first, across new/ and cur/ (a mail client moves what it has shown to cur/: the folder
    # says nothing of age); only the unseen are sorted, so a rescan with nothing new stays a listing.
    unseen = sorted(((rel, key) for rel, key in listed if key not in seen.keys), key=lambda entry: delivery_order(entry[1]))
    for rel, key in unseen:
        try:
            with open(root / rel, "rb") as fh:
                raw = fh.read(MAX_MESSAGE_BYTES)
        except FileNotFoundError:
            continue  # moved by the mail client since the listing (new/ to cur/): read at the next scan
        except OSError as exc:
            result.skipped.append(Skipped(file=rel, reason=f"cannot read: {exc.strerror}"))
            seen.keys.add(key)
            continue
        try:
            message = parse(raw, key=key, file=rel, parser=parser)
        except ValueError as exc:
            result.skipped.append(Skipped(file=rel, reason=str(exc)))
            seen.keys.add(key)
            continue
        seen.keys.add(key)
        if message.message_id in seen.ids:
            continue
        seen.ids.add(message.message_id)
        result.messages.append(message)
    # A file gone (deleted, or moved to another folder by the client) is forgotten by name; its
    # Message-ID stays seen, so it is not reported again if it comes back.
    seen.keys &= present
    return result


def parse(raw: bytes, *, key: str = "", file: str = "", parser: BytesParser | None = None) -> MailMessage:
    """One message from its bytes; ValueError saying why when it is not an email."""
    if not raw.strip():
        raise ValueError("empty file")
    msg: Message = (parser or BytesParser(policy=compat32)).parsebytes(raw)
    if not msg.keys():
        raise ValueError("no headers: not an email")
    fields = header_map(msg)
    if not any(fields.get(h) for h in ("from", "message-id", "date", "subject", "to")):
        raise ValueError("none of From, To, Date, Subject or Message-ID: not an email")
    text, cut, from_html = body(msg)
    if len(raw) >= MAX_MESSAGE_BYTES:
        cut = True
    senders = addresses(fields, "From")
    subject = header(fields, "Subject") or ""
    date_raw = header(fields, "Date")
    ids = message_ids(header(fields, "Message-ID"))
    generated = not ids
    if generated:
        fingerprint = "\n".join([header(fields, "From") or "", header(fields, "To") or "", date_raw or "", subject, text])
        message_id = f"<{hashlib.sha256(fingerprint.encode('utf-8', 'replace')).hexdigest()[:32]}@hash.oxymus.invalid>"
    else:
        message_id = ids[0]
    # Every value above already has its type: validating again would cost each message time for nothing.
    return MailMessage.model_construct(
        key=key, file=file, message_id=message_id, id_generated=generated,
        sender=Address.model_construct(name=senders[0][0], email=senders[0][1]) if senders else None,
        to=[Address.model_construct(name=n, email=a) for n, a in addresses(fields, "To")],
        cc=[Address.model_construct(name=n, email=a) for n, a in addresses(fields, "Cc")],
        reply_to=[Address.model_construct(name=n, email=a) for n, a in addresses(fields, "Reply-To")],
        subject=subject, date=_date(date_raw),
        in_reply_to=message_ids(header(fields, "In-Reply-To")), references=message_ids(header(fields, "References")),
        body=text, body_truncated=cut, body_from_html=from_html,
        automated=automated(fields, senders[0][1] if senders else None),
    )


def _date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)  # RFC 5322: -0000 means UTC, unknown zone


def load_state(path: str | os.PathLike[str]) -> ScanState:
    """The state saved at `path`; an empty one if there is no file yet."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return ScanState()
    return ScanState.model_validate_json(text)


def save_state(path: str | os.PathLike[str], state: ScanState) -> None:
    """Write the state atomically (a crash leaves the old one or the new one, never half)."""
    data = {"keys": sorted(state.keys), "ids": sorted(state.ids)}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    files.write_atomic(Path(path), json.dumps(data, separators=(",", ":")).encode("utf-8"), mode=0o600)
