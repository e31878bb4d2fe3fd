"""The read-only Maildir reader: real Maildirs built with the stdlib's `mailbox`, never changed by a scan."""

from __future__ import annotations

import datetime as dt
import hashlib
import mailbox
import os
from email.message import EmailMessage
from pathlib import Path

import pytest

from oxymus.connectors.mail import maildir
from oxymus.connectors.mail.mailtext import MAX_BODY_CHARS


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file and folder under the Maildir with its bytes' hash, mode and mtime: a scan must change none."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.stat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
            out[str(p.relative_to(root))] = (digest, st.st_mode, st.st_mtime_ns, st.st_size if p.is_file() else 0)
    return out


def msg(subject="Hello", body="Hi there.\n", sender="Ana Ruiz <ana@acme.io>", message_id="<m1@acme.io>", **headers) -> EmailMessage:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = headers.pop("to", "me@example.org")
    m["Subject"] = subject
    m["Date"] = headers.pop("date", "Tue, 03 Mar 2026 10:00:00 +0100")
    if message_id:
        m["Message-ID"] = message_id
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(body)
    return m


@pytest.fixture
def box(tmp_path) -> tuple[Path, mailbox.Maildir]:
    root = tmp_path / "INBOX"
    return root, mailbox.Maildir(root, create=True)


def test_reads_new_and_cur_without_changing_anything(box):
    root, mb = box
    mb.add(msg("in new", message_id="<new@acme.io>"))
    seen = mailbox.MaildirMessage(msg("in cur", message_id="<cur@acme.io>", In_Reply_To="<new@acme.io>",
                                      References="<a@x.org> <new@acme.io>", Cc="Bo <bo@x.org>, cy@y.org"))
    seen.set_subdir("cur")
    seen.set_flags("S")
    mb.add(seen)
    before = snapshot(root)
    result = maildir.scan(root)
    assert snapshot(root) == before
    assert result.files == 2 and not result.skipped
    by_subject = {m.subject: m for m in result.messages}
    assert set(by_subject) == {"in new", "in cur"}
    assert by_subject["in new"].file.startswith("new/")
    cur = by_subject["in cur"]
    assert cur.file.startswith("cur/") and cur.file.endswith(":2,S")
    assert cur.message_id == "<cur@acme.io>" and not cur.id_generated
    assert cur.sender == maildir.Address(name="Ana Ruiz", email="ana@acme.io")
    assert [a.email for a in cur.cc] == ["bo@x.org", "cy@y.org"] and cur.cc[0].name == "Bo"
    assert cur.in_reply_to == ["<new@acme.io>"] and cur.references == ["<a@x.org>", "<new@acme.io>"]
    assert cur.date == dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.timezone.utc)
    assert cur.body == "Hi there.\n"


def test_second_pass_returns_only_new_messages_and_survives_the_clients_moves(box, tmp_path):
    root, mb = box
    first_key = mb.add(msg("one", message_id="<1@x.org>"))
    result = maildir.scan(root)
    assert [m.subject for m in result.messages] == ["one"]
    state_file = tmp_path / "state.json"
    maildir.save_state(state_file, result.state)
    again = maildir.scan(root, maildir.load_state(state_file))
    assert again.messages == [] and again.files == 1
    # The client moves it to cur/ and flags it seen: it is the same message.
    m = mb[first_key]
    m.set_subdir("cur")
    m.add_flag("S")
    mb[first_key] = m
    mb.add(msg("two", message_id="<2@x.org>"))
    mb.add(msg("two again, delivered twice", message_id="<2@x.org>"))
    third = maildir.scan(root, again.state)
    assert [m.subject for m in third.messages] == ["two"]
    assert maildir.scan(root, third.state).messages == []


def test_messages_without_message_id_get_a_stable_hash_id(box, tmp_path):
    root, mb = box
    mb.add(msg("no id", message_id=None))
    a = maildir.scan(root).messages[0]
    b = maildir.scan(root).messages[0]
    assert a.id_generated and a.message_id == b.message_id and a.message_id.endswith("@hash.oxymus.invalid>")
    copy = tmp_path / "Copy"
    mailbox.Maildir(copy, create=True).add(msg("no id", message_id=None))
    assert maildir.scan(copy).messages[0].message_id == a.message_id


def test_html_only_bodies_are_stripped_to_text(box):
    root, mb = box
    m = msg(message_id="<h@x.org>")
    m.set_content("<html><head><style>p{color:red}</style><title>t</title></head><body><p>Hello&nbsp;<b>Ana</b>,</p>"
                  "<div>Budget: &euro;5,000</div><script>alert(1)</script><br>Bye</body></html>", subtype="html")
    mb.add(m)
    got = maildir.scan(root).messages[0]
    assert got.body_from_html
    assert got.body == "Hello Ana,\n\nBudget: €5,000\n\nBye"


def test_text_plain_is_preferred_in_alternatives_and_attachments_are_not_the_body(box):
    root, mb = box
    m = msg(body="the plain part\n", message_id="<alt@x.org>")
    m.add_alternative("<p>the html part</p>", subtype="html")
    mb.add(m)
    n = msg(body="", message_id="<att@x.org>")
    n.clear_content()
    n.set_content("x")
    n.make_mixed()
    n.get_payload()[0].set_content("see attached\n")
    n.add_attachment(b"not the body", maintype="text", subtype="plain", filename="notes.txt")
    mb.add(n)
    got = {g.message_id: g for g in maildir.scan(root).messages}
    assert got["<alt@x.org>"].body == "the plain part\n" and not got["<alt@x.org>"].body_from_html
    assert got["<att@x.org>"].body == "see attached\n"


def test_any_charset_and_broken_encodings_are_read_with_replacement(box):
    root, mb = box
    (root / "new" / "1700000000.latin1.host").write_bytes(
        b"From: =?iso-8859-1?q?Jos=E9_P=E9rez?= <jose@ejemplo.es>\nSubject: =?utf-8?b?Q2Fmw6kgbcOhcyB0YXJkZQ==?=\n"
        b"Message-ID: <l1@ejemplo.es>\nContent-Type: text/plain; charset=iso-8859-1\n\nCaf\xe9 con le\xf1a\n")
    (root / "new" / "1700000001.badutf8.host").write_bytes(
        b"From: x@y.org\nSubject: bad \xff bytes\nMessage-ID: <b1@y.org>\nContent-Type: text/plain; charset=utf-8\n\n"
        b"ok \xff\xfe then fine, na\xc3\xafve UTF-8 around two stray bytes in a longer line\n")
    (root / "new" / "1700000002.unknowncs.host").write_bytes(
        b"From: x@y.org\nSubject: s\nMessage-ID: <u1@y.org>\nContent-Type: text/plain; charset=x-no-such-charset\n\nplain words\n")
    (root / "new" / "1700000003.b64broken.host").write_bytes(
        b"From: x@y.org\nSubject: b64\nMessage-ID: <b64@y.org>\nContent-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQ=!!!garbage\n")
    got = {m.message_id: m for m in maildir.scan(root).messages}
    assert got["<l1@ejemplo.es>"].sender.name == "José Pérez" and got["<l1@ejemplo.es>"].subject == "Café más tarde"
    assert got["<l1@ejemplo.es>"].body == "Café con leña\n"
    assert got["<b1@y.org>"].subject == "bad \ufffd bytes" and got["<b1@y.org>"].body.startswith("ok \ufffd\ufffd then fine, naïve")
    assert got["<u1@y.org>"].body == "plain words\n"
    assert got["<b64@y.org>"].body.startswith("hello world")


def test_huge_bodies_are_capped(box):
    root, mb = box
    mb.add(msg(body="word " * (MAX_BODY_CHARS // 2), message_id="<big@x.org>"))
    got = maildir.scan(root).messages[0]
    assert len(got.body) == MAX_BODY_CHARS and got.body_truncated


def test_malformed_messages_are_reported_by_file_and_skipped_once(box):
    root, mb = box
    mb.add(msg("fine", message_id="<ok@x.org>"))
    (root / "new" / "1700000000.empty.host").write_bytes(b"")
    (root / "cur" / "1700000001.garbage.host:2,S").write_bytes(b"\x00\x01\x02 this is not an email at all\n")
    result = maildir.scan(root)
    assert [m.subject for m in result.messages] == ["fine"]
    assert {s.file: s.reason for s in result.skipped} == {
        "new/1700000000.empty.host": "empty file",
        "cur/1700000001.garbage.host:2,S": "no headers: not an email",
    }
    assert maildir.scan(root, result.state).skipped == []


def test_unreadable_file_is_skipped_not_fatal(box):
    root, mb = box
    mb.add(msg("open", message_id="<o@x.org>"))
    # A folder where a message file should be: open() fails even for root, as a file without read permission would.
    (root / "new" / "1700000000.folder.host").mkdir()
    result = maildir.scan(root)
    assert [m.subject for m in result.messages] == ["open"]
    assert result.skipped[0].file == "new/1700000000.folder.host" and "cannot read" in result.skipped[0].reason


def test_not_a_maildir_is_a_clear_error(tmp_path):
    with pytest.raises(maildir.MaildirError, match="no such folder"):
        maildir.scan(tmp_path / "nope")
    (tmp_path / "plain").mkdir()
    with pytest.raises(maildir.MaildirError, match=r"not a Maildir \(it has no new/ folder\)"):
        maildir.scan(tmp_path / "plain")


def test_a_message_says_why_a_machine_or_a_list_sent_it():
    from oxymus.connectors.mail.maildir import parse

    def why(extra: str, sender: str = "Ana <ana@acme.test>") -> str:
        raw = f"From: {sender}\r\nTo: me@x.test\r\nSubject: hi\r\nMessage-ID: <a@b>\r\n{extra}\r\nhello\r\n"
        return parse(raw.encode()).automated

    assert why("") == ""
    assert why("Precedence: bulk\r\n") == "bulk mail (Precedence: bulk)"
    assert why("Auto-Submitted: auto-generated; type=x\r\n") == "sent automatically (Auto-Submitted: auto-generated)"
    assert why("Auto-Submitted: no\r\n") == ""
    assert why("List-Id: Design <design.lists.test>\r\n") == "a mailing list (List-Id)"
    assert why("", "MAILER-DAEMON@mx.test") == "from a no-reply address (MAILER-DAEMON@mx.test)"
    assert why("", "Shop <noreply+orders@shop.test>") == "from a no-reply address (noreply+orders@shop.test)"
    assert why("", "Nora <nora@shop.test>") == "", "a name that starts like a robot's is a person's"


def test_messages_come_oldest_delivery_first_whatever_the_folder_and_however_the_numbers_are_written(box):
    """Python's `mailbox` writes microseconds and counters unpadded (M99999 is older than M100000, Q9 than Q10),
    and a message the mail client has seen moves from new/ to cur/: neither may reorder a lead's mail."""
    root, _ = box
    delivered = [("cur", "1796648121.M5P7Q1.host:2,S"), ("new", "1796648122.M99999P7Q9.host"),
                 ("cur", "1796648122.M99999P7Q10.host:2,S"), ("new", "1796648122.M100000P7Q11.host"),
                 ("new", "1796648123.M1P7Q12.host")]
    for i, (folder, name) in reversed(list(enumerate(delivered))):
        (root / folder / name).write_bytes(msg(subject=f"number {i}", message_id=f"<n{i}@acme.io>").as_bytes())
    result = maildir.scan(root)
    assert [m.subject for m in result.messages] == [f"number {i}" for i in range(len(delivered))]
