"""A real SMTP server on 127.0.0.1 (aiosmtpd) that counts what it accepts, for the email.send tests."""

from __future__ import annotations

import socket
import subprocess
import threading
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd's handler: every accepted message, and what to refuse or break."""

    def __init__(self):
        self.messages: list = []
        self.refuse_rcpt: dict[str, str] = {}  # address -> SMTP reply
        self.data_reply: str | None = None  # e.g. "451 4.3.0 try later" refuses the message
        self.drop_after_data = False  # keep the message, then hang up before answering
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply is not None:
            reply, self.data_reply = self.data_reply, None  # once: the retry goes through
            return reply
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        if self.drop_after_data:
            server.transport.abort()  # the message is here, the answer never leaves
        return "250 2.0.0 queued"

    def ids(self) -> list[str]:
        with self.lock:
            return [m[2]["Message-ID"] for m in self.messages]


class Server:
    def __init__(self, inbox: Inbox, *, users: dict[str, str] | None = None, tls_dir: Path | None = None):
        self.inbox = inbox
        self.port = free_port()
        kwargs: dict = {}
        if users is not None:
            def auth(server, session, envelope, mechanism, data):
                ok = isinstance(data, LoginPassword) and users.get(data.login.decode()) == data.password.decode()
                return AuthResult(success=ok, handled=False)
            kwargs.update(authenticator=auth, auth_require_tls=False)
        if tls_dir is not None:
            import ssl

            cert, key = self_signed(tls_dir)
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
            kwargs.update(tls_context=ctx)
        self.controller = Controller(inbox, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> Server:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def self_signed(folder: Path) -> tuple[str, str]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    return str(cert), str(key)


class Silent:
    """A listener that accepts connections and never says a word: an SMTP server that hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()


# ---- a daemon profile that sends mail to the test server ------------------------------------------

# email.send runs at once once approved, and no desktop notification gets in the way.
MAIL_POLICY = """\
[settings]
undo_grace = "0s"

[[rule]]
name = "no desktop notifications here"
kind = "notify.*"
outcome = "deny"
"""


def mail_section(port: int) -> str:
    return (f'[mail]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n'
            f'from = "Ana Ruiz <ana@example.org>"\n')


def mail_profile(profile, port: int, *, before: str = "", after: str = "") -> None:
    """Write `profile`'s config ([mail] for the server on `port`, between `before` and `after`) and MAIL_POLICY."""
    from conftest import write_config

    write_config(profile, before + mail_section(port) + after)
    Path(profile.policy_file).write_text(MAIL_POLICY)


class PinnedDaemons:
    """start(moment): a daemon whose clock starts at `moment`, the one before it stopped first;
    how the tests let time pass across restarts."""

    def __init__(self, profile, monkeypatch):
        self.profile, self.monkeypatch = profile, monkeypatch
        self.daemons: list = []

    def start(self, moment):
        from conftest import DaemonProcess

        from oxymus.time.clock import PIN_ENV

        self.stop()
        self.monkeypatch.setenv(PIN_ENV, moment.isoformat())
        self.daemons.append(DaemonProcess(self.profile))
        return self.daemons[-1].start(timeout=30)

    def stop(self) -> None:
        for d in self.daemons:
            d.stop()


@pytest.fixture
def smtp():
    """The test server, counting what it accepts (import this fixture into a test module to use it)."""
    with Server(Inbox()) as server:
        yield server
